import dnsPacket from 'dns-packet';
import type { ScannedQuery } from '../../src/index.js';
import { scan } from '../../src/index.js';

export interface QueryShape {
  name: string;
  type?: string;
  id?: number;
  flags?: number;
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
    questions: [{ name: q.name, type: (q.type ?? 'A') as any }],
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
