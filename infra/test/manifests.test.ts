import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';

// Renders every kustomize overlay offline with the real kubectl and validates each
// rendered object against the Kubernetes OpenAPI types (kubernetes-models), so a
// typo in a manifest fails here and not at `kubectl apply` time.

const here = dirname(fileURLToPath(import.meta.url));
const overlaysDir = join(here, '..', 'k8s', 'overlays');
const require = createRequire(import.meta.url);

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: any;
};

function render(overlay: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', join(overlaysDir, overlay)], {
    encoding: 'utf8',
  });
  return parseAllDocuments(out).map((d) => d.toJS() as K8sObject);
}

function modelFor(obj: K8sObject): { validate(): void } {
  // apiVersion "v1" lives at kubernetes-models/v1, "apps/v1" at kubernetes-models/apps/v1.
  const Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
  return new Model(obj);
}

const overlays = readdirSync(overlaysDir);

describe('kustomize overlays', () => {
  it('has the management and downstream overlays', () => {
    expect(overlays.sort()).toEqual(['downstream', 'management']);
  });

  for (const overlay of overlays) {
    describe(overlay, () => {
      const objects = render(overlay);

      it('renders objects that pass Kubernetes schema validation', () => {
        expect(objects.length).toBeGreaterThan(5);
        for (const obj of objects) {
          expect(() => modelFor(obj).validate(), `${obj.kind}/${obj.metadata.name}`).not.toThrow();
        }
      });

      it('runs 2+ replicas with a PDB, probes, limits and a restricted securityContext', () => {
        const deployments = objects.filter((o) => o.kind === 'Deployment');
        expect(deployments).toHaveLength(1);
        const d = deployments[0];
        expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(objects.some((o) => o.kind === 'PodDisruptionBudget')).toBe(true);
        const pod = d.spec.template.spec;
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
        for (const c of pod.containers) {
          expect(c.livenessProbe.httpGet.path).toBe('/health');
          expect(c.readinessProbe.httpGet.path).toBe('/ready');
          expect(c.resources.requests.cpu).toBeDefined();
          expect(c.resources.limits.memory).toBeDefined();
          expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
          expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
          expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
        }
        // The mounted ConfigMap is the one kustomize generated (hash suffix and all).
        const cmName = pod.volumes[0].configMap.name;
        expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === cmName)).toBe(
          true,
        );
      });

      it('exposes DNS on UDP and TCP through a LoadBalancer, and the metrics port', () => {
        const lb = objects.find((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer');
        expect(lb).toBeDefined();
        const protocols = lb!.spec.ports
          .filter((p: any) => p.port === 53)
          .map((p: any) => p.protocol);
        expect(protocols.sort()).toEqual(['TCP', 'UDP']);
        expect(
          objects.some(
            (o) => o.kind === 'Service' && o.spec.ports.some((p: any) => p.port === 9153),
          ),
        ).toBe(true);
      });

      it('puts every namespaced object in mdns-system', () => {
        for (const o of objects) {
          if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) continue;
          expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('mdns-system');
        }
      });
    });
  }

  it('gives the gateway read-only access to exactly the kinds it reads', () => {
    const role = render('downstream').find((o) => o.kind === 'ClusterRole')!;
    for (const rule of role.rules) {
      expect(rule.verbs.sort()).toEqual(['get', 'list', 'watch']);
    }
    const resources = role.rules.flatMap((r: any) => r.resources).sort();
    expect(resources).toEqual(
      [
        'dnsendpoints',
        'gateways',
        'grpcroutes',
        'httproutes',
        'ingresses',
        'services',
        'tlsroutes',
      ].sort(),
    );
  });

  it('gives the authority no Kubernetes API access at all', () => {
    const objects = render('management');
    expect(objects.some((o) => o.kind.includes('Role'))).toBe(false);
    const sa = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(sa.automountServiceAccountToken).toBe(false);
  });
});

describe('schema validation is not a rubber stamp', () => {
  it('rejects a Deployment with a wrongly typed field', () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { replicas: 'two', selector: {}, template: {} },
    };
    expect(() => modelFor(bad as unknown as K8sObject).validate()).toThrow();
  });
});
