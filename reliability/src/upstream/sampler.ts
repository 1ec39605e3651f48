import { decode } from '@mdns/protocol';
import { dnsQuery } from '@mdns/transport';

export interface Sample {
  name: string;
  ms: number;
  /** rcode mnemonic, or 'timeout' / 'error'. */
  rcode: string;
  addresses: string[];
  /** Owner names of the answer records. */
  owners: string[];
  /** Largest TTL in the answer section, or -1 when it is empty. */
  maxTtl: number;
}

/** One UDP query; never throws. */
export async function sample(port: number, name: string, timeoutMs = 3000): Promise<Sample> {
  const started = performance.now();
  try {
    const r = await dnsQuery({ host: '127.0.0.1', port, name, type: 'A', timeoutMs });
    const d = decode(r.bytes);
    const answers = d.ok ? (d.message.answers ?? []) : [];
    return {
      name,
      ms: performance.now() - started,
      rcode: d.ok ? String(d.message.rcode) : 'undecodable',
      addresses: answers
        .filter((a) => a.type === 'A')
        .map((a) => String((a as { data?: unknown }).data)),
      owners: answers.map((a) => a.name),
      maxTtl: answers.reduce((m, a) => Math.max(m, (a as { ttl?: number }).ttl ?? 0), -1),
    };
  } catch (err) {
    const kind = (err as { kind?: string }).kind;
    return {
      name,
      ms: performance.now() - started,
      rcode: kind === 'timeout' ? 'timeout' : 'error',
      addresses: [],
      owners: [],
      maxTtl: -1,
    };
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: Sample[]): LatencySummary {
  const ms = samples.map((s) => s.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0;
  return {
    count: ms.length,
    p50: Math.round(at(0.5) * 10) / 10,
    p99: Math.round(at(0.99) * 10) / 10,
    max: Math.round((ms.at(-1) ?? 0) * 10) / 10,
  };
}

/**
 * Queries `names()` in rounds (one round = one query per name, concurrently) every
 * `intervalMs` for `durationMs`. Bounded by the duration.
 */
export async function sampleFor(
  port: number,
  names: (round: number) => string[],
  durationMs: number,
  intervalMs = 50,
): Promise<Sample[]> {
  const out: Sample[] = [];
  const end = Date.now() + durationMs;
  for (let round = 0; Date.now() < end; round++) {
    out.push(...(await Promise.all(names(round).map((n) => sample(port, n)))));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return out;
}
