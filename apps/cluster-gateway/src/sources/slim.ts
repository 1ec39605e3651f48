// Informer caches and the manifests source keep only these slim shapes: metadata we key on
// plus the few spec/status fields the claims read. Memory then grows with names, not with
// object size (no managedFields, no last-applied-configuration, no pod templates...).
// Slimming is also the boundary check: every field is type-checked here, so the claims
// code never meets a number where it expects a string, whatever a manifest file contains.

import { keepsAnnotation } from './claims/annotations.js';

export interface SlimMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  /** metadata.creationTimestamp in epoch ms: the "first" of first-claimant. Infinity: none. */
  createdAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
}

export interface SlimIngress {
  metadata: SlimMeta;
  ingressClassName?: string;
  hosts: string[];
  loadBalancer: LoadBalancerIngress[];
  /** `namespace/name` of each Service its rules and `defaultBackend` send to (health). */
  backends: string[];
}

export interface SlimService {
  metadata: SlimMeta;
  type: string;
  /** `spec.clusterIPs` (else `spec.clusterIP`); empty for a headless Service (`None`). */
  clusterIPs: string[];
  /** `spec.clusterIP: None`: its names resolve to its endpoints' addresses. */
  headless: boolean;
  externalIPs: string[];
  loadBalancer: LoadBalancerIngress[];
}

export interface ParentRef {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface SlimRoute {
  metadata: SlimMeta;
  hostnames: string[];
  parentRefs: ParentRef[];
  /** `namespace/name` of each Service in `spec.rules[].backendRefs` (health). */
  backends: string[];
}

export interface GatewayAddress {
  type: string;
  value: string;
}

export interface SlimGateway {
  metadata: SlimMeta;
  gatewayClassName?: string;
  addresses: GatewayAddress[];
}

export interface DnsEndpointEntry {
  dnsName: string;
  recordType: string;
  targets: string[];
  recordTTL?: unknown;
  /** Set (external-dns routing policies): ignored with a warning, the records are served. */
  setIdentifier?: string;
  providerSpecific?: boolean;
}

export interface SlimDnsEndpoint {
  metadata: SlimMeta;
  endpoints: DnsEndpointEntry[];
}

type Raw = Record<string, unknown>;

function record(v: unknown): Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {};
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function strings(v: unknown): string[] {
  return list(v).filter((s): s is string => typeof s === 'string');
}

function stringMap(v: unknown, keep?: (key: string) => boolean): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(record(v))) {
    if (typeof val === 'string' && (keep === undefined || keep(k))) out[k] = val;
  }
  return out;
}

/** An RFC 3339 time in epoch ms; Infinity when absent or unreadable (sorts last). */
function timestamp(v: unknown): number {
  const t = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isFinite(t) ? t : Number.POSITIVE_INFINITY;
}

/** Metadata of any object; `null` when it has no name (nothing to key it by). */
export function slimMeta(obj: unknown): SlimMeta | null {
  const m = record(record(obj).metadata);
  const name = str(m.name);
  if (!name) return null;
  const meta: SlimMeta = {
    name,
    namespace: str(m.namespace) ?? 'default',
    createdAt: timestamp(m.creationTimestamp),
    labels: stringMap(m.labels),
    annotations: stringMap(m.annotations, keepsAnnotation),
  };
  const uid = str(m.uid);
  if (uid) meta.uid = uid;
  const rv = str(m.resourceVersion);
  if (rv) meta.resourceVersion = rv;
  return meta;
}

function loadBalancer(status: unknown): LoadBalancerIngress[] {
  const out: LoadBalancerIngress[] = [];
  for (const item of list(record(record(status).loadBalancer).ingress)) {
    const r = record(item);
    const entry: LoadBalancerIngress = {};
    const ip = str(r.ip);
    const hostname = str(r.hostname);
    if (ip) entry.ip = ip;
    if (hostname) entry.hostname = hostname;
    if (ip || hostname) out.push(entry);
  }
  return out;
}

/** Adds `namespace/name` once: an object usually names one Service many times. */
function addBackend(out: string[], namespace: string, name: string | undefined): void {
  if (!name) return;
  const key = `${namespace}/${name}`;
  if (!out.includes(key)) out.push(key);
}

/** An Ingress backend's Service name (`backend.service.name`); a resource backend has none. */
function ingressBackend(backend: unknown): string | undefined {
  return str(record(record(backend).service).name);
}

export function slimIngress(obj: unknown): SlimIngress | null {
  const metadata = slimMeta(obj);
  if (!metadata) return null;
  const spec = record(record(obj).spec);
  const hosts: string[] = [];
  const backends: string[] = [];
  addBackend(backends, metadata.namespace, ingressBackend(spec.defaultBackend));
  for (const rule of list(spec.rules)) {
    const host = str(record(rule).host);
    if (host) hosts.push(host);
    for (const path of list(record(record(rule).http).paths)) {
      addBackend(backends, metadata.namespace, ingressBackend(record(path).backend));
    }
  }
  const slim: SlimIngress = {
    metadata,
    hosts,
    loadBalancer: loadBalancer(record(obj).status),
    backends,
  };
  const cls = str(spec.ingressClassName);
  if (cls) slim.ingressClassName = cls;
  return slim;
}

function clusterIPs(spec: Raw): string[] {
  const ips = strings(spec.clusterIPs);
  const single = str(spec.clusterIP);
  if (ips.length === 0 && single) ips.push(single);
  return ips.filter((ip) => ip !== 'None' && ip !== '');
}

export function slimService(obj: unknown): SlimService | null {
  const metadata = slimMeta(obj);
  if (!metadata) return null;
  const spec = record(record(obj).spec);
  return {
    metadata,
    type: str(spec.type) ?? 'ClusterIP',
    clusterIPs: clusterIPs(spec),
    headless: str(spec.clusterIP) === 'None',
    externalIPs: strings(spec.externalIPs),
    loadBalancer: loadBalancer(record(obj).status),
  };
}

export function slimRoute(obj: unknown): SlimRoute | null {
  const metadata = slimMeta(obj);
  if (!metadata) return null;
  const spec = record(record(obj).spec);
  const parentRefs: ParentRef[] = [];
  for (const ref of list(spec.parentRefs)) {
    const r = record(ref);
    const name = str(r.name);
    if (!name) continue;
    parentRefs.push({
      group: str(r.group) ?? 'gateway.networking.k8s.io',
      kind: str(r.kind) ?? 'Gateway',
      namespace: str(r.namespace) ?? metadata.namespace,
      name,
    });
  }
  // backendRefs default to the core group's Service in the route's namespace (Gateway API).
  const backends: string[] = [];
  for (const rule of list(spec.rules)) {
    for (const ref of list(record(rule).backendRefs)) {
      const r = record(ref);
      if ((str(r.group) ?? '') !== '' || (str(r.kind) ?? 'Service') !== 'Service') continue;
      addBackend(backends, str(r.namespace) ?? metadata.namespace, str(r.name));
    }
  }
  return { metadata, hostnames: strings(spec.hostnames), parentRefs, backends };
}

export function slimGateway(obj: unknown): SlimGateway | null {
  const metadata = slimMeta(obj);
  if (!metadata) return null;
  const addresses: GatewayAddress[] = [];
  for (const a of list(record(record(obj).status).addresses)) {
    const r = record(a);
    const value = str(r.value);
    // The Gateway API default address type is IPAddress.
    if (value) addresses.push({ type: str(r.type) ?? 'IPAddress', value });
  }
  const slim: SlimGateway = { metadata, addresses };
  const cls = str(record(record(obj).spec).gatewayClassName);
  if (cls) slim.gatewayClassName = cls;
  return slim;
}

export function slimDnsEndpoint(obj: unknown): SlimDnsEndpoint | null {
  const metadata = slimMeta(obj);
  if (!metadata) return null;
  const endpoints: DnsEndpointEntry[] = [];
  for (const e of list(record(record(obj).spec).endpoints)) {
    const r = record(e);
    const dnsName = str(r.dnsName);
    if (!dnsName) continue;
    const entry: DnsEndpointEntry = {
      dnsName,
      recordType: str(r.recordType) ?? 'A',
      targets: strings(r.targets),
    };
    // Kept raw: the claims code reports a bad TTL as a warning naming the object.
    if (r.recordTTL !== undefined) entry.recordTTL = r.recordTTL;
    const setIdentifier = str(r.setIdentifier);
    if (setIdentifier) entry.setIdentifier = setIdentifier;
    if (list(r.providerSpecific).length > 0) entry.providerSpecific = true;
    endpoints.push(entry);
  }
  return { metadata, endpoints };
}

/**
 * Drops, in place, the bulky parts of a listed object that slimming would drop anyway
 * (`managedFields`, annotations no claim reads such as `last-applied-configuration`), while
 * the object keeps its raw shape. Called on each list page as it arrives, so a large list
 * never holds every full object at once (a real API server sends `managedFields` on all).
 */
export function trimListed(obj: unknown): unknown {
  const meta = record(record(obj).metadata);
  if ('managedFields' in meta) delete meta.managedFields;
  const annotations = meta.annotations;
  if (annotations !== undefined) meta.annotations = stringMap(annotations, keepsAnnotation);
  return obj;
}

/** `namespace/name`, the key of an object in the index. */
export function objectKey(meta: { namespace: string; name: string }): string {
  return `${meta.namespace}/${meta.name}`;
}
