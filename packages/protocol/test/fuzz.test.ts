import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, scan, tryPrepareStored } from '../src/index.js';

// Deterministic xorshift32 so a failure reproduces; the seed is printed on failure.
function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/knot-exchanges.json', import.meta.url), 'utf8'),
) as {
  exchanges: { query: string; response: string }[];
};
const corpus: Uint8Array[] = fixture.exchanges.flatMap((e) => [
  Buffer.from(e.query, 'hex'),
  Buffer.from(e.response, 'hex'),
]);
corpus.push(
  encode({
    type: 'response',
    id: 1,
    flags: 0x0400,
    questions: [{ name: 'a.b.example.tld', type: 'SOA' }],
    answers: [
      { name: 'a.b.example.tld', type: 'CNAME', ttl: 1, data: 'c.example.tld' },
      {
        name: 'c.example.tld',
        type: 'MX',
        ttl: 1,
        data: { preference: 1, exchange: 'm.c.example.tld' },
      },
    ],
    authorities: [
      {
        name: 'example.tld',
        type: 'SOA',
        ttl: 1,
        data: {
          mname: 'ns.example.tld',
          rname: 'h.example.tld',
          serial: 1,
          refresh: 1,
          retry: 1,
          expire: 1,
          minimum: 1,
        },
      },
    ],
  }),
);

type Mutator = (p: Uint8Array, r: (n: number) => number) => Uint8Array;

const mutators: Mutator[] = [
  // bit flips
  (p, r) => {
    const q = Uint8Array.from(p);
    for (let i = 1 + r(4); i > 0; i--) q[r(q.length)] ^= 1 << r(8);
    return q;
  },
  // truncation
  (p, r) => p.slice(0, r(p.length + 1)),
  // count inflation
  (p, r) => {
    const q = Uint8Array.from(p);
    const at = 4 + 2 * r(4);
    q[at] = r(256);
    q[at + 1] = r(256);
    return q;
  },
  // compression pointer anywhere after the header: forward, self, loops, into the header
  (p, r) => {
    const q = Uint8Array.from(p);
    if (q.length < 14) return q;
    const at = 12 + r(q.length - 13);
    const target = r(3) === 0 ? at : r(q.length + 16);
    q[at] = 0xc0 | ((target >> 8) & 0x3f);
    q[at + 1] = target & 0xff;
    return q;
  },
  // oversized or extended-type label length
  (p, r) => {
    const q = Uint8Array.from(p);
    if (q.length > 12) q[12 + r(q.length - 12)] = 64 + r(192);
    return q;
  },
  // pure random bytes
  (_p, r) => {
    const q = new Uint8Array(r(600));
    for (let i = 0; i < q.length; i++) q[i] = r(256);
    return q;
  },
  // splice two packets
  (p, r) => {
    const other = corpus[r(corpus.length)];
    const cut = r(p.length + 1);
    const q = new Uint8Array(cut + other.length - Math.min(cut, other.length));
    q.set(p.subarray(0, cut));
    q.set(other.subarray(Math.min(cut, other.length)), cut);
    return q;
  },
];

describe('fuzz: scan and decode never throw and always finish', () => {
  it('120k random and mutated packets', () => {
    const seed = 0xdecafbad;
    const r = rng(seed);
    let scanned = 0;
    let decoded = 0;
    const bad: string[] = [];
    for (let i = 0; i < 120_000; i++) {
      let p = corpus[r(corpus.length)];
      for (let k = 1 + r(3); k > 0; k--) p = mutators[r(mutators.length)](p, r);
      let s: ReturnType<typeof scan>;
      let d: ReturnType<typeof decode>;
      try {
        s = scan(p);
        d = decode(p);
        tryPrepareStored(p);
      } catch (e) {
        throw new Error(
          `threw on packet ${i} (seed ${seed}): ${Buffer.from(p).toString('hex')}: ${e}`,
        );
      }
      // Plain checks: expect() per packet would dominate the run time.
      if (s.ok) {
        scanned++;
        if (s.query.questionEnd > p.length) bad.push(`packet ${i}: questionEnd past the end`);
      } else {
        if (s.offset < 0 || s.offset > p.length)
          bad.push(`packet ${i}: offset ${s.offset} outside`);
        if (d.ok) bad.push(`packet ${i}: decode accepted what scan rejected`);
      }
      if (d.ok) decoded++;
    }
    expect(bad.slice(0, 5)).toEqual([]);
    // The mutations must leave some packets valid, or the test only exercises rejection.
    expect(scanned).toBeGreaterThan(1000);
    expect(decoded).toBeGreaterThan(1000);
  });
});
