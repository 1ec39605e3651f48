import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Claim, mergeClaims } from '../src/index.js';

const claim = (a: string[], aaaa: string[] = [], txt: string[] = []): Claim => ({
  name: 'web.example.com',
  a,
  aaaa,
  txt,
  ttl: 30,
});

describe('mergeClaims shares a lone claim single-value lists (one array less per name)', () => {
  it('one claim, one value per type: the records hold the claim arrays themselves', () => {
    const c = claim(['10.0.0.1'], ['fd00::1'], ['hello']);
    const r = mergeClaims('Ingress', [c]);
    expect(r?.a).toBe(c.a);
    expect(r?.aaaa).toBe(c.aaaa);
    expect(r?.txt).toBe(c.txt);
  });

  it('an upper-case AAAA is lowercased, so not shared', () => {
    const c = claim([], ['FD00::1']);
    const r = mergeClaims('Ingress', [c]);
    expect(r?.aaaa).toEqual(['fd00::1']);
    expect(r?.aaaa).not.toBe(c.aaaa);
  });

  it('several values or several claims: sorted, deduplicated copies, as before', () => {
    const two = claim(['10.0.0.2', '10.0.0.1']);
    expect(mergeClaims('Ingress', [two])?.a).toEqual(['10.0.0.1', '10.0.0.2']);
    const x = claim(['10.0.0.1']);
    const y = claim(['10.0.0.1']);
    const r = mergeClaims('Ingress', [x, y]);
    expect(r?.a).toEqual(['10.0.0.1']);
    expect(r?.a).not.toBe(x.a);
  });
});

describe('mergeClaims: the one-value-per-RRset fast path merges as the general path', () => {
  // A claim with an empty `extra` list contributes nothing but sends the merge down the
  // general path: both must give the same records for any claims.
  const inert: Claim = { name: 'n.test', a: [], aaaa: [], txt: [], ttl: 0, extra: [] };
  const values = (gen: fc.Arbitrary<string>) => fc.array(gen, { maxLength: 2 });
  const claim = fc.record({
    name: fc.constant('n.test'),
    a: values(fc.constantFrom('10.0.0.1', '10.0.0.2')),
    aaaa: values(fc.constantFrom('fd00::1', 'FD00::2', 'fd00::2')),
    txt: values(fc.constantFrom('x', 'y')),
    ttl: fc.integer({ min: 0, max: 600 }),
  });
  const withCname = fc
    .tuple(claim, fc.option(fc.constantFrom('t.other.test')))
    .map(([c, cname]): Claim => (cname === null ? c : { ...c, cname }));
  it('for random claims (one to three, any values)', () => {
    fc.assert(
      fc.property(fc.array(withCname, { minLength: 1, maxLength: 3 }), (claims) => {
        expect(mergeClaims('zone', claims)).toEqual(mergeClaims('zone', [...claims, inert]));
      }),
      { numRuns: 2000 },
    );
  });
});
