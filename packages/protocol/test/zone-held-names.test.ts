import { describe, expect, it } from 'vitest';
import {
  type DnsRecord,
  decode,
  encode,
  HELD_TYPE,
  heldMarker,
  indexFromRecords,
  RecordIndex,
  type ZoneApex,
  zoneRecords,
} from '../src/index.js';

// A name held back for health exists without data (NODATA). A transfer carries records, so
// the primary marks such a name with a private-use record (HELD_TYPE) and the secondary's
// index makes the name exist again; without it the copy would answer NXDOMAIN.
const ZONE = 'held.test';
const rr = (name: string, type: string, data: unknown, ttl = 60): DnsRecord =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;
const APEX: ZoneApex = {
  zone: ZONE,
  soa: {
    mname: `ns1.${ZONE}`,
    rname: `h.${ZONE}`,
    serial: 1,
    refresh: 60,
    retry: 60,
    expire: 600,
    minimum: 30,
  },
  soaTtl: 60,
  ns: [`ns1.${ZONE}`],
  nsTtl: 60,
  glue: new Map([[`ns1.${ZONE}`, { a: ['192.0.2.53'], aaaa: [] }]]),
};

function indexWith(names: Record<string, string[]>): RecordIndex<'k'> {
  const index = new RecordIndex<'k'>(['k']);
  const objects = new Map(
    Object.entries(names).map(([name, a]) => [name, [{ name, a, aaaa: [], txt: [], ttl: 60 }]]),
  );
  index.replaceKind('k', objects);
  return index;
}

describe('held names in a zone transfer', () => {
  it('the primary marks a held name that has no record of its own, and only that one', () => {
    const index = indexWith({ [`web.${ZONE}`]: ['192.0.2.1'] });
    const source = {
      namesWithRecords: () => index.namesWithRecords(),
      heldNames: () =>
        [`down.${ZONE}`, `web.${ZONE}`, ZONE, `ns1.${ZONE}`, `other.zone`, `*.apps.${ZONE}`][
          Symbol.iterator
        ](),
    };
    const records = zoneRecords(source, APEX, () => true);
    const markers = records.filter((r) => r.type === heldMarker('x').type).map((r) => r.name);
    // web has records, the apex and the glue name exist anyway, other.zone is not ours.
    expect(markers.sort()).toEqual([`*.apps.${ZONE}`, `down.${ZONE}`]);
  });

  it('the marker survives the wire (RFC 3597 type, empty RDATA) and makes the name NODATA', () => {
    const wire = encode({
      type: 'response',
      id: 1,
      flags: 0,
      answers: [heldMarker(`down.${ZONE}`), heldMarker(`*.apps.${ZONE}`)],
    });
    const decoded = decode(wire);
    if (!decoded.ok) throw new Error(decoded.error);
    const back = decoded.message.answers ?? [];
    expect(back.map((r) => r.type)).toEqual([`UNKNOWN_${HELD_TYPE}`, `UNKNOWN_${HELD_TYPE}`]);
    const loaded = indexFromRecords(
      [rr(ZONE, 'NS', `ns1.${ZONE}`), rr(`x.apps.${ZONE}`, 'A', '192.0.2.2'), ...back],
      ZONE,
    );
    expect(loaded.skipped).toEqual([]);
    expect(loaded.held.size).toBe(2);
    expect(loaded.lookup(`down.${ZONE}`, ZONE).type).toBe('empty');
    // Below a held name nothing exists; the held wildcard covers names up to a closer encloser.
    expect(loaded.lookup(`a.down.${ZONE}`, ZONE).type).toBe('nxdomain');
    expect(loaded.lookup(`a.apps.${ZONE}`, ZONE).type).toBe('empty');
    expect(loaded.lookup(`y.x.apps.${ZONE}`, ZONE).type).toBe('nxdomain');
    expect(loaded.lookup(`x.apps.${ZONE}`, ZONE).type).toBe('records');
    expect(loaded.lookup(`nothing.${ZONE}`, ZONE).type).toBe('nxdomain');
    // The plain index still does not know the held names: only `lookup` applies them.
    expect(loaded.index.lookup(`down.${ZONE}`, ZONE).type).toBe('nxdomain');
  });
});
