import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { TsigKey } from '@mdns/protocol';
import { type Knotd, startKnotd } from '@mdns/testkit';
import { pullZone } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The transfer client of @mdns/transport against a primary that is not ours: Knot DNS with a
// TSIG key. AXFR, then a change made through knotc (Knot bumps the serial and journals the
// diff) pulled by IXFR. Here and not in packages/transport because @mdns/testkit depends on
// the transport (a cycle the other way round).

const ZONE = 'primary.example.test';
const SECRET = 'c2VjcmV0LWtleS1mb3ItdGhlLWtub3QtcHJpbWFyeQ==';
const key: TsigKey = {
  name: 'knot-xfr',
  algorithm: 'hmac-sha256',
  secret: Buffer.from(SECRET, 'base64'),
};

const zoneFile = [
  `$ORIGIN ${ZONE}.`,
  '$TTL 300',
  `@ SOA ns1 hostmaster 10 60 30 600 30`,
  '@ NS ns1',
  'ns1 A 192.0.2.53',
  ...Array.from({ length: 500 }, (_, i) => `host-${i} A 10.1.${i >> 8}.${i & 255}`),
  '',
].join('\n');

function knotc(knot: Knotd, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'knotc',
      ['-s', join(knot.dir, 'knot.sock'), ...args],
      { timeout: 10_000 },
      (err, out, errOut) =>
        err ? reject(new Error(`knotc ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out),
    ),
  );
}

describe('our transfer client pulling from Knot DNS (primary)', () => {
  let knot: Knotd;
  beforeAll(async () => {
    knot = await startKnotd(
      [
        'key:',
        `  - id: ${key.name}`,
        '    algorithm: hmac-sha256',
        `    secret: ${SECRET}`,
        'acl:',
        '  - id: transfer-keyed',
        '    address: 127.0.0.1',
        `    key: ${key.name}`,
        '    action: transfer',
        'control:',
        '  listen: DIR/knot.sock',
        'template:',
        '  - id: default',
        '    storage: DIR',
        '    journal-content: changes',
        'zone:',
        `  - domain: ${ZONE}`,
        `    file: ${ZONE}.zone`,
        '    acl: transfer-keyed',
      ],
      { [`${ZONE}.zone`]: zoneFile },
    );
  });
  afterAll(() => knot?.stop());

  const base = () => ({ host: '127.0.0.1', port: knot.port, zone: ZONE, key });

  it('AXFR with TSIG gives the whole zone; then IXFR gives the change made through knotc', async () => {
    const full = await pullZone({ ...base(), kind: 'AXFR' });
    if (!full.ok || full.kind === 'up-to-date') throw new Error(JSON.stringify(full));
    expect(full.kind).toBe('axfr');
    expect(full.serial).toBe(10);
    expect(full.records.filter((r) => r.type === 'A').length).toBe(501);

    await knotc(knot, 'zone-begin', ZONE);
    await knotc(knot, 'zone-set', ZONE, `added.${ZONE}.`, '300', 'A', '192.0.2.99');
    await knotc(knot, 'zone-unset', ZONE, `host-7.${ZONE}.`, 'A');
    await knotc(knot, 'zone-commit', ZONE);

    const inc = await pullZone({
      ...base(),
      kind: 'IXFR',
      current: { serial: full.serial, records: full.records },
    });
    if (!inc.ok || inc.kind === 'up-to-date') throw new Error(JSON.stringify(inc));
    expect(inc.kind).toBe('ixfr');
    expect(inc.serial).toBe(11);
    const names = new Set(inc.records.map((r) => r.name));
    expect(names.has(`added.${ZONE}`)).toBe(true);
    expect(names.has(`host-7.${ZONE}`)).toBe(false);
    expect(inc.records.length).toBe(full.records.length);
    // Asked again at the new serial: up to date.
    const again = await pullZone({
      ...base(),
      kind: 'IXFR',
      current: { serial: inc.serial, records: inc.records },
    });
    expect(again.ok && again.kind).toBe('up-to-date');
  });

  it('without the key Knot refuses: a typed rcode failure, no zone', async () => {
    const r = await pullZone({ ...base(), key: undefined, kind: 'AXFR' });
    expect(r.ok === false && r.failure).toBe('rcode');
    const wrong = await pullZone({
      ...base(),
      key: { ...key, secret: Buffer.from('wrong') },
      kind: 'AXFR',
    });
    expect(wrong.ok).toBe(false);
  });
});
