// The one place that reads annotations and labels of watched objects: which keys exist,
// which prefix wins, how values parse, and which keys are unsupported. Claims code asks
// here and never indexes `metadata.annotations` itself.

import type { SlimMeta } from '../slim.js';
import type { ClaimResult } from './context.js';

/** external-dns writes `external-dns.kubernetes.io/` since v0.22, `external-dns.alpha.kubernetes.io/` before. */
export const EXTERNAL_DNS_PREFIX = 'external-dns.kubernetes.io/';
export const EXTERNAL_DNS_LEGACY_PREFIX = 'external-dns.alpha.kubernetes.io/';
const MDNS_PREFIX = 'mdns.io/';

export const KEYS = {
  corednsHostname: 'coredns.io/hostname',
  ingressClass: 'kubernetes.io/ingress.class',
  /** `"true"`: the object is not published at all. */
  exclude: 'mdns.io/exclude',
  /** `"true"` on a ClusterIP Service: its hosts answer with the cluster IPs. */
  publishClusterIp: 'mdns.io/publish-cluster-ip',
  /** `"ignore"`: the object's answers do not follow its backends' ready endpoints. */
  health: 'mdns.io/health',
} as const;

/** The per-object ignore label of the maintained k8s_gateway fork (k8s-gateway/k8s_gateway README). */
export const K8S_GATEWAY_IGNORE_LABEL = 'k8s-gateway.dns/ignore';

/** The external-dns keys mdns reads (after either prefix). */
export type ExternalDnsKey = 'hostname' | 'ttl' | 'target' | 'internal-hostname';

/** Which annotation keys each kind reads; any other key of a known prefix is unsupported. */
export type AnnotatedKind = 'Ingress' | 'Service' | 'Route' | 'DNSEndpoint' | 'Gateway';

const SUPPORTED: Record<AnnotatedKind, { externalDns: ExternalDnsKey[]; other: string[] }> = {
  Ingress: { externalDns: ['hostname', 'ttl', 'target'], other: [KEYS.ingressClass] },
  Service: {
    externalDns: ['hostname', 'ttl', 'target', 'internal-hostname'],
    other: [KEYS.corednsHostname, KEYS.publishClusterIp],
  },
  Route: { externalDns: ['hostname', 'ttl'], other: [] },
  DNSEndpoint: { externalDns: ['ttl'], other: [] },
  // external-dns reads `target` on the Gateway for every route attached to it.
  Gateway: { externalDns: ['target'], other: [] },
};

/**
 * Annotations slimming keeps: every key of the prefixes mdns reads or reports on (so an
 * unsupported one can be named in a warning), plus the ingress class. Others are dropped.
 */
export function keepsAnnotation(key: string): boolean {
  return (
    key.startsWith(EXTERNAL_DNS_PREFIX) ||
    key.startsWith(EXTERNAL_DNS_LEGACY_PREFIX) ||
    key.startsWith(MDNS_PREFIX) ||
    key === KEYS.corednsHostname ||
    key === KEYS.ingressClass ||
    key === K8S_GATEWAY_IGNORE_LABEL
  );
}

/**
 * Excluded by `mdns.io/exclude: "true"` or the k8s_gateway fork's `k8s-gateway.dns/ignore: "true"`
 * label (also accepted as an annotation). Any other value of these keys does not exclude.
 */
export function isExcluded(meta: SlimMeta): boolean {
  return (
    meta.annotations[KEYS.exclude] === 'true' ||
    meta.labels[K8S_GATEWAY_IGNORE_LABEL] === 'true' ||
    meta.annotations[K8S_GATEWAY_IGNORE_LABEL] === 'true'
  );
}

/**
 * Where an object's annotations are reported: each unsupported key or value gets one
 * warning naming it and one `unsupported` refusal (`claims_rejected_total{reason}`).
 */
export type AnnotationReport = Pick<ClaimResult, 'warnings' | 'rejected'>;

/**
 * An external-dns annotation under either prefix. The current prefix wins over the legacy
 * one, as external-dns does with `--enable-legacy-annotation-prefix`; when both are set to
 * different values the ignored one is named in a warning.
 */
export function externalDnsAnnotation(
  meta: SlimMeta,
  key: ExternalDnsKey,
  ref: string,
  warnings: string[],
): { key: string; value: string } | undefined {
  const currentKey = EXTERNAL_DNS_PREFIX + key;
  const legacyKey = EXTERNAL_DNS_LEGACY_PREFIX + key;
  const current = meta.annotations[currentKey];
  const legacy = meta.annotations[legacyKey];
  if (current !== undefined) {
    if (legacy !== undefined && legacy !== current) {
      warnings.push(`${ref}: annotation ${legacyKey} "${legacy}" ignored, ${currentKey} wins`);
    }
    return { key: currentKey, value: current };
  }
  return legacy === undefined ? undefined : { key: legacyKey, value: legacy };
}

/** A comma list as external-dns and k8s_gateway read it: trimmed, empty items dropped. */
export function commaList(raw: string): string[] {
  return raw
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
}

export interface AnnotatedHost {
  value: string;
  field: string;
}

/**
 * `coredns.io/hostname` values as k8s_gateway reads them: a name ending in a dot or lying
 * at or under a served zone is absolute; any other (`web`, `web.team`) is relative and
 * stands for itself under each served zone.
 */
export function corednsHosts(
  raw: string,
  zones: readonly string[],
  isInZone: (name: string) => boolean,
): AnnotatedHost[] {
  const field = `annotation ${KEYS.corednsHostname}`;
  const out: AnnotatedHost[] = [];
  for (const h of commaList(raw)) {
    if (h.endsWith('.') || isInZone(h)) {
      out.push({ value: h, field });
      continue;
    }
    for (const zone of zones) out.push({ value: zone === '' ? h : `${h}.${zone}`, field });
  }
  return out;
}

/**
 * The host names a Service asks for by annotation, or undefined when it has none.
 * `coredns.io/hostname` (k8s_gateway's own key) wins over the external-dns hostname; the
 * ignored one is named in a warning.
 */
export function serviceAnnotatedHosts(
  meta: SlimMeta,
  zones: readonly string[],
  isInZone: (name: string) => boolean,
  ref: string,
  warnings: string[],
): AnnotatedHost[] | undefined {
  const coredns = meta.annotations[KEYS.corednsHostname];
  const external = externalDnsAnnotation(meta, 'hostname', ref, warnings);
  if (coredns !== undefined) {
    if (external !== undefined) {
      warnings.push(
        `${ref}: annotation ${external.key} "${external.value}" ignored, ${KEYS.corednsHostname} wins`,
      );
    }
    return corednsHosts(coredns, zones, isInZone);
  }
  if (external === undefined) return undefined;
  const field = `annotation ${external.key}`;
  return commaList(external.value).map((value) => ({ value, field }));
}

/** Whether a Service names its hosts itself (`coredns.io/hostname` or external-dns `hostname`). */
export function hasAnnotatedHosts(meta: SlimMeta): boolean {
  const a = meta.annotations;
  return (
    a[KEYS.corednsHostname] !== undefined ||
    a[`${EXTERNAL_DNS_PREFIX}hostname`] !== undefined ||
    a[`${EXTERNAL_DNS_LEGACY_PREFIX}hostname`] !== undefined
  );
}

/** The external-dns hostname annotation of an Ingress or route: added to its spec hosts. */
export function extraHosts(meta: SlimMeta, ref: string, warnings: string[]): AnnotatedHost[] {
  const external = externalDnsAnnotation(meta, 'hostname', ref, warnings);
  if (external === undefined) return [];
  const field = `annotation ${external.key}`;
  return commaList(external.value).map((value) => ({ value, field }));
}

// Signed 32-bit, the largest TTL RFC 2181 section 8 allows.
const MAX_TTL = 2_147_483_647;

const GO_UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  // Go accepts both micro signs, U+00B5 and U+03BC; written escaped so the bundle stays
  // ASCII (see tsup.app.ts).
  '\u00b5s': 1e-6,
  '\u03bcs': 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
};
const GO_DURATION = /^(?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$/;
const GO_PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/g;

/**
 * A TTL annotation value in whole seconds, as external-dns accepts it: integer seconds
 * (`60`) or a Go duration (`1m`, `1h30m`, `90s`, `1.5h`), truncated to seconds. Null when
 * neither, or out of 0..2^31-1.
 */
export function parseTtlAnnotation(raw: string): number | null {
  const s = raw.trim();
  let n: number;
  if (/^\d+$/.test(s)) n = Number(s);
  else if (GO_DURATION.test(s)) {
    let seconds = 0;
    for (const m of s.matchAll(GO_PART)) seconds += Number(m[1]) * GO_UNIT_SECONDS[m[2]];
    // Rounded to the nanosecond first: float sums such as 0.1h must not lose a second.
    n = Math.floor(Math.round(seconds * 1e9) / 1e9);
  } else return null;
  return Number.isInteger(n) && n >= 0 && n <= MAX_TTL ? n : null;
}

/** The object's TTL: its external-dns `ttl` annotation (either prefix), else the default. */
export function objectTtl(
  meta: SlimMeta,
  defaultTtl: number,
  ref: string,
  report: AnnotationReport,
): number {
  const found = externalDnsAnnotation(meta, 'ttl', ref, report.warnings);
  if (found === undefined) return defaultTtl;
  const ttl = parseTtlAnnotation(found.value);
  if (ttl === null) {
    report.warnings.push(
      `${ref}: annotation ${found.key} "${found.value}" is not a TTL (seconds such as 60, or a duration such as 1m or 1h30m); using ${defaultTtl}`,
    );
    report.rejected.push('unsupported');
    return defaultTtl;
  }
  return ttl;
}

/**
 * The external-dns `target` annotation: IPs and host names replacing the addresses the
 * object would publish. Undefined when absent, or when `sources.annotations.target` is off
 * (`allowed` false): then one warning naming the key and a `target` refusal, and the
 * object publishes its own addresses. The key is returned for warnings.
 */
export function annotatedTarget(
  meta: SlimMeta,
  allowed: boolean,
  ref: string,
  report: AnnotationReport,
): { key: string; values: string[] } | undefined {
  const found = externalDnsAnnotation(meta, 'target', ref, report.warnings);
  if (found === undefined) return undefined;
  if (!allowed) {
    report.warnings.push(
      `${ref}: annotation ${found.key} "${found.value}" ignored (sources.annotations.target is false); its own addresses are published`,
    );
    report.rejected.push('target');
    return undefined;
  }
  return { key: found.key, values: commaList(found.value) };
}

/** A `"true"` / `"false"` mdns switch annotation; anything else is reported and reads false. */
export function switchAnnotation(
  meta: SlimMeta,
  key: string,
  ref: string,
  report: AnnotationReport,
): boolean {
  const v = meta.annotations[key];
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  report.warnings.push(
    `${ref}: annotation ${key} "${v}" is neither "true" nor "false"; read as false`,
  );
  report.rejected.push('unsupported');
  return false;
}

/** `mdns.io/health: ignore`: the object is answered whatever its backends' endpoints say. */
export function ignoresHealth(meta: SlimMeta): boolean {
  return meta.annotations[KEYS.health] === 'ignore';
}

/**
 * Every kept annotation the kind does not read (`external-dns.*` keys such as
 * `cloudflare-proxied` or `set-identifier`, unknown `mdns.io/` keys, `coredns.io/hostname`
 * off a Service): one warning each, so nothing falls back silently.
 */
export function reportUnsupported(
  kind: AnnotatedKind,
  meta: SlimMeta,
  ref: string,
  report: AnnotationReport,
): void {
  const supported = SUPPORTED[kind];
  for (const key of Object.keys(meta.annotations).sort()) {
    let ok: boolean;
    if (key.startsWith(EXTERNAL_DNS_PREFIX)) {
      ok = supported.externalDns.includes(key.slice(EXTERNAL_DNS_PREFIX.length) as ExternalDnsKey);
    } else if (key.startsWith(EXTERNAL_DNS_LEGACY_PREFIX)) {
      ok = supported.externalDns.includes(
        key.slice(EXTERNAL_DNS_LEGACY_PREFIX.length) as ExternalDnsKey,
      );
    } else if (key === KEYS.exclude || key === K8S_GATEWAY_IGNORE_LABEL) {
      // Only "true" excludes (and then the object never gets here): say so for any other value.
      const v = meta.annotations[key];
      if (v !== 'false') {
        report.warnings.push(`${ref}: annotation ${key} "${v}" is not "true"; object not excluded`);
        report.rejected.push('unsupported');
      }
      continue;
    } else if (key === KEYS.health && kind !== 'DNSEndpoint' && kind !== 'Gateway') {
      // Read on every kind with backends; only "ignore" means something.
      const v = meta.annotations[key];
      if (v !== 'ignore') {
        report.warnings.push(
          `${ref}: annotation ${key} "${v}" is not "ignore"; health is followed`,
        );
        report.rejected.push('unsupported');
      }
      continue;
    } else ok = supported.other.includes(key);
    if (ok) continue;
    report.warnings.push(`${ref}: annotation ${key} is not supported on ${kind}; ignored`);
    report.rejected.push('unsupported');
  }
}
