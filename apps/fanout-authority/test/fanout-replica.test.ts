import { parseConfigText } from '@mdns/ops';
import { type DnsRecord, QTYPE } from '@mdns/protocol';
import { DnsClient, type TransferRequest, type TransferResult } from '@mdns/transport';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { fanout } from '../src/fanout/fanout.js';
import { a, type FakeUpstream, primarySoa, startFakeUpstream } from './support/fake-upstream.js';

const dataOf = (r: DnsRecord) => (r as { data?: unknown }).data;

// docs/behaviour.md, "fanout-authority: answers from replicas": a fresh replica answers its
// upstream from memory, the others are asked, and every outcome goes through the one merge.
// The fake upstreams count the queries they get: a replicated one must get none.

const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

const ZONE = 'prod.test';
const soa = (serial: number) => primarySoa(ZONE, serial);

/** Each upstream's zone, by upstream name, as its stand-in primary hands it out. */
function zones(byUpstream: Record<string, DnsRecord[]>) {
  return async (r: TransferRequest): Promise<TransferResult> => {
    const name = Object.keys(byUpstream).find((n) => r.port === ports.get(n));
    const records = name === undefined ? [] : byUpstream[name];
    return { ok: true, kind: 'axfr', soa: soa(1), serial: 1, records, messages: 1, bytes: 1 };
  };
}
const ports = new Map<string, number>();

let fakes: Record<string, FakeUpstream> = {};
beforeAll(async () => {
  for (const name of ['a', 'b', 'c']) {
    fakes[name] = await startFakeUpstream(ZONE, (q) =>
      q.name === `net.${ZONE}` || q.name === `both.${ZONE}`
        ? { kind: 'answer', answers: [a(q.name, `10.9.9.${name.charCodeAt(0)}`)] }
        : { kind: 'answer', rcode: 3 },
    );
    ports.set(name, fakes[name].port);
  }
});
afterAll(async () => {
  for (const f of Object.values(fakes)) await f.close();
  fakes = {};
});

let runtime: Runtime | null = null;
afterEach(() => {
  for (const r of runtime?.replicas.values() ?? []) r.stop();
  runtime = null;
});

/** A runtime whose upstreams `replicated` have a loaded replica of `data[name]`. */
async function build(
  policy: 'first' | 'all' | 'priority',
  order: string[],
  replicated: string[],
  data: Record<string, DnsRecord[]>,
): Promise<Runtime> {
  const lines = ['zones:', `  - name: ${ZONE}`, `    policy: ${policy}`, '    upstreams:'];
  for (const [i, name] of order.entries()) {
    const transfer = replicated.includes(name) ? ', transfer: { enabled: true }' : '';
    lines.push(
      `      - { name: ${name}, address: 127.0.0.1, port: ${ports.get(name)}, priority: ${i}${transfer} }`,
    );
  }
  const r = parseConfigText(`${lines.join('\n')}\n`, authorityConfigSchema);
  if (!r.ok) throw new Error(r.errors.join('; '));
  const rt = buildRuntime(r.config, 1, client, undefined, {
    keys: new Map(),
    logger: { info: () => {}, warn: () => {} },
    pull: zones(data),
  });
  for (const replica of rt.replicas.values()) await replica.check();
  runtime = rt;
  for (const f of Object.values(fakes)) f.queries.length = 0;
  return rt;
}

const ask = (rt: Runtime, name: string, qtype = QTYPE.A) =>
  fanout(rt.zones.get(ZONE)!, name, qtype, { allPolicyWaitMs: 300 });

describe('every upstream replicated: no network exchange', () => {
  it('a name one replica has: POSITIVE from memory, nothing sent', async () => {
    const rt = await build('first', ['a', 'b'], ['a', 'b'], {
      a: [a(`svc.${ZONE}`, '10.0.0.1')],
      b: [],
    });
    const r = await ask(rt, `svc.${ZONE}`);
    expect(r.decision.kind).toBe('positive');
    expect(r.records.map(dataOf)).toEqual(['10.0.0.1']);
    expect(r.sent).toBe(0);
    expect(r.fromReplica.map((o) => o?.class)).toEqual(['POSITIVE', 'NXDOMAIN']);
    expect(fakes.a.queries.length + fakes.b.queries.length).toBe(0);
  });

  it('a name absent from every fresh replica: NXDOMAIN at once, nothing sent', async () => {
    const rt = await build('all', ['a', 'b'], ['a', 'b'], { a: [], b: [] });
    const r = await ask(rt, `nope.${ZONE}`);
    expect(r.decision).toMatchObject({ kind: 'nxdomain', partial: false });
    expect(r.sent).toBe(0);
  });
});

describe('policy first with replicas: configured order', () => {
  const data = { a: [a(`svc.${ZONE}`, '10.0.0.1')], b: [a(`svc.${ZONE}`, '10.0.0.2')] };
  it('the first replica in config order with a POSITIVE wins', async () => {
    expect(
      (await ask(await build('first', ['a', 'b'], ['a', 'b'], data), `svc.${ZONE}`)).winners,
    ).toEqual(['a']);
    expect(
      (await ask(await build('first', ['b', 'a'], ['a', 'b'], data), `svc.${ZONE}`)).winners,
    ).toEqual(['b']);
  });
});

describe('replicas and fan-out together: one merge', () => {
  it('a replica NODATA never beats a POSITIVE still on its way from the network', async () => {
    const rt = await build('first', ['a', 'c'], ['a'], {
      a: [{ ...a(`net.${ZONE}`, '1.1.1.1'), type: 'TXT', data: ['x'] } as DnsRecord],
    });
    const r = await ask(rt, `net.${ZONE}`);
    expect(r.fromReplica[0]?.class).toBe('NODATA');
    expect(r.decision.kind).toBe('positive');
    expect(r.winners).toEqual(['c']);
    expect(fakes.a.queries).toHaveLength(0);
    expect(fakes.c.queries).toHaveLength(1);
  });

  it('policy all merges the replica answer with the network answer', async () => {
    const rt = await build('all', ['a', 'c'], ['a'], { a: [a(`both.${ZONE}`, '10.0.0.1')] });
    const r = await ask(rt, `both.${ZONE}`);
    expect(r.records.map(dataOf).sort()).toEqual(['10.0.0.1', `10.9.9.${'c'.charCodeAt(0)}`]);
    expect(r.winners.sort()).toEqual(['a', 'c']);
  });

  it('priority: a better-priority network upstream is waited for over a replica POSITIVE', async () => {
    const rt = await build('priority', ['c', 'a'], ['a'], { a: [a(`net.${ZONE}`, '10.0.0.1')] });
    const r = await ask(rt, `net.${ZONE}`);
    expect(r.winners).toEqual(['c']);
  });
});

describe('a reload keeps a replica whose upstream, settings and key are unchanged', () => {
  it('same config: the same replica (its copy, no new AXFR); other settings: a new one', async () => {
    const rt = await build('first', ['a', 'b'], ['a', 'b'], { a: [], b: [] });
    const cfg = rt.config;
    const wiring = { keys: new Map(), logger: { info: () => {}, warn: () => {} } };
    const same = buildRuntime(cfg, 2, client, rt, wiring);
    expect([...same.replicas.values()]).toEqual([...rt.replicas.values()]);
    const changed = structuredClone(cfg);
    changed.zones[0].upstreams[1].transfer.maxRecords = 5;
    const next = buildRuntime(changed, 3, client, rt, wiring);
    const [a0, b0] = [...rt.replicas.values()];
    const [a1, b1] = [...next.replicas.values()];
    expect(a1).toBe(a0);
    expect(b1).not.toBe(b0);
    expect(b1.status().state).toBe('loading');
  });
});
