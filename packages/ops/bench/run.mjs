// Cost of the hot-path call: dnsQueryMetrics().observe on already-seen label combinations.
// Run after a build: `pnpm --filter @mdns/ops bench`.
import { createRegistry, dnsQueryMetrics } from '../dist/index.js';

const registry = createRegistry({ defaultMetrics: false });
const queries = dnsQueryMetrics(registry, 'bench_');
const zones = ['a.example', 'b.example', 'none'];
const qtypes = [1, 28, 6, 2];
const rcodes = [0, 3];
const N = 2_000_000;

function round() {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    queries.observe(zones[i % 3], qtypes[i & 3], rcodes[i & 1], 0.0003 + (i & 7) * 0.001);
  }
  return Number(process.hrtime.bigint() - t0) / N;
}

round(); // warm-up: creates the series, lets the JIT settle
const heap0 = process.memoryUsage().heapUsed;
const ns = round();
const heapGrowth = process.memoryUsage().heapUsed - heap0;
const scrape0 = process.hrtime.bigint();
const text = await registry.metrics();
const scrapeMs = Number(process.hrtime.bigint() - scrape0) / 1e6;
console.log(
  JSON.stringify({
    observeNsPerCall: Number(ns.toFixed(1)),
    heapGrowthBytesOver2MCalls: heapGrowth,
    series: text.split('\n').filter((l) => l.startsWith('bench_queries_total{')).length,
    scrapeMs: Number(scrapeMs.toFixed(2)),
  }),
);
