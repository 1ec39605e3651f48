import { writeFileSync } from 'node:fs';
import { encode, RCODE, type TsigKey, tsigSign } from '@mdns/protocol';
import { AppProcess, assertBuilt, freePort, tempDir, udpExchange, until } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeAnswer, MAIN } from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, ingress, startGateway } from './support/gateway.js';

// The authority as a secondary of real cluster-gateway processes (docs/behaviour.md,
// "fanout-authority: answers from replicas"): each gateway is a primary with TSIG; the
// authority pulls every zone, answers from memory, keeps answering a stopped gateway's names
// from its copy, and follows a change by the gateway's signed NOTIFY and an IXFR. Bad input:
// a wrong key, a record limit, unsigned / wrongly signed / stranger NOTIFYs.

const ZONE = 'prod.test';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';
const WRONG = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
const key: TsigKey = { name: KEY, algorithm: 'hmac-sha256', secret: Buffer.from(SECRET, 'base64') };

assertBuilt(GATEWAY_MAIN);
assertBuilt(MAIN);

/** The gateway as a primary: transfers to loopback with the key, signed NOTIFY to the authority. */
const primaryConfig = (authorityPort: number) => [
  'transfer:',
  '  enabled: true',
  '  allow: [127.0.0.0/8]',
  `  keys: [{ name: ${KEY}, secret: "${SECRET}" }]`,
  'notify:',
  `  targets: [{ address: 127.0.0.1, port: ${authorityPort}, key: ${KEY} }]`,
  '  debounceMs: 100',
];

function authorityYaml(dnsPort: number, gateways: Gateway[]): string {
  const up = (name: string, port: number, transfer: string) =>
    `      - { name: ${name}, address: 127.0.0.1, port: ${port}, transfer: ${transfer} }`;
  return [
    'zones:',
    `  - name: ${ZONE}`,
    '    soa: { minimum: 30, ttl: 60 }',
    `    nameservers: [{ name: ns1.${ZONE}, addresses: [192.0.2.53] }]`,
    '    policy: all',
    '    upstreams:',
    up('cluster-0', gateways[0].port, `{ enabled: true, key: ${KEY} }`),
    up('cluster-1', gateways[1].port, `{ enabled: true, key: ${KEY} }`),
    // Bad input, each against cluster-0's gateway: a key the primary does not accept, and a
    // copy over its record limit. Neither loads; both stay asked per query.
    up('wrong-key', gateways[0].port, '{ enabled: true, key: wrong }'),
    up('tiny', gateways[0].port, `{ enabled: true, key: ${KEY}, maxRecords: 1 }`),
    'transfer:',
    '  keys:',
    `    - { name: ${KEY}, secret: "${SECRET}" }`,
    `    - { name: wrong, secret: "${WRONG}" }`,
    `listen: { host: 127.0.0.1, port: ${dnsPort} }`,
    'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
    'explain: { host: 127.0.0.1, port: 0 }',
    'log: { level: debug }',
    'shutdown: { lameDuckSeconds: 0 }',
    '',
  ].join('\n');
}

const labels = (upstream: string) => `{zone="${ZONE}",upstream="${upstream}"}`;

describe('the authority as a secondary of cluster-gateway primaries', () => {
  const gateways: Gateway[] = [];
  let server: AppProcess;
  let dnsPort: number;
  const dir = tempDir('authority-replication-');

  const query = async (name: string, type = 'A') => {
    const r = await dnsQuery({
      host: '127.0.0.1',
      port: dnsPort,
      name,
      type,
      rd: false,
      timeoutMs: 5000,
    });
    return decodeAnswer(r.bytes, 0);
  };
  const addresses = async (name: string) =>
    (await query(name)).answers.map((a) => a.data as string).sort();
  const metric = async (sample: string) => (await server.metric(sample)) ?? 0;
  const explain = async (name: string) => {
    const res = await fetch(`http://127.0.0.1:${server.explainPort}/explain?name=${name}&type=A`, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    });
    return JSON.parse(await res.text()) as {
      upstreams: Array<{
        name: string;
        fromReplica: boolean;
        asked: boolean;
        class: string | null;
        replica: { state: string; serial: number | null; records: number } | null;
      }>;
    };
  };

  beforeAll(async () => {
    dnsPort = await freePort();
    gateways.push(
      await startGateway(
        ZONE,
        { 'a.yaml': ingress('web', `web.${ZONE}`, '10.3.0.1') },
        primaryConfig(dnsPort),
      ),
    );
    gateways.push(
      await startGateway(
        ZONE,
        { 'b.yaml': ingress('api', `api.${ZONE}`, '10.4.0.1') },
        primaryConfig(dnsPort),
      ),
    );
    const configPath = dir.write('authority.yaml', authorityYaml(dnsPort, gateways));
    server = await AppProcess.start(MAIN, configPath, { timeoutMs: 10_000 });
    // Both copies loaded (the first pull may meet a gateway still before its first sync).
    await until(
      async () =>
        (await metric(`mdns_authority_replica_fresh${labels('cluster-0')}`)) === 1 &&
        (await metric(`mdns_authority_replica_fresh${labels('cluster-1')}`)) === 1,
      20_000,
    );
  });
  afterAll(async () => {
    await server?.stop(10_000);
    for (const g of gateways) await g.stop();
    dir.remove();
  });

  it('answers each gateway name from its replica, as the gateway would', async () => {
    expect(await addresses(`web.${ZONE}`)).toEqual(['10.3.0.1']);
    expect(await addresses(`api.${ZONE}`)).toEqual(['10.4.0.1']);
    const report = await explain(`api.${ZONE}`);
    const byName = new Map(report.upstreams.map((u) => [u.name, u]));
    expect(byName.get('cluster-1')).toMatchObject({
      fromReplica: true,
      asked: false,
      replica: { state: 'loaded' },
    });
    expect(byName.get('cluster-1')?.replica?.serial).toBeGreaterThan(0);
    const text = await (
      await fetch(
        `http://127.0.0.1:${server.explainPort}/explain?name=api.${ZONE}&type=A&format=text`,
        { signal: AbortSignal.timeout(5000) },
      )
    ).text();
    expect(text).toMatch(
      /replica loaded, serial \d+, \d+ records, age \d+ s; last transfer: AXFR axfr at /,
    );
    expect(text).toContain('POSITIVE from the replica');
    // The two bad upstreams have no copy: asked over the network.
    expect(byName.get('wrong-key')).toMatchObject({
      fromReplica: false,
      replica: { state: 'loading' },
    });
    expect(byName.get('tiny')).toMatchObject({ fromReplica: false, replica: { state: 'loading' } });
  });

  it('a key the primary refuses, and a copy over maxRecords: rejected, counted, one line each naming the upstream', async () => {
    await until(
      async () =>
        (await metric(
          `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="wrong-key",kind="AXFR",result="rcode"}`,
        )) >= 1 &&
        (await metric(
          `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="tiny",kind="AXFR",result="too-large"}`,
        )) >= 1,
      10_000,
    );
    const rejected = (upstream: string) =>
      server.logs.filter(
        (l) =>
          l.upstream === upstream &&
          String(l.msg).startsWith(`zone transfer from ${upstream} rejected`),
      );
    expect(rejected('wrong-key')[0]).toMatchObject({ reason: 'rcode' });
    expect(String(rejected('wrong-key')[0].detail)).toContain('TSIG error');
    expect(rejected('tiny')[0]).toMatchObject({ reason: 'too-large' });
  });

  it('a change in a gateway reaches the authority by its NOTIFY and an IXFR', async () => {
    const before = await metric(
      `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="cluster-0",kind="IXFR",result="ixfr"}`,
    );
    writeFileSync(`${gateways[0].manifests}/new.yaml`, ingress('new', `new.${ZONE}`, '10.3.0.9'));
    // cluster-0's replica has it (wrong-key and tiny ask the same gateway over the network,
    // so the answer alone would not show where it came from).
    const fromCopy = async () => {
      const u = (await explain(`new.${ZONE}`)).upstreams.find((x) => x.name === 'cluster-0');
      return u?.fromReplica === true && u.class === 'POSITIVE';
    };
    await until(fromCopy, 15_000);
    expect(await addresses(`new.${ZONE}`)).toEqual(['10.3.0.9']);
    expect(
      await metric(
        `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="cluster-0",kind="IXFR",result="ixfr"}`,
      ),
    ).toBeGreaterThan(before);
    expect(await metric('mdns_authority_notify_total{result="accepted"}')).toBeGreaterThan(0);
  });

  it('NOTIFY: unsigned or wrongly signed from the gateway address is refused; a stranger too', async () => {
    const notify = (id: number) =>
      encode({
        id,
        type: 'query',
        flags: (4 << 11) | 0x0400,
        questions: [{ name: ZONE, type: 'SOA', class: 'IN' }],
      });
    const rcodeOf = (b: Buffer | null) => (b === null ? null : b[3] & 0x0f);
    const badKey: TsigKey = { ...key, secret: Buffer.from(WRONG, 'base64') };
    const refusedBefore = await metric('mdns_authority_notify_total{result="unauthenticated"}');
    // Unsigned from 127.0.0.1 (every upstream's address): the replicated ones need the key,
    // but wrong-key and tiny... also have keys, so nobody accepts it.
    expect(rcodeOf(await udpExchange(dnsPort, notify(1), { timeoutMs: 2000 }))).toBe(RCODE.REFUSED);
    const wrong = tsigSign(notify(2), { key: badKey, timeSigned: Math.floor(Date.now() / 1000) });
    expect(rcodeOf(await udpExchange(dnsPort, wrong.bytes, { timeoutMs: 2000 }))).toBe(
      RCODE.NOTAUTH,
    );
    expect(await metric('mdns_authority_notify_total{result="unauthenticated"}')).toBe(
      refusedBefore + 2,
    );
    // From an address no upstream has: REFUSED before any TSIG work.
    const stranger = tsigSign(notify(3), { key, timeSigned: Math.floor(Date.now() / 1000) });
    expect(
      rcodeOf(await udpExchange(dnsPort, stranger.bytes, { source: '127.0.0.2', timeoutMs: 2000 })),
    ).toBe(RCODE.REFUSED);
    // Signed with the key from the gateway address: acknowledged.
    const good = tsigSign(notify(4), { key, timeSigned: Math.floor(Date.now() / 1000) });
    expect(rcodeOf(await udpExchange(dnsPort, good.bytes, { timeoutMs: 2000 }))).toBe(
      RCODE.NOERROR,
    );
  });

  it('a stopped gateway: its names are still answered from the replica (until expire)', async () => {
    await gateways[1].stop();
    gateways.splice(1, 1);
    expect(await addresses(`api.${ZONE}`)).toEqual(['10.4.0.1']);
    const report = await explain(`api.${ZONE}`);
    expect(report.upstreams.find((u) => u.name === 'cluster-1')).toMatchObject({
      fromReplica: true,
      replica: { state: 'loaded' },
    });
    expect(await metric('mdns_authority_answers_total{source="fanout"}')).toBeGreaterThan(0);
  });
});
