import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import type { ImageConfig } from './image.js';
import type { K8sObject } from './kustomize.js';

// Runs one rendered container the way a node would, without a container runtime:
//
// - the root filesystem is a temporary directory: the image's payload where the
//   Dockerfile copies it, the image runtime's binary at its ENTRYPOINT path (node at
//   /nodejs/bin/node, bun at /usr/local/bin/bun), each mounted
//   ConfigMap's keys at the mount path, everything read-only;
// - every absolute path in the argv is rewritten into that directory (the one
//   substitution for a chroot: the config files the manifests ship hold no paths);
// - a private network namespace (`unshare --net`) holds the pod's address and loopback,
//   so the shipped ports (1053, 9153, 8080, 8181) collide with nothing on this machine;
// - a private mount namespace puts the service account files, when the pod mounts a
//   token, at /var/run/secrets/kubernetes.io/serviceaccount, the path client-node's
//   in-cluster config reads, and the process runs as the pod's runAsUser/runAsGroup.
//
// Needs root (namespaces, mounts, setpriv).

/** Addresses inside the pod's network namespace (documentation range). */
export const POD_IP = '192.0.2.10';
/** The in-cluster API address (`KUBERNETES_SERVICE_HOST`), port 443 as in a cluster. */
export const API_IP = '192.0.2.1';
const SA_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ServiceAccountFiles = { token: string; ca: string; namespace: string };

/** Absolute paths are the container's: map them (also `--flag=/path`) into `root`. */
export function intoRoot(root: string, arg: string): string {
  if (arg.startsWith('/')) return join(root, arg);
  const flag = /^(--?[\w-]+=)(\/.*)$/.exec(arg);
  return flag ? flag[1] + join(root, flag[2]) : arg;
}

/** The container's env as the kubelet builds it (what this test supports of it). */
export function containerEnv(
  image: ImageConfig,
  pod: any,
  container: any,
  apiPort: number,
): Record<string, string> {
  const env: Record<string, string> = {
    ...image.env,
    HOSTNAME: 'contract-pod',
    KUBERNETES_SERVICE_HOST: API_IP,
    KUBERNETES_SERVICE_PORT: String(apiPort),
    KUBERNETES_SERVICE_PORT_HTTPS: String(apiPort),
  };
  const fields: Record<string, string> = {
    'status.podIP': POD_IP,
    'status.podIPs': POD_IP,
    'metadata.name': 'contract-pod',
    'metadata.namespace': pod.namespace ?? 'mdns-system',
    'spec.nodeName': 'contract-node',
  };
  for (const e of container.env ?? []) {
    if (e.value !== undefined) env[e.name] = e.value;
    else if (e.valueFrom?.fieldRef) {
      const v = fields[e.valueFrom.fieldRef.fieldPath];
      if (v === undefined)
        throw new Error(
          `env ${e.name}: fieldRef ${e.valueFrom.fieldRef.fieldPath} not supported here`,
        );
      env[e.name] = v;
    } else if (e.valueFrom?.resourceFieldRef) {
      env[e.name] = String(quantityBytes(resourceOf(container, e.valueFrom.resourceFieldRef)));
    } else
      throw new Error(
        `env ${e.name}: only value, fieldRef and resourceFieldRef are supported here`,
      );
  }
  return env;
}

function resourceOf(container: any, ref: { resource: string; divisor?: string }): string {
  const [kind, name] = ref.resource.split('.');
  const v = container.resources?.[kind]?.[name];
  if (v === undefined)
    throw new Error(`resourceFieldRef ${ref.resource}: not set on the container`);
  return String(Math.floor(quantityBytes(v) / quantityBytes(ref.divisor ?? '1')));
}

/** A Kubernetes memory quantity in bytes (`256Mi`, `1G`, `1048576`). */
export function quantityBytes(q: string | number): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(String(q));
  if (!m) throw new Error(`quantity ${q}: not understood`);
  const unit: Record<string, number> = {
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
  };
  return Number(m[1]) * (m[2] ? unit[m[2]] : 1);
}

/** Make `dir` and everything under it read-only (root can still remove it). */
function readOnly(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) readOnly(p);
    else chmodSync(p, statSync(p).mode & 0o555);
  }
  chmodSync(dir, 0o555);
}

/** The files a configMap or secret volume projects: key -> bytes, as the kubelet writes them. */
export function volumeFiles(
  volume: any,
  objects: K8sObject[],
): { source: string; files: Array<{ path: string; data: Buffer; mode: number }> } {
  const kind = volume.configMap ? 'ConfigMap' : volume.secret ? 'Secret' : null;
  if (kind === null)
    throw new Error(`volume ${volume.name}: only configMap and secret volumes are supported here`);
  const spec = volume.configMap ?? volume.secret;
  const name: string = volume.configMap ? spec.name : spec.secretName;
  const source = `${kind} ${name}`;
  const obj = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!obj) throw new Error(`volume ${volume.name}: ${source} is not in the rendered objects`);
  // A Secret's data is base64 and its stringData plain text (the API server merges them,
  // stringData winning); a ConfigMap's data is text, binaryData base64.
  const data = new Map<string, Buffer>();
  const b64 = kind === 'Secret' ? obj.data : obj.binaryData;
  const text = kind === 'Secret' ? obj.stringData : obj.data;
  for (const [k, v] of Object.entries(b64 ?? {})) data.set(k, Buffer.from(String(v), 'base64'));
  for (const [k, v] of Object.entries(text ?? {})) data.set(k, Buffer.from(String(v)));
  // The kubelet's default file mode for both is 0644.
  const defaultMode: number = spec.defaultMode ?? 0o644;
  const items: Array<{ key: string; path: string; mode?: number }> =
    spec.items ?? [...data.keys()].map((key) => ({ key, path: key }));
  const files = items.map(({ key, path, mode }) => {
    const bytes = data.get(key);
    if (bytes === undefined) throw new Error(`${source}: no key ${key}`);
    return { path, data: bytes, mode: mode ?? defaultMode };
  });
  return { source, files };
}

/**
 * Mount paths under /run (or /var/run, its link): the kubelet mounts volumes there in the
 * container, and the apps read files there by absolute paths written in their config files
 * (a TSIG key's `secretFile`), which the argv rewrite cannot reach. startPod binds them
 * there inside the pod's private mount namespace.
 */
export function runMountPaths(container: any): string[] {
  return (container.volumeMounts ?? [])
    .map((m: any) => String(m.mountPath))
    .filter((p: string) => /^\/(var\/)?run\//.test(p));
}

/**
 * Lays out the container's root filesystem under `root`: the image payload, the runtime
 * (`runtimeBin` at the ENTRYPOINT's program path), every mounted ConfigMap and Secret with the modes the volume gives (a volume of
 * another type is an error naming it). Root owns the files, as the kubelet's do without an
 * fsGroup, so a mode the pod's user cannot read fails here as it would in a cluster.
 */
export function layOutRootfs(opts: {
  root: string;
  image: ImageConfig;
  payloadDir: string;
  runtimeBin: string;
  pod: any;
  container: any;
  objects: K8sObject[];
}): void {
  const { root, image, pod, container, objects } = opts;
  mkdirSync(root, { recursive: true });
  chmodSync(root, 0o755);
  const payload = join(root, image.payload.to);
  cpSync(opts.payloadDir, payload, { recursive: true });
  const program = join(root, image.entrypoint[0]);
  mkdirSync(dirname(program), { recursive: true, mode: 0o755 });
  try {
    linkSync(opts.runtimeBin, program);
  } catch {
    copyFileSync(opts.runtimeBin, program);
  }
  for (const mount of container.volumeMounts ?? []) {
    const volume = (pod.volumes ?? []).find((v: any) => v.name === mount.name);
    if (!volume) throw new Error(`volumeMount ${mount.name}: no such volume in the pod`);
    if (mount.readOnly !== true)
      throw new Error(`volumeMount ${mount.name}: expected readOnly: true`);
    const dir = join(root, mount.mountPath);
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const file of volumeFiles(volume, objects).files) {
      mkdirSync(dirname(join(dir, file.path)), { recursive: true, mode: 0o755 });
      writeFileSync(join(dir, file.path), file.data);
      chmodSync(join(dir, file.path), file.mode);
    }
  }
  for (const entry of readdirSync(root)) readOnly(join(root, entry));
}

export type RunningPod = {
  child: ChildProcess;
  output: () => string;
  /** Runs a command inside the pod's network namespace (dig, curl). */
  exec: (cmd: string, args: string[]) => string;
  /** Starts a long-running helper inside the pod's network namespace. */
  spawnIn: (cmd: string, args: string[]) => ChildProcess;
  exited: () => number | string | null;
  /** SIGTERM, as the kubelet sends it; resolves with the exit code. */
  stop: () => Promise<number | string | null>;
};

export function startPod(opts: {
  root: string;
  argv: string[];
  env: Record<string, string>;
  workdir: string;
  uid: number;
  gid: number;
  serviceAccount: string | null;
  /** Volume mount paths under /run to bind from `root` (`runMountPaths`). */
  runMounts?: string[];
  /**
   * The program starts only once this file exists (bounded: 120 s, then exit 1), as a
   * kubelet starts containers after the CNI set up the pod's network: lets a test wire
   * the network namespace (veth, routes) before the app's first packet.
   */
  networkReady?: string;
}): RunningPod {
  const argv = opts.argv.map((a) => intoRoot(opts.root, a));
  const runMounts = opts.runMounts ?? [];
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const script = [
    'ip link set lo up',
    `ip addr add ${POD_IP}/32 dev lo`,
    `ip addr add ${API_IP}/32 dev lo`,
    opts.serviceAccount || runMounts.length > 0 ? 'mount -t tmpfs -o mode=0755 tmpfs /run' : ':',
    'if [ -n "$1" ]; then',
    `  mkdir -p ${SA_PATH}`,
    `  cp "$1"/* ${SA_PATH}/`,
    'fi',
    ...runMounts.flatMap((p) => [
      `mkdir -p ${q(p)}`,
      `mount --bind ${q(join(opts.root, p))} ${q(p)}`,
      `mount -o remount,bind,ro ${q(p)}`,
    ]),
    ...(opts.networkReady
      ? [
          'i=0',
          `while [ ! -e ${q(opts.networkReady)} ]; do`,
          '  i=$((i + 1)); [ "$i" -le 2400 ] || exit 1; sleep 0.05',
          'done',
        ]
      : []),
    'uid=$2 gid=$3',
    'shift 3',
    'exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"',
  ].join('\n');
  const child = spawn(
    'unshare',
    [
      '--net',
      '--mount',
      '--',
      'sh',
      '-ec',
      script,
      'pod',
      opts.serviceAccount ?? '',
      String(opts.uid),
      String(opts.gid),
      ...argv,
    ],
    { cwd: join(opts.root, opts.workdir), env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let exit: number | string | null = null;
  const done = new Promise<number | string | null>((res) =>
    child.once('exit', (code, signal) => {
      exit = code ?? signal;
      res(exit);
    }),
  );
  const netns = `--net=/proc/${child.pid}/ns/net`;
  return {
    child,
    output: () => out,
    exec: (cmd, args) =>
      execFileSync('nsenter', [netns, cmd, ...args], { encoding: 'utf8', timeout: 15_000 }),
    spawnIn: (cmd, args) => spawn('nsenter', [netns, cmd, ...args], { stdio: 'ignore' }),
    exited: () => exit,
    stop: () => {
      if (exit === null) child.kill('SIGTERM');
      return done;
    },
  };
}

/** True once the pod's process is the image's program (namespaces set up, uid dropped). */
export function isExecd(pid: number, program: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0].endsWith(program);
  } catch {
    return false;
  }
}
