import { createRegistry, parseConfigText } from '@mdns/ops';
import { type DnsRecord, decode, encode, heldMarker } from '@mdns/protocol';
import { DnsClient, LaterReply, type TransferRequest, type TransferResult } from '@mdns/transport';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SingleFlight } from '../src/cache/index.js';
import { buildRuntime, type Runtime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { createHandler } from '../src/dns/handler.js';
import type { FanoutResult } from '../src/fanout/fanout.js';
import { registerAuthorityMetrics } from '../src/metrics.js';
import { ReplicaAnswers } from '../src/replica/stored-answers.js';
import { a, primarySoa } from './support/fake-upstream.js';

// Issue 12: a zone whose every upstream is replicated is answered from stored merged answers
// patched per query. They must be the very bytes the long way (fan-out over the copies,
// buildResponse) sends, for every shape of answer, and a copy swap must drop them.

const client = new DnsClient({ sockets: 1 });
afterAll(() => client.close());

const ZONE = 'prod.test';
const udp = { address: '127.0.0.1', port: 1, transport: 'udp' as const };
const tcp = { ...udp, transport: 'tcp' as const };

const soa = (serial: number) => primarySoa(ZONE, serial);
const rr = (name: string, type: string, data: unknown, ttl = 120) =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;

/** Each upstream's zone by port; `serial` and the data may change between pulls. */
const served = new Map<number, { serial: number; records: DnsRecord[] }>();
async function pull(r: TransferRequest): Promise<TransferResult> {
  const z = served.get(r.port) ?? { serial: 1, records: [] };
  return {
    ok: true,
    kind: 'axfr',
    soa: soa(z.serial),
    serial: z.serial,
    records: z.records,
    messages: 1,
    bytes: 1,
  };
}

let runtime: Runtime | null = null;
afterEach(() => {
  for (const r of runtime?.replicas.values() ?? []) r.stop();
  runtime = null;
  served.clear();
});

/** Upstreams b1, b2 (ports 1001, 1002: never asked, every one is replicated). */
async function build(
  policy: 'first' | 'all' | 'priority',
  data: DnsRecord[][],
  replicated = data.map((_, i) => `b${i + 1}`),
): Promise<Runtime> {
  const lines = ['zones:', `  - name: ${ZONE}`, `    policy: ${policy}`, '    upstreams:'];
  data.forEach((records, i) => {
    served.set(1001 + i, { serial: 1, records });
    const name = `b${i + 1}`;
    const transfer = replicated.includes(name) ? ', transfer: { enabled: true }' : '';
    lines.push(
      `      - { name: ${name}, address: 127.0.0.1, port: ${1001 + i}, priority: ${i}${transfer} }`,
    );
  });
  const r = parseConfigText(`${lines.join('\n')}\n`, authorityConfigSchema);
  if (!r.ok) throw new Error(r.errors.join('; '));
  const rt = buildRuntime(r.config, 1, client, undefined, {
    keys: new Map(),
    logger: { info: () => {}, warn: () => {} },
    pull,
  });
  for (const replica of rt.replicas.values()) await replica.check();
  runtime = rt;
  return rt;
}

function handlers(rt: Runtime) {
  const make = (stored: boolean) => {
    const metrics = registerAuthorityMetrics(
      createRegistry({ defaultMetrics: false }),
      () => rt,
      () => null,
    );
    const handler = createHandler({
      runtime: () => rt,
      cache: () => null,
      flights: new SingleFlight<FanoutResult>(),
      metrics,
      logger: { warn() {}, debug() {} },
      storedReplicaAnswers: stored,
    });
    return { handler, metrics };
  };
  return { fast: make(true), long: make(false) };
}

interface Ask {
  name: string;
  type: string;
  id: number;
  /** undefined: no EDNS; else the OPT's UDP size. */
  edns?: number;
  dnssecOk?: boolean;
}
function query({ name, type, id, edns, dnssecOk }: Ask): Uint8Array {
  const additionals =
    edns === undefined
      ? []
      : [{ type: 'OPT', name: '.', udpPayloadSize: edns, flags: dnssecOk ? 0x8000 : 0 }];
  return encode({
    id,
    type: 'query',
    flags: 0x0100,
    questions: [{ name, type, class: 'IN' }],
    additionals,
  } as never);
}

const many = Array.from({ length: 30 }, (_, i) =>
  rr(`big.${ZONE}`, 'TXT', [`a fairly long text record, number ${i}, to fill a reply`]),
);
const DATA: DnsRecord[][] = [
  [
    a(`svc.${ZONE}`, '10.0.0.1', 300),
    rr(`txt.${ZONE}`, 'TXT', ['only text here']),
    rr(`alias.${ZONE}`, 'CNAME', `svc.${ZONE}`),
    heldMarker(`held.${ZONE}`),
    ...many,
  ],
  [
    a(`svc.${ZONE}`, '10.0.0.2', 60),
    a(`alias.${ZONE}`, '10.0.0.9'),
    a(`*.wild.${ZONE}`, '10.1.1.1'),
    a(`only2.${ZONE}`, '10.2.2.2'),
  ],
];

const CASES: Array<[string, Omit<Ask, 'id'>, typeof udp | typeof tcp]> = [
  ['positive', { name: `svc.${ZONE}`, type: 'A' }, udp],
  ['positive from the second copy', { name: `only2.${ZONE}`, type: 'A' }, udp],
  ['NODATA (other type at the name)', { name: `txt.${ZONE}`, type: 'A' }, udp],
  ['NXDOMAIN (in no copy)', { name: `nope.${ZONE}`, type: 'A' }, udp],
  ['CNAME in one copy, address in the other', { name: `alias.${ZONE}`, type: 'A' }, udp],
  ['wildcard', { name: `x.wild.${ZONE}`, type: 'A' }, udp],
  ['held name', { name: `held.${ZONE}`, type: 'A' }, udp],
  ['0x20 case in the question', { name: `SvC.PrOd.TeSt`, type: 'A' }, udp],
  ['0x20 case, NXDOMAIN', { name: `NoPe.pROD.test`, type: 'A' }, udp],
  ['EDNS', { name: `svc.${ZONE}`, type: 'A', edns: 1232 }, udp],
  ['EDNS with DO', { name: `svc.${ZONE}`, type: 'A', edns: 1232, dnssecOk: true }, udp],
  ['EDNS NXDOMAIN', { name: `nope.${ZONE}`, type: 'AAAA', edns: 4096 }, udp],
  ['TC over UDP without EDNS', { name: `big.${ZONE}`, type: 'TXT' }, udp],
  ['TC over UDP at the EDNS size', { name: `big.${ZONE}`, type: 'TXT', edns: 1232 }, udp],
  ['the same over TCP: whole', { name: `big.${ZONE}`, type: 'TXT' }, tcp],
];

describe.each(['first', 'all', 'priority'] as const)(
  'policy %s: stored bytes = the long way',
  (policy) => {
    it.each(CASES)('%s', async (_label, ask, peer) => {
      const rt = await build(policy, DATA);
      const { fast, long } = handlers(rt);
      // Another question first (so the store holds something else too), then this one
      // twice: the first makes the stored answer, the second is served from it with a new ID
      // and another case (0x20) than the one it was made from.
      fast.handler(query({ name: `svc.${ZONE}`, type: 'AAAA', id: 9 }), udp);
      const first = { ...ask, id: 0x1234 };
      const again = { ...ask, name: ask.name.toUpperCase(), id: 0xbeef };
      for (const q of [first, again]) {
        const bytes = query(q);
        const fromStore = fast.handler(bytes, peer);
        // Synchronous: no promise on the replicated path.
        expect(fromStore).toBeInstanceOf(Uint8Array);
        const longWay = await long.handler(bytes, peer);
        expect(Buffer.from(fromStore as Uint8Array).toString('hex')).toBe(
          Buffer.from(longWay as Uint8Array).toString('hex'),
        );
        // The case is the one its label names (a table that tests nothing fails here).
        const out = fromStore as Uint8Array;
        expect(out[3] & 0x0f).toBe(_label.includes('NXDOMAIN') ? 3 : 0);
        expect(out[2] & 0x02).toBe(_label.startsWith('TC') ? 0x02 : 0);
        expect(out[11] & 1).toBe(ask.edns === undefined ? 0 : 1);
      }
      expect(fast.metrics.answers.replica).toBe(3);
      expect(fast.metrics.answers.fanout).toBe(0);
    });
  },
);

describe('a copy swap drops the stored answers', () => {
  it('the next query after a new serial is answered from the new copy', async () => {
    const rt = await build('first', [
      [a(`svc.${ZONE}`, '10.0.0.1')],
      [a(`svc.${ZONE}`, '10.0.0.2')],
    ]);
    const { fast } = handlers(rt);
    const addresses = () => {
      const out = fast.handler(query({ name: `svc.${ZONE}`, type: 'A', id: 1 }), udp);
      const d = decode(out as Uint8Array);
      if (!d.ok) throw new Error('undecodable');
      return d.message.answers?.map((r) => (r as { data: string }).data);
    };
    expect(addresses()).toEqual(['10.0.0.1']);
    expect(addresses()).toEqual(['10.0.0.1']);
    // b1 drops the name: under `first` b2 answers now.
    served.set(1001, { serial: 2, records: [] });
    await [...rt.replicas.values()].find((r) => r.upstream.name === 'b1')?.check();
    expect(addresses()).toEqual(['10.0.0.2']);
    // b2 changes its address: swapped in, served at once.
    served.set(1002, { serial: 2, records: [a(`svc.${ZONE}`, '10.0.0.3')] });
    await [...rt.replicas.values()].find((r) => r.upstream.name === 'b2')?.check();
    expect(addresses()).toEqual(['10.0.0.3']);
  });

  it('a zone with one upstream asked per query keeps the long way (a reply given later)', async () => {
    // b2 without transfer: asked per query (b1's POSITIVE decides under `first`: nothing sent).
    const rt = await build('first', [[a(`svc.${ZONE}`, '10.0.0.1')], []], ['b1']);
    const { fast } = handlers(rt);
    const out = fast.handler(query({ name: `svc.${ZONE}`, type: 'A', id: 1 }), udp);
    expect(out).toBeInstanceOf(LaterReply);
    await out;
    expect(fast.metrics.answers.replica).toBe(1);
  });
});

describe('the store is bounded', () => {
  it('past its limit the store of a zone starts again empty', async () => {
    const rt = await build('first', [[a(`svc.${ZONE}`, '10.0.0.1')]]);
    const zone = rt.zones.get(ZONE);
    if (zone === undefined) throw new Error('no zone');
    const answers = new ReplicaAnswers(2);
    const store = answers.of(zone, Date.now());
    if (store === null) throw new Error('a wholly replicated zone has a store');
    const entry = { stored: {} as never, kind: 'positive' as const, consulted: [] };
    store.set('k1', entry);
    store.set('k2', entry);
    expect(store.size).toBe(2);
    store.set('k3', entry);
    expect(store.size).toBe(1);
    expect(store.get('k1')).toBeUndefined();
    expect(store.get('k3')).toBe(entry);
    // The same copies: still the same generation, answers kept.
    expect(answers.of(zone, Date.now())?.generation).toBe(1);
    expect(store.get('k3')).toBe(entry);
  });
});
