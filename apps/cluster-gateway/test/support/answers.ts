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

/**
 * The answer every worker gives: 12 queries over UDP (the OS hands each to either worker)
 * and 4 over TCP (connections handed out in turn), so with `listen.workers` > 1 both answer.
 * Each worker follows the sources on its own; until they agree the result has rcode
 * `DISAGREE` and the distinct answers as its one `answers` line, which no test expects, so a
 * polled check goes on polling and an assertion fails naming what each said.
 */
export async function askEvery(gw: AppProcess, name: string, type: string): Promise<Seen> {
  const all = await Promise.all([
    ...Array.from({ length: 12 }, () => ask(gw, name, type)),
    ...Array.from({ length: 4 }, () => ask(gw, name, type, { tcp: true })),
  ]);
  const distinct = [...new Set(all.map((s) => JSON.stringify(s)))];
  if (distinct.length === 1) return all[0];
  return { ...all[0], rcode: 'DISAGREE', answers: [`workers disagree: ${distinct.join(' | ')}`] };
}
