import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encode, RCODE, type TsigKey, tsigSign } from '@mdns/protocol';
import {
  AppProcess,
  assertBuilt,
  freePort,
  type Knotd,
  startKnotd,
  tempDir,
  udpExchange,
  until,
} from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnswer, MAIN } from './support/authority.js';

// A primary that is not ours: Knot DNS with a TSIG key. The authority pulls its zone (AXFR),
// answers from the copy, and follows a change made through knotc: Knot's signed NOTIFY, then
// an IXFR from its journal. A SOA set back to a lower serial is not pulled on its NOTIFY,
// and refused when pulled anyway (RFC 1982); the last good copy keeps answering.

const ZONE = 'knot.example.test';
const KEY = 'knot-xfr';
const SECRET = 'c2VjcmV0LWtleS1mb3ItdGhlLWtub3QtcHJpbWFyeQ==';
const key: TsigKey = { name: KEY, algorithm: 'hmac-sha256', secret: Buffer.from(SECRET, 'base64') };

assertBuilt(MAIN);

const zoneFile = [
  `$ORIGIN ${ZONE}.`,
  '$TTL 300',
  '@ SOA ns1 hostmaster 10 3600 600 86400 30',
  '@ NS ns1',
  'ns1 A 192.0.2.53',
  ...Array.from({ length: 50 }, (_, i) => `host-${i} A 10.1.0.${i}`),
  'alias CNAME host-1',
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

describe('the authority as a secondary of Knot DNS', () => {
  let knot: Knotd;
  let server: AppProcess;
  let dnsPort: number;
  let config: string;
  let configPath: string;
  const dir = tempDir('authority-knot-replica-');
  const query = async (name: string, type = 'A') =>
    decodeAnswer(
      (await dnsQuery({ host: '127.0.0.1', port: dnsPort, name, type, rd: false, timeoutMs: 5000 }))
        .bytes,
      0,
    );
  const metric = async (sample: string) => (await server.metric(sample)) ?? 0;
  const serialSample = `mdns_authority_replica_serial{zone="${ZONE}",upstream="knot"}`;

  beforeAll(async () => {
    dnsPort = await freePort();
    knot = await startKnotd(
      [
        'key:',
        `  - id: ${KEY}`,
        '    algorithm: hmac-sha256',
        `    secret: ${SECRET}`,
        'remote:',
        '  - id: authority',
        `    address: 127.0.0.1@${dnsPort}`,
        `    key: ${KEY}`,
        'acl:',
        '  - id: transfer-keyed',
        '    address: 127.0.0.1',
        `    key: ${KEY}`,
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
        '    notify: authority',
      ],
      { [`${ZONE}.zone`]: zoneFile },
    );
    config = [
      'zones:',
      `  - name: ${ZONE}`,
      `    nameservers: [{ name: ns1.${ZONE}, addresses: [192.0.2.53] }]`,
      '    upstreams:',
      `      - { name: knot, address: 127.0.0.1, port: ${knot.port}, transfer: { enabled: true, key: ${KEY} } }`,
      'transfer:',
      `  keys: [{ name: ${KEY}, secretEnv: MDNS_TEST_KNOT_SECRET }]`,
      `listen: { host: 127.0.0.1, port: ${dnsPort} }`,
      'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
      'explain: { enabled: false }',
      'log: { level: info }',
      'shutdown: { lameDuckSeconds: 0 }',
      '',
    ].join('\n');
    configPath = dir.write('authority.yaml', config);
    server = await AppProcess.start(MAIN, configPath, {
      env: { MDNS_TEST_KNOT_SECRET: SECRET },
      timeoutMs: 10_000,
    });
    await until(async () => (await metric(serialSample)) === 10, 15_000);
  });
  afterAll(async () => {
    await server?.stop(10_000);
    await knot?.stop();
    dir.remove();
  });

  it('pulls the zone with TSIG and answers it from the copy', async () => {
    expect(
      await metric(
        `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="knot",kind="AXFR",result="axfr"}`,
      ),
    ).toBe(1);
    expect((await query(`host-7.${ZONE}`)).answers.map((a) => a.data)).toEqual(['10.1.0.7']);
    const alias = await query(`alias.${ZONE}`);
    expect(alias.answers.map((a) => [a.type, a.data])).toEqual([['CNAME', `host-1.${ZONE}`]]);
    expect((await query(`host-7.${ZONE}`, 'AAAA')).answers).toEqual([]);
    expect((await query(`nope.${ZONE}`)).rcode).toBe(3);
    expect(await metric('mdns_authority_answers_total{source="replica"}')).toBeGreaterThan(0);
    expect(await metric('mdns_authority_answers_total{source="fanout"}')).toBe(0);
  });

  it('a change made through knotc arrives by Knot’s signed NOTIFY and an IXFR', async () => {
    await knotc(knot, 'zone-begin', ZONE);
    await knotc(knot, 'zone-set', ZONE, `added.${ZONE}.`, '300', 'A', '192.0.2.99');
    await knotc(knot, 'zone-unset', ZONE, `host-7.${ZONE}.`, 'A');
    await knotc(knot, 'zone-commit', ZONE);
    await until(async () => (await metric(serialSample)) === 11, 15_000);
    expect(knot.log()).toMatch(/notify, outgoing, remote 127\.0\.0\.1@\d+.*serial 11/);
    // Our acknowledgement is signed with Knot's request MAC (RFC 8945 4.3): Knot checks it.
    expect(knot.log()).not.toMatch(/TSIG|BADSIG|BADKEY|BADTIME/);
    expect(
      await metric(
        `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="knot",kind="IXFR",result="ixfr"}`,
      ),
    ).toBe(1);
    expect((await query(`added.${ZONE}`)).answers.map((a) => a.data)).toEqual(['192.0.2.99']);
    expect((await query(`host-7.${ZONE}`)).rcode).toBe(3);
  });

  it('a serial set backwards at the primary: no pull, one line, the copy at the newer serial stays', async () => {
    await knotc(knot, 'zone-begin', ZONE);
    await knotc(
      knot,
      'zone-set',
      ZONE,
      `${ZONE}.`,
      '300',
      'SOA',
      `ns1.${ZONE}.`,
      `hostmaster.${ZONE}.`,
      '5',
      '3600',
      '600',
      '86400',
      '30',
    );
    await knotc(knot, 'zone-set', ZONE, `late.${ZONE}.`, '300', 'A', '192.0.2.98');
    await knotc(knot, 'zone-commit', ZONE);
    const line = await server.waitForLog((l) => l.upstream === 'knot' && l.announced === 5, 15_000);
    expect(String(line.msg)).toContain('announces serial 5, older than our 11: no pull');
    expect(await metric(serialSample)).toBe(11);
    // A pull all the same (a signed NOTIFY without a SOA asks for one): Knot's zone is at
    // serial 5, older than ours; the pull is refused and the copy at 11 stays.
    const rejected = `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="knot",kind="IXFR",result="serial-backwards"}`;
    const notify = tsigSign(
      encode({
        id: 9,
        type: 'query',
        flags: (4 << 11) | 0x0400,
        questions: [{ name: ZONE, type: 'SOA', class: 'IN' }],
      }),
      { key, timeSigned: Math.floor(Date.now() / 1000) },
    );
    const ack = await udpExchange(dnsPort, notify.bytes, { timeoutMs: 2000 });
    expect(ack === null ? null : ack[3] & 0x0f).toBe(RCODE.NOERROR);
    await until(async () => (await metric(rejected)) === 1, 15_000);
    const refusal = server.logs.find(
      (l) => l.upstream === 'knot' && l.reason === 'serial-backwards',
    );
    expect(String(refusal?.msg)).toBe(
      'zone transfer from knot rejected (serial-backwards); keeping the last good copy',
    );
    expect(await metric(serialSample)).toBe(11);
    expect((await query(`added.${ZONE}`)).answers.map((a) => a.data)).toEqual(['192.0.2.99']);
    expect((await query(`late.${ZONE}`)).rcode).toBe(3);
  });

  it('a reload keeps an unchanged replica (no new AXFR); turning transfer off asks Knot per query', async () => {
    const reloads = () => server.logs.filter((l) => l.msg === 'config reloaded').length;
    const axfrs = `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="knot",kind="AXFR",result="axfr"}`;
    const before = reloads();
    writeFileSync(configPath, `${config}# touched\n`);
    server.signal('SIGHUP');
    await until(async () => reloads() > before, 10_000);
    expect(await metric(axfrs)).toBe(1);
    expect(await metric(serialSample)).toBe(11);

    const off = reloads();
    writeFileSync(
      configPath,
      config.replace('transfer: { enabled: true', 'transfer: { enabled: false'),
    );
    server.signal('SIGHUP');
    await until(async () => reloads() > off, 10_000);
    expect(await server.metric(serialSample)).toBeNull();
    // Knot's own data now: the record the refused pull could not bring.
    expect((await query(`late.${ZONE}`)).answers.map((a) => a.data)).toEqual(['192.0.2.98']);
    expect(await metric('mdns_authority_answers_total{source="fanout"}')).toBeGreaterThan(0);
  });
});
