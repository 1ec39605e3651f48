import { type AddressInfo, createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { exportCounters } from '../src/metrics/counters.js';
import { dnsQueryMetrics } from '../src/metrics/dns.js';
import { createRegistry } from '../src/metrics/registry.js';
import { type OpsServer, planListeners, startOpsServer } from '../src/server.js';

const servers: OpsServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function start(options: Partial<Parameters<typeof startOpsServer>[0]> = {}) {
  const registry = options.registry ?? createRegistry({ defaultMetrics: false });
  const server = await startOpsServer({
    host: '127.0.0.1',
    metricsPort: 0,
    healthPort: 0,
    readyPort: 0,
    registry,
    ready: () => true,
    ...options,
  });
  servers.push(server);
  return server;
}

/** Ports that were free a moment ago (listen on 0, read the port, close). */
async function freePorts(n: number): Promise<number[]> {
  const held = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Server>((resolve) => {
          const srv = createServer();
          srv.listen(0, '127.0.0.1', () => resolve(srv));
        }),
    ),
  );
  const ports = held.map((srv) => (srv.address() as AddressInfo).port);
  await Promise.all(held.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;

describe('planListeners', () => {
  it('shares a listener between equal ports and splits distinct ones', () => {
    expect([...planListeners({ metrics: 9153, health: 8080, ready: 8080 })]).toEqual([
      [9153, ['metrics']],
      [8080, ['health', 'ready']],
    ]);
  });
});

describe('ops endpoints over HTTP', () => {
  it('/ready is 503 with detail until ready, then 200', async () => {
    let state = { ready: false, detail: { sources: { kube: 'syncing' } } };
    const s = await start({ ready: () => state });
    let res = await fetch(url(s.ports.ready, '/ready'));
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ ready: false, detail: { sources: { kube: 'syncing' } } });
    state = { ready: true, detail: { sources: { kube: 'synced' } } };
    res = await fetch(url(s.ports.ready, '/ready'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ready: true, detail: { sources: { kube: 'synced' } } });
  });

  it('/ready answers 503 when ready() throws', async () => {
    const s = await start({
      ready: () => {
        throw new Error('index not built');
      },
    });
    const res = await fetch(url(s.ports.ready, '/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, error: 'index not built' });
  });

  it('/health is 200 "OK", and 503 once shutting down (so is /ready)', async () => {
    const s = await start();
    let res = await fetch(url(s.ports.health, '/health'));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('OK');
    s.markShuttingDown();
    res = await fetch(url(s.ports.health, '/health'));
    expect(res.status).toBe(503);
    await res.arrayBuffer();
    res = await fetch(url(s.ports.ready, '/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ ready: false, shuttingDown: true });
  });

  it('lame duck (markNotReady): /ready 503, /health still 200', async () => {
    const s = await start();
    expect((await fetch(url(s.ports.ready, '/ready'))).status).toBe(200);
    s.markNotReady();
    const ready = await fetch(url(s.ports.ready, '/ready'));
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, shuttingDown: true });
    const health = await fetch(url(s.ports.health, '/health'));
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('OK');
  });

  it('/health follows the health() hook', async () => {
    let alive = true;
    const s = await start({ health: () => alive });
    expect((await fetch(url(s.ports.health, '/health'))).status).toBe(200);
    alive = false;
    expect((await fetch(url(s.ports.health, '/health'))).status).toBe(503);
  });

  it('serves each path only on its own port; unknown paths 404, POST 405', async () => {
    const [metricsPort, probePort] = await freePorts(2);
    const s = await start({ metricsPort, healthPort: probePort, readyPort: probePort });
    expect(s.ports).toEqual({ metrics: metricsPort, health: probePort, ready: probePort });
    const status = async (port: number, path: string, init?: RequestInit) => {
      const res = await fetch(url(port, path), init);
      await res.arrayBuffer();
      return res.status;
    };
    expect(await status(metricsPort, '/metrics')).toBe(200);
    expect(await status(metricsPort, '/health')).toBe(404);
    expect(await status(probePort, '/metrics')).toBe(404);
    expect(await status(probePort, '/health')).toBe(200);
    expect(await status(probePort, '/ready?verbose=1')).toBe(200);
    expect(await status(probePort, '/nope')).toBe(404);
    const res405 = await fetch(url(probePort, '/ready'), { method: 'POST' });
    expect(res405.status).toBe(405);
    expect(res405.headers.get('allow')).toBe('GET, HEAD');
    await res405.arrayBuffer();
  });

  it('fails with the address named when the port is taken', async () => {
    const s = await start();
    await expect(
      startOpsServer({
        host: '127.0.0.1',
        metricsPort: s.ports.metrics,
        healthPort: s.ports.metrics,
        readyPort: s.ports.metrics,
        registry: createRegistry({ defaultMetrics: false }),
        ready: () => true,
      }),
    ).rejects.toThrow(/ops server: cannot listen on 127\.0\.0\.1: .*EADDRINUSE/);
  });
});

describe('/metrics', () => {
  it('serves DNS query metrics, exported counters and process metrics', async () => {
    const registry = createRegistry({ defaultMetrics: true });
    const dns = dnsQueryMetrics(registry, 'mdns_test_');
    const counters = { udpQueries: 0, tcpConnections: 2, label: 'ignored' };
    const names = exportCounters(registry, 'mdns_test_', () => counters, {
      gauges: ['tcpConnections'],
      help: { udpQueries: 'UDP queries received.' },
    });
    expect(names).toEqual(['mdns_test_udp_queries_total', 'mdns_test_tcp_connections']);

    dns.observe('example.test', 1, 0, 0.0002);
    dns.observe('example.test', 1, 0, 0.003);
    dns.observe('example.test', 28, 3, 7);
    dns.observe('none', 65280, 5, 0.00005);
    // Every unknown type shares one `other` series (one series per number would let a
    // client grow memory and /metrics without bound).
    dns.observe('none', 65281, 5, 0.00005);
    dns.observe('none', 666, 5, 0.00005);
    counters.udpQueries = 4;

    const s = await start({ registry });
    const res = await fetch(url(s.ports.metrics, '/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    const line = (l: string) => expect(text.split('\n')).toContain(l);

    line('# TYPE mdns_test_queries_total counter');
    line('mdns_test_queries_total{zone="example.test",qtype="A",rcode="NOERROR"} 2');
    line('mdns_test_queries_total{zone="example.test",qtype="AAAA",rcode="NXDOMAIN"} 1');
    line('mdns_test_queries_total{zone="none",qtype="other",rcode="REFUSED"} 3');
    expect(
      text.split('\n').filter((l) => l.startsWith('mdns_test_queries_total{zone="none"')),
    ).toHaveLength(1);

    line('# TYPE mdns_test_query_duration_seconds histogram');
    const a = 'zone="example.test",qtype="A",rcode="NOERROR"';
    line(`mdns_test_query_duration_seconds_bucket{${a},le="0.0001"} 0`);
    line(`mdns_test_query_duration_seconds_bucket{${a},le="0.00025"} 1`);
    line(`mdns_test_query_duration_seconds_bucket{${a},le="0.0025"} 1`);
    line(`mdns_test_query_duration_seconds_bucket{${a},le="0.005"} 2`);
    line(`mdns_test_query_duration_seconds_bucket{${a},le="+Inf"} 2`);
    line(`mdns_test_query_duration_seconds_sum{${a}} 0.0032`);
    line(`mdns_test_query_duration_seconds_count{${a}} 2`);
    const slow = 'zone="example.test",qtype="AAAA",rcode="NXDOMAIN"';
    line(`mdns_test_query_duration_seconds_bucket{${slow},le="5"} 0`);
    line(`mdns_test_query_duration_seconds_bucket{${slow},le="+Inf"} 1`);

    line('# HELP mdns_test_udp_queries_total UDP queries received.');
    line('# TYPE mdns_test_udp_queries_total counter');
    line('mdns_test_udp_queries_total 4');
    line('# TYPE mdns_test_tcp_connections gauge');
    line('mdns_test_tcp_connections 2');

    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('counts many observations of one series without new series', () => {
    const registry = createRegistry({ defaultMetrics: false });
    const dns = dnsQueryMetrics(registry, 'x_');
    for (let i = 0; i < 10_000; i++) dns.observe('z', 1, 0, 0.001);
    return registry.getSingleMetricAsString('x_queries_total').then((text) => {
      expect(text).toContain('x_queries_total{zone="z",qtype="A",rcode="NOERROR"} 10000');
    });
  });
});
