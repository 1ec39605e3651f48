import dgram from 'node:dgram';
import net from 'node:net';
import { judgeReply, type SentFacts, sentFacts } from './judge.js';
import { FAMILIES, type Family, generatePacket } from './packets.js';
import { Rng } from './rng.js';

export interface StormOptions {
  host: string;
  port: number;
  packets: number;
  seed: number;
  zone: string;
  known: readonly string[];
  /** The server's advertised EDNS size (config `listen.udpSize`). */
  serverUdpSize?: number;
  /** UDP: packets per second to aim at (open loop, paced in 10 ms ticks). */
  rate?: number;
  /** TCP: concurrent connections. */
  connections?: number;
  /** Hard stop for the whole storm. */
  deadlineMs?: number;
  /** Called about once a second while sending (liveness probes, RSS samples). */
  onTick?: (sent: number) => void | Promise<void>;
}

export interface StormResult {
  transport: 'udp' | 'tcp';
  sent: number;
  bytesSent: number;
  replies: number;
  /** Replies to packets that were themselves responses (QR=1): a DNS loop risk. */
  repliesToResponses: number;
  problems: number;
  problemExamples: string[];
  perFamily: Record<string, number>;
  durationMs: number;
  /** TCP only: connections opened, and those the server reset or closed early. */
  connections?: number;
  resets?: number;
  timedOut: boolean;
}

function emptyResult(transport: 'udp' | 'tcp'): StormResult {
  return {
    transport,
    sent: 0,
    bytesSent: 0,
    replies: 0,
    repliesToResponses: 0,
    problems: 0,
    problemExamples: [],
    perFamily: Object.fromEntries(FAMILIES.map((f) => [f, 0])),
    durationMs: 0,
    timedOut: false,
  };
}

function recordProblem(result: StormResult, text: string, reply: Uint8Array): void {
  result.problems++;
  if (result.problemExamples.length < 20) {
    result.problemExamples.push(`${text} (reply ${Buffer.from(reply).toString('hex')})`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** UDP storm: paced, from several sockets; every reply is paired by ID and judged. */
export async function udpStorm(options: StormOptions): Promise<StormResult> {
  const result = emptyResult('udp');
  const rng = new Rng(options.seed);
  const rate = options.rate ?? 15_000;
  const serverUdpSize = options.serverUdpSize ?? 1232;
  const deadline = Date.now() + (options.deadlineMs ?? 600_000);
  const started = Date.now();
  const sockets: dgram.Socket[] = [];
  // Per socket, IDs run 0..65535 in order, so a reply's ID names the packet it answers.
  const sent: (SentFacts | undefined)[][] = [];
  for (let s = 0; s < 4; s++) {
    const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    const ledger: (SentFacts | undefined)[] = new Array(65536);
    socket.on('message', (reply) => {
      result.replies++;
      const facts = ledger[reply.readUInt16BE(0)];
      if (facts?.qr) result.repliesToResponses++;
      const problem = judgeReply(reply, facts, 'udp', serverUdpSize);
      if (problem) recordProblem(result, problem, reply);
    });
    socket.on('error', () => {});
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    sockets.push(socket);
    sent.push(ledger);
  }

  let inFlight = 0;
  let nextTick = Date.now();
  let lastCallback = Date.now();
  const perTick = Math.max(1, Math.round(rate / 100));
  while (result.sent < options.packets) {
    if (Date.now() > deadline) {
      result.timedOut = true;
      break;
    }
    if (Date.now() - lastCallback >= 1000) {
      lastCallback = Date.now();
      await options.onTick?.(result.sent);
    }
    for (let i = 0; i < perTick && result.sent < options.packets && inFlight < 4000; i++) {
      const s = result.sent % sockets.length;
      const id = Math.floor(result.sent / sockets.length) & 0xffff;
      const packet = generatePacket(rng, id, options.zone, options.known);
      sent[s][id] = sentFacts(packet.bytes);
      result.perFamily[packet.family as Family]++;
      result.sent++;
      result.bytesSent += packet.bytes.length;
      inFlight++;
      sockets[s].send(packet.bytes, options.port, options.host, () => inFlight--);
    }
    nextTick += 10;
    const wait = nextTick - Date.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -1000)
      nextTick = Date.now(); // fell behind: do not burst to catch up
    else await new Promise((r) => setImmediate(r));
  }
  await sleep(500); // late replies
  for (const socket of sockets) socket.close();
  result.durationMs = Date.now() - started;
  return result;
}

/**
 * TCP storm: `connections` at a time, each writing a pipelined batch of framed packets and
 * sometimes ending with broken framing (a zero length, a length that lies, a lone byte),
 * then half-closing and reading every reply until the server closes.
 */
export async function tcpStorm(options: StormOptions): Promise<StormResult> {
  const result = emptyResult('tcp');
  result.connections = 0;
  result.resets = 0;
  const rng = new Rng(options.seed);
  const deadline = Date.now() + (options.deadlineMs ?? 600_000);
  const started = Date.now();
  let lastCallback = Date.now();

  const oneConnection = (): Promise<void> => {
    const batch = Math.min(rng.range(20, 200), options.packets - result.sent);
    if (batch <= 0) return Promise.resolve();
    const ledger = new Map<number, SentFacts>();
    const frames: Buffer[] = [];
    for (let i = 0; i < batch; i++) {
      const packet = generatePacket(rng, i, options.zone, options.known);
      ledger.set(i, sentFacts(packet.bytes));
      result.perFamily[packet.family as Family]++;
      const frame = Buffer.alloc(2 + packet.bytes.length);
      frame.writeUInt16BE(packet.bytes.length & 0xffff, 0);
      frame.set(packet.bytes, 2);
      frames.push(frame);
    }
    result.sent += batch;
    const evil = rng.int(5);
    if (evil === 0) frames.push(Buffer.from([0, 0]));
    else if (evil === 1) frames.push(Buffer.concat([Buffer.from([0xff, 0xff]), rng.bytes(100)]));
    else if (evil === 2) frames.push(Buffer.from([0x01]));
    const payload = Buffer.concat(frames);
    result.bytesSent += payload.length;
    result.connections!++;

    return new Promise<void>((resolve) => {
      const socket = net.connect({ host: options.host, port: options.port });
      let buf = Buffer.alloc(0);
      const timer = setTimeout(() => socket.destroy(), 15_000);
      socket.on('connect', () => socket.end(payload));
      socket.on('data', (chunk) => {
        buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const reply = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + reply.length);
          result.replies++;
          const facts = reply.length >= 2 ? ledger.get(reply.readUInt16BE(0)) : undefined;
          if (facts?.qr) result.repliesToResponses++;
          const problem = judgeReply(reply, facts, 'tcp', 65535);
          if (problem) recordProblem(result, problem, reply);
        }
      });
      socket.on('error', () => result.resets!++);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  };

  const workers = Array.from({ length: options.connections ?? 8 }, async () => {
    while (result.sent < options.packets) {
      if (Date.now() > deadline) {
        result.timedOut = true;
        return;
      }
      if (Date.now() - lastCallback >= 1000) {
        lastCallback = Date.now();
        await options.onTick?.(result.sent);
      }
      await oneConnection();
    }
  });
  await Promise.all(workers);
  result.durationMs = Date.now() - started;
  return result;
}
