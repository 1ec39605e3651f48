import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { validQuery } from '../fuzz/wire.js';
import { type Expectation, probeAnswer } from '../probe.js';
import type { AppProcess } from '../server-process.js';
import { startSlowloris } from './slowloris.js';
import { offerLoad } from './udp-load.js';

/**
 * Attacks on OTHER users: one client (one source address) misbehaves, and what is measured
 * is what happens to a well-behaved client on another address: its answered share and p99.
 * The attacker sends from `source` (default 127.0.1.1, another /24 than the observer's
 * 127.0.0.1: Linux routes all of 127/8 to lo).
 */
export const ATTACKER = '127.0.1.1';

export interface Observed {
  sent: number;
  answered: number;
  /** answered / sent, 0..1. */
  share: number;
  p99Ms: number;
}

/**
 * A well-behaved client: one query every `everyMs` for `durationMs` (bounded), one attempt
 * each with a 1 s timeout, judged for the exact answer. Runs from 127.0.0.1.
 */
export async function observe(
  port: number,
  expect: Expectation,
  durationMs: number,
  options: { tcp?: boolean; everyMs?: number } = {},
): Promise<Observed> {
  const ms: number[] = [];
  let sent = 0;
  let answered = 0;
  const end = Date.now() + durationMs;
  while (Date.now() < end) {
    sent++;
    const r = await probeAnswer('127.0.0.1', port, expect, {
      tcp: options.tcp,
      attempts: 1,
      timeoutMs: 1000,
    });
    ms.push(r.ms);
    if (r.ok) answered++;
    await sleep(options.everyMs ?? 50);
  }
  ms.sort((a, b) => a - b);
  const p99 = ms[Math.min(ms.length - 1, Math.floor(0.99 * ms.length))] ?? 0;
  return {
    sent,
    answered,
    share: sent ? Math.round((answered / sent) * 1000) / 1000 : 0,
    p99Ms: Math.round(p99 * 10) / 10,
  };
}

/** The server's open TCP connections from its own metrics (both apps export the gauge). */
export function tcpOpen(server: AppProcess): Promise<number | null> {
  const name =
    server.name === 'cluster-gateway'
      ? 'mdns_gateway_transport_tcp_open'
      : 'mdns_authority_server_tcp_open';
  return server.metric(name);
}

export interface HogResult {
  attack: 'connection-hog';
  connections: number;
  /** Open TCP connections on the server once all were attempted (only the attacker's then). */
  attackerOpen: number | null;
  legitTcp: Observed;
  alive: boolean;
}

/**
 * One source opens `connections` silent TCP connections (as many as the default
 * maxTcpConnections) and holds them; another client asks over TCP meanwhile, for less than
 * the idle timeout (so the timeout is not what saves it).
 */
export async function runConnectionHog(
  server: AppProcess,
  expect: Expectation,
  options: { connections?: number; holdMs?: number; source?: string } = {},
): Promise<HogResult> {
  const connections = options.connections ?? 1000;
  const hog = await startSlowloris({
    port: server.dnsPort,
    idle: connections,
    trickle: 0,
    sources: [options.source ?? ATTACKER],
  });
  try {
    const attackerOpen = await tcpOpen(server);
    const legitTcp = await observe(server.dnsPort, expect, options.holdMs ?? 5000, { tcp: true });
    return {
      attack: 'connection-hog',
      connections,
      attackerOpen,
      legitTcp,
      alive: server.alive,
    };
  } finally {
    hog.stop();
  }
}

export interface NonReaderResult {
  attack: 'non-readers';
  connections: number;
  queriesEach: number;
  /** Server-side open TCP connections after `waitMs` (the observer's are closed by then). */
  openAfterWait: number | null;
  rssKb: { before: number; peak: number; after: number };
  legitUdp: Observed;
  legitTcp: Observed;
  alive: boolean;
}

/**
 * `connections` clients from one source each pipeline `queriesEach` queries for a large
 * answer and never read: the replies fill their receive windows, then the server's socket
 * buffers. Others are observed for `waitMs`, then the server is asked how many connections are
 * still open. A stalled connection is closed one idle timeout after its last progress, and
 * answering the pipelined queries takes a while first: give it four idle timeouts.
 */
export async function runNonReaders(
  server: AppProcess,
  bigName: string,
  expect: Expectation,
  options: { connections?: number; queriesEach?: number; waitMs: number; source?: string },
): Promise<NonReaderResult> {
  const connections = options.connections ?? 20;
  const queriesEach = options.queriesEach ?? 1000;
  const frames = Buffer.concat(
    Array.from({ length: queriesEach }, (_, i) => {
      const q = validQuery(i & 0xffff, bigName, 16);
      return Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), Buffer.from(q)]);
    }),
  );
  const before = server.memory()?.rssKb ?? 0;
  let peak = before;
  const sockets: net.Socket[] = [];
  for (let i = 0; i < connections; i++) {
    const socket = net.connect({
      host: '127.0.0.1',
      port: server.dnsPort,
      localAddress: options.source ?? ATTACKER,
    });
    socket.on('error', () => {});
    socket.pause(); // never read a reply
    socket.write(frames);
    sockets.push(socket);
  }
  const sampler = setInterval(() => {
    const m = server.memory();
    if (m) peak = Math.max(peak, m.rssKb);
  }, 250);
  try {
    const [legitUdp, legitTcp] = await Promise.all([
      observe(server.dnsPort, expect, options.waitMs),
      observe(server.dnsPort, expect, options.waitMs, { tcp: true, everyMs: 100 }),
    ]);
    await sleep(200);
    return {
      attack: 'non-readers',
      connections,
      queriesEach,
      openAfterWait: await tcpOpen(server),
      rssKb: { before, peak, after: server.memory()?.rssKb ?? 0 },
      legitUdp,
      legitTcp,
      alive: server.alive,
    };
  } finally {
    clearInterval(sampler);
    for (const s of sockets) s.destroy();
  }
}

export interface FloodResult {
  attack: 'udp-flood';
  rate: number;
  seconds: number;
  /** What the flooding address received (a forged-upon victim's share of it). */
  flooder: { sent: number; replies: number; truncated: number; bytes: number };
  legitUdp: Observed;
  alive: boolean;
}

/** One /24 floods one name over UDP at `rate` for `seconds`; another client asks meanwhile. */
export async function runUdpFlood(
  server: AppProcess,
  expect: Expectation,
  options: { rate?: number; seconds?: number; source?: string } = {},
): Promise<FloodResult> {
  const rate = options.rate ?? 5000;
  const seconds = options.seconds ?? 5;
  const [load, legitUdp] = await Promise.all([
    offerLoad(server.dnsPort, [expect.name], rate, seconds, undefined, options.source ?? ATTACKER),
    observe(server.dnsPort, expect, seconds * 1000),
  ]);
  return {
    attack: 'udp-flood',
    rate,
    seconds,
    flooder: {
      sent: load.sent,
      replies: load.answered,
      truncated: load.truncated,
      bytes: load.bytes,
    },
    legitUdp,
    alive: server.alive,
  };
}

/** A DNSEndpoint whose TXT answer is ~8 KB: the "large answer" a non-reader asks for. */
export function bigTxtEndpoint(name: string): Record<string, unknown> {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: 'big-txt', namespace: 'data' },
    spec: {
      endpoints: [
        {
          dnsName: name,
          recordType: 'TXT',
          targets: Array.from({ length: 40 }, (_, i) => `${i}-${'x'.repeat(196)}`),
        },
      ],
    },
  };
}
