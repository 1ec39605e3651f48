import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Notifier } from '../src/notify/notifier.js';

// An oracle that is not ours: Knot DNS as a secondary for ZONE receives the gateway's NOTIFY
// (RFC 1996), decodes it with its own parser, logs it and acknowledges it; for a zone it
// does not serve it answers NOTAUTH. notify.test.ts checks the message with our decoder.
const ZONE = 'prod.example.tld';

/** A port free for both UDP and TCP right now (knotd needs a fixed one). */
async function freePort(): Promise<number> {
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

async function until(what: string, check: () => boolean, polls = 250): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`not reached after ${polls} polls: ${what}`);
}

describe('NOTIFY received by Knot (secondary for the zone)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'knot-notify-'));
  let knot: ChildProcess;
  let port = 0;
  let log = '';

  beforeAll(async () => {
    port = await freePort();
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
        // The primary it would refresh from after a NOTIFY; nothing listens there (discard).
        'remote:',
        '  - id: primary',
        '    address: 127.0.0.1@9',
        'acl:',
        '  - id: notify-from-gateway',
        '    address: 127.0.0.1',
        '    action: notify',
        'template:',
        '  - id: default',
        `    storage: ${dir}`,
        'zone:',
        `  - domain: ${ZONE}`,
        '    master: primary',
        '    acl: notify-from-gateway',
        '',
      ].join('\n'),
    );
    knot = spawn('knotd', ['-c', join(dir, 'knot.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    knot.stderr?.on('data', (c: Buffer) => {
      log += c.toString();
    });
    await until('knotd started', () => /\bstarted\b/.test(log) || knot.exitCode !== null);
    if (knot.exitCode !== null) throw new Error(`knotd exited: ${log}`);
  });

  afterAll(async () => {
    if (knot && knot.exitCode === null) {
      const exited = new Promise((r) => knot.once('exit', r));
      knot.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('Knot decodes our NOTIFY for its zone and acks it; a zone it does not serve is refused', async () => {
    const n = new Notifier({
      targets: [{ address: '127.0.0.1', port }],
      zones: [ZONE, 'other.example.tld'],
      debounceMs: 50,
      timeoutMs: 1000,
      retries: 2,
      logger: { info() {}, warn() {} },
    });
    try {
      n.changed();
      await until(
        'both NOTIFYs answered',
        () => n.counters.acknowledged + n.counters.rejected >= 2,
      );
      expect(n.counters).toMatchObject({ acknowledged: 1, rejected: 1, failed: 0 });
      // Knot's own reading of the message: a NOTIFY for the zone, from us.
      expect(log).toMatch(
        new RegExp(
          `\\[${ZONE.replaceAll('.', '\\.')}\\.\\] notify, incoming, remote 127\\.0\\.0\\.1@\\d+`,
        ),
      );
    } finally {
      await n.stop();
    }
  });
});
