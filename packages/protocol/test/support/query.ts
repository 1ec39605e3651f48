import dnsPacket from 'dns-packet';
import type { ScannedQuery } from '../../src/index.js';
import { scan } from '../../src/index.js';

export interface QueryShape {
  name: string;
  type?: string;
  id?: number;
  flags?: number;
  class?: string;
  /** Question count: 1 unless 0 or 2 (the same question twice). */
  qdcount?: 0 | 2;
  edns?: {
    udpSize?: number;
    version?: number;
    do?: boolean;
    options?: { code: number; data: Buffer }[];
  } | null;
}

/** Query bytes as dns-packet (an independent encoder) writes them, plus their scan. */
export function makeQuery(q: QueryShape): { bytes: Uint8Array; query: ScannedQuery } {
  const edns = q.edns === undefined ? {} : q.edns;
  const bytes = dnsPacket.encode({
    type: 'query',
    id: q.id ?? 0x1234,
    flags: q.flags ?? 0x0100,
    questions: Array.from({ length: q.qdcount ?? 1 }, () => ({
      name: q.name,
      type: (q.type ?? 'A') as any,
      class: (q.class ?? 'IN') as any,
    })),
    additionals: edns
      ? [
          {
            name: '.',
            type: 'OPT',
            udpPayloadSize: edns.udpSize ?? 4096,
            extendedRcode: 0,
            ednsVersion: edns.version ?? 0,
            flags: edns.do ? 0x8000 : 0,
            flag_do: !!edns.do,
            options: (edns.options ?? []) as any,
          },
        ]
      : [],
  });
  const r = scan(bytes);
  if (!r.ok) throw new Error(`test query does not scan: ${r.error}`);
  return { bytes, query: r.query };
}

/** The options the answer tests use, in the shape of `makeQuery`. */
export interface QueryOptions {
  opcode?: number;
  class?: string;
  qdcount?: 0 | 2;
  edns?: { udpSize?: number; version?: number; dnssecOk?: boolean } | null;
}

/** The scan of a query for `name`/`type` (no EDNS unless asked, RD set). */
export function scanned(name: string, type: string, options: QueryOptions = {}): ScannedQuery {
  const { edns } = options;
  return makeQuery({
    name,
    type,
    flags: ((options.opcode ?? 0) << 11) | 0x0100,
    class: options.class,
    qdcount: options.qdcount,
    edns: edns ? { udpSize: edns.udpSize ?? 1232, version: edns.version, do: edns.dnssecOk } : null,
  }).query;
}
