import { createSocket, type Socket } from 'node:dgram';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { scan } from '@mdns/protocol';
import { type AppProcess, assertBuilt, runTool, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MANY_IPS, OBJECTS, OTHER, ZONE } from './fixtures/e2e/objects.js';
import { ask } from './support/answers.js';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

// A real process (`node dist/main.js`) reading a manifests directory, asked over real sockets.
describe('end to end: manifests directory', () => {
  beforeAll(() => assertBuilt(MAIN));
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;
  // An authority stand-in for NOTIFY: records each one and acknowledges it.
  let authority: Socket;
  const notified: string[] = [];

  beforeAll(async () => {
    authority = createSocket('udp4');
    authority.on('message', (msg, peer) => {
      const r = scan(msg);
      if (!r.ok || r.query.opcode !== 4) return;
      notified.push(r.query.qname);
      const ack = Buffer.from(msg);
      ack[2] |= 0x80;
      authority.send(ack, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => authority.bind(0, '127.0.0.1', resolve));
    dir = tempDir();
    manifests = tempDir('gateway-manifests-');
    for (const [file, obj] of Object.entries(OBJECTS)) manifests.write(file, stringify(obj));
    const config = testConfig({
      zones: [
        {
          name: ZONE,
          nameservers: [
            { name: `ns1.${ZONE}`, addresses: ['192.0.2.53', '2001:db8::53'] },
            { name: 'ns.outside.example' },
          ],
        },
        { name: OTHER },
      ],
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
        // The k8s_gateway way: externalIPs published (off by default, see e2e-tenants).
        services: { externalIPs: true },
      },
      notify: {
        targets: [{ address: '127.0.0.1', port: authority.address().port }],
        debounceMs: 100,
        zones: [ZONE],
      },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    authority?.close();
    dir?.remove();
    manifests?.remove();
  });

  describe('sources: each kind and annotation', () => {
    it.each([
      ['HTTPRoute via its Gateway', `shop.${ZONE}`, 'A', ['A 192.0.2.10']],
      ['GRPCRoute', `grpc.${ZONE}`, 'A', ['A 192.0.2.10']],
      ['TLSRoute', `tls.${ZONE}`, 'A', ['A 192.0.2.10']],
      ['Ingress', `web.team.${ZONE}`, 'A', ['A 10.0.0.1']],
      ['Ingress hostname -> CNAME', `legacy.${ZONE}`, 'A', ['CNAME lb-1.elb.example.net']],
      ['Service <name>.<namespace>.<zone>', `svc.web.${OTHER}`, 'A', ['A 10.0.0.20']],
      ['Service coredns.io/hostname (1)', `a.${ZONE}`, 'A', ['A 10.0.0.40']],
      ['Service coredns.io/hostname (2), externalIPs first', `b.${ZONE}`, 'A', ['A 10.0.0.40']],
      ['Service external-dns hostname', `ext.${ZONE}`, 'A', ['A 10.0.0.42']],
      ['DNSEndpoint A', `v4.${ZONE}`, 'A', ['A 10.0.0.60']],
      ['DNSEndpoint AAAA', `v6.${ZONE}`, 'AAAA', ['AAAA 2001:db8::1']],
      ['DNSEndpoint TXT', `txt.${ZONE}`, 'TXT', ['TXT hello world']],
      ['DNSEndpoint CNAME', `alias.${ZONE}`, 'A', ['CNAME target.example.net']],
      ['Ingress beats Service for the same name', `svc.web.${ZONE}`, 'A', ['A 10.0.0.30']],
      ['a second zone', `x.${OTHER}`, 'A', ['A 10.1.0.1']],
    ])('%s: %s %s', async (_label, name, type, answers) => {
      const r = await ask(gw, name, type);
      expect(r).toMatchObject({ rcode: 'NOERROR', aa: true, ra: false, answers });
    });

    it('DNSEndpoint: only that endpoint’s targets (v4 has no AAAA)', async () => {
      expect(await ask(gw, `v4.${ZONE}`, 'AAAA')).toMatchObject({
        rcode: 'NOERROR',
        answers: [],
        authority: ['SOA'],
      });
    });

    it('TTL annotation and recordTTL', async () => {
      const a = await gw.query(`a.${ZONE}`, 'A');
      const v6 = await gw.dig(['+noall', '+answer', `v6.${ZONE}`, 'AAAA']);
      expect(v6).toMatch(/\s120\s+IN\s+AAAA\s+2001:db8::1/);
      const out = await gw.dig(['+noall', '+answer', `a.${ZONE}`, 'A']);
      expect(out).toMatch(/\s30\s+IN\s+A\s+10\.0\.0\.40/);
      expect(a.rcode).toBe(0);
    });

    it('default TTL 60', async () => {
      expect(await gw.dig(['+noall', '+answer', `web.team.${ZONE}`, 'A'])).toMatch(
        /\s60\s+IN\s+A\s/,
      );
    });

    it('a pending load balancer claims nothing: NXDOMAIN', async () => {
      expect((await ask(gw, `pending.web.${ZONE}`, 'A')).rcode).toBe('NXDOMAIN');
    });

    it('a bad host is skipped with a warning naming the object; its good host serves', async () => {
      expect((await ask(gw, `fine.${ZONE}`, 'A')).answers).toEqual(['A 10.0.0.50']);
      const warning = gw.logs.find(
        (l) => l.level === 'warn' && JSON.stringify(l).includes('bad/broken'),
      );
      expect(warning).toBeDefined();
    });
  });

  describe('names: wildcards, empty non-terminals, NODATA', () => {
    it.each([
      ['wildcard, one label', `a.apps.${ZONE}`, 'NOERROR', ['A 192.0.2.10']],
      ['wildcard, three labels', `a.b.c.apps.${ZONE}`, 'NOERROR', ['A 192.0.2.10']],
      ['exact beats wildcard', `exact.apps.${ZONE}`, 'NOERROR', ['A 10.0.0.1']],
      ['empty non-terminal', `team.${ZONE}`, 'NOERROR', []],
      ['wildcard parent is an empty non-terminal', `apps.${ZONE}`, 'NOERROR', []],
      ['missing name', `nope.${ZONE}`, 'NXDOMAIN', []],
    ])('%s: %s', async (_label, name, rcode, answers) => {
      const r = await ask(gw, name, 'A');
      expect(r).toMatchObject({ rcode, answers, aa: true });
      if (answers.length === 0) expect(r.authority).toEqual(['SOA']);
    });

    // Checked once, at the edge: a name no object can claim is NXDOMAIN, even under a
    // wildcard, asked with real dig (which writes `\DDD` and `\.` as the raw bytes).
    it.each([
      ['16 bytes of 0xFF under the wildcard', `${'\\255'.repeat(16)}.apps.${ZONE}`],
      ['a dot inside a label under the wildcard', `a\\.b.apps.${ZONE}`],
      ['a byte outside letters/digits/-/_/*', `web+1.team.${ZONE}`],
    ])('%s: NXDOMAIN with SOA, AA', async (_label, name) => {
      const out = await gw.dig(['+norec', name, 'A']);
      expect(out).toMatch(/status: NXDOMAIN/);
      expect(out).toMatch(/flags: qr aa;/);
      expect(out).toMatch(/AUTHORITY SECTION:\n\S+\s+\d+\s+IN\s+SOA/);
    });

    it('a dot inside a label is not a label boundary: web\\.team.<zone> is under the zone, not team', async () => {
      // `web\.team` is one label under the zone: nothing claims it, so NXDOMAIN, never the
      // records of a name under team.<zone>.
      expect(await gw.dig(['+short', `web\\.team.${ZONE}`, 'A'])).toBe('');
    });

    it('AAAA on an IPv4-only name: NODATA with SOA, not NXDOMAIN', async () => {
      expect(await ask(gw, `web.team.${ZONE}`, 'AAAA')).toMatchObject({
        rcode: 'NOERROR',
        answers: [],
        authority: ['SOA'],
      });
    });

    it('unknown type: NODATA', async () => {
      expect(await ask(gw, `web.team.${ZONE}`, 'TYPE666')).toMatchObject({
        rcode: 'NOERROR',
        answers: [],
      });
    });
  });

  describe('apex, refusals, ANY', () => {
    it('apex SOA', async () => {
      expect((await ask(gw, ZONE, 'SOA')).answers[0]).toMatch(/^SOA /);
    });
    it('apex NS with glue for the in-zone nameserver', async () => {
      const r = await ask(gw, ZONE, 'NS');
      expect(r.answers).toEqual([`NS ns1.${ZONE}`, 'NS ns.outside.example']);
      expect(r.additional).toEqual(['A 192.0.2.53', 'AAAA 2001:db8::53']);
    });
    it('apex A from an Ingress beside SOA/NS', async () => {
      expect((await ask(gw, ZONE, 'A')).answers).toEqual(['A 10.0.0.100']);
    });
    it('out of zone: REFUSED, RA=0, no AA', async () => {
      expect(await ask(gw, 'example.com', 'A')).toMatchObject({
        rcode: 'REFUSED',
        ra: false,
        aa: false,
      });
    });
    it('AXFR: REFUSED', async () => {
      expect(await gw.dig(['+notcp', ZONE, 'AXFR'])).toMatch(/REFUSED|Transfer failed/);
    });
    it('ANY: one RFC 8482 HINFO', async () => {
      const r = await ask(gw, `web.team.${ZONE}`, 'ANY');
      expect(r.answers).toEqual(['HINFO {"cpu":"RFC8482","os":""}']);
    });
  });

  describe('transport: TCP, truncation, 0x20, EDNS', () => {
    it('TCP answers like UDP', async () => {
      expect(await ask(gw, `web.team.${ZONE}`, 'A', { tcp: true })).toMatchObject({
        answers: ['A 10.0.0.1'],
      });
    });

    it('40 A records over UDP without EDNS: TC=1 within 512 bytes; TCP gives all', async () => {
      const out = await gw.dig(['+noedns', '+ignore', '+notcp', `many.${ZONE}`, 'A']);
      expect(out).toMatch(/flags:[^;]*\btc\b/);
      const tcp = await ask(gw, `many.${ZONE}`, 'A', { tcp: true });
      expect(tcp.answers).toHaveLength(MANY_IPS.length);
      expect(tcp.tc).toBe(false);
      const full = await gw.dig(['+noedns', `many.${ZONE}`, 'A']);
      expect(full).toMatch(/ANSWER: 40/);
    });

    it('0x20: the question comes back in the client’s case', async () => {
      const out = await gw.dig([
        '+noall',
        '+question',
        '+answer',
        `WeB.TeaM.PrOd.ExAmPlE.TlD`,
        'A',
      ]);
      expect(out).toContain(';WeB.TeaM.PrOd.ExAmPlE.TlD.');
      expect(out).toMatch(/10\.0\.0\.1/);
    });

    it('EDNS: OPT echoed with our size 1232; BADVERS for version 1', async () => {
      const out = await gw.dig(['+bufsize=4096', `web.team.${ZONE}`, 'A']);
      expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
      const bad = await gw.dig(['+edns=1', '+noednsneg', `web.team.${ZONE}`, 'A']);
      expect(bad).toMatch(/status: BADVERS/);
    });

    it('kdig agrees (a second real client)', async () => {
      const out = await runTool('kdig', [
        '@127.0.0.1',
        '-p',
        String(gw.dnsPort),
        `shop.${ZONE}`,
        'A',
        '+time=3',
      ]);
      expect(out).toMatch(/NOERROR/);
      expect(out).toMatch(/192\.0\.2\.10/);
    });
  });

  describe('live updates through the directory', () => {
    it('a new file answers, a changed file changes, a removed file goes', async () => {
      const file = join(manifests.path, 'live.yaml');
      const live = (ip: string) =>
        stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'live', namespace: 'web' },
          spec: { rules: [{ host: `live.${ZONE}` }] },
          status: { loadBalancer: { ingress: [{ ip }] } },
        });
      expect((await ask(gw, `live.${ZONE}`, 'A')).rcode).toBe('NXDOMAIN');
      const notifiesBefore = notified.length;
      manifests.write('live.yaml', live('10.7.7.7'));
      await until(async () => (await ask(gw, `live.${ZONE}`, 'A')).answers[0] === 'A 10.7.7.7');
      // The change is announced to the authority (RFC 1996), for the configured zone only.
      await until(() => notified.length > notifiesBefore);
      expect(new Set(notified)).toEqual(new Set([ZONE]));
      manifests.write('live.yaml', live('10.7.7.8'));
      await until(async () => (await ask(gw, `live.${ZONE}`, 'A')).answers[0] === 'A 10.7.7.8');
      unlinkSync(file);
      await until(async () => (await ask(gw, `live.${ZONE}`, 'A')).rcode === 'NXDOMAIN');
    });
  });

  describe('ops endpoints', () => {
    it('/ready lists each kind with state, counts and staleness', async () => {
      const r = await gw.http('/ready');
      expect(r.status).toBe(200);
      const body = JSON.parse(r.body);
      expect(body.detail.kinds.Ingress).toMatchObject({ phase: 'synced' });
      expect(body.detail.kinds.Ingress.names).toBeGreaterThan(0);
      expect(typeof body.detail.kinds.Ingress.secondsSinceLastEvent).toBe('number');
    });

    it('/health is 200', async () => {
      expect((await gw.http('/health')).status).toBe(200);
    });

    it('/metrics has queries by zone/qtype/rcode, index size, sync state, transport', async () => {
      const text = (await gw.http('/metrics')).body;
      expect(text).toMatch(
        new RegExp(
          `mdns_gateway_queries_total\\{zone="${ZONE.replace(/\./g, '\\.')}",qtype="A",rcode="NOERROR"\\} \\d+`,
        ),
      );
      expect(text).toMatch(/mdns_gateway_queries_total\{zone="none",qtype="A",rcode="REFUSED"\}/);
      expect(text).toMatch(/mdns_gateway_query_duration_seconds_bucket/);
      expect(text).toMatch(/mdns_gateway_index_names\{kind="Ingress"\} [1-9]/);
      expect(text).toMatch(/mdns_gateway_sync_state\{kind="Ingress",phase="synced"\} 1/);
      expect(text).toMatch(/mdns_gateway_seconds_since_last_event\{kind="Ingress"\}/);
      expect(text).toMatch(/mdns_gateway_transport_udp_queries_total [1-9]/);
      expect(text).toMatch(/mdns_gateway_notify_acknowledged_total [1-9]/);
    });
  });

  it('SIGTERM drains and exits 0', async () => {
    expect(await gw.stop()).toBe(0);
    expect(gw.logs.some((l) => l.msg === 'drained, exiting')).toBe(true);
  });
});
