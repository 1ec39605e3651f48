import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { freePortBase, repoRoot, startTopology, ZONE } from '../demo/topology.mjs';

// Every expression of the Grafana dashboard, run through a real Prometheus server that
// scrapes the running demo topology (one authority with two workers, two gateways). An
// expression that does not parse, or that returns nothing although the demo exercised
// what it shows, fails here. Grafana is not available on this machine: the panels'
// rendering is not checked, only their queries.

const dashboardFile = join(
  repoRoot,
  'infra',
  'k8s',
  'components',
  'dashboard',
  'mdns-dashboard.json',
);
const NAMESPACE = 'mdns-demo';
/** What Grafana would put in for the template variables in this test. */
const VARIABLES: Record<string, string> = {
  namespace: NAMESPACE,
  zone: ZONE,
  // Grafana: max(4 x scrape interval, step); with 1 s scrapes a 10 s window holds ~10 samples.
  __rate_interval: '10s',
};

interface Target {
  expr: string;
  refId: string;
}
interface Panel {
  title: string;
  type: string;
  targets?: Target[];
  panels?: Panel[];
}

/** Every (panel, target) of the dashboard, rows' nested panels included. */
function dashboardQueries(dashboard: { panels: Panel[] }): { panel: string; expr: string }[] {
  const out: { panel: string; expr: string }[] = [];
  const walk = (panels: Panel[]) => {
    for (const p of panels) {
      for (const t of p.targets ?? []) out.push({ panel: p.title, expr: t.expr });
      if (p.panels) walk(p.panels);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** `$var`, `${var}` and `[[var]]` replaced; an unknown variable throws, naming it. */
function substitute(expr: string, variables: Record<string, string>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (_, a, b, c) => {
    const name = a ?? b ?? c;
    if (!(name in variables)) throw new Error(`unknown dashboard variable $${name} in: ${expr}`);
    return variables[name];
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('dashboard queries against a real Prometheus scraping the demo', () => {
  const dashboard = JSON.parse(readFileSync(dashboardFile, 'utf8'));
  const work = mkdtempSync(join(tmpdir(), 'mdns-dashboard-'));
  let topology: { ports: Record<string, { dns: number; ops: number }>; stop(): Promise<void> };
  let prometheus: ChildProcess;
  let promUrl = '';
  let promLog = '';

  async function query(expr: string): Promise<{ status: string; error?: string; data?: any }> {
    const r = await fetch(`${promUrl}/api/v1/query`, {
      method: 'POST',
      body: new URLSearchParams({ query: expr }),
    });
    return (await r.json()) as { status: string; error?: string; data?: any };
  }

  beforeAll(async () => {
    topology = await startTopology({ portBase: await freePortBase(), authorityWorkers: 2 });
    const { ports } = topology;
    const target = (name: string) => ({
      targets: [`127.0.0.1:${ports[name].ops}`],
      labels: { namespace: NAMESPACE, pod: name },
    });
    // The job names a ServiceMonitor gives (the Service names), so the dashboard's
    // job matchers are exercised as in a cluster.
    const config = {
      global: { scrape_interval: '1s', evaluation_interval: '1s' },
      scrape_configs: [
        { job_name: 'fanout-authority-metrics', static_configs: [target('authority')] },
        {
          job_name: 'cluster-gateway-metrics',
          static_configs: [target('cluster-x'), target('cluster-y')],
        },
      ],
    };
    writeFileSync(join(work, 'prometheus.yml'), JSON.stringify(config));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(work, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stderr?.on('data', (d) => {
      promLog += d;
    });

    // Queries the panels show: several names and types, repeats (cache hits), NXDOMAIN.
    const dns = String(ports.authority.dns);
    for (let round = 0; round < 3; round++) {
      for (const [name, type] of [
        [`shop.${ZONE}`, 'A'],
        [`grafana.${ZONE}`, 'A'],
        [`api.${ZONE}`, 'AAAA'],
        [`nope.${ZONE}`, 'A'],
        [ZONE, 'SOA'],
      ]) {
        execFileSync('dig', ['@127.0.0.1', '-p', dns, name, type, '+tries=1', '+time=2']);
      }
    }
    // Up, and at least a rate window of scrapes after the queries.
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await query(
          `count_over_time(mdns_authority_cache_hits_total{namespace="${NAMESPACE}"}[10s]) >= 5`,
        );
        if (r.status === 'success' && r.data.result.length > 0) break;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`Prometheus never scraped the demo:\n${promLog}`);
      await sleep(500);
    }
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill('SIGTERM');
    await topology?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('has queries for every panel that is not a row', () => {
    const walk = (ps: Panel[]): Panel[] => ps.flatMap((p) => [p, ...walk(p.panels ?? [])]);
    for (const p of walk(dashboard.panels)) {
      if (p.type !== 'row') expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
  });

  it('runs every expression: each parses and returns series', async () => {
    const queries = dashboardQueries(dashboard);
    expect(queries.length).toBeGreaterThan(30);
    const failures: string[] = [];
    for (const { panel, expr } of queries) {
      const r = await query(substitute(expr, VARIABLES));
      if (r.status !== 'success') failures.push(`${panel}: ${expr}\n  error: ${r.error}`);
      else if (r.data.result.length === 0) failures.push(`${panel}: ${expr}\n  empty result`);
    }
    expect(failures, failures.join('\n')).toEqual([]);
  });

  it('fills its template variables from the demo', async () => {
    for (const v of dashboard.templating.list.filter((t: any) => t.type === 'query')) {
      const m = /^label_values\((.*), (\w+)\)$/.exec(v.query.query);
      expect(m, v.name).not.toBeNull();
      const url = new URL(`${promUrl}/api/v1/label/${m![2]}/values`);
      url.searchParams.set('match[]', substitute(m![1], VARIABLES));
      const values = ((await (await fetch(url)).json()) as { data: string[] }).data;
      expect(values, v.name).toContain(VARIABLES[v.name]);
    }
  });

  it('is not a rubber stamp: a typo and a missing series both fail', async () => {
    expect((await query('sum by (rcode) (rate(mdns_authority_queries_total[10s])')).status).toBe(
      'error',
    );
    const r = await query('mdns_authority_queries_totl');
    expect(r.status).toBe('success');
    expect(r.data.result).toEqual([]);
  });
});
