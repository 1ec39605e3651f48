import dgram from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ipLiteralLookup } from '../src/ip-lookup.js';

describe('ipLiteralLookup (node:dgram lookup for IP literals)', () => {
  it('answers an IP literal of the socket family at once, not a tick later', () => {
    const seen: Array<[string, number]> = [];
    ipLiteralLookup('127.0.0.1', 4, (err, address, family) => {
      expect(err).toBeNull();
      seen.push([address, family]);
    });
    ipLiteralLookup('::1', 6, (_err, address, family) => seen.push([address, family]));
    expect(seen).toEqual([
      ['127.0.0.1', 4],
      ['::1', 6],
    ]);
  });

  it('leaves a name to dns.lookup (asynchronous, as before)', async () => {
    let called = false;
    const done = new Promise<[Error | null, string, number]>((resolve) =>
      ipLiteralLookup('localhost', 4, (err, address, family) => {
        called = true;
        resolve([err, address, family]);
      }),
    );
    expect(called).toBe(false);
    const [err, address, family] = await done;
    expect(err).toBeNull();
    expect(family).toBe(4);
    expect(address).toMatch(/^127\./);
  });

  // Linux: on loopback `sendmsg` queues the datagram at the receiver before it returns, so
  // /proc/net/udp shows it while `send` has just returned (with dns.lookup it is not sent yet).
  it.runIf(existsSync('/proc/net/udp'))(
    'a dgram socket with it sends inside send(): queued at the receiver when send returns',
    async () => {
      const receiver = dgram.createSocket('udp4');
      await new Promise<void>((r) => receiver.bind(0, '127.0.0.1', () => r()));
      const got = new Promise<Buffer>((r) => receiver.once('message', (m) => r(m)));
      const sender = dgram.createSocket({ type: 'udp4', lookup: ipLiteralLookup });
      await new Promise<void>((r) => sender.bind(0, '127.0.0.1', () => r()));
      const port = receiver.address().port;
      sender.send(Buffer.from('x'), port, '127.0.0.1');
      expect(rxQueueBytes(port)).toBeGreaterThan(0);
      expect((await got).toString()).toBe('x');
      sender.close();
      receiver.close();
    },
  );
});

/** The receive queue of the UDP socket bound to 127.0.0.1:`port`, from /proc/net/udp. */
function rxQueueBytes(port: number): number {
  const local = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f[1] === local) return Number.parseInt(f[4].split(':')[1], 16);
  }
  return -1;
}
