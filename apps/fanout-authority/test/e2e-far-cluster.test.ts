import { rcodeName } from '@mdns/protocol';
import {
  type DelayProxyThread,
  startDelayProxyThread,
  WORKER_COUNTS,
  yamlWithWorkers,
} from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  configYaml,
  decodeAnswer,
  startAuthority,
  untilReady,
} from './support/authority.js';
import { type Knot, startKnot } from './support/knot.js';

// docs/behaviour.md: "a healthy cluster in another site never causes SERVFAIL". Two
// clusters, each a real Knot server for the same zone: `near` on loopback, `far` behind a
// user-space delay proxy (@mdns/testkit, on a thread of its own so that this process's
// load generation never holds a packet longer than asked) with a fixed or jittered round
// trip. For every
// policy, names of the far cluster, names of the near one and absent names are asked with
// a bounded concurrency; every name is unique (a wildcard answers it), so each query is a
// fan-out, never a cache hit. Asserted: every answer is the right one, none is SERVFAIL.
const ZONE = 'prod.test';
const PER_KIND = 100;
const CONCURRENCY = 10;

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

let near: Knot;
let far: Knot;
beforeAll(async () => {
  near = await startKnot(ZONE, ['*.near A 10.1.0.1']);
  far = await startKnot(ZONE, ['*.far A 10.2.0.1']);
  cleanups.push(
    () => near.stop(),
    () => far.stop(),
  );
});

async function farProxy(rttMs: number, jitter = 0): Promise<DelayProxyThread> {
  const proxy = await startDelayProxyThread({
    targetHost: '127.0.0.1',
    targetPort: far.port,
    rttMs,
    jitter,
  });
  cleanups.push(() => proxy.close());
  return proxy;
}

async function authority(policy: 'first' | 'all' | 'priority', farPort: number, workers: number) {
  const auth = await startAuthority(
    yamlWithWorkers(
      configYaml([
        {
          name: ZONE,
          policy,
          // `priority` prefers the far cluster: near names must wait for its NXDOMAIN.
          upstreams: [
            { name: 'near', port: near.port, priority: 1 },
            { name: 'far', port: farPort, priority: 0 },
          ],
        },
      ]),
      workers,
    ),
  );
  cleanups.push(() => auth.stop());
  return auth;
}

async function upstreamFailures(auth: Authority): Promise<string> {
  const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => /^mdns_authority_upstream_(failures|late_replies|circuit_opens)/.test(l))
    .join('\n');
}

type Kind = 'far' | 'near' | 'absent';
const EXPECTED: Record<Kind, string> = {
  far: 'NOERROR 10.2.0.1',
  near: 'NOERROR 10.1.0.1',
  absent: 'NXDOMAIN',
};

async function ask(auth: Authority, name: string): Promise<string> {
  const r = await dnsQuery({
    host: '127.0.0.1',
    port: auth.ports.dns,
    name,
    type: 'A',
    rd: false,
    timeoutMs: 5000,
  });
  const a = decodeAnswer(r.bytes, 0);
  return [rcodeName(a.rcode), ...a.answers.map((x) => String(x.data))].join(' ');
}

/** `PER_KIND` unique names of each kind, interleaved, `CONCURRENCY` in flight; tally per kind. */
async function load(auth: Authority, tag: string): Promise<Record<Kind, Record<string, number>>> {
  const work: Array<[Kind, string]> = [];
  for (let i = 0; i < PER_KIND; i++) {
    work.push(['far', `${tag}-${i}.far.${ZONE}`]);
    work.push(['near', `${tag}-${i}.near.${ZONE}`]);
    work.push(['absent', `${tag}-${i}.none.${ZONE}`]);
  }
  const tally: Record<Kind, Record<string, number>> = { far: {}, near: {}, absent: {} };
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const [kind, name] = work[next++];
      const got = await ask(auth, name).catch((e) => `no answer: ${(e as Error).message}`);
      tally[kind][got] = (tally[kind][got] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return tally;
}

// [link, listen.workers, RTT, jitter]. Every link with one worker; the jittered one again
// with two (issue #21): each worker learns the far cluster's RTT from its own samples, and
// either may take any query, so no worker may fail the far cluster the other knows is fine.
const LINKS: Array<[string, number, number, number]> = [
  ['50 ms', 1, 50, 0],
  ['150 ms', 1, 150, 0],
  ['300 ms', 1, 300, 0],
  ['150 ms ±20 %', 1, 150, 0.2],
  ['150 ms ±20 %', 2, 150, 0.2],
];

describe.each(LINKS)(
  'far cluster %s away, listen.workers: %i: every answer right, no SERVFAIL',
  (label, workers, rtt, jitter) => {
    let proxy: DelayProxyThread;
    beforeAll(async () => {
      proxy = await farProxy(rtt, jitter);
    });
    it.each(['first', 'all', 'priority'] as const)('policy %s', async (policy) => {
      const auth = await authority(policy, proxy.port, workers);
      await untilReady(auth);
      const tally = await load(auth, `${policy}-${workers}-${label.replace(/\W+/g, '')}`);
      const want = { far: {}, near: {}, absent: {} } as Record<Kind, Record<string, number>>;
      for (const kind of ['far', 'near', 'absent'] as const) want[kind][EXPECTED[kind]] = PER_KIND;
      // On a mismatch, the upstreams' failure counters say which cluster timed out.
      const why =
        JSON.stringify(tally) === JSON.stringify(want) ? '' : await upstreamFailures(auth);
      expect({ tally, why }).toEqual({ tally: want, why: '' });
      await auth.stop();
    });
  },
);

describe.each(WORKER_COUNTS)('start-up against a far cluster, listen.workers: %i', (workers) => {
  it('the first queries, sent before the start-up probe answered, get the right answers', async () => {
    // 300 ms is beyond the 200 ms initial timeout: they wait as long as the probe does (with
    // two workers, each its own probe).
    const proxy = await farProxy(300);
    const auth = await authority('first', proxy.port, workers);
    const first = await Promise.all([
      ask(auth, `early-1.far.${ZONE}`),
      ask(auth, `early-2.none.${ZONE}`),
      ask(auth, `early-3.near.${ZONE}`),
    ]);
    expect(first).toEqual([EXPECTED.far, EXPECTED.absent, EXPECTED.near]);
    await untilReady(auth);
  });
});
