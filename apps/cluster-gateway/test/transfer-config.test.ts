import { parseConfigText } from '@mdns/ops';
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
});
