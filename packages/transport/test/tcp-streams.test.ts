import net from 'node:net';
import { encode } from '@mdns/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer } from '../src/index.js';
import { RawTcpClient } from './support/raw-tcp.js';

// A handler may answer one TCP query with several messages (a zone transfer): they leave in
// order, paced by the client's reading, past maxTcpQueuedBytes in total; a client that stops
// reading is cut off by the stall timer like any other.

const HOST = '127.0.0.1';
const MESSAGES = 200;
const MESSAGE_BYTES = 8000;

function query(id: number): Uint8Array {
  return encode({
    id,
    type: 'query',
    flags: 0,
    questions: [{ name: 'example.test', type: 'AXFR', class: 'IN' }],
  });
}

/** Queries with an ID from here get 16 MB: more than the kernel buffers to a non-reader. */
const HUGE_FROM = 1000;

/** Message i: the query's ID, then i in bytes 12..13, padded to MESSAGE_BYTES. */
function stream(q: Uint8Array): Uint8Array[] {
  const huge = ((q[0] << 8) | q[1]) >= HUGE_FROM;
  return Array.from({ length: huge ? 10 * MESSAGES : MESSAGES }, (_, i) => {
    const m = new Uint8Array(MESSAGE_BYTES);
    m.set(q.subarray(0, 2));
    m[2] = 0x80;
    m[12] = i >> 8;
    m[13] = i & 0xff;
    return m;
  });
}

describe('a multi-message TCP reply', () => {
  const server = new DnsServer({
    host: HOST,
    port: 0,
    // 1.6 MB of messages against a 256 KiB queue limit: only pacing makes that possible.
    maxTcpQueuedBytes: 256 * 1024,
    tcpIdleTimeoutMs: 1000,
    handler: (q) => (q[2] & 0x80 ? null : stream(q)),
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('arrives whole and in order, then the next query on the connection is answered', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query(1));
    client.send(query(2));
    const frames = await client.waitFrames(2 * MESSAGES);
    expect(frames.map((f) => f.readUInt16BE(0))).toEqual([
      ...Array(MESSAGES).fill(1),
      ...Array(MESSAGES).fill(2),
    ]);
    expect(frames.slice(0, MESSAGES).map((f) => f.readUInt16BE(12))).toEqual(
      Array.from({ length: MESSAGES }, (_, i) => i),
    );
    expect(server.counters.tcpQueueOverflows).toBe(0);
    client.close();
  });

  it('to a client that stops reading ends with a write stall, others are served', async () => {
    const stalls = server.counters.tcpWriteStalls;
    const stuck = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: HOST, port }, () => resolve(s));
      s.once('error', reject);
      s.pause();
    });
    stuck.write(
      Buffer.concat([Buffer.from([0, query(HUGE_FROM).length]), Buffer.from(query(HUGE_FROM))]),
    );
    const other = await RawTcpClient.connect(HOST, port);
    other.send(query(4));
    expect((await other.waitFrames(MESSAGES)).length).toBe(MESSAGES);
    other.close();
    const started = Date.now();
    while (server.counters.tcpWriteStalls === stalls && Date.now() - started < 15_000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(server.counters.tcpWriteStalls).toBe(stalls + 1);
    // Paced: the stall ended it long before the whole stream was handed to the socket.
    expect(server.counters.tcpReplies).toBeLessThan(3 * MESSAGES + 10 * MESSAGES);
    stuck.destroy();
  });
});
