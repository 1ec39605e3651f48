import { type AppProcess, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startGateway, testConfig } from './support/gateway.js';

const ZONE = 'prod.example.tld';

// DNSEndpoint SRV / MX / CAA / PTR in external-dns's target formats, through the manifests
// source, asked with dig (a real peer parsing our wire format).
const DNS_ENDPOINT = {
  apiVersion: 'externaldns.k8s.io/v1alpha1',
  kind: 'DNSEndpoint',
  metadata: { name: 'records', namespace: 'dns' },
  spec: {
    endpoints: [
      {
        dnsName: `_https._tcp.${ZONE}`,
        recordType: 'SRV',
        targets: [`10 5 443 web.${ZONE}`, '20 0 443 backup.example.net'],
      },
      { dnsName: ZONE, recordType: 'MX', targets: [`10 mail.${ZONE}`], recordTTL: 300 },
      {
        dnsName: ZONE,
        recordType: 'CAA',
        targets: ['0 issue "letsencrypt.org"', '128 iodef "mailto:sec@example.tld"'],
      },
      { dnsName: `1.2.0.192.${ZONE}`, recordType: 'PTR', targets: [`web.${ZONE}`] },
      { dnsName: `web.${ZONE}`, recordType: 'A', targets: ['192.0.2.1'] },
      { dnsName: `web.${ZONE}`, recordType: 'AAAA', targets: ['2001:db8::1'] },
      { dnsName: `mail.${ZONE}`, recordType: 'A', targets: ['192.0.2.25'] },
      { dnsName: `www.${ZONE}`, recordType: 'A', targets: ['192.0.2.1'] },
      { dnsName: `sub.${ZONE}`, recordType: 'NS', targets: ['ns.elsewhere.example'] },
      {
        dnsName: `weighted.${ZONE}`,
        recordType: 'A',
        targets: ['192.0.2.7'],
        setIdentifier: 'eu',
        providerSpecific: [{ name: 'aws/weight', value: '10' }],
      },
      // One name, three types, three TTLs: each RRset keeps its own endpoint's.
      { dnsName: `ttl.${ZONE}`, recordType: 'A', targets: ['192.0.2.30'], recordTTL: 30 },
      { dnsName: `ttl.${ZONE}`, recordType: 'AAAA', targets: ['2001:db8::30'], recordTTL: 120 },
      { dnsName: `ttl.${ZONE}`, recordType: 'TXT', targets: ['v=ttl'], recordTTL: 3600 },
    ],
  },
};

describe('end to end: DNSEndpoint SRV, MX, CAA, PTR', () => {
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-manifests-');
    manifests.write('records.yaml', stringify(DNS_ENDPOINT));
    const config = testConfig({
      reverseZones: ['2.0.192.in-addr.arpa', '8.b.d.0.1.0.0.2.ip6.arpa'],
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
      },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  const section = (out: string) =>
    out
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith(';'))
      .map((l) =>
        l
          .split(/\s+/)
          .filter((_, i) => i !== 2)
          .join(' '),
      );

  it('SRV: both records, the in-zone target with its A and AAAA as additional data', async () => {
    const out = await gw.dig(['+noall', '+answer', '+additional', `_https._tcp.${ZONE}`, 'SRV']);
    expect(section(out)).toEqual([
      `_https._tcp.${ZONE}. 60 SRV 10 5 443 web.${ZONE}.`,
      `_https._tcp.${ZONE}. 60 SRV 20 0 443 backup.example.net.`,
      `web.${ZONE}. 60 A 192.0.2.1`,
      `web.${ZONE}. 60 AAAA 2001:db8::1`,
    ]);
  });

  it('MX at the apex with recordTTL, the exchange address as additional data', async () => {
    const out = await gw.dig(['+noall', '+answer', '+additional', ZONE, 'MX']);
    expect(section(out)).toEqual([
      `${ZONE}. 300 MX 10 mail.${ZONE}.`,
      `mail.${ZONE}. 60 A 192.0.2.25`,
    ]);
  });

  it('CAA: flags, tag and value', async () => {
    const out = await gw.dig(['+noall', '+answer', ZONE, 'CAA']);
    expect(section(out)).toEqual([
      `${ZONE}. 60 CAA 0 issue "letsencrypt.org"`,
      `${ZONE}. 60 CAA 128 iodef "mailto:sec@example.tld"`,
    ]);
  });

  it('PTR', async () => {
    const out = await gw.dig(['+noall', '+answer', `1.2.0.192.${ZONE}`, 'PTR']);
    expect(section(out)).toEqual([`1.2.0.192.${ZONE}. 60 PTR web.${ZONE}.`]);
  });

  it('A, AAAA and TXT endpoints of one name: each RRset with its own recordTTL', async () => {
    const answer = async (type: string) =>
      section(await gw.dig(['+noall', '+answer', `ttl.${ZONE}`, type]));
    expect(await answer('A')).toEqual([`ttl.${ZONE}. 30 A 192.0.2.30`]);
    expect(await answer('AAAA')).toEqual([`ttl.${ZONE}. 120 AAAA 2001:db8::30`]);
    expect(await answer('TXT')).toEqual([`ttl.${ZONE}. 3600 TXT "v=ttl"`]);
  });

  it('a type the name lacks is NODATA; ANY stays RFC 8482', async () => {
    const nodata = await gw.dig(['+noall', '+comments', `_https._tcp.${ZONE}`, 'A']);
    expect(nodata).toContain('status: NOERROR');
    const any = await gw.dig(['+noall', '+answer', `_https._tcp.${ZONE}`, 'ANY']);
    expect(any).toContain('HINFO');
  });

  it('NS is refused with one warning naming the object; the name does not exist', async () => {
    expect(await gw.dig(['+noall', '+comments', `sub.${ZONE}`, 'NS'])).toContain('NXDOMAIN');
    const warnings = gw.logs.filter(
      (l) => l.level === 'warn' && JSON.stringify(l).includes('record type NS refused'),
    );
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0])).toContain('DNSEndpoint dns/records spec.endpoints[8]');
  });

  it('setIdentifier / providerSpecific: ignored with a warning each, the records served', async () => {
    expect(section(await gw.dig(['+noall', '+answer', `weighted.${ZONE}`, 'A']))).toEqual([
      `weighted.${ZONE}. 60 A 192.0.2.7`,
    ]);
    const text = JSON.stringify(gw.logs.filter((l) => l.level === 'warn'));
    expect(text).toContain('spec.endpoints[9].setIdentifier');
    expect(text).toContain('spec.endpoints[9].providerSpecific');
  });

  it('the refusals are counted', async () => {
    const metrics = (await gw.http('/metrics')).body;
    expect(metrics).toMatch(/claims_rejected_total\{reason="record_type"\} 1\b/);
    expect(metrics).toMatch(/claims_rejected_total\{reason="endpoint_field"\} 2\b/);
  });

  describe('reverseZones', () => {
    it('several names for one address: several PTR, sorted', async () => {
      expect(section(await gw.dig(['+noall', '+answer', '-x', '192.0.2.1']))).toEqual([
        `1.2.0.192.in-addr.arpa. 60 PTR web.${ZONE}.`,
        `1.2.0.192.in-addr.arpa. 60 PTR www.${ZONE}.`,
      ]);
    });

    it('IPv6 (ip6.arpa nibbles)', async () => {
      const out = await gw.dig(['+noall', '+answer', '-x', '2001:db8::1']);
      const name = `1.0.0.0.${'0.0.0.0.'.repeat(5)}8.b.d.0.1.0.0.2.ip6.arpa.`;
      expect(section(out)).toEqual([`${name} 60 PTR web.${ZONE}.`]);
    });

    it('an address nobody serves: NXDOMAIN with the reverse zone SOA; the apex has SOA', async () => {
      const out = await gw.dig(['+noall', '+comments', '+authority', '-x', '192.0.2.99']);
      expect(out).toContain('NXDOMAIN');
      expect(out).toMatch(/2\.0\.192\.in-addr\.arpa\.\s+\d+\s+IN\s+SOA/);
      expect(await gw.dig(['+short', '2.0.192.in-addr.arpa', 'SOA'])).not.toBe('');
    });

    it('an address outside the reverse zones: REFUSED', async () => {
      expect(await gw.dig(['+noall', '+comments', '-x', '198.51.100.1'])).toContain('REFUSED');
    });
  });
});
