import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DnsQueryOptions, type DnsQueryResult, dnsQuery } from '@mdns/transport';

export const MAIN = fileURLToPath(new URL('../../dist/main.js', import.meta.url));

/**
 * Throws unless `main` (a built bundle) exists. Real-process suites call it in `beforeAll`
 * so that a run without a build fails every case loudly instead of passing by skipping.
 */
export function assertBuilt(main: string = MAIN): void {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`pnpm turbo run build\` before the e2e tests`);
  }
}

export interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A gateway process under test: `node dist/main.js --config <temp yaml>`. */
export class GatewayProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  dnsPort = 0;
  opsPort = 0;
  exitCode: number | null = null;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  private constructor(child: ChildProcess) {
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
          this.logs.push({ level: 'raw', msg: line });
        }
        nl = buffered.indexOf('\n');
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.#exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Spawns with `config` (an object written as JSON, which is YAML) and waits for "listening". */
  static async start(
    configPath: string,
    env: Record<string, string> = {},
  ): Promise<GatewayProcess> {
    const child = spawn(process.execPath, [MAIN, '--config', configPath], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const gw = new GatewayProcess(child);
    const line = await gw.waitForLog((l) => l.msg === 'listening', 20_000);
    gw.dnsPort = line.dnsPort as number;
    if (line.opsPorts === 'primary') {
      // listen.workers > 1: the primary holds the ops ports and says when every worker serves.
      gw.opsPort = (await gw.waitForLog((l) => l.role === 'primary')).ready as number;
      await gw.waitForLog((l) => l.msg === 'every worker is serving', 20_000);
    } else {
      gw.opsPort = (line.opsPorts as { ready: number }).ready;
    }
    return gw;
  }

  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 15_000): Promise<LogLine> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (this.exitCode !== null || Date.now() > end) {
        throw new Error(
          `log line not seen (exit ${this.exitCode}); logs:\n${this.logs.map((l) => JSON.stringify(l)).join('\n')}\n${this.stderr.join('')}`,
        );
      }
      await sleep(25);
    }
  }

  query(
    name: string,
    type: string,
    options: Partial<DnsQueryOptions> = {},
  ): Promise<DnsQueryResult> {
    return dnsQuery({
      host: '127.0.0.1',
      port: this.dnsPort,
      name,
      type,
      timeoutMs: 3000,
      ...options,
    });
  }

  dig(args: string[]): Promise<string> {
    return run('dig', ['@127.0.0.1', '-p', String(this.dnsPort), '+time=3', '+tries=1', ...args]);
  }

  async http(path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.opsPort}${path}`);
    return { status: res.status, body: await res.text() };
  }

  /** SIGTERM and the exit code. */
  async stop(timeoutMs = 15_000): Promise<number | null> {
    if (this.exitCode !== null) return this.exitCode;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeoutMs);
    const code = await this.#exited;
    clearTimeout(timer);
    return code;
  }
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 20_000 }, (err, stdout, stderr) => {
      if (err && (err as { code?: unknown }).code === undefined) reject(err);
      else resolve(stdout + stderr);
    });
  });
}

/** `node dist/main.js ...args` to completion: exit code and output. */
export function runMain(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, ...args],
      { env: { ...process.env, ...env }, timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ code: typeof code === 'number' ? code : 1, out: stdout, err: stderr });
      },
    );
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (bounded). */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 15_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(100);
  }
}

export interface TempDir {
  path: string;
  write(name: string, text: string): string;
  remove(): void;
}

export function tempDir(prefix = 'gateway-test-'): TempDir {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    write(name, text) {
      const file = join(path, name);
      writeFileSync(file, text);
      return file;
    },
    remove: () => rmSync(path, { recursive: true, force: true }),
  };
}

/** A gateway config for tests: everything on port 0, JSON logs at info. */
export function testConfig(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    zones: [
      {
        name: 'prod.example.tld',
        nameservers: [{ name: 'ns1.prod.example.tld', addresses: ['192.0.2.53', '2001:db8::53'] }],
      },
    ],
    listen: { host: '127.0.0.1', port: 0 },
    ops: { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 },
    log: { level: 'info' },
    // Tests stop processes with SIGTERM: no lame duck (test/e2e-lame-duck.test.ts has its own).
    shutdown: { lameDuckSeconds: 0 },
    ...overrides,
  };
}
