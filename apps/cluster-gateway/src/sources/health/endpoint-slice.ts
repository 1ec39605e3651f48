// EndpointSlices (discovery.k8s.io/v1) as health needs them: which Service a slice belongs
// to and how many of its endpoints are ready. Nothing else of a slice is kept (addresses,
// ports, topology), so 20k slices cost counts, not copies.

/** The label the EndpointSlice controller sets to the owning Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface SlimEndpointSlice {
  /** `namespace/name` of the slice. */
  key: string;
  /** `namespace/name` of its Service; null when the slice has no service-name label. */
  service: string | null;
  /** Endpoints that take traffic: `conditions.ready` true or unset, not terminating. */
  ready: number;
  total: number;
  /** `addresses` of the ready endpoints (a headless Service answers them). */
  addresses: string[];
}

type Raw = Record<string, unknown>;

function record(v: unknown): Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
}

/**
 * Whether one endpoint counts as ready. The API documents both conditions as optional:
 * an unset `ready` "should be interpreted as true" and an unset `terminating` as false
 * (EndpointConditions, discovery.k8s.io/v1). A terminating endpoint never counts, even
 * when ready (publishNotReadyAddresses): it is going away.
 */
export function endpointReady(endpoint: unknown): boolean {
  const c = record(record(endpoint).conditions);
  return c.ready !== false && c.terminating !== true;
}

// What `trimEndpointSlice` keeps of an endpoint that does not count: the documented
// defaults make `ready: false` enough. Shared, so 20k listed slices do not each copy it.
const NOT_READY: Readonly<Raw> = Object.freeze({
  conditions: Object.freeze({ ready: false }),
});

/**
 * A listed EndpointSlice cut down, still in its raw shape, to what `slimEndpointSlice` reads:
 * name, namespace, the service-name label, and per endpoint whether it counts and (only when
 * it does) its addresses. A list page is trimmed as it arrives and the list is only slimmed
 * once it ends, so 20k slices would otherwise be held whole (conditions, nodeName, targetRef,
 * zone, hints, ports) until the last page. `slimEndpointSlice` of the result equals
 * `slimEndpointSlice` of the original (test/health-decisions.test.ts).
 */
export function trimEndpointSlice(obj: unknown): unknown {
  const raw = record(obj);
  const meta = record(raw.metadata);
  const metadata: Raw = { name: meta.name, namespace: meta.namespace };
  const label = record(meta.labels)[SERVICE_NAME_LABEL];
  if (label !== undefined) metadata.labels = { [SERVICE_NAME_LABEL]: label };
  const trimmed: Raw = { metadata };
  if (Array.isArray(raw.endpoints)) {
    // An unset `ready` means ready (see endpointReady), so a counted endpoint needs no conditions.
    trimmed.endpoints = raw.endpoints.map((e) =>
      endpointReady(e) ? { addresses: record(e).addresses } : NOT_READY,
    );
  }
  return trimmed;
}

/** The slice's counts; null without a name (nothing to key it by). */
export function slimEndpointSlice(obj: unknown): SlimEndpointSlice | null {
  const meta = record(record(obj).metadata);
  const name = typeof meta.name === 'string' && meta.name !== '' ? meta.name : null;
  if (!name) return null;
  const namespace =
    typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : 'default';
  const label = record(meta.labels)[SERVICE_NAME_LABEL];
  const endpoints = record(obj).endpoints;
  let ready = 0;
  let total = 0;
  const addresses: string[] = [];
  if (Array.isArray(endpoints)) {
    for (const e of endpoints) {
      total++;
      if (!endpointReady(e)) continue;
      ready++;
      const list = record(e).addresses;
      if (Array.isArray(list)) for (const a of list) if (typeof a === 'string') addresses.push(a);
    }
  }
  return {
    key: `${namespace}/${name}`,
    service: typeof label === 'string' && label !== '' ? `${namespace}/${label}` : null,
    ready,
    total,
    addresses,
  };
}
