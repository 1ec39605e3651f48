import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { type DnsQuestion, decode, encode, RCODE, scan } from '@mdns/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer, LaterReply, type Peer } from '../src/index.js';
import { runDig } from './support/dig.js';
import { RawTcpClient } from './support/raw-tcp.js';
import { testZoneHandler } from './support/test-zone.js';

const HOST = '127.0.0.1';

function query(name: string, id = 0x1234, type: DnsQuestion['type'] = 'A'): Uint8Array {
  return encode({ id, type: 'query', flags: 0x0100, questions: [{ name, type, class: 'IN' }] });
}

function udpAsk(port: number, packet: Uint8Array, timeoutMs = 2000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      socket.close();
      resolve(null);
    }, timeoutMs);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(msg);
    });
    socket.send(packet, port, HOST);
  });
}

function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error('condition not reached'));
      else setTimeout(tick, 20);
    };
    tick();
  });
}

describe('DnsServer answering real clients', () => {
  const seen: Peer[] = [];
  const server = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler(seen) });
  let port = 0;

  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('listens on one port for both UDP and TCP', () => {
    expect(port).toBeGreaterThan(0);
    expect(server.port).toBe(port);
  });

  for (const tool of ['dig', 'kdig'] as const) {
    it(`answers ${tool} over UDP`, async () => {
      const before = server.counters.udpQueries;
      const r = await runDig(tool, HOST, port, ['www.example.test', 'A', '+notcp']);
      expect(r.status).toBe('NOERROR');
      expect(r.answers).toHaveLength(1);
      expect(r.answers[0][0]).toBe('www.example.test.');
      expect(r.answers[0].at(-1)).toBe('192.0.2.1');
      expect(server.counters.udpQueries).toBe(before + 1);
      expect(seen.at(-1)?.transport).toBe('udp');
    });

    it(`answers ${tool} over TCP`, async () => {
      const before = server.counters.tcpQueries;
      const r = await runDig(tool, HOST, port, ['www.example.test', 'A', '+tcp']);
      expect(r.status).toBe('NOERROR');
      expect(r.answers[0].at(-1)).toBe('192.0.2.1');
      expect(server.counters.tcpQueries).toBe(before + 1);
      expect(seen.at(-1)?.transport).toBe('tcp');
    });

    it(`${tool} retries a TC=1 UDP answer over TCP and gets the full answer`, async () => {
      const udpBefore = server.counters.udpQueries;
      const tcpBefore = server.counters.tcpQueries;
      const r = await runDig(tool, HOST, port, ['big.example.test', 'TXT']);
      expect(r.status).toBe('NOERROR');
      expect(r.answers).toHaveLength(60);
      expect(server.counters.udpQueries).toBe(udpBefore + 1);
      expect(server.counters.tcpQueries).toBe(tcpBefore + 1);
    });
  }

  it('kdig reuses one TCP connection for several queries (+keepopen)', async () => {
    const connectionsBefore = server.counters.tcpConnections;
    const r = await runDig('kdig', HOST, port, [
      '+tcp',
      '+keepopen',
      'a.example.test',
      'A',
      'b.example.test',
      'A',
      'c.example.test',
      'A',
    ]);
    expect(r.answers.map((a) => a[0])).toEqual([
      'a.example.test.',
      'b.example.test.',
      'c.example.test.',
    ]);
    expect(server.counters.tcpConnections).toBe(connectionsBefore + 1);
  });
});

describe('DnsServer TCP pipelining', () => {
  const server = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler() });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('answers 3 back-to-back queries on one connection as each handler settles', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    client.send(
      query('delay400.example.test', 1),
      query('fast1.example.test', 2),
      query('delay100.example.test', 3),
    );
    const frames = await client.waitFrames(3);
    const ids = frames.map((f) => f.readUInt16BE(0));
    // The slow first query is answered last: replies leave as handlers finish.
    expect(ids).toEqual([2, 3, 1]);
    for (const f of frames) {
      const d = decode(f);
      expect(d.ok && d.message.answers?.length).toBe(1);
    }
    client.close();
  });

  it('answers queries split across many small writes', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    // No Nagle: each byte leaves as its own segment instead of being coalesced by the client.
    client.socket.setNoDelay(true);
    const q = query('split.example.test', 77);
    const framed = Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
    for (const byte of framed) {
      client.writeRaw(Buffer.from([byte]));
      await new Promise((r) => setImmediate(r));
    }
    const [reply] = await client.waitFrames(1);
    expect(reply.readUInt16BE(0)).toBe(77);
    client.close();
  });
});

describe('DnsServer per-connection in-flight limit', () => {
  let release: (() => void) | null = null;
  let started = 0;
  const server = new DnsServer({
    host: HOST,
    port: 0,
    maxTcpPipelined: 2,
    handler: (q) =>
      new Promise<Uint8Array>((resolve) => {
        started++;
        const prev = release;
        release = () => {
          prev?.();
          resolve(q.slice()); // echo: good enough to count replies
        };
      }),
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('stops reading after maxTcpPipelined queries in flight and resumes when they finish', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query('a.t', 1), query('b.t', 2), query('c.t', 3), query('d.t', 4));
    await until(() => started === 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(started).toBe(2);
    expect(server.counters.tcpPipelinePauses).toBeGreaterThanOrEqual(1);
    release!();
    release = null;
    await until(() => started === 4);
    release!();
    const frames = await client.waitFrames(4);
    expect(frames.map((f) => f.readUInt16BE(0)).sort()).toEqual([1, 2, 3, 4]);
    client.close();
  });
});

describe('DnsServer handler failures', () => {
  const errors: unknown[] = [];
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler: testZoneHandler(),
    onHandlerError: (e) => errors.push(e),
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('a handler that throws yields SERVFAIL with the question echoed, and serving goes on', async () => {
    const r = await runDig('dig', HOST, port, ['throw.example.test', 'A']);
    expect(r.status).toBe('SERVFAIL');
    expect(server.counters.handlerErrors).toBe(1);
    expect(errors).toHaveLength(1);
    const ok = await runDig('dig', HOST, port, ['fine.example.test', 'A']);
    expect(ok.status).toBe('NOERROR');
  });

  it('a handler that rejects yields SERVFAIL over UDP and TCP', async () => {
    const udp = await udpAsk(port, query('reject.example.test', 9));
    expect(udp).not.toBeNull();
    const s = scan(udp!);
    expect(s.ok && s.query.id).toBe(9);
    expect(s.ok && s.query.qname).toBe('reject.example.test');
    expect(udp![3] & 0x0f).toBe(RCODE.SERVFAIL);
    const tcp = await runDig('kdig', HOST, port, ['reject.example.test', 'A', '+tcp']);
    expect(tcp.status).toBe('SERVFAIL');
    expect(server.counters.handlerErrors).toBe(3);
  });

  it('a failing handler on an unscannable query sends nothing and counts it', async () => {
    const before = server.counters.handlerErrorsUnanswered;
    // Header claims one question but the name runs off the end: cannot be scanned.
    const broken = new Uint8Array([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 0x74]);
    const bad = new DnsServer({
      host: HOST,
      port: 0,
      handler: () => {
        throw new Error('always');
      },
    });
    const { port: badPort } = await bad.listen();
    expect(await udpAsk(badPort, broken, 300)).toBeNull();
    expect(bad.counters.handlerErrors).toBe(1);
    expect(bad.counters.handlerErrorsUnanswered).toBe(1);
    await bad.close({ drainMs: 10 });
    expect(server.counters.handlerErrorsUnanswered).toBe(before);
  });

  it('a handler returning something other than bytes is a handler error', async () => {
    const odd = new DnsServer({ host: HOST, port: 0, handler: (() => 'text') as never });
    const { port: oddPort } = await odd.listen();
    const reply = await udpAsk(oddPort, query('odd.example.test', 11));
    expect(reply && reply[3] & 0x0f).toBe(RCODE.SERVFAIL);
    expect(odd.counters.handlerErrors).toBe(1);
    await odd.close({ drainMs: 10 });
  });

  it('a null reply sends nothing and is counted', async () => {
    const before = server.counters.noReply;
    expect(await udpAsk(port, query('null.example.test'), 300)).toBeNull();
    expect(server.counters.noReply).toBe(before + 1);
  });
});

describe('DnsServer with a LaterReply (the callback form of an async handler)', () => {
  const errors: unknown[] = [];
  // later.*: settled on a timer; now.*: settled before the handler returns; fail.*: failed.
  const handler = (bytes: Uint8Array): LaterReply => {
    const s = scan(bytes);
    const later = new LaterReply();
    if (!s.ok) {
      later.reply(null);
      return later;
    }
    const q = s.query;
    const answer = () =>
      encode({
        id: q.id,
        type: 'response',
        flags: 0x0400,
        questions: [{ name: q.qname, type: 'A', class: 'IN' }],
        answers: [{ name: q.qname, type: 'A', ttl: 60, data: '192.0.2.7' }],
      });
    if (q.qname.startsWith('now.')) later.reply(answer());
    else if (q.qname.startsWith('fail.')) setTimeout(() => later.fail(new Error('upstreams')), 5);
    else setTimeout(() => later.reply(answer()), 5);
    return later;
  };
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler,
    onHandlerError: (e) => errors.push(e),
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  for (const name of ['later.example.test', 'now.example.test']) {
    it(`answers ${name} over UDP and TCP`, async () => {
      const udp = await udpAsk(port, query(name, 21));
      const d = udp && decode(udp);
      expect(d?.ok && d.message.id).toBe(21);
      expect(d?.ok && d.message.answers?.map((r) => (r as { data: string }).data)).toEqual([
        '192.0.2.7',
      ]);
      const tcp = await runDig('kdig', HOST, port, [name, 'A', '+tcp']);
      expect(tcp.status).toBe('NOERROR');
      expect(tcp.answers[0].at(-1)).toBe('192.0.2.7');
    });
  }

  it('a failed one is SERVFAIL over UDP and TCP, reported like a rejection', async () => {
    const before = server.counters.handlerErrors;
    const udp = await udpAsk(port, query('fail.example.test', 22));
    expect(udp && udp[3] & 0x0f).toBe(RCODE.SERVFAIL);
    const tcp = await runDig('kdig', HOST, port, ['fail.example.test', 'A', '+tcp']);
    expect(tcp.status).toBe('SERVFAIL');
    expect(server.counters.handlerErrors).toBe(before + 2);
    expect(String(errors.at(-1))).toContain('upstreams');
  });

  it('can be awaited like the promise it replaces, settled before or after', async () => {
    const early = new LaterReply();
    early.reply(null);
    expect(await early).toBeNull();
    const late = new LaterReply();
    setTimeout(() => late.fail(new Error('late')), 1);
    await expect(late).rejects.toThrow('late');
    // Only the first settlement counts.
    const once = new LaterReply();
    once.reply(new Uint8Array([1]));
    once.fail(new Error('ignored'));
    expect(await once).toEqual(new Uint8Array([1]));
  });
});

describe('DnsServer bad input', () => {
  let handled = 0;
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler: (q, peer) => {
      handled++;
      return testZoneHandler()(q, peer);
    },
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('ignores and counts UDP packets shorter than a header or with QR=1', async () => {
    const before = server.counters.dropped;
    expect(await udpAsk(port, new Uint8Array([1, 2, 3]), 200)).toBeNull();
    const response = query('x.example.test');
    response[2] |= 0x80;
    expect(await udpAsk(port, response, 200)).toBeNull();
    expect(server.counters.dropped).toBe(before + 2);
    expect(handled).toBe(0);
    const ok = await udpAsk(port, query('after.example.test'));
    expect(ok).not.toBeNull();
  });

  it('closes only the connection whose length prefix is malformed', async () => {
    const good = await RawTcpClient.connect(HOST, port);
    const bad = await RawTcpClient.connect(HOST, port);
    bad.writeRaw(new Uint8Array([0, 3, 1, 2, 3]));
    await bad.waitClosed();
    expect(server.counters.tcpFramingErrors).toBe(1);
    good.send(query('still.example.test', 5));
    const [reply] = await good.waitFrames(1);
    expect(reply.readUInt16BE(0)).toBe(5);
    good.close();
  });
});

describe('DnsServer TCP resource limits', () => {
  const server = new DnsServer({
    host: HOST,
    port: 0,
    handler: testZoneHandler(),
    tcpIdleTimeoutMs: 300,
    maxTcpConnections: 3,
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('closes idle connections after the idle timeout', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query('idle.example.test', 1));
    await client.waitFrames(1);
    await client.waitClosed(3000);
    expect(server.counters.tcpIdleClosed).toBe(1);
  });

  it('closes a connection that trickles bytes without ever completing a query (slowloris)', async () => {
    const before = server.counters.tcpIdleClosed;
    const client = await RawTcpClient.connect(HOST, port);
    const framed = Buffer.concat([Buffer.from([0, 40]), Buffer.alloc(40)]);
    let sent = 0;
    // One byte every 100 ms: each byte would restart a plain socket timeout of 300 ms.
    const timer = setInterval(() => {
      if (client.closed || sent >= framed.length) return;
      client.socket.write(framed.subarray(sent, sent + 1));
      sent++;
    }, 100);
    try {
      await client.waitClosed(3000);
    } finally {
      clearInterval(timer);
    }
    expect(sent).toBeLessThan(framed.length);
    expect(server.counters.tcpIdleClosed).toBe(before + 1);
  });

  it('does not close a connection whose handler is still working', async () => {
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query('delay700.example.test', 2));
    const [reply] = await client.waitFrames(1, 3000);
    expect(reply.readUInt16BE(0)).toBe(2);
    await client.waitClosed(3000);
  });

  it('holds the connection limit: extra connections are closed at once and counted', async () => {
    await until(() => server.counters.tcpOpen === 0);
    const rejectedBefore = server.counters.tcpRejected;
    const clients: RawTcpClient[] = [];
    for (let i = 0; i < 3; i++) clients.push(await RawTcpClient.connect(HOST, port));
    await until(() => server.counters.tcpOpen === 3);
    const extra: RawTcpClient[] = [];
    for (let i = 0; i < 2; i++) extra.push(await RawTcpClient.connect(HOST, port));
    for (const c of extra) await c.waitClosed();
    expect(server.counters.tcpRejected).toBe(rejectedBefore + 2);
    for (const [i, c] of clients.entries()) c.send(query('limit.example.test', 100 + i));
    for (const [i, c] of clients.entries()) {
      const [reply] = await c.waitFrames(1);
      expect(reply.readUInt16BE(0)).toBe(100 + i);
    }
    for (const c of clients) c.close();
  });
});

describe('DnsServer close', () => {
  it('drains in-flight handlers before closing, then refuses new work', async () => {
    const server = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler() });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query('delay300.example.test', 42));
    const pendingUdp = udpAsk(port, query('delay300.example.test', 43));
    await until(() => server.counters.tcpQueries === 1 && server.counters.udpQueries === 1);
    await server.close({ drainMs: 3000 });
    const [reply] = await client.waitFrames(1);
    expect(reply.readUInt16BE(0)).toBe(42);
    expect((await pendingUdp)?.readUInt16BE(0)).toBe(43);
    await client.waitClosed();
    await expect(RawTcpClient.connect(HOST, port)).rejects.toThrow();
  });

  it('gives up on handlers that outlive drainMs', async () => {
    const server = new DnsServer({ host: HOST, port: 0, handler: () => new Promise(() => {}) });
    const { port } = await server.listen();
    await udpAsk(port, query('hang.example.test'), 50);
    // The handler never settles: close() resolving at all is the give-up.
    await server.close({ drainMs: 200 });
    expect(server.counters.udpReplies).toBe(0);
  });

  it('a handler settling after close does not crash or send', async () => {
    const server = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler() });
    const { port } = await server.listen();
    const client = await RawTcpClient.connect(HOST, port);
    client.send(query('delay400.example.test', 1));
    const udp = udpAsk(port, query('delay400.example.test', 2), 800);
    await until(() => server.counters.tcpQueries === 1 && server.counters.udpQueries === 1);
    await server.close({ drainMs: 50 });
    await client.waitClosed();
    expect(await udp).toBeNull();
    expect(server.counters.udpReplies).toBe(0);
    expect(server.counters.tcpReplies).toBe(0);
  });

  it('reusePort: a shared port on Node >= 22.12; before, ignored, so a second bind is EADDRINUSE', async () => {
    const first = new DnsServer({ host: HOST, port: 0, handler: () => null, reusePort: true });
    const { port } = await first.listen();
    const second = new DnsServer({ host: HOST, port, handler: () => null, reusePort: true });
    try {
      if (nodeHasReusePort(process.versions.node)) {
        await expect(second.listen()).resolves.toEqual({ port });
      } else {
        // README: older Node ignores the option; the second server is refused, naming the port.
        await expect(second.listen()).rejects.toThrow(`127.0.0.1 port ${port}`);
      }
    } finally {
      await second.close({ drainMs: 10 });
      await first.close({ drainMs: 10 });
    }
  });

  it('port 0 gives each server its own port, the same for UDP and TCP', async () => {
    const servers: DnsServer[] = [];
    for (let i = 0; i < 5; i++) {
      const s = new DnsServer({ host: HOST, port: 0, handler: () => null });
      await s.listen();
      servers.push(s);
    }
    expect(new Set(servers.map((s) => s.port)).size).toBe(5);
    await Promise.all(servers.map((s) => s.close({ drainMs: 10 })));
  });

  it('names the address and port when a fixed port is busy', async () => {
    const first = new DnsServer({ host: HOST, port: 0, handler: () => null });
    const { port } = await first.listen();
    const second = new DnsServer({ host: HOST, port, handler: () => null });
    await expect(second.listen()).rejects.toThrow(`127.0.0.1 port ${port}`);
    await first.close({ drainMs: 10 });
  });
});

/** The socket memory `ss` reports for the UDP socket bound to `port` on 127.0.0.1. */
function udpSocketMemory(port: number): { rb: number; tb: number } {
  const out = execFileSync('ss', ['-u', '-l', '-n', '-m', `sport = :${port}`], {
    encoding: 'utf8',
  });
  const m = /skmem:\(r\d+,rb(\d+),t\d+,tb(\d+)/.exec(out);
  if (!m) throw new Error(`no skmem for udp port ${port} in: ${out}`);
  return { rb: Number(m[1]), tb: Number(m[2]) };
}

const sysctl = (name: string) => Number(readFileSync(`/proc/sys/net/core/${name}`, 'utf8'));

describe('UDP socket buffers', () => {
  it('udpBufferBytes sets SO_RCVBUF and SO_SNDBUF (the kernel doubles it, capped by rmem_max)', async () => {
    const asked = 1024 * 1024;
    const sized = new DnsServer({
      host: HOST,
      port: 0,
      handler: testZoneHandler(),
      udpBufferBytes: asked,
    });
    const plain = new DnsServer({ host: HOST, port: 0, handler: testZoneHandler() });
    const zero = new DnsServer({
      host: HOST,
      port: 0,
      handler: testZoneHandler(),
      udpBufferBytes: 0,
    });
    const { port } = await sized.listen();
    const { port: plainPort } = await plain.listen();
    const { port: zeroPort } = await zero.listen();
    try {
      const got = udpSocketMemory(port);
      expect(got.rb).toBe(2 * Math.min(asked, sysctl('rmem_max')));
      expect(got.tb).toBe(2 * Math.min(asked, sysctl('wmem_max')));
      // Without the option the OS default stays (what the apps had before listen.udpBufferBytes).
      expect(udpSocketMemory(plainPort).rb).toBe(sysctl('rmem_default'));
      // 0 (the apps' listen.udpBufferBytes: 0) keeps the OS default too.
      expect(udpSocketMemory(zeroPort).rb).toBe(sysctl('rmem_default'));
    } finally {
      await sized.close();
      await plain.close();
      await zero.close();
    }
  });
});

/** Whether this Node version honours `reusePort` on UDP and TCP sockets (22.12 and later). */
function nodeHasReusePort(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major > 22 || (major === 22 && minor >= 12);
}
