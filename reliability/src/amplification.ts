import { decode, QTYPE } from '@mdns/protocol';
import { udpExchange } from '@mdns/testkit';
import { KNOWN, ZONE } from './fixtures.js';
import { validQuery } from './fuzz/wire.js';

export interface AmplificationCase {
  label: string;
  name: string;
  qtype: number;
  /** EDNS UDP size the client advertises; undefined = no OPT (512-byte limit). */
  edns?: number;
  dnssecOk?: boolean;
}

export interface AmplificationRow extends AmplificationCase {
  querySize: number;
  /** 0 when nothing came back. */
  replySize: number;
  ratio: number;
  rcode: string;
  answerTypes: string[];
  truncated: boolean;
}

/**
 * What a spoofing attacker would try: the shortest queries for the largest answers, with
 * the largest EDNS size and DO set, over UDP (the only transport a spoofer can use).
 */
export function amplificationCases(): AmplificationCase[] {
  const cases: AmplificationCase[] = [];
  const targets: [string, string, number][] = [
    ['apex ANY', ZONE, QTYPE.ANY],
    ['apex NS (+glue)', ZONE, QTYPE.NS],
    ['apex SOA', ZONE, QTYPE.SOA],
    ['16 A records', KNOWN.multi.name, QTYPE.A],
    ['16 AAAA records', KNOWN.multi.name, QTYPE.AAAA],
    ['ANY on a 32-record name', KNOWN.multi.name, QTYPE.ANY],
    ['NXDOMAIN (+SOA)', `nx.${ZONE}`, QTYPE.A],
    ['NODATA TXT (+SOA)', KNOWN.web.name, QTYPE.TXT],
    ['AXFR over UDP', ZONE, QTYPE.AXFR],
    ['out of zone', 'example.org', QTYPE.A],
    ['out of zone ANY', 'example.org', QTYPE.ANY],
    ['root NS', '', QTYPE.NS],
  ];
  for (const [label, name, qtype] of targets) {
    cases.push({ label, name, qtype });
    cases.push({ label: `${label}, EDNS 4096 DO`, name, qtype, edns: 4096, dnssecOk: true });
  }
  return cases;
}

export async function measureAmplification(
  port: number,
  cases = amplificationCases(),
): Promise<AmplificationRow[]> {
  const rows: AmplificationRow[] = [];
  for (const c of cases) {
    const query = validQuery(0x1234, c.name, c.qtype, { edns: c.edns, dnssecOk: c.dnssecOk });
    const reply = await udpExchange(port, query, { timeoutMs: 3000 });
    const decoded = reply ? decode(reply) : null;
    const message = decoded?.ok ? decoded.message : null;
    rows.push({
      ...c,
      querySize: query.length,
      replySize: reply?.length ?? 0,
      ratio: (reply?.length ?? 0) / query.length,
      rcode: message ? String(message.rcode) : reply ? 'undecodable' : 'no reply',
      answerTypes: (message?.answers ?? []).map((a) => String(a.type)),
      truncated: reply ? (reply[2] & 0x02) !== 0 : false,
    });
  }
  return rows;
}

/** Markdown table rows for RELIABILITY.md. */
export function amplificationTable(rows: AmplificationRow[]): string {
  const lines = [
    '| query | q bytes | r bytes | ratio | rcode | answer | TC |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.label} | ${r.querySize} | ${r.replySize} | ${r.ratio.toFixed(2)} | ${r.rcode} | ${r.answerTypes.length} ${[...new Set(r.answerTypes)].join(',')} | ${r.truncated ? 1 : 0} |`,
    );
  }
  return lines.join('\n');
}
