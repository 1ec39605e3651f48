import { readFileSync } from 'node:fs';
import { udpExchange } from '@mdns/testkit';
import { buildQuery, validQuery, wireName } from '../fuzz/wire.js';
import type { Expectation } from '../probe.js';
import { judgeAnswer } from '../probe.js';
import { openLoop } from './udp-load.js';

/**
 * "Can one client hurt the others?": an attack (a flood from one source address) runs while a
 * neighbour — another source address — asks legitimate questions, and the neighbour's answers
 * are judged: right or wrong, SERVFAIL share, p99. Every loop is bounded by its duration.
 */

export interface AddressFloodOptions {
  port: number;
  /** Loopback source address of the attacker (Linux routes all of 127.0.0.0/8 to lo). */
  source: string;
  rate: number;
  seconds: number;
  /** The i-th packet of the flood (its ID is overwritten with i). */
  packet: (i: number) => Uint8Array;
}

export interface AddressFloodResult {
  sent: number;
  replies: number;
  /** Reply rcodes by number; TC=1 replies counted apart under `truncated`. */
  rcodes: Record<number, number>;
  truncated: number;
}

/** `openLoop` from `source`, reported as the floods report it. */
export async function udpFlood(o: AddressFloodOptions): Promise<AddressFloodResult> {
  const r = await openLoop(o);
  return { sent: r.sent, replies: r.answered, rcodes: r.rcodes, truncated: r.truncated };
}

/** An RFC 1996 NOTIFY for `zone` (opcode 4, AA, SOA question). */
export function notifyPacket(zone: string): Uint8Array {
  return buildQuery({
    id: 0,
    flags: (4 << 11) | 0x0400,
    questions: [{ name: wireName(zone), qtype: 6, qclass: 1 }],
  });
}

/** A query for a name nobody has: `<prefix><i>.<zone>` — every one a cache miss. */
export function randomNameQuery(zone: string, prefix: string, i: number): Uint8Array {
  return validQuery(0, `${prefix}${i.toString(36)}.${zone}`, 1);
}

export interface NeighbourSample {
  kind: 'hit' | 'miss';
  ms: number;
  /** '' when right; else what was wrong ('rcode SERVFAIL', 'timeout', ...). */
  problem: string;
}

/**
 * The neighbour: every `intervalMs` for `durationMs`, each of `hits` (names the zone holds,
 * cached after the first round; judged on the exact address set) and one new name of its own
 * (a legitimate miss: NXDOMAIN is right), from `source`.
 */
export async function sampleNeighbour(o: {
  port: number;
  source: string;
  zone: string;
  hits: readonly Expectation[];
  durationMs: number;
  intervalMs?: number;
  timeoutMs?: number;
  tag?: string;
}): Promise<NeighbourSample[]> {
  const out: NeighbourSample[] = [];
  const end = Date.now() + o.durationMs;
  const timeoutMs = o.timeoutMs ?? 2000;
  for (let round = 0; Date.now() < end; round++) {
    const asks = [
      ...o.hits.map(async (e): Promise<NeighbourSample> => {
        const t = performance.now();
        const r = await udpExchange(o.port, validQuery(round & 0xffff, e.name, 1), {
          source: o.source,
          timeoutMs,
        });
        const ms = performance.now() - t;
        return { kind: 'hit', ms, problem: r === null ? 'timeout' : judgeAnswer(r, e) };
      }),
      (async (): Promise<NeighbourSample> => {
        const t = performance.now();
        const name = `legit-${o.tag ?? 'n'}-${round}.${o.zone}`;
        const r = await udpExchange(o.port, validQuery(round & 0xffff, name, 1), {
          source: o.source,
          timeoutMs,
        });
        const ms = performance.now() - t;
        const rcode = r === null ? -1 : r[3] & 0x0f;
        const problem = r === null ? 'timeout' : rcode === 3 ? '' : `rcode ${rcode}`;
        return { kind: 'miss', ms, problem };
      })(),
    ];
    out.push(...(await Promise.all(asks)));
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 50));
  }
  return out;
}

export interface NeighbourSummary {
  count: number;
  /** Answers that were not right (wrong data, SERVFAIL, timeouts), and of those SERVFAILs. */
  wrong: number;
  servfail: number;
  timeouts: number;
  servfailShare: number;
  p50: number;
  p99: number;
}

export function summarizeNeighbour(samples: readonly NeighbourSample[]): NeighbourSummary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  const servfail = samples.filter(
    (s) => s.problem === 'rcode SERVFAIL' || s.problem === 'rcode 2',
  ).length;
  return {
    count: samples.length,
    wrong: samples.filter((s) => s.problem !== '').length,
    servfail,
    timeouts: samples.filter((s) => s.problem === 'timeout').length,
    servfailShare: samples.length === 0 ? 0 : Math.round((servfail / samples.length) * 1000) / 1000,
    p50: Math.round(at(0.5) * 10) / 10,
    p99: Math.round(at(0.99) * 10) / 10,
  };
}

/** CPU seconds (user + system) a live process has used, from /proc/PID/stat (Linux, 100 Hz). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
