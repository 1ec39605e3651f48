import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin } from '@mdns/kube-standin';
import { node24 } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerArgv, expandVars, readImage } from './support/image.js';
import { FORWARDER, type InClusterApi, startInClusterApi } from './support/in-cluster-api.js';
import { clusters, clustersDir, type K8sObject, render } from './support/kustomize.js';
import {
  API_IP,
  containerEnv,
  intoRoot,
  isExecd,
  layOutRootfs,
  POD_IP,
  quantityBytes,
  type RunningPod,
  startPod,
} from './support/pod.js';

// The image/manifest contract: each rendered Deployment's container, run the way a node
// runs it (Kubernetes' command/args rules over the Dockerfile's ENTRYPOINT/CMD, the
// payload and the mounted ConfigMap where the image and the pod put them, read-only, as
// the pod's user, with the env and service account files a pod gets), answers DNS on
// its declared port and passes its own readiness probe. See support/pod.ts for what
// stands in for the container runtime.

describe('Kubernetes argv rules (containerArgv)', () => {
  const image = { entrypoint: ['/nodejs/bin/node', '/app/main.js'], cmd: ['--config', '/c'] };
  it.each([
    ['neither: ENTRYPOINT + CMD', {}, ['/nodejs/bin/node', '/app/main.js', '--config', '/c']],
    ['args: ENTRYPOINT + args', { args: ['-x'] }, ['/nodejs/bin/node', '/app/main.js', '-x']],
    ['command: replaces ENTRYPOINT, drops CMD', { command: ['/bin/x'] }, ['/bin/x']],
    ['command + args', { command: ['/bin/x'], args: ['-y'] }, ['/bin/x', '-y']],
    ['empty lists count as unset', { command: [], args: [] }, [...image.entrypoint, ...image.cmd]],
  ])('%s', (_, container, argv) => {
    expect(containerArgv(image, container)).toEqual(argv);
  });

  it('expands $(VAR) from the container env, keeps unknown ones and $$( escapes', () => {
    const env = { POD_IP: '10.0.0.7' };
    expect(expandVars('--host=$(POD_IP)', env)).toBe('--host=10.0.0.7');
    expect(expandVars('$(NOPE)', env)).toBe('$(NOPE)');
    expect(expandVars('$$(POD_IP)', env)).toBe('$(POD_IP)');
  });

  it('maps container paths into the laid-out root, flags included', () => {
    expect(intoRoot('/r', '/etc/mdns/a.yaml')).toBe('/r/etc/mdns/a.yaml');
    expect(intoRoot('/r', '--config=/etc/x')).toBe('--config=/r/etc/x');
    expect(intoRoot('/r', '--config')).toBe('--config');
  });

  it('reads memory quantities', () => {
    expect(quantityBytes('384Mi')).toBe(384 * 2 ** 20);
    expect(quantityBytes('1G')).toBe(1e9);
  });
});

const isRoot = process.getuid?.() === 0;
// Outside root this suite cannot build the pod's namespaces; on CI (root) it must run,
// so a CI machine can never pass it by skipping.
if (!isRoot && process.env.CI) {
  throw new Error('contract.test.ts needs root on CI (network/mount namespaces, setpriv)');
}
const INGRESS_IP = '192.0.2.77';

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe.skipIf(!isRoot)(
  'rendered Deployments run as shipped (needs root: namespaces, setpriv)',
  () => {
    const work = mkdtempSync(join(tmpdir(), 'mdns-contract-'));
    let standin: Awaited<ReturnType<typeof startStandin>>;
    let api: InClusterApi;

    beforeAll(async () => {
      // The pod's user must reach the laid-out root filesystem inside.
      chmodSync(work, 0o755);
      standin = await startStandin({ kinds: ['namespaces', 'services', 'ingresses'] });
      api = await startInClusterApi(join(work, 'api'), standin.port);
    });
    afterAll(async () => {
      await api?.close();
      await standin?.close();
      rmSync(work, { recursive: true, force: true });
    });

    for (const cluster of clusters) {
      const objects = render(join(clustersDir, cluster));
      for (const d of objects.filter((o) => o.kind === 'Deployment')) {
        it(`${cluster}: ${d.metadata.name} starts from its image + manifest and answers dig`, async () => {
          await runDeployment(cluster, d, objects);
        });
      }
    }

    async function runDeployment(cluster: string, d: K8sObject, objects: K8sObject[]) {
      const pod = { ...d.spec.template.spec, namespace: d.metadata.namespace };
      expect(pod.containers).toHaveLength(1);
      const container = pod.containers[0];
      // registry/.../<app>:<tag> -> infra/images/Dockerfile.<app>
      const app = /\/([^/:@]+)(?::[^/]*|@sha256:[0-9a-f]+)?$/.exec(container.image)?.[1];
      expect(app, `image ${container.image}`).toBeDefined();
      const image = readImage(app as string);
      expect(image.user).toBe(`${pod.securityContext.runAsUser}:${pod.securityContext.runAsGroup}`);

      const env = containerEnv(image, pod, container, 443);
      const argv = containerArgv(image, container, env);
      const root = join(work, cluster, app as string);
      layOutRootfs({
        root,
        image,
        payloadDir: join(clustersDir, '..', '..', '..', image.payload.from),
        nodeBin: node24(),
        pod,
        container,
        objects,
      });

      const port = (name: string | number) =>
        typeof name === 'number'
          ? name
          : container.ports.find((p: any) => p.name === name)?.containerPort;
      const dnsPort = port('dns-udp');
      const probe = container.readinessProbe.httpGet;
      const configMap = objects.find(
        (o) => o.kind === 'ConfigMap' && o.metadata.name === pod.volumes[0].configMap.name,
      ) as K8sObject;
      const zone = parse(Object.values(configMap.data)[0] as string).zones[0].name as string;
      standin.apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'contract', namespace: 'default' },
        spec: { rules: [{ host: `contract.${zone}` }] },
        status: { loadBalancer: { ingress: [{ ip: INGRESS_IP }] } },
      });

      const sa = pod.automountServiceAccountToken === false ? null : api.serviceAccountDir;
      const running = startPod({
        root,
        argv,
        env,
        workdir: image.workdir,
        uid: pod.securityContext.runAsUser,
        gid: pod.securityContext.runAsGroup,
        serviceAccount: sa,
      });
      let forwarder: ReturnType<RunningPod['spawnIn']> | null = null;
      try {
        // Wait until the pod's namespaces exist and the image's program runs.
        for (let i = 0; i < 100 && running.exited() === null; i++) {
          if (isExecd(running.child.pid as number, 'node')) break;
          await sleep(50);
        }
        expect(running.exited(), `exited early:\n${running.output()}`).toBeNull();
        if (sa) {
          forwarder = running.spawnIn(process.execPath, [
            '-e',
            FORWARDER,
            API_IP,
            '443',
            api.socket,
          ]);
        }
        let status = '';
        for (let i = 0; i < 150 && running.exited() === null; i++) {
          try {
            status = running.exec('curl', [
              '-s',
              '-o',
              '/dev/null',
              '-w',
              '%{http_code}',
              '--max-time',
              '2',
              `http://${POD_IP}:${port(probe.port)}${probe.path}`,
            ]);
          } catch {}
          if (status === '200') break;
          await sleep(200);
        }
        expect(running.exited(), `${argv.join(' ')} exited:\n${running.output()}`).toBeNull();
        expect(status, `readiness probe ${probe.path}:\n${running.output()}`).toBe('200');

        const dig = (name: string, type: string) =>
          running.exec('dig', [
            `@${POD_IP}`,
            '-p',
            String(dnsPort),
            name,
            type,
            '+time=2',
            '+tries=2',
          ]);
        if (sa) {
          // The gateway listed and watched through the in-cluster config: token and CA.
          expect(dig(`contract.${zone}`, 'A')).toMatch(
            new RegExp(`IN\\s+A\\s+${INGRESS_IP.replace(/\./g, '\\.')}`),
          );
          expect(api.counts.authorized).toBeGreaterThan(0);
          expect(api.counts.rejected).toBe(0);
        } else {
          const soa = dig(zone, 'SOA');
          expect(soa).toMatch(/status: NOERROR/);
          expect(soa).toMatch(/flags: qr aa/);
        }
      } finally {
        // SIGTERM, as the kubelet sends it: drains and exits 0.
        const code = await running.stop();
        forwarder?.kill();
        expect(code, running.output()).toBe(0);
      }
    }
  },
);
