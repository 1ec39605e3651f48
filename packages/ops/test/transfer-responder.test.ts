import {
  type DnsRecord,
  decode,
  encode,
  scan,
  type TsigKey,
  tsigSign,
  tsigSplit,
  tsigVerify,
  type ZoneApex,
} from '@mdns/protocol';
import { addressSet } from '@mdns/transport';
import { describe, expect, it } from 'vitest';
import { createTransferResponder, newTransferCounters, ZoneVersions } from '../src/index.js';

// The transfer decision and replies, in process: who gets the zone (address AND key), what
// every refusal looks like on the wire (REFUSED, NOTAUTH + the RFC 8945 error), and the
// AXFR/IXFR message sequences, each message verified as a secondary would.

const ZONE = 'prod.example.tld';
const NOW = 1_800_000_000;
const key: TsigKey = {
  name: 'xfr-key',
  algorithm: 'hmac-sha256',
  secret: Buffer.from('0123456789abcdef'),
};
const SECRET_TEXT = Buffer.from(key.secret).toString('base64');

function apex(): ZoneApex {
  return {
    zone: ZONE,
    soa: {
      mname: `ns1.${ZONE}`,
      rname: `hostmaster.${ZONE}`,
      serial: 100,
      refresh: 60,
      retry: 30,
      expire: 600,
      minimum: 30,
    },
    soaTtl: 300,
    ns: [`ns1.${ZONE}`],
    nsTtl: 300,
    glue: new Map(),
  };
}

const a = (name: string, ip: string) =>
  ({ name, type: 'A', class: 'IN', ttl: 60, data: ip }) as DnsRecord;

function setup(options: { allow?: string[]; ready?: boolean; byName?: boolean } = {}) {
  let records: DnsRecord[] | null = [a(`web.${ZONE}`, '192.0.2.1')];
  let now = NOW;
  // `byName`: the zone read name by name (`names`, as the gateway); `lists` counts the
  // whole lists built (each starts with the fixed records).
  let lists = 0;
  const owners = () => (records ?? []).map((r) => r.name);
  const names = {
    all: owners,
    changed: owners,
    fixed: () => {
      lists++;
      return [];
    },
    records: (_: ZoneApex, name: string) => (records ?? []).filter((r) => r.name === name),
  };
  const versions = new ZoneVersions({
    apexes: [apex()],
    ...(options.byName ? { names } : { records: () => records }),
    journal: { maxEntries: 10, maxBytes: 1 << 20 },
    debounceMs: 0,
    now: () => now,
  });
  const counters = newTransferCounters();
  const logs: string[] = [];
  const log = (obj: object, msg?: string) => logs.push(`${msg} ${JSON.stringify(obj)}`);
  const respond = createTransferResponder({
    enabled: true,
    versions,
    allow: addressSet(options.allow ?? ['127.0.0.0/8']),
    keys: [key],
    maxMessageBytes: 1024,
    fudgeSeconds: 300,
    ready: () => options.ready ?? true,
    counters,
    logger: { info: log, warn: log },
    now: () => now,
  });
  const ask = (bytes: Uint8Array, address = '127.0.0.1') => {
    const s = scan(bytes);
    if (!s.ok) throw new Error(s.error);
    const out = respond(s.query, bytes, { address, port: 5300 });
    return out === null ? [] : Array.isArray(out) ? out : [out];
  };
  return {
    versions,
    counters,
    logs,
    ask,
    setRecords: (r: DnsRecord[] | null) => {
      records = r;
    },
    setNow: (t: number) => {
      now = t;
    },
    lists: () => lists,
  };
}

function request(type: 'AXFR' | 'IXFR', serial?: number): Uint8Array {
  return encode({
    id: 77,
    type: 'query',
    flags: 0,
    questions: [{ name: ZONE, type, class: 'IN' }],
    authorities:
      serial === undefined
        ? []
        : [{ name: ZONE, type: 'SOA', class: 'IN', ttl: 0, data: { ...apex().soa, serial } }],
  });
}

const signed = (bytes: Uint8Array, k: TsigKey = key, at = NOW) =>
  tsigSign(bytes, { key: k, timeSigned: at });
const rcode = (m: Uint8Array) => m[3] & 0x0f;
const tsigError = (m: Uint8Array) => {
  const s = tsigSplit(m);
  return s.ok && s.tsig ? s.tsig.error : null;
};

/** Verifies the chain (first on the request MAC, then each on the previous) and returns the records. */
function verifiedRecords(messages: Uint8Array[], requestMac: Uint8Array): DnsRecord[] {
  let previous: Uint8Array | undefined;
  const out: DnsRecord[] = [];
  for (const m of messages) {
    const v = tsigVerify(m, {
      key: () => key,
      now: NOW,
      ...(previous ? { previousMac: previous } : { requestMac }),
    });
    if (!v.ok) throw new Error(`message does not verify: ${v.failure}`);
    previous = v.mac;
    const d = decode(tsigSplit(m).ok ? (tsigSplit(m) as { unsigned: Uint8Array }).unsigned : m);
    if (!d.ok) throw new Error(d.error);
    out.push(...(d.message.answers ?? []));
  }
  return out;
}

describe('who gets a transfer', () => {
  it('a stranger (source outside transfer.allow) is REFUSED even with a good key', () => {
    const t = setup({ allow: ['192.0.2.0/24'] });
    const [reply] = t.ask(signed(request('AXFR')).bytes);
    expect(rcode(reply)).toBe(5);
    expect(t.counters.refused).toBe(1);
    expect(t.logs[0]).toMatch(
      /zone transfer refused.*"peer":"127\.0\.0\.1:5300".*"reason":"address"/,
    );
  });

  it('a flood of refused requests: every one counted, one log line per peer and reason', () => {
    const t = setup();
    for (let i = 0; i < 200; i++) expect(rcode(t.ask(request('AXFR'))[0])).toBe(5);
    expect(t.counters.refused).toBe(200);
    expect(t.logs.filter((l) => l.includes('"reason":"unsigned"'))).toHaveLength(1);
    // Another reason and another peer each still get their line.
    t.ask(signed(request('AXFR'), { ...key, secret: Buffer.from('nope') }).bytes);
    t.ask(request('AXFR'), '127.0.0.2');
    expect(t.logs).toHaveLength(3);
  });

  it('an unsigned request from an allowed source is REFUSED', () => {
    const t = setup();
    const [reply] = t.ask(request('AXFR'));
    expect(rcode(reply)).toBe(5);
    expect(t.logs[0]).toMatch(/"reason":"unsigned"/);
  });

  it('an unknown key: NOTAUTH + BADKEY; a wrong secret: NOTAUTH + BADSIG', () => {
    const t = setup();
    const [badKey] = t.ask(signed(request('AXFR'), { ...key, name: 'other' }).bytes);
    expect([rcode(badKey), tsigError(badKey)]).toEqual([9, 17]);
    const [badSig] = t.ask(signed(request('AXFR'), { ...key, secret: Buffer.from('nope') }).bytes);
    expect([rcode(badSig), tsigError(badSig)]).toEqual([9, 16]);
    expect(t.counters).toMatchObject({ tsigBadKey: 1, tsigBadSig: 1, axfr: 0 });
    expect(t.logs.join('\n')).not.toContain(SECRET_TEXT);
  });

  it('a request replayed after the fudge: NOTAUTH + BADTIME, signed, with our time', () => {
    const t = setup();
    const req = signed(request('AXFR'));
    t.setNow(NOW + 301);
    const [reply] = t.ask(req.bytes);
    expect([rcode(reply), tsigError(reply)]).toEqual([9, 18]);
    const v = tsigVerify(reply, { key: () => key, now: NOW, requestMac: req.mac });
    expect(v.ok).toBe(true);
    expect(t.counters.tsigBadTime).toBe(1);
  });

  it('before the first sync: SERVFAIL, never an empty zone', () => {
    const t = setup({ ready: false });
    const [reply] = t.ask(signed(request('AXFR')).bytes);
    expect(rcode(reply)).toBe(2);
  });

  it('not ready (the authority: a copy missing): SERVFAIL, signed, the reason logged', () => {
    const t = setup({ ready: false });
    const [reply] = t.ask(signed(request('AXFR')).bytes);
    expect(rcode(reply)).toBe(2);
    expect(t.counters.notReady).toBe(1);
    expect(t.logs.join('\n')).toContain('zone data not complete');
  });
});

describe('what a transfer holds', () => {
  it('AXFR: SOA, every record, SOA in signed messages under maxMessageBytes', () => {
    const t = setup();
    const many = Array.from({ length: 200 }, (_, i) => a(`h${i}.${ZONE}`, `10.0.0.${i}`));
    t.setRecords(many);
    t.versions.commit();
    const req = signed(request('AXFR'));
    const messages = t.ask(req.bytes);
    expect(messages.length).toBeGreaterThan(3);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(1024);
    const records = verifiedRecords(messages, req.mac);
    expect(records[0].type).toBe('SOA');
    expect(records.at(-1)!.type).toBe('SOA');
    expect(
      records
        .slice(1, -1)
        .map((r) => r.name)
        .sort(),
    ).toEqual(many.map((r) => r.name).sort());
  });

  it('IXFR: the journal diff from a known serial, the whole zone from an unknown one, one SOA when current', () => {
    const t = setup();
    const first = t.versions.zone(ZONE)!.apex.soa.serial;
    t.setRecords([a(`web.${ZONE}`, '192.0.2.2')]);
    t.versions.commit();
    const current = t.versions.zone(ZONE)!.apex.soa.serial;
    expect(current).toBe(NOW);
    const req = signed(request('IXFR', first));
    const diff = verifiedRecords(t.ask(req.bytes), req.mac);
    expect(
      diff.map((r) => {
        const data = (r as { data: unknown }).data;
        return `${r.type} ${r.type === 'SOA' ? (data as { serial: number }).serial : data}`;
      }),
    ).toEqual([
      `SOA ${current}`,
      `SOA ${first}`,
      'A 192.0.2.1',
      `SOA ${current}`,
      'A 192.0.2.2',
      `SOA ${current}`,
    ]);
    const old = signed(request('IXFR', 5));
    const full = verifiedRecords(t.ask(old.bytes), old.mac);
    expect(full.map((r) => `${r.type} ${r.type === 'A' ? r.data : ''}`)).toEqual([
      'SOA ',
      'A 192.0.2.2',
      'SOA ',
    ]);
    const now = signed(request('IXFR', current));
    expect(verifiedRecords(t.ask(now.bytes), now.mac).map((r) => r.type)).toEqual(['SOA']);
    expect(t.counters).toMatchObject({ ixfr: 2, ixfrFullZone: 1 });
  });

  it('IXFR from the journal reads no whole zone; an AXFR builds the list once per version (names)', () => {
    const t = setup({ byName: true });
    const first = t.versions.zone(ZONE)!.apex.soa.serial;
    t.setRecords([a(`web.${ZONE}`, '192.0.2.2')]);
    t.versions.commit();
    const lists = t.lists();
    const req = signed(request('IXFR', first));
    const diff = verifiedRecords(t.ask(req.bytes), req.mac);
    expect(diff.filter((r) => r.type === 'A').map((r) => (r as { data: unknown }).data)).toEqual([
      '192.0.2.1',
      '192.0.2.2',
    ]);
    expect(t.lists()).toBe(lists);
    for (let i = 0; i < 2; i++) {
      const axfr = signed(request('AXFR'));
      const all = verifiedRecords(t.ask(axfr.bytes), axfr.mac);
      expect(all.filter((r) => r.type === 'A').map((r) => (r as { data: unknown }).data)).toEqual([
        '192.0.2.2',
      ]);
    }
    expect(t.lists()).toBe(lists + 1);
  });

  it('IXFR without the client SOA: FORMERR', () => {
    const t = setup();
    const [reply] = t.ask(signed(request('IXFR')).bytes);
    expect(rcode(reply)).toBe(1);
  });

  it('two changes within one second still get increasing serials', () => {
    const t = setup();
    t.setRecords([a(`x.${ZONE}`, '192.0.2.9')]);
    t.versions.commit();
    t.setRecords([a(`y.${ZONE}`, '192.0.2.9')]);
    t.versions.commit();
    expect(t.versions.zone(ZONE)!.apex.soa.serial).toBe(NOW + 1);
    // No change: no new serial.
    t.versions.commit();
    expect(t.versions.zone(ZONE)!.apex.soa.serial).toBe(NOW + 1);
  });

  it('records unknown now (null): the version and serial stay, the next known records commit', () => {
    const t = setup();
    const first = t.versions.zone(ZONE)!.records;
    t.setRecords(null);
    expect(t.versions.commit()).toEqual([]);
    expect(t.versions.zone(ZONE)!.apex.soa.serial).toBe(100);
    expect(t.versions.zone(ZONE)!.records).toBe(first);
    t.setRecords([a(`z.${ZONE}`, '192.0.2.3')]);
    expect(t.versions.commit()).toEqual([ZONE]);
    expect(t.versions.zone(ZONE)!.apex.soa.serial).toBe(NOW);
  });

  it('baseline: the data loaded before anything was served is the zone at its serial, no journal entry', () => {
    const zones: string[][] = [];
    let records = [a(`late.${ZONE}`, '192.0.2.4')];
    const versions = versionsOver(() => records, zones);
    versions.baseline();
    const zone = versions.zone(ZONE)!;
    // Two workers that load the same data at different seconds hold it at the same serial.
    expect(zone.apex.soa.serial).toBe(100);
    expect(zone.records).toEqual([a(`late.${ZONE}`, '192.0.2.4')]);
    expect(versions.commits).toBe(0);
    expect(zone.journal.entries).toBe(0);
    // The secondaries are told all the same.
    expect(zones).toEqual([[ZONE]]);
    // A change after it moves the serial as always, with its journal entry.
    records = [a(`x.${ZONE}`, '192.0.2.9')];
    expect(versions.commit()).toEqual([ZONE]);
    expect(zone.apex.soa.serial).toBe(NOW);
    expect(zone.journal.entries).toBe(1);
  });

  it('adopt: a follower takes its primary serial, its journal entry from its own data, no NOTIFY', () => {
    const zones: string[][] = [];
    let records = [a(`w.${ZONE}`, '192.0.2.1')];
    const versions = versionsOver(() => records, zones);
    const zone = versions.zone(ZONE)!;
    // Before its data is whole (a restarted worker): the serial only, the records later.
    expect(versions.adopt(ZONE, 150, false)).toBe(true);
    expect(zone.apex.soa.serial).toBe(150);
    expect(zone.journal.entries).toBe(0);
    versions.baseline();
    expect(zone.apex.soa.serial).toBe(150);
    // The primary's next serial (not this process's clock, NOW): one entry 150 -> 151.
    records = [a(`w.${ZONE}`, '192.0.2.1'), a(`x.${ZONE}`, '192.0.2.2')];
    expect(versions.adopt(ZONE, 151, true)).toBe(true);
    expect(zone.apex.soa.serial).toBe(151);
    expect(zone.records).toEqual(records);
    expect(zone.journal.since(150, 151)?.map((e) => e.added.length)).toEqual([1]);
    // The same serial again changes nothing; an unknown zone neither.
    expect(versions.adopt(ZONE, 151, true)).toBe(false);
    expect(versions.adopt('other.test', 5, true)).toBe(false);
    expect(versions.commits).toBe(2);
    // Only the baseline told the secondaries: the primary sends the NOTIFYs.
    expect(zones).toEqual([[ZONE]]);
  });
});

/** Versions of one zone over `records`, at clock NOW, the zones of each commit kept in `zones`. */
function versionsOver(records: () => DnsRecord[], zones: string[][]): ZoneVersions {
  return new ZoneVersions({
    apexes: [apex()],
    records,
    journal: { maxEntries: 10, maxBytes: 1 << 20 },
    debounceMs: 0,
    now: () => NOW,
    onCommit: (z) => zones.push([...z]),
  });
}
