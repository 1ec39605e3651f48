import { describe, expect, it } from 'vitest';
import type { Policy } from '../src/config/schema.js';
import { type Decision, decide, type UpstreamState } from '../src/fanout/merge.js';
import type { Classification, OutcomeClass } from '../src/upstream/classify.js';

// One upstream per letter of a row: P POSITIVE, D NODATA, N NXDOMAIN, F FAILED (still
// healthy), X FAILED and circuit now open, . pending, - skipped (circuit open at start).
// Arrival order is left to right among the answered ones unless a row says otherwise.
function row(spec: string, priorities?: number[]): UpstreamState[] {
  const classes: Record<string, OutcomeClass> = {
    P: 'POSITIVE',
    D: 'NODATA',
    N: 'NXDOMAIN',
    F: 'FAILED',
    X: 'FAILED',
  };
  let order = 0;
  return [...spec].map((ch, i) => {
    const name = `u${i}`;
    const priority = priorities?.[i] ?? 0;
    if (ch === '.') return { name, priority, status: 'pending', unhealthy: false };
    if (ch === '-') return { name, priority, status: 'skipped', unhealthy: true };
    const outcome: Classification = { class: classes[ch], rcode: 0, records: [], reason: ch };
    return { name, priority, status: 'done', outcome, order: order++, unhealthy: ch === 'X' };
  });
}

function kind(d: Decision): string {
  return d.kind === 'positive' ? `positive:${d.winners.join('+')}` : d.kind;
}

const table: Array<[Policy, string, string, number[]?]> = [
  // policy first: the first POSITIVE at once, whatever is pending
  ['first', 'P..', 'positive:0'],
  ['first', 'DP.', 'positive:1'],
  ['first', 'NFP', 'positive:2'],
  ['first', 'PP', 'positive:0'],
  // a NODATA never beats a POSITIVE still on its way
  ['first', 'D.', 'wait'],
  ['first', 'D..', 'wait'],
  ['first', 'DN', 'nodata'],
  ['first', 'DF', 'nodata'],
  ['first', 'D-', 'nodata'],
  // NXDOMAIN only when every healthy upstream says so
  ['first', 'N.', 'wait'],
  ['first', 'NN', 'nxdomain'],
  ['first', 'NN-', 'nxdomain'],
  ['first', 'N', 'nxdomain'],
  // failures: NXDOMAIN only if every upstream that failed is known unhealthy
  ['first', 'NF', 'failed'],
  ['first', 'NX', 'nxdomain'],
  ['first', 'NXF', 'failed'],
  ['first', 'NX-', 'nxdomain'],
  // every upstream failed or unhealthy
  ['first', 'FF', 'failed'],
  ['first', 'XF', 'failed'],
  ['first', 'F-', 'failed'],
  ['first', '--', 'failed'],
  ['first', '', 'failed'],
  // policy all: wait for everyone (bounded), merge every POSITIVE
  ['all', 'P.', 'wait'],
  ['all', 'PP', 'positive:0+1'],
  ['all', 'PDP', 'positive:0+2'],
  ['all', 'PF-', 'positive:0'],
  ['all', 'D.', 'wait'],
  ['all', 'DN', 'nodata'],
  // policy priority: lower number wins, wait only for strictly better pending upstreams
  ['priority', 'P.', 'wait', [1, 0]],
  ['priority', 'P.', 'positive:0', [0, 1]],
  // a tie with an equal-priority upstream still pending: no wait, it could not do better
  ['priority', 'P.', 'positive:0', [1, 1]],
  ['priority', '.P', 'positive:1', [1, 1]],
  ['priority', 'PP', 'positive:1', [2, 1]],
  ['priority', 'PP', 'positive:0', [1, 1]],
  ['priority', 'PN', 'positive:0', [1, 0]],
  ['priority', 'P.F', 'wait', [1, 0, 0]],
  ['priority', 'PF.', 'positive:0', [1, 0, 2]],
  ['priority', 'P-', 'positive:0', [1, 0]],
];

describe('merge: answer table', () => {
  it.each(table)('%s %j -> %s', (policy, spec, expected, priorities) => {
    expect(kind(decide({ policy, upstreams: row(spec, priorities) }))).toBe(expected);
  });

  it('all: the bounded wait running out merges what has arrived', () => {
    const d = decide({ policy: 'all', upstreams: row('P.P.'), allWaitExpired: true });
    expect(kind(d)).toBe('positive:0+2');
    expect(d.kind === 'positive' && d.why).toContain('still pending');
  });

  it('first: the winner is the first to arrive, not the first in config order', () => {
    const ups = row('PP');
    ups[0].order = 5;
    expect(kind(decide({ policy: 'first', upstreams: ups }))).toBe('positive:1');
  });

  it('every decision other than wait says why', () => {
    for (const [policy, spec, , priorities] of table) {
      const d = decide({ policy, upstreams: row(spec, priorities) });
      if (d.kind !== 'wait') expect(d.why.length).toBeGreaterThan(0);
    }
  });
});
