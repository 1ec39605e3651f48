import { writeFileSync } from 'node:fs';
import { decode } from '@mdns/protocol';
import {
  AppProcess,
  assertBuilt,
  freePort,
  type Knotd,
  kdigAxfr,
  kdigRecords,
  knotSecondaryOf,
  soaSerial as serialOf,
  startKnotd,
  tempDir,
  runTool as tool,
  until,
  WORKER_COUNTS,
  yamlWithWorkers,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN } from './support/authority.js';
import { GATEWAY_MAIN, type Gateway, ingress, startGateway } from './support/gateway.js';

// The authority as a primary of its merged zone (docs/behaviour.md, "fanout-authority: a
// primary for the merged zone"), with a peer that is not ours: Knot DNS as its secondary.
// Two real gateways are the authority's primaries; a change in one travels gateway NOTIFY ->
// authority IXFR -> authority NOTIFY -> Knot IXFR. dig/kdig are the other clients.
// With listen.workers 2 (issue #21) the process primary owns the merged zone's serial: every
// worker answers the same SOA and the same IXFR, and Knot gets one NOTIFY per change.

const ZONE = 'tier.test';
/** A zone whose only upstream never answers: its copy is missing, so it cannot be listed. */
const DOWN = 'down.test';
const KEY = 'xfr-key';
const SECRET = 'jOvMv6N6cLcTGoXz7V2s1w3VtQ0lKf1xk1r8mA2n0Yc=';

assertBuilt(GATEWAY_MAIN);
assertBuilt(MAIN);

/** The gateway as a primary: transfers to loopback with the key, signed NOTIFY to the authority. */
const gatewayPrimary = (authorityPort: number) => [
  'transfer:',
  '  enabled: true',
  '  allow: [127.0.0.0/8]',
  `  keys: [{ name: ${KEY}, secret: "${SECRET}" }]`,
  'notify:',
  `  targets: [{ address: 127.0.0.1, port: ${authorityPort}, key: ${KEY} }]`,
  '  debounceMs: 100',
];

function authorityYaml(
  dnsPort: number,
  knotPort: number,
  gateways: Gateway[],
  deadPort: number,
  nameserver = 'ns1',
) {
  const up = (name: string, port: number) =>
    `      - { name: ${name}, address: 127.0.0.1, port: ${port}, transfer: { enabled: true, key: ${KEY} } }`;
  return [
    'zones:',
    `  - name: ${ZONE}`,
    '    soa: { minimum: 30, ttl: 60 }',
    `    nameservers: [{ name: ${nameserver}.${ZONE}, addresses: [192.0.2.53] }]`,
    '    policy: all',
    '    upstreams:',
    up('cluster-0', gateways[0].port),
    up('cluster-1', gateways[1].port),
    `  - name: ${DOWN}`,
    `    nameservers: [{ name: ns1.${DOWN}, addresses: [192.0.2.53] }]`,
    '    upstreams:',
    up('gone', deadPort),
    'transfer:',
    `  keys: [{ name: ${KEY}, secret: "${SECRET}" }]`,
    '  enabled: true',
    // Knot and kdig come from 127.0.0.1; 127.0.0.2 is a source outside the allow list.
    '  allow: [127.0.0.1/32]',
    '  notify:',
    `    targets: [{ address: 127.0.0.1, port: ${knotPort}, key: ${KEY} }]`,
    '    debounceMs: 100',
    `listen: { host: 127.0.0.1, port: ${dnsPort} }`,
    'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
    'log: { level: debug }',
    'shutdown: { lameDuckSeconds: 0 }',
    '',
  ].join('\n');
}

/** A zone's records as `kdig` prints them (signed unless `key` is null). */
const axfr = (port: number, zone = ZONE, key: string | null = SECRET) =>
  kdigAxfr(port, zone, key ? { name: KEY, secret: key } : undefined);
const records = kdigRecords;
const soaSerial = (port: number) => serialOf(port, ZONE);

/** The IXFR from `serial` as kdig prints it, in order (signed; no comments, no TSIG). */
const ixfr = async (port: number, serial: number) =>
  (
    await tool('kdig', [
      '-y',
      `hmac-sha256:${KEY}:${SECRET}`,
      '@127.0.0.1',
      '-p',
      String(port),
      `IXFR=${serial}`,
      ZONE,
      '+nocomments',
      '+nostats',
    ])
  )
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\bTSIG\b/.test(l))
    .map((l) => l.trim().split(/\s+/).join(' ').toLowerCase());

/** The serials Knot was notified of for the zone, in order (one log line per NOTIFY). */
const notifiedSerials = (knot: Knotd) =>
  [...knot.log().matchAll(/\[tier\.test\.\] notify, incoming, remote [^,]+, serial (\d+)/g)].map(
    (m) => Number(m[1]),
  );

/** name, type and data of a record line (the TTL left out: a cached answer counts down). */
const withoutTtl = (line: string) => {
  const [name, , cls, type, ...data] = line.split(' ');
  return [name, cls, type, ...data].join(' ');
};

describe.each(WORKER_COUNTS)(
  'Knot DNS as a secondary of the authority merged zone, listen.workers: %i',
  (workers) => {
    const yaml = (...args: Parameters<typeof authorityYaml>) =>
      yamlWithWorkers(authorityYaml(...args), workers);
    const gateways: Gateway[] = [];
    const dir = tempDir('authority-primary-');
    let knot: Knotd;
    let server: AppProcess;
    let dnsPort: number;
    let deadPort: number;
    let configPath: string;

    beforeAll(async () => {
      // Each side must know the other's port before it starts: the authority's is picked first.
      dnsPort = await freePort();
      deadPort = await freePort();
      knot = await startKnotd(
        knotSecondaryOf({ zone: ZONE, key: KEY, secret: SECRET, primaryPort: dnsPort }),
      );
      gateways.push(
        await startGateway(
          ZONE,
          { 'a.yaml': ingress('web', `web.${ZONE}`, '10.3.0.1') },
          gatewayPrimary(dnsPort),
        ),
      );
      gateways.push(
        await startGateway(
          ZONE,
          {
            'b.yaml': ingress('api', `api.${ZONE}`, '10.4.0.1'),
            // The same name in both clusters: `all` merges the two addresses.
            'c.yaml': ingress('both', `web.${ZONE}`, '10.4.0.2'),
          },
          gatewayPrimary(dnsPort),
        ),
      );
      configPath = dir.write('authority.yaml', yaml(dnsPort, knot.port, gateways, deadPort));
      server = await AppProcess.start(MAIN, configPath, { timeoutMs: 10_000 });
    });
    afterAll(async () => {
      await server?.stop(10_000);
      for (const g of gateways) await g.stop();
      await knot?.stop();
      dir.remove();
    });

    it('Knot pulls the merged zone with TSIG after our signed NOTIFY and serves what we serve', async () => {
      await until(
        async () => (await axfr(knot.port, ZONE, null)).some((l) => l.startsWith(`api.${ZONE}.`)),
        30_000,
      );
      await until(async () => (await soaSerial(knot.port)) === (await soaSerial(dnsPort)), 20_000);
      expect(knot.log()).toMatch(/notify, incoming, remote 127\.0\.0\.1@\d+, serial \d+/);
      expect(knot.log()).toMatch(/AXFR, incoming, remote 127\.0\.0\.1@\d+, finished/);
      const ours = await axfr(dnsPort);
      expect(ours).toContain(`web.${ZONE}. 60 in a 10.3.0.1`);
      expect(ours).toContain(`web.${ZONE}. 60 in a 10.4.0.2`);
      expect(ours).toContain(`api.${ZONE}. 60 in a 10.4.0.1`);
      // The apex NS and its glue are the authority's own, not a gateway's.
      expect(ours).toContain(`${ZONE}. 3600 in ns ns1.${ZONE}.`);
      expect(ours).toContain(`ns1.${ZONE}. 3600 in a 192.0.2.53`);
      expect(await axfr(knot.port, ZONE, null)).toEqual(ours);
    });

    it('every name and type of the transfer is what the authority answers for it, and Knot too', async () => {
      const ours = await axfr(dnsPort);
      const rrsets = new Map<string, string[]>();
      for (const line of ours) {
        const [name, , , type] = line.split(' ');
        if (type === 'soa') continue;
        const k = `${name} ${type}`;
        rrsets.set(k, [...(rrsets.get(k) ?? []), withoutTtl(line)]);
      }
      expect(rrsets.size).toBeGreaterThan(3);
      for (const [k, lines] of rrsets) {
        const [name, type] = k.split(' ');
        for (const port of [dnsPort, knot.port]) {
          const out = await tool('kdig', [
            '@127.0.0.1',
            '-p',
            String(port),
            '+noall',
            '+answer',
            '+norec',
            name,
            type.toUpperCase(),
          ]);
          const live = records(out).filter(
            (l) => l.split(' ')[3] === type && l.split(' ')[0] === name,
          );
          expect({
            k,
            port: port === dnsPort ? 'authority' : 'knot',
            live: live.map(withoutTtl).sort(),
          }).toEqual({
            k,
            port: port === dnsPort ? 'authority' : 'knot',
            live: [...lines].sort(),
          });
        }
      }
    });

    it('a manifest change reaches Knot: gateway NOTIFY, authority IXFR, authority NOTIFY, Knot IXFR', async () => {
      const before = await soaSerial(dnsPort);
      writeFileSync(`${gateways[0].manifests}/new.yaml`, ingress('new', `new.${ZONE}`, '10.3.0.9'));
      await until(async () => (await soaSerial(dnsPort)) > before, 20_000);
      await until(
        async () => (await axfr(knot.port, ZONE, null)).includes(`new.${ZONE}. 60 in a 10.3.0.9`),
        20_000,
      );
      expect(server.logs.some((l) => l.msg === 'replica loaded' && l.via === 'ixfr')).toBe(true);
      await until(
        () => /IXFR, incoming, remote 127\.0\.0\.1@\d+, finished/.test(knot.log()),
        10_000,
      );
      await until(async () => (await soaSerial(knot.port)) === (await soaSerial(dnsPort)), 20_000);
      expect(await axfr(knot.port, ZONE, null)).toEqual(await axfr(dnsPort));
      expect(await server.metric('mdns_authority_transfer_axfr_total')).toBeGreaterThan(0);
      expect(await server.metric('mdns_authority_transfer_ixfr_total')).toBeGreaterThan(0);
      expect(
        await server.metric('mdns_authority_transfer_notify_acknowledged_total'),
      ).toBeGreaterThan(0);
    });

    /**
     * The SOA serial of every worker: 12 queries over UDP (the OS hands each to either worker)
     * and 4 over TCP; one value when they agree.
     */
    const serialsOfEveryWorker = async () => {
      const replies = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          server.query(ZONE, 'SOA', { port: dnsPort, tcp: i >= 12 }),
        ),
      );
      const serials = replies.map((r) => {
        const d = decode(r.bytes);
        const soa = d.ok ? (d.message.answers ?? []).find((rr) => rr.type === 'SOA') : undefined;
        return (soa?.data as { serial?: number } | undefined)?.serial ?? Number.NaN;
      });
      return [...new Set(serials)];
    };

    it('a series of changes: every worker at one serial, the same IXFR from each, one NOTIFY per change', async () => {
      for (let i = 1; i <= 3; i++) {
        const before = await soaSerial(dnsPort);
        await until(async () => (await soaSerial(knot.port)) === before, 20_000);
        const sent = notifiedSerials(knot).length;
        const gateway = gateways[i % 2];
        writeFileSync(
          `${gateway.manifests}/series-${i}.yaml`,
          ingress(`series-${i}`, `series-${i}.${ZONE}`, `10.5.0.${i}`),
        );
        // The serial is the process primary's: every worker moves to it (one value, newer).
        await until(async () => {
          const serials = await serialsOfEveryWorker();
          return serials.length === 1 && serials[0] > before;
        }, 20_000);
        const [serial] = await serialsOfEveryWorker();
        // An IXFR from the serial before, over six connections (handed to the workers in
        // turn): one answer, whichever worker's journal served it.
        const answers: string[][] = [];
        for (let n = 0; n < 6; n++) answers.push(await ixfr(dnsPort, before));
        expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
        expect(answers[0][0]).toMatch(new RegExp(` soa .* ${serial} `));
        expect(answers[0]).toContain(`series-${i}.${ZONE}. 60 in a 10.5.0.${i}`);
        await until(async () => (await soaSerial(knot.port)) === serial, 20_000);
        // One NOTIFY per serial: one per worker would have come with the first; Knot has
        // pulled since, so it would be in its log by now.
        const notified = notifiedSerials(knot).slice(sent);
        expect(notified).toEqual([...new Set(notified)]);
        expect(notified.at(-1)).toBe(serial);
      }
      expect(await axfr(knot.port, ZONE, null)).toEqual(await axfr(dnsPort));
    }, 120_000);

    it.runIf(workers > 1)(
      'a restarted worker takes the copies and the serial from the primary: one serial, one zone',
      async () => {
        const [serial, ...others] = await serialsOfEveryWorker();
        expect(others).toEqual([]);
        const zone = await axfr(dnsPort);
        const pid = server.logs.find((l) => l.msg === 'listening' && l.worker === 2)?.pid as number;
        process.kill(pid, 'SIGKILL');
        await server.waitForLog((l) => l.msg === 'worker serving again' && l.worker === 2, 15_000);
        // Its own start second first, then the primary's serial (the feeds' snapshot).
        await until(async () => {
          const serials = await serialsOfEveryWorker();
          return serials.length === 1 && serials[0] === serial;
        }, 10_000);
        for (let n = 0; n < 4; n++) expect(await axfr(dnsPort)).toEqual(zone);
      },
    );

    it('refused without a key and from a source outside allow; SERVFAIL while a copy is missing', async () => {
      const base = ['@127.0.0.1', '-p', String(dnsPort), '+tries=1', '+time=3'];
      expect(await tool('dig', [...base, 'AXFR', ZONE])).toMatch(/Transfer failed|REFUSED/);
      const stranger = await tool('dig', [
        ...base,
        '-b',
        '127.0.0.2',
        '-y',
        `hmac-sha256:${KEY}:${SECRET}`,
        'AXFR',
        ZONE,
      ]);
      expect(stranger).toMatch(/Transfer failed|REFUSED/);
      expect(stranger).not.toMatch(/api\.tier\.test\.\s+\d+\s+IN\s+A/);
      const down = await tool('dig', [...base, '-y', `hmac-sha256:${KEY}:${SECRET}`, 'AXFR', DOWN]);
      expect(down).toMatch(/Transfer failed|SERVFAIL/);
      const why = await server.waitForLog(
        (l) => l.msg === 'zone transfer refused: zone data not complete' && l.zone === DOWN,
        5000,
      );
      expect(String(why.detail)).toContain('no fresh copy of gone');
      expect(await server.metric('mdns_authority_transfer_not_ready_total')).toBeGreaterThan(0);
      expect(await server.metric('mdns_authority_transfer_refused_total')).toBeGreaterThanOrEqual(
        2,
      );
    });

    it('a reload that changes the apex NS: a new serial, the SOA we answer carries it, Knot follows', async () => {
      const before = await soaSerial(dnsPort);
      writeFileSync(configPath, yaml(dnsPort, knot.port, gateways, deadPort, 'ns2'));
      await until(
        async () => (await axfr(dnsPort)).includes(`${ZONE}. 3600 in ns ns2.${ZONE}.`),
        20_000,
      );
      const ours = await axfr(dnsPort);
      expect(ours.some((l) => l.includes(`ns ns1.${ZONE}.`))).toBe(false);
      const serial = Number(ours.find((l) => l.includes(' soa '))?.split(' ')[6]);
      expect(serial).toBeGreaterThan(before);
      expect(await soaSerial(dnsPort)).toBe(serial);
      // Each worker reads the file on its own; the serial waits until all run the new config,
      // so whichever worker answers lists the new NS at it.
      for (let n = 0; n < 4; n++) expect(await axfr(dnsPort)).toEqual(ours);
      await until(async () => (await soaSerial(knot.port)) === serial, 20_000);
      expect(await axfr(knot.port, ZONE, null)).toEqual(ours);
    });
  },
);
