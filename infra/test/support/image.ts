import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraDir } from './kustomize.js';

/**
 * What a container runtime takes from a Dockerfile's runtime stage (the last FROM):
 * ENTRYPOINT and CMD (exec form only: the images have no shell), ENV, WORKDIR, USER, and
 * the payload the stage copies from the build stage.
 */
export type ImageConfig = {
  app: string;
  from: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  workdir: string;
  user: string;
  /** `COPY --from=build /src/<from> <to>`: repository folder -> image path. */
  payload: { from: string; to: string };
};

/**
 * Entrypoints of the base images we build on, for a Dockerfile that sets none (a
 * Dockerfile without ENTRYPOINT inherits the base image's). distroless/nodejs:
 * `entrypoint = ["/nodejs/bin/node"]` in its BUILD file; no PATH lookup.
 */
const BASE_ENTRYPOINTS: Array<[RegExp, string[]]> = [
  [/^gcr\.io\/distroless\/nodejs\d+-debian\d+(:\S+)?$/, ['/nodejs/bin/node']],
];
/** The base image's PATH (distroless sets the Debian default). */
const BASE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

function execForm(dockerfile: string, instruction: string, text: string): string[] {
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v;
  } catch {}
  throw new Error(`${dockerfile}: ${instruction} ${text}: expected the exec form ["...", ...]`);
}

export function parseDockerfile(app: string, text: string): ImageConfig {
  const file = `Dockerfile.${app}`;
  const stages = text.split(/^FROM /m);
  const last = stages[stages.length - 1];
  const from = last.split('\n')[0].trim();
  let entrypoint: string[] | null = null;
  let cmd: string[] = [];
  const env: Record<string, string> = { PATH: BASE_PATH };
  let workdir = '/';
  let user = 'root';
  let payload: ImageConfig['payload'] | null = null;
  for (const line of last.split('\n').slice(1)) {
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, instruction, rest] = m;
    if (instruction === 'ENTRYPOINT') entrypoint = execForm(file, instruction, rest);
    else if (instruction === 'CMD') cmd = execForm(file, instruction, rest);
    else if (instruction === 'WORKDIR') workdir = rest.trim();
    else if (instruction === 'USER') user = rest.trim();
    else if (instruction === 'ENV') {
      for (const kv of rest.trim().split(/\s+/)) {
        const eq = kv.indexOf('=');
        if (eq < 1) throw new Error(`${file}: ENV ${rest}: expected KEY=value`);
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    } else if (instruction === 'COPY') {
      const c = /^--from=build \/src\/(\S+?)\/? (\/\S+?)\/?$/.exec(rest.trim());
      if (c) payload = { from: c[1], to: c[2] };
    }
  }
  if (!entrypoint) {
    const base = BASE_ENTRYPOINTS.find(([re]) => re.test(from));
    if (!base) throw new Error(`${file}: no ENTRYPOINT and the base image ${from} is not known`);
    entrypoint = base[1];
  }
  if (!payload) throw new Error(`${file}: no COPY --from=build /src/... line in the runtime stage`);
  return { app, from, entrypoint, cmd, env, workdir, user, payload };
}

/**
 * The runtime an image runs, from its ENTRYPOINT's program: Bun's distroless image keeps
 * `/usr/local/bin/bun`, distroless/nodejs `/nodejs/bin/node`. Anything else is an error
 * naming the image (a test would otherwise lay out the wrong binary).
 */
export function imageRuntime(image: Pick<ImageConfig, 'app' | 'entrypoint'>): 'node' | 'bun' {
  const program = image.entrypoint[0];
  if (program === '/usr/local/bin/bun') return 'bun';
  if (program === '/nodejs/bin/node') return 'node';
  throw new Error(`Dockerfile.${image.app}: ENTRYPOINT ${program} is neither Node nor Bun`);
}

export function readImage(app: string): ImageConfig {
  return parseDockerfile(app, readFileSync(join(infraDir, 'images', `Dockerfile.${app}`), 'utf8'));
}

/**
 * The argv a container runs, by Kubernetes' rules: `command` replaces the image's
 * ENTRYPOINT and drops its CMD; `args` alone replaces CMD; neither runs ENTRYPOINT + CMD.
 * An empty list counts as unset. `$(VAR)` is expanded from the container's env
 * (`$$(VAR)` escapes; an unknown VAR stays as written), as the kubelet does.
 */
export function containerArgv(
  image: Pick<ImageConfig, 'entrypoint' | 'cmd'>,
  container: { command?: string[]; args?: string[] },
  env: Record<string, string> = {},
): string[] {
  const argv = container.command?.length
    ? [...container.command, ...(container.args ?? [])]
    : [...image.entrypoint, ...(container.args?.length ? container.args : image.cmd)];
  return argv.map((a) => expandVars(a, env));
}

export function expandVars(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\$\(|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name?: string) =>
    name === undefined ? '$(' : (env[name] ?? m),
  );
}
