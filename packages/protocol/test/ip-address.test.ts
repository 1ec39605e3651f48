import { isIP } from 'node:net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalAddress } from '../src/index.js';
import { formatIpv6 } from '../src/ip-address.js';
import { writeIpv6 } from '../src/private/address.js';

// Runs on Node (`vitest run`) and on Bun (`bun --bun vitest run`, scripts/test-bun.sh): the
// canonicaliser is plain string work, so both runtimes must give the same answers.

function bytesOf(text: string): Uint8Array {
  const out = new Uint8Array(16);
  expect(writeIpv6(text, out, 0)).toBe(true);
  return out;
}

describe('canonicalAddress: RFC 5952 form of IPv6', () => {
  it.each([
    // 4.1: leading zeros suppressed
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    // 4.2.1: "::" used to its maximum
    ['2001:db8:0:0:0:0:0:1', '2001:db8::1'],
    // 4.2.2: a single zero group is not "::"
    ['2001:db8::1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    // 4.2.3: the longest run; of equal runs the first
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    // 4.3: lower case
    ['2001:DB8::AbCd', '2001:db8::abcd'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['FE80:0::1', 'fe80::1'],
    // 5: IPv4-mapped in mixed notation, whatever form it came in (sockets report this form)
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['0:0:0:0:0:FFFF:c000:0201', '::ffff:192.0.2.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    // a dotted tail elsewhere is just two groups
    ['::0:0:0:0:0.0.0.0', '::'],
    ['::1.2.3.4', '::102:304'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
    ['::ffff:0:1.2.3.4', '::ffff:0:102:304'],
    // zones are kept as written
    ['FE80::0001%eth0', 'fe80::1%eth0'],
    ['fe80::1%Eth.0-a:b', 'fe80::1%Eth.0-a:b'],
  ])('%s -> %s', (text, canonical) => {
    expect(canonicalAddress(text)).toBe(canonical);
  });

  it('IPv4 stays as written, and is refused where net.isIP refuses it', () => {
    expect(canonicalAddress('127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalAddress('0.0.0.0')).toBe('0.0.0.0');
    expect(canonicalAddress('255.255.255.255')).toBe('255.255.255.255');
  });

  it.each([
    '',
    'localhost',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    '256.0.0.1',
    '1.2.3.4%eth0',
    ':',
    ':::',
    ':1',
    '1:',
    '1::2::3',
    '12345::',
    'g::',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:7:1.2.3.4',
    '::ffff:01.2.3.4',
    '::1.2.3',
    '::1.2.3.4:5',
    'fe80::1%',
    'fe80::1%a b',
    'fe80::1%a%b',
    '[::1]',
  ])('refuses %j', (text) => {
    expect(canonicalAddress(text)).toBeNull();
    expect(isIP(text)).toBe(0);
  });
});

describe('canonicalAddress properties', () => {
  const ipv6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
    // Zero groups often, so runs of every length (and ties between runs) come up.
    for (let g = 0; g < 8; g++) if (b[2 * g] & 1) b[2 * g] = b[2 * g + 1] = 0;
    return b;
  });

  it('accepts exactly what net.isIP accepts (fast-check addresses and near misses)', () => {
    const nearMiss = fc
      .tuple(
        fc.oneof(fc.ipV4(), fc.ipV6()),
        fc.nat(),
        fc.constantFrom('', ':', '.', '0', 'x', '::'),
      )
      .map(([text, at, insert]) => {
        const i = at % (text.length + 1);
        return text.slice(0, i) + insert + text.slice(i);
      });
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), nearMiss), (text) => {
        expect(canonicalAddress(text) !== null).toBe(isIP(text) !== 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('keeps the address: the canonical text parses to the same 16 bytes', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const canonical = canonicalAddress(text);
        expect(canonical).not.toBeNull();
        expect(bytesOf(canonical as string)).toEqual(bytesOf(text));
      }),
      { numRuns: 1000 },
    );
  });

  it('is idempotent, and every spelling of an address gets the same text', () => {
    fc.assert(
      fc.property(ipv6Bytes, fc.infiniteStream(fc.nat()), (bytes, choices) => {
        const canonical = formatIpv6(bytes);
        expect(canonicalAddress(canonical)).toBe(canonical);
        expect(canonicalAddress(spell(bytes, choices))).toBe(canonical);
      }),
      { numRuns: 1000 },
    );
  });

  it('has the shape RFC 5952 demands', () => {
    fc.assert(
      fc.property(ipv6Bytes, (bytes) => {
        const text = formatIpv6(bytes);
        expect(text).toBe(text.toLowerCase());
        expect(text.split('::').length).toBeLessThanOrEqual(2);
        // no leading zero in a group, no zero group left next to a "::", no "0:0" left at all
        // when "::" was available for it
        for (const group of text.split(/::|:/))
          if (group.length > 1) expect(group).not.toMatch(/^0/);
        expect(text).not.toMatch(/(^|:)0::|::0(:|$)/);
        if (!text.includes('::')) expect(`:${text}:`).not.toMatch(/:0:0:/);
      }),
      { numRuns: 1000 },
    );
  });

  // An independent oracle where it exists: WHATWG URL serialises IPv6 hosts with the same
  // compression rule, in hex only (no mixed notation); on Bun it refuses some valid forms.
  it('agrees with the WHATWG URL serialiser wherever that parses the address', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const viaUrl = urlHost(text);
        if (viaUrl === null) return;
        const canonical = canonicalAddress(text) as string;
        if (canonical.includes('.')) expect(urlHost(canonical)).toBe(viaUrl);
        else expect(canonical).toBe(viaUrl);
      }),
      { numRuns: 1000 },
    );
  });
});

function urlHost(text: string): string | null {
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/** Another valid spelling of `bytes`: case, leading zeros, `::` on any zero run, a dotted tail. */
function spell(bytes: Uint8Array, choices: fc.Stream<number>): string {
  const pick = (n: number) => (choices.next().value as number) % n;
  const groups: string[] = [];
  for (let g = 0; g < 8; g++) {
    let hex = ((bytes[2 * g] << 8) | bytes[2 * g + 1]).toString(16);
    hex = '0'.repeat(pick(5 - hex.length)) + hex;
    groups.push(pick(2) ? hex.toUpperCase() : hex);
  }
  let tail: string[] = [];
  if (pick(3) === 0) {
    tail = [`${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`];
    groups.length = 6;
  }
  const zeroRuns: [number, number][] = [];
  for (let i = 0; i < groups.length; i++) {
    if (Number.parseInt(groups[i], 16) !== 0) continue;
    let j = i;
    while (j < groups.length && Number.parseInt(groups[j], 16) === 0) j++;
    zeroRuns.push([i, j]);
    i = j;
  }
  if (zeroRuns.length > 0 && pick(2) === 0) {
    const [from, to] = zeroRuns[pick(zeroRuns.length)];
    const end = from + 1 + pick(to - from);
    return `${[...groups.slice(0, from)].join(':')}::${[...groups.slice(end), ...tail].join(':')}`;
  }
  return [...groups, ...tail].join(':');
}
