import { createRegistry, parseConfigText, type Siblings } from '@mdns/ops';
import { decode, encode } from '@mdns/protocol';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerCache, SingleFlight } from '../src/cache/index.js';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { createHandler } from '../src/dns/handler.js';
import type { FanoutResult } from '../src/fanout/fanout.js';
import { registerAuthorityMetrics } from '../src/metrics.js';
import { k, positive, T0, cache as testCache } from './cache-fixtures.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// docs/behaviour.md, "Several workers answer as one server": a worker whose fan-out failed
// and that holds no entry serves the one a sibling worker holds (RFC 8767), fresh with its
// own TTLs, stale with the stale TTL. Two handlers in one process stand for two workers; the
// real processes are in e2e-workers-faults.test.ts.

const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());
const ZONE = 'prod.test';

/** One worker's end of an in-memory sibling channel. */
interface End {
  other: End | null;
  answerers: Map<string, (p: unknown) => unknown>;
  listeners: Map<string, Array<(p: unknown) => void>>;
  siblings: Siblings;
}

/** Two workers' `Siblings`, wired to each other in memory (the primary's relay is @mdns/ops'). */
function siblingPair(): [Siblings, Siblings] {
  const make = (): End => {
    const self: End = {
      other: null,
      answerers: new Map(),
      listeners: new Map(),
      siblings: {
        tell: (topic, payload) =>
          setImmediate(() => {
            for (const l of self.other?.listeners.get(topic) ?? []) l(payload);
          }),
        on: (topic, l) => self.listeners.set(topic, [...(self.listeners.get(topic) ?? []), l]),
        ask: (topic, payload) =>
          new Promise((resolve) =>
            setImmediate(() => resolve(self.other?.answerers.get(topic)?.(payload) ?? null)),
          ),
        answer: (topic, f) => self.answerers.set(topic, f),
      },
    };
    return self;
  };
  const one = make();
  const two = make();
  one.other = two;
  two.other = one;
  return [one.siblings, two.siblings];
}

interface Worker {
  runtime: Runtime;
  cache: AnswerCache;
  handler: ReturnType<typeof createHandler>;
  metrics: ReturnType<typeof registerAuthorityMetrics>;
}

describe('serve-stale whichever worker answers', () => {
  let holder: FakeUpstream;
  let other: FakeUpstream;
  let workers: Worker[];

  beforeAll(async () => {
    holder = await startFakeUpstream(ZONE, (q) =>
      q.name === `svc.${ZONE}` && q.type === 'A'
        ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
        : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
    );
    other = await startFakeUpstream(ZONE, (q) => ({
      kind: 'answer',
      rcode: q.name === ZONE ? 0 : 3,
    }));
    const r = parseConfigText(
      [
        'zones:',
        `  - name: ${ZONE}`,
        '    upstreams:',
        `      - { name: holder, address: 127.0.0.1, port: ${holder.port} }`,
        `      - { name: other, address: 127.0.0.1, port: ${other.port} }`,
        'upstream: { initialTimeoutMs: 200, failureThreshold: 1, probeIntervalMs: 600000 }',
        '',
      ].join('\n'),
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    const config = r.config;
    workers = siblingPair().map((siblings) => {
      const w = {} as Worker;
      w.runtime = buildRuntime(config, 1, client);
      w.cache = new AnswerCache(config.cache);
      w.metrics = registerAuthorityMetrics(
        createRegistry({ defaultMetrics: false }),
        () => w.runtime,
        () => w.cache,
      );
      w.handler = createHandler({
        runtime: () => w.runtime,
        cache: () => w.cache,
        flights: new SingleFlight<FanoutResult>(),
        metrics: w.metrics,
        logger: { warn() {}, debug() {} },
        siblings,
      });
      return w;
    });
  });
  afterAll(async () => {
    await holder.close();
    await other.close();
  });

  async function ask(w: Worker, name: string) {
    const query = encode({
      id: 4321,
      type: 'query',
      flags: 0,
      questions: [{ name, type: 'A', class: 'IN' }],
    } as never);
    const reply = await w.handler(query, { address: '127.0.0.1', port: 1, transport: 'udp' });
    const d = decode(reply!);
    if (!d.ok) throw new Error(d.error);
    return {
      id: d.message.id,
      rcode: d.message.flags! & 0xf,
      answers: (d.message.answers ?? []).map((x) => {
        const rr = x as { data: unknown; ttl: number };
        return { data: String(rr.data), ttl: rr.ttl };
      }),
    };
  }

  it('a fan-out that fails in one worker is answered from the other worker’s entry', async () => {
    const [one, two] = workers;
    // Worker 1 fetches and caches the name; worker 2 never saw it.
    expect((await ask(one, `svc.${ZONE}`)).answers).toEqual([{ data: '10.0.0.1', ttl: 60 }]);

    // The cluster holding the name goes silent: worker 2's fan-out ends in a partial
    // NXDOMAIN (the holder timed out, its circuit opened). Worker 1's entry is still fresh:
    // served with its own TTL, in reply to worker 2's query (its ID).
    holder.setScript(() => ({ kind: 'silent' }));
    const fresh = await ask(two, `svc.${ZONE}`);
    expect(fresh).toMatchObject({ id: 4321, rcode: 0 });
    expect(fresh.answers.map((x) => x.data)).toEqual(['10.0.0.1']);
    expect(fresh.answers[0].ttl).toBeGreaterThan(30);
    expect(two.metrics.answers.stale).toBe(1);
    expect(two.metrics.siblingStale).toEqual({ served: 1, none: 0 });
    expect(two.runtime.upstreams[0].healthy).toBe(false);

    // Once worker 1's entry is expired (a NOTIFY there), it is served stale: TTL 30.
    one.cache.expireUpstream('holder');
    const stale = await ask(two, `svc.${ZONE}`);
    expect(stale.answers).toEqual([{ data: '10.0.0.1', ttl: 30 }]);
    expect(one.cache.stats.staleServed).toBe(1);
  });

  it('a name no worker holds gets the fan-out’s own answer', async () => {
    const [, two] = workers;
    const none = two.metrics.siblingStale.none;
    expect((await ask(two, `nobody.${ZONE}`)).rcode).toBe(3);
    expect(two.metrics.siblingStale.none).toBe(none + 1);
  });
});

describe('AnswerCache.held: a sibling’s lookup', () => {
  it('gives the entry fresh or stale without counting it or raising prefetch', () => {
    // Popular and near expiry: a client's lookup now would raise the prefetch flag.
    const c = testCache({ prefetch: { minHits: 1, thresholdPercent: 50, enabled: true } });
    c.store(k(c, 'a.x'), positive('a.x', 60), ['u'], T0);
    c.lookup(k(c, 'a.x'), T0);
    const before = { ...c.stats };
    const fresh = c.held(k(c, 'a.x'), T0 + 40_000);
    expect(fresh).toMatchObject({ state: 'fresh', elapsedSeconds: 40, remainingSeconds: 20 });
    expect(fresh?.prefetch).toBe(false);
    expect(fresh?.ttlOverride).toBeUndefined();
    expect(c.stats).toEqual(before);
    // The flag is still there for the next client of this worker.
    expect(c.lookup(k(c, 'a.x'), T0 + 40_000)?.prefetch).toBe(true);
    c.expireUpstream('u');
    expect(c.held(k(c, 'a.x'), T0 + 41_000)).toMatchObject({ state: 'stale', ttlOverride: 30 });
    expect(c.held(k(c, 'b.x'), T0)).toBeNull();
  });
});
