import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import {
  clusters,
  clustersDir,
  infraDir,
  type K8sObject,
  k8sDir,
  render,
} from './support/kustomize.js';

// Renders every per-cluster overlay offline with the real kubectl and validates each
// rendered object against the Kubernetes OpenAPI types (kubernetes-models), so a typo in
// a manifest fails here and not at `kubectl apply` time; then checks what the schema
// cannot: selectors that select, image references, rollout and ConfigMap rules.

const require = createRequire(import.meta.url);
const repoRoot = join(infraDir, '..');

function modelFor(obj: K8sObject): { validate(): void } {
  // apiVersion "v1" lives at kubernetes-models/v1, "apps/v1" at kubernetes-models/apps/v1.
  const Model = require(`kubernetes-models/${obj.apiVersion}/${obj.kind}`)[obj.kind];
  return new Model(obj);
}

/** Does `selector` (matchLabels, or a Service's plain map) select pods labelled `labels`? */
function selects(
  selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined,
  labels: Record<string, string>,
): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length) throw new Error('matchExpressions: not checked here');
  const match = (selector.matchLabels ?? selector) as Record<string, string>;
  const keys = Object.keys(match);
  return keys.length > 0 && keys.every((k) => labels[k] === match[k]);
}

const rendered = Object.fromEntries(clusters.map((c) => [c, render(join(clustersDir, c))]));
const deploymentsOf = (c: string) => rendered[c].filter((o) => o.kind === 'Deployment');
const podLabels = (d: K8sObject) => d.spec.template.metadata.labels as Record<string, string>;

describe('selects()', () => {
  it('needs every label of the selector, and a non-empty selector', () => {
    expect(selects({ matchLabels: { a: '1' } }, { a: '1', b: '2' })).toBe(true);
    expect(selects({ matchLabels: { a: '1', c: '3' } }, { a: '1' })).toBe(false);
    expect(selects(undefined, { a: '1' })).toBe(false);
    expect(selects({}, { a: '1' })).toBe(false);
    expect(selects({ a: '1' } as any, { a: '1' })).toBe(true);
  });
});

describe('per-cluster overlays (infra/k8s/clusters)', () => {
  it('has two downstream examples and the management cluster', () => {
    expect(clusters).toEqual(['downstream-x', 'downstream-y', 'management']);
  });

  for (const cluster of clusters) {
    describe(cluster, () => {
      const objects = rendered[cluster];

      it('renders objects that pass Kubernetes schema validation', () => {
        expect(objects.length).toBeGreaterThan(5);
        for (const obj of objects) {
          expect(() => modelFor(obj).validate(), `${obj.kind}/${obj.metadata.name}`).not.toThrow();
        }
      });

      it('every Deployment, Service, PDB and spread selector selects the pods', () => {
        const deployments = deploymentsOf(cluster);
        expect(deployments).toHaveLength(1);
        const labels = podLabels(deployments[0]);
        const d = deployments[0];
        expect(selects(d.spec.selector, labels), 'Deployment selector').toBe(true);
        for (const t of d.spec.template.spec.topologySpreadConstraints) {
          expect(selects(t.labelSelector, labels), 'topology spread').toBe(true);
        }
        const pdbs = objects.filter((o) => o.kind === 'PodDisruptionBudget');
        expect(pdbs.length).toBeGreaterThan(0);
        for (const pdb of pdbs)
          expect(selects(pdb.spec.selector, labels), pdb.metadata.name).toBe(true);
        for (const svc of objects.filter((o) => o.kind === 'Service')) {
          expect(selects(svc.spec.selector, labels), svc.metadata.name).toBe(true);
        }
      });

      it('references images by a fully qualified registry path with a tag or digest', () => {
        for (const d of deploymentsOf(cluster)) {
          for (const c of d.spec.template.spec.containers) {
            // host.with.dot[:port]/path:tag or @sha256:digest; never Docker Hub's implicit default.
            expect(c.image).toMatch(
              /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?\/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/,
            );
            expect(c.image).not.toMatch(/^(docker\.io|index\.docker\.io)\//);
          }
        }
      });

      it('rolls out without dropping DNS: probes, grace, minReadySeconds, priority, spread', () => {
        const d = deploymentsOf(cluster)[0];
        expect(d.spec.replicas).toBeGreaterThanOrEqual(2);
        expect(d.spec.minReadySeconds).toBeGreaterThanOrEqual(5);
        expect(d.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
        const pod = d.spec.template.spec;
        // shutdown.lameDuckSeconds (5 s by default) + the drain (up to 5 s) + margin.
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(15);
        expect(pod.priorityClassName).toBe('mdns-dns-critical');
        expect(
          objects.some(
            (o) => o.kind === 'PriorityClass' && o.metadata.name === pod.priorityClassName,
          ),
        ).toBe(true);
        expect(pod.topologySpreadConstraints).toEqual([
          expect.objectContaining({
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'ScheduleAnyway',
          }),
        ]);
        expect(pod.securityContext.runAsNonRoot).toBe(true);
        expect(pod.securityContext.seccompProfile.type).toBe('RuntimeDefault');
        for (const c of pod.containers) {
          expect(c.livenessProbe.httpGet.path).toBe('/health');
          expect(c.livenessProbe.timeoutSeconds).toBeGreaterThanOrEqual(5);
          expect(c.livenessProbe.failureThreshold).toBeGreaterThanOrEqual(5);
          expect(c.readinessProbe.httpGet.path).toBe('/ready');
          expect(c.readinessProbe.timeoutSeconds).toBeGreaterThanOrEqual(5);
          expect(c.resources.requests.cpu).toBeDefined();
          expect(c.resources.requests.memory).toBeDefined();
          expect(c.resources.limits.memory).toBeDefined();
          expect(c.resources.limits.cpu, 'no CPU limit: throttling is latency').toBeUndefined();
          expect(c.securityContext.allowPrivilegeEscalation).toBe(false);
          expect(c.securityContext.readOnlyRootFilesystem).toBe(true);
          expect(c.securityContext.capabilities.drop).toEqual(['ALL']);
          // Flags only: the image's ENTRYPOINT runs the app (contract.test.ts runs it).
          expect(c.command).toBeUndefined();
        }
      });

      it('hash-suffixes the gateway ConfigMap (it rolls) and not the authority one (it reloads)', () => {
        const d = deploymentsOf(cluster)[0];
        const cmName = d.spec.template.spec.volumes[0].configMap.name;
        expect(objects.some((o) => o.kind === 'ConfigMap' && o.metadata.name === cmName)).toBe(
          true,
        );
        if (d.metadata.name === 'cluster-gateway') {
          expect(cmName).toMatch(/^cluster-gateway-config-[a-z0-9]{10}$/);
        } else {
          expect(cmName).toBe('fanout-authority-config');
        }
      });

      it('pins the DNS LoadBalancer address with the cluster value, UDP and TCP 53, and metrics', () => {
        const lb = objects.filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer');
        expect(lb).toHaveLength(1);
        const protocols = lb[0].spec.ports
          .filter((p: any) => p.port === 53)
          .map((p: any) => p.protocol);
        expect(protocols.sort()).toEqual(['TCP', 'UDP']);
        const values = readFileSync(join(clustersDir, cluster, 'cluster.yaml'), 'utf8');
        const lbIP = /lbIP: (\S+)/.exec(values)?.[1];
        const pinned = Object.entries(lb[0].metadata.annotations ?? {}).filter(([k]) =>
          [
            'metallb.universe.tf/loadBalancerIPs',
            'kube-vip.io/loadbalancerIPs',
            'lbipam.cilium.io/ips',
          ].includes(k),
        );
        expect(pinned).toEqual([[expect.any(String), lbIP]]);
        // The values ConfigMap is local-config: rendered from, never applied.
        expect(objects.some((o) => o.metadata.name === 'mdns-cluster')).toBe(false);
        expect(
          objects.some(
            (o) => o.kind === 'Service' && o.spec.ports.some((p: any) => p.port === 9153),
          ),
        ).toBe(true);
      });

      it('puts every namespaced object in mdns-system', () => {
        for (const o of objects) {
          if (['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass'].includes(o.kind))
            continue;
          expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe('mdns-system');
        }
      });
    });
  }

  it('the network-policy component selects the pods of the cluster it is used in', () => {
    let used = 0;
    for (const cluster of clusters) {
      const policies = rendered[cluster].filter((o) => o.kind === 'NetworkPolicy');
      if (policies.length === 0) continue;
      used++;
      const labels = podLabels(deploymentsOf(cluster)[0]);
      const mine = policies.filter((p) => selects(p.spec.podSelector, labels));
      expect(mine, cluster).toHaveLength(1);
      const ingressPorts = mine[0].spec.ingress.flatMap((r: any) =>
        r.ports.map((p: any) => `${p.port}/${p.protocol}`),
      );
      expect(ingressPorts).toEqual(
        expect.arrayContaining(['1053/UDP', '1053/TCP', '9153/TCP', '8080/TCP', '8181/TCP']),
      );
      const egressPorts = mine[0].spec.egress.flatMap((r: any) =>
        r.ports.map((p: any) => `${p.port}/${p.protocol}`),
      );
      expect(egressPorts).toEqual(expect.arrayContaining(['53/UDP', '53/TCP']));
      if (labels['app.kubernetes.io/name'] === 'cluster-gateway') {
        expect(egressPorts).toEqual(expect.arrayContaining(['443/TCP', '6443/TCP']));
      }
    }
    expect(used).toBeGreaterThan(0);
  });

  it('agrees across clusters: upstreams are the downstream VIPs, NOTIFY goes to the authority VIP', () => {
    const lbIP = (c: string) =>
      /lbIP: (\S+)/.exec(readFileSync(join(clustersDir, c, 'cluster.yaml'), 'utf8'))?.[1];
    const authority = readFileSync(join(clustersDir, 'management', 'authority.yaml'), 'utf8');
    for (const c of clusters.filter((c) => c !== 'management')) {
      expect(authority).toContain(`address: ${lbIP(c)}`);
      const gw = readFileSync(join(clustersDir, c, 'gateway.yaml'), 'utf8');
      expect(gw).toContain(`address: ${lbIP('management')}`);
    }
  });

  describe('zone replication: the TSIG keys come from the mounted Secret', () => {
    const configOf = (cluster: string) => {
      const d = deploymentsOf(cluster)[0];
      const cm = rendered[cluster].find(
        (o) =>
          o.kind === 'ConfigMap' &&
          o.metadata.name === d.spec.template.spec.volumes[0].configMap.name,
      )!;
      return parse(Object.values(cm.data)[0] as string);
    };
    /** Key name -> the Secret key holding it, for each `secretFile` under a secret mount. */
    const secretKeysOf = (cluster: string) => {
      const pod = deploymentsOf(cluster)[0].spec.template.spec;
      const out = new Map<string, string>();
      for (const k of configOf(cluster).transfer.keys) {
        expect(k.secret, `${cluster}: ${k.name} has no inline secret`).toBeUndefined();
        const mount = pod.containers[0].volumeMounts.find((m: any) =>
          String(k.secretFile).startsWith(`${m.mountPath}/`),
        );
        expect(mount, `${cluster}: ${k.secretFile} is on a mounted volume`).toBeDefined();
        const volume = pod.volumes.find((v: any) => v.name === mount.name);
        const secret = rendered[cluster].find(
          (o) => o.kind === 'Secret' && o.metadata.name === volume.secret?.secretName,
        );
        const key = String(k.secretFile).slice(mount.mountPath.length + 1);
        expect(secret?.data?.[key], `${cluster}: Secret key ${key}`).toBeDefined();
        out.set(k.name, key);
      }
      return out;
    };

    it('every key file is a key of the rendered Secret, mounted read-only', () => {
      for (const cluster of clusters) {
        expect(secretKeysOf(cluster).size, cluster).toBeGreaterThan(0);
        const mounts = deploymentsOf(cluster)[0].spec.template.spec.containers[0].volumeMounts;
        for (const m of mounts) expect(m.readOnly, `${cluster}: ${m.name}`).toBe(true);
      }
    });

    it('each gateway serves transfers to an allowed range with its key, and signs its NOTIFY', () => {
      const authority = configOf('management');
      const upstreams = authority.zones.flatMap((z: any) => z.upstreams);
      for (const cluster of clusters.filter((c) => c !== 'management')) {
        const gw = configOf(cluster);
        expect(gw.transfer.enabled, cluster).toBe(true);
        expect(gw.transfer.allow.length, cluster).toBeGreaterThan(0);
        const [key] = secretKeysOf(cluster).keys();
        expect(
          gw.notify.targets.every((t: any) => t.key === key),
          cluster,
        ).toBe(true);
        // The authority replicates this cluster with the same key name and the same file.
        const upstream = upstreams.find((u: any) => u.name === cluster);
        expect(upstream.transfer, cluster).toEqual({ enabled: true, key });
        expect(secretKeysOf('management').get(key)).toBe(secretKeysOf(cluster).get(key));
      }
    });

    it('the overlay renders without the keys; the key files of its secrets/ are ignored by git', () => {
      for (const cluster of clusters) {
        const overlay = parse(
          readFileSync(join(clustersDir, cluster, 'kustomization.yaml'), 'utf8'),
        );
        // GitOps and the release workflow render the overlay from git, where no key is.
        expect(overlay.secretGenerator, cluster).toBeUndefined();
        expect(() =>
          execFileSync('kubectl', ['kustomize', join(clustersDir, cluster)], { stdio: 'pipe' }),
        ).not.toThrow();
        const dir = join(clustersDir, cluster, 'secrets');
        const kustomization = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8'));
        // Named as the component mounts it: no hash suffix.
        expect(kustomization.generatorOptions?.disableNameSuffixHash, cluster).toBe(true);
        expect(() =>
          execFileSync('git', ['check-ignore', '-q', join(dir, 'kustomization.yaml')]),
        ).toThrow();
        for (const gen of kustomization.secretGenerator ?? []) {
          expect(gen.name).toBe('mdns-tsig');
          for (const entry of gen.files) {
            const file = join(dir, String(entry).split('=').pop() as string);
            // git check-ignore exits 1 for a path that is not ignored.
            expect(() => execFileSync('git', ['check-ignore', '-q', file]), file).not.toThrow();
          }
        }
      }
    });
  });

  it('gives the gateway read-only access to exactly the kinds it reads', () => {
    const role = rendered['downstream-x'].find((o) => o.kind === 'ClusterRole')!;
    for (const rule of role.rules) {
      expect(rule.verbs.sort()).toEqual(['get', 'list', 'watch']);
    }
    const resources = role.rules.flatMap((r: any) => r.resources).sort();
    expect(resources).toEqual(
      [
        'dnsendpoints',
        'endpointslices',
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
    const objects = rendered.management;
    expect(objects.some((o) => o.kind.includes('Role'))).toBe(false);
    const sa = objects.find((o) => o.kind === 'ServiceAccount')!;
    expect(sa.automountServiceAccountToken).toBe(false);
    expect(deploymentsOf('management')[0].spec.template.spec.automountServiceAccountToken).toBe(
      false,
    );
  });
});

describe('GitOps examples (infra/k8s/gitops)', () => {
  const dir = join(k8sDir, 'gitops');
  const docs = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) =>
      parseAllDocuments(readFileSync(join(dir, f), 'utf8')).map((d) => {
        expect(d.errors, f).toEqual([]);
        return d.toJS() as K8sObject;
      }),
    );

  it('an Argo CD ApplicationSet whose paths are the cluster overlays', () => {
    const set = docs.find((d) => d.kind === 'ApplicationSet');
    expect(set?.apiVersion).toBe('argoproj.io/v1alpha1');
    const elements = set!.spec.generators[0].list.elements as Array<{ path: string }>;
    expect(elements.map((e) => e.path).sort()).toEqual(
      clusters.map((c) => `infra/k8s/clusters/${c}`),
    );
    expect(set!.spec.template.spec.source.path).toBe('{{path}}');
  });

  it('Flux Kustomizations whose paths are cluster overlays', () => {
    const flux = docs.filter((d) => d.apiVersion === 'kustomize.toolkit.fluxcd.io/v1');
    expect(flux.length).toBeGreaterThan(0);
    for (const k of flux) {
      expect(k.kind).toBe('Kustomization');
      expect(existsSync(join(repoRoot, k.spec.path)), k.spec.path).toBe(true);
      expect(k.spec.path).toMatch(/^\.\/infra\/k8s\/clusters\//);
    }
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
