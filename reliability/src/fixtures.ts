import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The zone every campaign serves. */
export const ZONE = 'rel.example.test';

/** Names the fixture cluster serves, with the answer a correct server gives. */
export const KNOWN = {
  /** One Ingress, one IPv4 address. */
  web: { name: `web.${ZONE}`, a: ['192.0.2.10'] },
  /** A LoadBalancer Service with many addresses: the largest answer a client can ask for. */
  multi: {
    name: `multi.${ZONE}`,
    a: Array.from({ length: 16 }, (_, i) => `198.51.100.${i + 1}`),
    aaaa: Array.from({ length: 16 }, (_, i) => `2001:db8::${(i + 1).toString(16)}`),
  },
} as const;

/** Kubernetes objects (as the manifests source and the kube stand-in read them). */
export function fixtureObjects(): Record<string, unknown>[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web', namespace: 'web' },
      spec: { rules: [{ host: KNOWN.web.name }] },
      status: { loadBalancer: { ingress: KNOWN.web.a.map((ip) => ({ ip })) } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'multi',
        namespace: 'data',
        annotations: { 'coredns.io/hostname': KNOWN.multi.name },
      },
      spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
      status: {
        loadBalancer: { ingress: [...KNOWN.multi.a, ...KNOWN.multi.aaaa].map((ip) => ({ ip })) },
      },
    },
  ];
}

export interface Workdir {
  path: string;
  file(name: string): string;
  remove(): void;
}

export function workdir(prefix = 'mdns-reliability-'): Workdir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** Writes the fixture objects into `dir/manifests/objects.json`; returns the directory. */
export function writeManifests(dir: string, objects = fixtureObjects()): string {
  const manifests = join(dir, 'manifests');
  mkdirSync(manifests, { recursive: true });
  writeFileSync(
    join(manifests, 'objects.json'),
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2),
  );
  return manifests;
}

const zoneConfig = (nameserver: string) => ({
  name: ZONE,
  nameservers: [{ name: `${nameserver}.${ZONE}`, addresses: ['192.0.2.53', '2001:db8::53'] }],
});

const loopbackOps = { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 };

/** A gateway on ephemeral loopback ports fed by a manifests directory or a kubeconfig. */
export function gatewayConfig(
  source: { manifests: string } | { kubeconfig: string; kubernetes?: Record<string, unknown> },
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const sources =
    'manifests' in source
      ? {
          kubernetes: { enabled: false },
          manifests: { enabled: true, directory: source.manifests },
        }
      : { kubernetes: { kubeconfig: source.kubeconfig, ...source.kubernetes } };
  return {
    zones: [zoneConfig('gw')],
    listen: { host: '127.0.0.1', port: 0 },
    ops: loopbackOps,
    log: { level: 'info' },
    // The harness stops servers with SIGTERM and judges the exit: no lame duck to wait out.
    shutdown: { lameDuckSeconds: 0 },
    sources,
    ...overrides,
  };
}

/** An authority on ephemeral loopback ports in front of `upstreams`. */
export function authorityConfig(
  upstreams: { name: string; port: number; address?: string }[],
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    zones: [
      {
        ...zoneConfig('ns1'),
        soa: { minimum: 10 },
        policy: 'first',
        upstreams: upstreams.map((u) => ({ address: '127.0.0.1', ...u })),
      },
    ],
    listen: { host: '127.0.0.1', port: 0 },
    ops: loopbackOps,
    explain: { enabled: false },
    log: { level: 'info' },
    shutdown: { lameDuckSeconds: 0 },
    ...overrides,
  };
}
