import dgram from 'node:dgram';
import { validQuery } from '../fuzz/wire.js';

/**
 * Load over UDP from a few sockets with precomputed queries (only the ID changes), so the
 * sender spends little CPU per packet on a machine it shares with the server under test.
 */
export interface LoadResult {
  seconds: number;
  sent: number;
  answered: number;
  /** Answers per second, one entry per elapsed second. */
  perSecond: number[];
  /** Reply rcode counts (NOERROR, NXDOMAIN, SERVFAIL, ...) by number. */
  rcodes: Record<number, number>;
  /** Reply bytes received: what a forged-upon victim would receive. */
  bytes: number;
  /** Replies with TC=1 (a rate limiter's slip, or a big answer). */
  truncated: number;
}

interface Sender {
  send(): void;
  close(): void;
  result: LoadResult;
}

function makeSender(
  port: number,
  packet: (i: number) => Uint8Array,
  result: LoadResult,
  onAnswer?: () => void,
  source = '127.0.0.1',
) {
  const sockets = Array.from({ length: 4 }, () => {
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    s.on('error', () => {});
    s.on('message', (reply) => {
      result.answered++;
      result.bytes += reply.length;
      if (reply[2] & 0x02) result.truncated++;
      const rcode = reply[3] & 0x0f;
      result.rcodes[rcode] = (result.rcodes[rcode] ?? 0) + 1;
      onAnswer?.();
    });
    s.bind(0, source);
    return s;
  });
  let n = 0;
  const sender: Sender = {
    result,
    send() {
      const q = Buffer.from(packet(n));
      q.writeUInt16BE(n & 0xffff, 0);
      sockets[n % sockets.length].send(q, port, '127.0.0.1');
      n++;
      result.sent++;
    },
    close() {
      for (const s of sockets) s.close();
    },
  };
  return sender;
}

/** The i-th query for `names`, round robin, every other one with EDNS (its ID is overwritten). */
function queriesFor(names: string[]): (i: number) => Uint8Array {
  const queries = names.map((n, i) => validQuery(0, n, 1, { edns: i % 2 ? 1232 : undefined }));
  return (i) => queries[i % queries.length];
}

const newResult = (seconds: number): LoadResult => ({
  seconds,
  sent: 0,
  answered: 0,
  perSecond: [],
  rcodes: {},
  bytes: 0,
  truncated: 0,
});

/**
 * Closed loop: keeps `window` queries outstanding (a new one per answer, plus a top-up
 * every 10 ms for the lost ones) for `seconds`. The answer rate is the capacity.
 */
export async function measureCapacity(
  port: number,
  names: string[],
  seconds: number,
  window = 256,
): Promise<LoadResult> {
  const result = newResult(seconds);
  let outstanding = 0;
  let running = true;
  const sender: Sender = makeSender(port, queriesFor(names), result, () => {
    outstanding--;
    if (running) {
      sender.send();
      outstanding++;
    }
  });
  await new Promise((r) => setTimeout(r, 50)); // sockets bound
  const started = Date.now();
  let lastSecond = started;
  let answeredAtLastSecond = 0;
  while (Date.now() - started < seconds * 1000) {
    // Lost packets would shrink the window forever: refill it, counting them as lost.
    if (outstanding < window) {
      const missing = window - outstanding;
      for (let i = 0; i < missing; i++) sender.send();
      outstanding = window;
    }
    await new Promise((r) => setTimeout(r, 10));
    if (Date.now() - lastSecond >= 1000) {
      result.perSecond.push(result.answered - answeredAtLastSecond);
      answeredAtLastSecond = result.answered;
      lastSecond = Date.now();
      outstanding = Math.min(outstanding, window / 2); // assume some were dropped
    }
  }
  running = false;
  await new Promise((r) => setTimeout(r, 300));
  sender.close();
  return result;
}

export interface OpenLoopOptions {
  port: number;
  /** The address the packets come from (any of 127.0.0.0/8 on Linux loopback). Default 127.0.0.1. */
  source?: string;
  /** Packets per second. */
  rate: number;
  seconds: number;
  /** The i-th packet (its ID is overwritten with i). */
  packet: (i: number) => Uint8Array;
  onSecond?: (second: number, result: LoadResult) => void;
}

/**
 * Open loop: `rate` packets per second for `seconds` from 4 sockets, paced per 10 ms,
 * whatever comes back; replies are counted (rcodes, TC=1, bytes) until 500 ms after the last
 * send. The one flood sender of the campaigns: overload, the neighbour attacks and the
 * authority floods.
 */
export async function openLoop(o: OpenLoopOptions): Promise<LoadResult> {
  const { rate, seconds } = o;
  const result = newResult(seconds);
  const sender = makeSender(o.port, o.packet, result, undefined, o.source);
  await new Promise((r) => setTimeout(r, 50));
  const started = Date.now();
  let answeredAtLastSecond = 0;
  for (let second = 0; second < seconds; second++) {
    for (let tick = 0; tick < 100; tick++) {
      const due = Math.round((rate * (second * 100 + tick + 1)) / 100) - result.sent;
      // libuv reads at most 32 datagrams per socket per loop turn: sending a whole tick in
      // one go capped the answers we could *see* at 4 x 32 per tick (12 800/s). Yield to the
      // poll phase between chunks so replies are read as they come.
      for (let i = 0; i < due; i++) {
        sender.send();
        if (i % 64 === 63) await new Promise((r) => setImmediate(r));
      }
      const wait = started + (second * 100 + tick + 1) * 10 - Date.now();
      await new Promise((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)));
    }
    result.perSecond.push(result.answered - answeredAtLastSecond);
    answeredAtLastSecond = result.answered;
    o.onSecond?.(second, result);
  }
  await new Promise((r) => setTimeout(r, 500));
  sender.close();
  return result;
}

/** `openLoop` with queries for `names` (A, round robin, every other one with EDNS). */
export function offerLoad(
  port: number,
  names: string[],
  rate: number,
  seconds: number,
  onSecond?: (second: number, result: LoadResult) => void,
  source = '127.0.0.1',
): Promise<LoadResult> {
  return openLoop({ port, source, rate, seconds, packet: queriesFor(names), onSecond });
}
