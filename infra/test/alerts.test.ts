import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// The alerts component's PrometheusRule is the one file of rules: promtool checks it and
// runs the unit tests in alerts/rules.test.yaml against its `spec` (the shape a Prometheus
// rule file has). promtool compares annotations too, so the copy it tests has them removed;
// `promtool check rules` still parses the full file, annotation templates included.

const ruleFile = join(repoRoot, 'infra', 'k8s', 'components', 'alerts', 'prometheusrule.yaml');
const unitTests = join(repoRoot, 'infra', 'test', 'alerts', 'rules.test.yaml');
const operationsDoc = join(repoRoot, 'docs', 'operations.md');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleSpec {
  groups: { name: string; rules: Rule[] }[];
}

const work = mkdtempSync(join(tmpdir(), 'mdns-alerts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function loadRule(): { spec: RuleSpec; [k: string]: unknown } {
  return parse(readFileSync(ruleFile, 'utf8'));
}

const withoutAnnotations = (spec: RuleSpec): RuleSpec => ({
  groups: spec.groups.map((g) => ({
    ...g,
    rules: g.rules.map(({ annotations: _, ...r }) => r),
  })),
});

/** Runs promtool's unit tests against `spec`; returns promtool's output and whether it passed. */
function promtoolTest(spec: RuleSpec, dir: string): { ok: boolean; output: string } {
  writeFileSync(join(dir, 'rules.yaml'), stringify(withoutAnnotations(spec)));
  writeFileSync(join(dir, 'rules.test.yaml'), readFileSync(unitTests));
  try {
    const out = execFileSync('promtool', ['test', 'rules', 'rules.test.yaml'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return { ok: true, output: out };
  } catch (e: any) {
    return { ok: false, output: `${e.stdout}${e.stderr}` };
  }
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to dashes. */
function anchors(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{1,6}\s+(.*)$/.exec(line);
    if (!m) continue;
    out.add(
      m[1]
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    );
  }
  return out;
}

const rule = loadRule();
const alerts = rule.spec.groups.flatMap((g) => g.rules);
const tests = parse(readFileSync(unitTests, 'utf8')).tests as {
  alert_rule_test: { alertname: string; exp_alerts: unknown[] }[];
}[];

describe('alerts component (PrometheusRule)', () => {
  it('is a valid PrometheusRule (Prometheus Operator schema)', async () => {
    const { PrometheusRule } = await import(
      '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
    );
    expect(() => new PrometheusRule(rule as any).validate()).not.toThrow();
  });

  it('passes promtool check rules, annotation templates included', () => {
    const dir = mkdtempSync(join(work, 'check-'));
    writeFileSync(join(dir, 'rules.yaml'), stringify(rule.spec));
    const out = execFileSync('promtool', ['check', 'rules', 'rules.yaml'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(out).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it('passes every promtool unit test', () => {
    const r = promtoolTest(rule.spec, mkdtempSync(join(work, 'test-')));
    expect(r.output).toContain('SUCCESS');
    expect(r.ok, r.output).toBe(true);
  });

  it('tests each alert firing on one series and silent on another', () => {
    for (const a of alerts) {
      const cases = tests.flatMap((t) => t.alert_rule_test).filter((c) => c.alertname === a.alert);
      expect(
        cases.some((c) => c.exp_alerts.length > 0),
        `${a.alert} has no firing case`,
      ).toBe(true);
      expect(
        cases.some((c) => c.exp_alerts.length === 0),
        `${a.alert} has no silent case`,
      ).toBe(true);
    }
  });

  it('gives each alert a severity and a runbook section in docs/operations.md', () => {
    const sections = anchors(readFileSync(operationsDoc, 'utf8'));
    for (const a of alerts) {
      expect(['critical', 'warning', 'info'], a.alert).toContain(a.labels?.severity);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      const url = a.annotations?.runbook_url ?? '';
      expect(url, a.alert).toMatch(/\/docs\/operations\.md#/);
      const anchor = url.slice(url.indexOf('#') + 1);
      expect(sections.has(anchor), `${a.alert}: no "${anchor}" heading in docs/operations.md`).toBe(
        true,
      );
    }
  });

  it('covers what the issue asks for', () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        'MdnsGatewayNotReady',
        'MdnsGatewayKindNotSynced',
        'MdnsGatewayWatchSilent',
        'MdnsGatewayRelistLoop',
        'MdnsGatewayKindSkipped',
        'MdnsGatewayNotifyFailing',
        'MdnsGatewayServfailRatioHigh',
        'MdnsGatewayLatencyHigh',
        'MdnsAuthorityUpstreamCircuitOpen',
        'MdnsAuthorityZoneUpstreamsAllUnhealthy',
        'MdnsAuthorityServingStale',
        'MdnsAuthorityServfailRatioHigh',
        'MdnsAuthorityLatencyHigh',
        'MdnsAuthorityNotifyRefused',
        'MdnsWorkerRestarted',
      ].sort(),
    );
  });
});

describe('the rule tests are not a rubber stamp', () => {
  // Each mutation breaks one rule the way a careless edit would; promtool must notice.
  const mutations: [string, (r: Rule) => void][] = [
    [
      'SERVFAIL threshold raised past the test data',
      (r) => {
        if (r.alert === 'MdnsAuthorityServfailRatioHigh') r.expr = r.expr.replace('0.01', '0.5');
      },
    ],
    [
      'silent-watch rule no longer limited to synced kinds',
      (r) => {
        if (r.alert === 'MdnsGatewayWatchSilent')
          r.expr = 'mdns_gateway_seconds_since_last_event > 600';
      },
    ],
    [
      'all-upstreams rule that fires on one open circuit',
      (r) => {
        if (r.alert === 'MdnsAuthorityZoneUpstreamsAllUnhealthy')
          r.expr = r.expr.replace('max', 'min');
      },
    ],
    [
      'not-ready rule without its grace period',
      (r) => {
        if (r.alert === 'MdnsGatewayNotReady') r.for = '0m';
      },
    ],
  ];
  for (const [name, mutate] of mutations) {
    it(`fails when: ${name}`, () => {
      const spec = structuredClone(rule.spec);
      for (const g of spec.groups) for (const r of g.rules) mutate(r);
      const r = promtoolTest(spec, mkdtempSync(join(work, 'mut-')));
      expect(r.ok, r.output).toBe(false);
    });
  }
});
