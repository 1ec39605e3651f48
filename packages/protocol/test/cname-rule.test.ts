import { describe, expect, it } from 'vitest';
import { chooseCname } from '../src/index.js';

describe('chooseCname: a CNAME never beside other data (RFC 1034 3.6.2)', () => {
  it.each([
    ['addresses win over every host name', true, ['lb-1.example.com'], null],
    ['no host name offered', false, [], null],
    ['the only host name stays', false, ['lb-1.example.com'], 'lb-1.example.com'],
    [
      'the smallest host name wins, whatever the order',
      false,
      ['lb-3.x', 'lb-2.x', 'lb-4.x'],
      'lb-2.x',
    ],
    [
      'compared without case or trailing dot, returned as given',
      false,
      ['lb-3.x', 'LB-2.X.'],
      'LB-2.X.',
    ],
  ] as const)('%s', (_row, hasAddress, targets, expected) => {
    expect(chooseCname(hasAddress, targets)).toBe(expected);
  });
});
