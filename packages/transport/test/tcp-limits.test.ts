import net from 'node:net';
import { encode } from '@mdns/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer } from '../src/index.js';
import { RawTcpClient } from './support/raw-tcp.js';
import { answer, bigTxt, testZoneHandler } from './support/test-zone.js';

// TCP clients that hurt other users: one that never reads its replies, one source that
// opens every connection, one whose replies pile up. Each is cut off; others keep being answered.

const HOST = '127.0.0.1';

function query(name: string, id: number): Uint8Array {
  return encode({ id, type: 'query', flags: 0, questions: [{ name, type: 'TXT', class: 'IN' }] });
}

function framed(messages: Uint8Array[]): Buffer {
  return Buffer.concat(
    messages.flatMap((m) => [Buffer.from([m.length >> 8, m.length & 0xff]), Buffer.from(m)]),
  );
}

/** A client that sends and never reads: its receive window, then our socket buffer, fill up. */
function connectNonReader(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port }, () => resolve(socket));
    socket.once('error', reject);
    socket.pause();
  });
}

function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error(`not reached: ${what}`));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

async function askTcp(port: number, id: number, localAddress?: string): Promise<number> {
  const client = await RawTcpClient.connect(HOST, port, localAddress);
  try {
    client.send(query('ok.example.test', id));
    const [reply] = await client.waitFrames(1);
    return reply.readUInt16BE(0);
  } finally {
    client.close();
  }
}

describe('a TCP client that pipelines queries and never reads', () => {
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler: testZoneHandler(),
    // Long enough that a loaded machine does not idle-close the connection before it writes.
    tcpIdleTimeoutMs: 1000,
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('is disconnected once its queued replies stop moving, while another client is answered', async () => {
    const stuck = await connectNonReader(port);
    // 2000 answers of ~7 KB: far more than the kernel buffers between us and a non-reader.
    stuck.write(framed(Array.from({ length: 2000 }, (_, i) => query('big.example.test', i))));
    await until(() => server.counters.tcpReplies > 50, 'replies queued to the non-reader');
    // While it is stuck, another client is served on its own connection.
    expect(await askTcp(port, 7)).toBe(7);
    await until(() => server.counters.tcpWriteStalls === 1, 'the stalled connection closed');
    await until(() => server.counters.tcpOpen === 0, 'no connection left open');
    // It was the write stall that ended it: it had sent far more queries than were answered.
    expect(server.counters.tcpReplies).toBeLessThan(2000);
    expect(server.counters.tcpQueueOverflows).toBe(0);
    expect(await askTcp(port, 8)).toBe(8);
    stuck.destroy();
  });
});

describe('a TCP client whose replies pile up past maxTcpQueuedBytes', () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  // ~58 KB per reply: 100 of them (5.8 MB) are more than the kernel buffers absorb.
  const records = Array.from({ length: 8 }, () => bigTxt('big.example.test')).flat();
  const server = new DnsServer({
    host: HOST,
    port: 0,
    maxTcpQueuedBytes: 256 * 1024,
    // Every reply waits for the gate, so a whole pipeline of large replies lands at once.
    handler: async (q) => {
      await gate;
      return answer(q, records);
    },
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('is closed when the next reply would go past the limit, and nobody else is', async () => {
    const reader = await RawTcpClient.connect(HOST, port);
    const stuck = await connectNonReader(port);
    stuck.write(framed(Array.from({ length: 100 }, (_, i) => query('big.example.test', i))));
    reader.send(query('big.example.test', 4242));
    await until(() => server.counters.tcpQueries === 101, 'every query read');
    release();
    await until(() => server.counters.tcpQueueOverflows === 1, 'the piling connection closed');
    const [reply] = await reader.waitFrames(1);
    expect(reply.readUInt16BE(0)).toBe(4242);
    await until(() => server.counters.tcpOpen === 1, 'only the reader left open');
    expect(reader.closed).toBe(false);
    reader.close();
    stuck.destroy();
  });
});

describe('TCP connections per source', () => {
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler: testZoneHandler(),
    maxTcpConnectionsPerSource: 3,
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('closes the 4th connection from one source while another source connects and is answered', async () => {
    const held: RawTcpClient[] = [];
    for (let i = 0; i < 3; i++) held.push(await RawTcpClient.connect(HOST, port, '127.0.0.1'));
    await until(() => server.counters.tcpOpen === 3, 'three connections open');
    const extra = await RawTcpClient.connect(HOST, port, '127.0.0.1');
    await extra.waitClosed();
    expect(server.counters.tcpSourceRejected).toBe(1);
    // Linux routes all of 127/8 to lo: 127.0.0.2 is a different source.
    expect(await askTcp(port, 21, '127.0.0.2')).toBe(21);
    expect(server.counters.tcpSourceRejected).toBe(1);
    // The connections already held keep working.
    held[0].send(query('ok.example.test', 22));
    expect((await held[0].waitFrames(1))[0].readUInt16BE(0)).toBe(22);
    // A closed connection gives its slot back to its source.
    held[1].close();
    await until(() => server.counters.tcpOpen === 2, 'one connection released');
    expect(await askTcp(port, 23, '127.0.0.1')).toBe(23);
    expect(server.counters.tcpSourceRejected).toBe(1);
    for (const c of held) c.close();
  });

  it('rejects a per-source limit that is not a positive number', () => {
    expect(
      () => new DnsServer({ port: 0, handler: () => null, maxTcpConnectionsPerSource: 0 }),
    ).toThrow('maxTcpConnectionsPerSource must be a positive number, got 0');
    expect(() => new DnsServer({ port: 0, handler: () => null, maxTcpQueuedBytes: -1 })).toThrow(
      'maxTcpQueuedBytes',
    );
  });
});
