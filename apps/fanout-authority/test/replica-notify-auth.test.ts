import { encode, type TsigKey, tsigSign } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { checkNotify } from '../src/replica/notify-auth.js';

// A NOTIFY for an upstream replicated with a TSIG key must carry that key's valid signature
// (RFC 8945); the serial it announces (RFC 1996 3.7) is read for the pull decision.

const key: TsigKey = { name: 'xfr-a', algorithm: 'hmac-sha256', secret: Buffer.from('secret-a') };
const NOW = 1_800_000_000;

const notify = (serial?: number) =>
  encode({
    id: 77,
    type: 'query',
    flags: (4 << 11) | 0x0400,
    questions: [{ name: 'prod.test', type: 'SOA', class: 'IN' }],
    answers:
      serial === undefined
        ? []
        : [
            {
              name: 'prod.test',
              type: 'SOA',
              class: 'IN',
              ttl: 60,
              data: {
                mname: 'ns',
                rname: 'h',
                serial,
                refresh: 1,
                retry: 1,
                expire: 1,
                minimum: 1,
              },
            },
          ],
  });
const signed = (bytes: Uint8Array, k: TsigKey, at = NOW) =>
  tsigSign(bytes, { key: k, timeSigned: at }).bytes;

describe('NOTIFY for a replicated upstream', () => {
  it('signed with the key: accepted, with the announced serial and the MAC for a signed ack', () => {
    const r = checkNotify(signed(notify(42), key), key, NOW);
    expect(r.ok && r.serial).toBe(42);
    expect(r.ok && r.mac?.length).toBe(32);
  });

  it('no key configured: accepted signed or not; no SOA: no serial', () => {
    expect(checkNotify(notify(), undefined, NOW)).toEqual({
      ok: true,
      mac: null,
      serial: undefined,
    });
  });

  it('unsigned while a key is required: refused as unsigned', () => {
    expect(checkNotify(notify(42), key, NOW)).toMatchObject({ ok: false, reason: 'unsigned' });
  });

  it.each([
    ['another key name', { ...key, name: 'stranger' }, NOW],
    ['the right name, a wrong secret', { ...key, secret: Buffer.from('wrong') }, NOW],
    ['signed an hour ago (replayed)', key, NOW - 3600],
  ])('%s: refused as bad-tsig', (_what, signer, at) => {
    const r = checkNotify(signed(notify(42), signer, at), key, NOW);
    expect(r).toMatchObject({ ok: false, reason: 'bad-tsig' });
  });
});
