// Prints the lines of an MDNS_UDP_TRACE file (the Bun UDP backend's per-reply latency trace,
// packages/transport/src/server/udp-trace.ts) as a table: one row per burst of traffic,
// e.g. per dnsperf run of a bench scenario.
//   node bench/src/trace-summary.mjs FILE
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/src/trace-summary.mjs FILE');
const ms = (x) => (x < 0.1 ? x.toFixed(3) : x.toFixed(2));
const p = (d) => `${ms(d.p50)} / ${ms(d.p99)} / ${ms(d.max)}`;
console.log(
  '| s | replies | qps | batch p50/p99 | handler ms p50/p99/max | queued ms p50/p90/p99/max | sendMany ms p50/p99/max | stalls > 1 ms: n, total ms, p50/p99/max |',
);
console.log('| ---: | ---: | ---: | --- | --- | --- | --- | --- |');
for (const line of readFileSync(file, 'utf8').trim().split('\n')) {
  const s = JSON.parse(line);
  const q = s.queuedMs;
  console.log(
    `| ${s.seconds.toFixed(1)} | ${s.replies} | ${s.seconds > 0 ? Math.round(s.replies / s.seconds) : '-'} | ${s.batch.p50}/${s.batch.p99} | ${p(s.handlerMs)} | ${ms(q.p50)} / ${ms(q.p90)} / ${ms(q.p99)} / ${ms(q.max)} | ${s.sendManyMs ? p(s.sendManyMs) : '-'} | ${s.stalls.count}, ${Math.round(s.stalls.totalMs)}, ${p(s.stalls.ms)} |`,
  );
}
