import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfigText } from '../src/config/load.js';
import { zoneApexFromConfig, zoneSchema } from '../src/config/server.js';

const schema = z.object({ zones: z.array(zoneSchema) }).strict();

describe('shared zone config', () => {
  it('fills defaults and builds the apex with glue split by family', () => {
    const r = parseConfigText(
      'zones:\n  - name: Prod.Example.TLD.\n    nameservers:\n      - { name: NS1.prod.example.tld, addresses: [192.0.2.53, "2001:db8::53"] }\n',
      schema,
      { source: 'test.yaml' },
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const apex = zoneApexFromConfig(r.config.zones[0], 42);
    expect(apex.zone).toBe('prod.example.tld');
    expect(apex.soa).toEqual({
      mname: 'ns1.prod.example.tld',
      rname: 'hostmaster.prod.example.tld',
      serial: 42,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: 30,
    });
    expect(apex.soaTtl).toBe(60);
    expect(apex.ns).toEqual(['ns1.prod.example.tld']);
    expect(apex.glue.get('ns1.prod.example.tld')).toEqual({
      a: ['192.0.2.53'],
      aaaa: ['2001:db8::53'],
    });
  });

  it('names the field of a bad nameserver address and of an unknown key', () => {
    const r = parseConfigText(
      'zones:\n  - name: prod.example.tld\n    nameserver: []\n    nameservers:\n      - { name: ns1.prod.example.tld, addresses: [not-an-ip] }\n',
      schema,
      { source: 'test.yaml' },
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const text = r.errors.join('\n');
    expect(text).toContain('zones[0].nameservers[0].addresses[0]');
    expect(text).toContain('zones[0].nameserver');
  });
});
