import { createRegistry, parseConfigText } from '@mdns/ops';
import { decode, encode } from '@mdns/protocol';
import { DnsClient, LaterReply } from '@mdns/transport';
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

const ZONE = 'prod.test';
const peer = { address: '127.0.0.1', port: 1, transport: 'udp' as const };

function query(name: string, type: string, id: number): Uint8Array {
  return encode({ id, type: 'query', flags: 0, questions: [{ name, type, class: 'IN' }] } as never);
}

// Spec (performance): a cache hit and a local answer are answered synchronously — the
// handler returns the reply bytes, not a promise.
describe('the handler answers hits and local answers synchronously', () => {
  let up: FakeUpstream;
  let runtime: Runtime;
  let handler: ReturnType<typeof createHandler>;
  beforeAll(async () => {
    up = await startFakeUpstream(ZONE, (q) => ({
      kind: 'answer',
      answers: [a(q.name, '10.0.0.1', 300)],
    }));
    const r = parseConfigText(
      `zones:\n  - name: ${ZONE}\n    upstreams: [{ name: x, address: 127.0.0.1, port: ${up.port} }]\n`,
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    runtime = buildRuntime(r.config, 1, client);
    const cache = new AnswerCache(r.config.cache);
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
  afterAll(() => up.close());

  it('a miss is a reply given later (a thenable, no Promise); the same question again is bytes, with the new ID', async () => {
    const miss = handler(query(`svc.${ZONE}`, 'A', 1), peer);
    expect(miss).toBeInstanceOf(LaterReply);
    await miss;
    const hit = handler(query(`SVC.${ZONE}`, 'A', 2), peer);
    expect(hit).toBeInstanceOf(Uint8Array);
    const d = decode(hit as Uint8Array);
    expect(d.ok && d.message.id).toBe(2);
    expect(d.ok && d.message.questions?.[0].name).toBe(`SVC.${ZONE}`);
    expect(d.ok && d.message.answers?.map((r) => (r as { data: string }).data)).toEqual([
      '10.0.0.1',
    ]);
    expect(up.queries.filter((q) => q.name === `svc.${ZONE}`)).toHaveLength(1);
  });

  it('the apex SOA and an out-of-zone REFUSED are bytes too', () => {
    const soa = handler(query(ZONE, 'SOA', 3), peer);
    expect(soa).toBeInstanceOf(Uint8Array);
    const refused = handler(query('elsewhere.test', 'A', 4), peer);
    expect(refused).toBeInstanceOf(Uint8Array);
    expect((refused as Uint8Array)[3] & 0x0f).toBe(5);
  });
});
