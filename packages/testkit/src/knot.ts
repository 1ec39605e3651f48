import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port free for both UDP and TCP right now (knotd and unbound need a fixed one). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
    const port = udp.address().port;
    const tcp = net.createServer();
    const ok = await new Promise<boolean>((r) => {
      tcp.once('error', () => r(false));
      tcp.listen(port, '127.0.0.1', () => r(true));
    });
    udp.close();
    if (ok) {
      await new Promise<void>((r) => tcp.close(() => r()));
      return port;
    }
  }
  throw new Error('no free port for both UDP and TCP on 127.0.0.1');
}

/**
 * The `startKnotd` lines that make Knot a secondary of one of our servers (the gateway or
 * the authority as a primary) on loopback: a TSIG key (hmac-sha256, base64 `secret`), the
 * primary at `127.0.0.1@primaryPort`, NOTIFY accepted from it only when signed with the
 * key, transfers out of Knot's copy allowed from loopback (so a test can `kdig axfr` it).
 */
export function knotSecondaryOf(options: {
  zone: string;
  key: string;
  secret: string;
  primaryPort: number;
}): string[] {
  const { zone, key, secret, primaryPort } = options;
  return [
    'key:',
    `  - id: ${key}`,
    '    algorithm: hmac-sha256',
    `    secret: ${secret}`,
    'remote:',
    '  - id: primary',
    `    address: 127.0.0.1@${primaryPort}`,
    `    key: ${key}`,
    'acl:',
    '  - id: notify-from-primary',
    '    address: 127.0.0.1',
    `    key: ${key}`,
    '    action: notify',
    '  - id: transfer-out',
    '    address: 127.0.0.1',
    '    action: transfer',
    'template:',
    '  - id: default',
    '    storage: DIR',
    'zone:',
    `  - domain: ${zone}`,
    '    master: primary',
    '    acl: [notify-from-primary, transfer-out]',
  ];
}

/** A knotd on loopback: a DNS server that is not ours (its own parser, zone logic, log). */
export interface Knotd {
  port: number;
  dir: string;
  proc: ChildProcess;
  /** Everything knotd wrote to stderr (log level info). */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts knotd (one UDP and one TCP worker, the fair peer for one Node process) with the
 * `server`, `database` and `log` sections filled in and `rest` after them (remotes, acls,
 * templates, zones, control; `DIR` in it is replaced by its temp directory). `files` are
 * written into that directory first (zone files). Resolves once knotd logs that it started.
 */
export async function startKnotd(
  rest: readonly string[],
  files: Record<string, string> = {},
): Promise<Knotd> {
  const dir = mkdtempSync(join(tmpdir(), 'knot-'));
  const port = await freePort();
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(
    join(dir, 'knot.conf'),
    [
      'server:',
      `  rundir: ${dir}`,
      `  listen: 127.0.0.1@${port}`,
      '  udp-workers: 1',
      '  tcp-workers: 1',
      '  background-workers: 1',
      'database:',
      `  storage: ${dir}`,
      'log:',
      '  - target: stderr',
      '    any: info',
      ...rest.map((l) => l.replaceAll('DIR', dir)),
      '',
    ].join('\n'),
  );
  const proc = spawn('knotd', ['-c', join(dir, 'knot.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  proc.stderr?.on('data', (c: Buffer) => {
    log += c.toString();
  });
  // Ready once it says so (it has bound its sockets); bounded.
  for (let i = 0; i < 250 && !/server started/.test(log) && proc.exitCode === null; i++) {
    await new Promise((r) => setTimeout(r, 40));
  }
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.once('exit', done);
      proc.kill('SIGTERM');
    });
  if (!/server started/.test(log)) {
    proc.kill('SIGKILL');
    await stop();
    throw new Error(`knotd did not start on port ${port}: ${log}`);
  }
  return { port, dir, proc, log: () => log, stop };
}
