import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The kit's source, by path: @mdns/testkit depends on this package, so this package cannot
// depend on the kit (a cycle turbo refuses); the file itself imports nothing of ours.
import { BusyUpstream, busyWait } from '../../testkit/src/busy-upstream.js';
import {
  clientCounters,
  DnsClient,
  DnsQueryError,
  type DnsQueryResult,
  DnsServer,
  type Peer,
} from '../src/index.js';
import { FakeUpstream, forgedReply } from './support/fake-upstream.js';
import { testZoneHandler } from './support/test-zone.js';

const HOST = '127.0.0.1';

function delta<K extends keyof typeof clientCounters>(key: K): () => number {
  const before = clientCounters[key];
  return () => clientCounters[key] - before;
}

async function failure(p: Promise<unknown>): Promise<DnsQueryError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(DnsQueryError);
    return error as DnsQueryError;
  }
  throw new Error('expected the query to fail');
}

describe('DnsClient against DnsServer', () => {
  const seen: Peer[] = [];
  const server = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler(seen) });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  const sourcePorts = (from: number) => new Set(seen.slice(from).map((p) => p.port));

  it('answers many queries over a few long-lived sockets', async () => {
    const client = new DnsClient({ sockets: 2 });
    const opened = delta('socketsOpened');
    const from = seen.length;
    const ask = (i: number) =>
      client.query({ host: HOST, port, name: `n${i}.example.test`, type: 'A', timeoutMs: 3000 });
    // Two event-loop turns: on Bun each turn's queries share one socket (one sendMany).
    const first = Array.from({ length: 20 }, (_, i) => ask(i));
    await new Promise((resolve) => setImmediate(resolve));
    const results = await Promise.all([
      ...first,
      ...Array.from({ length: 20 }, (_, i) => ask(20 + i)),
    ]);
    for (const r of results) {
      expect(r.rcode).toBe(0);
      expect(r.transport).toBe('udp');
      expect(r.query.ancount).toBe(1);
    }
    expect(opened()).toBe(2);
    expect(sourcePorts(from).size).toBe(2);
    client.close();
  });

  it("hands send()'s context back to done, for a reply and for a query never sent", async () => {
    const client = new DnsClient({ sockets: 1 });
    const mine = { name: 'ctx' };
    const got = await new Promise<[number, unknown]>((resolve) =>
      client.send(
        { host: HOST, port, name: 'ctx.example.test', type: 'A', timeoutMs: 3000 },
        (outcome, context) =>
          resolve([outcome instanceof DnsQueryError ? -1 : outcome.rcode, context]),
        undefined,
        mine,
      ),
    );
    expect(got).toEqual([0, mine]);
    const failed = await new Promise<[string, unknown]>((resolve) =>
      client.send(
        { host: 'not-an-ip', port, name: 'ctx.example.test', type: 'A' },
        (outcome, context) =>
          resolve([outcome instanceof DnsQueryError ? outcome.kind : 'ok', context]),
        undefined,
        mine,
      ),
    );
    expect(failed).toEqual(['local', mine]);
    client.close();
  });

  it('takes any spelling of an IPv4-mapped address: the reply source matches on both runtimes', async () => {
    // A udp6 socket reaches the IPv4 server through the mapped address; the reply comes from
    // "::ffff:127.0.0.1". WHATWG URL, the canonicaliser before, refused forms like this on Bun.
    const client = new DnsClient({ sockets: 1 });
    const wrongSource = delta('mismatchedSource');
    for (const host of [
      '::ffff:127.0.0.1',
      '0:0:0:0:0:FFFF:7F00:0001',
      '::0:0:0:0:ffff:127.0.0.1',
    ]) {
      const r = await client.query({ host, port, name: 'mapped.example.test', type: 'A' });
      expect(r.rcode).toBe(0);
      expect(r.query.ancount).toBe(1);
    }
    expect(wrongSource()).toBe(0);
    client.close();
  });

  it('rotates each socket to a new random port after queriesPerSocket', async () => {
    const client = new DnsClient({ sockets: 1, queriesPerSocket: 3 });
    const rotated = delta('socketsRotated');
    const from = seen.length;
    for (let i = 0; i < 9; i++) {
      await client.query({ host: HOST, port, name: `r${i}.example.test`, type: 'A' });
    }
    expect(sourcePorts(from).size).toBe(3);
    expect(rotated()).toBe(2);
    client.close();
  });

  it('sockets: 0 is the strict mode: a fresh socket (new port) per query', async () => {
    const client = new DnsClient({ sockets: 0 });
    const from = seen.length;
    for (let i = 0; i < 5; i++) {
      await client.query({ host: HOST, port, name: `s${i}.example.test`, type: 'A' });
    }
    expect(sourcePorts(from).size).toBe(5);
    expect(client.openSockets).toBe(0);
  });

  it('gives a query its own socket when every pooled socket is busy', async () => {
    const client = new DnsClient({ sockets: 1, maxPendingPerSocket: 1 });
    const opened = delta('socketsOpened');
    const from = seen.length;
    const results = await Promise.all(
      [0, 1, 2].map((i) =>
        client.query({ host: HOST, port, name: `delay50.o${i}.example.test`, type: 'A' }),
      ),
    );
    expect(results.map((r) => r.rcode)).toEqual([0, 0, 0]);
    expect(opened()).toBe(3);
    expect(sourcePorts(from).size).toBe(3);
    expect(client.openSockets).toBe(1);
    client.close();
  });

  it('retries over TCP when the UDP reply has TC=1', async () => {
    const client = new DnsClient();
    const r = await client.query({ host: HOST, port, name: 'big.example.test', type: 'TXT' });
    expect(r.transport).toBe('tcp');
    expect(r.truncatedRetry).toBe(true);
    expect(r.query.ancount).toBe(60);
    client.close();
  });

  it('reports bad input as errors on a later tick, never by throwing', async () => {
    const client = new DnsClient();
    expect((await failure(client.query({ host: 'example.test', name: 'a', type: 'A' }))).kind).toBe(
      'local',
    );
    expect((await failure(client.query({ host: HOST, port, name: 'a', type: 'NOPE' }))).kind).toBe(
      'local',
    );
    const long = `${'x'.repeat(64)}.example.test`;
    expect((await failure(client.query({ host: HOST, port, name: long, type: 'A' }))).kind).toBe(
      'local',
    );
    client.close();
    expect((await failure(client.query({ host: HOST, port, name: 'a', type: 'A' }))).kind).toBe(
      'aborted',
    );
  });

  it('rejects options that make no sense', () => {
    expect(() => new DnsClient({ sockets: -1 })).toThrow(/sockets/);
    expect(() => new DnsClient({ queriesPerSocket: 0 })).toThrow(/queriesPerSocket/);
  });
});

describe('DnsClient reply matching', () => {
  let fake: FakeUpstream;
  let script: (q: Buffer, reply: (b: Uint8Array) => void, other: (b: Uint8Array) => void) => void =
    () => {};
  beforeAll(async () => {
    fake = await FakeUpstream.start((q, reply, other) => script(q, reply, other));
  });
  afterAll(() => fake.close());

  it('drops wrong ID, wrong question and wrong source port, then takes the real reply', async () => {
    const id = delta('mismatchedId');
    const question = delta('mismatchedQuestion');
    const source = delta('mismatchedSource');
    script = (q, reply, other) => {
      const realId = (q[0] << 8) | q[1];
      reply(forgedReply(q, { id: (realId + 1) & 0xffff, address: '198.51.100.1' }));
      reply(forgedReply(q, { name: 'evil.example.test', address: '198.51.100.2' }));
      other(forgedReply(q, { address: '198.51.100.3' }));
      setTimeout(() => reply(forgedReply(q, { address: '192.0.2.7' })), 20);
    };
    const client = new DnsClient({ sockets: 1 });
    const r = await client.query({
      host: HOST,
      port: fake.port,
      name: 'www.example.test',
      type: 'A',
      timeoutMs: 3000,
    });
    expect([...r.bytes.subarray(r.bytes.length - 4)]).toEqual([192, 0, 2, 7]);
    expect(id()).toBe(1);
    expect(question()).toBe(1);
    expect(source()).toBe(1);
    client.close();
  });

  it('times out with kind timeout when nothing comes back', async () => {
    script = () => {};
    const client = new DnsClient({ sockets: 1 });
    const timeouts = delta('timeouts');
    const e = await failure(
      client.query({
        host: HOST,
        port: fake.port,
        name: 'quiet.example.test',
        type: 'A',
        timeoutMs: 60,
      }),
    );
    expect(e.kind).toBe('timeout');
    expect(e.message).toContain(`127.0.0.1:${fake.port}`);
    expect(timeouts()).toBe(1);
    client.close();
  });

  it('a reply after the timeout is reported to onLate (the server is slow, not dead)', async () => {
    script = (q, reply) => setTimeout(() => reply(forgedReply(q)), 150);
    const client = new DnsClient({ sockets: 1 });
    const outcomes: Array<DnsQueryResult | DnsQueryError> = [];
    const late = await new Promise<DnsQueryResult>((resolve) => {
      client.send(
        { host: HOST, port: fake.port, name: 'slow.example.test', type: 'A', timeoutMs: 50 },
        (o) => outcomes.push(o),
        resolve,
      );
    });
    expect(outcomes).toHaveLength(1);
    expect((outcomes[0] as DnsQueryError).kind).toBe('timeout');
    expect(late.rcode).toBe(0);
    expect(late.rttMs).toBeGreaterThanOrEqual(100);
    client.close();
  });

  it('cancel() drops a query: no callback, and its late reply is known as late', async () => {
    let replied!: () => void;
    const sent = new Promise<void>((r) => {
      replied = r;
    });
    script = (q, reply) =>
      setTimeout(() => {
        reply(forgedReply(q));
        replied();
      }, 30);
    const client = new DnsClient({ sockets: 1 });
    const late = delta('lateReplies');
    const cancelled = delta('cancelled');
    const mismatched = delta('mismatched');
    const outcomes: Array<DnsQueryResult | DnsQueryError> = [];
    const q = client.send(
      { host: HOST, port: fake.port, name: 'gone.example.test', type: 'A', timeoutMs: 3000 },
      (o) => outcomes.push(o),
      (o) => outcomes.push(o), // never: a cancelled query has no late reply to report
    );
    q.cancel();
    q.cancel();
    await sent;
    await new Promise((r) => setTimeout(r, 50));
    expect(outcomes).toEqual([]);
    expect(cancelled()).toBe(1);
    expect(late()).toBe(1);
    expect(mismatched()).toBe(0);
    client.close();
  });
});

describe('DnsClient and a busy event loop', () => {
  const onBun = typeof process.versions.bun === 'string';
  // Long enough that a loaded machine still reaches the block before the deadline passes.
  const TIMEOUT_MS = 400;
  let upstream: BusyUpstream;
  let blocker: dgram.Socket;
  let blockUntil = 0;
  beforeAll(async () => {
    // Holds each query until released (the 10 s delay is only a backstop), so the reply is
    // sent while our loop is blocked, whatever the machine's load.
    upstream = await BusyUpstream.start(10_000);
    // A datagram to this socket blocks the loop inside a socket callback, the way a slow
    // request handler does: after such a block both runtimes run expired timers before they
    // read the sockets again (Node: check, timers, poll; Bun: poll callbacks, then timers).
    blocker = dgram.createSocket('udp4');
    blocker.on('message', () => blockWhileUpstreamAnswers());
    await new Promise<void>((r) => blocker.bind(0, HOST, r));
  });
  afterAll(async () => {
    blocker.close();
    await upstream.close();
  });

  /** Blocks until the deadline is long past, the upstream's reply arriving meanwhile. */
  function blockWhileUpstreamAnswers(): void {
    const start = performance.now();
    upstream.release();
    while (upstream.state < 2 && performance.now() - start < 5000) {
      // spin: the reply must reach our socket buffer inside the block
    }
    expect(upstream.state).toBe(2);
    busyWait(blockUntil - performance.now());
  }

  async function blockedQuery(block: () => void): Promise<DnsQueryResult> {
    const client = new DnsClient({ sockets: 2 });
    upstream.reset();
    blockUntil = performance.now() + TIMEOUT_MS + 100;
    const answer = client.query({
      host: HOST,
      port: upstream.port,
      name: 'busy.example.test',
      type: 'A',
      timeoutMs: TIMEOUT_MS,
    });
    try {
      await upstream.queryReceived();
      block();
      return await answer;
    } finally {
      client.close();
      if (upstream.state === 1) upstream.release(); // the block never came: free the upstream
    }
  }

  it('a reply that arrived while a socket callback blocked past the deadline is not a timeout', async () => {
    const saved = delta('lateTimersSaved');
    const r = await blockedQuery(() =>
      blocker.send(new Uint8Array(1), blocker.address().port, HOST),
    );
    expect(r.rcode).toBe(0);
    expect(r.query.ancount).toBe(1);
    // The deadline timer ran first on both runtimes, and its verdict waited for the read.
    expect(saved()).toBe(1);
  });

  it('a reply that arrived while an immediate blocked past the deadline is not a timeout', async () => {
    const saved = delta('lateTimersSaved');
    const r = await blockedQuery(blockWhileUpstreamAnswers);
    expect(r.rcode).toBe(0);
    expect(r.query.ancount).toBe(1);
    // After a block in the check phase Node runs the timers first (the verdict waits); Bun
    // polls the sockets first, so the reply is read before the deadline timer runs at all.
    expect(saved()).toBe(onBun ? 0 : 1);
  });
});

describe('DnsClient randomCase (0x20)', () => {
  /** A UDP server that answers each query with its own bytes as a reply, `lower`-casing the name first if asked. */
  async function echoServer(lower: boolean) {
    const dgram = await import('node:dgram');
    const names: string[] = [];
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, peer) => {
      const reply = Buffer.from(msg);
      reply[2] |= 0x80;
      const end = reply.indexOf(0, 12);
      names.push(reply.subarray(12, end).toString('latin1'));
      if (lower)
        for (let i = 12; i < end; i++) if (reply[i] >= 0x41 && reply[i] <= 0x5a) reply[i] |= 0x20;
      socket.send(reply, peer.port, peer.address);
    });
    await new Promise<void>((r) => socket.bind(0, HOST, r));
    return { port: socket.address().port, names, close: () => socket.close() };
  }

  it('sends the letters in random case and accepts a byte-for-byte echo', async () => {
    const server = await echoServer(false);
    const client = new DnsClient({ sockets: 1 });
    const name = 'abcdefghijklmnopqrstuvwxyz.example.test';
    const r = await client.query({
      host: HOST,
      port: server.port,
      name,
      type: 'A',
      randomCase: true,
    });
    expect(r.query.qname).toBe(name);
    const sent = server.names[0];
    expect(sent.toLowerCase()).toContain('abcdefghijklmnopqrstuvwxyz');
    expect(sent).not.toBe(sent.toLowerCase()); // 2^-32 chance of a false failure
    client.close();
    server.close();
  });

  it('the same question asked in a row (a fan-out): each copy has its own ID and case, all answered', async () => {
    const server = await echoServer(false);
    const client = new DnsClient({ sockets: 1 });
    const name = 'abcdefghijklmnopqrstuvwxyz.example.test';
    const ask = () =>
      client.query({ host: HOST, port: server.port, name, type: 'A', randomCase: true });
    const replies = await Promise.all([ask(), ask(), ask()]);
    expect(new Set(replies.map((r) => r.query.id)).size).toBe(3);
    // Three 26-letter draws all equal: 2^-52.
    expect(new Set(server.names).size).toBe(3);
    // A different question after them is built afresh, not served from the last one's bytes.
    const other = await client.query({
      host: HOST,
      port: server.port,
      name: 'other.test',
      type: 'AAAA',
    });
    expect(other.query.qname).toBe('other.test');
    expect(other.query.qtype).toBe(28);
    client.close();
    server.close();
  });

  it('drops a reply whose name case differs, and times out', async () => {
    const server = await echoServer(true);
    const client = new DnsClient({ sockets: 1 });
    const mismatched = delta('mismatchedQuestion');
    const name = 'abcdefghijklmnopqrstuvwxyz.example.test';
    const e = await failure(
      client.query({
        host: HOST,
        port: server.port,
        name,
        type: 'A',
        randomCase: true,
        timeoutMs: 300,
      }),
    );
    expect(e.kind).toBe('timeout');
    expect(mismatched()).toBe(1);
    // Without randomCase the same server's reply is ours.
    const ok = await client.query({ host: HOST, port: server.port, name, type: 'A' });
    expect(ok.rcode).toBe(0);
    client.close();
    server.close();
  });
});
