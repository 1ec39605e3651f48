import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { assertBuilt } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, startGateway } from './support/gateway.js';

// DNSEndpoint SRV / MX / CAA / PTR through the real authority: two real cluster-gateway
// processes (manifests source) serve the zone, each with its own records, and the client
// (dig, kdig) sees what the authority makes of them: the answer merged (`all`) or the
// winner's (`priority`), and the in-zone addresses of SRV targets / MX exchanges as
// additional data, from the answers that formed the reply only.
const ZONE = 'prod.test';
// Each gateway answers PTR for the addresses it serves (`reverseZones`); the authority serves
// the same reverse zone with the gateways as upstreams (docs/migrating.md).
const REVERSE = '2.0.192.in-addr.arpa';
const run = promisify(execFile);

function dnsEndpoint(name: string, endpoints: object[]): string {
  // JSON is YAML: the manifests source reads it as is.
  return JSON.stringify({
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace: 'dns' },
    spec: { endpoints },
  });
}

const CLUSTER_0 = dnsEndpoint('records', [
  { dnsName: `_https._tcp.${ZONE}`, recordType: 'SRV', targets: [`10 5 443 web.${ZONE}`] },
  { dnsName: `mx.${ZONE}`, recordType: 'MX', targets: [`10 mail.${ZONE}`], recordTTL: 300 },
  { dnsName: `caa.${ZONE}`, recordType: 'CAA', targets: ['0 issue "letsencrypt.org"'] },
  { dnsName: `1.2.0.192.${ZONE}`, recordType: 'PTR', targets: [`web.${ZONE}`] },
  { dnsName: `web.${ZONE}`, recordType: 'A', targets: ['192.0.2.1'] },
  { dnsName: `web.${ZONE}`, recordType: 'AAAA', targets: ['2001:db8::1'] },
  { dnsName: `mail.${ZONE}`, recordType: 'A', targets: ['192.0.2.25'] },
]);

const CLUSTER_1 = dnsEndpoint('records', [
  {
    dnsName: `_https._tcp.${ZONE}`,
    recordType: 'SRV',
    targets: [`20 0 443 api.${ZONE}`, '30 0 443 backup.example.net'],
  },
  { dnsName: `mx.${ZONE}`, recordType: 'MX', targets: [`10 mail.${ZONE}`], recordTTL: 120 },
  { dnsName: `caa.${ZONE}`, recordType: 'CAA', targets: ['0 issuewild ";"'] },
  { dnsName: `1.2.0.192.${ZONE}`, recordType: 'PTR', targets: [`web.${ZONE}`] },
  { dnsName: `api.${ZONE}`, recordType: 'A', targets: ['192.0.2.2'] },
  { dnsName: `mail.${ZONE}`, recordType: 'A', targets: ['192.0.2.26'] },
]);

interface Sections {
  status: string;
  answer: string[];
  additional: string[];
}

/** dig / kdig output by section, each record as `name ttl TYPE data` (class dropped), sorted. */
async function ask(
  tool: 'dig' | 'kdig',
  port: number,
  name: string,
  type: string,
): Promise<Sections> {
  const args = ['@127.0.0.1', '-p', String(port), name, type, '+norec', '+nostats'];
  const { stdout } = await run(tool, args);
  const out: Sections = {
    status: /status: (\w+)/.exec(stdout)?.[1] ?? `no status in ${stdout}`,
    answer: [],
    additional: [],
  };
  let section: 'answer' | 'additional' | null = null;
  for (const line of stdout.split('\n')) {
    if (/^;; ANSWER SECTION/.test(line)) section = 'answer';
    else if (/^;; ADDITIONAL SECTION/.test(line)) section = 'additional';
    else if (line.startsWith(';') || line.trim() === '') {
      if (line.startsWith(';;')) section = null;
    } else if (section) {
      const fields = line.trim().split(/\s+/);
      out[section].push([fields[0], fields[1], ...fields.slice(3)].join(' '));
    }
  }
  out.answer.sort();
  out.additional.sort();
  return out;
}

async function untilSynced(g: Gateway, name: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      const r = await dnsQuery({
        host: '127.0.0.1',
        port: g.port,
        name,
        type: 'A',
        timeoutMs: 500,
      });
      if (r.rcode === 0) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`gateway on ${g.port} never answered ${name}`);
}

// turbo builds @mdns/cluster-gateway first (a devDependency): never skip silently.
assertBuilt(GATEWAY_MAIN);

describe('SRV, MX, CAA, PTR from cluster-gateways through the authority', () => {
  const gateways: Gateway[] = [];
  let merged: Authority;
  let preferred: Authority;

  beforeAll(async () => {
    const reverse = [`reverseZones: [${REVERSE}]`];
    gateways.push(await startGateway(ZONE, { 'records.yaml': CLUSTER_0 }, reverse));
    gateways.push(await startGateway(ZONE, { 'records.yaml': CLUSTER_1 }, reverse));
    await untilSynced(gateways[0], `web.${ZONE}`);
    await untilSynced(gateways[1], `api.${ZONE}`);
    const upstreams = gateways.map((g, i) => ({ name: `cluster-${i}`, port: g.port, priority: i }));
    merged = await startAuthority(
      configYaml([
        { name: ZONE, policy: 'all', upstreams },
        { name: REVERSE, policy: 'all', upstreams },
      ]),
    );
    preferred = await startAuthority(configYaml([{ name: ZONE, policy: 'priority', upstreams }]));
  });

  afterAll(async () => {
    await merged?.stop();
    await preferred?.stop();
    for (const g of gateways) await g.stop();
  });

  describe('policy all: the clusters merged', () => {
    it('SRV: every cluster’s records; additional: the in-zone targets’ A/AAAA of both', async () => {
      // Asked twice: the first reply is the fan-out's, the second the cache's.
      for (let i = 0; i < 2; i++) {
        const r = await ask('dig', merged.ports.dns, `_https._tcp.${ZONE}`, 'SRV');
        expect(r.status).toBe('NOERROR');
        expect(r.answer).toEqual([
          `_https._tcp.${ZONE}. 60 SRV 10 5 443 web.${ZONE}.`,
          `_https._tcp.${ZONE}. 60 SRV 20 0 443 api.${ZONE}.`,
          `_https._tcp.${ZONE}. 60 SRV 30 0 443 backup.example.net.`,
        ]);
        expect(r.additional).toEqual([
          `api.${ZONE}. 60 A 192.0.2.2`,
          `web.${ZONE}. 60 A 192.0.2.1`,
          `web.${ZONE}. 60 AAAA 2001:db8::1`,
        ]);
      }
    });

    it('MX: one exchange, its RRset at the lower TTL; its addresses from both clusters (kdig)', async () => {
      const r = await ask('kdig', merged.ports.dns, `mx.${ZONE}`, 'MX');
      expect(r.answer).toEqual([`mx.${ZONE}. 120 MX 10 mail.${ZONE}.`]);
      expect(r.additional).toEqual([
        `mail.${ZONE}. 60 A 192.0.2.25`,
        `mail.${ZONE}. 60 A 192.0.2.26`,
      ]);
      // The same addresses a direct question gets: the additional section tells no other story.
      const direct = await ask('dig', merged.ports.dns, `mail.${ZONE}`, 'A');
      expect(direct.answer).toEqual(r.additional);
    });

    it('CAA: both clusters’ records; no additional data', async () => {
      const r = await ask('dig', merged.ports.dns, `caa.${ZONE}`, 'CAA');
      expect(r.answer).toEqual([
        `caa.${ZONE}. 60 CAA 0 issue "letsencrypt.org"`,
        `caa.${ZONE}. 60 CAA 0 issuewild ";"`,
      ]);
      expect(r.additional).toEqual([]);
    });

    it('PTR: the same record from both clusters once', async () => {
      const r = await ask('kdig', merged.ports.dns, `1.2.0.192.${ZONE}`, 'PTR');
      expect(r.answer).toEqual([`1.2.0.192.${ZONE}. 60 PTR web.${ZONE}.`]);
    });

    it('explain shows each cluster’s answer and the additional records kept from it', async () => {
      const res = await fetch(
        `http://127.0.0.1:${merged.ports.explain}/explain?name=_https._tcp.${ZONE}&type=SRV`,
      );
      const report = (await res.json()) as {
        upstreams: { name: string; won: boolean; additional: string[] }[];
      };
      const additional = (name: string) =>
        report.upstreams
          .find((u) => u.name === name)
          ?.additional.map((r) => r.toLowerCase().split(' ').slice(-2).join(' '))
          .sort();
      expect(report.upstreams.every((u) => u.won)).toBe(true);
      expect(additional('cluster-0')).toEqual(['a 192.0.2.1', 'aaaa 2001:db8::1']);
      expect(additional('cluster-1')).toEqual(['a 192.0.2.2']);
    });

    it('reverse zone: each cluster’s PTR for its own addresses, merged', async () => {
      const r = await ask('dig', merged.ports.dns, `2.${REVERSE}`, 'PTR');
      expect(r.answer).toEqual([`2.2.0.192.in-addr.arpa. 60 PTR api.${ZONE}.`]);
      // 192.0.2.1 is web in cluster-0 only: cluster-1's NXDOMAIN does not beat it.
      const web = await ask('kdig', merged.ports.dns, `1.${REVERSE}`, 'PTR');
      expect(web.answer).toEqual([`1.2.0.192.in-addr.arpa. 60 PTR web.${ZONE}.`]);
      const none = await ask('dig', merged.ports.dns, `99.${REVERSE}`, 'PTR');
      expect(none.status).toBe('NXDOMAIN');
    });

    it('a type the name lacks is NODATA', async () => {
      const r = await ask('dig', merged.ports.dns, `caa.${ZONE}`, 'MX');
      expect(r).toEqual({ status: 'NOERROR', answer: [], additional: [] });
    });
  });

  describe('policy priority: the winner alone', () => {
    it('SRV: cluster-0’s record, and only its target’s addresses', async () => {
      const r = await ask('kdig', preferred.ports.dns, `_https._tcp.${ZONE}`, 'SRV');
      expect(r.answer).toEqual([`_https._tcp.${ZONE}. 60 SRV 10 5 443 web.${ZONE}.`]);
      expect(r.additional).toEqual([
        `web.${ZONE}. 60 A 192.0.2.1`,
        `web.${ZONE}. 60 AAAA 2001:db8::1`,
      ]);
    });

    it('MX: cluster-0’s TTL and exchange address', async () => {
      const r = await ask('dig', preferred.ports.dns, `mx.${ZONE}`, 'MX');
      expect(r.answer).toEqual([`mx.${ZONE}. 300 MX 10 mail.${ZONE}.`]);
      expect(r.additional).toEqual([`mail.${ZONE}. 60 A 192.0.2.25`]);
    });
  });
});
