import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dnsQuery } from '@mdns/transport';

/** One Knot DNS server (a stand-in "cluster") serving `zone` from `records` on loopback. */
export interface Knot {
  port: number;
  proc: ChildProcess;
  stop(): Promise<void>;
}

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
  throw new Error('no free port for knotd');
}

export async function startKnot(zone: string, records: string[]): Promise<Knot> {
  const dir = mkdtempSync(join(tmpdir(), 'knot-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'zone'),
    [
      `$ORIGIN ${zone}.`,
      '$TTL 60',
      `@ SOA ns.${zone}. host.${zone}. 1 60 60 60 30`,
      `@ NS ns.${zone}.`,
      `ns A 192.0.2.1`,
      ...records,
      '',
    ].join('\n'),
  );
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
      'control:',
      `  listen: ${join(dir, 'knot.sock')}`,
      'log:',
      '  - target: stderr',
      '    any: error',
      'template:',
      '  - id: default',
      `    storage: ${dir}`,
      'zone:',
      `  - domain: ${zone}`,
      `    file: ${join(dir, 'zone')}`,
      '',
    ].join('\n'),
  );
  const proc = spawn('knotd', ['-c', join(dir, 'knot.conf')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Ready when it answers the apex SOA (bounded wait).
  let ready = false;
  for (let i = 0; i < 50 && !ready && proc.exitCode === null; i++) {
    try {
      const r = await dnsQuery({
        host: '127.0.0.1',
        port,
        name: zone,
        type: 'SOA',
        timeoutMs: 200,
      });
      ready = r.rcode === 0;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  if (!ready) {
    proc.kill('SIGKILL');
    throw new Error(`knotd did not start on port ${port}: ${stderr}`);
  }
  return {
    port,
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (proc.exitCode !== null || proc.signalCode !== null) return done();
        proc.once('exit', done);
        proc.kill('SIGTERM');
      }),
  };
}
