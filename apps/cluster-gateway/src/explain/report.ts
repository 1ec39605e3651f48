import type { IndexLookup } from '@mdns/protocol';
import { normalizeName } from '@mdns/protocol';
import type { ExplainedClaim } from '../sources/types.js';

/** What the gateway answers for a name, and why: every claimant with its health. */
export interface ExplainReport {
  name: string;
  /** The served zone the name is under; null: outside every zone (REFUSED). */
  zone: string | null;
  /** `records` (with the merged data), `nodata` (the name exists, no data) or `nxdomain`. */
  answer:
    | { type: 'records'; a: string[]; aaaa: string[]; cname: string | null; txt: string[] }
    | { type: 'nodata' }
    | { type: 'nxdomain' }
    | { type: 'refused' };
  claims: {
    kind: string;
    object: string;
    /** What the object answers when healthy. */
    a: string[];
    aaaa: string[];
    cname: string | null;
    txt: string[];
    healthy: boolean;
    /** null: health does not apply (DNSEndpoint, `mdns.io/health: ignore`, manifests). */
    backends: { service: string; state: string; ready: number; total: number }[] | null;
    verdict: string;
  }[];
}

/** The report for `name` from the index's answer and the sources' claimants. Pure. */
export function explainReport(
  rawName: string,
  zone: string | null,
  lookup: IndexLookup | null,
  claims: readonly ExplainedClaim[],
): ExplainReport {
  const name = normalizeName(rawName);
  let answer: ExplainReport['answer'];
  if (zone === null || lookup === null) answer = { type: 'refused' };
  else if (lookup.type === 'records') {
    const r = lookup.records;
    answer = { type: 'records', a: [...r.a], aaaa: [...r.aaaa], cname: r.cname, txt: [...r.txt] };
  } else answer = { type: lookup.type === 'empty' ? 'nodata' : 'nxdomain' };
  return {
    name,
    zone,
    answer,
    claims: claims.map((c) => ({
      kind: c.kind,
      object: c.object,
      a: c.claim.a,
      aaaa: c.claim.aaaa,
      cname: c.claim.cname ?? null,
      txt: c.claim.txt,
      healthy: c.healthy,
      backends:
        c.backends?.map(({ service, state, ready, total }) => ({ service, state, ready, total })) ??
        null,
      verdict:
        c.backends === null
          ? 'answered: health does not apply'
          : c.healthy
            ? 'answered: a backend has a ready endpoint, is in grace, or cannot be known'
            : 'held back: no ready endpoint (sources.health.require)',
    })),
  };
}

/** The terminal form of a report. */
export function formatReport(r: ExplainReport): string {
  const lines = [`${r.name}`, `  zone ${r.zone ?? '(none: REFUSED)'}`];
  const a = r.answer;
  lines.push(
    a.type === 'records'
      ? `  answer: ${[...a.a, ...a.aaaa, ...(a.cname ? [`CNAME ${a.cname}`] : []), ...a.txt.map((t) => `TXT "${t}"`)].join(', ')}`
      : `  answer: ${a.type.toUpperCase()}`,
  );
  if (r.claims.length === 0) lines.push('  no object claims this name');
  for (const c of r.claims) {
    const data = [...c.a, ...c.aaaa, ...(c.cname ? [`CNAME ${c.cname}`] : []), ...c.txt];
    lines.push(`  ${c.kind} ${c.object}: ${data.join(', ') || '(no data)'}`);
    for (const b of c.backends ?? []) {
      lines.push(`    backend ${b.service}: ${b.state}, ${b.ready}/${b.total} ready`);
    }
    lines.push(`    ${c.verdict}`);
  }
  return `${lines.join('\n')}\n`;
}
