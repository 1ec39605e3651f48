import {
  type AppProcess,
  assertBuilt,
  until as eventually,
  kdigAxfr,
  type TempDir,
  tempDir,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

// A transfer right after the first full sync serves the synced zone (docs/behaviour.md,
// "cluster-gateway: zone transfers": never an empty zone). The NOTIFY debounce is made long
// here so that a version committed only a debounce after the sync would be seen: the
// version taken at start, before any source listed, is the apex alone, and a secondary
// that pulled it (its refresh timer, after a gateway restart) answered NXDOMAIN for every
// name until the next commit (found by e2e-replication-netns in fanout-authority).

const ZONE = 'prod.example.tld';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';

describe('a transfer right after the first full sync', () => {
  let gw: AppProcess;
  let dir: TempDir;

  beforeAll(async () => {
    assertBuilt(MAIN);
    dir = tempDir();
    dir.write(
      'manifests/web.yaml',
      [
        'apiVersion: networking.k8s.io/v1',
        'kind: Ingress',
        'metadata: { name: web, namespace: default }',
        `spec: { rules: [{ host: web.${ZONE} }] }`,
        'status: { loadBalancer: { ingress: [{ ip: 10.9.0.1 }] } }',
        '',
      ].join('\n'),
    );
    const config = testConfig({
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: `${dir.path}/manifests` },
      },
      // Far beyond the test: only a commit at the sync itself can put the records in.
      notify: { targets: [], debounceMs: 60_000 },
      transfer: { enabled: true, allow: ['127.0.0.0/8'], keys: [{ name: KEY, secret: SECRET }] },
    });
    gw = await startGateway(dir.write('gateway.json', JSON.stringify(config)));
    await eventually(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
  });

  it('AXFR holds the names the queries answer, under a serial the answers carry', async () => {
    const records = await kdigAxfr(gw.dnsPort, ZONE, { name: KEY, secret: SECRET });
    expect(records).toContainEqual(
      expect.stringMatching(
        new RegExp(`^web\\.${ZONE.replace(/\./g, '\\.')}\\. \\d+ in a 10\\.9\\.0\\.1$`),
      ),
    );
    const soa = (await gw.dig(['+short', 'SOA', ZONE])).trim().split(/\s+/)[2];
    expect(records.filter((l) => l.includes(' soa ')).every((l) => l.includes(` ${soa} `))).toBe(
      true,
    );
    expect(records.some((l) => l.includes(' soa '))).toBe(true);
  });
});
