import { createRegistry, parseConfigText } from '@mdns/ops';
import { decode, encode } from '@mdns/protocol';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AnswerCache, SingleFlight } from '../src/cache/index.js';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { createHandler } from '../src/dns/handler.js';
import type { FanoutResult } from '../src/fanout/fanout.js';
import { registerAuthorityMetrics } from '../src/metrics.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// Spec: "A failing cache never makes an answer slower." Every cache method throws here; the
// handler must still answer from the upstream, and count the failures.
const ZONE = 'prod.test';

describe('a cache that throws is bypassed', () => {
  let up: FakeUpstream;
  let runtime: Runtime;
  beforeAll(async () => {
    up = await startFakeUpstream(ZONE, (q) =>
      q.name === `svc.${ZONE}`
        ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
        : { kind: 'answer', rcode: 3 },
    );
    const r = parseConfigText(
      `zones:\n  - name: ${ZONE}\n    upstreams: [{ name: x, address: 127.0.0.1, port: ${up.port} }]\n`,
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    runtime = buildRuntime(r.config, 1, client);
  });
  afterAll(() => up.close());

  it('answers from the upstream and counts the cache errors', async () => {
    const boom = () => {
      throw new Error('cache backend died');
    };
    const broken = new Proxy({}, { get: () => boom }) as unknown as AnswerCache;
    const metrics = registerAuthorityMetrics(
      createRegistry({ defaultMetrics: false }),
      () => runtime,
      () => broken,
    );
    const handler = createHandler({
      runtime: () => runtime,
      cache: () => broken,
      flights: new SingleFlight<FanoutResult>(),
      metrics,
      logger: { warn() {}, debug() {} },
    });
    const query = encode({
      id: 7,
      type: 'query',
      flags: 0,
      questions: [{ name: `svc.${ZONE}`, type: 'A', class: 'IN' }],
    } as never);
    const reply = await handler(query, { address: '127.0.0.1', port: 1, transport: 'udp' });
    expect(reply).not.toBeNull();
    const d = decode(reply!);
    expect(d.ok && d.message.answers?.map((r) => (r as { data: string }).data)).toEqual([
      '10.0.0.1',
    ]);
    expect(metrics.cacheErrors).toBeGreaterThan(0);
  });
});
