import { describe, expect, it } from 'vitest';
import { parseExtraTarget } from '../src/sources/claims/dns-endpoint.js';

describe('DNSEndpoint targets in external-dns formats', () => {
  it.each([
    [
      'SRV',
      '10 5 443 Web.Example.TLD.',
      {
        text: '10 5 443 web.example.tld',
        data: { priority: 10, weight: 5, port: 443, target: 'web.example.tld' },
      },
    ],
    [
      'MX',
      '10 mail.example.tld',
      { text: '10 mail.example.tld', data: { preference: 10, exchange: 'mail.example.tld' } },
    ],
    [
      'CAA',
      '0 issue "letsencrypt.org"',
      {
        text: '0 issue "letsencrypt.org"',
        data: { flags: 0, tag: 'issue', value: 'letsencrypt.org' },
      },
    ],
    [
      'CAA',
      '128 Issuewild ";"',
      { text: '128 issuewild ";"', data: { flags: 128, tag: 'issuewild', value: ';' } },
    ],
    [
      'CAA',
      '0 iodef mailto:sec@example.tld',
      {
        text: '0 iodef "mailto:sec@example.tld"',
        data: { flags: 0, tag: 'iodef', value: 'mailto:sec@example.tld' },
      },
    ],
    ['PTR', 'web.example.tld.', { text: 'web.example.tld', data: 'web.example.tld' }],
  ] as const)('%s %j', (type, raw, expected) => {
    expect(parseExtraTarget(type, raw, 60)).toEqual({ type, ttl: 60, ...expected });
  });

  it.each([
    ['SRV', '10 5 web.example.tld'],
    ['SRV', '10 5 70000 web.example.tld'],
    ['SRV', '10 5 443 bad_host!'],
    ['MX', 'mail.example.tld'],
    ['MX', '10 mail.example.tld extra'],
    ['CAA', '256 issue "x"'],
    ['CAA', '0 "issue" x'],
    ['PTR', '10.0.0.1 x'],
  ] as const)('%s %j: an error saying the format', (type, raw) => {
    expect(parseExtraTarget(type, raw, 60)).toHaveProperty('error');
  });
});
