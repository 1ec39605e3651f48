import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertBuilt, type TempDir, tempDir } from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAIN, testConfig } from './support/gateway.js';

// Found by reliability/: the gateway had no SIGHUP handler, so the signal operators send to
// reload a config (kill -HUP, systemd reload) terminated it and took the zone down.
describe('SIGHUP (real process)', () => {
  beforeAll(() => assertBuilt(MAIN));
  let dir: TempDir;
  afterAll(() => dir?.remove());

  it('keeps running and answering, and says that it does not reload', async () => {
    dir = tempDir();
    const config = testConfig({ sources: { kubernetes: { enabled: false } } });
    const file = dir.write('gateway.yaml', JSON.stringify(config));
    const child = spawn(process.execPath, [MAIN, '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    let exited: string | null = null;
    child.on('exit', (code, signal) => {
      exited = `${code ?? signal}`;
    });
    try {
      const end = Date.now() + 20_000;
      while (!out.includes('"listening"') && Date.now() < end) await sleep(25);
      const port = Number(/"dnsPort":(\d+)/.exec(out)?.[1]);
      expect(port).toBeGreaterThan(0);
      child.kill('SIGHUP');
      await sleep(1000);
      expect(exited).toBeNull();
      expect(out).toContain('does not reload its config');
      const r = await dnsQuery({
        host: '127.0.0.1',
        port,
        name: 'prod.example.tld',
        type: 'SOA',
        timeoutMs: 2000,
      });
      expect(r.rcode).toBe(0);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (exited !== null ? r(null) : child.once('exit', r)));
    }
  });
});
