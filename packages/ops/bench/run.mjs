// Cost of the hot-path call: dnsQueryMetrics().observe on already-seen label combinations,
// without and with the CoreDNS-compatible series (metrics.corednsCompatible: one more
// counter per call, and CoreDNS's series summed at scrape time).
// Run after a build: `pnpm --filter @mdns/ops bench`.
import { createRegistry, dnsQueryMetrics } from '../dist/index.js';

const zones = ['a.example', 'b.example', 'none'];
const qtypes = [1, 28, 6, 2];
const rcodes = [0, 3];
const vias = [
  { transport: 'udp', address: '192.0.2.1' },
  { transport: 'udp', address: '2001:db8::1' },
  { transport: 'tcp', address: '::ffff:192.0.2.1' },
  { transport: 'udp', address: '192.0.2.2' },
];
const N = 2_000_000;

async function measure(options) {
  const registry = createRegistry({ defaultMetrics: false });
  const queries = dnsQueryMetrics(registry, 'bench_', options);
  const round = () => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      queries.observe(
        zones[i % 3],
        qtypes[i & 3],
        rcodes[i & 1],
        0.0003 + (i & 7) * 0.001,
        vias[(i >> 2) & 3],
      );
    }
    return Number(process.hrtime.bigint() - t0) / N;
  };
  round(); // warm-up: creates the series, lets the JIT settle
  const heap0 = process.memoryUsage().heapUsed;
  const ns = Math.min(round(), round(), round());
  const heapGrowth = process.memoryUsage().heapUsed - heap0;
  const scrape0 = process.hrtime.bigint();
  const text = await registry.metrics();
  const scrapeMs = Number(process.hrtime.bigint() - scrape0) / 1e6;
  return {
    observeNsPerCall: Number(ns.toFixed(1)),
    heapGrowthBytesOver6MCalls: heapGrowth,
    series: text.split('\n').filter((l) => /^(bench_|coredns_)\w+\{/.test(l)).length,
    scrapeMs: Number(scrapeMs.toFixed(2)),
  };
}

console.log(
  JSON.stringify({
    plain: await measure({}),
    corednsCompatible: await measure({ coredns: { server: 'dns://:53' } }),
  }),
);
