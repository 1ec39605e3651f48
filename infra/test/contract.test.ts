import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin } from '@mdns/kube-standin';
import { bunBinary, node24 } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { containerArgv, expandVars, imageRuntime, readImage } from './support/image.js';
import { FORWARDER, type InClusterApi, startInClusterApi } from './support/in-cluster-api.js';
import { clusters, clustersDir, type K8sObject, render, testKeys } from './support/kustomize.js';
import {
  API_IP,
  containerEnv,
  intoRoot,
  isExecd,
  layOutRootfs,
  POD_IP,
  quantityBytes,
  type RunningPod,
  runMountPaths,
  startPod,
  volumeFiles,
} from './support/pod.js';
import { firstHost, linkPods } from './support/pod-network.js';

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
const NOTIFY_IP = '192.0.2.78';

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

    it("management: the authority pulls downstream-x's zone by AXFR with its TSIG key, answers from the copy, follows a signed NOTIFY", async () => {
      const gwObjects = render(join(clustersDir, 'downstream-x'));
      const auObjects = render(join(clustersDir, 'management'));
      const gwDeployment = gwObjects.find((o) => o.kind === 'Deployment') as K8sObject;
      const auDeployment = auObjects.find((o) => o.kind === 'Deployment') as K8sObject;
      const lbIP = (c: string) =>
        /lbIP: (\S+)/.exec(
          readFileSync(join(clustersDir, c, 'cluster.yaml'), 'utf8'),
        )?.[1] as string;
      const gw = await launch('e2e-x', gwDeployment, gwObjects, { gated: true });
      const au = await launch('e2e-management', auDeployment, auObjects, { gated: true });
      try {
        const upstream = au.config.zones[0].upstreams.find((u: any) => u.name === 'downstream-x');
        expect(upstream.address).toBe(lbIP('downstream-x'));
        // Each side leaves from an address the other side's config lets in: the gateway's
        // `transfer.allow` (the management nodes), the authority's `notify.allowFrom`.
        linkPods(
          {
            pid: gw.running.child.pid as number,
            nodeIP: firstHost(upstream.notify.allowFrom[0]),
            lbIP: lbIP('downstream-x'),
            dnsPort: gw.dnsPort,
          },
          {
            pid: au.running.child.pid as number,
            nodeIP: firstHost(gw.config.transfer.allow[0]),
            lbIP: lbIP('management'),
            dnsPort: au.dnsPort,
          },
        );
        await gw.start();
        await au.start();
        const zone = au.config.zones[0].name as string;
        const metric = (text: string, name: string) =>
          new RegExp(
            `^mdns_authority_${name}\\{[^}]*upstream="downstream-x"[^}]*\\} (\\S+)$`,
            'm',
          ).exec(text)?.[1];
        let metrics = '';
        for (let i = 0; i < 100; i++) {
          metrics = au.metrics();
          if (metric(metrics, 'replica_fresh') === '1') break;
          await sleep(200);
        }
        expect(metric(metrics, 'replica_fresh'), `${metrics}\n${au.running.output()}`).toBe('1');
        expect(metrics).toMatch(
          /mdns_authority_replica_transfers_total\{[^}]*upstream="downstream-x"[^}]*result="axfr"[^}]*\} [1-9]/,
        );
        expect(au.dig(`contract.${zone}`, 'A')).toMatch(
          new RegExp(`IN\\s+A\\s+${INGRESS_IP.replace(/\./g, '\\.')}`),
        );
        expect(au.metrics()).toMatch(
          /mdns_authority_replica_answers_total\{[^}]*upstream="downstream-x"[^}]*\} [1-9]/,
        );

        // A new object: the gateway's NOTIFY (signed, from its node's address) makes the
        // authority pull the change; a bounded wait, no timing asserted.
        standin.apply({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'contract-notify', namespace: 'default' },
          spec: { rules: [{ host: `notify.${zone}` }] },
          status: { loadBalancer: { ingress: [{ ip: NOTIFY_IP }] } },
        });
        let answer = '';
        for (let i = 0; i < 100; i++) {
          metrics = au.metrics();
          if (/mdns_authority_notify_total\{[^}]*result="accepted"[^}]*\} [1-9]/.test(metrics)) {
            answer = au.dig(`notify.${zone}`, 'A');
            if (answer.includes(NOTIFY_IP)) break;
          }
          await sleep(200);
        }
        expect(metrics, au.running.output()).toMatch(
          /mdns_authority_notify_total\{[^}]*result="accepted"[^}]*\} [1-9]/,
        );
        expect(metrics).not.toMatch(
          /mdns_authority_notify_total\{[^}]*result="unauthenticated"[^}]*\} [1-9]/,
        );
        expect(answer).toMatch(new RegExp(`IN\\s+A\\s+${NOTIFY_IP.replace(/\./g, '\\.')}`));
      } finally {
        standin.delete('Ingress', 'default', 'contract-notify');
        const codes = [await au.stop(), await gw.stop()];
        expect(codes, `${au.running.output()}\n${gw.running.output()}`).toEqual([0, 0]);
      }
      // Two pods, the gateway's API discovery and a NOTIFY round: ~75 s on 2 busy cores.
    }, 300_000);

    type Launched = {
      running: RunningPod;
      /** The app's config file, parsed from the rendered ConfigMap. */
      config: any;
      dnsPort: number;
      /** Opens the network gate (gated) and waits for the readiness probe's 200. */
      start: () => Promise<void>;
      dig: (name: string, type: string, ...extra: string[]) => string;
      metrics: () => string;
      stop: () => Promise<number | string | null>;
    };

    /**
     * Starts one rendered Deployment's pod. `gated`: the program waits for start() so the
     * caller can wire the pod's network first (as the CNI does before containers start).
     */
    async function launch(
      name: string,
      d: K8sObject,
      objects: K8sObject[],
      opts: { gated?: boolean } = {},
    ): Promise<Launched> {
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
      const root = join(work, name, app as string);
      layOutRootfs({
        root,
        image,
        payloadDir: join(clustersDir, '..', '..', '..', image.payload.from),
        // The image's runtime: Node 24 (the gateway) or the pinned Bun (the authority).
        runtimeBin: imageRuntime(image) === 'bun' ? bunBinary() : node24(),
        pod,
        container,
        objects,
      });
      const port = (p: string | number) =>
        typeof p === 'number' ? p : container.ports.find((c: any) => c.name === p)?.containerPort;
      const dnsPort = port('dns-udp');
      const probe = container.readinessProbe.httpGet;
      const configVolume = pod.volumes.find((v: any) => v.configMap);
      const configFile = volumeFiles(configVolume, objects).files[0];
      const config = parse(configFile.data.toString());
      const zone = config.zones[0].name as string;
      standin.apply({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'contract', namespace: 'default' },
        spec: { rules: [{ host: `contract.${zone}` }] },
        status: { loadBalancer: { ingress: [{ ip: INGRESS_IP }] } },
      });

      const sa = pod.automountServiceAccountToken === false ? null : api.serviceAccountDir;
      const gate = opts.gated ? join(work, `${name}-${app}.network-ready`) : undefined;
      const running = startPod({
        root,
        argv,
        env,
        workdir: image.workdir,
        uid: pod.securityContext.runAsUser,
        gid: pod.securityContext.runAsGroup,
        serviceAccount: sa,
        runMounts: runMountPaths(container),
        networkReady: gate,
      });
      // The pod's network namespace exists once `unshare` ran: a caller may wire it now.
      const hostNet = readlinkSync('/proc/self/ns/net');
      for (let i = 0; i < 100 && running.exited() === null; i++) {
        try {
          if (readlinkSync(`/proc/${running.child.pid}/ns/net`) !== hostNet) break;
        } catch {}
        await sleep(20);
      }
      let forwarder: ReturnType<RunningPod['spawnIn']> | null = null;
      const start = async () => {
        if (gate) writeFileSync(gate, '');
        // Wait until the pod's namespaces exist and the image's program runs.
        for (let i = 0; i < 100 && running.exited() === null; i++) {
          if (isExecd(running.child.pid as number, imageRuntime(image))) break;
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
      };
      return {
        running,
        config,
        dnsPort,
        start,
        dig: (qname, type, ...extra) =>
          running.exec('dig', [
            `@${POD_IP}`,
            '-p',
            String(dnsPort),
            qname,
            type,
            '+time=2',
            '+tries=2',
            ...extra,
          ]),
        metrics: () =>
          running.exec('curl', [
            '-s',
            '--max-time',
            '2',
            `http://${POD_IP}:${port('metrics')}/metrics`,
          ]),
        stop: async () => {
          // SIGTERM, as the kubelet sends it: drains and exits 0.
          const code = await running.stop();
          (forwarder as ReturnType<RunningPod['spawnIn']> | null)?.kill();
          return code;
        },
      };
    }

    async function runDeployment(cluster: string, d: K8sObject, objects: K8sObject[]) {
      const pod = await launch(cluster, d, objects);
      try {
        await pod.start();
        const zone = pod.config.zones[0].name as string;
        if (d.spec.template.spec.automountServiceAccountToken !== false) {
          // The gateway listed and watched through the in-cluster config: token and CA.
          expect(pod.dig(`contract.${zone}`, 'A')).toMatch(
            new RegExp(`IN\\s+A\\s+${INGRESS_IP.replace(/\./g, '\\.')}`),
          );
          expect(api.counts.authorized).toBeGreaterThan(0);
          expect(api.counts.rejected).toBe(0);
          if (pod.config.transfer?.enabled) checkTransferKey(pod, zone, objects);
        } else {
          const soa = pod.dig(zone, 'SOA');
          expect(soa).toMatch(/status: NOERROR/);
          expect(soa).toMatch(/flags: qr aa/);
        }
      } finally {
        const code = await pod.stop();
        expect(code, pod.running.output()).toBe(0);
      }
    }

    /**
     * The gateway read its key from the mounted Secret: from an allowed source, an AXFR
     * signed with the Secret's key is served and an unsigned one REFUSED; the same signed
     * request from outside `allow` is REFUSED too (address AND key).
     */
    function checkTransferKey(pod: Launched, zone: string, objects: K8sObject[]) {
      const key = pod.config.transfer.keys[0];
      const file = String(key.secretFile);
      const d = objects.find((o) => o.kind === 'Deployment') as K8sObject;
      const container = d.spec.template.spec.containers[0];
      const mount = container.volumeMounts.find((m: any) => file.startsWith(`${m.mountPath}/`));
      expect(mount, `a volume mounted where ${file} is`).toBeDefined();
      const volume = d.spec.template.spec.volumes.find((v: any) => v.name === mount.name);
      expect(volume.secret, `${file} comes from a Secret`).toBeDefined();
      const secret = volumeFiles(volume, objects)
        .files.find((f) => `${mount.mountPath}/${f.path}` === file)
        ?.data.toString()
        .trim();
      expect(secret).toBe(testKeys.get(`${file.split('/').pop()}.key`)?.trim());
      const allowed = firstHost(pod.config.transfer.allow[0]);
      pod.running.exec('ip', ['addr', 'add', `${allowed}/32`, 'dev', 'lo']);
      const signed = ['-y', `hmac-sha256:${key.name}:${secret}`];
      const axfr = pod.dig(zone, 'AXFR', '-b', allowed, ...signed);
      expect(axfr).toMatch(
        new RegExp(`contract\\.${zone.replace(/\./g, '\\.')}\\.\\s+\\d+\\s+IN\\s+A`),
      );
      expect(axfr).toMatch(/XFR size: \d+ records/);
      expect(pod.dig(zone, 'AXFR', '-b', allowed)).toMatch(/Transfer failed|REFUSED/);
      expect(pod.dig(zone, 'AXFR', ...signed)).toMatch(/Transfer failed|REFUSED/);
    }
  },
);
