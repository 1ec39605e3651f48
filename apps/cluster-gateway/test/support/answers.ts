import { decode } from '@mdns/protocol';
import type { AppProcess } from '@mdns/testkit';
import type { DnsQueryOptions } from '@mdns/transport';

export interface Seen {
  rcode: string;
  /** `TYPE data` per answer record, in wire order. */
  answers: string[];
  authority: string[];
  additional: string[];
  aa: boolean;
  tc: boolean;
  ra: boolean;
  bytes: number;
}

function show(r: { type: string; data?: unknown }): string {
  const data = r.data;
  if (Array.isArray(data)) return `${r.type} ${data.map((d) => String(d)).join('')}`;
  if (data && typeof data === 'object') return `${r.type} ${JSON.stringify(data)}`;
  return `${r.type} ${String(data)}`;
}

/** Asks the gateway with the transport client and summarizes the reply. */
export async function ask(
  gw: AppProcess,
  name: string,
  type: string,
  options: Partial<DnsQueryOptions> = {},
): Promise<Seen> {
  const reply = await gw.query(name, type, options);
  const d = decode(reply.bytes);
  if (!d.ok) throw new Error(`reply does not decode: ${d.error}`);
  const m = d.message as any;
  return {
    rcode: m.rcode,
    answers: (m.answers ?? []).map(show),
    authority: (m.authorities ?? []).map((r: any) => r.type),
    additional: (m.additionals ?? []).filter((r: any) => r.type !== 'OPT').map(show),
    aa: (m.flags & 0x0400) !== 0,
    tc: (m.flags & 0x0200) !== 0,
    ra: (m.flags & 0x0080) !== 0,
    bytes: reply.bytes.length,
  };
}
