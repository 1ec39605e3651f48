import { createRegistry, parseConfigText } from '@mdns/ops';
import { DnsClient } from '@mdns/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRuntime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { registerAuthorityMetrics } from '../src/metrics.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// Found by reliability/ fuzzing: every distinct unknown qtype number used to become its own
// queries_total / query_duration_seconds series, so memory and /metrics grew with the number
// of types a client cycles through. Unknown types must share one `qtype="other"` series.
describe('query metrics cardinality', () => {
  it('keeps one series per known type and one for all unknown types', async () => {
    const r = parseConfigText(
      'zones:\n  - name: prod.test\n    upstreams: [{ name: x, address: 127.0.0.1, port: 5399 }]\n',
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    const runtime = buildRuntime(r.config, 1, client);
    const registry = createRegistry({ defaultMetrics: false });
    const metrics = registerAuthorityMetrics(
      registry,
      () => runtime,
      () => null,
    );
    for (let qtype = 0; qtype < 65536; qtype += 7) {
      metrics.queries.observe('prod.test', qtype, 3, 0.001);
    }
    metrics.queries.observe('prod.test', 1, 0, 0.001);
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('mdns_authority_queries_total{'));
    const labels = series.map((l) => l.slice(0, l.lastIndexOf(' ')));
    // No label set twice, and far fewer series than the 9363 qtype numbers observed.
    expect(new Set(labels).size).toBe(labels.length);
    expect(series.length).toBeLessThan(40);
    const other = series.find((l) => l.includes('qtype="other",rcode="NXDOMAIN"'));
    expect(other).toBeDefined();
    expect(Number(other!.slice(other!.lastIndexOf(' ') + 1))).toBeGreaterThan(9000);
  });
});
