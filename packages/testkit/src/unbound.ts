import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort } from './knot.js';
import { tempDir } from './temp-dir.js';

const run = promisify(execFile);

/** A real recursive resolver (Unbound) that delegates `zone` to the server on 127.0.0.1:`stubPort`. */
export interface Unbound {
  port: number;
  proc: ChildProcess;
  /** `dig` through Unbound: the rcode name and the answer section as `owner TYPE data` lines. */
  dig(name: string, type: string): Promise<{ status: string; answers: string[] }>;
  stop(): Promise<void>;
}

/**
 * Unbound in the foreground on a `freePort()` (flags from the field notes: unprivileged,
 * loopback only, the RFC 6761 `test.` local zone lifted so the stub zone is asked), with a
 * stub zone `zone` at 127.0.0.1@`stubPort`. Resolves once it answers the zone's apex SOA
 * through the stub: the server behind it is up too.
 */
export async function startUnbound(zone: string, stubPort: number): Promise<Unbound> {
  const dir = tempDir('unbound-');
  const port = await freePort();
  const conf = dir.write(
    'unbound.conf',
    `server:
  interface: 127.0.0.1@${port}
  port: ${port}
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "${dir.path}"
  pidfile: "${dir.path}/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  do-ip6: no
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  domain-insecure: "${zone}"
  local-zone: "test." nodefault
  num-threads: 1
stub-zone:
  name: "${zone}"
  stub-addr: 127.0.0.1@${stubPort}
`,
  );
  const proc = spawn('unbound', ['-d', '-c', conf], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const dig = async (name: string, type: string) => {
    const { stdout } = await run('dig', [
      '@127.0.0.1',
      '-p',
      String(port),
      name,
      type,
      '+time=3',
      '+tries=1',
      '+noall',
      '+comments',
      '+answer',
    ]);
    const status = /status: (\w+)/.exec(stdout)?.[1] ?? 'none';
    const answers = stdout
      .split('\n')
      .filter((l) => l.trim() && !l.startsWith(';'))
      .map((l) => {
        const f = l.trim().split(/\s+/);
        return `${f[0]} ${f[3]} ${f.slice(4).join(' ')}`;
      });
    return { status, answers };
  };
  // Ready when it resolves the zone's apex SOA through the stub (bounded wait).
  let ready = false;
  for (let i = 0; i < 50 && !ready && proc.exitCode === null; i++) {
    ready = await dig(zone, 'SOA').then(
      (r) => r.status === 'NOERROR',
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  if (!ready) {
    proc.kill('SIGKILL');
    dir.remove();
    throw new Error(`unbound did not start on port ${port}: ${stderr}`);
  }
  return {
    port,
    proc,
    dig,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          dir.remove();
          resolve();
        };
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', done);
        proc.kill('SIGTERM');
      }),
  };
}
