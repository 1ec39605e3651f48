import { afterAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, sendNotify, startAuthority } from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// Found by reliability/ fuzzing: NOTIFY is accepted by source address, so packets from (or
// spoofed as) a gateway's address each *deleted* that gateway's cache entries. A flood of them
// kept the cache empty, and when the gateway then failed every answer was SERVFAIL where
// serve-stale would have answered. A NOTIFY must make entries be asked again, not vanish.
const ZONE = 'prod.test';

describe('a NOTIFY flood from an upstream address', () => {
  let up: FakeUpstream;
  let auth: Authority;
  afterAll(async () => {
    await auth?.stop();
    await up?.close();
  });

  it('does not turn cached answers into SERVFAIL when the upstream then fails', async () => {
    let healthy = true;
    up = await startFakeUpstream(ZONE, (q) =>
      !healthy
        ? { kind: 'answer', rcode: 2 }
        : q.name === `svc.${ZONE}`
          ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
          : { kind: 'answer', rcode: 3 },
    );
    auth = await startAuthority(
      configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }]),
    );
    expect((await auth.query(`svc.${ZONE}`, 'A')).answers[0]?.data).toBe('10.0.0.1');

    for (let i = 0; i < 50; i++) await sendNotify(auth.ports.dns, ZONE);
    healthy = false;
    const after = await auth.query(`svc.${ZONE}`, 'A');
    expect(after.rcode).toBe(0); // served stale, not SERVFAIL
    expect(after.answers[0]?.data).toBe('10.0.0.1');
    // And the NOTIFY still did its job: the entry was asked for again.
    expect(up.queries.filter((q) => q.name === `svc.${ZONE}`).length).toBeGreaterThanOrEqual(2);
  });
});
