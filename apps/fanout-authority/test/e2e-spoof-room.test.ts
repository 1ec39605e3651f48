import { type DnsRecord, decode, encode } from '@mdns/protocol';
import { startDnsPeer } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';

// Spoofed upstream replies have less room (issue 18): the question name goes out in random
// case and must come back byte for byte (0x20); a CNAME chain stops at the zone boundary (no
// out-of-zone records served with AA=1); served TTLs are capped at cache.maxTtl.
const ZONE = 'prod.test';
const WEEK = 604_800;
const MAX_TTL = 300;

/** A scripted upstream: records the question name bytes it got; echoes them as sent, or lowercased. */
async function rawUpstream(options: { lowercaseEcho: boolean }) {
  const asked: string[] = [];
  const peer = await startDnsPeer(({ bytes: msg, send }) => {
    const d = decode(msg);
    if (!d.ok || !d.message.questions?.length) return;
    const q = d.message.questions[0];
    asked.push(q.name);
    const name = q.name.toLowerCase();
    let answers: DnsRecord[] = [];
    if (name === `svc.${ZONE}`)
      answers = [{ name: q.name, type: 'A', ttl: WEEK, data: '10.0.0.1' }];
    if (name === `out.${ZONE}`) {
      answers = [
        { name: q.name, type: 'CNAME', ttl: 60, data: 'lb.cloud.example' },
        { name: 'lb.cloud.example', type: 'A', ttl: 60, data: '198.51.100.66' },
      ];
    }
    const reply = encode({
      id: d.message.id,
      type: 'response',
      flags: 0x0400 | (answers.length === 0 && name !== ZONE ? 3 : 0),
      questions: [{ ...q, name: options.lowercaseEcho ? name : q.name }],
      answers,
    } as never);
    send(reply);
  });
  return { port: peer.port, asked, close: () => peer.close() };
}

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function authorityFor(port: number, extra = ''): Promise<Authority> {
  const auth = await startAuthority(
    configYaml(
      [{ name: ZONE, upstreams: [{ name: 'gw', port }] }],
      `cache: { maxTtl: ${MAX_TTL} }\n${extra}`,
    ),
  );
  cleanups.push(() => auth.stop());
  return auth;
}

describe('an upstream that echoes the question bytes', () => {
  let up: Awaited<ReturnType<typeof rawUpstream>>;
  let auth: Authority;
  beforeAll(async () => {
    up = await rawUpstream({ lowercaseEcho: false });
    cleanups.push(() => up.close());
    auth = await authorityFor(up.port);
  });

  it('is asked in random case (0x20)', async () => {
    for (let i = 0; i < 8; i++) await auth.query(`n${i}.${ZONE}`, 'A');
    const names = up.asked.filter((n) => n.toLowerCase().startsWith('n'));
    expect(names.map((n) => n.toLowerCase())).toEqual(
      Array.from({ length: 8 }, (_, i) => `n${i}.${ZONE}`),
    );
    // Eight names of 10 letters each all in lowercase by chance: 2^-80.
    expect(names.some((n) => n !== n.toLowerCase())).toBe(true);
  });

  it('serves TTLs capped at cache.maxTtl, the first answer included', async () => {
    const r = await auth.query(`svc.${ZONE}`, 'A');
    expect(r.answers.map((a) => [a.data, a.ttl])).toEqual([['10.0.0.1', MAX_TTL]]);
    const again = await auth.query(`svc.${ZONE}`, 'A');
    expect(again.answers[0].ttl).toBeLessThanOrEqual(MAX_TTL);
  });

  it('stops a CNAME chain at the zone boundary: no out-of-zone record with AA=1', async () => {
    const r = await auth.query(`out.${ZONE}`, 'A');
    expect(r.aa).toBe(true);
    expect(r.answers.map((a) => `${a.name} ${a.type} ${a.data}`)).toEqual([
      `out.${ZONE} CNAME lb.cloud.example`,
    ]);
  });
});

describe('an upstream that lowercases the question in its reply', () => {
  it('its replies are not ours with randomCase (SERVFAIL), and are with randomCase: false', async () => {
    const up = await rawUpstream({ lowercaseEcho: true });
    cleanups.push(() => up.close());
    const strict = await authorityFor(up.port);
    expect((await strict.query(`svc.${ZONE}`, 'A', { timeoutMs: 3000 })).rcode).toBe(2);
    const lenient = await authorityFor(up.port, 'upstream: { randomCase: false }');
    const r = await lenient.query(`svc.${ZONE}`, 'A', { timeoutMs: 3000 });
    expect(r.answers.map((a) => a.data)).toEqual(['10.0.0.1']);
  });
});
