import { execFile } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultRuntime, udpExchange, WORKER_COUNTS, yamlWithWorkers } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Authority,
  burst,
  configYaml,
  decodeAnswer,
  sendNotify,
  startAuthority,
  summary,
} from './support/authority.js';
import { a, type FakeUpstream, type Script, startFakeUpstream } from './support/fake-upstream.js';

const ZONE = 'prod.test';
const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function fake(script: Script): Promise<FakeUpstream> {
  const up = await startFakeUpstream(ZONE, script);
  cleanups.push(() => up.close());
  return up;
}

async function authority(yaml: string, workers = 1): Promise<Authority> {
  const auth = await startAuthority(yamlWithWorkers(yaml, workers));
  cleanups.push(() => auth.stop());
  return auth;
}

/** 'config reloaded' lines so far, from every worker (one process: its own). */
function reloads(auth: Authority): number {
  return auth.logs.filter((l) => l.msg === 'config reloaded').length;
}

/** Apex NOERROR, `records` by name, NXDOMAIN for the rest. */
function zoneScript(records: Record<string, string>, delayMs = 0): Script {
  return (q) => {
    if (q.name === ZONE) return { kind: 'answer', delayMs };
    const ip = records[q.name];
    if (ip === undefined) return { kind: 'answer', rcode: 3, delayMs };
    return { kind: 'answer', answers: q.type === 'A' ? [a(q.name, ip)] : [], delayMs };
  };
}

describe('merge rules end to end', () => {
  it('a NODATA from one cluster never beats a POSITIVE on its way from another', async () => {
    const fast = await fake((q) =>
      q.name === ZONE ? { kind: 'answer' } : { kind: 'answer', answers: [] },
    );
    const slow = await fake(zoneScript({ [`race.${ZONE}`]: '10.0.0.7' }, 100));
    const auth = await authority(
      configYaml([
        {
          name: ZONE,
          upstreams: [
            { name: 'fast', port: fast.port },
            { name: 'slow', port: slow.port },
          ],
        },
      ]),
    );
    const r = await auth.query(`race.${ZONE}`, 'A');
    expect(r.rcode).toBe(0);
    expect(r.answers.map((x) => x.data)).toEqual(['10.0.0.7']);
    // Neither has it: NODATA (fast said NOERROR empty), with our own SOA.
    const n = await auth.query(`other.${ZONE}`, 'A');
    expect(n.rcode).toBe(0);
    expect(n.answers).toEqual([]);
    expect(n.authorities[0]).toMatchObject({ type: 'SOA', name: ZONE });
    expect((n.authorities[0].data as { mname: string }).mname).toBe(`ns1.${ZONE}`);
  });

  it('NXDOMAIN when every healthy cluster says so, with the authority SOA (RFC 2308 TTL)', async () => {
    const x = await fake(zoneScript({}));
    const y = await fake(zoneScript({}));
    const auth = await authority(
      configYaml([
        {
          name: ZONE,
          upstreams: [
            { name: 'x', port: x.port },
            { name: 'y', port: y.port },
          ],
        },
      ]),
    );
    const r = await auth.query(`nope.${ZONE}`, 'A');
    expect(r.rcode).toBe(3);
    expect(r.aa).toBe(true);
    expect(r.authorities).toHaveLength(1);
    expect(r.authorities[0]).toMatchObject({ type: 'SOA', ttl: 30 });
  });

  it('policy all merges RRsets from every cluster, deduplicated', async () => {
    const x = await fake((q) =>
      q.name === ZONE
        ? { kind: 'answer' }
        : { kind: 'answer', answers: [a(q.name, '10.0.0.1'), a(q.name, '10.0.0.2')] },
    );
    const y = await fake((q) =>
      q.name === ZONE
        ? { kind: 'answer' }
        : { kind: 'answer', answers: [a(q.name, '10.0.0.2'), a(q.name, '10.0.0.3')] },
    );
    const auth = await authority(
      configYaml([
        {
          name: ZONE,
          policy: 'all',
          upstreams: [
            { name: 'x', port: x.port },
            { name: 'y', port: y.port },
          ],
        },
      ]),
    );
    const r = await auth.query(`svc.${ZONE}`, 'A');
    expect(r.answers.map((x) => x.data).sort()).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  });

  it('policy priority answers from the preferred cluster even when another is faster', async () => {
    const fastLow = await fake((q) =>
      q.name === ZONE ? { kind: 'answer' } : { kind: 'answer', answers: [a(q.name, '10.0.0.9')] },
    );
    const slowHigh = await fake((q) =>
      q.name === ZONE
        ? { kind: 'answer', delayMs: 50 }
        : { kind: 'answer', answers: [a(q.name, '10.0.0.1')], delayMs: 50 },
    );
    const auth = await authority(
      configYaml([
        {
          name: ZONE,
          policy: 'priority',
          upstreams: [
            { name: 'backup', port: fastLow.port, priority: 10 },
            { name: 'primary', port: slowHigh.port, priority: 1 },
          ],
        },
      ]),
    );
    const r = await auth.query(`svc.${ZONE}`, 'A');
    expect(r.answers.map((x) => x.data)).toEqual(['10.0.0.1']);
  });
});

// The cache, NOTIFY and reload rows run with listen.workers 1 and 2 (issue #21): each worker
// has its own cache, so every check is a burst (UDP from many ports, TCP handed out in turn)
// that reaches both workers, and every answer in it is asserted.
describe.each(WORKER_COUNTS)('listen.workers: %i', (workers) => {
  describe('cache', () => {
    let auth: Authority;
    let x: FakeUpstream;
    let records: Record<string, string>;
    beforeAll(async () => {
      records = { [`aging.${ZONE}`]: '10.0.0.1', [`stale.${ZONE}`]: '10.0.0.2' };
      x = await fake((q) => {
        if (q.name === `stale.${ZONE}` && q.type === 'A')
          return { kind: 'answer', answers: [a(q.name, '10.0.0.2', 1)] };
        return zoneScript(records)(q);
      });
      auth = await authority(
        configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: x.port }] }]),
        workers,
      );
    });

    it('TTLs age in cached answers and the cluster is asked once per worker', async () => {
      const first = await auth.query(`aging.${ZONE}`, 'A');
      expect(first.answers[0].ttl).toBe(60);
      await sleep(2200);
      const second = await burst(auth, `aging.${ZONE}`);
      expect(second.map(summary)).toEqual(second.map(() => '10.0.0.1'));
      // The worker holding the entry answers it aged. A cache hit never waits on another
      // worker, so with two the one without the entry asks the cluster itself (once: the
      // burst's copies of the question share that one fan-out) and answers TTL 60.
      const ttls = second.map((r) => r.answers[0].ttl);
      expect(ttls.some((t) => t <= 58)).toBe(true);
      expect(ttls.every((t) => t <= 58 || (workers > 1 && t === 60))).toBe(true);
      const asked = x.queries.filter((q) => q.name === `aging.${ZONE}`).length;
      if (defaultRuntime() === 'bun') {
        // Under Bun each worker binds its own SO_REUSEPORT socket and the kernel picks the
        // worker by the client's address and port, so a burst may reach only the worker
        // that holds the entry: at most once per worker.
        expect(asked).toBeGreaterThanOrEqual(1);
        expect(asked).toBeLessThanOrEqual(workers);
      } else {
        expect(asked).toBe(workers);
      }
    });

    it('serves stale (TTL 30, RFC 8767) when every cluster fails', async () => {
      const fresh = await auth.query(`stale.${ZONE}`, 'A');
      expect(fresh.answers[0].data).toBe('10.0.0.2');
      await sleep(1500); // the entry's TTL of 1 s has run out
      x.setScript((q) => (q.name === ZONE ? { kind: 'answer' } : { kind: 'answer', rcode: 2 }));
      // With two workers, the one that never fetched it serves its sibling's entry.
      const stale = await burst(auth, `stale.${ZONE}`);
      expect(stale.map(summary)).toEqual(stale.map(() => '10.0.0.2'));
      expect(stale.map((r) => r.answers[0].ttl)).toEqual(stale.map(() => 30));
      // Nothing cached for this one in any worker: SERVFAIL.
      const never = await burst(auth, `never.${ZONE}`);
      expect(never.map(summary)).toEqual(never.map(() => 'SERVFAIL'));
    });
  });

  describe('NOTIFY', () => {
    it('from an upstream drops negative entries; from a stranger is REFUSED', async () => {
      const records: Record<string, string> = {};
      const x = await fake((q) => zoneScript(records)(q));
      const auth = await authority(
        configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: x.port }] }]),
        workers,
      );
      const all = async (want: string) => {
        const got = (await burst(auth, `new.${ZONE}`)).map(summary);
        expect(got).toEqual(got.map(() => want));
      };
      await all('NXDOMAIN'); // every worker caches the negative
      records[`new.${ZONE}`] = '10.0.0.5';
      await all('NXDOMAIN'); // cached negative

      const stranger = await sendNotify(auth.ports.dns, ZONE, '127.0.0.2');
      expect(stranger).not.toBeNull();
      expect(decodeAnswer(stranger!, 0).rcode).toBe(5);
      await all('NXDOMAIN'); // still cached

      const ack = await sendNotify(auth.ports.dns, ZONE);
      expect(ack).not.toBeNull();
      const ackMsg = decodeAnswer(ack!, 0);
      expect(ackMsg).toMatchObject({ rcode: 0, aa: true });
      expect((ack![2] >> 3) & 0x0f).toBe(4); // opcode NOTIFY echoed

      // The worker that took the NOTIFY had the other expire its negative before acking: no
      // cache still holds it, from the first burst after the ack on.
      await all('10.0.0.5');
    });
  });

  describe('shared rules, reload, explain, shutdown', () => {
    let auth: Authority;
    let x: FakeUpstream;
    let y: FakeUpstream;
    beforeAll(async () => {
      x = await fake(zoneScript({ [`svc.${ZONE}`]: '10.0.0.1' }));
      y = await fake(zoneScript({ [`svc.${ZONE}`]: '10.0.0.2', [`moved.${ZONE}`]: '10.0.0.22' }));
      auth = await authority(
        configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: x.port }] }]),
        workers,
      );
    });

    it('out-of-zone names are REFUSED with RA=0, never forwarded', async () => {
      const r = await auth.query('example.com', 'A');
      expect(r.rcode).toBe(5);
      expect(x.queries.some((q) => q.name === 'example.com')).toBe(false);
    });

    it('a query with bytes after its last record is FORMERR (as Knot), never forwarded', async () => {
      const labels = `trailing.${ZONE}`.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
      const header = [0x42, 0x43, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
      const packet = new Uint8Array([...header, ...labels, 0, 0, 1, 0, 1, 0xde, 0xad]);
      const reply = await udpExchange(auth.ports.dns, packet, { timeoutMs: 3000 });
      expect(reply).not.toBeNull();
      expect({ id: reply!.readUInt16BE(0), rcode: reply![3] & 0x0f }).toEqual({
        id: 0x4243,
        rcode: 1,
      });
      expect(x.queries.some((q) => q.name === `trailing.${ZONE}`)).toBe(false);
    });

    it('apex SOA and NS (with glue) are answered locally', async () => {
      const soa = await auth.query(ZONE, 'SOA');
      expect(soa).toMatchObject({ rcode: 0, aa: true });
      expect(soa.answers[0].type).toBe('SOA');
      const ns = await auth.query(ZONE, 'NS');
      expect(ns.answers.map((r) => r.data)).toEqual([`ns1.${ZONE}`]);
      expect(x.queries.some((q) => q.name === ZONE && q.type === 'NS')).toBe(false);
    });

    it('explain over HTTP shows each upstream and the winner', async () => {
      const res = await fetch(
        `http://127.0.0.1:${auth.ports.explain}/explain?name=svc.${ZONE}&type=A`,
      );
      expect(res.status).toBe(200);
      const report = (await res.json()) as {
        decision: { kind: string; why: string };
        upstreams: Array<Record<string, unknown>>;
      };
      expect(report.decision.kind).toBe('positive');
      expect(report.upstreams[0]).toMatchObject({
        name: 'x',
        class: 'POSITIVE',
        won: true,
        health: 'healthy',
      });
      expect(report.upstreams[0].records).toEqual([`svc.${ZONE} 60 IN A 10.0.0.1`]);
      const bad = await fetch(`http://127.0.0.1:${auth.ports.explain}/explain?type=A`);
      expect(bad.status).toBe(400);
    });

    it('explain as a CLI subcommand prints the same', async () => {
      const { stdout } = await promisify(execFile)(process.execPath, [
        MAIN,
        'explain',
        '--config',
        auth.configPath,
        `svc.${ZONE}`,
        'A',
      ]);
      expect(stdout).toContain('* x (127.0.0.1:');
      expect(stdout).toContain('POSITIVE');
      expect(stdout).toContain('decision: POSITIVE');
    });

    it('a broken config file is rejected with the field named and the old config keeps serving', async () => {
      auth.writeConfig(
        yamlWithWorkers(
          configYaml([
            { name: ZONE, upstreams: [{ name: 'x', port: x.port, address: '999.1.1.1' }] },
          ]),
          workers,
        ),
      );
      const line = await auth.waitForLog((l) => String(l.msg).startsWith('config reload rejected'));
      expect(String(line.msg)).toContain('zones[0].upstreams[0].address');
      const r = await auth.query(`svc.${ZONE}`, 'A');
      expect(r.answers.map((v) => v.data)).toEqual(['10.0.0.1']);
    });

    it('a good reload swaps the upstream set', async () => {
      auth.writeConfig(
        yamlWithWorkers(
          configYaml([{ name: ZONE, upstreams: [{ name: 'y', port: y.port }] }]),
          workers,
        ),
      );
      // Every worker reads the file itself: each logs its own reload.
      await auth.waitForLog(() => reloads(auth) >= workers);
      const moved = await burst(auth, `moved.${ZONE}`);
      expect(moved.map(summary)).toEqual(moved.map(() => '10.0.0.22'));
    });

    it('SIGHUP reloads too', async () => {
      const before = reloads(auth);
      // With workers the primary takes the signal and passes it on: every worker reloads.
      auth.server.signal('SIGHUP');
      await auth.waitForLog(() => reloads(auth) >= before + workers);
    });

    it('metrics are exported', async () => {
      const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
      expect(text).toContain('mdns_authority_queries_total');
      expect(text).toMatch(/mdns_authority_upstream_healthy\{zone="prod.test",upstream="y"\} 1/);
      expect(text).toContain('mdns_authority_fanout_decisions_total');
      expect(text).toContain('mdns_authority_cache_hits_total');
    });

    it('SIGTERM drains and exits 0', async () => {
      expect(await auth.stop()).toBe(0);
    });
  });
});
