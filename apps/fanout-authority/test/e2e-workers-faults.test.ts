import { until, WORKER_COUNTS, yamlWithWorkers } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  burst,
  configYaml,
  sendNotify,
  startAuthority,
  summary,
  upstreamTimeouts,
} from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// docs/behaviour.md, "Several workers answer as one server": the authority's fault rows give
// the same answers with listen.workers: 2 as with one worker. Each worker has its own cache
// and upstream health; what one worker learned (a dead cluster, a cached answer) must serve
// a query the other worker takes. The OS hands each query to either worker, so every check
// sends a burst from many source ports (UDP) plus TCP connections (handed out in turn) and
// asserts every answer.
const ZONE = 'prod.test';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function upstream(script: Parameters<typeof startFakeUpstream>[1]): Promise<FakeUpstream> {
  const up = await startFakeUpstream(ZONE, script);
  cleanups.push(() => up.close());
  return up;
}

/** `svc` at 10.0.0.1, every other name NXDOMAIN, the apex SOA for probes. */
const owner = () =>
  upstream((q) =>
    q.name === `svc.${ZONE}` && q.type === 'A'
      ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
      : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
  );
/** Has none of the names: NXDOMAIN, the apex SOA for probes. */
const empty = () => upstream((q) => ({ kind: 'answer', rcode: q.name === ZONE ? 0 : 3 }));

async function authority(workers: number, ups: Array<[string, number]>): Promise<Authority> {
  const auth = await startAuthority(
    yamlWithWorkers(
      configYaml([{ name: ZONE, upstreams: ups.map(([name, port]) => ({ name, port })) }]),
      workers,
    ).replace('readyPort: 0 }', 'readyPort: 0, readyDetail: true }'),
  );
  cleanups.push(() => auth.stop());
  return auth;
}

/** Each worker's view of one upstream's health, from `/ready` (readyDetail). */
async function healthInEveryWorker(auth: Authority, name: string): Promise<boolean[]> {
  const body = (await (await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`)).json()) as {
    detail: {
      upstreams?: Array<{ name: string; healthy: boolean }>;
      workers?: Array<{ detail?: { upstreams: Array<{ name: string; healthy: boolean }> } }>;
    };
  };
  const views = body.detail.workers?.map((w) => w.detail?.upstreams ?? []) ?? [
    body.detail.upstreams ?? [],
  ];
  return views.map((list) => list.find((u) => u.name === name)?.healthy ?? true);
}

async function metric(auth: Authority, series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

/**
 * Missing names one at a time until the dead cluster is known unhealthy (NXDOMAIN; before
 * that SERVFAIL: it might hold the name), bounded; then until every worker knows it.
 */
async function learnDead(auth: Authority, dead: string): Promise<void> {
  const seen: string[] = [];
  for (let i = 0; i < 12 && seen.at(-1) !== 'NXDOMAIN'; i++) {
    seen.push(summary(await auth.query(`learn${i}.${ZONE}`, 'A')));
  }
  expect(seen.at(-1)).toBe('NXDOMAIN');
  expect(seen.every((s) => s === 'SERVFAIL' || s === 'NXDOMAIN')).toBe(true);
  // No query is sent meanwhile: a worker that has not asked the dead cluster itself can
  // only learn it from the worker that did.
  await until(async () => (await healthInEveryWorker(auth, dead)).every((h) => !h), 5000, 20);
}

describe.each(WORKER_COUNTS)(
  'listen.workers: %i — the fault rows answer as one server',
  (workers) => {
    describe('serve-stale with the owning cluster down', () => {
      let auth: Authority;
      let holder: FakeUpstream;
      beforeAll(async () => {
        holder = await owner();
        const other = await empty();
        auth = await authority(workers, [
          ['holder', holder.port],
          ['other', other.port],
        ]);
      });

      it('one query caches the answer; with its cluster gone every query still gets it', async () => {
        const asked = () => holder.queries.filter((q) => q.name === `svc.${ZONE}`).length;
        expect(summary(await auth.query(`svc.${ZONE}`, 'A'))).toBe('10.0.0.1');
        // Exactly one fan-out: one worker holds the entry, the other (if any) has none.
        expect(asked()).toBe(1);
        const hitsBefore = await metric(auth, 'mdns_authority_cache_hits_total');

        holder.setScript(() => ({ kind: 'silent' }));
        const answers = (await burst(auth, `svc.${ZONE}`)).map(summary);
        expect(answers).toEqual(answers.map(() => '10.0.0.1'));
        // The worker holding the entry answered from its cache ...
        expect(await metric(auth, 'mdns_authority_cache_hits_total')).toBeGreaterThan(hitsBefore);
        // ... and with two workers so did the one without it: it fanned out, the cluster did
        // not answer, its sibling's entry was served. Both workers were exercised.
        if (workers === 2) expect(asked()).toBeGreaterThan(1);
      });

      it('once the entry has expired (NOTIFY), it is served stale (TTL 30) by every worker', async () => {
        const ack = await sendNotify(auth.ports.dns, ZONE);
        expect(ack).not.toBeNull();
        expect(ack![3] & 0x0f).toBe(0);
        const answers = await burst(auth, `svc.${ZONE}`);
        expect(answers.map(summary)).toEqual(answers.map(() => '10.0.0.1'));
        expect(answers.map((r) => r.answers[0]?.ttl)).toEqual(answers.map(() => 30));
        // With two workers, the one without the entry served its sibling's.
        const served = await metric(auth, 'mdns_authority_sibling_stale_total{result="served"}');
        if (workers === 2) expect(served).toBeGreaterThan(0);
        else expect(served).toBe(0);
      });
    });

    describe('NXDOMAIN with one dead cluster (port closed)', () => {
      let auth: Authority;
      beforeAll(async () => {
        const live = await owner();
        const dead = await empty();
        auth = await authority(workers, [
          ['live', live.port],
          ['dead', dead.port],
        ]);
        await dead.close();
      });

      it('once one worker knows the cluster is dead, every query of every worker is NXDOMAIN', async () => {
        await learnDead(auth, 'dead');
        const opens = await metric(
          auth,
          `mdns_authority_upstream_circuit_opens_total{zone="${ZONE}",upstream="dead"}`,
        );
        const answers = (await burst(auth, `missing.${ZONE}`)).map(summary);
        expect(answers).toEqual(answers.map(() => 'NXDOMAIN'));
        const positive = (await burst(auth, `svc.${ZONE}`)).map(summary);
        expect(positive).toEqual(positive.map(() => '10.0.0.1'));
        // Nobody had to learn it again.
        expect(
          await metric(
            auth,
            `mdns_authority_upstream_circuit_opens_total{zone="${ZONE}",upstream="dead"}`,
          ),
        ).toBe(opens);
      });
    });

    describe('blackholed cluster (never answers)', () => {
      let auth: Authority;
      let hole: FakeUpstream;
      beforeAll(async () => {
        const live = await owner();
        hole = await upstream(() => ({ kind: 'silent' }));
        auth = await authority(workers, [
          ['live', live.port],
          ['hole', hole.port],
        ]);
      });

      it('once one worker knows it, no query of any worker waits on it again', async () => {
        await learnDead(auth, 'hole');
        // Client names reaching the blackhole (its probes ask the apex SOA).
        const waited = () => hole.queries.filter((q) => q.name !== ZONE).length;
        const before = waited();
        const timeoutsBefore = await upstreamTimeouts(auth, 'hole');
        const missing = (await burst(auth, `missing.${ZONE}`)).map(summary);
        expect(missing).toEqual(missing.map(() => 'NXDOMAIN'));
        const positive = (await burst(auth, `svc.${ZONE}`)).map(summary);
        expect(positive).toEqual(positive.map(() => '10.0.0.1'));
        // Cause, not a clock: no worker sent a client query to the blackhole, so none waited
        // for one to time out.
        expect(waited()).toBe(before);
        expect(await upstreamTimeouts(auth, 'hole')).toBe(timeoutsBefore);
      });
    });
  },
);
