import { createRegistry, newTransferCounters } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { GatewayIndex } from '../src/index/gateway-index.js';
import { registerGatewayMetrics } from '../src/metrics.js';
import { newRejectionCounts } from '../src/sources/claims/context.js';
import { HealthTally } from '../src/sources/health/tally.js';

// Found by reliability/ fuzzing: every distinct unknown qtype number used to become its own
// queries_total / query_duration_seconds series, so RSS (~110 MB per million fuzz packets)
// and /metrics grew with the types a client cycles through. Unknown types share `other`.
describe('query metrics cardinality', () => {
  it('keeps one series per known type and one for all unknown types', async () => {
    const registry = createRegistry({ defaultMetrics: false });
    const queries = registerGatewayMetrics({
      registry,
      kinds: ['Ingress'],
      index: new GatewayIndex(),
      transport: () => ({}),
      handler: { malformed: 0, storedHits: 0, storedMisses: 0 },
      notify: { sent: 0, acknowledged: 0, rejected: 0, failed: 0, resolveFailed: 0 },
      transfer: newTransferCounters(),
      ready: () => true,
      sources: { rejected: newRejectionCounts(), health: new HealthTally() },
    });
    for (let qtype = 0; qtype < 65536; qtype += 7) queries.observe('zone.test', qtype, 3, 0.001);
    queries.observe('zone.test', 1, 0, 0.001);
    const text = await registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('mdns_gateway_queries_total{'));
    const labels = series.map((l) => l.slice(0, l.lastIndexOf(' ')));
    expect(new Set(labels).size).toBe(labels.length);
    expect(series.length).toBeLessThan(40);
    const other = series.find((l) => l.includes('qtype="other",rcode="NXDOMAIN"'));
    expect(Number(other?.slice(other.lastIndexOf(' ') + 1))).toBeGreaterThan(9000);
  });
});
