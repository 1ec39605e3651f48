import { describe, expect, it } from 'vitest';
import {
  ancestors,
  isAtOrBelow,
  labelBoundary,
  labelCount,
  labels,
  normalizeName,
  parentName,
  scan,
  typeName,
  typeNumber,
  validateDnsName,
  validateHostname,
  validateQueryName,
  ZoneSet,
} from '../src/index.js';

describe('normalizeName', () => {
  it('lowercases ASCII and drops one trailing dot', () => {
    expect(normalizeName('WwW.Example.TLD.')).toBe('www.example.tld');
    expect(normalizeName('.')).toBe('');
    expect(normalizeName('')).toBe('');
    expect(normalizeName('already.lower')).toBe('already.lower');
  });
});

describe('validateDnsName', () => {
  it('accepts the root, underscores and a trailing dot', () => {
    expect(validateDnsName('')).toBeNull();
    expect(validateDnsName('.')).toBeNull();
    expect(validateDnsName('_dns._tcp.example.tld.')).toBeNull();
  });
  it('rejects empty labels, long labels, long names and spaces with a reason', () => {
    expect(validateDnsName('a..b')).toMatch(/empty label/);
    expect(validateDnsName(`${'a'.repeat(64)}.tld`)).toMatch(/64 characters/);
    expect(
      validateDnsName(
        'a'.repeat(63).concat('.', 'b'.repeat(63), '.', 'c'.repeat(63), '.', 'd'.repeat(62)),
      ),
    ).toMatch(/more than 253/);
    expect(validateDnsName('a b.tld')).toMatch(/not printable/);
  });
});

describe('validateHostname (RFC 1123)', () => {
  it('accepts letters, digits and inner hyphens', () => {
    expect(validateHostname('svc-1.prod.example.tld')).toBeNull();
    expect(validateHostname('1a.example.tld.')).toBeNull();
    expect(validateHostname(`${'a'.repeat(63)}.tld`)).toBeNull();
  });
  it('rejects hyphens at label edges, underscores, empty labels and oversize', () => {
    expect(validateHostname('-a.tld')).toMatch(/hyphen/);
    expect(validateHostname('a-.tld')).toMatch(/hyphen/);
    expect(validateHostname('_a.tld')).toMatch(/letter, digit or hyphen/);
    expect(validateHostname('a..tld')).toMatch(/empty label/);
    expect(validateHostname('')).toMatch(/empty/);
    expect(validateHostname(`${'a'.repeat(64)}.tld`)).toMatch(/64 characters/);
    const long = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.');
    expect(long.length).toBe(255);
    expect(validateHostname(long)).toMatch(/more than 253/);
  });
  it('allows "*" only as a whole leftmost label and only with wildcard', () => {
    expect(validateHostname('*.apps.example.tld')).toMatch(/wildcard/);
    expect(validateHostname('*.apps.example.tld', { wildcard: true })).toBeNull();
    expect(validateHostname('*a.apps.example.tld', { wildcard: true })).toMatch(/whole leftmost/);
    expect(validateHostname('a.*.example.tld', { wildcard: true })).toMatch(/"\*"/);
    expect(validateHostname('*', { wildcard: true })).toMatch(/parent/);
  });
});

describe('name relations', () => {
  it('isAtOrBelow is label aligned', () => {
    expect(isAtOrBelow('a.example.tld', 'example.tld')).toBe(true);
    expect(isAtOrBelow('example.tld', 'example.tld')).toBe(true);
    expect(isAtOrBelow('badexample.tld', 'example.tld')).toBe(false);
    expect(isAtOrBelow('tld', 'example.tld')).toBe(false);
    expect(isAtOrBelow('anything', '')).toBe(true);
  });
  it('parentName, labelCount, labels, ancestors', () => {
    expect(parentName('a.b.c')).toBe('b.c');
    expect(parentName('c')).toBe('');
    expect(parentName('')).toBe('');
    expect(labelCount('')).toBe(0);
    expect(labelCount('a.b.c')).toBe(3);
    expect(labels('a.b')).toEqual(['a', 'b']);
    expect(labels('')).toEqual([]);
    expect([...ancestors('a.b.c')]).toEqual(['a.b.c', 'b.c', 'c', '']);
    expect([...ancestors('a.b.c', 'b.c')]).toEqual(['a.b.c', 'b.c']);
  });
});

describe('ZoneSet', () => {
  const zones = new ZoneSet(['Example.TLD.', 'prod.example.tld', 'other.tld']);
  it('finds the most specific zone, label aligned', () => {
    expect(zones.match('svc.prod.example.tld')).toBe('prod.example.tld');
    expect(zones.match('prod.example.tld')).toBe('prod.example.tld');
    expect(zones.match('xprod.example.tld')).toBe('example.tld');
    expect(zones.match('example.tld')).toBe('example.tld');
    expect(zones.match('tld')).toBeUndefined();
    expect(zones.match('notexample.tld')).toBeUndefined();
    expect(zones.match('')).toBeUndefined();
  });
  it('normalizes the zones it is given and lists them most specific first', () => {
    expect(zones.zones).toEqual(['prod.example.tld', 'example.tld', 'other.tld']);
    expect(zones.has('example.tld')).toBe(true);
    expect(zones.size).toBe(3);
  });
  it('a root zone serves everything', () => {
    expect(new ZoneSet(['.']).match('a.b')).toBe('');
  });
});

describe('type names', () => {
  it('maps mnemonics and RFC 3597 forms both ways', () => {
    expect(typeName(28)).toBe('AAAA');
    expect(typeName(666)).toBe('TYPE666');
    expect(typeNumber('aaaa')).toBe(28);
    expect(typeNumber('TYPE666')).toBe(666);
    expect(typeNumber('UNKNOWN_666')).toBe(666);
    expect(typeNumber('TYPE70000')).toBeUndefined();
    expect(typeNumber('BOGUS')).toBeUndefined();
  });
});

/** The qname `scan` gives for a query whose QNAME is these raw labels (bytes as latin1). */
function scannedName(rawLabels: string[]): string {
  const parts: number[] = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
  for (const l of rawLabels) parts.push(l.length, ...Buffer.from(l, 'latin1'));
  parts.push(0, 0, 1, 0, 1);
  const s = scan(Uint8Array.from(parts));
  if (!s.ok) throw new Error(s.error);
  return s.query.qname;
}

describe('names with a dot or odd bytes inside a label (escaped by scan)', () => {
  const dotted = scannedName(['svc.prod', 'example', 'tld']);
  const slashThenDot = scannedName(['svc\\', 'prod', 'example', 'tld']);
  it('scan escapes them, so they never alias an ordinary name', () => {
    expect(dotted).toBe('svc\\.prod.example.tld');
    expect(slashThenDot).toBe('svc\\\\.prod.example.tld');
  });
  it('label boundaries skip an escaped dot, not an escaped backslash', () => {
    expect(labelBoundary(dotted)).toBe(9);
    expect(labelBoundary(slashThenDot)).toBe(5);
    expect(labels(dotted)).toEqual(['svc\\.prod', 'example', 'tld']);
    expect(labelCount(dotted)).toBe(3);
    expect(parentName(dotted)).toBe('example.tld');
    expect(parentName(slashThenDot)).toBe('prod.example.tld');
  });
  it('zone matching never splits on an escaped dot', () => {
    const zones = new ZoneSet(['prod.example.tld']);
    expect(zones.match(dotted)).toBeUndefined();
    expect(isAtOrBelow(dotted, 'prod.example.tld')).toBe(false);
    expect(isAtOrBelow(dotted, 'example.tld')).toBe(true);
    expect(new ZoneSet(['example.tld', 'prod.example.tld']).match(dotted)).toBe('example.tld');
    // An escaped backslash ends its label: the dot after it is a real boundary.
    expect(zones.match(slashThenDot)).toBe('prod.example.tld');
  });
});

describe('validateQueryName: the edge check of both servers', () => {
  const ok: string[] = [
    'svc.prod.example.tld',
    'a-b.c_d.example.tld',
    '_sip._tcp.example.tld',
    '*.apps.example.tld',
    'UPPER.Example.TLD',
    `${'a'.repeat(63)}.example.tld`,
    'example.tld',
    '',
  ];
  it.each(ok)('accepts %j', (name) => expect(validateQueryName(name)).toBeNull());

  const bad: Array<[string, string]> = [
    [
      scannedName(['\xff'.repeat(16), 'prod', 'example', 'tld']),
      'label 1 holds the escaped byte \\255',
    ],
    [scannedName(['svc.prod', 'example', 'tld']), 'label 1 holds the escaped byte \\.'],
    [scannedName(['svc', 'a\\b', 'tld']), 'label 2 holds the escaped byte \\\\'],
    [scannedName(['a b', 'tld']), 'label 1 holds the escaped byte \\032'],
    [scannedName(['caf\xe9', 'tld']), 'label 1 holds the escaped byte \\233'],
    ['a+b.example.tld', 'label 1 holds "+"'],
    ['a.b=c.example.tld', 'label 2 holds "="'],
    ['a..b', 'label 2 is empty'],
    [`${'a'.repeat(64)}.example.tld`, 'label 1 is 64 bytes, more than 63'],
  ];
  it.each(bad)('rejects %j naming the label and the byte', (name, reason) => {
    expect(validateQueryName(name)).toContain(reason);
  });
});
