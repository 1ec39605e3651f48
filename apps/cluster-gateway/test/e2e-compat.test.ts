import { type Standin, startStandin } from '@mdns/kube-standin';
import { type AppProcess, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CASES, COMPAT_OBJECTS, STANDIN_VERSIONS, ZONE } from './fixtures/e2e/compat.js';
import { startGateway, testConfig } from './support/gateway.js';

const SERVICES = { externalIPs: false, internalHostnames: true };

function config(sources: Record<string, unknown>) {
  return testConfig({
    zones: [{ name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, addresses: ['192.0.2.53'] }] }],
    sources: {
      resources: ['HTTPRoute', 'TLSRoute', 'Ingress', 'Service'],
      services: SERVICES,
      // external-dns users turn `target` on; the default (off) is checked below.
      annotations: { target: true },
      ...sources,
    },
  });
}

/** The same table, asked with dig, against one running gateway. */
function compatTable(gateway: () => AppProcess) {
  it.each(CASES)('$what', async (c) => {
    const gw = gateway();
    const header = await gw.dig(['+noall', '+comments', c.name, c.type]);
    expect(header).toContain(`status: ${c.rcode}`);
    const short = (await gw.dig(['+short', c.name, c.type])).split('\n').filter((l) => l !== '');
    expect(short).toEqual(c.short);
    if (c.ttl !== undefined) {
      const answer = await gw.dig(['+noall', '+answer', c.name, c.type]);
      expect(answer.split(/\s+/)[1]).toBe(String(c.ttl));
    }
  });

  it('each unsupported or ignored annotation is a warning naming object and key, and counted', async () => {
    const gw = gateway();
    const warned = (text: string) =>
      gw.logs.some((l) => l.level === 'warn' && JSON.stringify(l).includes(text));
    expect(warned('apps/cf: annotation external-dns.alpha.kubernetes.io/cloudflare-proxied')).toBe(
      true,
    );
    expect(warned('annotation external-dns.alpha.kubernetes.io/ttl \\"30\\" ignored')).toBe(true);
    expect(warned('apps/headless: annotation mdns.io/publish-cluster-ip ignored')).toBe(true);
    const metrics = (await gw.http('/metrics')).body;
    // cloudflare-proxied and the headless Service.
    expect(metrics).toMatch(/mdns_gateway_claims_rejected_total\{reason="unsupported"\} 2\b/);
  });
}

describe('compatibility table: manifests directory', () => {
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-compat-');
    manifests.write('all.yaml', COMPAT_OBJECTS.map((o) => stringify(o)).join('---\n'));
    const cfg = config({
      kubernetes: { enabled: false },
      manifests: { enabled: true, directory: manifests.path },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(cfg)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  compatTable(() => gw);
});

describe('compatibility table: Kubernetes API (kube stand-in)', () => {
  let standin: Standin;
  let dir: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    standin = await startStandin({
      kinds: ['services', 'ingresses', 'gateways', 'httproutes', 'tlsroutes'],
      versions: STANDIN_VERSIONS,
      objects: COMPAT_OBJECTS as any,
    });
    dir = tempDir();
    const cfg = config({ kubernetes: { kubeconfig: standin.kubeconfigPath } });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(cfg)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    await standin?.close();
    dir?.remove();
  });

  compatTable(() => gw);
});

describe('target annotation off (the default): own addresses, warned, counted', () => {
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-compat-');
    manifests.write('all.yaml', COMPAT_OBJECTS.map((o) => stringify(o)).join('---\n'));
    const cfg = config({
      kubernetes: { enabled: false },
      manifests: { enabled: true, directory: manifests.path },
      annotations: {},
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(cfg)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  it.each([
    ['Ingress: its load balancer address', `tgt-ip.${ZONE}`, ['198.51.100.10']],
    ['Ingress with its load balancer pending: no name', `tgt-name.${ZONE}`, []],
    ['Service: its load balancer address', `svc-tgt.apps.${ZONE}`, ['198.51.100.11']],
    ['Gateway: its status address for its routes', `edge-app.${ZONE}`, ['192.0.2.31']],
  ])('%s', async (_what, name, short) => {
    const out = (await gw.dig(['+short', name, 'A'])).split('\n').filter((l) => l !== '');
    expect(out).toEqual(short);
  });

  it('each ignored target is one warning naming object and key, counted as reason="target"', async () => {
    const warned = gw.logs.filter(
      (l) =>
        l.level === 'warn' && JSON.stringify(l).includes('sources.annotations.target is false'),
    );
    expect(warned).toHaveLength(4);
    expect(JSON.stringify(warned)).toContain(
      'Gateway infra/edge: annotation external-dns.kubernetes.io/target',
    );
    const metrics = (await gw.http('/metrics')).body;
    expect(metrics).toMatch(/mdns_gateway_claims_rejected_total\{reason="target"\} 4\b/);
  });
});
