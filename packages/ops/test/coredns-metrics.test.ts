import { describe, expect, it } from 'vitest';
import { corednsZone, viaSlot } from '../src/metrics/coredns.js';
import { corednsServerLabel, dnsQueryMetrics } from '../src/metrics/dns.js';
import { createRegistry } from '../src/metrics/registry.js';

// metrics.corednsCompatible: CoreDNS's request/response/duration series, rebuilt at scrape
// time from our own, with CoreDNS's names, label names and label values.

/** `name{labels} value` lines of one metric family. */
async function lines(registry: ReturnType<typeof createRegistry>, prefix: string) {
  return (await registry.metrics()).split('\n').filter((l) => l.startsWith(prefix));
}

describe('CoreDNS label values', () => {
  it('proto and family: udp/tcp, 1 for IPv4 (mapped too), 2 for IPv6', () => {
    expect(viaSlot({ transport: 'udp', address: '192.0.2.1' })).toBe(0);
    expect(viaSlot({ transport: 'udp', address: '2001:db8::1' })).toBe(1);
    expect(viaSlot({ transport: 'tcp', address: '::ffff:192.0.2.1' })).toBe(2);
    expect(viaSlot({ transport: 'tcp', address: '::1' })).toBe(3);
  });

  it('zone with a trailing dot; queries outside every zone are "dropped"', () => {
    expect(corednsZone('prod.example.tld')).toBe('prod.example.tld.');
    expect(corednsZone('none')).toBe('dropped');
  });

  it('server: dns://:port on every address, else the address', () => {
    expect(corednsServerLabel('0.0.0.0', 53)).toBe('dns://:53');
    expect(corednsServerLabel('::', 1053)).toBe('dns://:1053');
    expect(corednsServerLabel('127.0.0.1', 5300)).toBe('dns://127.0.0.1:5300');
    expect(corednsServerLabel('::1', 5300)).toBe('dns://[::1]:5300');
  });
});

describe('coredns_dns_* series', () => {
  it('are absent unless asked for', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = dnsQueryMetrics(registry, 'x_');
    m.observe('z.test', 1, 0, 0.001, { transport: 'udp', address: '127.0.0.1' });
    expect(await registry.metrics()).not.toContain('coredns_');
  });

  it('count requests by zone, proto, family and type; responses by rcode; durations by type', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const m = dnsQueryMetrics(registry, 'x_', { coredns: { server: 'dns://:53' } });
    const udp4 = { transport: 'udp', address: '192.0.2.1' } as const;
    const tcp6 = { transport: 'tcp', address: '2001:db8::1' } as const;
    m.observe('z.test', 1, 0, 0.0002, udp4); // A NOERROR
    m.observe('z.test', 1, 3, 0.0002, udp4); // A NXDOMAIN
    m.observe('z.test', 28, 0, 0.02, tcp6); // AAAA NOERROR
    m.observe('none', 1, 5, 0.0001, udp4); // outside every zone: REFUSED

    expect((await lines(registry, 'coredns_dns_requests_total{')).sort()).toEqual(
      [
        'coredns_dns_requests_total{server="dns://:53",zone="z.test.",proto="udp",family="1",type="A"} 2',
        'coredns_dns_requests_total{server="dns://:53",zone="z.test.",proto="tcp",family="2",type="AAAA"} 1',
        'coredns_dns_requests_total{server="dns://:53",zone="dropped",proto="udp",family="1",type="A"} 1',
      ].sort(),
    );
    expect((await lines(registry, 'coredns_dns_responses_total{')).sort()).toEqual(
      [
        'coredns_dns_responses_total{server="dns://:53",zone="z.test.",rcode="NOERROR"} 2',
        'coredns_dns_responses_total{server="dns://:53",zone="z.test.",rcode="NXDOMAIN"} 1',
        'coredns_dns_responses_total{server="dns://:53",zone="dropped",rcode="REFUSED"} 1',
      ].sort(),
    );
    const counts = await lines(registry, 'coredns_dns_request_duration_seconds_count{');
    expect(counts).toContain(
      'coredns_dns_request_duration_seconds_count{server="dns://:53",zone="z.test.",type="A"} 2',
    );
    // Both A answers took 0.2 ms: in the 0.00025 bucket, not in the 0.0001 one.
    const buckets = await lines(registry, 'coredns_dns_request_duration_seconds_bucket{');
    expect(buckets).toContain(
      'coredns_dns_request_duration_seconds_bucket{server="dns://:53",zone="z.test.",type="A",le="0.00025"} 2',
    );
    expect(buckets).toContain(
      'coredns_dns_request_duration_seconds_bucket{server="dns://:53",zone="z.test.",type="A",le="0.0001"} 0',
    );
    // Our own series are unchanged beside them.
    expect(await lines(registry, 'x_queries_total{')).toHaveLength(4);
  });
});
