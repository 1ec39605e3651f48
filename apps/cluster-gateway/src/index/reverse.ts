import type { ExtraRecord, IndexLookup, NameRecords } from '@mdns/protocol';

/**
 * `reverseZones`: PTR answers for the addresses the gateway serves. Built from the index
 * (every name's own A/AAAA; wildcards have no single name to point to) when the index
 * generation has moved since the last reverse query, so a zone without PTR queries costs
 * nothing. Pure apart from that cache.
 */

/** `192.0.2.1` -> `1.2.0.192.in-addr.arpa`; `2001:db8::1` -> the 32-nibble ip6.arpa name. */
export function reverseName(address: string): string | null {
  if (address.includes('.') && !address.includes(':')) {
    const parts = address.split('.');
    return parts.length === 4 ? `${parts.reverse().join('.')}.in-addr.arpa` : null;
  }
  const halves = address.toLowerCase().split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  const groups = [...head, ...Array(missing).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  const nibbles = groups.map((g) => g.padStart(4, '0')).join('');
  return `${[...nibbles].reverse().join('.')}.ip6.arpa`;
}

export interface ReverseMap {
  /** Reverse name -> the names with that address, sorted. */
  readonly names: ReadonlyMap<string, readonly string[]>;
  /** Every ancestor of a reverse name (empty non-terminals: NODATA, never NXDOMAIN). */
  readonly ancestors: ReadonlySet<string>;
  readonly ttl: ReadonlyMap<string, number>;
}

/** Pure: the reverse names of every address in `entries`, under any of `zones`. */
export function buildReverseMap(
  entries: Iterable<[string, NameRecords]>,
  zones: readonly string[],
): ReverseMap {
  const names = new Map<string, string[]>();
  const ttl = new Map<string, number>();
  const ancestors = new Set<string>();
  const add = (address: string, name: string, seconds: number) => {
    const reverse = reverseName(address);
    if (reverse === null || !zones.some((z) => reverse === z || reverse.endsWith(`.${z}`))) return;
    const list = names.get(reverse);
    if (list === undefined) names.set(reverse, [name]);
    else if (!list.includes(name)) list.push(name);
    ttl.set(reverse, Math.min(ttl.get(reverse) ?? seconds, seconds));
    for (let i = reverse.indexOf('.'); i >= 0; i = reverse.indexOf('.', i + 1)) {
      ancestors.add(reverse.slice(i + 1));
    }
  };
  for (const [name, records] of entries) {
    for (const a of records.a) add(a, name, records.aTtl);
    for (const a of records.aaaa) add(a, name, records.aaaaTtl);
  }
  for (const list of names.values()) list.sort();
  return { names, ancestors, ttl };
}

const EMPTY: IndexLookup = { type: 'empty' };
const NXDOMAIN: IndexLookup = { type: 'nxdomain' };

/** Pure: `qname` in a reverse zone -> its PTR records as an index lookup result. */
export function reverseLookup(map: ReverseMap, qname: string, zone: string): IndexLookup {
  const targets = map.names.get(qname);
  if (targets === undefined) {
    return qname === zone || map.ancestors.has(qname) ? EMPTY : NXDOMAIN;
  }
  const ttl = map.ttl.get(qname) ?? 0;
  const extra: ExtraRecord[] = targets.map((t) => ({ type: 'PTR', text: t, ttl, data: t }));
  const records: NameRecords = {
    a: [],
    aaaa: [],
    cname: null,
    txt: [],
    extra,
    ttl,
    aTtl: 0,
    aaaaTtl: 0,
    txtTtl: 0,
    // Not from a claim: the kind only matters for precedence, which a reverse name has none of.
    kind: 'DNSEndpoint',
  };
  return { type: 'records', records, wildcard: false };
}

/** The reverse map of an index, rebuilt only after its generation moved. */
export class ReverseIndex {
  #generation = -1;
  #map: ReverseMap | null = null;

  constructor(
    private readonly zones: readonly string[],
    private readonly source: {
      readonly generation: number;
      namesWithRecords(): Iterable<[string, NameRecords]>;
    },
  ) {}

  lookup(qname: string, zone: string): IndexLookup {
    if (this.#map === null || this.#generation !== this.source.generation) {
      this.#generation = this.source.generation;
      this.#map = buildReverseMap(this.source.namesWithRecords(), this.zones);
    }
    return reverseLookup(this.#map, qname, zone);
  }
}
