import { parseConfigText } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { authorityConfigSchema } from '../src/config/schema.js';

// The authority's `transfer` keys (this authority as a secondary of its upstreams): off by
// default, and every mistake reported with the path of the field.

const zone = (upstream: string) =>
  `zones:\n  - name: prod.example.tld\n    upstreams:\n      - ${upstream}\n`;
const parse = (text: string) => parseConfigText(text, authorityConfigSchema, { env: {} });
const errors = (r: ReturnType<typeof parse>) => (r.ok ? [] : r.errors);

describe('upstream transfer config', () => {
  it('is off by default, with bounded limits and no timer overrides', () => {
    const r = parse(zone('{ name: a, address: 10.0.0.1 }'));
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config.zones[0].upstreams[0].transfer).toEqual({
      enabled: false,
      maxRecords: 200_000,
      maxBytes: 64 * 1024 * 1024,
    });
    // The authority's own transfers (a primary of the merged zone) are off too.
    expect(r.config.transfer).toMatchObject({ keys: [], enabled: false, allow: [] });
    expect(r.config.transfer.notify.targets).toEqual([]);
  });

  it('takes a key from transfer.keys and the SOA timer overrides', () => {
    const r = parse(
      `${zone('{ name: a, address: 10.0.0.1, transfer: { enabled: true, key: XFR., refreshSeconds: 60, expireSeconds: 600 } }')}` +
        'transfer:\n  keys: [{ name: xfr, secret: c2VjcmV0 }]\n',
    );
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.config.zones[0].upstreams[0].transfer).toMatchObject({
      enabled: true,
      key: 'XFR.',
      refreshSeconds: 60,
      expireSeconds: 600,
    });
  });

  it.each([
    [
      'a key that is not listed',
      zone('{ name: a, address: 10.0.0.1, transfer: { enabled: true, key: nope } }'),
      'zones[0].upstreams[0].transfer.key',
      'no key "nope" in transfer.keys',
    ],
    [
      'expire below refresh',
      zone('{ name: a, address: 10.0.0.1, transfer: { refreshSeconds: 600, expireSeconds: 60 } }'),
      'zones[0].upstreams[0].transfer.expireSeconds',
      'expireSeconds must not be below refreshSeconds',
    ],
    [
      'a typo in the transfer object',
      zone('{ name: a, address: 10.0.0.1, transfer: { enable: true } }'),
      'zones[0].upstreams[0].transfer',
      'enable',
    ],
    [
      'a key with two secret sources',
      `${zone('{ name: a, address: 10.0.0.1 }')}transfer:\n  keys: [{ name: k, secret: c2VjcmV0, secretEnv: K }]\n`,
      'transfer.keys[0]',
      'exactly one of secret, secretEnv or secretFile',
    ],
    [
      'a key listed twice',
      `${zone('{ name: a, address: 10.0.0.1 }')}transfer:\n  keys: [{ name: k, secret: c2VjcmV0 }, { name: K., secret: c2VjcmV0 }]\n`,
      'transfer.keys[1].name',
      'listed twice',
    ],
    [
      'maxRecords of zero',
      zone('{ name: a, address: 10.0.0.1, transfer: { maxRecords: 0 } }'),
      'zones[0].upstreams[0].transfer.maxRecords',
      '',
    ],
  ])('%s is an error naming the field', (_what, text, path, message) => {
    const all = errors(parse(text)).join('\n');
    expect(all).toContain(path);
    expect(all).toContain(message);
  });
});

describe('transfer as a primary of the merged zone: config', () => {
  const base = (transfer: object, replicated = true) => `
zones:
  - name: tier.test
    nameservers: [{ name: ns1.tier.test, addresses: [192.0.2.53] }]
    upstreams:
      - { name: a, address: 10.0.0.1, transfer: { enabled: ${replicated} } }
transfer: ${JSON.stringify(transfer)}
`;
  const key = { name: 'k', algorithm: 'hmac-sha256', secret: 'c2VjcmV0' };

  it('enabled needs a key, an allowed range and every upstream replicated; each error says where', () => {
    const r = parseConfigText(base({ enabled: true }, false), authorityConfigSchema);
    expect(r.ok).toBe(false);
    const errors = r.ok ? '' : r.errors.join('\n');
    expect(errors).toContain('transfer.keys');
    expect(errors).toContain('transfer.allow');
    expect(errors).toContain('needs every upstream replicated; tier.test/a is not');
  });

  it('a NOTIFY target key must be one of transfer.keys', () => {
    const r = parseConfigText(
      base({
        enabled: true,
        keys: [key],
        allow: ['10.0.0.0/8'],
        notify: { targets: [{ address: '10.1.1.1', key: 'other' }] },
      }),
      authorityConfigSchema,
    );
    expect(r.ok ? '' : r.errors.join('\n')).toContain('no key "other" in transfer.keys');
  });

  it('a complete block loads', () => {
    const r = parseConfigText(
      base({
        enabled: true,
        keys: [key],
        allow: ['10.0.0.0/8'],
        notify: { targets: [{ address: '10.1.1.1', key: 'k' }] },
      }),
      authorityConfigSchema,
    );
    expect(r.ok ? [] : r.errors).toEqual([]);
  });
});
