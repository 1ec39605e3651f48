import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { WORKER_COUNTS, yamlWithWorkers } from '@mdns/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  burst,
  configYaml,
  sendNotify,
  startAuthority,
  summary,
} from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// Found by reliability/ fuzzing: NOTIFY is accepted by source address, so packets from (or
// spoofed as) a gateway's address each *deleted* that gateway's cache entries. A flood of them
// kept the cache empty, and when the gateway then failed every answer was SERVFAIL where
// serve-stale would have answered. A NOTIFY must make entries be asked again, not vanish.
const ZONE = 'prod.test';
const run = promisify(execFile);

// Both suites run with listen.workers 1 and 2 (issue #21): a NOTIFY one worker takes is
// applied by every worker, and a worker without the entry serves its sibling's stale one.
describe.each(WORKER_COUNTS)('listen.workers: %i', (workers) => {
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
        yamlWithWorkers(
          configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }]),
          workers,
        ),
      );
      expect((await auth.query(`svc.${ZONE}`, 'A')).answers[0]?.data).toBe('10.0.0.1');

      for (let i = 0; i < 50; i++) await sendNotify(auth.ports.dns, ZONE);
      healthy = false;
      // Served stale, not SERVFAIL, by every worker (the one that never fetched it: its sibling's).
      const after = (await burst(auth, `svc.${ZONE}`)).map(summary);
      expect(after).toEqual(after.map(() => '10.0.0.1'));
      // And the NOTIFY still did its job: the entry was asked for again.
      expect(up.queries.filter((q) => q.name === `svc.${ZONE}`).length).toBeGreaterThanOrEqual(2);
    });
  });

  // A NOTIFY costs every client a fan-out for the names of that upstream, so NOTIFYs are
  // coalesced: one invalidation per upstream per `cache.notifyIntervalMs`, the rest folded into
  // one trailing invalidation (none lost).
  describe('NOTIFY rate limit per upstream', () => {
    let up: FakeUpstream;
    let auth: Authority;
    afterAll(async () => {
      await auth?.stop();
      await up?.close();
    });

    it('200 NOTIFYs between 200 queries cost two fan-outs, and the last change is still seen', async () => {
      let address = '10.0.0.1';
      up = await startFakeUpstream(ZONE, (q) =>
        q.name === `svc.${ZONE}`
          ? { kind: 'answer', answers: [a(q.name, address, 3600)] }
          : { kind: 'answer', rcode: 3 },
      );
      auth = await startAuthority(
        yamlWithWorkers(
          configYaml(
            [{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }],
            'cache: { notifyIntervalMs: 3000 }\n',
          ),
          workers,
        ),
      );
      expect((await auth.query(`svc.${ZONE}`, 'A')).answers[0]?.data).toBe('10.0.0.1');
      const asked = () => up.queries.filter((q) => q.name === `svc.${ZONE}`).length;
      expect(asked()).toBe(1);
      for (let i = 0; i < 200; i++) {
        await sendNotify(auth.ports.dns, ZONE);
        expect((await auth.query(`svc.${ZONE}`, 'A')).answers[0]?.data).toBe('10.0.0.1');
      }
      // The first NOTIFY expired the entry (one fan-out); the other 199 are one pending
      // trailing invalidation. Without the limit: a fan-out per query, ~200. Each worker has
      // its own cache, so with two each may pay its own first fetch and these two.
      expect(asked()).toBeLessThanOrEqual(3 * workers);

      // A change announced during the flood is picked up by the trailing invalidation.
      address = '10.0.0.2';
      await sendNotify(auth.ports.dns, ZONE);
      // Until every worker answers it (a burst reaches both), bounded.
      let seen: string[] = [];
      for (let i = 0; i < 100; i++) {
        seen = (await burst(auth, `svc.${ZONE}`)).map(summary);
        if (seen.every((x) => x === '10.0.0.2')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(seen).toEqual(seen.map(() => '10.0.0.2'));
    });

    it('NOTIFY over TCP (dig +tcp +opcode=notify) is acknowledged like over UDP', async () => {
      const { stdout } = await run('dig', [
        '+tcp',
        '+opcode=notify',
        '+norec',
        '-b',
        '127.0.0.1',
        '-p',
        String(auth.ports.dns),
        '@127.0.0.1',
        ZONE,
        'SOA',
      ]);
      expect(stdout).toMatch(/opcode: NOTIFY, status: NOERROR/);
      expect(stdout).toMatch(/flags: qr aa/);
      // ...and REFUSED from an address that is no upstream's.
      const stranger = await run('dig', [
        '+tcp',
        '+opcode=notify',
        '+norec',
        '-b',
        '127.0.0.2',
        '-p',
        String(auth.ports.dns),
        '@127.0.0.1',
        ZONE,
        'SOA',
      ]);
      expect(stranger.stdout).toMatch(/opcode: NOTIFY, status: REFUSED/);
    });
  });
});
