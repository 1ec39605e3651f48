// Pure number crunching: percentiles and dnsperf's text output. No I/O, so tested alone.

/** Nearest-rank percentile (p in 0..100) of an unsorted array; NaN when empty. */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** p50 / p90 / p99 / max in ms of latencies given in ms. */
export function latencySummary(ms) {
  return {
    count: ms.length,
    p50: percentile(ms, 50),
    p90: percentile(ms, 90),
    p99: percentile(ms, 99),
    // Not Math.max(...ms): a run at half of a fast server's max qps has ~10^5 values, past
    // what one call takes as arguments.
    max: percentile(ms, 100),
  };
}

/** The "Statistics:" block of `dnsperf` (2.x) as numbers. */
export function parseDnsperfStats(text) {
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  const rcodes = {};
  const codes = /Response codes:\s+(.*)/.exec(text);
  if (codes) {
    for (const m of codes[1].matchAll(/([A-Z]+) (\d+)/g)) rcodes[m[1]] = Number(m[2]);
  }
  return {
    sent: num(/Queries sent:\s+(\d+)/),
    completed: num(/Queries completed:\s+(\d+)/),
    lost: num(/Queries lost:\s+(\d+)/),
    qps: num(/Queries per second:\s+([\d.]+)/),
    runSeconds: num(/Run time \(s\):\s+([\d.]+)/),
    avgLatencyMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
    rcodes,
  };
}

/** Per-query latencies (ms) from `dnsperf -v` lines: `> NOERROR name TYPE 0.000186`. */
export function parseDnsperfVerbose(text) {
  const out = [];
  for (const m of text.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) out.push(Number(m[1]) * 1000);
  return out;
}

/** CPU seconds per 100k answered queries. */
export function cpuPer100k(cpuSeconds, completed) {
  return completed > 0 ? (cpuSeconds / completed) * 100_000 : Number.NaN;
}

/**
 * Upstreams whose replica answers (`mdns_authority_replica_fresh … 1`) in the authority's
 * /metrics text: the copies loaded and not expired.
 */
export function freshReplicas(metricsText) {
  const up = [];
  for (const m of metricsText.matchAll(/^mdns_authority_replica_fresh\{([^}]*)\} 1$/gm)) {
    up.push(/upstream="([^"]*)"/.exec(m[1])?.[1] ?? '');
  }
  return up;
}

/** The closing line of a `kdig axfr`: `;; Received 123 B (4 messages, 25005 records)`. */
export function parseKdigTransfer(text) {
  const m = /;; Received (\d+) B \((\d+) messages?, (\d+) records?\)/.exec(text);
  return m ? { bytes: Number(m[1]), messages: Number(m[2]), records: Number(m[3]) } : null;
}

/** The value of an unlabelled series (e.g. prom-client's `nodejs_heap_size_used_bytes`), or NaN. */
export function metricValue(metricsText, name) {
  const m = new RegExp(`^${name} ([0-9.e+-]+)$`, 'm').exec(metricsText);
  return m ? Number(m[1]) : Number.NaN;
}
