import { createRegistry, parseConfigText } from '@mdns/ops';
import { decode, encode } from '@mdns/protocol';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnswerCache, SingleFlight } from '../src/cache/index.js';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { createHandler } from '../src/dns/handler.js';
import type { FanoutResult } from '../src/fanout/fanout.js';
import { registerAuthorityMetrics } from '../src/metrics.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// docs/behaviour.md: an NXDOMAIN decided while a cluster was skipped or failed (known
// unhealthy) is partial: the name may live on the cluster we could not ask. It is answered
// but never cached, and a stale positive for the name beats it.
const ZONE = 'prod.test';

describe('a partial NXDOMAIN (one cluster known unhealthy)', () => {
  let holder: FakeUpstream;
  let other: FakeUpstream;
  let runtime: Runtime;
  let cache: AnswerCache;
  let handler: ReturnType<typeof createHandler>;

  beforeAll(async () => {
    holder = await startFakeUpstream(ZONE, (q) =>
      q.name === `svc.${ZONE}`
        ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
        : { kind: 'answer', rcode: 3 },
    );
    other = await startFakeUpstream(ZONE, () => ({ kind: 'answer', rcode: 3 }));
    const r = parseConfigText(
      [
        'zones:',
        `  - name: ${ZONE}`,
        '    upstreams:',
        `      - { name: holder, address: 127.0.0.1, port: ${holder.port} }`,
        `      - { name: other, address: 127.0.0.1, port: ${other.port} }`,
        // One failure opens the circuit; no probe closes it again during the test.
        'upstream: { initialTimeoutMs: 200, failureThreshold: 1, probeIntervalMs: 600000 }',
        '',
      ].join('\n'),
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    runtime = buildRuntime(r.config, 1, client);
    cache = new AnswerCache(r.config.cache);
    handler = createHandler({
      runtime: () => runtime,
      cache: () => cache,
      flights: new SingleFlight<FanoutResult>(),
      metrics: registerAuthorityMetrics(
        createRegistry({ defaultMetrics: false }),
        () => runtime,
        () => cache,
      ),
      logger: { warn() {}, debug() {} },
    });
  });
  afterAll(async () => {
    await holder.close();
    await other.close();
  });

  async function ask(name: string): Promise<{ rcode: number; data: string[] }> {
    const query = encode({
      id: 7,
      type: 'query',
      flags: 0,
      questions: [{ name, type: 'A', class: 'IN' }],
    } as never);
    const reply = await handler(query, { address: '127.0.0.1', port: 1, transport: 'udp' });
    const d = decode(reply!);
    if (!d.ok) throw new Error(d.error);
    return {
      rcode: d.message.flags! & 0xf,
      data: (d.message.answers ?? []).map((r) => String((r as { data: unknown }).data)),
    };
  }
  const asked = (up: FakeUpstream, name: string) =>
    up.queries.filter((q) => q.name === name).length;

  it('is answered, not cached; a stale positive beats it', async () => {
    // Both clusters healthy: the positive is cached.
    expect(await ask(`svc.${ZONE}`)).toEqual({ rcode: 0, data: ['10.0.0.1'] });

    // The holder goes silent: its first timeout opens its circuit (threshold 1), so that
    // query already decides with the holder known unhealthy: NXDOMAIN, partial.
    holder.setScript(() => ({ kind: 'silent' }));
    expect((await ask(`gone.${ZONE}`)).rcode).toBe(3);
    expect(runtime.upstreams[0].healthy).toBe(false);

    // Partial: answered, but not cached, so the next query asks the healthy cluster again.
    expect((await ask(`gone2.${ZONE}`)).rcode).toBe(3);
    const before = asked(other, `gone2.${ZONE}`);
    expect(before).toBeGreaterThan(0);
    expect((await ask(`gone2.${ZONE}`)).rcode).toBe(3);
    expect(asked(other, `gone2.${ZONE}`)).toBe(before + 1);

    // The cached positive goes stale (a NOTIFY from the holder); the fan-out now ends in a
    // partial NXDOMAIN, and the stale positive is served instead.
    cache.expireUpstream('holder');
    const otherBefore = asked(other, `svc.${ZONE}`);
    expect(await ask(`svc.${ZONE}`)).toEqual({ rcode: 0, data: ['10.0.0.1'] });
    expect(asked(other, `svc.${ZONE}`)).toBe(otherBefore + 1); // it did fan out
  });
});
