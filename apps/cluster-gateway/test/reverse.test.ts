import { mergeClaims } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../src/config/schema.js';
import { buildReverseMap, reverseLookup, reverseName } from '../src/index/reverse.js';

describe('reverseName', () => {
  it.each([
    ['192.0.2.1', '1.2.0.192.in-addr.arpa'],
    ['2001:db8::1', `1.0.0.0.${'0.0.0.0.'.repeat(5)}8.b.d.0.1.0.0.2.ip6.arpa`],
    ['::1', `1.${'0.'.repeat(31)}ip6.arpa`],
    ['2001:DB8:0:0:0:0:0:A', `a.0.0.0.${'0.0.0.0.'.repeat(5)}8.b.d.0.1.0.0.2.ip6.arpa`],
    ['1::2::3', null],
    ['1:2:3', null],
  ])('%s', (address, name) => {
    expect(reverseName(address)).toBe(name);
  });
});

describe('buildReverseMap / reverseLookup', () => {
  const records = (a: string[], ttl = 60) =>
    mergeClaims('Ingress', [{ name: 'x', a, aaaa: [], txt: [], ttl }]);
  const map = buildReverseMap(
    [
      ['www.z', records(['10.0.0.1'], 30)!],
      ['app.z', records(['10.0.0.1', '10.0.0.2'])!],
      ['out.z', records(['192.0.2.1'])!],
    ],
    ['10.in-addr.arpa'],
  );

  it('several names: PTR sorted, the smallest TTL', () => {
    const r = reverseLookup(map, '1.0.0.10.in-addr.arpa', '10.in-addr.arpa');
    expect(r.type === 'records' && r.records.extra.map((e) => [e.data, e.ttl])).toEqual([
      ['app.z', 30],
      ['www.z', 30],
    ]);
  });

  it('an empty non-terminal is NODATA, an unknown address NXDOMAIN, outside the zones nothing', () => {
    expect(reverseLookup(map, '0.0.10.in-addr.arpa', '10.in-addr.arpa').type).toBe('empty');
    expect(reverseLookup(map, '9.0.0.10.in-addr.arpa', '10.in-addr.arpa').type).toBe('nxdomain');
    expect(map.names.has('1.2.0.192.in-addr.arpa')).toBe(false);
  });
});

describe('reverseZones config', () => {
  const parse = (reverseZones: unknown) =>
    gatewayConfigSchema.safeParse({ zones: [{ name: 'prod.example.tld' }], reverseZones });

  it('accepts in-addr.arpa and ip6.arpa zones, default none', () => {
    expect(parse(['10.in-addr.arpa', '8.b.d.0.1.0.0.2.ip6.arpa.']).success).toBe(true);
    expect(gatewayConfigSchema.parse({ zones: [{ name: 'z.tld' }] }).reverseZones).toEqual([]);
  });

  it.each([
    [['prod.example.tld'], 'expected a zone under in-addr.arpa or ip6.arpa'],
    [['10.in-addr.arpa', '10.in-addr.arpa.'], 'listed twice'],
  ])('%j: %s', (zones, message) => {
    const r = parse(zones);
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues)).toContain(message);
  });
});
