import { describe, expect, it } from 'vitest';
import { combineHealth, combineReady, restartDelayMs } from '../src/workers/ipc.js';
import { workerStartSecond } from '../src/workers/primary.js';
import {
  listenSocketOptions,
  planWorkers,
  supportsReusePort,
  workerSocketMode,
} from '../src/workers/sockets.js';
import { startedAtSeconds } from '../src/workers/worker.js';

const node20 = { nodeVersion: '20.20.2', platform: 'linux' };
const node24 = { nodeVersion: '24.11.1', platform: 'linux' };
// Bun 1.4.4 reports process.versions.node 26.3.0.
const bun = { nodeVersion: '26.3.0', platform: 'linux', runtime: 'bun' as const };

describe('supportsReusePort', () => {
  it.each([
    ['20.20.2', 'linux', false],
    ['22.11.0', 'linux', false],
    ['22.12.0', 'linux', true],
    ['23.0.0', 'linux', false],
    ['23.1.0', 'linux', true],
    ['24.0.0', 'linux', true],
    ['24.11.1', 'darwin', false],
  ])('Node %s on %s: %s', (version, platform, expected) => {
    expect(supportsReusePort(version, platform)).toBe(expected);
  });
});

describe('workerSocketMode', () => {
  const base = { workers: 2, port: 53 };
  it('auto: reuseport where Node has it and the port is fixed, shared otherwise', () => {
    expect(workerSocketMode({ ...base, setting: 'auto', ...node24 })).toBe('reuseport');
    expect(workerSocketMode({ ...base, setting: 'auto', ...node20 })).toBe('shared');
    expect(workerSocketMode({ ...base, port: 0, setting: 'auto', ...node24 })).toBe('shared');
  });
  it('shared is always possible', () => {
    expect(workerSocketMode({ ...base, setting: 'shared', ...node20 })).toBe('shared');
    expect(workerSocketMode({ ...base, setting: 'shared', ...node24 })).toBe('shared');
  });
  it('reuseport where it cannot work is an error naming the setting and the reason', () => {
    const old = workerSocketMode({ ...base, setting: 'reuseport', ...node20 });
    expect(old).toBeInstanceOf(Error);
    expect((old as Error).message).toMatch(/listen\.workerSockets.*Node >= 22\.12.*20\.20\.2/);
    const port0 = workerSocketMode({ ...base, port: 0, setting: 'reuseport', ...node24 });
    expect((port0 as Error).message).toMatch(/listen\.workerSockets.*fixed listen\.port/);
  });
  it('Bun: every worker binds its own socket, so port 0 is an error with any setting', () => {
    for (const setting of ['auto', 'shared', 'reuseport'] as const) {
      const port0 = workerSocketMode({ ...base, port: 0, setting, ...bun });
      expect(port0).toBeInstanceOf(Error);
      expect((port0 as Error).message).toMatch(/listen\.workers: 2 on Bun.*fixed listen\.port/);
    }
    expect(workerSocketMode({ ...base, setting: 'auto', ...bun })).toBe('reuseport');
    // Node with port 0 keeps sharing the primary's socket.
    expect(workerSocketMode({ ...base, port: 0, setting: 'auto', ...node24 })).toBe('shared');
  });
});

describe('planWorkers', () => {
  const listen = { port: 1053, workers: 2, workerSockets: 'auto' as const };
  it('one worker: this process alone with exclusive sockets', () => {
    expect(planWorkers({ ...listen, workers: 1 }, { isPrimary: true, ...node20 })).toEqual({
      role: 'single',
      sockets: { exclusive: true, reusePort: false },
    });
  });
  it('several: the primary supervises, workers share or reuse the port', () => {
    expect(planWorkers(listen, { isPrimary: true, ...node20 })).toEqual({
      role: 'primary',
      mode: 'shared',
    });
    expect(planWorkers(listen, { isPrimary: false, ...node20 })).toEqual({
      role: 'worker',
      mode: 'shared',
      sockets: { exclusive: false, reusePort: false },
    });
    expect(planWorkers(listen, { isPrimary: false, ...node24 })).toEqual({
      role: 'worker',
      mode: 'reuseport',
      sockets: { exclusive: true, reusePort: true },
    });
  });
  it('an impossible setting is an error before anything starts', () => {
    const plan = planWorkers(
      { ...listen, workerSockets: 'reuseport' },
      { isPrimary: true, ...node20 },
    );
    expect(plan).toBeInstanceOf(Error);
    const bunPort0 = planWorkers({ ...listen, port: 0 }, { isPrimary: true, ...bun });
    expect(bunPort0).toBeInstanceOf(Error);
  });
  it('listenSocketOptions per mode', () => {
    expect(listenSocketOptions('single')).toEqual({ exclusive: true, reusePort: false });
    expect(listenSocketOptions('shared')).toEqual({ exclusive: false, reusePort: false });
    expect(listenSocketOptions('reuseport')).toEqual({ exclusive: true, reusePort: true });
  });
});

describe('combineReady', () => {
  it('ready when every running worker is ready; a worker being restarted does not count', () => {
    const r = combineReady([
      { worker: 1, state: { ready: true, detail: { names: 3 } } },
      { worker: 2, state: 'missing' },
    ]);
    expect(r.ready).toBe(true);
    expect(r.detail).toEqual({
      workers: [
        { worker: 1, ready: true, detail: { names: 3 } },
        { worker: 2, ready: false, running: false },
      ],
    });
  });
  it('not ready when a running worker is not (a gateway still syncing) or did not answer', () => {
    expect(
      combineReady([
        { worker: 1, state: true },
        { worker: 2, state: false },
      ]).ready,
    ).toBe(false);
    const silent = combineReady([
      { worker: 1, state: true },
      { worker: 2, state: new Error('worker 2 did not answer within 2000 ms') },
    ]);
    expect(silent.ready).toBe(false);
    expect(JSON.stringify(silent.detail)).toContain('did not answer');
  });
  it('not ready with no worker running at all', () => {
    expect(combineReady([{ worker: 1, state: 'missing' }]).ready).toBe(false);
  });
});

describe('combineHealth', () => {
  it('alive while every running worker answers alive, and at least one runs', () => {
    expect(combineHealth([true, 'missing'])).toBe(true);
    expect(combineHealth([true, false])).toBe(false);
    expect(combineHealth([true, new Error('no answer')])).toBe(false);
    expect(combineHealth(['missing', 'missing'])).toBe(false);
  });
});

describe('restartDelayMs', () => {
  it('doubles per quick death up to the maximum', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n, 1000, 30_000))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });
});

describe('the start second workers share', () => {
  it('workers forked at start get the primary start second; a later restart its own', () => {
    expect(workerStartSecond(false, 1_800_000_000, 1_800_000_004_900)).toBe(1_800_000_000);
    expect(workerStartSecond(true, 1_800_000_000, 1_800_000_004_900)).toBe(1_800_000_004);
  });

  it('a worker reads the one it was given; anything else (or no worker) is now', () => {
    const now = 1_800_000_009_500;
    expect(startedAtSeconds({ MDNS_STARTED_AT: '1800000000' }, true, now)).toBe(1_800_000_000);
    expect(startedAtSeconds({ MDNS_STARTED_AT: '1800000000' }, false, now)).toBe(1_800_000_009);
    expect(startedAtSeconds({}, true, now)).toBe(1_800_000_009);
    expect(startedAtSeconds({ MDNS_STARTED_AT: 'soon' }, true, now)).toBe(1_800_000_009);
  });
});
