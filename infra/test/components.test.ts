import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// The opt-in components (monitoring, alerts, dashboard) rendered on top of each app's base,
// the way an overlay that lists them renders, with the real kubectl; every object is
// validated against the Kubernetes schemas (kubernetes-models) or, for the Prometheus
// Operator kinds, @kubernetes-models/prometheus-operator.

const k8s = join(repoRoot, 'infra', 'k8s');
const COMPONENTS = ['monitoring', 'alerts', 'dashboard'];
const APPS = ['cluster-gateway', 'fanout-authority'];
const require = createRequire(import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'mdns-components-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

/** A test-only overlay: namespace + the app's base + `components`, rendered by kubectl. */
function render(app: string, components: string[]): K8sObject[] {
  const dir = mkdtempSync(join(work, `${app}-`));
  const rel = (p: string) => relative(dir, join(k8s, p));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namespace: 'mdns-system',
      resources: [rel('base/namespace'), rel(`base/${app}`)],
      components: components.map((c) => rel(`components/${c}`)),
    }),
  );
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

async function validate(obj: K8sObject): Promise<void> {
  if (obj.apiVersion.startsWith('monitoring.coreos.com/')) {
    const models = await import('@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1');
    const Model = (models as Record<string, any>)[obj.kind];
    if (!Model) throw new Error(`no model for ${obj.apiVersion} ${obj.kind}`);
    new Model(obj).validate();
    return;
  }
  const Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
  new Model(obj).validate();
}

function matches(selector: Record<string, string>, labels: Record<string, string> = {}): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

describe('kustomize components', () => {
  for (const app of APPS) {
    describe(`on the ${app} base`, () => {
      const objects = render(app, COMPONENTS);
      const of = (kind: string) => objects.filter((o) => o.kind === kind);

      it('renders objects that pass schema validation, all in mdns-system', async () => {
        for (const obj of objects) {
          await expect(validate(obj), `${obj.kind}/${obj.metadata.name}`).resolves.toBeUndefined();
          if (!['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(obj.kind)) {
            expect(obj.metadata.namespace, `${obj.kind}/${obj.metadata.name}`).toBe('mdns-system');
          }
        }
      });

      it('monitoring: the ServiceMonitor scrapes exactly the metrics Service on 9153', () => {
        const [monitor] = of('ServiceMonitor');
        expect(monitor).toBeDefined();
        const selected = of('Service').filter((s) =>
          matches(monitor.spec.selector.matchLabels, s.metadata.labels),
        );
        const ports = monitor.spec.endpoints.map((e: any) => e.port);
        // Targets: selected Services with a port of the endpoint's name.
        const scraped = selected.filter((s) =>
          s.spec.ports.some((p: any) => ports.includes(p.name)),
        );
        expect(scraped.map((s) => s.metadata.name)).toEqual([`${app}-metrics`]);
        const port = scraped[0].spec.ports.find((p: any) => ports.includes(p.name));
        expect(port.port).toBe(9153);
        // The Service's targetPort is the container port serving /metrics.
        const container = of('Deployment')[0].spec.template.spec.containers[0];
        const target = container.ports.find((p: any) => p.name === port.targetPort);
        expect(target.containerPort).toBe(9153);
        expect(monitor.spec.endpoints[0].path).toBe('/metrics');
      });

      it('alerts: the PrometheusRule is the component file, unchanged but for the namespace', () => {
        const [rule] = of('PrometheusRule');
        const source = parseAllDocuments(
          readFileSync(join(k8s, 'components', 'alerts', 'prometheusrule.yaml'), 'utf8'),
        )[0].toJS();
        expect(rule.spec).toEqual(source.spec);
      });

      it('dashboard: a labelled ConfigMap holding the dashboard JSON file byte for byte', () => {
        const [cm] = of('ConfigMap').filter((c) => c.metadata.labels?.grafana_dashboard);
        expect(cm.metadata.labels!.grafana_dashboard).toBe('1');
        const file = readFileSync(
          join(k8s, 'components', 'dashboard', 'mdns-dashboard.json'),
          'utf8',
        );
        expect(cm.data['mdns-dashboard.json']).toBe(file);
        expect(JSON.parse(cm.data['mdns-dashboard.json']).uid).toBe('mdns');
      });

      it('leaves the base untouched: same objects without the components', () => {
        const plain = render(app, []);
        const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
        const added = objects.map(key).filter((k) => !plain.map(key).includes(k));
        expect(added.sort()).toEqual(
          ['ConfigMap/mdns-dashboard', 'PrometheusRule/mdns', 'ServiceMonitor/mdns'].sort(),
        );
        for (const o of plain) {
          expect(
            objects.find((x) => key(x) === key(o)),
            key(o),
          ).toEqual(o);
        }
      });
    });
  }

  it('schema validation is not a rubber stamp for the Prometheus Operator kinds', async () => {
    await expect(
      validate({
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'x' },
        spec: { selector: {}, endpoints: [{ port: 9153 }] },
      }),
    ).rejects.toThrow();
  });
});
