import dgram from 'node:dgram';
import { encode, scan } from '@mdns/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsServer } from '../src/index.js';
import {
  debit,
  type RateAccount,
  ResponseRateLimiter,
  responseKey,
  truncatedReply,
} from '../src/server/rate-limit.js';
import { RawTcpClient } from './support/raw-tcp.js';
import { answer, aRecord, testZoneHandler } from './support/test-zone.js';

const query = (name: string, id = 1, type: 'A' | 'TXT' = 'A') =>
  encode({ id, type: 'query', flags: 0x0100, questions: [{ name, type, class: 'IN' }] });

const reply = (name: string, rcode = 0, answers = 1) => {
  const r = answer(query(name), answers > 0 ? [aRecord(name)] : []);
  const out = r.slice();
  out[3] = (out[3] & 0xf0) | rcode;
  return out;
};

describe('debit: the token bucket of one account', () => {
  // rate 2/s, window 3 s, slip 2. Each row: ms since start, verdict, balance after.
  const rows: Array<[number, string, number]> = [
    [0, 'send', 1], // a new account starts with one second of credit
    [0, 'send', 0],
    [0, 'drop', -1], // limited #1
    [0, 'slip', -2], // limited #2: every 2nd limited response slips
    [0, 'drop', -3],
    [0, 'slip', -4],
    [0, 'drop', -5],
    [0, 'slip', -6], // -window × rate is the floor...
    [0, 'drop', -6], // ...so a longer flood does not dig deeper
    [1000, 'slip', -5], // +2 a second, -1 for this response; limited #8
  ];

  it('sends while the balance lasts, then drops and slips, floored at -window × rate', () => {
    const account: RateAccount = { balance: 2, atMs: 0, limited: 0 };
    for (const [at, verdict, balance] of rows) {
      expect([at, debit(account, at, 2, 3, 2), account.balance]).toEqual([at, verdict, balance]);
    }
  });

  it('a quiet client recovers after about `window` seconds, and the balance never exceeds one second', () => {
    const account: RateAccount = { balance: -6, atMs: 0, limited: 0 };
    expect(debit(account, 2000, 2, 3, 2)).toBe('drop'); // -6 + 4 - 1 = -3
    expect(account.balance).toBe(-3);
    expect(debit(account, 4000, 2, 3, 2)).toBe('send'); // -3 + 4 - 1 = 0
    expect(debit(account, 60_000, 2, 3, 2)).toBe('send'); // capped at 2, minus 1
    expect(account.balance).toBe(1);
  });

  it('slip 0 always drops; slip 1 always slips', () => {
    const never: RateAccount = { balance: 0, atMs: 0, limited: 0 };
    const always: RateAccount = { balance: 0, atMs: 0, limited: 0 };
    for (let i = 0; i < 4; i++) {
      expect(debit(never, 0, 1, 5, 0)).toBe('drop');
      expect(debit(always, 0, 1, 5, 1)).toBe('slip');
    }
  });
});

describe('responseKey: which account a reply spends from', () => {
  const net = '192.0.2.0/24';
  it.each([
    ['an answer: network, type and name', reply('Www.Example.TEST'), false, 'answer 1'],
    ['NODATA: its own account', reply('www.example.test', 0, 0), false, 'nodata 1'],
    ['NXDOMAIN: one account per network', reply('random1.example.test', 3, 0), true, 'nxdomain'],
    ['SERVFAIL: the error account', reply('x.example.test', 2, 0), true, 'error'],
    ['REFUSED: the error account', reply('x.example.test', 5, 0), true, 'error'],
  ])('%s', (_label, bytes, error, part) => {
    const got = responseKey(bytes, net);
    expect(got.error).toBe(error);
    expect(got.key.startsWith(`${net} ${part}`)).toBe(true);
  });

  it('ignores the case of the name (0x20) and tells names apart', () => {
    const upper = responseKey(reply('WWW.example.test'), 'n').key;
    expect(upper).toBe(responseKey(reply('www.EXAMPLE.test'), 'n').key);
    expect(upper).not.toBe(responseKey(reply('api.example.test'), 'n').key);
  });

  it('a reply whose question cannot be read is an error', () => {
    const headerOnly = reply('x.example.test').slice(0, 12);
    expect(responseKey(headerOnly, 'n')).toEqual({ key: 'n error', error: true });
  });
});

describe('truncatedReply: the slip', () => {
  it('keeps the ID and the question, sets TC, zeroes every other section', () => {
    const full = reply('www.example.test');
    const tc = truncatedReply(full);
    const s = scan(tc);
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.query.id).toBe(1);
    expect(s.query.qname).toBe('www.example.test');
    expect(tc[2] & 0x02).toBe(0x02);
    expect(Array.from(tc.subarray(6, 12))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(tc.length).toBeLessThan(full.length);
    expect(tc.length).toBe(query('www.example.test').length);
  });

  it('leaves the full reply untouched, also a Buffer (a stored answer other clients get)', () => {
    const full = Buffer.from(reply('www.example.test'));
    const before = Buffer.from(full);
    truncatedReply(full);
    expect(full).toEqual(before);
  });
});

describe('ResponseRateLimiter', () => {
  it('counts client networks, not addresses: a /24 shares one budget, the next /24 has its own', () => {
    let now = 0;
    const rrl = new ResponseRateLimiter({ responsesPerSecond: 2, slip: 0 }, () => now);
    const r = reply('www.example.test');
    expect(rrl.judge(r, '192.0.2.1')).toBe('send');
    expect(rrl.judge(r, '192.0.2.200')).toBe('send');
    expect(rrl.judge(r, '192.0.2.3')).toBe('drop');
    expect(rrl.judge(r, '198.51.100.1')).toBe('send');
    expect(rrl.judge(reply('api.example.test'), '192.0.2.1')).toBe('send');
    now = 1000;
    expect(rrl.judge(r, '192.0.2.1')).toBe('send');
  });

  it('keeps at most tableSize accounts and forgets the least recently used', () => {
    const rrl = new ResponseRateLimiter({ responsesPerSecond: 1, slip: 0, tableSize: 2 }, () => 0);
    const flood = reply('flood.example.test');
    expect(rrl.judge(flood, '192.0.2.1')).toBe('send');
    expect(rrl.judge(flood, '192.0.2.1')).toBe('drop');
    rrl.judge(reply('a.example.test'), '198.51.100.1');
    expect(rrl.judge(flood, '192.0.2.1')).toBe('drop'); // touched: now the most recent
    rrl.judge(reply('b.example.test'), '198.51.100.1'); // evicts a.example.test, not the flood
    expect(rrl.size).toBe(2);
    expect(rrl.judge(flood, '192.0.2.1')).toBe('drop');
  });

  it('names the bad option', () => {
    expect(() => new ResponseRateLimiter({ responsesPerSecond: 5, slip: 1.5 })).toThrow(
      'rateLimit.slip must be an integer between 0 and 10, got 1.5',
    );
    expect(() => new ResponseRateLimiter({ responsesPerSecond: 5, window: 0 })).toThrow(
      'rateLimit.window',
    );
  });
});

/** Send `count` queries from `localAddress` on one socket; count replies and TC=1 replies. */
function burst(
  port: number,
  localAddress: string,
  count: number,
  name: string,
): Promise<{ replies: number; truncated: number }> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket('udp4');
    let replies = 0;
    let truncated = 0;
    socket.on('message', (msg) => {
      replies++;
      if (msg[2] & 0x02) truncated++;
    });
    socket.once('error', reject);
    socket.bind(0, localAddress, async () => {
      for (let i = 0; i < count; i++) {
        socket.send(query(name, i), port, '127.0.0.1');
        if (i % 50 === 49) await new Promise((r) => setImmediate(r));
      }
      // Replies to a bounded burst on loopback arrive quickly; wait a moment for stragglers.
      setTimeout(() => {
        socket.close();
        resolve({ replies, truncated });
      }, 300);
    });
  });
}

describe('DnsServer with rateLimit, real UDP clients', () => {
  const server = new DnsServer({
    host: '127.0.0.1',
    port: 0,
    handler: testZoneHandler(),
    // One second of credit (5), window long enough that the burst stays limited.
    rateLimit: { responsesPerSecond: 5, window: 60, slip: 2, ipv4PrefixLength: 32 },
  });
  let port = 0;
  beforeAll(async () => {
    port = (await server.listen()).port;
  });
  afterAll(() => server.close({ drainMs: 100 }));

  it('limits a flooding source while another source is answered in full, and TCP is never limited', async () => {
    const flood = await burst(port, '127.0.0.1', 400, 'www.example.test');
    // 5 answered within the credit (a few more as the clock moves), half the rest slipped.
    expect(flood.replies - flood.truncated).toBeLessThan(20);
    expect(flood.truncated).toBeGreaterThan(150);
    expect(server.counters.rrlDropped).toBeGreaterThan(150);
    expect(server.counters.rrlSlipped).toBe(flood.truncated);
    const other = await burst(port, '127.0.0.2', 5, 'www.example.test');
    expect(other).toEqual({ replies: 5, truncated: 0 });
    // The slipped client retries over TCP from the same address and gets its answer.
    const tcp = await RawTcpClient.connect('127.0.0.1', port, '127.0.0.1');
    tcp.send(query('www.example.test', 999));
    const [viaTcp] = await tcp.waitFrames(1);
    expect(viaTcp.readUInt16BE(0)).toBe(999);
    expect(viaTcp[2] & 0x02).toBe(0);
    tcp.close();
  });

  it('is off without rateLimit: the same flood is answered in full', async () => {
    const plain = new DnsServer({ host: '127.0.0.1', port: 0, handler: testZoneHandler() });
    const { port: plainPort } = await plain.listen();
    const flood = await burst(plainPort, '127.0.0.1', 200, 'www.example.test');
    expect(flood).toEqual({ replies: 200, truncated: 0 });
    expect(plain.counters.rrlDropped).toBe(0);
    await plain.close({ drainMs: 10 });
  });
});
