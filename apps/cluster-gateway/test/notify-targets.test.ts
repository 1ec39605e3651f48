import { createSocket, type Socket } from 'node:dgram';
import { resolveTargets } from '@mdns/ops';
import { scan } from '@mdns/protocol';
import { type AppProcess, assertBuilt, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfigSchema } from '../src/config/schema.js';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

// notify.targets[].host: resolved to EVERY address at each send, so each authority replica
// behind a headless Service gets its own NOTIFY, and a replica that appears later is found.

describe('resolveTargets', () => {
  const resolver = (table: Record<string, string[]>) => async (host: string) => {
    const found = table[host];
    if (!found) throw new Error(`${host}: ENOTFOUND`);
    return found;
  };

  it('expands a host to all its addresses, keeps address targets, sends each address:port once', async () => {
    const r = await resolveTargets(
      [
        { host: 'authorities.mdns', port: 53 },
        { address: '192.0.2.2', port: 53 },
        { address: '192.0.2.9', port: 5353 },
      ],
      resolver({ 'authorities.mdns': ['192.0.2.1', '192.0.2.2', '2001:db8::3'] }),
    );
    expect(r.targets).toEqual([
      { address: '192.0.2.1', port: 53 },
      { address: '192.0.2.2', port: 53 },
      { address: '2001:db8::3', port: 53 },
      { address: '192.0.2.9', port: 5353 },
    ]);
    expect(r.failures).toEqual([]);
  });

  it('a host that does not resolve is a failure; the other targets still go', async () => {
    const r = await resolveTargets(
      [
        { host: 'gone.mdns', port: 53 },
        { address: '192.0.2.2', port: 53 },
      ],
      resolver({}),
    );
    expect(r.targets).toEqual([{ address: '192.0.2.2', port: 53 }]);
    expect(r.failures).toEqual([{ host: 'gone.mdns', error: 'gone.mdns: ENOTFOUND' }]);
  });
});

describe('config: notify.targets', () => {
  const parse = (notify: unknown) =>
    gatewayConfigSchema.safeParse({ zones: [{ name: 'prod.example.tld' }], notify });

  it('takes an address or a host, and a resolver', () => {
    const r = parse({
      targets: [{ address: '192.0.2.1' }, { host: 'fanout-authority-pods.mdns.svc.cluster.local' }],
      resolver: { address: '10.96.0.10' },
    });
    expect(r.success).toBe(true);
    expect(r.data?.notify.resolver).toEqual({ address: '10.96.0.10', port: 53 });
  });

  it('rejects both or neither of address and host, naming the target', () => {
    for (const target of [{ address: '192.0.2.1', host: 'a.example' }, { port: 53 }]) {
      const r = parse({ targets: [target] });
      expect(r.success).toBe(false);
      expect(r.error?.issues[0]).toMatchObject({
        path: ['notify', 'targets', 0],
        message: 'give exactly one of address or host',
      });
    }
  });
});

/** A NOTIFY receiver (an authority replica stand-in) on `address:port`; acks every NOTIFY. */
async function replica(
  address: string,
  port: number,
): Promise<{ zones: string[]; socket: Socket }> {
  const socket = createSocket('udp4');
  const zones: string[] = [];
  socket.on('message', (msg, rinfo) => {
    const r = scan(msg);
    if (!r.ok || r.query.opcode !== 4) return;
    zones.push(r.query.qname);
    const reply = Buffer.from(msg);
    reply[2] |= 0x80;
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, address, () => resolve());
  });
  return { zones, socket };
}

/** Replicas on 127.0.0.2.., all on one port (a headless Service: one port, many pod IPs). */
async function replicas(count: number) {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await replica('127.0.0.2', 0);
    const port = first.socket.address().port;
    const all = [first];
    try {
      for (let i = 1; i < count; i++) all.push(await replica(`127.0.0.${2 + i}`, port));
      return { port, all };
    } catch {
      for (const r of all) r.socket.close(); // that port is taken on another address: again
    }
  }
  throw new Error('no port free on every replica address');
}

const endpoint = (addresses: string[]) =>
  JSON.stringify({
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name: 'authorities', namespace: 'mdns' },
    spec: {
      endpoints: [
        { dnsName: 'authorities.infra.example.tld', recordType: 'A', targets: addresses },
      ],
    },
  });

describe('NOTIFY to every replica of a host target (real processes)', () => {
  beforeAll(() => assertBuilt(MAIN));
  const dirs: TempDir[] = [];
  const processes: AppProcess[] = [];
  const sockets: Socket[] = [];
  afterAll(async () => {
    for (const p of processes) await p.stop();
    for (const s of sockets) s.close();
    for (const d of dirs) d.remove();
  });

  it('each address of the name gets the NOTIFY, and the name is resolved again at each send', async () => {
    const { port, all } = await replicas(3);
    sockets.push(...all.map((r) => r.socket));
    const [r2, r3, r4] = all;

    // The "cluster DNS": another gateway serving the headless-Service-like name with two
    // addresses (a third replica appears later).
    const dnsDir = tempDir('notify-dns-');
    dirs.push(dnsDir);
    const dnsObjects = tempDir('notify-dns-objects-');
    dirs.push(dnsObjects);
    dnsObjects.write('authorities.json', endpoint(['127.0.0.2', '127.0.0.3']));
    const dns = await startGateway(
      dnsDir.write(
        'gateway.yaml',
        JSON.stringify(
          testConfig({
            zones: [{ name: 'infra.example.tld' }],
            sources: {
              kubernetes: { enabled: false },
              manifests: { enabled: true, directory: dnsObjects.path },
            },
          }),
        ),
      ),
    );
    processes.push(dns);

    // The gateway under test: its NOTIFY target is that name, resolved by that server.
    const dir = tempDir('notify-gw-');
    dirs.push(dir);
    const objects = tempDir('notify-objects-');
    dirs.push(objects);
    const ingress = (ip: string) =>
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', namespace: 'default' },
        spec: { rules: [{ host: 'web.prod.example.tld' }] },
        status: { loadBalancer: { ingress: [{ ip }] } },
      });
    objects.write('web.json', ingress('10.0.0.1'));
    const gw = await startGateway(
      dir.write(
        'gateway.yaml',
        JSON.stringify(
          testConfig({
            sources: {
              kubernetes: { enabled: false },
              manifests: { enabled: true, directory: objects.path },
            },
            notify: {
              targets: [{ host: 'authorities.infra.example.tld', port }],
              resolver: { address: '127.0.0.1', port: dns.dnsPort },
              debounceMs: 50,
              timeoutMs: 500,
              retries: 2,
            },
          }),
        ),
      ),
    );
    processes.push(gw);

    // The first sync is a change: both current replicas get a NOTIFY, the future one none.
    await until(() => r2.zones.length > 0 && r3.zones.length > 0);
    expect(r2.zones[0]).toBe('prod.example.tld');
    expect(r3.zones[0]).toBe('prod.example.tld');
    expect(r4.zones).toEqual([]);

    // A third replica appears in DNS; the next change reaches it as well.
    dnsObjects.write('authorities.json', endpoint(['127.0.0.2', '127.0.0.3', '127.0.0.4']));
    await until(async () => {
      const out = await dns.dig(['+short', 'authorities.infra.example.tld', 'A']);
      return out.trim().split('\n').length === 3;
    });
    const before = { r2: r2.zones.length, r3: r3.zones.length };
    objects.write('web.json', ingress('10.0.0.2'));
    await until(() => r4.zones.length > 0);
    expect(r4.zones[0]).toBe('prod.example.tld');
    expect(r2.zones.length).toBeGreaterThan(before.r2);
    expect(r3.zones.length).toBeGreaterThan(before.r3);
    const metrics = await gw.http('/metrics');
    expect(metrics.body).toMatch(/mdns_gateway_notify_resolve_failed_total 0/);
  }, 60_000);
});
