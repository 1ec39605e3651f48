import { writeFileSync } from 'node:fs';
import { decode } from '@mdns/protocol';
import { AppProcess, assertBuilt, freePort, tempDir, until } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, ingress, startGateway } from './support/gateway.js';

// listen.workers: 2 and a replicated gateway: each worker holds its own copy. The gateway's
// NOTIFY reaches one worker, which passes it on, so both copies follow a change at once (not
// at their next refresh, an hour away here).

const ZONE = 'prod.test';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';

assertBuilt(GATEWAY_MAIN);
assertBuilt(MAIN);

describe('replicas in every worker follow one NOTIFY', () => {
  let gateway: Gateway;
  let server: AppProcess;
  const dir = tempDir('authority-replica-workers-');

  const gatewaySerial = async () => {
    const r = await dnsQuery({ host: '127.0.0.1', port: gateway.port, name: ZONE, type: 'SOA' });
    const d = decode(r.bytes);
    if (!d.ok) throw new Error(d.error);
    const soa = (d.message.answers ?? [])[0] as { data: { serial: number } } | undefined;
    if (soa === undefined) throw new Error('the gateway answered no SOA');
    return soa.data.serial;
  };
  /** Lines "replica loaded" per worker at `serial`. */
  const loadedAt = (serial: number) =>
    new Set(
      server.logs
        .filter((l) => l.msg === 'replica loaded' && l.serial === serial)
        .map((l) => l.worker),
    );

  beforeAll(async () => {
    const dnsPort = await freePort();
    gateway = await startGateway(ZONE, { 'a.yaml': ingress('web', `web.${ZONE}`, '10.3.0.1') }, [
      'transfer:',
      '  enabled: true',
      '  allow: [127.0.0.0/8]',
      `  keys: [{ name: ${KEY}, secret: "${SECRET}" }]`,
      'notify:',
      `  targets: [{ address: 127.0.0.1, port: ${dnsPort}, key: ${KEY} }]`,
      '  debounceMs: 100',
    ]);
    const config = [
      'zones:',
      `  - name: ${ZONE}`,
      '    soa: { refresh: 3600 }',
      '    upstreams:',
      `      - { name: gw, address: 127.0.0.1, port: ${gateway.port}, transfer: { enabled: true, key: ${KEY}, refreshSeconds: 3600 } }`,
      'transfer:',
      `  keys: [{ name: ${KEY}, secret: "${SECRET}" }]`,
      `listen: { host: 127.0.0.1, port: ${dnsPort}, workers: 2 }`,
      'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
      'explain: { enabled: false }',
      'log: { level: info }',
      'shutdown: { lameDuckSeconds: 0 }',
      '',
    ].join('\n');
    server = await AppProcess.start(MAIN, dir.write('authority.yaml', config), {
      timeoutMs: 15_000,
    });
  });
  afterAll(async () => {
    await server?.stop(10_000);
    await gateway?.stop();
    dir.remove();
  });

  it('both workers load the zone, and both take the change the gateway announces', async () => {
    const first = await gatewaySerial();
    await until(async () => loadedAt(first).size === 2, 15_000);
    writeFileSync(`${gateway.manifests}/new.yaml`, ingress('new', `new.${ZONE}`, '10.3.0.9'));
    await until(async () => (await gatewaySerial()) !== first, 15_000);
    const next = await gatewaySerial();
    await until(async () => loadedAt(next).size === 2, 15_000);
    expect([...loadedAt(next)].sort()).toEqual([1, 2]);
    expect(
      server.logs.filter((l) => l.msg === 'replica loaded' && l.serial === next).map((l) => l.kind),
    ).toEqual(['IXFR', 'IXFR']);
    expect(await server.metric(`mdns_authority_replica_serial{zone="${ZONE}",upstream="gw"}`)).toBe(
      next,
    );
  });
});
