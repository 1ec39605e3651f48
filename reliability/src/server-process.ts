import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The two apps under test, run from their bundled `dist/main.js` like in the images. */
export type AppName = 'cluster-gateway' | 'fanout-authority';

/**
 * `RELIABILITY_APPS_DIR` points at another checkout's `apps/` (built), to measure the same
 * attack against an older build for before/after figures.
 */
export function appMain(app: AppName): string {
  const other = process.env.RELIABILITY_APPS_DIR;
  if (other) return join(other, app, 'dist', 'main.js');
  return fileURLToPath(new URL(`../../apps/${app}/dist/main.js`, import.meta.url));
}

export interface LogLine {
  level?: number | string;
  msg?: string;
  [key: string]: unknown;
}

export interface MemorySample {
  /** Resident set size now (VmRSS), KiB. */
  rssKb: number;
  /** Peak resident set size since start (VmHWM), KiB. */
  peakKb: number;
}

/** VmRSS / VmHWM of a live process from /proc (Linux); null once it is gone. */
export function readMemory(pid: number): MemorySample | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
  return { rssKb: field('VmRSS'), peakKb: field('VmHWM') };
}

/** Writes `config` as JSON (valid YAML, which both apps read) and returns the path. */
export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

/**
 * One app as a real process: `node dist/main.js --config FILE`. Collects its JSON log lines,
 * learns its DNS and ops ports from the `listening` line (both apps log one, with different
 * field names), and reports whether it died.
 */
export class ServerProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  dnsPort = 0;
  opsPort = 0;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(
    readonly app: AppName,
    child: ChildProcess,
  ) {
    this.#child = child;
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl = buffered.indexOf('\n');
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line));
        } catch {
          this.logs.push({ msg: line });
        }
        // A fuzz storm must not turn the log buffer itself into the memory leak under test.
        if (this.logs.length > 5000) this.logs.splice(0, 1000);
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (this.stderr.length > 2000) this.stderr.splice(0, 500);
    });
    this.#exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve();
      }),
    );
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /**
   * `main`: another bundle of the app (e.g. a build of an older commit, for before/after
   * figures). `cgroup`: a cgroup v1 directory (root only) the process joins before it execs
   * the server, so it runs under that cgroup's memory limit like in a container.
   */
  static async start(
    app: AppName,
    configPath: string,
    /** `main`: another build of the app (e.g. an older commit's bundle, for "before" figures); `cgroup`: a cgroup v1 directory to join before exec. */
    options: {
      env?: Record<string, string>;
      timeoutMs?: number;
      main?: string;
      cgroup?: string;
    } = {},
  ): Promise<ServerProcess> {
    const argv = [options.main ?? appMain(app), '--config', configPath];
    const [command, args] =
      options.cgroup === undefined
        ? [process.execPath, argv]
        : [
            '/bin/sh',
            [
              '-c',
              'echo $$ > "$0/cgroup.procs" && exec "$@"',
              options.cgroup,
              process.execPath,
              ...argv,
            ],
          ];
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new ServerProcess(app, child);
    let line: LogLine;
    try {
      line = await server.waitForLog((l) => l.msg === 'listening', options.timeoutMs ?? 30_000);
    } catch (err) {
      // Never leave a half-started server behind: the caller has no handle to stop it.
      await server.stop(2000);
      throw err;
    }
    server.dnsPort = Number(line.dnsPort ?? line.dns);
    const opsPorts = line.opsPorts as { ready?: number } | undefined;
    server.opsPort = Number(opsPorts?.ready ?? line.ready);
    return server;
  }

  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (this.exit !== null || Date.now() > end) {
        throw new Error(
          `${this.app}: log line not seen (exit ${JSON.stringify(this.exit)}); last logs:\n` +
            this.logs
              .slice(-30)
              .map((l) => JSON.stringify(l))
              .join('\n') +
            `\n${this.stderr.join('').slice(-2000)}`,
        );
      }
      await sleep(25);
    }
  }

  memory(): MemorySample | null {
    return readMemory(this.pid);
  }

  async http(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`, {
      signal: AbortSignal.timeout(5000),
    });
    return { status: res.status, body: await res.text() };
  }

  /** Value of one Prometheus sample (`name{labels}` as printed), or null if absent. */
  async metric(sample: string): Promise<number | null> {
    const { body } = await this.http('/metrics');
    for (const line of body.split('\n')) {
      if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
    }
    return null;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.#child.kill(sig);
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with how it ended. */
  async stop(timeoutMs = 10_000): Promise<ServerProcess['exit']> {
    if (this.alive) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.exit;
  }
}

/** Runs an app to completion (config checks): exit code and output, bounded by `timeoutMs`. */
export function runApp(
  app: AppName,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [appMain(app), ...args], { timeout: timeoutMs }, (err, so, se) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout: so, stderr: se });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
