import { type AppProcess, assertBuilt, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ask } from './support/answers.js';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

const ZONE = 'prod.example.tld';
const HELLO = 'héllo '.repeat(60); // 420 bytes in UTF-8, 360 UTF-16 units

function meta(namespace: string, name: string, created: string) {
  return { name, namespace, creationTimestamp: created };
}

function ingress(ns: string, name: string, created: string, host: string, lb: object) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(ns, name, created),
    spec: { rules: [{ host }] },
    status: { loadBalancer: { ingress: [lb] } },
  };
}

// Tenants attacking each other through their own namespaces' objects, against a real
// process reading a manifests directory, asked with dig and the transport client.
const OBJECTS = {
  'a.yaml': [
    ingress('team-a', 'api', '2024-01-01T00:00:00Z', `api.a.${ZONE}`, {
      hostname: 'lb-a.elb.example.net',
    }),
    ingress('team-a', 'wild', '2024-01-01T00:00:00Z', `*.apps.a.${ZONE}`, { ip: '10.0.1.9' }),
  ],
  'b.yaml': [
    // Hijack attempts by team-b: a name under team-a's suffix, a wildcard, a Service whose
    // externalIPs point anywhere; and a newer A claim on team-a's CNAME name, allowed by the
    // overlapping shared suffix.
    ingress('team-b', 'steal', '2024-06-01T00:00:00Z', `www.a.${ZONE}`, { ip: '203.0.113.66' }),
    ingress('team-b', 'wild', '2024-06-01T00:00:00Z', `*.b.${ZONE}`, { ip: '203.0.113.67' }),
    ingress('team-b', 'shared', '2024-06-01T00:00:00Z', `cdn.shared.${ZONE}`, {
      ip: '203.0.113.68',
    }),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        ...meta('team-b', 'svc', '2024-06-01T00:00:00Z'),
        annotations: { 'coredns.io/hostname': `svc.b.${ZONE}` },
      },
      spec: { type: 'LoadBalancer', externalIPs: ['203.0.113.70'] },
      status: { loadBalancer: { ingress: [{ ip: '10.0.2.1' }] } },
    },
    {
      apiVersion: 'externaldns.k8s.io/v1alpha1',
      kind: 'DNSEndpoint',
      metadata: meta('team-b', 'txt', '2024-06-01T00:00:00Z'),
      spec: { endpoints: [{ dnsName: `txt.b.${ZONE}`, recordType: 'TXT', targets: [HELLO] }] },
    },
  ],
  'shared.yaml': [
    ingress('team-a', 'cdn', '2024-01-01T00:00:00Z', `cdn.shared.${ZONE}`, {
      hostname: 'cdn-a.example.net',
    }),
  ],
};

describe('end to end: tenant boundaries (manifests)', () => {
  beforeAll(() => assertBuilt(MAIN));
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-tenants-');
    for (const [file, objs] of Object.entries(OBJECTS)) {
      manifests.write(file, objs.map((o) => stringify(o)).join('---\n'));
    }
    const config = testConfig({
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
        ownership: {
          namespaces: {
            'team-a': [`a.${ZONE}`, `shared.${ZONE}`],
            'team-b': [`b.${ZONE}`, `shared.${ZONE}`],
          },
          wildcardNamespaces: ['team-a'],
        },
      },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  it('a name outside the namespace suffixes is refused with a warning naming object, name and rule', async () => {
    expect((await ask(gw, `www.a.${ZONE}`, 'A')).rcode).toBe('NXDOMAIN');
    const warning = gw.logs.find((l) => String(l.msg).includes('Ingress team-b/steal'));
    expect(warning?.msg).toContain(
      `name www.a.${ZONE} refused: namespace team-b may claim only names under b.${ZONE}`,
    );
  });

  it('wildcards are opt-in per namespace', async () => {
    expect((await ask(gw, `x.apps.a.${ZONE}`, 'A')).answers).toEqual(['A 10.0.1.9']);
    expect((await ask(gw, `x.b.${ZONE}`, 'A')).rcode).toBe('NXDOMAIN');
    expect(
      gw.logs.some((l) => String(l.msg).includes('sources.ownership.wildcardNamespaces')),
    ).toBe(true);
  });

  it("first claimant wins: team-b's newer A claim does not wipe team-a's CNAME", async () => {
    expect((await ask(gw, `cdn.shared.${ZONE}`, 'A')).answers).toEqual(['CNAME cdn-a.example.net']);
    const log = gw.logs.find((l) =>
      String(l.msg).startsWith(`cdn.shared.${ZONE}: claimed first by`),
    );
    expect(log?.refused).toEqual(['Ingress team-b/shared']);
  });

  it('spec.externalIPs are ignored by default: the load balancer status answers', async () => {
    expect((await ask(gw, `svc.b.${ZONE}`, 'A')).answers).toEqual(['A 10.0.2.1']);
  });

  it('a non-ASCII TXT over 255 bytes answers, split at character boundaries (dig +short)', async () => {
    const seen = await ask(gw, `txt.b.${ZONE}`, 'TXT');
    expect(seen.rcode).toBe('NOERROR');
    const short = await gw.dig(['+short', `txt.b.${ZONE}`, 'TXT']);
    // dig prints each character-string quoted, non-ASCII bytes as \DDD escapes.
    const strings = [...short.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) =>
      Buffer.from(
        m[1].replace(/\\(\d{3})/g, (_s, d) => String.fromCharCode(Number(d))),
        'latin1',
      ),
    );
    expect(strings.length).toBe(2);
    for (const s of strings) expect(s.length).toBeLessThanOrEqual(255);
    expect(Buffer.concat(strings).toString('utf8')).toBe(HELLO);
    expect(gw.logs.some((l) => l.msg === 'handler failed: answered SERVFAIL')).toBe(false);
  });

  it('every refusal is counted by reason', async () => {
    const metrics = await gw.http('/metrics');
    const count = (reason: string) =>
      Number(
        metrics.body
          .split('\n')
          .find((l) => l.startsWith(`mdns_gateway_claims_rejected_total{reason="${reason}"}`))
          ?.split(' ')[1],
      );
    expect(count('ownership')).toBe(1);
    expect(count('wildcard')).toBe(1);
    expect(count('external_ips')).toBe(1);
    expect(metrics.body).toMatch(/mdns_gateway_index_contested_names 1/);
  });
});
