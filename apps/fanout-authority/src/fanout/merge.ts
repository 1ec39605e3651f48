import { chooseCname, type DnsRecord, normalizeName, QTYPE, typeNumber } from '@mdns/protocol';
import type { Policy } from '../config/schema.js';
import type { Classification } from '../upstream/classify.js';

/**
 * The merge decision (spec: fanout-authority answer table), as one pure function over
 * what is known so far. The orchestrator calls it after every upstream outcome (and when
 * the `all` wait runs out) and acts on anything but `wait`.
 */

export interface UpstreamState {
  name: string;
  /** Lower number = higher priority (`priority` policy only). */
  priority: number;
  /** 'skipped': circuit open when the query started, never asked. */
  status: 'pending' | 'done' | 'skipped';
  /** Set when status is 'done'. */
  outcome?: Classification;
  /** Arrival order of the outcome (0 = first reply); set when status is 'done'. */
  order?: number;
  /** Circuit open *now* (at decision time), e.g. opened by this very query's timeout. */
  unhealthy: boolean;
}

export type Decision =
  | { kind: 'wait' }
  /** Indexes into the upstream list whose records form the answer (several only for `all`). */
  | { kind: 'positive'; winners: number[]; why: string }
  | { kind: 'nodata'; why: string }
  /**
   * `partial`: an upstream was skipped or failed (all of those known unhealthy), so the name
   * may live on a cluster we could not ask: a stale answer beats it and it is not cached.
   */
  | { kind: 'nxdomain'; why: string; partial: boolean }
  /** No answer worth giving: the caller serves stale if it has it, else SERVFAIL. */
  | { kind: 'failed'; why: string };

export interface MergeInput {
  policy: Policy;
  upstreams: readonly UpstreamState[];
  /** `all` only: the bounded wait after the first POSITIVE has run out. */
  allWaitExpired?: boolean;
}

const WAIT: Decision = { kind: 'wait' };

export function decide(input: MergeInput): Decision {
  const { upstreams } = input;
  const positive = decidePositive(input);
  if (positive !== null) return positive;
  // No POSITIVE decision yet. While anyone is pending a POSITIVE may still arrive, and
  // a NODATA or NXDOMAIN must never beat it (unlike CoreDNS fanout).
  if (upstreams.some((u) => u.status === 'pending')) return WAIT;
  return decideNegative(upstreams);
}

function decidePositive({ policy, upstreams, allWaitExpired }: MergeInput): Decision | null {
  const positives: number[] = [];
  for (let i = 0; i < upstreams.length; i++) {
    if (upstreams[i].outcome?.class === 'POSITIVE') positives.push(i);
  }
  if (positives.length === 0) return null;
  if (positives.length > 1) {
    positives.sort((a, b) => (upstreams[a].order ?? 0) - (upstreams[b].order ?? 0));
  }

  // `first`, the miss path's usual policy, needs neither the sort nor the pending list.
  if (policy === 'first') {
    return {
      kind: 'positive',
      winners: [positives[0]],
      why: `first POSITIVE: ${upstreams[positives[0]].name}`,
    };
  }
  const pending = upstreams.filter((u) => u.status === 'pending');
  if (policy === 'all') {
    if (pending.length > 0 && !allWaitExpired) return WAIT;
    const names = positives.map((i) => upstreams[i].name).join(', ');
    const cut = pending.length > 0 ? ` (wait ran out, ${pending.length} still pending)` : '';
    return {
      kind: 'positive',
      winners: positives,
      why: `all: merged POSITIVE from ${names}${cut}`,
    };
  }
  // priority: the best (lowest number) POSITIVE, ties by arrival; wait only while an upstream
  // of strictly better priority may still answer.
  let best = positives[0];
  for (const i of positives) if (upstreams[i].priority < upstreams[best].priority) best = i;
  const bestPriority = upstreams[best].priority;
  if (pending.some((u) => u.priority < bestPriority)) return WAIT;
  return {
    kind: 'positive',
    winners: [best],
    why: `priority: ${upstreams[best].name} (priority ${bestPriority}) is the best with a POSITIVE`,
  };
}

function decideNegative(upstreams: readonly UpstreamState[]): Decision {
  let nodata = 0;
  let nxdomain = 0;
  const failed: UpstreamState[] = [];
  for (const u of upstreams) {
    if (u.status !== 'done') continue;
    const c = u.outcome?.class;
    if (c === 'NODATA') nodata++;
    else if (c === 'NXDOMAIN') nxdomain++;
    else if (c === 'FAILED') failed.push(u);
  }
  if (nodata > 0) return { kind: 'nodata', why: `no POSITIVE, ${nodata} NODATA` };
  if (nxdomain === 0) {
    return { kind: 'failed', why: 'every upstream failed or is unhealthy' };
  }
  const skipped = upstreams.some((u) => u.status === 'skipped');
  if (failed.length === 0) {
    return {
      kind: 'nxdomain',
      why: `all ${nxdomain} healthy upstream(s) NXDOMAIN`,
      partial: skipped,
    };
  }
  // Some failed on this query: their silence proves nothing unless they are known dead.
  const alive = failed.filter((u) => !u.unhealthy);
  if (alive.length === 0) {
    return {
      kind: 'nxdomain',
      why: `${nxdomain} NXDOMAIN; the ${failed.length} that failed are known unhealthy`,
      partial: true,
    };
  }
  return {
    kind: 'failed',
    why: `${nxdomain} NXDOMAIN but ${alive.map((u) => u.name).join(', ')} failed and may hold the name`,
  };
}

/** Which POSITIVE answers of an `all` merge may stand side by side, and why others were left out. */
export interface OwnerDataChoice {
  /** Indexes into the lists whose records form the answer. */
  kept: number[];
  /** Indexes left out; empty when nothing conflicted. */
  dropped: number[];
  /** For `explain`: why the dropped ones were left out; '' when none were. */
  why: string;
}

/**
 * `all` merges the POSITIVE answers of several clusters, and a CNAME must not end up beside
 * other data at qname (RFC 1034 3.6.2). Each list is one cluster's records for the question:
 * qname's data of the asked type, or qname's CNAME (and the chain behind it). The gateway's
 * own rule for one cluster (`chooseCname`, @mdns/protocol) decides across clusters too:
 * addresses at qname win and every CNAME answer is dropped; else the smallest CNAME target
 * wins and the answers with other data (TXT, ...) or another target are dropped. A list is a
 * CNAME answer when it has a CNAME at qname; only the others can bring addresses.
 */
export function chooseOwnerData(
  lists: ReadonlyArray<readonly DnsRecord[]>,
  qname: string,
): OwnerDataChoice {
  const owner = normalizeName(qname);
  const targets: Array<string | null> = lists.map(() => null);
  let hasAddress = false;
  for (let i = 0; i < lists.length; i++) {
    let address = false;
    for (const rr of lists[i]) {
      if (normalizeName(rr.name) !== owner) continue;
      const type = typeNumber(String(rr.type));
      if (type === QTYPE.CNAME) targets[i] = String((rr as { data?: unknown }).data);
      else if (type === QTYPE.A || type === QTYPE.AAAA) address = true;
    }
    if (targets[i] === null && address) hasAddress = true;
  }
  const offered = targets.filter((t): t is string => t !== null);
  if (offered.length === 0) return { kept: lists.map((_, i) => i), dropped: [], why: '' };
  const keep = chooseCname(hasAddress, offered);
  const keepKey = keep === null ? null : normalizeName(keep);
  const kept: number[] = [];
  const dropped: number[] = [];
  for (let i = 0; i < lists.length; i++) {
    const target = targets[i];
    const stays =
      keepKey === null ? target === null : target !== null && normalizeName(target) === keepKey;
    (stays ? kept : dropped).push(i);
  }
  const why =
    dropped.length === 0
      ? ''
      : keep === null
        ? 'addresses win over a CNAME'
        : `CNAME ${normalizeName(keep)} wins (smallest host name; other data at the name dropped)`;
  return { kept, dropped, why };
}
