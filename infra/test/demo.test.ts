import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// The README's first command ends in `node infra/demo/run.mjs`; `--check` starts the
// same topology, verifies the example answers it prints and stops everything.
describe('local demo', () => {
  it('starts, answers the example dig lines, and stops cleanly', () => {
    const out = execFileSync(
      process.execPath,
      [join(repoRoot, 'infra', 'demo', 'run.mjs'), '--check'],
      {
        encoding: 'utf8',
        env: { ...process.env, DEMO_PORT_BASE: '26500' },
        timeout: 90_000,
      },
    );
    expect(out).toContain('demo check passed');
    expect(out).toMatch(/shop\.prod\.example\.test.*\n\s+-> NOERROR 192\.0\.2\.10/);
    expect(out).toMatch(/grafana\.prod\.example\.test.*\n\s+-> NOERROR 198\.51\.100\.40/);
    expect(out).toMatch(/nope\.prod\.example\.test.*\n\s+-> NXDOMAIN/);
    expect(out).toContain('/metrics');
    // Replicated: both copies loaded, and no signed NOTIFY refused (both gateways sit behind
    // 127.0.0.1, so each NOTIFY is checked for both upstreams: the second check once failed).
    expect(out).toContain('cluster-x loaded, cluster-y loaded');
    expect(out).not.toMatch(/NOTIFY for \S+ refused/);
  });
});
