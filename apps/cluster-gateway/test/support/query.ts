import { encode, type ScannedQuery, scan } from '@mdns/protocol';

export interface QueryOptions {
  id?: number;
  opcode?: number;
  class?: string;
  qdcount?: 0 | 2;
  edns?: { udpSize?: number; version?: number; dnssecOk?: boolean } | null;
}

/** Wire bytes of a query, built through the protocol encoder (what a real client sends). */
export function queryBytes(name: string, type: string, options: QueryOptions = {}): Uint8Array {
  const questions =
    options.qdcount === 0
      ? []
      : Array.from({ length: options.qdcount ?? 1 }, () => ({
          name,
          type,
          class: options.class ?? 'IN',
        }));
  const additionals = [];
  if (options.edns) {
    const version = options.edns.version ?? 0;
    additionals.push({
      name: '.',
      type: 'OPT',
      udpPayloadSize: options.edns.udpSize ?? 1232,
      extendedRcode: 0,
      ednsVersion: version,
      flags: options.edns.dnssecOk ? 0x8000 : 0,
      options: [],
    });
  }
  return encode({
    id: options.id ?? 0x1234,
    type: 'query',
    flags: ((options.opcode ?? 0) << 11) | 0x0100,
    questions,
    additionals,
  } as never);
}

export function scanned(name: string, type: string, options: QueryOptions = {}): ScannedQuery {
  const r = scan(queryBytes(name, type, options));
  if (!r.ok) throw new Error(`test query does not scan: ${r.error}`);
  return r.query;
}
