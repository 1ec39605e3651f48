import { describe, expect, it } from 'vitest';
import { ipv6Groups, sourcePrefix } from '../src/server/source-prefix.js';

describe('sourcePrefix: which network a client belongs to', () => {
  it.each([
    ['192.0.2.77', 32, 64, '192.0.2.77/32'],
    ['192.0.2.77', 24, 56, '192.0.2.0/24'],
    ['198.51.100.200', 20, 56, '198.51.96.0/20'],
    ['::ffff:192.0.2.77', 24, 56, '192.0.2.0/24'],
    ['::FFFF:192.0.2.77', 32, 64, '192.0.2.77/32'],
    ['2001:db8:aa:bbcc:1:2:3:4', 32, 64, '2001:db8:aa:bbcc:0:0:0:0/64'],
    ['2001:db8:aa:bbcc:1:2:3:4', 24, 56, '2001:db8:aa:bb00:0:0:0:0/56'],
    ['2001:db8::1', 24, 56, '2001:db8:0:0:0:0:0:0/56'],
    ['::1', 24, 128, '0:0:0:0:0:0:0:1/128'],
    ['fe80::1%eth0', 24, 64, 'fe80:0:0:0:0:0:0:0/64'],
    ['not-an-address', 24, 56, 'not-an-address'],
  ])('%s with /%i and /%i → %s', (address, v4, v6, expected) => {
    expect(sourcePrefix(address, v4, v6)).toBe(expected);
  });

  it('expands :: and a dotted IPv4 tail into eight groups', () => {
    expect(ipv6Groups('::')).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(ipv6Groups('64:ff9b::192.0.2.1')).toEqual([0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201]);
    expect(ipv6Groups('1:2:3:4:5:6:7:8')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
