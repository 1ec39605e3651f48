import { offerLoad } from '../load/udp-load.js';
import { type LatencySummary, type Sample, sampleFor, summarize } from '../upstream/sampler.js';

/**
 * "No client can hurt other users": one client sends hostile queries at a bounded rate while
 * another, legitimate client asks ordinary names. What counts is the legitimate client's
 * answers (their SERVFAIL share and p99), not the attacker's.
 */
export interface HarmResult {
  /** The attacker's packets sent and answered, by rcode number. */
  attack: { sent: number; answered: number; rcodes: Record<number, number> };
  legit: LatencySummary & {
    servfail: number;
    servfailShare: number;
    rcodes: Record<string, number>;
  };
  samples: Sample[];
}

export interface HarmOptions {
  port: number;
  /** The hostile names (latin1 text: one char per byte; dots split labels). */
  attackNames: string[];
  rate: number;
  seconds: number;
  /** The legitimate client's names for round `i` (queried concurrently each round). */
  legitNames: (round: number) => string[];
  /** Pause between the legitimate client's rounds. Default 25 ms. */
  legitIntervalMs?: number;
}

export async function measureHarm(options: HarmOptions): Promise<HarmResult> {
  const { port, attackNames, rate, seconds, legitNames } = options;
  const attack = offerLoad(port, attackNames, rate, seconds);
  // The legitimate client starts once the attack is under way and stops with it.
  await new Promise((r) => setTimeout(r, 500));
  const samples = await sampleFor(
    port,
    legitNames,
    seconds * 1000 - 700,
    options.legitIntervalMs ?? 25,
  );
  const load = await attack;
  const rcodes: Record<string, number> = {};
  for (const s of samples) rcodes[s.rcode] = (rcodes[s.rcode] ?? 0) + 1;
  const servfail = samples.filter((s) => s.rcode !== 'NOERROR' && s.rcode !== 'NXDOMAIN').length;
  return {
    attack: { sent: load.sent, answered: load.answered, rcodes: load.rcodes },
    legit: {
      ...summarize(samples),
      servfail,
      servfailShare: samples.length === 0 ? 0 : servfail / samples.length,
      rcodes,
    },
    samples,
  };
}

/** A label of `n` 0xFF bytes (latin1 text for `wireName`). */
export function binaryLabel(n: number, byte = 0xff): string {
  return String.fromCharCode(byte).repeat(n);
}
