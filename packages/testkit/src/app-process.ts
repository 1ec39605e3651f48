import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type DnsQueryOptions, type DnsQueryResult, dnsQuery } from '@mdns/transport';
import { defaultRuntime, type Runtime, runtimeBinary } from './bun.js';

/** The two servers of the repository, run from their bundled `dist/main.js` as in the images. */
export type AppName = 'cluster-gateway' | 'fanout-authority';

/** `apps/<app>/dist/main.js` of this checkout (this file runs from `packages/testkit/dist/`). */
export function appMain(app: AppName): string {
  return fileURLToPath(new URL(`../../../apps/${app}/dist/main.js`, import.meta.url));
}

/**
 * Throws unless `main` (a built bundle) exists. Real-process suites call it in `beforeAll`
 * so that a run without a build fails every case loudly instead of passing by skipping.
 */
export function assertBuilt(main: string): void {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`pnpm turbo run build\` before the e2e tests`);
  }
}

/** One pino JSON line of a server (a line that is not JSON becomes `{ msg: line }`). */
export interface LogLine {
  level?: number | string;
  msg?: string;
  [key: string]: unknown;
}

/** The ops HTTP ports, as both apps log them (`opsPorts`). */
export interface OpsPorts {
  metrics: number;
  health: number;
  ready: number;
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

export interface AppProcessOptions {
  /** A label for messages and reports (e.g. the app's name); default the bundle's path. */
  name?: string;
  /** Added to this process's environment. */
  env?: Record<string, string>;
  /** Bound on the wait for "listening" (and, with workers, "every worker is serving"). Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * `bun` runs the bundle with the pinned Bun (`bunBinary()`); `node` with `node` below.
   * Default `MDNS_TEST_RUNTIME`, else `node`.
   */
  runtime?: Runtime;
  /** The Node binary; default the one running the tests (e.g. `node24()` for the images' runtime). Ignored with `runtime: 'bun'`. */
  node?: string;
  /** Arguments for Node before the bundle, e.g. `['--max-old-space-size=64']`. */
  nodeArgs?: string[];
  /** A cgroup v1 directory (root only) the process joins before it execs Node, so every page is charged to it. */
  cgroup?: string;
  /** A network namespace (root only) to run in: `ip netns exec NETNS node ...` (see `createNetLab`). */
  netns?: string;
  /** The address `query`, `dig` and `http` reach the server at; default 127.0.0.1 (a server in a `netns` is reached at its lab address). */
  host?: string;
  /** Keep at most this many log lines (oldest dropped): a flood must not make the buffer the leak under test. Default unbounded. */
  maxLogLines?: number;
  /** Each raw output line as it comes (the demo prints them); stderr too. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Aborting it while `start` waits stops the process and rejects (Ctrl-C during a demo's start). */
  signal?: AbortSignal;
}

/** Calls `onLine` for each complete line of a text stream. */
function eachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
  });
  // A last line without its newline (a crash's final words) still counts.
  stream.on('end', () => {
    if (buffered !== '') onLine(buffered);
  });
}

/**
 * One of our servers as a real process: `node MAIN --config FILE` (or `bun MAIN ...`). Collects its JSON log
 * lines, learns its ports from the `listening` line both apps log with the same fields
 * (`dnsHost`, `dnsPort`, `opsPorts`, `explainPort`), and knows whether it
 * died. With `listen.workers` > 1 each worker logs `opsPorts: "primary"`: the ports come from
 * the primary's line and `start` also waits for "every worker is serving".
 */
export class AppProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  dnsPort = 0;
  opsPorts: OpsPorts = { metrics: 0, health: 0, ready: 0 };
  /** The app's explain endpoint; null when it is off. */
  explainPort: number | null = null;
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;
  readonly #waiters = new Set<() => void>();

  private constructor(
    /** `options.name`, else the bundle's path. */
    readonly name: string,
    /** Where `query`, `dig` and `http` reach it (`options.host`). */
    readonly host: string,
    child: ChildProcess,
    maxLogLines: number,
    onLine: AppProcessOptions['onLine'],
  ) {
    this.#child = child;
    eachLine(child.stdout!, (line) => {
      onLine?.(line, 'stdout');
      try {
        this.logs.push(JSON.parse(line));
      } catch {
        this.logs.push({ msg: line });
      }
      if (this.logs.length > maxLogLines) this.logs.splice(0, this.logs.length - maxLogLines);
      this.#wake();
    });
    eachLine(child.stderr!, (line) => {
      onLine?.(line, 'stderr');
      this.stderr.push(`${line}\n`);
      if (this.stderr.length > 2000) this.stderr.splice(0, 500);
    });
    // 'close' comes after the last output chunk: a failed start reports its last words.
    this.#exited = new Promise((resolve) =>
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.#wake();
        resolve();
      }),
    );
  }

  /** Spawns `main --config configPath` and waits until it serves (see the class comment). */
  static async start(
    main: string,
    configPath: string,
    options: AppProcessOptions = {},
  ): Promise<AppProcess> {
    const argv = [...(options.nodeArgs ?? []), main, '--config', configPath];
    const runtime = options.runtime ?? defaultRuntime();
    const node = runtime === 'bun' ? runtimeBinary('bun') : (options.node ?? process.execPath);
    const [inner, innerArgs] =
      options.cgroup === undefined
        ? [node, argv]
        : [
            '/bin/sh',
            ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', options.cgroup, node, ...argv],
          ];
    // `ip netns exec` execs the command in place: the child's pid (signals, /proc) is Node's.
    const [command, args] =
      options.netns === undefined
        ? [inner, innerArgs]
        : ['ip', ['netns', 'exec', options.netns, inner, ...innerArgs]];
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new AppProcess(
      options.name ?? main,
      options.host ?? '127.0.0.1',
      child,
      options.maxLogLines ?? Number.POSITIVE_INFINITY,
      options.onLine,
    );
    const timeoutMs = options.timeoutMs ?? 30_000;
    const onAbort = () => server.signal('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      options.signal?.throwIfAborted();
      const line = await server.waitForLog((l) => l.msg === 'listening', timeoutMs);
      server.dnsPort = line.dnsPort as number;
      server.explainPort = (line.explainPort as number | null | undefined) ?? null;
      if (line.opsPorts === 'primary') {
        const primary = await server.waitForLog((l) => l.role === 'primary' && !!l.opsPorts);
        server.opsPorts = primary.opsPorts as OpsPorts;
        await server.waitForLog((l) => l.msg === 'every worker is serving', timeoutMs);
        // With workers, explain is served by one process: the gateway's primary (its line
        // comes before the workers'), or one worker, and any worker may listen first.
        const explaining = server.logs.find((l) => typeof l.explainPort === 'number');
        server.explainPort = (explaining?.explainPort as number | undefined) ?? null;
      } else {
        server.opsPorts = line.opsPorts as OpsPorts;
      }
    } catch (err) {
      // Never leave a half-started server behind: the caller has no handle to stop it.
      await server.stop(2000);
      throw options.signal?.aborted ? new Error(`${server.name}: start aborted`) : err;
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    return server;
  }

  get pid(): number {
    return this.#child.pid!;
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Resolves when the process has ended (for whatever reason; `exit` says how). */
  get closed(): Promise<void> {
    return this.#exited;
  }

  /** Polls `/ready` until it answers 200; rejects when the process exits first or after `timeoutMs`. */
  async waitReady(timeoutMs = 30_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    let last = '';
    while (this.alive && Date.now() < end) {
      try {
        const { status, body } = await this.http('/ready');
        if (status === 200) return;
        last = `HTTP ${status}: ${body}`;
      } catch (e) {
        last = String(e);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(
      `${this.name}: not ready ${this.alive ? `after ${timeoutMs} ms (${last})` : 'and exited'}; ${this.#lastWords()}`,
    );
  }

  /** The port that serves `/ready` (and, when the ports coincide, every ops endpoint). */
  get opsPort(): number {
    return this.opsPorts.ready;
  }

  /** The first log line `match` accepts; rejects when the process exits first or after `timeoutMs`. */
  waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.logs.find(match);
        if (found) {
          done();
          resolve(found);
        } else if (this.exit !== null) {
          done();
          reject(
            new Error(`exited ${this.exit.code ?? this.exit.signal} first; ${this.#lastWords()}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`log line not seen in ${timeoutMs} ms; ${this.#lastWords()}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** A query to the DNS port at `host` (3 s timeout unless given). */
  query(
    name: string,
    type: string,
    options: Partial<DnsQueryOptions> = {},
  ): Promise<DnsQueryResult> {
    return dnsQuery({
      host: this.host,
      port: this.dnsPort,
      name,
      type,
      timeoutMs: 3000,
      ...options,
    });
  }

  /** `dig @HOST -p PORT +time=3 +tries=1 ...args`: its output (also on a non-zero exit). */
  dig(args: string[]): Promise<string> {
    return runTool('dig', [
      `@${this.host}`,
      '-p',
      String(this.dnsPort),
      '+time=3',
      '+tries=1',
      ...args,
    ]);
  }

  /** GET on the ops port that serves `path` (`/metrics`, `/health`, else the ready port). */
  async http(path: string): Promise<{ status: number; body: string }> {
    const port = path.startsWith('/metrics')
      ? this.opsPorts.metrics
      : path.startsWith('/health')
        ? this.opsPorts.health
        : this.opsPorts.ready;
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    const res = await fetch(`http://${host}:${port}${path}`, {
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

  memory(): MemorySample | null {
    return readMemory(this.pid);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.#child.kill(sig);
  }

  /** Resolves with the exit code once the process has ended by itself; null if still running after `timeoutMs`. */
  async waitForExit(timeoutMs = 15_000): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.#exited, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    return this.exit?.code ?? null;
  }

  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves with the exit code (null when killed). */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.alive) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
      await this.#exited;
      clearTimeout(timer);
    }
    return this.exit?.code ?? null;
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  #lastWords(): string {
    const logs = this.logs
      .slice(-30)
      .map((l) => JSON.stringify(l))
      .join('\n');
    return `${this.name}: last logs:\n${logs}\nstderr: ${this.stderr.join('').slice(-2000)}`;
  }
}

/** Runs `main ...args` to completion (config checks, CLIs): exit code and output, bounded. */
export function runApp(
  main: string,
  args: string[],
  options: { env?: Record<string, string>; timeoutMs?: number; runtime?: Runtime } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      runtimeBinary(options.runtime ?? defaultRuntime()),
      [main, ...args],
      { env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? 20_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
      },
    );
  });
}

/**
 * A command-line tool (dig, kdig, ...) to completion: stdout + stderr, also on a non-zero
 * exit (dig exits 9 on no reply, which a test may expect); rejects only when it cannot run.
 */
export function runTool(cmd: string, args: string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err && (err as { code?: unknown }).code === undefined) reject(err);
      else resolve(stdout + stderr);
    });
  });
}

/** A TSIG key as `kdig -y` takes it (hmac-sha256). */
export interface KdigKey {
  name: string;
  secret: string;
}

/**
 * A zone by AXFR with `kdig` (signed with `key` when given): its records, one line each as
 * kdig prints them with blanks squeezed and in lower case, TSIG and comment lines left out,
 * sorted. An empty list when the transfer was refused.
 */
export async function kdigAxfr(port: number, zone: string, key?: KdigKey): Promise<string[]> {
  const args = ['@127.0.0.1', '-p', String(port), 'AXFR', zone, '+nocomments', '+nostats'];
  const out = await runTool(
    'kdig',
    key ? ['-y', `hmac-sha256:${key.name}:${key.secret}`, ...args] : args,
  );
  return kdigRecords(out);
}

/** kdig's output as records: one line each, blanks squeezed, lower case, no TSIG, sorted. */
export function kdigRecords(out: string): string[] {
  return out
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith(';') && !/\bTSIG\b/.test(l))
    .map((l) => l.trim().split(/\s+/).join(' ').toLowerCase())
    .sort();
}

/** The SOA serial `dig` reads at 127.0.0.1:`port` for `zone` (NaN when none came). */
export async function soaSerial(port: number, zone: string): Promise<number> {
  const out = await runTool('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    '+short',
    '+tries=1',
    'SOA',
    zone,
  ]);
  return Number(out.trim().split(/\s+/)[2] ?? Number.NaN);
}
