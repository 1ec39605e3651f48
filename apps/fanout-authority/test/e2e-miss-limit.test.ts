import { encode } from '@mdns/protocol';
import { udpExchange } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Answer,
  type Authority,
  configYaml,
  decodeAnswer,
  startAuthority,
} from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// A cache miss costs a fan-out to every upstream; one source must not be able to spend that
// for everyone (a random-name flood is all misses). Per-source token bucket on misses only.
const ZONE = 'prod.test';

/** One UDP query from `source` (a loopback address); the decoded reply. */
async function queryFrom(port: number, name: string, source: string): Promise<Answer> {
  const packet = encode({
    id: 7,
    type: 'query',
    flags: 0,
    questions: [{ name, type: 'A', class: 'IN' }],
  } as never);
  const m = await udpExchange(port, packet, { source, timeoutMs: 5000 });
  if (m === null) throw new Error(`no reply to ${name} from ${source}`);
  return { ...decodeAnswer(m, 0), tc: (m[2] & 0x02) !== 0 } as Answer;
}

describe('per-source rate limit of cache misses', () => {
  let up: FakeUpstream;
  let auth: Authority;
  beforeAll(async () => {
    up = await startFakeUpstream(ZONE, (q) =>
      q.name === `svc.${ZONE}`
        ? { kind: 'answer', answers: [a(q.name, '10.0.0.1', 3600)] }
        : { kind: 'answer', rcode: 3 },
    );
    auth = await startAuthority(
      configYaml(
        [{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }],
        // 0.01/s: no token comes back during the test, so the counts below are exact.
        'rateLimit: { missesPerSecond: 0.01, burst: 5 }\n',
      ),
    );
  });
  afterAll(async () => {
    await auth?.stop();
    await up?.close();
  });

  it('a source over its limit gets TC=1 without a fan-out; hits and other sources are untouched', async () => {
    const port = auth.ports.dns;
    // Miss 1 of 5: svc is fetched and cached.
    expect((await queryFrom(port, `svc.${ZONE}`, '127.0.0.1')).answers[0]?.data).toBe('10.0.0.1');
    const fanouts = () => up.queries.filter((q) => q.name.startsWith('r')).length;
    const replies: Array<Answer & { tc?: boolean }> = [];
    for (let i = 0; i < 20; i++) replies.push(await queryFrom(port, `r${i}.${ZONE}`, '127.0.0.1'));
    // Misses 2-5 fanned out (NXDOMAIN); the 16 after them got an empty TC=1 and no fan-out.
    expect(replies.slice(0, 4).map((r) => r.rcode)).toEqual([3, 3, 3, 3]);
    expect(replies.slice(4).every((r) => r.tc && r.rcode === 0 && r.answers.length === 0)).toBe(
      true,
    );
    expect(fanouts()).toBe(4);

    // A cache hit is never limited, even for the source over its limit.
    for (let i = 0; i < 10; i++) {
      const hit = await queryFrom(port, `svc.${ZONE}`, '127.0.0.1');
      expect(hit.answers[0]?.data).toBe('10.0.0.1');
    }
    // Another client is not affected by the first one's flood.
    expect((await queryFrom(port, `other.${ZONE}`, '127.0.0.2')).rcode).toBe(3);
    // The limited client's retry over TCP has a bucket of its own (spoofed UDP cannot drain it).
    expect((await auth.query(`r10.${ZONE}`, 'A', { tcp: true })).rcode).toBe(3);

    const metrics = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
    expect(metrics).toMatch(/mdns_authority_ratelimited_total\{action="truncated"\} 16/);
  });

  it('TCP over the limit is REFUSED', async () => {
    const rcodes: number[] = [];
    for (let i = 0; i < 6; i++)
      rcodes.push((await auth.query(`t${i}.${ZONE}`, 'A', { tcp: true })).rcode);
    // r10 above took the first TCP token; 4 more fan out, then REFUSED.
    expect(rcodes).toEqual([3, 3, 3, 3, 5, 5]);
  });
});
