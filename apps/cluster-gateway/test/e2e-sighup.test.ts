import { setTimeout as sleep } from 'node:timers/promises';
import { AppProcess, assertBuilt, type TempDir, tempDir } from '@mdns/testkit';
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
    const gw = await AppProcess.start(MAIN, file, { name: 'gateway' });
    try {
      gw.signal('SIGHUP');
      await sleep(1000);
      expect(gw.alive).toBe(true);
      expect(gw.logs.some((l) => l.msg?.includes('does not reload its config'))).toBe(true);
      expect((await gw.query('prod.example.tld', 'SOA', { timeoutMs: 2000 })).rcode).toBe(0);
    } finally {
      await gw.stop();
    }
  });
});
