import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, encode } from '@mdns/protocol';
import { dnsQuery, dnsQueryRaw } from '@mdns/transport';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../dist/main.js');

export interface UpstreamSpec {
  name: string;
  port: number;
  address?: string;
  priority?: number;
}

export interface ZoneSpec {
  name: string;
  policy?: 'first' | 'all' | 'priority';
  upstreams: UpstreamSpec[];
}

/** The YAML for a test authority on loopback, ephemeral ports. */
export function configYaml(zones: ZoneSpec[], extra = ''): string {
  const lines = ['zones:'];
  for (const z of zones) {
    lines.push(`  - name: ${z.name}`);
    lines.push(`    soa: { minimum: 30, ttl: 60 }`);
    lines.push(`    nameservers: [{ name: ns1.${z.name}, addresses: [192.0.2.53] }]`);
    if (z.policy) lines.push(`    policy: ${z.policy}`);
    lines.push('    upstreams:');
    for (const u of z.upstreams) {
      lines.push(
        `      - { name: ${u.name}, address: ${u.address ?? '127.0.0.1'}, port: ${u.port}, priority: ${u.priority ?? 0} }`,
      );
    }
  }
  lines.push('listen: { host: 127.0.0.1, port: 0 }');
  lines.push('ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }');
  lines.push('explain: { host: 127.0.0.1, port: 0 }');
  lines.push('log: { level: debug }');
  // Tests stop processes with SIGTERM: no lame duck (e2e-lame-duck.test.ts has its own).
  lines.push('shutdown: { lameDuckSeconds: 0 }');
  return `${lines.join('\n')}\n${extra}`;
}

export interface Authority {
  dir: string;
  configPath: string;
  proc: ChildProcess;
  ports: { dns: number; metrics: number; health: number; ready: number; explain: number | null };
  logs: Array<Record<string, unknown>>;
  stderr: string[];
  query(
    name: string,
    type: string,
    options?: { tcp?: boolean; timeoutMs?: number },
  ): Promise<Answer>;
  waitForLog(
    pred: (line: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  writeConfig(yaml: string): void;
  stop(): Promise<number | null>;
}

export interface Answer {
  rcode: number;
  aa: boolean;
  answers: Array<{ name: string; type: string; ttl: number; data: unknown }>;
  authorities: Array<{ name: string; type: string; ttl: number; data: unknown }>;
  elapsedMs: number;
}

export function decodeAnswer(bytes: Uint8Array, elapsedMs: number): Answer {
  const d = decode(bytes);
  if (!d.ok) throw new Error(`authority reply does not decode: ${d.error}`);
  const m = d.message as unknown as {
    flags: number;
    answers: Answer['answers'];
    authorities: Answer['authorities'];
  };
  return {
    rcode: m.flags & 0x0f,
    aa: (m.flags & 0x0400) !== 0,
    answers: m.answers ?? [],
    authorities: m.authorities ?? [],
    elapsedMs,
  };
}

/**
 * Timed-out queries to one upstream, from the authority's own metric. A positive answer that
 * had waited for a dead or silent cluster would have counted that wait's timeout first, so an
 * unchanged count across a query shows the answer was not held up (cause, not a clock).
 */
export async function upstreamTimeouts(auth: Authority, upstream: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('mdns_authority_upstream_failures_total{') &&
        l.includes(`upstream="${upstream}"`) &&
        l.includes('kind="timeout"'),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

export async function startAuthority(yaml: string): Promise<Authority> {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-authority-'));
  const configPath = join(dir, 'authority.yaml');
  writeFileSync(configPath, yaml);
  const proc = spawn(process.execPath, [MAIN, '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line));
      } catch {
        logs.push({ msg: line });
      }
    }
    for (const w of waiters) w();
  });
  proc.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  // 'close' comes after the last stderr chunk: a start that failed rejects with its message.
  let closed = false;
  proc.once('close', () => {
    closed = true;
    for (const w of waiters) w();
  });

  const waitForLog = (pred: (l: Record<string, unknown>) => boolean, timeoutMs = 10_000) =>
    new Promise<Record<string, unknown>>((resolvePromise, reject) => {
      const check = () => {
        const hit = logs.find(pred);
        if (hit) {
          waiters.delete(check);
          clearTimeout(timer);
          resolvePromise(hit);
        } else if (closed) {
          waiters.delete(check);
          clearTimeout(timer);
          reject(new Error(`exited ${proc.exitCode} first; stderr: ${stderr.join('')}`));
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `log line not seen in ${timeoutMs} ms; stderr: ${stderr.join('')}; logs: ${JSON.stringify(logs.slice(-5))}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  // Alone, the process logs "listening" with every port. With listen.workers > 1 the
  // primary logs its ops ports first, each worker logs "listening" with the DNS port.
  const first = await waitForLog((l) => l.msg === 'listening' || l.role === 'primary');
  const opsLine = first;
  if (first.role === 'primary') await waitForLog((l) => l.msg === 'every worker is serving');
  const listening =
    first.role === 'primary' ? await waitForLog((l) => l.msg === 'listening') : first;
  const ports = {
    dns: listening.dns as number,
    metrics: opsLine.metrics as number,
    health: opsLine.health as number,
    ready: opsLine.ready as number,
    explain: (listening.explain as number | null) ?? null,
  };
  return {
    dir,
    configPath,
    proc,
    ports,
    logs,
    stderr,
    waitForLog,
    async query(name, type, options = {}) {
      const started = performance.now();
      const r = await dnsQuery({
        host: '127.0.0.1',
        port: ports.dns,
        name,
        type,
        rd: false,
        tcp: options.tcp,
        timeoutMs: options.timeoutMs ?? 8000,
      });
      return decodeAnswer(r.bytes, performance.now() - started);
    },
    writeConfig(text) {
      writeFileSync(configPath, text);
    },
    stop() {
      return new Promise((resolvePromise) => {
        if (proc.exitCode !== null) {
          rmSync(dir, { recursive: true, force: true });
          return resolvePromise(proc.exitCode);
        }
        const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        proc.once('exit', (code) => {
          clearTimeout(kill);
          rmSync(dir, { recursive: true, force: true });
          resolvePromise(code);
        });
        proc.kill('SIGTERM');
      });
    },
  };
}

export { dnsQueryRaw };

/**
 * An RFC 1996 NOTIFY for `zone` from `source` (default 127.0.0.1, the address the test
 * upstreams use) to the authority; the reply, or null after 2 s.
 */
export function sendNotify(
  port: number,
  zone: string,
  source = '127.0.0.1',
): Promise<Buffer | null> {
  return new Promise((resolvePromise) => {
    const s = dgram.createSocket('udp4');
    const packet = encode({
      id: 4242,
      type: 'query',
      flags: (4 << 11) | 0x0400,
      questions: [{ name: zone, type: 'SOA', class: 'IN' }],
    } as never);
    const timer = setTimeout(() => {
      s.close();
      resolvePromise(null);
    }, 2000);
    s.on('message', (m) => {
      clearTimeout(timer);
      s.close();
      resolvePromise(m);
    });
    s.bind(0, source, () => s.send(packet, port, '127.0.0.1'));
  });
}
