import { setTimeout as sleep } from 'node:timers/promises';
import {
  AppProcess,
  assertBuilt,
  type TempDir,
  tempDir,
  WORKER_COUNTS,
  workersListenPort,
} from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askEvery } from './support/answers.js';
import { listenWith, MAIN, testConfig } from './support/gateway.js';

// Found by reliability/: the gateway had no SIGHUP handler, so the signal operators send to
// reload a config (kill -HUP, systemd reload) terminated it and took the zone down. With
// listen.workers 2 the signal reaches the primary, which passes it to every worker: none may
// die of it (issue #21).
describe.each(WORKER_COUNTS)('SIGHUP (real process), listen.workers: %i', (workers) => {
  beforeAll(() => assertBuilt(MAIN));
  let dir: TempDir;
  afterAll(() => dir?.remove());

  it('keeps running and answering, and says that it does not reload', async () => {
    dir = tempDir();
    const config = testConfig({
      // Port 0, or a fixed port where the workers cannot share one socket (Bun).
      listen: listenWith(workers, await workersListenPort(workers)),
      sources: { kubernetes: { enabled: false } },
    });
    const file = dir.write('gateway.yaml', JSON.stringify(config));
    const gw = await AppProcess.start(MAIN, file, { name: 'gateway' });
    try {
      gw.signal('SIGHUP');
      await sleep(1000);
      expect(gw.alive).toBe(true);
      // Every worker that answers says so (one process: its own line).
      const said = gw.logs.filter((l) => l.msg?.includes('does not reload its config'));
      expect(said).toHaveLength(workers);
      expect((await askEvery(gw, 'prod.example.tld', 'SOA')).rcode).toBe('NOERROR');
      // No worker died of it and was restarted: the ones that started are the ones serving.
      for (const l of gw.logs.filter((l) => l.msg === 'listening' && l.pid !== undefined)) {
        expect(() => process.kill(l.pid as number, 0)).not.toThrow();
      }
      expect(gw.logs.filter((l) => l.msg === 'listening')).toHaveLength(workers);
    } finally {
      await gw.stop();
    }
  });
});
