import { writeFileSync } from 'node:fs';
import { decode, encode } from '@mdns/protocol';
import {
  AppProcess,
  appMain,
  defaultRuntime,
  fixedListenPort,
  type LogLine,
  type Runtime,
  tempDir,
  udpExchange,
  yamlWithListenPort,
} from '@mdns/testkit';
import { dnsQuery, dnsQueryRaw } from '@mdns/transport';

export const MAIN = appMain('fanout-authority');

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
  /** The process itself: logs, signals, exit. */
  server: AppProcess;
  ports: { dns: number; metrics: number; health: number; ready: number; explain: number | null };
  logs: LogLine[];
  stderr: string[];
  /** A non-recursive query to the DNS port, decoded. */
  query(
    name: string,
    type: string,
    options?: { tcp?: boolean; timeoutMs?: number },
  ): Promise<Answer>;
  waitForLog(pred: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Writes the config file (with the fixed port start chose on Bun, see `startAuthority`). */
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
  return upstreamFailures(auth, upstream, 'timeout');
}

/** `mdns_authority_upstream_failures_total` of one upstream: of one kind, or of every kind. */
export async function upstreamFailures(
  auth: Authority,
  upstream: string,
  kind?: string,
): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${auth.ports.metrics}/metrics`)).text();
  return text
    .split('\n')
    .filter(
      (l) =>
        l.startsWith('mdns_authority_upstream_failures_total{') &&
        l.includes(`upstream="${upstream}"`) &&
        (kind === undefined || l.includes(`kind="${kind}"`)),
    )
    .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
}

/**
 * Starts the authority on `yaml`. With several workers on Bun its `listen` port 0 becomes a
 * free fixed port (`fixedListenPort`: Bun's workers cannot share one socket), in the file
 * `writeConfig` writes later too; `keepPort: true` starts the config as written.
 */
export async function startAuthority(
  yaml: string,
  options: { runtime?: Runtime; keepPort?: boolean } = {},
): Promise<Authority> {
  const { keepPort = false, ...processOptions } = options;
  const port = keepPort
    ? null
    : await fixedListenPort(yaml, processOptions.runtime ?? defaultRuntime());
  const onPort = (text: string) => (port === null ? text : yamlWithListenPort(text, port));
  const dir = tempDir('fanout-authority-');
  const configPath = dir.write('authority.yaml', onPort(yaml));
  const started = AppProcess.start(MAIN, configPath, { timeoutMs: 10_000, ...processOptions });
  const server = await started.catch((err) => {
    dir.remove();
    throw err;
  });
  const ports = {
    dns: server.dnsPort,
    ...server.opsPorts,
    explain: server.explainPort,
  };
  return {
    dir: dir.path,
    configPath,
    server,
    ports,
    logs: server.logs,
    stderr: server.stderr,
    waitForLog: (pred, timeoutMs = 10_000) => server.waitForLog(pred, timeoutMs),
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
      writeFileSync(configPath, onPort(text));
    },
    async stop() {
      const code = await server.stop(10_000);
      dir.remove();
      return code;
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
  const packet = encode({
    id: 4242,
    type: 'query',
    flags: (4 << 11) | 0x0400,
    questions: [{ name: zone, type: 'SOA', class: 'IN' }],
  } as never);
  return udpExchange(port, packet, { source, timeoutMs: 2000 });
}

/** The answer as a short string: the addresses, NODATA, or the rcode (AA=0 for a data answer without AA). */
export function summary(r: Answer): string {
  if (r.rcode === 2) return 'SERVFAIL';
  if (!r.aa) return 'AA=0';
  if (r.rcode === 3) return 'NXDOMAIN';
  if (r.rcode !== 0) return `rcode ${r.rcode}`;
  return r.answers.map((x) => `${x.data}`).join(',') || 'NODATA';
}

/**
 * 24 queries at once, each from its own UDP socket, and 4 over TCP (one connection each).
 * With listen.workers > 1 the OS hands each UDP query to either worker and the TCP
 * connections are handed out in turn, so a burst reaches every worker: what one answers
 * from state another learned is checked in every answer.
 */
export async function burst(auth: Authority, name: string, type = 'A'): Promise<Answer[]> {
  const udp = Array.from({ length: 24 }, () => auth.query(name, type, { timeoutMs: 5000 }));
  const tcp = Array.from({ length: 4 }, () =>
    auth.query(name, type, { tcp: true, timeoutMs: 5000 }),
  );
  return Promise.all([...udp, ...tcp]);
}

/**
 * Until `/ready` says ready: every start-up probe has answered or given up (at most the
 * timeout ceiling), in every worker. A test that counts an upstream's failures starts from
 * here, so a probe still in flight cannot time out in the middle of its count.
 */
export async function untilReady(auth: Authority): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await fetch(`http://127.0.0.1:${auth.ports.ready}/ready`).catch(() => null);
    if (r && ((await r.json()) as { ready: boolean }).ready) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('authority never ready');
}
