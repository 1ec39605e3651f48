import { createLogger, parseConfigText } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { type AuthorityConfig, authorityConfigSchema } from '../src/config/schema.js';
import {
  CONFIG_AGREEMENT_WAIT_MS,
  MERGED_SERIAL_TOPIC,
  MergedSerialOwner,
  mayCommit,
  mergeConfigKey,
  zonesReloaded,
  zonesToMove,
} from '../src/primary/serials.js';
import type { Replica } from '../src/replica/replica.js';

// listen.workers > 1: the process primary owns the merged zones' serials (primary/serials.ts).
// When a serial moves is decided here, without sockets or workers.

const A = 'a.test|c0|10.0.0.1|53';
const B = 'a.test|c1|10.0.0.2|53';
const C = 'b.test|c2|10.0.0.3|53';
const ZONES = [
  { name: 'a.test', members: [A, B] },
  { name: 'b.test', members: [C] },
];

describe('zonesToMove: a new copy of a member, or a reload, moves the zone once it can be listed', () => {
  const allFresh = () => true;
  const copies = (...upstreams: string[]) => ({
    upstreams: new Set(upstreams),
    zones: new Set<string>(),
  });
  it('only the zones with a changed member', () => {
    expect(zonesToMove(ZONES, copies(B), allFresh)).toEqual(['a.test']);
    expect(zonesToMove(ZONES, copies(A, C), allFresh)).toEqual(['a.test', 'b.test']);
    expect(zonesToMove(ZONES, copies(), allFresh)).toEqual([]);
  });
  it('the zones a reload touched, without a new copy', () => {
    const pending = { upstreams: new Set<string>(), zones: new Set(['b.test']) };
    expect(zonesToMove(ZONES, pending, allFresh)).toEqual(['b.test']);
  });
  it('not while a member has no fresh copy (its transfers answer SERVFAIL): the serial stays', () => {
    expect(zonesToMove(ZONES, copies(A), (k) => k !== B)).toEqual([]);
    const reload = { upstreams: new Set<string>(), zones: new Set(['a.test']) };
    expect(zonesToMove(ZONES, reload, (k) => k !== B)).toEqual([]);
    // The member that completes the zone is itself a change.
    expect(zonesToMove(ZONES, copies(B), allFresh)).toEqual(['a.test']);
  });
});

const parse = (text: string): AuthorityConfig => {
  const r = parseConfigText(text, authorityConfigSchema, { env: {} });
  if (!r.ok) throw new Error(r.errors.join('; '));
  return r.config;
};
const config = (ns = 'ns1', maxTtl = 300) =>
  parse(
    [
      'zones:',
      '  - name: A.test.',
      `    nameservers: [{ name: ${ns}.a.test, addresses: [192.0.2.53] }]`,
      '    upstreams: [{ name: c0, address: 10.0.0.1, transfer: { enabled: true } }]',
      '  - name: b.test',
      '    upstreams: [{ name: c2, address: 10.0.0.3, transfer: { enabled: true } }]',
      `cache: { maxTtl: ${maxTtl} }`,
      'transfer: { enabled: true, allow: [127.0.0.1/32], keys: [{ name: k, secret: c2VjcmV0 }], notify: { debounceMs: 60000 } }',
      '',
    ].join('\n'),
  );

describe('zonesReloaded: the zones a reload may change the merged records of', () => {
  it('the zones whose config entry changed (normalized names)', () => {
    expect(zonesReloaded(config(), config())).toEqual([]);
    expect(zonesReloaded(config(), config('ns2'))).toEqual(['a.test']);
  });
  it('every zone when cache.maxTtl (the merge TTL cap) changed', () => {
    expect(zonesReloaded(config(), config('ns1', 60))).toEqual(['a.test', 'b.test']);
  });
});

describe('mayCommit: a serial waits until every worker merges by the primary config', () => {
  it('the same config key everywhere (or no worker reported yet): now', () => {
    const key = mergeConfigKey(config());
    expect(mergeConfigKey(config())).toBe(key);
    expect(mayCommit(key, [key, key], 0)).toBe(true);
    expect(mayCommit(key, [], 0)).toBe(true);
  });
  it('a worker still on the old config (it reads the file later): wait, but not forever', () => {
    const old = mergeConfigKey(config());
    const next = mergeConfigKey(config('ns2'));
    expect(next).not.toBe(old);
    // The apex and the TTL cap are what the records depend on.
    expect(mergeConfigKey(config('ns1', 60))).not.toBe(old);
    expect(mayCommit(next, [next, old], 0)).toBe(false);
    expect(mayCommit(next, [next, old], CONFIG_AGREEMENT_WAIT_MS)).toBe(true);
  });
});

/** A primary's replica as the owner reads it: fresh or not. */
const replica = (fresh: boolean) => ({ fresh: () => (fresh ? {} : null) }) as unknown as Replica;

function owner(fresh: Map<string, boolean>, start = config()) {
  const published: [string, string, unknown][] = [];
  const replicas = () =>
    new Map([...fresh].map(([key, isFresh]) => [key, replica(isFresh)] as const));
  const serials = new MergedSerialOwner({
    config: start,
    feeds: { publish: (topic, key, value) => published.push([topic, key, value]) },
    keys: [],
    replicas,
    logger: createLogger({ name: 'test', level: 'silent' }),
    workers: 2,
  });
  return { serials, published };
}

describe('MergedSerialOwner: one serial per change for every worker', () => {
  const a0 = 'a.test|c0|10.0.0.1|53';
  const b0 = 'b.test|c2|10.0.0.3|53';

  it('publishes every zone at its start serial, then each move after the copies', async () => {
    const { serials, published } = owner(new Map([[a0, true]]));
    const start = serials.serial('a.test') as number;
    expect(published).toEqual([
      [MERGED_SERIAL_TOPIC, 'a.test', start],
      [MERGED_SERIAL_TOPIC, 'b.test', start],
    ]);
    serials.copyChanged(a0);
    serials.copyChanged(a0);
    // Several copies within the debounce: one serial (RFC 1982 +1 within one second).
    expect(serials.commit(start)).toEqual(['a.test']);
    expect(published.at(-1)).toEqual([MERGED_SERIAL_TOPIC, 'a.test', start + 1]);
    expect(serials.serial('b.test')).toBe(start);
    // Nothing changed since: no serial.
    expect(serials.commit(start)).toEqual([]);
    expect(published).toHaveLength(3);
    await serials.stop();
  });

  it('a zone with a member not fresh keeps its serial; a reload moves only the zones it changed', async () => {
    const { serials } = owner(
      new Map([
        [a0, true],
        [b0, false],
      ]),
    );
    const start = serials.serial('a.test') as number;
    serials.copyChanged(b0);
    expect(serials.commit(start)).toEqual([]);
    serials.reloaded(config('ns2'));
    expect(serials.commit(start + 5)).toEqual(['a.test']);
    expect(serials.serial('a.test')).toBe(start + 5);
    expect(serials.serial('b.test')).toBe(start);
    await serials.stop();
  });
});
