import dgram from 'node:dgram';
import { defaultRuntime, netCoreSysctl, udpSocketMemory, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, sendNotify, startAuthority } from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// listen.workers: 2 with real processes. A primary and two workers sharing one UDP socket
// and one TCP listener (`shared`, the mode Node 20 has; `reuseport` is exercised on Node 24
// in infra/test/images.test.ts).
const ZONE = 'prod.test';

async function metrics(auth: Authority): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** `count` queries at once, each from its own socket (the kernel hands them to either worker). */
async function burst(auth: Authority, name: string, count: number): Promise<unknown[]> {
  const answers = await Promise.all(
    Array.from({ length: count }, () => auth.query(name, 'A', { timeoutMs: 4000 })),
  );
  return answers.map((r) => (r.rcode === 0 ? r.answers[0]?.data : `rcode ${r.rcode}`));
}

describe('fanout-authority with listen.workers: 2', () => {
  let up: FakeUpstream;
  let auth: Authority;
  const address = '10.0.0.1';
  beforeAll(async () => {
    up = await startFakeUpstream(ZONE, (q) =>
      q.name.endsWith(`svc.${ZONE}`) && q.type === 'A'
        ? { kind: 'answer', answers: [a(q.name, address)] }
        : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
    );
    auth = await startAuthority(
      configYaml(
        [{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }],
        'cache: { enabled: false }\n',
      ).replace(
        'listen: { host: 127.0.0.1, port: 0 }',
        'listen: { host: 127.0.0.1, port: 0, workers: 2 }',
      ),
    );
  });
  afterAll(async () => {
    await auth?.stop();
    await up?.close();
  });

  it('runs a primary and two workers; the primary serves /ready and /health for both', async () => {
    const workers = auth.logs.filter((l) => l.msg === 'listening').map((l) => l.worker);
    expect(workers.sort()).toEqual([1, 2]);
    const ready = await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { ready: boolean; detail: { workers: unknown[] } };
    expect(body.ready).toBe(true);
    expect(body.detail.workers).toHaveLength(2);
    expect((await fetch(`http://127.0.0.1:${auth.ports.health}/health`)).status).toBe(200);
  });

  it('the shared UDP socket has listen.udpBufferBytes (default 1 MiB)', () => {
    expect(udpSocketMemory(auth.ports.dns).rb).toBe(
      2 * Math.min(1024 * 1024, netCoreSysctl('rmem_max')),
    );
  });

  it('every query is answered over UDP and TCP, each worker with upstream sockets of its own', async () => {
    // Cache off: each of these is a fan-out. Had the workers shared their port-0 upstream
    // sockets through the cluster primary, replies would reach the wrong worker (SERVFAIL).
    const all: unknown[] = [];
    for (let i = 0; i < 10; i++) all.push(...(await burst(auth, `${i}.svc.${ZONE}`, 20)));
    expect(all.filter((x) => x !== '10.0.0.1')).toEqual([]);
    for (let i = 0; i < 10; i++) {
      const r = await auth.query(`tcp${i}.svc.${ZONE}`, 'A', { tcp: true });
      expect(r.answers[0]?.data).toBe('10.0.0.1');
    }
  });

  it("/metrics sums the workers: answers, fan-outs, and the primary's own worker gauges", async () => {
    const text = await metrics(auth);
    expect(sample(text, 'mdns_authority_answers_total{source="fanout"}')).toBeGreaterThanOrEqual(
      210,
    );
    expect(sample(text, 'mdns_authority_answers_total{source="servfail"}')).toBe(0);
    // A value both workers hold a copy of is merged with min, not summed to 2.
    expect(sample(text, `mdns_authority_upstream_healthy{zone="${ZONE}",upstream="x"}`)).toBe(1);
    expect(sample(text, 'mdns_authority_workers{state="running"}')).toBe(2);
    expect(text).toContain('mdns_authority_worker_restarts_total{worker="2"} 0');
  });

  it('a worker killed outright is restarted while the other keeps answering', async () => {
    const pid = auth.logs.find((l) => l.msg === 'listening' && l.worker === 2)?.pid as number;
    process.kill(pid, 'SIGKILL');
    // From the primary's word that it died: with SO_REUSEPORT (Bun; Node >= 22.12 on a fixed
    // port) a datagram the kernel queued on the dying worker's own socket is lost with it
    // (the client's retry reaches the other); a shared socket loses none even before that.
    await auth.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('worker died'));
    const during = await burst(auth, `during.svc.${ZONE}`, 20);
    expect(during.filter((x) => x !== '10.0.0.1')).toEqual([]);
    await auth.waitForLog((l) => l.msg === 'worker serving again' && l.worker === 2, 15_000);
    await until(async () => {
      const text = await metrics(auth);
      return (
        sample(text, 'mdns_authority_workers{state="running"}') === 2 &&
        sample(text, 'mdns_authority_worker_restarts_total{worker="2"}') === 1
      );
    });
  });

  it('SIGHUP reaches every worker: each reloads the changed config', async () => {
    const yaml = configYaml(
      [{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }],
      'cache: { enabled: false }\nupstream: { allPolicyWaitMs: 150 }\n',
    ).replace(
      'listen: { host: 127.0.0.1, port: 0 }',
      'listen: { host: 127.0.0.1, port: 0, workers: 2 }',
    );
    auth.writeConfig(yaml);
    auth.server.signal('SIGHUP');
    await until(async () => {
      const reloaded = new Set(
        auth.logs.filter((l) => l.msg === 'config reloaded').map((l) => l.worker),
      );
      return reloaded.has(1) && reloaded.has(2);
    });
  });

  it('SIGTERM drains every worker and the primary exits 0', async () => {
    const pids = auth.logs.filter((l) => l.msg === 'listening').map((l) => l.pid as number);
    expect(await auth.stop()).toBe(0);
    for (const pid of pids) expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('NOTIFY with listen.workers: 2', () => {
  let up: FakeUpstream;
  let auth: Authority;
  let address = '10.0.0.1';
  afterAll(async () => {
    await auth?.stop();
    await up?.close();
  });

  it('a NOTIFY one worker receives expires the cached answer in every worker', async () => {
    up = await startFakeUpstream(ZONE, (q) =>
      q.name === `svc.${ZONE}` && q.type === 'A'
        ? { kind: 'answer', answers: [a(q.name, address)] }
        : { kind: 'answer', rcode: q.name === ZONE ? 0 : 3 },
    );
    auth = await startAuthority(
      configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: up.port }] }]).replace(
        'listen: { host: 127.0.0.1, port: 0 }',
        'listen: { host: 127.0.0.1, port: 0, workers: 2 }',
      ),
    );
    const asked = () => up.queries.filter((q) => q.name === `svc.${ZONE}`).length;
    // Bursts until both workers have fetched and cached the name (each asks once).
    await until(async () => {
      await burst(auth, `svc.${ZONE}`, 20);
      return asked() >= 2;
    });
    expect(asked()).toBe(2);

    address = '10.0.0.2';
    const ack = await sendNotify(auth.ports.dns, ZONE);
    expect(ack).not.toBeNull();
    expect(ack![3] & 0x0f).toBe(0);
    // Whichever worker took the NOTIFY had the other expire its entry before acking: from
    // the first burst sent after the ack on, nobody serves 10.0.0.1 from a cache the NOTIFY
    // did not reach, and both fetch again.
    await until(async () => {
      const seen = await burst(auth, `svc.${ZONE}`, 20);
      expect(seen.filter((x) => x !== '10.0.0.2')).toEqual([]);
      return asked() >= 4;
    });
    expect(asked()).toBe(4);
  });
});

describe('listen.workerSockets and start-up failures', () => {
  it('a worker that cannot listen stops the whole process with exit 1, saying why', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const port = taken.address().port;
    try {
      const yaml = configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: 53 }] }]).replace(
        'listen: { host: 127.0.0.1, port: 0 }',
        `listen: { host: 127.0.0.1, port: ${port}, workers: 2, workerSockets: shared }`,
      );
      const failure = await startAuthority(yaml).then(
        () => null,
        (e: Error) => e.message,
      );
      expect(failure).toMatch(/exited 1 first/);
      expect(failure).toMatch(/cannot listen on udp 127\.0\.0\.1 port \d+/);
    } finally {
      taken.close();
    }
  });

  it('reuseport with port 0 is refused at start, naming the setting', async () => {
    const yaml = configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: 53 }] }]).replace(
      'listen: { host: 127.0.0.1, port: 0 }',
      'listen: { host: 127.0.0.1, port: 0, workers: 2, workerSockets: reuseport }',
    );
    // On Bun every mode is reuseport underneath: the refusal names listen.workers there.
    await expect(startAuthority(yaml, { keepPort: true })).rejects.toThrow(
      defaultRuntime() === 'bun' ? /listen\.workers: 2 on Bun/ : /listen\.workerSockets/,
    );
  });
});
