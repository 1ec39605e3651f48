import { writeFileSync } from 'node:fs';
import { decode } from '@mdns/protocol';
import { AppProcess, assertBuilt, freePort, tempDir, until } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, ingress, startGateway } from './support/gateway.js';

// listen.workers: 2 and a replicated gateway: the primary holds the replica (one AXFR, one
// IXFR per change at the gateway, counted by its own transfer counters), and both workers
// answer from the copy it sends them. The gateway's NOTIFY reaches one worker, which passes it
// to the primary, so both workers follow a change at once (not at the next refresh, an hour
// away here); a worker killed and restarted gets the copy again without a transfer.

const ZONE = 'prod.test';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';

assertBuilt(GATEWAY_MAIN);
assertBuilt(MAIN);

describe('with 2 workers, one replica per process and both workers answer from it', () => {
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
  /** Lines "replica loaded" at `serial`. */
  const loadedAt = (serial: number) =>
    server.logs.filter((l) => l.msg === 'replica loaded' && l.serial === serial);
  /** Transfers the gateway served, by kind. */
  const served = async (kind: 'axfr' | 'ixfr') =>
    (await gateway.server.metric(`mdns_gateway_transfer_${kind}_total`)) ?? 0;
  /** Merged over the workers with min: 1 only when every worker answers from a fresh copy. */
  const everyWorkerAt = async (serial: number) =>
    (await server.metric(`mdns_authority_replica_serial{zone="${ZONE}",upstream="gw"}`)) ===
      serial &&
    (await server.metric(`mdns_authority_replica_fresh{zone="${ZONE}",upstream="gw"}`)) === 1;
  /** `count` queries for `name` from as many source ports (spread over both workers). */
  const answers = async (name: string, count: number) => {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const r = await dnsQuery({ host: '127.0.0.1', port: server.dnsPort, name, type: 'A' });
      const d = decode(r.bytes);
      const a = (d.ok ? (d.message.answers ?? [])[0] : undefined) as { data?: unknown } | undefined;
      out.push(`${d.ok ? d.message.rcode : 'undecodable'} ${String(a?.data ?? '-')}`);
    }
    return out;
  };

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
    // The second test stops it.
    if (gateway?.server.alive) await gateway.stop();
    dir.remove();
  });

  it('the primary pulls once: one AXFR at start, one IXFR per change, both workers follow', async () => {
    const first = await gatewaySerial();
    await until(() => everyWorkerAt(first), 15_000);
    expect(loadedAt(first).map((l) => [l.role, l.kind])).toEqual([['primary', 'AXFR']]);
    expect(await served('axfr')).toBe(1);
    writeFileSync(`${gateway.manifests}/new.yaml`, ingress('new', `new.${ZONE}`, '10.3.0.9'));
    await until(async () => (await gatewaySerial()) !== first, 15_000);
    const next = await gatewaySerial();
    await until(() => everyWorkerAt(next), 15_000);
    expect(loadedAt(next).map((l) => [l.role, l.kind])).toEqual([['primary', 'IXFR']]);
    expect(await served('axfr')).toBe(1);
    expect(await served('ixfr')).toBe(1);
    // Counted once (the workers report the primary's counts; merged with max, not summed).
    expect(
      await server.metric(
        `mdns_authority_replica_transfers_total{zone="${ZONE}",upstream="gw",kind="IXFR",result="ixfr"}`,
      ),
    ).toBe(1);
  });

  it('with the gateway gone, every worker answers from its copy; a restarted one too', async () => {
    const serial = await gatewaySerial();
    const transfers = (await served('axfr')) + (await served('ixfr'));
    await gateway.stop();
    // A worker without the copy would ask the gateway, get no answer and SERVFAIL.
    expect(new Set(await answers(`new.${ZONE}`, 20))).toEqual(new Set(['NOERROR 10.3.0.9']));
    const pid = server.logs.find((l) => l.msg === 'listening' && l.worker === 2)?.pid as number;
    process.kill(pid, 'SIGKILL');
    await server.waitForLog((l) => l.msg === 'worker serving again' && l.worker === 2, 15_000);
    // min over the workers: the restarted worker holds the copy at the same serial.
    await until(() => everyWorkerAt(serial), 10_000);
    expect(new Set(await answers(`web.${ZONE}`, 20))).toEqual(new Set(['NOERROR 10.3.0.1']));
    // No transfer since: the snapshot came from the primary (the gateway is down anyway).
    expect(loadedAt(serial)).toHaveLength(1);
    expect(transfers).toBe(2);
  });
});
