import { execFileSync } from 'node:child_process';
import { type AppProcess, assertBuilt, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

// metrics.corednsCompatible on the real process: dig asks over UDP and TCP, and /metrics
// carries CoreDNS's series with CoreDNS's labels beside the gateway's own.
describe('end to end: CoreDNS-compatible metrics', () => {
  beforeAll(() => assertBuilt(MAIN));
  const ZONE = 'prod.example.tld';
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-manifests-');
    manifests.write(
      'web.yaml',
      JSON.stringify({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', namespace: 'web' },
        spec: { rules: [{ host: `web.${ZONE}` }] },
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
      }),
    );
    const config = testConfig({
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
      },
      metrics: { corednsCompatible: true },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  const dig = (...args: string[]) =>
    execFileSync('dig', ['@127.0.0.1', '-p', String(gw.dnsPort), '+tries=1', '+time=2', ...args], {
      encoding: 'utf8',
    });

  it('counts requests by proto and type, responses by rcode, durations by type', async () => {
    expect(dig(`web.${ZONE}`, 'A', '+short').trim()).toBe('192.0.2.10');
    dig(`web.${ZONE}`, 'A', '+tcp');
    dig(`nope.${ZONE}`, 'AAAA');
    dig('example.com', 'A');
    const metrics = (await gw.http('/metrics')).body;
    // The configured listener (port 0 here: the OS picked the real one).
    const s = 'server="dns://127.0.0.1:0"';
    expect(metrics).toContain(
      `coredns_dns_requests_total{${s},zone="${ZONE}.",proto="udp",family="1",type="A"} 1`,
    );
    expect(metrics).toContain(
      `coredns_dns_requests_total{${s},zone="${ZONE}.",proto="tcp",family="1",type="A"} 1`,
    );
    expect(metrics).toContain(
      `coredns_dns_requests_total{${s},zone="${ZONE}.",proto="udp",family="1",type="AAAA"} 1`,
    );
    expect(metrics).toContain(
      `coredns_dns_responses_total{${s},zone="${ZONE}.",rcode="NOERROR"} 2`,
    );
    expect(metrics).toContain(
      `coredns_dns_responses_total{${s},zone="${ZONE}.",rcode="NXDOMAIN"} 1`,
    );
    expect(metrics).toContain(`coredns_dns_responses_total{${s},zone="dropped",rcode="REFUSED"} 1`);
    expect(metrics).toContain(
      `coredns_dns_request_duration_seconds_count{${s},zone="${ZONE}.",type="A"} 2`,
    );
    expect(metrics).toMatch(/^# TYPE coredns_dns_request_duration_seconds histogram$/m);
    // The gateway's own series stay as they are.
    expect(metrics).toContain(
      `mdns_gateway_queries_total{zone="${ZONE}",qtype="A",rcode="NOERROR"} 2`,
    );
  });
});
