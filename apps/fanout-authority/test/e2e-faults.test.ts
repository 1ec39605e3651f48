import net from 'node:net';
import { WORKER_COUNTS, yamlWithWorkers } from '@mdns/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  configYaml,
  startAuthority,
  untilReady,
  upstreamFailures,
  upstreamTimeouts,
} from './support/authority.js';
import {
  a,
  type Behaviour,
  type FakeUpstream,
  startFakeUpstream,
} from './support/fake-upstream.js';

// The fault table of the fanout-authority: one good cluster plus one misbehaving one. For
// every row: the good cluster's positive answer is not held up by the bad one (cause and
// effect, not a clock: the answer is back before the authority gave up on the bad cluster's
// reply, so that wait never ended in a timeout), and a name nobody has follows the spec's
// NXDOMAIN rule: SERVFAIL while the failing cluster may still hold it, NXDOMAIN once its
// circuit is open (known unhealthy). The table runs with listen.workers 1 and 2 (issue #21):
// with two, the failures that open the circuit land on either worker, and the circuit one
// worker opens is applied by the other (docs/behaviour.md, "Several workers answer as one
// server"), so the row reads the same.
const ZONE = 'prod.test';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function good(): Promise<FakeUpstream> {
  const up = await startFakeUpstream(ZONE, (q) =>
    q.name === `svc.${ZONE}` && q.type === 'A'
      ? { kind: 'answer', answers: [a(`svc.${ZONE}`, '10.0.0.1')] }
      : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
  );
  cleanups.push(() => up.close());
  return up;
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/** The authority in front of a good cluster and a bad one (`badFirst`: listed, so asked, first). */
async function authorityWith(
  workers: number,
  badPort: number,
  extra = '',
  badFirst = false,
): Promise<Authority> {
  const g = await good();
  const upstreams = [
    { name: 'good', port: g.port },
    { name: 'bad', port: badPort },
  ];
  const auth = await startAuthority(
    yamlWithWorkers(
      configYaml(
        [
          {
            name: ZONE,
            upstreams: badFirst ? upstreams.reverse() : upstreams,
          },
        ],
        extra,
      ),
      workers,
    ),
  );
  cleanups.push(() => auth.stop());
  return auth;
}

async function badUpstream(b: Behaviour): Promise<number> {
  const up = await startFakeUpstream(ZONE, () => b);
  cleanups.push(() => up.close());
  return up.port;
}

async function expectFaultRow(auth: Authority): Promise<void> {
  // From the moment every start-up probe is settled: the bad cluster's probe (a failure on
  // record) cannot time out during the count below. With two workers the first one listens
  // well before the process reports serving, so its probe would otherwise end mid-row.
  await untilReady(auth);
  const timeoutsBefore = await upstreamTimeouts(auth, 'bad');
  const pos = await auth.query(`svc.${ZONE}`, 'A');
  expect(pos.rcode).toBe(0);
  expect(pos.aa).toBe(true);
  expect(pos.answers.map((r) => r.data)).toEqual(['10.0.0.1']);
  // Not held up: had the answer waited for the bad cluster (silent, slow, wrong ID/question)
  // that wait would have ended in a timeout before the reply; the positive cancelled it.
  expect(await upstreamTimeouts(auth, 'bad')).toBe(timeoutsBefore);

  // Each query for a missing name costs the bad cluster one failure; the circuit opens on
  // the 3rd (the start-up probe may be one of them). Bounded loop.
  const seen: number[] = [];
  for (let i = 0; i < 6 && seen.at(-1) !== 3; i++) {
    // Answered at all within the client's own timeout (a protocol timeout, 8 s).
    const r = await auth.query(`missing${i}.${ZONE}`, 'A');
    seen.push(r.rcode);
  }
  expect(seen[0]).toBe(2); // SERVFAIL: the failed cluster might hold the name
  expect(seen.at(-1)).toBe(3); // NXDOMAIN once it is known unhealthy
  expect(seen.every((rc) => rc === 2 || rc === 3)).toBe(true);

  // With the bad cluster skipped, the positive answer is still there and quick.
  const again = await auth.query(`svc.${ZONE}`, 'A');
  expect(again.answers.map((r) => r.data)).toEqual(['10.0.0.1']);
}

describe.each(WORKER_COUNTS)('listen.workers: %i', (workers) => {
  describe('fault table: one good cluster, one bad', () => {
    it('upstream port closed', async () => {
      await expectFaultRow(await authorityWith(workers, await closedPort()));
    });
    it('blackholed upstream (a UDP socket that never answers)', async () => {
      await expectFaultRow(await authorityWith(workers, await badUpstream({ kind: 'silent' })));
    });
    it('slow upstream (answers after 3 s)', async () => {
      await expectFaultRow(
        await authorityWith(
          workers,
          await badUpstream({ kind: 'answer', rcode: 3, delayMs: 3000 }),
        ),
      );
    });
    it('SERVFAIL', async () => {
      await expectFaultRow(
        await authorityWith(workers, await badUpstream({ kind: 'answer', rcode: 2 })),
      );
    });
    it('REFUSED', async () => {
      await expectFaultRow(
        await authorityWith(workers, await badUpstream({ kind: 'answer', rcode: 5 })),
      );
    });
    it('garbage bytes', async () => {
      await expectFaultRow(await authorityWith(workers, await badUpstream({ kind: 'garbage' })));
    });
    it('reply with a wrong ID (dropped, the wait goes on)', async () => {
      await expectFaultRow(await authorityWith(workers, await badUpstream({ kind: 'wrong-id' })));
    });
    it('reply with a wrong question (dropped, the wait goes on)', async () => {
      await expectFaultRow(
        await authorityWith(workers, await badUpstream({ kind: 'wrong-question' })),
      );
    });
  });

  // On Bun (the image's runtime) a socket hears ICMP errors, and Linux fails the NEXT send on
  // it with one: the query to a closed port went out, the good cluster's query sent after it
  // on the same socket did not, and the positive answer became SERVFAIL. One socket and no
  // cache make every miss ask the closed port, then the good cluster, on that socket.
  it("a closed port asked first never fails the good cluster's query sent after it", async () => {
    const auth = await authorityWith(
      workers,
      await closedPort(),
      'cache: { enabled: false }\nupstream: { sockets: 1 }\n',
      true,
    );
    await untilReady(auth);
    const goodFailures = await upstreamFailures(auth, 'good');
    const rcodes: number[] = [];
    // Bounded: 20 misses, one after the other.
    for (let i = 0; i < 20; i++) rcodes.push((await auth.query(`svc.${ZONE}`, 'A')).rcode);
    expect(rcodes).toEqual(Array.from({ length: 20 }, () => 0));
    expect(await upstreamFailures(auth, 'good')).toBe(goodFailures);
  });

  describe('fault table: TC=1 over UDP, full answer over TCP', () => {
    it('retries over TCP and answers with the full RRset', async () => {
      const many = Array.from({ length: 5 }, (_, i) => a(`big.${ZONE}`, `10.1.0.${i + 1}`));
      const tc = await startFakeUpstream(ZONE, (q) =>
        q.name === `big.${ZONE}`
          ? { kind: 'truncate', answers: many }
          : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
      );
      cleanups.push(() => tc.close());
      const auth = await authorityWith(workers, tc.port);
      const r = await auth.query(`big.${ZONE}`, 'A');
      expect(r.rcode).toBe(0);
      expect(r.answers).toHaveLength(5);
      expect(tc.queries.some((q) => q.name === `big.${ZONE}` && q.transport === 'tcp')).toBe(true);
      // The other names are unaffected: both clusters answer, NXDOMAIN.
      expect((await auth.query(`nothing.${ZONE}`, 'A')).rcode).toBe(3);
    });
  });
});
