import { type DnsRecord, HELD_TYPE, heldMarker, QTYPE } from '@mdns/protocol';
import type { TransferRequest, TransferResult } from '@mdns/transport';
import { describe, expect, it } from 'vitest';
import { answerFromCopy, buildCopy } from '../src/replica/copy.js';
import { Replica } from '../src/replica/replica.js';

const dataOf = (r: DnsRecord) => (r as { data?: unknown }).data;

// One replica, its transfers stood in for (the real client is proven against the gateway and
// Knot in the e2e tests): what it answers from a copy, and how bad pulls leave the copy alone.

const ZONE = 'prod.test';
const rr = (name: string, type: string, data: unknown, ttl = 60) =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;
const soa = (serial: number, timers = { refresh: 3600, retry: 600, expire: 86400 }) =>
  rr(ZONE, 'SOA', { mname: `ns1.${ZONE}`, rname: `h.${ZONE}`, serial, minimum: 30, ...timers });
const RECORDS = [
  rr(ZONE, 'NS', `ns1.${ZONE}`),
  rr(`ns1.${ZONE}`, 'A', '192.0.2.53'),
  rr(`web.team.${ZONE}`, 'A', '10.0.0.1'),
  rr(`web.team.${ZONE}`, 'A', '10.0.0.2'),
  rr(`lb.${ZONE}`, 'CNAME', 'elb.cloud.example'),
  rr(`*.apps.${ZONE}`, 'A', '10.0.0.9'),
  rr(`_http._tcp.${ZONE}`, 'SRV', { priority: 1, weight: 1, port: 80, target: `web.team.${ZONE}` }),
  rr(`txt.${ZONE}`, 'TXT', ['hello']),
];
const axfr = (
  serial: number,
  records = RECORDS,
  kind: 'axfr' | 'ixfr' = 'axfr',
): TransferResult => ({
  ok: true,
  kind,
  soa: soa(serial),
  serial,
  records: [...records],
  messages: 1,
  bytes: 1000,
});

describe('answers from a copy: the gateway answer function, classified as a reply', () => {
  const copy = buildCopy(ZONE, soa(7), RECORDS);
  const ask = (name: string, type: number) => answerFromCopy(copy, name, type);

  it('a name with records of the type: POSITIVE with those records, owner the asked name', () => {
    const c = ask(`web.team.${ZONE}`, QTYPE.A);
    expect(c.class).toBe('POSITIVE');
    expect(c.records.map(dataOf).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('a wildcard answers any name below it with the asked name as owner (RFC 4592)', () => {
    const c = ask(`x.y.apps.${ZONE}`, QTYPE.A);
    expect(c.class).toBe('POSITIVE');
    expect(c.records[0]).toMatchObject({ name: `x.y.apps.${ZONE}`, data: '10.0.0.9' });
  });

  it('a CNAME answers every type but its own chain stops at the zone', () => {
    const c = ask(`lb.${ZONE}`, QTYPE.AAAA);
    expect(c.class).toBe('POSITIVE');
    expect(c.records).toEqual([
      expect.objectContaining({ type: 'CNAME', data: 'elb.cloud.example' }),
    ]);
  });

  it('SRV carries its in-zone target addresses as additional records', () => {
    const c = ask(`_http._tcp.${ZONE}`, QTYPE.SRV);
    expect(c.class).toBe('POSITIVE');
    expect((c.additionals ?? []).map(dataOf).sort()).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('the type missing: NODATA; an empty non-terminal: NODATA (RFC 8020); nothing: NXDOMAIN', () => {
    expect(ask(`web.team.${ZONE}`, QTYPE.AAAA).class).toBe('NODATA');
    expect(ask(`team.${ZONE}`, QTYPE.A).class).toBe('NODATA');
    expect(ask(`nope.${ZONE}`, QTYPE.A).class).toBe('NXDOMAIN');
    expect(ask(`txt.${ZONE}`, QTYPE.TXT).class).toBe('POSITIVE');
  });

  it('a name the primary holds for health (its marker): NODATA as the gateway answers it', () => {
    const held = buildCopy(ZONE, soa(8), [...RECORDS, heldMarker(`down.${ZONE}`)]);
    expect(answerFromCopy(held, `down.${ZONE}`, QTYPE.A).class).toBe('NODATA');
    expect(answerFromCopy(held, `down.${ZONE}`, HELD_TYPE).class).toBe('NODATA');
    expect(answerFromCopy(held, `below.down.${ZONE}`, QTYPE.A).class).toBe('NXDOMAIN');
    expect(held.skipped).toBe(0);
  });
});

interface Logged {
  level: string;
  fields: Record<string, unknown>;
  msg: string;
}

function harness(results: TransferResult[], now = { ms: 1_000_000 }) {
  const logs: Logged[] = [];
  const requests: TransferRequest[] = [];
  const changes: string[] = [];
  const replica = new Replica({
    upstream: { zone: ZONE, name: 'cluster-a', address: '127.0.0.1', port: 5353 },
    settings: { enabled: true, maxRecords: 100, maxBytes: 1 << 20 },
    key: undefined,
    logger: {
      info: ((fields: Record<string, unknown>, msg: string) =>
        logs.push({ level: 'info', fields, msg })) as never,
      warn: ((fields: Record<string, unknown>, msg: string) =>
        logs.push({ level: 'warn', fields, msg })) as never,
    },
    onChange: (u) => changes.push(u),
    pull: async (request) => {
      requests.push(request);
      const next = results.shift();
      if (next === undefined) throw new Error('no more scripted transfers');
      return next;
    },
    now: () => now.ms,
  });
  return { replica, logs, requests, changes, now };
}

describe('pulls: applied whole, or the last good copy kept', () => {
  it('AXFR first, then IXFR with our copy; each good one swaps the copy and reports a change', async () => {
    const next = [...RECORDS.slice(0, -1), rr(`new.${ZONE}`, 'A', '10.0.0.7')];
    const h = harness([axfr(1), axfr(2, next, 'ixfr')]);
    await h.replica.check();
    expect(h.requests[0]).toMatchObject({ kind: 'AXFR', zone: ZONE, maxRecords: 100 });
    expect(h.replica.answer(`web.team.${ZONE}`, QTYPE.A)?.class).toBe('POSITIVE');
    await h.replica.check();
    expect(h.requests[1]).toMatchObject({ kind: 'IXFR', current: { serial: 1 } });
    // Checked against the served copy's records per name: no second copy of them by key.
    const current = h.requests[1].current;
    expect(current?.keyed).toBeUndefined();
    const held = current?.recordsAt?.(`web.team.${ZONE}`) ?? [];
    expect(held.map(dataOf)).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(current?.recordsAt?.(ZONE).map((r) => r.type)).toEqual(['NS']);
    expect(h.replica.answer(`new.${ZONE}`, QTYPE.A)?.class).toBe('POSITIVE');
    expect(h.replica.answer(`txt.${ZONE}`, QTYPE.TXT)?.class).toBe('NXDOMAIN');
    expect(h.changes).toEqual(['cluster-a', 'cluster-a']);
    expect([...h.replica.transfers]).toEqual([
      ['AXFR|axfr', 1],
      ['IXFR|ixfr', 1],
    ]);
    h.replica.stop();
  });

  it.each([
    ['cut', 'the connection ended before the closing SOA'],
    ['tsig', 'message 1: TSIG BADSIG'],
    ['soa-mismatch', 'the last record is not the same SOA as the first'],
    ['out-of-zone', 'record 3 (evil.example A) is outside prod.test'],
    ['serial-backwards', 'serial 1 is older than our 2'],
    ['too-large', '101 records, over the limit of 100'],
  ])(
    'a bad pull (%s) keeps the copy, counts, logs one line naming the upstream and reason',
    async (failure, detail) => {
      const h = harness([axfr(2), { ok: false, failure, detail } as TransferResult]);
      await h.replica.check();
      await h.replica.check();
      expect(h.replica.status().serial).toBe(2);
      expect(h.replica.answer(`web.team.${ZONE}`, QTYPE.A)?.class).toBe('POSITIVE');
      expect(h.replica.transfers.get(`IXFR|${failure}`)).toBe(1);
      const warned = h.logs.filter((l) => l.level === 'warn');
      expect(warned).toHaveLength(1);
      expect(warned[0].msg).toContain('cluster-a');
      expect(warned[0].fields).toMatchObject({ upstream: 'cluster-a', reason: failure, detail });
      expect(h.changes).toEqual(['cluster-a']);
      h.replica.stop();
    },
  );

  it('an IXFR the primary cannot diff falls back to AXFR at once', async () => {
    const h = harness([
      axfr(1),
      { ok: false, failure: 'ixfr-mismatch', detail: 'a diff from serial 0' } as TransferResult,
      axfr(3),
    ]);
    await h.replica.check();
    await h.replica.check();
    expect(h.requests.map((r) => r.kind)).toEqual(['AXFR', 'IXFR', 'AXFR']);
    expect(h.replica.status().serial).toBe(3);
    expect(h.replica.transfers.get('IXFR|ixfr-mismatch')).toBe(1);
    h.replica.stop();
  });

  it('nothing is served before the first good copy; the copy expires after `expire` without a confirmation', async () => {
    const h = harness([
      { ok: false, failure: 'connect', detail: 'refused' } as TransferResult,
      axfr(1),
      { ok: true, kind: 'up-to-date', soa: soa(1), serial: 1, messages: 1, bytes: 50 },
    ]);
    await h.replica.check();
    expect(h.replica.answer(`web.team.${ZONE}`, QTYPE.A)).toBeNull();
    expect(h.replica.status()).toMatchObject({ state: 'loading', failuresInARow: 1 });
    await h.replica.check();
    h.now.ms += 86_399_000;
    expect(h.replica.status().state).toBe('loaded');
    await h.replica.check(); // up to date: the expire clock starts again
    h.now.ms += 86_399_000;
    expect(h.replica.answer(`web.team.${ZONE}`, QTYPE.A)?.class).toBe('POSITIVE');
    h.now.ms += 1000;
    expect(h.replica.answer(`web.team.${ZONE}`, QTYPE.A)).toBeNull();
    expect(h.replica.status().state).toBe('expired');
    expect(h.logs.filter((l) => l.msg.startsWith('replica expired'))).toHaveLength(1);
    h.replica.stop();
  });
});
