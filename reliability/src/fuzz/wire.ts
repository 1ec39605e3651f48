/**
 * Raw query construction for the fuzzer. Written by hand rather than with the protocol
 * package's encoder so that the storm can express what no encoder would produce (and so a
 * bug in the encoder cannot hide the same bug in the decoder under test).
 */

export interface RawQuestion {
  /** Wire-format name bytes (labels + terminating zero, or any bytes at all). */
  name: Uint8Array;
  qtype: number;
  qclass: number;
}

export interface RawOpt {
  udpSize: number;
  extendedRcode?: number;
  version?: number;
  flags?: number;
  /** Owner name bytes; a real OPT has the root name [0]. */
  owner?: Uint8Array;
  /** Raw RDATA (options); rdlength is its length unless `rdlength` overrides it. */
  rdata?: Uint8Array;
  rdlength?: number;
}

export interface RawQuery {
  id: number;
  flags: number;
  counts?: [number, number, number, number];
  questions: RawQuestion[];
  opts?: RawOpt[];
}

export const RD = 0x0100;

/** Wire name from dotted text; labels are written as given (no length checks: fuzzing). */
export function wireName(name: string): Uint8Array {
  const parts = name === '' ? [] : name.split('.');
  const out: number[] = [];
  for (const label of parts) {
    const bytes = Buffer.from(label, 'latin1');
    out.push(bytes.length & 0xff, ...bytes);
  }
  out.push(0);
  return Uint8Array.from(out);
}

function u16(out: number[], v: number): void {
  out.push((v >>> 8) & 0xff, v & 0xff);
}

export function buildQuery(q: RawQuery): Uint8Array {
  const out: number[] = [];
  u16(out, q.id);
  u16(out, q.flags);
  const opts = q.opts ?? [];
  const counts = q.counts ?? [q.questions.length, 0, 0, opts.length];
  for (const c of counts) u16(out, c);
  for (const question of q.questions) {
    out.push(...question.name);
    u16(out, question.qtype);
    u16(out, question.qclass);
  }
  for (const opt of opts) {
    out.push(...(opt.owner ?? [0]));
    u16(out, 41);
    u16(out, opt.udpSize);
    out.push(opt.extendedRcode ?? 0, opt.version ?? 0);
    u16(out, opt.flags ?? 0);
    const rdata = opt.rdata ?? new Uint8Array(0);
    u16(out, opt.rdlength ?? rdata.length);
    out.push(...rdata);
  }
  return Uint8Array.from(out);
}

/** A plain, valid query: what a real stub resolver sends. */
export function validQuery(
  id: number,
  name: string,
  qtype: number,
  options: { edns?: number; dnssecOk?: boolean; qclass?: number } = {},
): Uint8Array {
  return buildQuery({
    id,
    flags: RD,
    questions: [{ name: wireName(name), qtype, qclass: options.qclass ?? 1 }],
    opts:
      options.edns === undefined
        ? []
        : [{ udpSize: options.edns, flags: options.dnssecOk ? 0x8000 : 0 }],
  });
}
