import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertBuilt } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, startAuthority } from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// metrics.corednsCompatible on the real authority: answers over UDP and TCP show up in
// CoreDNS's series with CoreDNS's label names; off by default.
const ZONE = 'prod.test';
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');

describe('end to end: CoreDNS-compatible metrics', () => {
  beforeAll(() => assertBuilt(MAIN));
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function upstream(): Promise<FakeUpstream> {
    const up = await startFakeUpstream(ZONE, (q) =>
      q.name === `web.${ZONE}`
        ? { kind: 'answer', answers: [a(q.name, '192.0.2.10')] }
        : { kind: 'answer', rcode: 3 },
    );
    cleanups.push(() => up.close());
    return up;
  }

  it('exports coredns_dns_* when asked, with proto, zone and rcode', async () => {
    const up = await upstream();
    const auth = await startAuthority(
      configYaml(
        [{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }],
        'metrics: { corednsCompatible: true }\n',
      ),
    );
    cleanups.push(() => auth.stop());
    expect((await auth.query(`web.${ZONE}`, 'A')).rcode).toBe(0);
    expect((await auth.query(`nope.${ZONE}`, 'A', { tcp: true })).rcode).toBe(3);
    const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
    const s = 'server="dns://127.0.0.1:0"';
    expect(text).toContain(
      `coredns_dns_requests_total{${s},zone="${ZONE}.",proto="udp",family="1",type="A"} 1`,
    );
    expect(text).toContain(
      `coredns_dns_requests_total{${s},zone="${ZONE}.",proto="tcp",family="1",type="A"} 1`,
    );
    expect(text).toContain(`coredns_dns_responses_total{${s},zone="${ZONE}.",rcode="NXDOMAIN"} 1`);
    expect(text).toContain(
      `coredns_dns_request_duration_seconds_count{${s},zone="${ZONE}.",type="A"} 2`,
    );
  });

  it('exports none of them by default', async () => {
    const up = await upstream();
    const auth = await startAuthority(
      configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }]),
    );
    cleanups.push(() => auth.stop());
    expect((await auth.query(`web.${ZONE}`, 'A')).rcode).toBe(0);
    const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
    expect(text).toContain('mdns_authority_queries_total');
    expect(text).not.toContain('coredns_');
  });
});
