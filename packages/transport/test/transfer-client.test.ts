import net from 'node:net';
import {
  axfrRecords,
  type DnsRecord,
  ixfrRecords,
  scan,
  type TsigKey,
  transferMessages,
  tsigSign,
  tsigSplit,
} from '@mdns/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { pullZone, type TransferRequest } from '../src/index.js';

// Bad input from a primary, each case against a real TCP server that misbehaves on purpose:
// the pull ends in a typed failure within its time bounds and never returns a zone.

const ZONE = 'example.test';
const key: TsigKey = {
  name: 'xfr',
  algorithm: 'hmac-sha256',
  secret: Buffer.from('k3y-k3y-k3y-k3y!'),
};
const other: TsigKey = { ...key, secret: Buffer.from('another secret!!') };

const soa = (serial: number, mname = `ns1.${ZONE}`) =>
  ({
    name: ZONE,
    type: 'SOA',
    class: 'IN',
    ttl: 300,
    data: {
      mname,
      rname: `hostmaster.${ZONE}`,
      serial,
      refresh: 60,
      retry: 30,
      expire: 600,
      minimum: 30,
    },
  }) as DnsRecord;
const a = (name: string, ip = '192.0.2.1') =>
  ({ name, type: 'A', class: 'IN', ttl: 60, data: ip }) as DnsRecord;
const hosts = (n: number) =>
  Array.from({ length: n }, (_, i) => a(`h${i}.${ZONE}`, `10.0.${i >> 8}.${i & 255}`));

type Behaviour = {
  /** The answer records, split into messages of ~1 KB. */
  records: DnsRecord[];
  /** Sign with this key (default `key`); null: unsigned. */
  signWith?: TsigKey | null;
  /** Send only this many messages, then `after`. */
  upTo?: number;
  after?: 'close' | 'hang';
  /** Sign the first message over another request MAC (a replayed response). */
  replay?: boolean;
};

const servers: net.Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

async function primary(behaviour: Behaviour): Promise<number> {
  const server = net.createServer((socket) => {
    socket.on('error', () => {});
    socket.once('data', (chunk) => {
      const query = chunk.subarray(2);
      const s = scan(query);
      const split = tsigSplit(query);
      if (!s.ok || !split.ok) return socket.destroy();
      let messages = transferMessages(s.query, behaviour.records, {
        maxMessageBytes: 1024,
        reserveBytes: 200,
      });
      const k = behaviour.signWith === undefined ? key : behaviour.signWith;
      if (k) {
        let previous: Uint8Array | undefined;
        const requestMac = behaviour.replay
          ? new Uint8Array(32)
          : (split.tsig?.mac ?? new Uint8Array(0));
        messages = messages.map((m, i) => {
          const signed = tsigSign(m, {
            key: k,
            timeSigned: Math.floor(Date.now() / 1000),
            ...(i === 0 ? { requestMac } : { previousMac: previous }),
          });
          previous = signed.mac;
          return signed.bytes;
        });
      }
      const sent = messages.slice(0, behaviour.upTo ?? messages.length);
      for (const m of sent)
        socket.write(Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]));
      if (behaviour.after === 'close') socket.end();
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

async function pull(behaviour: Behaviour, request: Partial<TransferRequest> = {}) {
  const port = await primary(behaviour);
  return pullZone({
    host: '127.0.0.1',
    port,
    zone: ZONE,
    kind: 'AXFR',
    key,
    idleTimeoutMs: 1500,
    ...request,
  });
}

describe('a good transfer', () => {
  it('AXFR over many signed messages gives the zone', async () => {
    const r = await pull({ records: axfrRecords(soa(5), hosts(300)) });
    expect(r.ok && r.kind).toBe('axfr');
    if (r.ok && r.kind !== 'up-to-date') {
      expect(r.records.length).toBe(300);
      expect(r.messages).toBeGreaterThan(5);
    }
  });

  it('IXFR applies the diffs to our copy; our own serial back means up to date', async () => {
    const current = { serial: 5, records: hosts(3) };
    const entry = { from: 5, to: 6, deleted: [hosts(3)[0]], added: [a(`new.${ZONE}`)], bytes: 0 };
    const r = await pull({ records: ixfrRecords(soa(6), [entry]) }, { kind: 'IXFR', current });
    expect(r.ok && r.kind).toBe('ixfr');
    if (r.ok && r.kind === 'ixfr')
      expect(r.records.map((x) => x.name).sort()).toEqual([
        `h1.${ZONE}`,
        `h2.${ZONE}`,
        `new.${ZONE}`,
      ]);
    const same = await pull({ records: [soa(5)] }, { kind: 'IXFR', current });
    expect(same.ok && same.kind).toBe('up-to-date');
  });
});

describe('bad input from a primary', () => {
  it('a stream cut after some messages: cut', async () => {
    const r = await pull({ records: axfrRecords(soa(5), hosts(300)), upTo: 3, after: 'close' });
    expect(r.ok === false && r.failure).toBe('cut');
  });

  it('a stream that stops sending: timeout after idleTimeoutMs, bounded', async () => {
    const r = await pull(
      { records: axfrRecords(soa(5), hosts(300)), upTo: 2, after: 'hang' },
      { idleTimeoutMs: 300 },
    );
    expect(r.ok === false && r.failure).toBe('timeout');
  });

  it('a primary that trickles within the idle time still ends at totalTimeoutMs', async () => {
    const r = await pull(
      { records: axfrRecords(soa(5), hosts(300)), upTo: 2, after: 'hang' },
      { idleTimeoutMs: 5000, totalTimeoutMs: 400 },
    );
    expect(r.ok === false && r.failure).toBe('timeout');
  });

  it('first and last SOA differ: soa-mismatch', async () => {
    const r = await pull({ records: [soa(5), ...hosts(3), soa(5, `other.${ZONE}`)] });
    expect(r.ok === false && r.failure).toBe('soa-mismatch');
  });

  it('a record outside the zone: out-of-zone', async () => {
    const r = await pull({ records: axfrRecords(soa(5), [...hosts(3), a('evil.example.org')]) });
    expect(r.ok === false && r.failure).toBe('out-of-zone');
    expect(r.ok === false && r.detail).toMatch(/evil\.example\.org/);
  });

  it('a serial older than ours: serial-backwards', async () => {
    const r = await pull(
      { records: axfrRecords(soa(4), hosts(3)) },
      { current: { serial: 5, records: [] } },
    );
    expect(r.ok === false && r.failure).toBe('serial-backwards');
  });

  it('an IXFR answered by a single older SOA: serial-backwards at once, not a wait for more', async () => {
    // The primary keeps the connection open: an end found only by the idle timeout would
    // come back as 'timeout' after 30 s; the test's own bound is far below that.
    const r = await pull(
      { records: [soa(4)], after: 'hang' },
      { kind: 'IXFR', current: { serial: 5, records: hosts(3) }, idleTimeoutMs: 30_000 },
    );
    expect(r.ok === false && r.failure).toBe('serial-backwards');
  }, 10_000);

  it('an IXFR deleting a record our copy does not hold: ixfr-mismatch', async () => {
    const entry = { from: 5, to: 6, deleted: [a(`ghost.${ZONE}`)], added: [], bytes: 0 };
    const r = await pull(
      { records: ixfrRecords(soa(6), [entry]) },
      { kind: 'IXFR', current: { serial: 5, records: hosts(3) } },
    );
    expect(r.ok === false && r.failure).toBe('ixfr-mismatch');
    expect(r.ok === false && r.detail).toMatch(/ghost/);
  });

  it('over the record limit or the byte limit: too-large', async () => {
    const records = axfrRecords(soa(5), hosts(300));
    const byRecords = await pull({ records }, { maxRecords: 100 });
    expect(byRecords.ok === false && byRecords.failure).toBe('too-large');
    const byBytes = await pull({ records }, { maxBytes: 4000 });
    expect(byBytes.ok === false && byBytes.failure).toBe('too-large');
  });

  it('unsigned, signed with another key, or a replayed response: tsig', async () => {
    const records = axfrRecords(soa(5), hosts(3));
    for (const behaviour of [
      { records, signWith: null },
      { records, signWith: other },
      { records, replay: true },
    ]) {
      const r = await pull(behaviour);
      expect(r.ok === false && r.failure).toBe('tsig');
    }
  });

  it('nothing listening: connect', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const r = await pullZone({ host: '127.0.0.1', port, zone: ZONE, kind: 'AXFR' });
    expect(r.ok === false && r.failure).toBe('connect');
  });
});
