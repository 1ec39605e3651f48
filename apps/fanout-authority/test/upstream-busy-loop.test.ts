import { createRegistry, parseConfigText } from '@mdns/ops';
import { decode, encode, QTYPE } from '@mdns/protocol';
import { BusyUpstream, busyWait } from '@mdns/testkit';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// One copy of the worker-thread upstream, shared with the transport client tests.
import { SingleFlight } from '../src/cache/index.js';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { createHandler } from '../src/dns/handler.js';
import { type FanoutResult, fanout } from '../src/fanout/fanout.js';
import { registerAuthorityMetrics } from '../src/metrics.js';
import { recentLoopLagMs, watchLoopLag } from '../src/upstream/loop-lag.js';
import { type FakeUpstream, soaRecord, startFakeUpstream } from './support/fake-upstream.js';

// The upstream socket pool and the loop-lag watch, as main starts them; the watch once the
// file is loaded, so the import stall is not in the window the tests read.
const client = new DnsClient({ sockets: 2 });
beforeAll(() => watchLoopLag());
afterAll(() => client.close());

const ZONE = 'prod.test';

function runtimeFor(upstreams: string, limits: string): Runtime {
  const r = parseConfigText(
    `zones:\n  - name: ${ZONE}\n    upstreams: ${upstreams}\nupstream: ${limits}\ncache: { enabled: false }\n`,
    authorityConfigSchema,
  );
  if (!r.ok) throw new Error(r.errors.join('; '));
  return buildRuntime(r.config, 1, client);
}

// Spec (reliability): a healthy upstream is never counted failed, nor its circuit opened,
// because *we* were too busy to read its reply in time.
describe('a busy event loop does not fail a healthy upstream', () => {
  let upstream: BusyUpstream;
  beforeAll(async () => {
    upstream = await BusyUpstream.start(20);
  });
  afterAll(() => upstream.close());

  it('answers POSITIVE (not SERVFAIL) when the reply arrived while the loop was blocked', async () => {
    // One failure would open the circuit: the strictest setting for this check.
    const runtime = runtimeFor(
      `[{ name: busy, address: 127.0.0.1, port: ${upstream.port} }]`,
      '{ initialTimeoutMs: 50, timeoutFloorMs: 50, failureThreshold: 1 }',
    );
    const handler = createHandler({
      runtime: () => runtime,
      cache: () => null,
      flights: new SingleFlight<FanoutResult>(),
      metrics: registerAuthorityMetrics(
        createRegistry({ defaultMetrics: false }),
        () => runtime,
        () => null,
      ),
      logger: { warn() {}, debug() {} },
    });
    const query = encode({
      id: 9,
      type: 'query',
      flags: 0,
      questions: [{ name: `svc.${ZONE}`, type: 'A', class: 'IN' }],
    } as never);
    upstream.reset();
    const pending = handler(query, { address: '127.0.0.1', port: 1, transport: 'udp' });
    await upstream.queryReceived();
    busyWait(150); // the upstream replies 20 ms into this; our 50 ms timer is long overdue
    expect(upstream.state).toBe(2);
    const reply = await pending;
    expect(reply).not.toBeNull();
    const d = decode(reply!);
    expect(d.ok && d.message.rcode).toBe('NOERROR');
    expect(d.ok && d.message.answers?.map((r) => (r as { data: string }).data)).toEqual([
      '192.0.2.1',
    ]);
    const u = runtime.upstreams[0];
    expect(u.healthy).toBe(true);
    expect(u.health.stats.failures.size).toBe(0);
    expect(u.health.stats.circuitOpens).toBe(0);
    // The sample includes our stall: the learned timeout grows instead of the circuit opening.
    expect(u.health.rtt.srtt).toBeGreaterThan(0);
  });
});

describe('a circuit that opens releases the queries still waiting on that upstream', () => {
  let dead: FakeUpstream;
  let alive: FakeUpstream;
  beforeAll(async () => {
    dead = await startFakeUpstream(ZONE, () => ({ kind: 'silent' }));
    alive = await startFakeUpstream(ZONE, () => ({ kind: 'answer', rcode: 3 }));
  });
  afterAll(async () => {
    await dead.close();
    await alive.close();
  });

  it('a query sent after the first one does not wait for its own timeout', async () => {
    // A timeout during a recent stall (the busy-wait above) rightly does not open the circuit:
    // start from a quiet loop.
    await until('the event loop lag drops below 50 ms', () => recentLoopLagMs() < 50);
    const runtime = runtimeFor(
      `[{ name: alive, address: 127.0.0.1, port: ${alive.port} }, { name: dead, address: 127.0.0.1, port: ${dead.port} }]`,
      '{ initialTimeoutMs: 300, failureThreshold: 1 }',
    );
    const zone = runtime.zones.get(ZONE)!;
    const first = fanout(zone, `a.${ZONE}`, QTYPE.A, { allPolicyWaitMs: 300 });
    await new Promise((r) => setTimeout(r, 100));
    // Sent later with a longer (backed-off) timeout: without the release it would wait it out.
    const second = fanout(zone, `b.${ZONE}`, QTYPE.A, { allPolicyWaitMs: 300 });
    const [r1, r2] = await Promise.all([first, second]);
    const deadOf = (r: FanoutResult) => r.exchanges[1]?.outcome.reason;
    expect(deadOf(r1)).toBe('timeout after 300 ms');
    expect(deadOf(r2)).toBe('circuit opened while waiting');
    // Both decide with the dead cluster known unhealthy: NXDOMAIN, partial (not cached).
    expect(r1.decision).toMatchObject({ kind: 'nxdomain', partial: true });
    expect(r2.decision).toMatchObject({ kind: 'nxdomain', partial: true });
    const u = runtime.upstreams[1];
    expect(u.healthy).toBe(false);
    expect(u.health.stats.failures.get('timeout')).toBe(1);
  });
});

describe('a circuit that opened on a stall is checked again at once', () => {
  let flaky: FakeUpstream;
  beforeAll(async () => {
    // Silent to the first client query (a stall), then answers everything, SOA included.
    let stalled = false;
    flaky = await startFakeUpstream(ZONE, (q) => {
      if (q.type !== 'SOA' && !stalled) {
        stalled = true;
        return { kind: 'silent' };
      }
      return q.type === 'SOA'
        ? { kind: 'answer', answers: [soaRecord(ZONE)] }
        : { kind: 'answer', rcode: 3 };
    });
  });
  afterAll(() => flaky.close());

  it('the probe sent when the circuit opens closes it again', async () => {
    const runtime = runtimeFor(
      `[{ name: flaky, address: 127.0.0.1, port: ${flaky.port} }]`,
      '{ initialTimeoutMs: 100, failureThreshold: 1 }',
    );
    const zone = runtime.zones.get(ZONE)!;
    const u = runtime.upstreams[0];
    // The busy-wait of the tests above stays in the loop-lag window for about a second, and
    // a timeout during a recent stall is (rightly) not counted: start from a quiet loop.
    await until('the event loop lag drops below 50 ms', () => recentLoopLagMs() < 50);
    const r = await fanout(zone, `a.${ZONE}`, QTYPE.A, { allPolicyWaitMs: 300 });
    expect(r.exchanges[0]?.outcome.reason).toBe('timeout after 100 ms');
    expect(u.health.stats.circuitOpens).toBe(1);
    await until('the circuit closes again', () => u.healthy);
    expect(u.health.stats.probes).toBe(1);
    expect(flaky.queries.some((q) => q.type === 'SOA')).toBe(true);
  });
});

/**
 * Poll `condition` until it holds; fail loudly, naming `what`, if it never does. A wait that
 * silently gave up would let the test go on from the wrong state.
 */
async function until(what: string, condition: () => boolean, polls = 500): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (condition()) return;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`not reached after ${polls} polls: ${what}`);
}
