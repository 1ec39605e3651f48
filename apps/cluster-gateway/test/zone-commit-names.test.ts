import { ZoneVersions } from '@mdns/ops';
import {
  applyDiff,
  type DnsRecord,
  extraRecord,
  recordKey,
  type ZoneApex,
  ZoneSet,
  zoneRecords,
} from '@mdns/protocol';
import { seededRandom } from '@mdns/testkit';
import { describe, expect, it } from 'vitest';
import { GatewayIndex } from '../src/index/gateway-index.js';
import { gatewayZoneNames } from '../src/index/zone-names.js';
import { HeldNames } from '../src/sources/health/held-names.js';
import type { Claim, IndexSink, SourceKind } from '../src/sources/types.js';

// The gateway's primary commits name by name (`ZoneVersions` with `names`): after every
// commit its records must be what `zoneRecords` lists for the index and held names (the
// full listing, an independent oracle), and the journal's diffs must chain from the first
// version to the last. Random object changes, seeded: adds, changes, removals, relists
// (410 Gone), held names, wildcards, CNAMEs, the apex, glue, a nested zone, conflicts
// between namespaces (first-claimant) and between kinds.

const ZONE = 'zone.test';
const SUB = 'sub.zone.test';
const REVERSE = '2.0.192.in-addr.arpa';
const KINDS: SourceKind[] = ['Ingress', 'Service', 'DNSEndpoint'];
const NAMES = [
  ZONE,
  `ns1.${ZONE}`,
  `ns2.${ZONE}`,
  `*.${ZONE}`,
  `*.w.${ZONE}`,
  `a.w.${ZONE}`,
  `deep.n1.${ZONE}`,
  `x.${SUB}`,
  SUB,
  `1.${REVERSE}`,
  ...Array.from({ length: 10 }, (_, i) => `n${i}.${ZONE}`),
];

function apexOf(zone: string, serial: number): ZoneApex {
  return {
    zone,
    soa: {
      mname: `ns1.${ZONE}`,
      rname: `hostmaster.${ZONE}`,
      serial,
      refresh: 60,
      retry: 30,
      expire: 600,
      minimum: 30,
    },
    ns: [`ns1.${ZONE}`, 'ns.elsewhere.example'],
    nsTtl: 300,
    glue: new Map([[`ns1.${ZONE}`, { a: ['192.0.2.53'], aaaa: ['2001:db8::53'] }]]),
  } as ZoneApex;
}

function randomClaim(rnd: () => number, name: string, namespace: string, createdAt: number): Claim {
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const origin = { namespace, createdAt };
  const ttl = pick([30, 60]);
  const shape = rnd();
  // A held claim: nothing to answer (the object is held back for health).
  if (shape < 0.15) return { name, a: [], aaaa: [], txt: [], ttl, origin };
  if (shape < 0.3)
    return {
      name,
      a: [],
      aaaa: [],
      txt: [],
      cname: pick(['lb1.cloud.example', 'lb2.cloud.example']),
      ttl,
      origin,
    };
  const claim: Claim = {
    name,
    a: rnd() < 0.8 ? [`192.0.2.${1 + Math.floor(rnd() * 4)}`] : [],
    aaaa: rnd() < 0.3 ? ['2001:db8::1'] : [],
    txt: rnd() < 0.3 ? [pick(['owner=a', 'owner=b'])] : [],
    ttl,
    origin,
  };
  if (rnd() < 0.2)
    claim.extra = [
      extraRecord({ type: 'MX', data: { preference: 10, exchange: `mail.${ZONE}` } }, ttl),
    ];
  if (rnd() < 0.1) claim.extra = [extraRecord({ type: 'PTR', data: `n1.${ZONE}` }, ttl)];
  return claim;
}

function randomClaims(rnd: () => number, namespace: string, createdAt: number): Claim[] {
  const n = 1 + Math.floor(rnd() * 2);
  const names = new Set(Array.from({ length: n }, () => NAMES[Math.floor(rnd() * NAMES.length)]));
  return [...names].map((name) => randomClaim(rnd, name, namespace, createdAt));
}

const keysOf = (records: readonly DnsRecord[]) => records.map(recordKey).sort();

/** One gateway process: its index, held names and versions (a primary, or a follower). */
function gateway(serial: number, clock: () => number) {
  const index = new GatewayIndex(KINDS);
  const held = new HeldNames((n, z) => index.lookup(n, z));
  const zoneSet = new ZoneSet([ZONE, SUB, REVERSE]);
  const owns = (apex: ZoneApex, name: string) => zoneSet.match(name) === apex.zone;
  const apexes = [apexOf(ZONE, serial), apexOf(SUB, serial)];
  const versions = new ZoneVersions({
    apexes,
    names: gatewayZoneNames(index, held, owns),
    journal: { maxEntries: 10_000, maxBytes: 1 << 30 },
    debounceMs: 0,
    now: clock,
  });
  const full = (apex: ZoneApex) =>
    zoneRecords(
      { namesWithRecords: () => index.namesWithRecords(), heldNames: () => held.names() },
      apex,
      (name) => owns(apex, name),
    );
  return { sink: held.sink(index) as IndexSink, versions, apexes, full };
}

describe('gateway commit name by name (issue 12)', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`seed ${seed}: records equal the full listing and the journal chains (primary and follower)`, () => {
      const rnd = seededRandom(seed);
      let now = 1_800_000_000;
      const clock = () => now;
      const primary = gateway(1000, clock);
      const follower = gateway(1000, clock);
      // The objects each kind has now, as a relist would list them.
      const objects = new Map<SourceKind, Map<string, Claim[]>>(KINDS.map((k) => [k, new Map()]));
      const both = (op: (sink: IndexSink) => void) => {
        op(primary.sink);
        op(follower.sink);
      };
      // A first sync, then the baseline: the version nobody was served before.
      for (let i = 0; i < 20; i++) {
        const kind = KINDS[i % KINDS.length];
        const key = `ns-${i % 2}/obj-${i}`;
        const claims = randomClaims(rnd, `ns-${i % 2}`, i);
        objects.get(kind)!.set(key, claims);
        both((s) => s.replaceObject(kind, key, claims));
      }
      primary.versions.baseline();
      follower.versions.baseline();
      for (const apex of primary.apexes) {
        // Right after a baseline the listing is the full one, in its order too.
        expect(primary.versions.zone(apex.zone)!.records).toEqual(primary.full(apex));
      }
      // Each process's records at the baseline, then each journal entry applied in turn.
      const replayed = new Map(
        [primary, follower]
          .flatMap((g) =>
            g.apexes.map((a) => [g, a.zone, [...g.versions.zone(a.zone)!.records!]] as const),
          )
          .map(([g, zone, records]) => [`${g === primary ? 'p' : 'f'} ${zone}`, records]),
      );
      const replay = (g: typeof primary, tag: string, zone: string, from: number) => {
        const version = g.versions.zone(zone)!;
        const entries = version.journal.since(from, version.apex.soa.serial);
        expect(entries).toHaveLength(1);
        const applied = applyDiff(replayed.get(`${tag} ${zone}`)!, entries![0]);
        if (!applied.ok) throw new Error(`${tag} ${zone}: ${applied.error}`);
        replayed.set(`${tag} ${zone}`, applied.records);
      };

      let commits = 0;
      for (let step = 0; step < 300; step++) {
        const kind = KINDS[Math.floor(rnd() * KINDS.length)];
        const current = objects.get(kind)!;
        const r = rnd();
        if (r < 0.08) {
          // A relist after 410 Gone: some objects gone, some changed, some new, in one step.
          const listed = new Map<string, Claim[]>();
          for (const [key, claims] of current) {
            if (rnd() < 0.2) continue;
            listed.set(key, rnd() < 0.3 ? randomClaims(rnd, key.split('/')[0], step) : claims);
          }
          if (rnd() < 0.5) listed.set(`ns-1/relisted-${step}`, randomClaims(rnd, 'ns-1', step));
          objects.set(kind, listed);
          both((s) => s.replaceKind(kind, listed));
        } else if (r < 0.3 && current.size > 0) {
          const keys = [...current.keys()];
          const key = keys[Math.floor(rnd() * keys.length)];
          current.delete(key);
          both((s) => s.replaceObject(kind, key, []));
        } else {
          const ns = rnd() < 0.5 ? 'ns-0' : 'ns-1';
          const key = rnd() < 0.5 && current.size > 0 ? [...current.keys()][0] : `${ns}/o-${step}`;
          const claims = randomClaims(rnd, key.split('/')[0], step);
          current.set(key, claims);
          both((s) => s.replaceObject(kind, key, claims));
        }
        if (rnd() < 0.5) continue;
        now += rnd() < 0.5 ? 0 : 1;
        const from = new Map(primary.apexes.map((a) => [a.zone, a.soa.serial]));
        const changed = primary.versions.commit();
        commits += changed.length;
        for (const zone of changed) {
          const serial = primary.versions.zone(zone)!.apex.soa.serial;
          expect(follower.versions.adopt(zone, serial, true)).toBe(true);
          replay(primary, 'p', zone, from.get(zone)!);
          replay(follower, 'f', zone, from.get(zone)!);
        }
        for (const apex of primary.apexes) {
          const oracle = keysOf(primary.full(apex));
          expect(keysOf(primary.versions.zone(apex.zone)!.records!)).toEqual(oracle);
          expect(keysOf(follower.versions.zone(apex.zone)!.records!)).toEqual(oracle);
          expect(keysOf(replayed.get(`p ${apex.zone}`)!)).toEqual(oracle);
          expect(keysOf(replayed.get(`f ${apex.zone}`)!)).toEqual(oracle);
        }
      }
      // Enough commits to mean something, in both zones.
      expect(commits).toBeGreaterThan(40);
    });
  }
});
