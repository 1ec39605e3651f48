import { decode } from '@mdns/protocol';
import { dnsQuery } from '@mdns/transport';

export interface Expectation {
  name: string;
  type: 'A' | 'AAAA';
  /** The exact address set a correct answer holds (order ignored). */
  addresses: readonly string[];
}

export interface ProbeResult {
  ok: boolean;
  ms: number;
  /** What was wrong, for a failed probe. */
  detail: string;
}

/**
 * "Does a valid query still get a correct answer?": one query (UDP unless `tcp`), judged
 * on rcode, AA and the exact address set. `attempts` absorbs a UDP packet the kernel
 * dropped under load; a hung or wrong server fails every attempt.
 */
export async function probeAnswer(
  host: string,
  port: number,
  expect: Expectation,
  options: { tcp?: boolean; attempts?: number; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const started = performance.now();
  let detail = '';
  for (let attempt = 0; attempt < (options.attempts ?? 3); attempt++) {
    try {
      const res = await dnsQuery({
        host,
        port,
        name: expect.name,
        type: expect.type,
        timeoutMs: options.timeoutMs ?? 2000,
        tcp: options.tcp,
      });
      detail = judgeAnswer(res.bytes, expect);
      if (detail === '') return { ok: true, ms: performance.now() - started, detail };
    } catch (err) {
      detail = `${(err as Error).message}`;
    }
  }
  return { ok: false, ms: performance.now() - started, detail };
}

/** '' when `reply` is a correct authoritative answer for `expect`, else what differs. */
export function judgeAnswer(reply: Uint8Array, expect: Expectation): string {
  const decoded = decode(reply);
  if (!decoded.ok) return `undecodable reply: ${decoded.error}`;
  const m = decoded.message as {
    rcode?: string;
    flags?: number;
    answers?: { type: string; data: unknown }[];
  };
  if (m.rcode !== 'NOERROR') return `rcode ${m.rcode}`;
  if (((m.flags ?? 0) & 0x0400) === 0) return 'AA not set';
  const got = (m.answers ?? [])
    .filter((a) => a.type === expect.type)
    .map((a) => String(a.data))
    .sort();
  const want = [...expect.addresses].sort();
  if (got.join(',') !== want.join(',')) return `answer [${got}] instead of [${want}]`;
  return '';
}
