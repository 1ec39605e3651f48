import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ops-proc-'));
const children: ChildProcess[] = [];

beforeAll(() => {
  if (!existsSync(join(here, '..', 'dist', 'index.js'))) {
    throw new Error('packages/ops/dist is missing: run `pnpm --filter @mdns/ops build` first');
  }
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stdout contains `text`; rejects after a generous bound. */
  waitFor: (text: string) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(script: string, args: string[] = [], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, [join(here, 'fixtures', script), ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const waitFor = async (text: string) => {
    const deadline = Date.now() + 15_000;
    while (!out.includes(text)) {
      if (Date.now() > deadline || child.exitCode !== null) {
        throw new Error(`child never printed ${text}; stdout:\n${out}\nstderr:\n${err}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { child, stdout: () => out, stderr: () => err, waitFor, exited };
}

const logLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));

describe('onSignals in a real process', () => {
  it('SIGTERM: shutdown hook, drain, exit 0', async () => {
    const p = run('signals-child.mjs', [], { DRAIN_MS: '200' });
    await p.waitFor('STARTED');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const out = p.stdout();
    expect(out.indexOf('SHUTDOWN')).toBeGreaterThan(-1);
    expect(out.indexOf('DRAINED')).toBeGreaterThan(out.indexOf('SHUTDOWN'));
    const logs = logLines(out);
    expect(logs.map((l) => l.msg)).toEqual(['shutting down: draining', 'drained, exiting']);
    expect(logs[0]).toMatchObject({ level: 'info', name: 'signals-child', reason: 'SIGTERM' });
    expect(typeof logs[0].time).toBe('string');
  });

  it('SIGTERM with a lame duck: not ready at once, the drain only after the lame duck', async () => {
    const p = run('signals-child.mjs', [], { LAME_DUCK_MS: '1500' });
    await p.waitFor('STARTED');
    p.child.kill('SIGTERM');
    await p.waitFor('LAME');
    // Still serving: no drain yet (the lame duck lasts 1.5 s; 300 ms is well inside it).
    await new Promise((r) => setTimeout(r, 300));
    expect(p.stdout()).not.toContain('SHUTDOWN');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const out = p.stdout();
    expect(out.indexOf('SHUTDOWN')).toBeGreaterThan(out.indexOf('LAME'));
    expect(out.indexOf('DRAINED')).toBeGreaterThan(out.indexOf('SHUTDOWN'));
    expect(logLines(out).map((l) => l.msg)).toEqual([
      'SIGTERM: lame duck, not ready but still answering',
      'lame duck over',
      'shutting down: draining',
      'drained, exiting',
    ]);
  });

  it('a second SIGTERM during the lame duck skips to the drain', async () => {
    // A lame duck far longer than the test's bound: only the second signal can end it.
    const p = run('signals-child.mjs', [], { LAME_DUCK_MS: '600000' });
    await p.waitFor('STARTED');
    p.child.kill('SIGTERM');
    await p.waitFor('LAME');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    const msgs = logLines(p.stdout()).map((l) => l.msg);
    expect(msgs).toContain('second SIGTERM: lame duck cut short');
    expect(msgs).not.toContain('lame duck over');
    expect(p.stdout()).toContain('DRAINED');
  });

  it('a drain that overruns its bound exits 1 without waiting for it', async () => {
    const p = run('signals-child.mjs', [], { DRAIN_MS: '60000', DRAIN_TIMEOUT_MS: '300' });
    await p.waitFor('STARTED');
    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 1, signal: null });
    expect(p.stdout()).not.toContain('DRAINED');
    expect(logLines(p.stdout()).at(-1)).toMatchObject({ level: 'error', drainTimeoutMs: 300 });
  });

  it('a second SIGINT exits at once with 130', async () => {
    const p = run('signals-child.mjs', [], { DRAIN_MS: '60000' });
    await p.waitFor('STARTED');
    p.child.kill('SIGINT');
    await p.waitFor('SHUTDOWN');
    p.child.kill('SIGINT');
    expect(await p.exited).toEqual({ code: 130, signal: null });
  });

  it('SIGHUP calls hup and keeps running', async () => {
    const p = run('signals-child.mjs');
    await p.waitFor('STARTED');
    p.child.kill('SIGHUP');
    await p.waitFor('HUP');
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});

describe('an app main built from runCli + startProcessOps + watchConfig + onSignals', () => {
  it('a bad config at start: every error on stderr, exit 2', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: x\nupstreams:\n  - address: 300.1.1.1\nnmae: y\n');
    const p = run('app-child.mjs', ['--config', file]);
    expect((await p.exited).code).toBe(2);
    expect(p.stderr()).toBe(
      `app-child: invalid config ${file}:\n` +
        '  upstreams[0].address: expected an IPv4 or IPv6 address\n' +
        '  nmae: unknown key\n',
    );
  });

  it('--check-config: "config OK", exit 0', async () => {
    const file = join(dir, 'ok.yaml');
    writeFileSync(file, 'name: x\n');
    const p = run('app-child.mjs', ['--config', file, '--check-config']);
    expect((await p.exited).code).toBe(0);
    expect(p.stdout()).toBe(`config OK: ${file}\n`);
  });

  it('serves /ready, reloads a changed file, keeps the old on a bad one, drains on SIGTERM', async () => {
    const file = join(dir, 'app.yaml');
    writeFileSync(file, 'name: first\n');
    const p = run('app-child.mjs', ['--config', file], { APP_NAME: '' });
    await p.waitFor('"msg":"started"');
    const { port } = logLines(p.stdout()).find((l) => l.msg === 'started');
    const ready = async () => (await fetch(`http://127.0.0.1:${port}/ready`)).json();
    expect(await ready()).toEqual({ ready: true, detail: { name: 'first' } });

    writeFileSync(file, 'name: second\n');
    await p.waitFor('config reloaded');
    expect(await ready()).toEqual({ ready: true, detail: { name: 'second' } });

    writeFileSync(file, 'name: [\n');
    await p.waitFor('config rejected');
    expect(await ready()).toEqual({ ready: true, detail: { name: 'second' } });

    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
  });
});

describe('siblings between real cluster workers (listen.workers: 3)', () => {
  it('a question gets the sibling that has the answer; nobody: null at once; events reach the others', async () => {
    const p = run('siblings-child.mjs');
    await p.waitFor('"msg":"asked"');
    const asked = logLines(p.stdout()).find((l) => l.msg === 'asked');
    expect(asked).toMatchObject({
      worker: 1,
      found: { 2: 'worker 2', 3: 'worker 3' },
      nobody: null,
      noTopic: null,
    });
    await p.waitFor('"msg":"heard hello"');
    await vi.waitFor(() => {
      const heard = logLines(p.stdout()).filter((l) => l.msg === 'heard hello');
      expect(heard.map((l) => l.worker).sort()).toEqual([2, 3]);
    });
    p.child.kill('SIGTERM');
    expect((await p.exited).code).toBe(0);
  });
});
