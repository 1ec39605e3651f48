import { encode, RCODE } from '@mdns/protocol';
import {
  type AppProcess,
  assertBuilt,
  until as eventually,
  freePort,
  type Knotd,
  kdigAxfr,
  knotSecondaryOf,
  soaSerial as serialOf,
  startKnotd,
  type TempDir,
  tempDir,
  runTool as tool,
  WORKER_COUNTS,
} from '@mdns/testkit';
import { dnsQueryRaw } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { OBJECTS, ZONE } from './fixtures/e2e/objects.js';
import { askEvery } from './support/answers.js';
import { listenWith, MAIN, startGateway, testConfig } from './support/gateway.js';

// The gateway as a primary (RFC 5936 AXFR, RFC 1995 IXFR, RFC 8945 TSIG), with a peer that is
// not ours: Knot DNS as its secondary. Knot is told of each change by our signed NOTIFY, pulls
// with TSIG, and must end up holding exactly what the gateway serves; dig and kdig are the
// other clients (unsigned, wrongly signed). With listen.workers 2 (issue #21) the primary
// reads the manifests and owns the serial (one commit, one NOTIFY per change); either worker
// may take Knot's SOA query, its IXFR or a dig: both must hold the same serial and the same
// history, or Knot would see the serial jump back and forth.

const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';
const WRONG = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

/** The zone's records as `kdig` prints them (signed with `secret` when given). */
const axfr = (port: number, secret?: string) =>
  kdigAxfr(port, ZONE, secret ? { name: KEY, secret } : undefined);
const soaSerial = (port: number) => serialOf(port, ZONE);

describe.each(WORKER_COUNTS)(
  'Knot DNS as a secondary of the gateway, listen.workers: %i',
  (workers) => {
    beforeAll(() => assertBuilt(MAIN));
    let knot: Knotd;
    let gw: AppProcess;
    let dir: TempDir;
    let manifests: TempDir;

    beforeAll(async () => {
      // Each side must know the other's port before it starts: the gateway's is picked first.
      const gwPort = await freePort();
      knot = await startKnotd(
        knotSecondaryOf({ zone: ZONE, key: KEY, secret: SECRET, primaryPort: gwPort }),
      );
      dir = tempDir();
      manifests = tempDir('gateway-manifests-');
      for (const file of [
        'ingress-web.yaml',
        'ingress-lb.yaml',
        'ingress-apex.yaml',
        'dnsendpoint.yaml',
      ]) {
        manifests.write(file, stringify(OBJECTS[file]));
      }
      const config = testConfig({
        listen: listenWith(workers, gwPort),
        sources: {
          kubernetes: { enabled: false },
          manifests: { enabled: true, directory: manifests.path },
        },
        notify: {
          targets: [{ address: '127.0.0.1', port: knot.port, key: KEY }],
          debounceMs: 100,
        },
        transfer: {
          enabled: true,
          allow: ['127.0.0.0/8'],
          keys: [{ name: KEY, secretEnv: 'MDNS_TEST_XFR_SECRET' }],
        },
      });
      gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)), {
        MDNS_TEST_XFR_SECRET: SECRET,
      });
      await eventually(async () => (await gw.http('/ready')).status === 200);
    });

    afterAll(async () => {
      await gw?.stop();
      await knot?.stop();
      dir?.remove();
      manifests?.remove();
    });

    it('pulls the zone by AXFR after our signed NOTIFY and serves what the gateway serves', async () => {
      await eventually(
        async () => (await soaSerial(knot.port)) === (await soaSerial(gw.dnsPort)),
        20_000,
      );
      // Knot accepts NOTIFY only signed with the key (its acl), and logs the serial it carries.
      expect(knot.log()).toMatch(/notify, incoming, remote 127\.0\.0\.1@\d+, serial \d+/);
      expect(knot.log()).toMatch(/AXFR, incoming, remote 127\.0\.0\.1@\d+, finished/);
      // Every worker holds the zone at one serial, whenever its own first sync ended.
      expect((await askEvery(gw, ZONE, 'SOA')).rcode).toBe('NOERROR');
      const ours = await axfr(gw.dnsPort, SECRET);
      expect(ours.some((l) => l.startsWith(`web.team.${ZONE}.`))).toBe(true);
      expect(await axfr(knot.port)).toEqual(ours);
    });

    it('after a change, gets a new serial and pulls it by IXFR', async () => {
      const before = await soaSerial(gw.dnsPort);
      manifests.write(
        'ingress-new.yaml',
        stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'new', namespace: 'web' },
          spec: { rules: [{ host: `fresh.${ZONE}` }] },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.77' }] } },
        }),
      );
      await eventually(async () => (await soaSerial(gw.dnsPort)) > before, 20_000);
      const after = await soaSerial(gw.dnsPort);
      await eventually(async () => (await soaSerial(knot.port)) === after, 20_000);
      expect(knot.log()).toMatch(/IXFR, incoming, remote 127\.0\.0\.1@\d+, finished/);
      // And after the change: the primary committed it, every worker took its serial.
      expect((await askEvery(gw, ZONE, 'SOA')).rcode).toBe('NOERROR');
      const ours = await axfr(gw.dnsPort, SECRET);
      expect(ours).toContain(`fresh.${ZONE}. 60 in a 192.0.2.77`);
      expect(await axfr(knot.port)).toEqual(ours);
    });

    it('a series of changes: one NOTIFY each, every worker at the same serial after each', async () => {
      const notifies = () => (knot.log().match(/notify, incoming/g) ?? []).length;
      for (let i = 1; i <= 3; i++) {
        const before = await soaSerial(gw.dnsPort);
        const sent = notifies();
        manifests.write(
          `ingress-series-${i}.yaml`,
          stringify({
            apiVersion: 'networking.k8s.io/v1',
            kind: 'Ingress',
            metadata: { name: `series-${i}`, namespace: 'web' },
            spec: { rules: [{ host: `series-${i}.${ZONE}` }] },
            status: { loadBalancer: { ingress: [{ ip: `192.0.2.${100 + i}` }] } },
          }),
        );
        // The primary owns the serial: both workers move to it together (askEvery: one SOA).
        await eventually(async () => {
          const soa = await askEvery(gw, ZONE, 'SOA');
          return soa.rcode === 'NOERROR' && (await soaSerial(gw.dnsPort)) > before;
        }, 20_000);
        expect((await askEvery(gw, `series-${i}.${ZONE}`, 'A')).answers).toEqual([
          `A 192.0.2.${100 + i}`,
        ]);
        const serial = await soaSerial(gw.dnsPort);
        await eventually(async () => (await soaSerial(knot.port)) === serial, 20_000);
        // A NOTIFY per worker would have come within the debounce of the first: Knot has
        // pulled since, so it would be in its log by now.
        expect(notifies() - sent).toBe(1);
        expect(await axfr(knot.port)).toEqual(await axfr(gw.dnsPort, SECRET));
      }
    }, 60_000);

    it('dig without a key gets REFUSED; a wrong secret gets NOTAUTH (BADSIG); UDP AXFR REFUSED', async () => {
      const base = ['@127.0.0.1', '-p', String(gw.dnsPort), '+tries=1', '+time=3'];
      expect(await tool('dig', [...base, 'AXFR', ZONE])).toMatch(/Transfer failed|REFUSED/);
      const wrong = await tool('dig', [...base, '-y', `hmac-sha256:${KEY}:${WRONG}`, 'AXFR', ZONE]);
      expect(wrong).toMatch(/NOTAUTH|BADSIG|tsig/i);
      expect(wrong).not.toMatch(
        new RegExp(`web\\.team\\.${ZONE.replaceAll('.', '\\.')}\\.\\s+\\d+\\s+IN\\s+A`),
      );
      // Over UDP a transfer takes the shared rule.
      for (const type of ['AXFR', 'IXFR'] as const) {
        const udp = await dnsQueryRaw({
          host: '127.0.0.1',
          port: gw.dnsPort,
          packet: encode({
            id: 9,
            type: 'query',
            flags: 0,
            questions: [{ name: ZONE, type, class: 'IN' }],
          }),
          timeoutMs: 3000,
        });
        expect(udp.rcode).toBe(RCODE.REFUSED);
      }
      // The secret never reaches the logs.
      const logs = JSON.stringify(gw.logs);
      expect(logs).toMatch(/zone transfer refused/);
      expect(logs).not.toContain(SECRET);
      expect(logs).not.toContain(SECRET.slice(0, 20));
    });
  },
);
