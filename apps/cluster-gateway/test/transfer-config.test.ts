import { parseConfigText, resolveTsigKeys } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ENV_OVERRIDES } from '../src/config/env.js';
import { gatewayConfigSchema } from '../src/config/schema.js';

const ZONE = 'zones:\n  - name: prod.example.tld\n';
const parse = (text: string) =>
  parseConfigText(`${ZONE}${text}`, gatewayConfigSchema, {
    envOverrides: GATEWAY_ENV_OVERRIDES,
    env: {},
  });
const errorText = (r: ReturnType<typeof parse>) => (r.ok ? '' : JSON.stringify(r));

describe('transfer config', () => {
  it('is off by default with bounded journal defaults', () => {
    const r = parse('');
    expect(r.ok && r.config.transfer).toEqual({
      enabled: false,
      allow: [],
      keys: [],
      journal: { maxEntries: 100, maxBytes: 16 * 1024 * 1024 },
      maxMessageBytes: 16384,
      fudgeSeconds: 300,
    });
  });

  it.each([
    [
      'enabled without keys',
      'transfer: { enabled: true, allow: [10.0.0.0/8] }',
      /transfer.*keys.*at least one TSIG key/,
    ],
    [
      'enabled without allow',
      'transfer: { enabled: true, keys: [{ name: k, secret: "YWJj" }] }',
      /allow.*at least one allowed source/,
    ],
    [
      'a key with two secret sources',
      'transfer: { keys: [{ name: k, secret: "YWJj", secretEnv: K }] }',
      /exactly one of secret, secretEnv or secretFile/,
    ],
    [
      'a secret that is not base64',
      'transfer: { keys: [{ name: k, secret: "not base64!" }] }',
      /base64/,
    ],
    [
      'an unknown algorithm',
      'transfer: { keys: [{ name: k, algorithm: hmac-md5, secret: "YWJj" }] }',
      /algorithm/,
    ],
    ['a bad CIDR', 'transfer: { allow: [10.0.0.0/33] }', /allow/],
    [
      'a key listed twice',
      'transfer: { keys: [{ name: k, secret: "YWJj" }, { name: K., secret: "YWJj" }] }',
      /listed twice/,
    ],
    [
      'a NOTIFY target naming no key',
      'notify: { targets: [{ address: 10.0.0.1, key: nope }] }',
      /nope is not one of transfer.keys/,
    ],
  ])('rejects %s, naming the field', (_what, text, message) => {
    const r = parse(text);
    expect(r.ok).toBe(false);
    expect(errorText(r)).toMatch(message);
  });

  it('secrets come from the config, an env variable or a file; errors name key and source, never the secret', () => {
    const keys = [
      { name: 'a', algorithm: 'hmac-sha256', secret: 'YWJj' },
      { name: 'B.', algorithm: 'hmac-sha512', secretEnv: 'XFR_B' },
      { name: 'c', algorithm: 'hmac-sha1', secretFile: '/secrets/c' },
    ];
    const r = resolveTsigKeys(keys, { env: { XFR_B: 'ZGVm\n' }, readFile: () => 'Z2hp' });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.keys.map((k) => [k.name, k.algorithm, Buffer.from(k.secret).toString()])).toEqual([
        ['a', 'hmac-sha256', 'abc'],
        ['b', 'hmac-sha512', 'def'],
        ['c', 'hmac-sha1', 'ghi'],
      ]);
    }
    const noEnv = resolveTsigKeys(keys, { env: {}, readFile: () => 'Z2hp' });
    expect(noEnv.ok === false && noEnv.error).toBe(
      'transfer.keys[1] (B.): environment variable XFR_B is not set',
    );
    const noFile = resolveTsigKeys(keys, {
      env: { XFR_B: 'ZGVm' },
      readFile: () => {
        throw Object.assign(new Error('no'), { code: 'ENOENT' });
      },
    });
    expect(noFile.ok === false && noFile.error).toBe(
      'transfer.keys[2] (c): secretFile /secrets/c: ENOENT',
    );
    const notBase64 = resolveTsigKeys([{ name: 'd', algorithm: 'hmac-sha256', secretEnv: 'D' }], {
      env: { D: 'sup3r s3cret!' },
      readFile: () => '',
    });
    expect(notBase64.ok === false && notBase64.error).toBe(
      'transfer.keys[0] (d): the secret is not base64',
    );
  });
});
