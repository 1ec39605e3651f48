import { afterAll, describe, expect, it } from 'vitest';
import { AppProcess, type TempDir, tempDir } from '../src/index.js';

// A stand-in "app" (plain Node, no build needed): it reads its --config (JSON: what to do),
// logs the `listening` line both apps log, and serves /ready (503 until readyAfterMs).
const FAKE_APP = `
const http = require('node:http');
const fs = require('node:fs');
const cfg = JSON.parse(fs.readFileSync(process.argv[process.argv.indexOf('--config') + 1], 'utf8'));
process.stderr.write('starting on stderr\\n');
if (cfg.die) { process.stderr.write('bad option: --nonsense'); process.exit(2); }
if (cfg.silent) { setInterval(() => {}, 1000); return; }
const started = Date.now();
const server = http.createServer((req, res) => {
  res.statusCode = Date.now() - started >= cfg.readyAfterMs ? 200 : 503;
  res.end('{}');
});
server.listen(0, '127.0.0.1', () => {
  const port = server.address().port;
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
  console.log(JSON.stringify({ msg: 'listening', dnsHost: '127.0.0.1', dnsPort: 5353,
    opsPorts: { metrics: port, health: port, ready: port }, explainPort: null }));
});
`;

describe('AppProcess (a stand-in app, real processes)', () => {
  let dir: TempDir;
  afterAll(() => dir?.remove());
  const app = (config: object) => {
    dir ??= tempDir('app-process-');
    const name = `c${Math.random().toString(36).slice(2)}`;
    return {
      main: dir.write('fake-app.cjs', FAKE_APP),
      config: dir.write(`${name}.json`, JSON.stringify(config)),
    };
  };

  it('learns the ports from `listening`, passes each line on, waits for /ready, stops', async () => {
    const { main, config } = app({ readyAfterMs: 300 });
    const lines: string[] = [];
    const proc = await AppProcess.start(main, config, {
      onLine: (line, stream) => lines.push(`${stream}: ${line}`),
    });
    expect(proc.dnsPort).toBe(5353);
    expect(proc.opsPort).toBeGreaterThan(0);
    expect(proc.explainPort).toBeNull();
    expect((await proc.http('/ready')).status).toBe(503);
    await proc.waitReady(5000);
    expect((await proc.http('/ready')).status).toBe(200);
    expect(lines).toContain('stderr: starting on stderr');
    expect(lines.some((l) => l.startsWith('stdout: {"msg":"listening"'))).toBe(true);
    expect(await proc.stop()).toBe(0);
    await proc.closed;
    expect(proc.alive).toBe(false);
  });

  it('a process that exits while starting rejects with its last words', async () => {
    const { main, config } = app({ die: true });
    await expect(AppProcess.start(main, config, { name: 'dying' })).rejects.toThrow(
      /exited 2 first; dying: .*bad option: --nonsense/s,
    );
  });

  it('an abort while it starts stops the process', async () => {
    const { main, config } = app({ silent: true });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 200);
    await expect(
      AppProcess.start(main, config, { name: 'silent', signal: abort.signal, timeoutMs: 20_000 }),
      // Not the 20 s timeout's message: the abort ended the wait (and stopped the process).
    ).rejects.toThrow('silent: start aborted');
  });
});
