import { describe, expect, it } from 'vitest';
import { resolveTsigKeys, tsigKeySchema, tsigKeysSchema } from '../src/index.js';

// TSIG keys as both apps configure them (the gateway's and the authority's `transfer.keys`):
// one schema, one secret reader.

describe('TSIG keys', () => {
  it('a key names exactly one secret source; the algorithm defaults to hmac-sha256', () => {
    expect(tsigKeySchema.parse({ name: 'k', secret: 'YWJj' })).toEqual({
      name: 'k',
      algorithm: 'hmac-sha256',
      secret: 'YWJj',
    });
    expect(tsigKeySchema.safeParse({ name: 'k' }).success).toBe(false);
    expect(tsigKeySchema.safeParse({ name: 'k', secret: 'YWJj', secretEnv: 'K' }).success).toBe(
      false,
    );
    expect(tsigKeySchema.safeParse({ name: 'k', secret: 'not base64!' }).success).toBe(false);
  });

  it('a name listed twice (case and trailing dot ignored) is an error at the second', () => {
    const r = tsigKeysSchema.safeParse([
      { name: 'k', secret: 'YWJj' },
      { name: 'K.', secret: 'YWJj' },
    ]);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: [1, 'name'],
      message: 'key k is listed twice',
    });
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

  it('errors name the list where it sits in the config', () => {
    const r = resolveTsigKeys(
      [{ name: 'e', algorithm: 'hmac-sha256', secretEnv: 'E' }],
      {
        env: {},
        readFile: () => '',
      },
      'upstreams.keys',
    );
    expect(r.ok === false && r.error).toBe(
      'upstreams.keys[0] (e): environment variable E is not set',
    );
  });
});
