import { freePort } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';
import { a, type FakeUpstream, startFakeUpstream } from './support/fake-upstream.js';

// The runtime matrix's fixed row for the authority: the unchanged bundle run by the pinned
// Bun (the whole suite runs under Bun with MDNS_TEST_RUNTIME=bun). Fan-out, the cache,
// reload (file and SIGHUP), the explain endpoint, workers and SIGTERM -> 0.
const ZONE = 'prod.test';

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream(ZONE, (q) =>
    q.name === `svc.${ZONE}`
      ? { kind: 'answer', answers: [a(q.name, '10.0.0.1')] }
      : { kind: 'answer' },
  );
});
afterAll(() => upstream?.close());

describe('fanout-authority on Bun', () => {
  let auth: Authority;
  beforeAll(async () => {
    auth = await startAuthority(
      configYaml([{ name: ZONE, upstreams: [{ name: 'x', port: upstream.port }] }]),
      {
        runtime: 'bun',
      },
    );
  });
  afterAll(() => auth?.stop());

  it('runs on Bun and serves UDP from Bun.udpSocket; asks upstreams through node:dgram by default', () => {
    const listening = auth.logs.find((l) => l.msg === 'listening');
    expect(listening?.udpBackend).toBe('bun');
    expect(listening?.upstreamUdpBackend).toBe('node');
  });

  it('upstream.udpBackend: auto asks the upstreams through Bun.udpSocket, and answers', async () => {
    const batched = await startAuthority(
      configYaml(
        [{ name: ZONE, upstreams: [{ name: 'x', port: upstream.port }] }],
        'upstream: { udpBackend: auto }\n',
      ),
      { runtime: 'bun' },
    );
    try {
      expect(batched.logs.find((l) => l.msg === 'listening')?.upstreamUdpBackend).toBe('bun');
      const reply = await batched.query(`svc.${ZONE}`, 'A');
      expect(reply.answers.map((r) => r.data)).toEqual(['10.0.0.1']);
    } finally {
      await batched.stop();
    }
  });

  it('fans out, then answers the repeat from its cache, over UDP and TCP', async () => {
    expect((await auth.query(`svc.${ZONE}`, 'A')).answers.map((r) => r.data)).toEqual(['10.0.0.1']);
    const asked = upstream.queries.length;
    const tcp = await auth.query(`svc.${ZONE}`, 'A', { tcp: true });
    expect(tcp.answers.map((r) => r.data)).toEqual(['10.0.0.1']);
    expect(upstream.queries.length).toBe(asked);
  });

  it('explain over HTTP names the winner', async () => {
    const res = await fetch(
      `http://127.0.0.1:${auth.ports.explain}/explain?name=svc.${ZONE}&type=A`,
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { decision: { kind: string } }).decision.kind).toBe('positive');
  });

  it('reloads on a changed file and on SIGHUP', async () => {
    auth.writeConfig(configYaml([{ name: ZONE, upstreams: [{ name: 'y', port: upstream.port }] }]));
    await auth.waitForLog((l) => l.msg === 'config reloaded');
    const before = auth.logs.filter((l) => l.msg === 'config reloaded').length;
    auth.server.signal('SIGHUP');
    await auth.waitForLog(
      () => auth.logs.filter((l) => l.msg === 'config reloaded').length > before,
    );
  });

  it('SIGTERM drains and exits 0 without runtime warnings', async () => {
    expect(await auth.stop()).toBe(0);
    expect(auth.stderr.join('')).toBe('');
  });
});

describe('fanout-authority on Bun with listen.workers: 2', () => {
  let auth: Authority;
  beforeAll(async () => {
    // A fixed port: on Bun every worker binds its own SO_REUSEPORT sockets.
    const port = await freePort();
    const yaml = configYaml([
      { name: ZONE, upstreams: [{ name: 'x', port: upstream.port }] },
    ]).replace(
      'listen: { host: 127.0.0.1, port: 0 }',
      `listen: { host: 127.0.0.1, port: ${port}, workers: 2 }`,
    );
    auth = await startAuthority(yaml, { runtime: 'bun' });
  });
  afterAll(() => auth?.stop());

  it('both workers serve one port; every query is answered; SIGTERM exits 0', async () => {
    await auth.server.waitReady(20_000);
    const listening = auth.logs.filter((l) => l.msg === 'listening');
    expect(listening.map((l) => l.worker).sort()).toEqual([1, 2]);
    expect(listening.map((l) => l.dnsPort)).toEqual([auth.ports.dns, auth.ports.dns]);
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => auth.query(`svc.${ZONE}`, 'A')),
    );
    expect(answers.filter((r) => r.answers.length !== 1)).toEqual([]);
    expect(await auth.stop()).toBe(0);
  });

  it('port 0 is refused at start, naming listen.port: each worker would get a port of its own', async () => {
    const yaml = configYaml([
      { name: ZONE, upstreams: [{ name: 'x', port: upstream.port }] },
    ]).replace(
      'listen: { host: 127.0.0.1, port: 0 }',
      'listen: { host: 127.0.0.1, port: 0, workers: 2 }',
    );
    await expect(startAuthority(yaml, { runtime: 'bun', keepPort: true })).rejects.toThrow(
      /exited 1 first.*listen\.workers: 2 on Bun needs a fixed listen\.port/s,
    );
  });
});
