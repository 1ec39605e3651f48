import { QTYPE } from '@mdns/protocol';
import { type DelayProxy, startDelayProxy } from '@mdns/testkit';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamHealth } from '../src/upstream/health.js';
import { Upstream, type UpstreamLimits } from '../src/upstream/upstream.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// docs/behaviour.md: a reply that arrives after its query was given up (its ID still
// reserved) teaches the RTT and clears the failures. Real sockets: a cluster 150 ms away
// (the @mdns/testkit delay proxy) asked with a 40 ms timeout.
const ZONE = 'prod.test';
const limits: UpstreamLimits = {
  floorMs: 20,
  ceilingMs: 1000,
  initialMs: 200,
  failureThreshold: 3,
  probeIntervalMs: 2000,
};

describe('a late reply over a real link', () => {
  let server: FakeUpstream;
  let proxy: DelayProxy;
  beforeAll(async () => {
    server = await startFakeUpstream(ZONE, (q) => ({
      kind: 'answer',
      answers: [a(q.name, '10.2.0.1')],
    }));
    proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: server.port, rttMs: 150 });
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  it('times the query out, then learns the RTT from its reply and clears the failure', async () => {
    const health = new UpstreamHealth();
    const far = new Upstream(
      { zone: ZONE, name: 'far', address: '127.0.0.1', port: proxy.port },
      health,
      limits,
      client,
    );
    const exchange = await far.ask(`svc.${ZONE}`, QTYPE.A, 40);
    expect(exchange.outcome.class).toBe('FAILED');
    expect(exchange.outcome.reason).toMatch(/timeout/);
    expect(health.circuit.consecutiveFailures).toBe(1);
    expect(health.rtt.srtt).toBeNull();

    // Bounded wait for the reply the proxy still delivers (~150 ms after the send).
    for (let i = 0; i < 100 && health.stats.lateReplies === 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(health.stats.lateReplies).toBe(1);
    expect(health.circuit.consecutiveFailures).toBe(0);
    expect(health.rtt.srtt).toBeGreaterThanOrEqual(148);
    // The next query waits long enough for this link: the learned timeout covers 2 x RTT.
    expect(health.timeoutMs(limits)).toBeGreaterThanOrEqual(296);
    const next = await far.ask(`svc.${ZONE}`, QTYPE.A);
    expect(next.outcome.class).toBe('POSITIVE');
  });
});
