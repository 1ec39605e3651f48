import dgram from 'node:dgram';
import net from 'node:net';
import { dnsQuery } from '@mdns/transport';
import { afterAll, describe, expect, it } from 'vitest';
// The thread variant runs the built worker file: this test needs `pnpm build` first, as the
// apps' end-to-end tests do (and so does typecheck: turbo.json here builds before it).
import { startDelayProxyThread } from '../dist/index.js';
import { type DelayProxy, roundTripMs, startDelayProxy } from '../src/index.js';

// A tiny DNS-shaped echo on UDP and TCP (same port): replies with the query's bytes, QR set.
async function echo(): Promise<{ port: number; close(): Promise<void> }> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    udp.on('message', (m, r) => {
      m[2] |= 0x80;
      udp.send(m, r.port, r.address);
    });
    const tcp = net.createServer((s) =>
      s.on('data', (d) => {
        d[4] |= 0x80; // after the 2-byte length
        s.write(d);
      }),
    );
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    if (ok) {
      return {
        port,
        close: async () => {
          udp.close();
          await new Promise<void>((r) => tcp.close(() => r()));
        },
      };
    }
    udp.close();
  }
  throw new Error('no port for the echo server');
}

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function through(rttMs: number): Promise<DelayProxy> {
  const target = await echo();
  cleanups.push(target.close);
  const proxy = await startDelayProxy({ targetHost: '127.0.0.1', targetPort: target.port, rttMs });
  cleanups.push(proxy.close);
  return proxy;
}

describe('delay proxy', () => {
  it('adds the round trip over UDP and over TCP, and forwards the reply unchanged', async () => {
    const proxy = await through(120);
    for (const tcp of [false, true]) {
      const r = await dnsQuery({
        host: '127.0.0.1',
        port: proxy.port,
        name: 'x.test',
        type: 'A',
        tcp,
        timeoutMs: 2000,
      });
      // Cause and effect, not speed: nothing comes back before the delay has been applied.
      expect(r.rttMs).toBeGreaterThanOrEqual(118);
    }
    expect(proxy.forwarded).toBe(1);
  });

  it('times out a client that waits less than the round trip', async () => {
    const proxy = await through(300);
    await expect(
      dnsQuery({ host: '127.0.0.1', port: proxy.port, name: 'x.test', type: 'A', timeoutMs: 100 }),
    ).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('jitter: each round trip within rtt x [1 - jitter, 1 + jitter]', () => {
    for (let i = 0; i < 1000; i++) {
      const v = roundTripMs(150, 0.2);
      expect(v).toBeGreaterThanOrEqual(120);
      expect(v).toBeLessThanOrEqual(180);
    }
    expect(roundTripMs(100, 0.5, () => 0)).toBe(50);
    expect(roundTripMs(100, 0.5, () => 1)).toBe(150);
  });

  it('rejects nonsense options with a message naming the option', async () => {
    const base = { targetHost: '127.0.0.1', targetPort: 53 };
    await expect(startDelayProxy({ ...base, rttMs: -1 })).rejects.toThrow(/rttMs/);
    await expect(startDelayProxy({ ...base, rttMs: 10, jitter: 1 })).rejects.toThrow(/jitter/);
    await expect(startDelayProxy({ ...base, targetPort: 0, rttMs: 10 })).rejects.toThrow(
      /targetPort/,
    );
  });

  it('runs on a thread of its own, with the same delay', async () => {
    const target = await echo();
    cleanups.push(target.close);
    const proxy = await startDelayProxyThread({
      targetHost: '127.0.0.1',
      targetPort: target.port,
      rttMs: 100,
    });
    cleanups.push(proxy.close);
    const r = await dnsQuery({
      host: '127.0.0.1',
      port: proxy.port,
      name: 'x.test',
      type: 'A',
      timeoutMs: 2000,
    });
    expect(r.rttMs).toBeGreaterThanOrEqual(98);
    expect(await proxy.forwarded()).toBe(1);
  });
});
