import { createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { replicasSettled } from '../src/replica/readiness.js';
import { type Authority, configYaml, startAuthority } from './support/authority.js';

// docs/behaviour.md, Operations: at start `/ready` waits for every replicated upstream's
// first pull (ops.readyReplicaWaitSeconds), so a rolling restart does not put a pod in
// service that would fan out (or SERVFAIL) the names its predecessor answered from copies.

describe('replicasSettled (pure)', () => {
  const done = { firstPullDone: true };
  const pending = { firstPullDone: false };
  it.each([
    ['no replicas', [], 0, 30_000, true],
    ['every first pull finished', [done, done], 0, 30_000, true],
    ['one still pulling', [done, pending], 1_000, 30_000, false],
    ['one still pulling, the wait is over', [done, pending], 30_000, 30_000, true],
    ['wait 0: replicas are not waited for', [pending], 0, 0, true],
  ] as const)('%s', (_, replicas, since, wait, expected) => {
    expect(replicasSettled(replicas, since, wait)).toBe(expected);
  });
});

const ZONE = 'prod.test';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';

/**
 * A primary that accepts the transfer connection and never answers: the first AXFR stays in
 * flight until `release()` cuts it. Nothing listens on UDP, so the start-up probe gives up.
 */
async function heldPrimary() {
  const held: Socket[] = [];
  let connected = 0;
  const server = createServer((s) => {
    connected++;
    s.on('error', () => {});
    held.push(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    connected: () => connected,
    release: () => {
      for (const s of held.splice(0)) s.destroy();
    },
    close: () => {
      for (const s of held.splice(0)) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function authority(port: number, ops: string): Promise<Authority> {
  const yaml = configYaml([{ name: ZONE, upstreams: [{ name: 'held', port }] }])
    .replace('priority: 0 }', 'priority: 0, transfer: { enabled: true, key: xfr } }')
    .replace(/^ops: \{ (.*) \}$/m, `ops: { $1${ops} }`);
  const auth = await startAuthority(
    `${yaml}transfer:\n  keys: [{ name: xfr, secret: "${SECRET}" }]\n`,
  );
  cleanups.push(() => auth.stop());
  return auth;
}

const readyStatus = async (auth: Authority) =>
  (await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`).catch(() => null))?.status ?? -1;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('/ready and the first pulls', () => {
  it('stays 503 while a first AXFR is in flight, 200 once it ended (here: failed)', async () => {
    const primary = await heldPrimary();
    cleanups.push(() => primary.close());
    const auth = await authority(primary.port, '');
    await expect.poll(() => primary.connected(), { timeout: 10_000 }).toBeGreaterThan(0);
    // Bounded: 15 looks over 3 s, past the start-up probe's ceiling (1 s), all not ready.
    for (let i = 0; i < 15; i++) {
      expect(await readyStatus(auth)).toBe(503);
      await sleep(200);
    }
    primary.release();
    await expect.poll(() => readyStatus(auth), { timeout: 10_000, interval: 100 }).toBe(200);
  });

  it('gives up waiting after ops.readyReplicaWaitSeconds, the pull still in flight', async () => {
    const primary = await heldPrimary();
    cleanups.push(() => primary.close());
    const auth = await authority(primary.port, ', readyReplicaWaitSeconds: 1');
    await expect.poll(() => readyStatus(auth), { timeout: 10_000, interval: 100 }).toBe(200);
    expect(primary.connected()).toBeGreaterThan(0);
  });
});
