import { describe, expect, it } from 'vitest';
import { type Claim, RecordIndex } from '../src/index.js';
import { namesUpTo, rng } from './support/seeded.js';

// The record index (incremental counters, wildcard map) against a naive model that
// recomputes everything from the list of claims on every lookup: existence, empty
// non-terminals at any depth, RFC 4592 wildcards with the closest encloser, and the merged
// address set. Random add/remove sequences from a seeded generator, so a failure repeats.
const ZONE = 'prod.example.tld';

const LABELS = ['a', 'b', 'c'];

type Looked = { kind: 'records'; wildcard: boolean; a: string[] } | { kind: 'empty' | 'nxdomain' };

/** The model: `claims` maps object key -> [owner name, address]. */
function modelLookup(claims: Map<string, [string, string]>, qname: string): Looked {
  const owners = new Map<string, Set<string>>();
  for (const [name, ip] of claims.values()) {
    const set = owners.get(name) ?? new Set();
    set.add(ip);
    owners.set(name, set);
  }
  const records = (name: string) => owners.get(name);
  const exists = (name: string) =>
    name === ZONE ||
    records(name) !== undefined ||
    [...owners.keys()].some((o) => o.endsWith(`.${name}`));
  const own = records(qname);
  if (own) return { kind: 'records', wildcard: false, a: [...own].sort() };
  if (exists(qname)) return { kind: 'empty' };
  // RFC 4592: the closest encloser is the nearest existing ancestor; only `*.<it>` applies.
  let encloser = qname;
  do encloser = encloser.slice(encloser.indexOf('.') + 1);
  while (!exists(encloser));
  const wild = records(`*.${encloser}`);
  return wild ? { kind: 'records', wildcard: true, a: [...wild].sort() } : { kind: 'nxdomain' };
}

function indexLookup(index: RecordIndex, qname: string): Looked {
  const r = index.lookup(qname, ZONE);
  if (r.type === 'records') return { kind: 'records', wildcard: r.wildcard, a: [...r.records.a] };
  if (r.type === 'empty' || r.type === 'nxdomain') return { kind: r.type };
  throw new Error(`unexpected lookup result ${JSON.stringify(r)} for ${qname}`);
}

const claim = (name: string, ip: string): Claim => ({ name, a: [ip], aaaa: [], txt: [], ttl: 60 });

describe('RecordIndex against a naive model', () => {
  const owners = [
    ...namesUpTo(ZONE, LABELS, 3).filter((n) => n !== ZONE),
    ...namesUpTo(ZONE, LABELS, 2).map((n) => `*.${n}`),
  ];
  const queries = namesUpTo(ZONE, LABELS, 4);

  it('agrees on every name after every step of random add/remove sequences', () => {
    for (let seed = 1; seed <= 60; seed++) {
      const next = rng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)];
      const index = new RecordIndex();
      const claims = new Map<string, [string, string]>();
      for (let step = 0; step < 25; step++) {
        const key = `ns/o${Math.floor(next() * 8)}`;
        if (claims.has(key) && next() < 0.4) {
          index.replaceObject('Ingress', key, []);
          claims.delete(key);
        } else {
          const name = pick(owners);
          const ip = `10.0.0.${1 + Math.floor(next() * 4)}`;
          index.replaceObject('Ingress', key, [claim(name, ip)]);
          claims.set(key, [name, ip]);
        }
        for (const q of queries) {
          const want = modelLookup(claims, q);
          const got = indexLookup(index, q);
          if (JSON.stringify(got) !== JSON.stringify(want)) {
            // Name the case so it can be replayed by hand.
            expect(
              { seed, step, qname: q, got },
              `claims ${JSON.stringify([...claims.values()])}`,
            ).toEqual({ seed, step, qname: q, got: want });
          }
        }
      }
    }
  });
});
