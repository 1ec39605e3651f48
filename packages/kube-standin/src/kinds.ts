/**
 * The kinds the stand-in can serve, and the discovery documents built from whichever are
 * installed. Pure data and functions: the server asks "which kind owns this path?" here.
 */

export interface KindSpec {
  /** `Ingress`, `HTTPRoute`, ... */
  kind: string;
  /** API group; `''` for the core group (served under `/api/v1`). */
  group: string;
  version: string;
  /** Lowercase plural used in URLs: `ingresses`. */
  plural: string;
  namespaced: boolean;
  shortNames?: string[];
  /**
   * Custom resource (default true for kinds you install). Built-in kinds (`crd: false`) are
   * listed without `apiVersion`/`kind` on each item, exactly like a real server does.
   */
  crd?: boolean;
}

/** A kind named by its `Kind`, its plural, or `plural.group` (`ingresses.networking.k8s.io`). */
export type KindRef = string | KindSpec;

export const DEFAULT_KINDS: readonly KindSpec[] = [
  {
    kind: 'Namespace',
    group: '',
    version: 'v1',
    plural: 'namespaces',
    namespaced: false,
    shortNames: ['ns'],
    crd: false,
  },
  {
    kind: 'Service',
    group: '',
    version: 'v1',
    plural: 'services',
    namespaced: true,
    shortNames: ['svc'],
    crd: false,
  },
  {
    kind: 'Ingress',
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'ingresses',
    namespaced: true,
    shortNames: ['ing'],
    crd: false,
  },
  {
    // Built in: what the EndpointSlice controller writes per Service (health reads it).
    kind: 'EndpointSlice',
    group: 'discovery.k8s.io',
    version: 'v1',
    plural: 'endpointslices',
    namespaced: true,
    crd: false,
  },
  {
    kind: 'Gateway',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'gateways',
    namespaced: true,
    shortNames: ['gtw'],
  },
  {
    kind: 'HTTPRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'httproutes',
    namespaced: true,
  },
  {
    kind: 'GRPCRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    plural: 'grpcroutes',
    namespaced: true,
  },
  {
    // v1alpha2 is what most clusters serve today; override with `versions: { TLSRoute: ... }`.
    kind: 'TLSRoute',
    group: 'gateway.networking.k8s.io',
    version: 'v1alpha2',
    plural: 'tlsroutes',
    namespaced: true,
  },
  {
    kind: 'DNSEndpoint',
    group: 'externaldns.k8s.io',
    version: 'v1alpha1',
    plural: 'dnsendpoints',
    namespaced: true,
  },
];

export function apiVersionOf(spec: KindSpec): string {
  return spec.group === '' ? spec.version : `${spec.group}/${spec.version}`;
}

/** Stable identity of a kind regardless of version: `ingresses.networking.k8s.io`, `services`. */
export function kindKey(spec: KindSpec): string {
  return spec.group === '' ? spec.plural : `${spec.plural}.${spec.group}`;
}

export function refMatches(spec: KindSpec, ref: string): boolean {
  const r = ref.toLowerCase();
  return (
    r === spec.plural ||
    r === spec.kind.toLowerCase() ||
    r === kindKey(spec) ||
    r === `${spec.kind.toLowerCase()}.${spec.group}` ||
    (spec.shortNames ?? []).includes(r)
  );
}

/** Resolve a ref among `specs`; a full `KindSpec` resolves to the entry with the same key. */
export function findKind(specs: Iterable<KindSpec>, ref: KindRef): KindSpec | undefined {
  for (const s of specs) {
    if (typeof ref === 'string' ? refMatches(s, ref) : kindKey(s) === kindKey(ref)) return s;
  }
  return undefined;
}

/** The default kinds with per-Kind version overrides applied (`{ TLSRoute: 'v1alpha3' }`). */
export function defaultKinds(versions: Record<string, string> = {}): KindSpec[] {
  return DEFAULT_KINDS.map((k) => ({ ...k, version: versions[k.kind] ?? k.version }));
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function apiResource(spec: KindSpec) {
  return {
    name: spec.plural,
    singularName: spec.kind.toLowerCase(),
    namespaced: spec.namespaced,
    kind: spec.kind,
    verbs: VERBS,
    ...(spec.shortNames ? { shortNames: spec.shortNames } : {}),
  };
}

/** `APIResourceList` for one group/version, or undefined when nothing there is installed (404). */
export function resourceList(installed: readonly KindSpec[], group: string, version: string) {
  const kinds = installed.filter((k) => k.group === group && k.version === version);
  if (kinds.length === 0 && group !== '') return undefined;
  const resources = kinds.flatMap((k) => [
    apiResource(k),
    {
      name: `${k.plural}/status`,
      singularName: '',
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: ['get', 'patch', 'update'],
    },
  ]);
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources,
  };
}

function groupDoc(installed: readonly KindSpec[], group: string) {
  const versions = [...new Set(installed.filter((k) => k.group === group).map((k) => k.version))];
  if (versions.length === 0) return undefined;
  const gv = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: gv, preferredVersion: gv[0] };
}

/** `APIGroup` for `/apis/<group>`, or undefined (404). */
export function apiGroup(installed: readonly KindSpec[], group: string) {
  const doc = groupDoc(installed, group);
  return doc && { kind: 'APIGroup', apiVersion: 'v1', ...doc };
}

/** `APIGroupList` for `/apis`: only groups with at least one installed kind. */
export function apiGroupList(installed: readonly KindSpec[]) {
  const groups = [...new Set(installed.map((k) => k.group).filter((g) => g !== ''))];
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groups.map((g) => groupDoc(installed, g)),
  };
}

/** `APIVersions` for `/api`. */
export function coreVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}
