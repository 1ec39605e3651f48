// The names every scenario serves, written once per run as: Kubernetes objects (manifests
// directory / stand-in), Knot zone files (the same names), and dnsperf query files.
// Deterministic: name i always has the same addresses, so runs compare.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ZONE = 'bench.test';
export const NAMESPACE = 'bench';

export const hostOf = (i) => `app-${i}.${ZONE}`;
export const ipv4Of = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
export const ipv6Of = (i) => `2001:db8::${i.toString(16)}`;
/** Every 4th name is dual-stack, the rest IPv4 only (their AAAA is NODATA). */
export const hasIpv6 = (i) => i % 4 === 0;

export function ingress(i, ip = ipv4Of(i)) {
  const lb = [{ ip }];
  if (hasIpv6(i)) lb.push({ ip: ipv6Of(i) });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: `app-${i}`, namespace: NAMESPACE },
    spec: { rules: [{ host: hostOf(i) }] },
    status: { loadBalancer: { ingress: lb } },
  };
}

/** A LoadBalancer Service; its name is `svc-i.bench.bench.test` (name.namespace.zone). */
export function service(i) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: NAMESPACE },
    spec: { type: 'LoadBalancer', ports: [{ port: 443, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress: [{ ip: `10.200.${(i >> 8) & 255}.${i & 255}` }] } },
  };
}

/**
 * The EndpointSlice the EndpointSlice controller keeps for Service `service` in the bench
 * namespace: `total` endpoints, the first `ready` of them ready.
 */
export function endpointSlice(service, ready = 1, total = 2) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-abcde`,
      namespace: NAMESPACE,
      labels: { 'kubernetes.io/service-name': service },
    },
    addressType: 'IPv4',
    endpoints: Array.from({ length: total }, (_, k) => ({
      addresses: [`10.244.${k}.1`],
      conditions: { ready: k < ready, serving: k < ready, terminating: false },
      nodeName: `node-${k}`,
    })),
    ports: [{ name: 'https', port: 443, protocol: 'TCP' }],
  };
}

/**
 * A manifests directory: JSON is YAML, and `kind: List` files of 1000 keep parsing cheap.
 * `keep(i)` selects the names (as for `zoneFile`), e.g. one gateway's share.
 */
export function writeManifests(dir, count, keep = () => true) {
  for (let start = 0; start < count; start += 1000) {
    const items = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) if (keep(i)) items.push(ingress(i));
    if (items.length === 0) continue;
    const file = join(dir, `ingresses-${String(start).padStart(6, '0')}.yaml`);
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  }
}

/**
 * A Knot zone file with the names `keep(i)` selects. SOA minimum 3600 and record TTL
 * 3600 so cached answers (dnsdist, the authority) live longer than any run.
 */
export function zoneFile(count, keep = () => true) {
  const lines = [
    `$ORIGIN ${ZONE}.`,
    '$TTL 3600',
    '@ SOA ns1 hostmaster 1 3600 600 86400 3600',
    '@ NS ns1',
    'ns1 A 127.0.0.1',
  ];
  for (let i = 0; i < count; i++) {
    if (!keep(i)) continue;
    lines.push(`app-${i} A ${ipv4Of(i)}`);
    if (hasIpv6(i)) lines.push(`app-${i} AAAA ${ipv6Of(i)}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The mixed query file: per 10 queries 7 A for existing names, 2 AAAA (a quarter of
 * them answered, the rest NODATA) and 1 NXDOMAIN — shuffled with a fixed seed.
 */
export function mixedQueries(count) {
  const lines = [];
  for (let i = 0; i < count; i++) lines.push(`${hostOf(i)} A`);
  for (let i = 0; i < Math.floor((count * 2) / 7); i++)
    lines.push(`${hostOf((i * 7) % count)} AAAA`);
  for (let i = 0; i < Math.floor(count / 7); i++) lines.push(`nx-${i}.${ZONE} A`);
  return shuffle(lines, 42);
}

export function writeLines(file, lines) {
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function shuffle(items, seed) {
  let s = seed;
  const rand = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x80000000;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
