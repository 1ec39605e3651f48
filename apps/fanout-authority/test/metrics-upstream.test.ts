import { createRegistry, parseConfigText } from '@mdns/ops';
import { DnsClient } from '@mdns/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRuntime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { failureCounts, registerAuthorityMetrics } from '../src/metrics.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// Dashboards and alerts take rate() of upstream failures: the series must exist at 0 before
// the first failure, or the panel stays empty until something goes wrong.
describe('upstream failure series', () => {
  it('has the well-known kinds at 0, then counts, then any other kind seen', () => {
    expect(failureCounts(new Map())).toEqual([
      ['timeout', 0],
      ['network', 0],
      ['malformed', 0],
    ]);
    expect(
      failureCounts(
        new Map([
          ['aborted', 2],
          ['timeout', 3],
        ]),
      ),
    ).toEqual([
      ['timeout', 3],
      ['network', 0],
      ['malformed', 0],
      ['aborted', 2],
    ]);
  });

  it('exports them per upstream before any query', async () => {
    const r = parseConfigText(
      'zones:\n  - name: prod.test\n    upstreams: [{ name: x, address: 127.0.0.1, port: 5399 }]\n',
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    const runtime = buildRuntime(r.config, 1, client);
    const registry = createRegistry({ defaultMetrics: false });
    registerAuthorityMetrics(
      registry,
      () => runtime,
      () => null,
    );
    const text = await registry.metrics();
    expect(text).toContain(
      'mdns_authority_upstream_failures_total{zone="prod.test",upstream="x",kind="timeout"} 0',
    );
  });
});
