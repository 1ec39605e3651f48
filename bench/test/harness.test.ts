// The harness's pure parts: no servers, no timing. (The benchmark itself is `pnpm bench`.)

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mixedQueries, writeManifests, zoneFile } from '../src/dataset.mjs';
import { buildQuery, parseResponse } from '../src/dns-wire.mjs';
import { halfMaxRate, latencyRate } from '../src/measure.mjs';
import {
  END,
  rcodeDrift,
  renderGenerated,
  runtimeLabel,
  START,
  spliceGenerated,
} from '../src/report.mjs';
import { settingsFor } from '../src/run.mjs';
import {
  cpuPer100k,
  freshReplicas,
  latencySummary,
  metricValue,
  parseDnsperfStats,
  parseDnsperfVerbose,
  parseKdigTransfer,
  percentile,
} from '../src/stats.mjs';

const DNSPERF_OUT = `
Statistics:

  Queries sent:         172992
  Queries completed:    172990 (100.00%)
  Queries lost:         2 (0.00%)

  Response codes:       NOERROR 86496 (50.00%), NXDOMAIN 86494 (50.00%)
  Average packet size:  request 31, response 64
  Run time (s):         2.001827
  Queries per second:   86417.058018

  Average Latency (s):  0.000786 (min 0.000014, max 0.012645)
`;

describe('dnsperf output', () => {
  it('reads the statistics block', () => {
    const s = parseDnsperfStats(DNSPERF_OUT);
    expect(s).toMatchObject({ sent: 172992, completed: 172990, lost: 2, runSeconds: 2.001827 });
    expect(s.qps).toBeCloseTo(86417.058, 2);
    expect(s.avgLatencyMs).toBeCloseTo(0.786, 6);
    expect(s.rcodes).toEqual({ NOERROR: 86496, NXDOMAIN: 86494 });
  });

  it('reads per-query latencies of -v', () => {
    const text =
      '[Status] x\n> NOERROR a.bench.test A 0.000186\n> NXDOMAIN zz.bench.test AAAA 0.0015\n';
    expect(parseDnsperfVerbose(text)).toEqual([0.186, 1.5]);
  });
});

describe('numbers', () => {
  it('nearest-rank percentiles', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile(v, 100)).toBe(100);
    expect(percentile([], 50)).toBeNaN();
  });

  it('CPU seconds per 100k queries', () => {
    expect(cpuPer100k(2, 200_000)).toBe(1);
    expect(cpuPer100k(1, 0)).toBeNaN();
  });

  it('latency rate: half the slowest server, capped, at least 100', () => {
    expect(latencyRate(10_000, [80_000, 45_000])).toBe(10_000);
    expect(latencyRate(10_000, [80_000, 2_080])).toBe(1_000);
    expect(latencyRate(10_000, [80_000, 50])).toBe(100);
  });

  it('half max rate: half of the server own throughput, at least 100', () => {
    expect(halfMaxRate(45_001)).toBe(22_500);
    expect(halfMaxRate(150)).toBe(100);
  });

  it('latency summary of more values than a call takes arguments', () => {
    const many = Array.from({ length: 300_000 }, (_, i) => i / 1000);
    expect(latencySummary(many).max).toBe(299.999);
    expect(latencySummary([]).max).toBeNaN();
  });

  it('runtime label: bun when Bun says so (it reports a node version too)', () => {
    expect(runtimeLabel({ node: '24.3.0', bun: '1.4.4' }).label).toBe('bun 1.4.4');
    expect(runtimeLabel({ node: '20.20.2' })).toEqual({
      name: 'node',
      version: 'v20.20.2',
      label: 'node v20.20.2',
    });
  });
});

describe('dataset', () => {
  it('the same names in the query file and the zone file', () => {
    const queries = mixedQueries(70);
    expect(queries).toHaveLength(70 + 20 + 10);
    expect(queries.filter((q) => q.startsWith('nx-'))).toHaveLength(10);
    const zone = zoneFile(70);
    expect(zone).toContain('app-69 A 10.0.0.69');
    expect(zone).toContain('app-68 AAAA 2001:db8::44');
    expect(zoneFile(9, (i) => i % 3 === 0).match(/^app-\d+ A /gm)).toHaveLength(3);
  });

  it('queries encode and answers decode', () => {
    const q = buildQuery(0x1234, 'app-1.bench.test', 1);
    const r = parseResponse(q);
    expect(r).toEqual({ id: 0x1234, rcode: 0, addresses: [] });
  });

  // A reply written byte by byte from RFC 1035 §4.1 (not by the harness nor by our servers):
  // the A/AAAA rdata the change -> answer measurements read, behind a compressed CNAME.
  const name = (...labels: string[]) =>
    Buffer.concat([
      ...labels.map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])),
      Buffer.from([0]),
    ]);
  const u16 = (...v: number[]) => Buffer.concat(v.map((n) => Buffer.from([n >> 8, n & 0xff])));
  const rr = (owner: Buffer, type: number, rdata: Buffer) =>
    Buffer.concat([owner, u16(type, 1), Buffer.from([0, 0, 0, 60]), u16(rdata.length), rdata]);
  const PTR_QNAME = Buffer.from([0xc0, 12]); // the question name, at offset 12

  it('reads A and AAAA answers, skipping other types and compressed names', () => {
    const reply = Buffer.concat([
      u16(0xbeef, 0x8580, 1, 4, 0, 0), // id, QR AA RD RA NOERROR, 1 question, 4 answers
      name('app-1', 'bench', 'test'),
      u16(1, 1),
      rr(PTR_QNAME, 5, name('lb', 'bench', 'test')), // CNAME: not an address
      rr(name('lb', 'bench', 'test'), 1, Buffer.from([10, 0, 0, 69])),
      rr(PTR_QNAME, 28, Buffer.from('20010db8000000000000000000000044', 'hex')),
      rr(PTR_QNAME, 1, Buffer.from([1, 2, 3, 4, 5])), // an A with a 5-byte rdata: ignored
    ]);
    expect(parseResponse(reply)).toEqual({
      id: 0xbeef,
      rcode: 0,
      addresses: ['10.0.0.69', '20010db8000000000000000000000044'],
    });
  });

  it('reads the rcode of a negative answer, and rejects a short message', () => {
    const nx = Buffer.concat([
      u16(7, 0x8583, 1, 0, 1, 0),
      name('nx-1', 'bench', 'test'),
      u16(1, 1),
    ]);
    expect(parseResponse(nx)).toEqual({ id: 7, rcode: 3, addresses: [] });
    expect(parseResponse(Buffer.alloc(11))).toBeNull();
  });
});

describe('settings', () => {
  it('defaults, quick mode and bad env values', () => {
    const full = settingsFor([], {});
    expect(full).toMatchObject({ seconds: 10, rounds: 2, workers: [1, 2], write: true });
    const quick = settingsFor(['--quick', '--only', 'gateway'], { BENCH_SECONDS: '3' });
    expect(quick).toMatchObject({ seconds: 3, only: ['gateway'], write: false });
    expect(() => settingsFor([], { BENCH_SECONDS: 'x' })).toThrow(/BENCH_SECONDS/);
    expect(() => settingsFor(['--only', 'nope'], {})).toThrow(/unknown scenario nope/);
    expect(full.clients).toBe(1);
    expect(settingsFor([], { BENCH_CLIENTS: '4' }).clients).toBe(4);
    expect(() => settingsFor([], { BENCH_CLIENTS: '0' })).toThrow(/BENCH_CLIENTS/);
  });
});

describe('report', () => {
  const machine = {
    cpuModel: 'x',
    nproc: 2,
    loadStart: '0',
    loadEnd: '0',
    kernel: 'k',
    node: 'v20',
  };
  const settings = { seconds: 1, rounds: 1, names: 10, queryLines: 14 };
  /** The generated block of a quick run with these scenarios. */
  const renderResults = (scenarios: object[], runMachine: object = machine) =>
    renderGenerated({
      mode: 'quick',
      finishedAt: 'now',
      totalSeconds: 1,
      settings,
      machine: runMachine,
      scenarios,
    });
  it('replaces only the generated block', () => {
    const doc = `# B\nintro\n${START}\nold\n${END}\nmethod\n`;
    const out = spliceGenerated(doc, `${START}\nnew\n${END}`);
    expect(out).toBe(`# B\nintro\n${START}\nnew\n${END}\nmethod\n`);
  });

  it('renders a failed scenario as not measured', () => {
    const md = renderGenerated({
      mode: 'quick',
      finishedAt: 'now',
      totalSeconds: 1,
      settings,
      machine: { ...machine, knotd: 'k', dnsdist: 'd', dnsperf: 'p' },
      scenarios: [{ id: 'gateway', error: 'cluster-gateway exited' }],
    });
    expect(md).toContain('**not measured**');
    expect(md.startsWith(START)).toBe(true);
  });

  it('renders the far-cluster rows; one SERVFAIL is not met', () => {
    const sample = (policy: string, kind: string, rcodes: Record<string, number>) => ({
      policy,
      kind,
      p50: 150,
      p90: 155,
      p99: 170,
      max: 180,
      sent: 300,
      lost: 0,
      rcodes,
    });
    const results = (servfail: number) => ({
      mode: 'quick',
      finishedAt: 'now',
      totalSeconds: 1,
      settings: { seconds: 1, rounds: 1, names: 10, queryLines: 14 },
      machine,
      scenarios: [
        {
          id: 'far',
          farRttMs: 150,
          qps: 100,
          samples: ['first', 'all'].flatMap((policy) =>
            ['near', 'far', 'absent'].map((kind) =>
              sample(
                policy,
                kind,
                kind === 'absent' && servfail ? { NXDOMAIN: 299, SERVFAIL: 1 } : { NOERROR: 300 },
              ),
            ),
          ),
        },
      ],
    });
    const clean = renderGenerated(results(0));
    expect(clean).toContain('| first | far | 300 | 150 | 155 | 170 | 180 | 0 | NOERROR 300 |');
    expect(clean).toContain('first: near 150 / 170, far 150 / 170, absent 150 / 170');
    expect(clean).toContain('| no SERVFAIL, nothing lost | **met** |');
    expect(renderGenerated(results(1))).toContain('| no SERVFAIL, nothing lost | **not met** |');
  });

  const row = (server: string, qps: number) => ({
    server,
    qps,
    completed: qps,
    lost: 0,
    rcodes: { NOERROR: qps },
    cpuPer100k: 1,
    cpuCores: 1,
    rssBytes: 0,
    hwmBytes: 0,
    latency: { p50: 1, p90: 1, p99: 1, max: 1, qps: 100 },
  });

  it('renders the runtime and, per server, p99 at half its max qps against the target', () => {
    const withHalf = (server: string, qps: number, p99: number) => ({
      ...row(server, qps),
      latencyAtHalfMax: { p50: 0.2, p90: 0.3, p99, max: 5, qps: qps / 2 },
    });
    const gateway = {
      id: 'gateway',
      peer: 'knot',
      targetRatio: 1,
      targetP99HalfMaxMs: 1,
      rows: [
        withHalf('knot', 100_000, 0.4),
        withHalf('cluster-gateway', 40_000, 1.5),
        withHalf('bun-echo (reference)', 60_000, 0.5),
      ],
    };
    const md = renderResults([gateway], { ...machine, runtime: 'bun 1.4.4' });
    expect(md).toContain('| runtime of our servers (`BENCH_NODE`) | bun 1.4.4 |');
    expect(md).toContain(
      '| cluster-gateway: p99 1.50 ms at 20,000 qps | knot: p99 0.40 ms at 50,000 qps | p99 ≤ 1 ms | **not met** |',
    );
    expect(md).not.toContain('bun-echo (reference): p99');
    expect(md).toContain('| 0.20 / 1.50 / 5.00 at 20,000 qps |');
    // Results saved before the runtime row: Node's version alone.
    expect(renderResults([])).toContain('| node v20 |');
  });

  it('judges p99 at half max from the pinned run (server on its own core) when there is one', () => {
    const withPinned = (server: string, qps: number, shared: number, own: number) => ({
      ...row(server, qps),
      latencyAtHalfMax: { p50: 0.2, p90: 0.3, p99: shared, max: 5, qps: qps / 2 },
      latencyAtHalfMaxPinned: { p50: 0.1, p90: 0.2, p99: own, max: 3, qps: qps / 2 },
    });
    const gateway = {
      id: 'gateway',
      peer: 'knot',
      targetRatio: 1,
      targetP99HalfMaxMs: 1,
      rows: [withPinned('knot', 100_000, 2, 0.3), withPinned('cluster-gateway', 40_000, 3, 0.8)],
    };
    const md = renderResults([gateway], machine);
    expect(md).toContain(
      'p99 at half its max qps, server on its own core | cluster-gateway: p99 0.80 ms at 20,000 qps (sharing cores: 3.00) | knot: p99 0.30 ms at 50,000 qps (sharing cores: 2.00) | p99 ≤ 1 ms | **met** |',
    );
    expect(md).toContain('| 0.20 / 3.00 / 5.00 at 20,000 qps; own core: 0.10 / 0.80 / 3.00 |');
  });

  it('response codes against the peer: a fast but wrong row is not met', () => {
    const codes = (server: string, rcodes: Record<string, number>) => ({
      ...row(server, 1000),
      completed: Object.values(rcodes).reduce((a, b) => a + b, 0),
      rcodes,
    });
    const peer = codes('dnsdist', { NOERROR: 900, NXDOMAIN: 100 });
    expect(rcodeDrift(codes('a', { NOERROR: 900, NXDOMAIN: 100 }), peer).points).toBe(0);
    // What the batched Bun client answered under overload: NXDOMAIN 14 % for a 10 % mix.
    const wrong = codes('fanout-authority', { NOERROR: 850, SERVFAIL: 10, NXDOMAIN: 140 });
    expect(rcodeDrift(wrong, peer)).toEqual({ code: 'NOERROR', points: 5 });
    const md = renderResults([
      {
        id: 'authority-misses',
        peer: 'dnsdist',
        targetRatio: 0.5,
        rows: [peer, wrong, codes('node-fanout (reference)', { NOERROR: 800, NXDOMAIN: 200 })],
      },
    ]);
    expect(md).toContain(
      '| fanout-authority: NOERROR 5.0 points apart | dnsdist | within 1 point | **not met** |',
    );
    expect(md).not.toContain('node-fanout (reference): NXDOMAIN');
  });

  it('renders each named comparison of a throughput scenario as a ratio of its own rows', () => {
    const md = renderGenerated({
      mode: 'quick',
      finishedAt: 'now',
      totalSeconds: 1,
      settings,
      machine,
      scenarios: [
        {
          id: 'authority-replicated',
          peer: 'dnsdist-cache',
          targetRatio: 0.5,
          rows: [row('dnsdist-cache', 100), row('hits', 40), row('replicated', 60)],
          comparisons: [
            { server: 'replicated', peer: 'dnsdist-cache', targetRatio: 0.5 },
            { server: 'replicated', peer: 'hits', targetRatio: 1.0 },
          ],
        },
      ],
    });
    expect(md).toContain(
      '| replicated: 60 qps | dnsdist-cache: 100 qps | ratio 0.60 (≥ 0.5) | **met** |',
    );
    expect(md).toContain('| replicated: 60 qps | hits: 40 qps | ratio 1.50 (≥ 1.0) | **met** |');
    // Not the default "every row against the peer" summary.
    expect(md).not.toContain('| hits: 40 qps | dnsdist-cache: 100 qps |');
  });

  it('renders the replication rows; a late change or a big RSS is not met', () => {
    const scenario = (p99: number, rssMb: number) => ({
      id: 'replication',
      gateways: 3,
      namesPerGateway: 20_000,
      axfr: [
        {
          server: 'cluster-gateway-0',
          records: 25005,
          messages: 60,
          bytes: 9e5,
          p50: 400,
          max: 900,
          cpuMs: 120,
          samples: 3,
        },
        {
          server: 'knot (same zone)',
          records: 25004,
          messages: 20,
          bytes: 8e5,
          p50: 200,
          max: 250,
          samples: 3,
        },
      ],
      loadedMs: 2000,
      rssBytes: rssMb * 2 ** 20,
      rssEndBytes: rssMb * 2 ** 20,
      hwmBytes: rssMb * 2 ** 20,
      change: {
        debounceMs: 100,
        p50: 120,
        p90: 130,
        p99,
        max: p99,
        timedOut: 0,
        samples: 5,
        count: 5,
        cpuMsGateway: 210,
        cpuMsAuthority: 180,
      },
      pollMs: 5,
      targets: { axfrMs: 1000, rssMb: 200, changeP99Ms: 300 },
    });
    const render = (s: object) => renderResults([s]);
    const good = render(scenario(150, 150));
    expect(good).toContain(
      'cluster-gateway-0: p50 400 ms, max 900 ms | knot (same zone): p50 200 ms (ratio 2.0×) | ≤ 1000 ms | **met** |',
    );
    expect(good).toContain('| RSS ≤ 200 MB | **met** |');
    expect(good).toContain('| p99 ≤ 300 ms | **met** |');
    expect(good).toContain('| cluster-gateway-0 | 3 | 25,005 | 60 | 900,000 | 400 | 900 | 120 |');
    expect(good).toContain('| 100 | 5 | 120 | 130 | 150 | 150 | 0 | 210 / 180 |');
    const bad = render(scenario(301, 201));
    expect(bad).toContain('| RSS ≤ 200 MB | **not met** |');
    expect(bad).toContain('| p99 ≤ 300 ms | **not met** |');
  });
});

describe('replication helpers', () => {
  it('counts the fresh replicas in /metrics', () => {
    const text = [
      '# HELP mdns_authority_replica_fresh 1 while the copy answers',
      'mdns_authority_replica_fresh{zone="bench.test",upstream="gw0"} 1',
      'mdns_authority_replica_fresh{zone="bench.test",upstream="gw1"} 0',
      'mdns_authority_replica_fresh{zone="bench.test",upstream="gw2"} 1',
      'mdns_authority_replica_records{zone="bench.test",upstream="gw1"} 1',
    ].join('\n');
    expect(freshReplicas(text)).toEqual(['gw0', 'gw2']);
    expect(freshReplicas('')).toEqual([]);
  });

  it('reads an unlabelled series of /metrics', () => {
    const text =
      '# TYPE nodejs_heap_size_used_bytes gauge\nnodejs_heap_size_used_bytes 52428800\nx{a="1"} 2\n';
    expect(metricValue(text, 'nodejs_heap_size_used_bytes')).toBe(52428800);
    expect(metricValue(text, 'nodejs_heap_size_total_bytes')).toBeNaN();
  });

  it("reads kdig's transfer summary", () => {
    const out =
      ';; XFR for bench.test.\n;; Received 912345 B (60 messages, 25005 records)\n;; Time 2026-12-02\n';
    expect(parseKdigTransfer(out)).toEqual({ bytes: 912345, messages: 60, records: 25005 });
    expect(parseKdigTransfer(';; ERROR: failed to query server')).toBeNull();
  });

  it("writes one gateway's share of the manifests", () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-manifests-'));
    try {
      writeManifests(dir, 2500, (i) => i % 3 === 1);
      const files = readdirSync(dir).sort();
      expect(files).toHaveLength(3);
      const items = files.flatMap((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')).items);
      expect(items).toHaveLength(833);
      expect(
        items.every(
          (o: { metadata: { name: string } }) => Number(o.metadata.name.slice(4)) % 3 === 1,
        ),
      ).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
