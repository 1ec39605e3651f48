import { CLASS, type DnsRecord, encode, QTYPE, RCODE } from '@mdns/protocol';
import {
  AnswerCache,
  type CacheEvent,
  cacheConfigSchema,
  type NotStoredReason,
} from '../src/cache/index.js';

// Shared builders for the cache-*.test.ts files (not a test file itself).

export const ZONE = 'prod.example.tld';
export const T0 = 1_700_000_000_000;

export function soa(ttl: number, minimum: number): DnsRecord {
  const data = {
    mname: `ns1.${ZONE}`,
    rname: `hostmaster.${ZONE}`,
    serial: 1,
    refresh: 3600,
    retry: 600,
    expire: 86400,
    minimum,
  };
  return { name: ZONE, type: 'SOA', ttl, data };
}

export function positive(name: string, ttl: number, records = 1): Uint8Array {
  const answers: DnsRecord[] = [];
  for (let i = 0; i < records; i++)
    answers.push({ name, type: 'A', ttl, data: `10.0.${i >> 8}.${i & 255}` });
  return reply(name, RCODE.NOERROR, answers, []);
}

export function nxdomain(name: string, soaTtl = 3600, minimum = 300): Uint8Array {
  return reply(name, RCODE.NXDOMAIN, [], [soa(soaTtl, minimum)]);
}

export function reply(
  name: string,
  rcode: number,
  answers: DnsRecord[],
  authorities: DnsRecord[],
  tc = false,
): Uint8Array {
  return encode({
    id: 1,
    type: 'response',
    flags: 0x0400 | (tc ? 0x0200 : 0) | rcode,
    questions: [{ name, type: 'A', class: 'IN' }],
    answers,
    authorities,
  });
}

export function cache(overrides: Record<string, unknown> = {}, events?: string[]): AnswerCache {
  const sink = events && {
    inc: (event: CacheEvent, reason: NotStoredReason | undefined) => {
      events.push(reason ? `${event}:${reason}` : event);
    },
  };
  return new AnswerCache(cacheConfigSchema.parse(overrides), sink);
}

export const k = (c: AnswerCache, name: string) => c.key(name, QTYPE.A, CLASS.IN, false);
