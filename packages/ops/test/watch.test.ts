import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfigFile } from '../src/config/load.js';
import { type ConfigWatcher, watchConfig } from '../src/config/watch.js';
import { testSchema } from './fixtures/schema.js';

const root = mkdtempSync(join(tmpdir(), 'ops-watch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const configText = (name: string) => `cluster:\n  name: ${name}\n`;

let watcher: ConfigWatcher | undefined;
afterEach(() => {
  watcher?.close();
  watcher = undefined;
});

/** vi.waitFor with a bound that fits a file watcher (its own default is 1 s). */
const eventually = (check: () => void) => vi.waitFor(check, { timeout: 5000, interval: 25 });

const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

function watched(path: string) {
  const applied: string[] = [];
  const rejected: string[][] = [];
  const unchanged = { checks: 0 };
  watcher = watchConfig(path, {
    load: () => loadConfigFile(path, testSchema),
    onValid: (c) => applied.push(c.cluster.name),
    onInvalid: (errors) => rejected.push(errors),
    debounceMs: 50,
    // Only the directory watch: the polling safety net would hide a broken watch.
    pollIntervalMs: 0,
    onUnchanged: () => unchanged.checks++,
  });
  return { applied, rejected, unchanged };
}

function freshDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
}

describe('watchConfig', () => {
  it('applies a valid change written in place', async () => {
    const file = join(freshDir('inplace'), 'config.yaml');
    writeFileSync(file, configText('one'));
    const { applied, rejected } = watched(file);
    await settle(100);
    writeFileSync(file, configText('two'));
    await eventually(() => expect(applied).toEqual(['two']));
    expect(rejected).toEqual([]);
  });

  it('never applies a broken file; the next good one applies', async () => {
    const file = join(freshDir('broken'), 'config.yaml');
    writeFileSync(file, configText('one'));
    const { applied, rejected } = watched(file);
    await settle(100);
    writeFileSync(file, 'cluster:\n  name: two\n  nmae: typo\n');
    await eventually(() => expect(rejected).toEqual([['cluster.nmae: unknown key']]));
    expect(applied).toEqual([]);
    writeFileSync(file, 'cluster: [\n');
    await eventually(() => expect(rejected).toHaveLength(2));
    expect(rejected[1][0]).toMatch(/config\.yaml:2:1: /);
    writeFileSync(file, configText('three'));
    await eventually(() => expect(applied).toEqual(['three']));
  });

  it('picks up a file renamed into place (editor / atomic write)', async () => {
    const dir = freshDir('rename');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText('one'));
    const { applied } = watched(file);
    await settle(100);
    writeFileSync(join(dir, '.config.yaml.tmp'), configText('two'));
    renameSync(join(dir, '.config.yaml.tmp'), file);
    await eventually(() => expect(applied).toEqual(['two']));
    // The new inode is watched too: a second swap also lands.
    writeFileSync(join(dir, '.config.yaml.tmp'), configText('three'));
    renameSync(join(dir, '.config.yaml.tmp'), file);
    await eventually(() => expect(applied).toEqual(['two', 'three']));
  });

  it('follows a Kubernetes ConfigMap ..data symlink swap', async () => {
    const dir = freshDir('configmap');
    mkdirSync(join(dir, '..v1'));
    writeFileSync(join(dir, '..v1', 'config.yaml'), configText('one'));
    symlinkSync('..v1', join(dir, '..data'));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    const file = join(dir, 'config.yaml');
    const { applied } = watched(file);
    await settle(100);
    // What the kubelet does: write a new timestamped dir, then atomically swap ..data.
    mkdirSync(join(dir, '..v2'));
    writeFileSync(join(dir, '..v2', 'config.yaml'), configText('two'));
    symlinkSync('..v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v1'), { recursive: true });
    await eventually(() => expect(applied).toEqual(['two']));
    // And again, now that the original target is gone.
    mkdirSync(join(dir, '..v3'));
    writeFileSync(join(dir, '..v3', 'config.yaml'), configText('three'));
    symlinkSync('..v3', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    rmSync(join(dir, '..v2'), { recursive: true });
    await eventually(() => expect(applied).toEqual(['two', 'three']));
  });

  it('ignores events that do not change the content', async () => {
    const dir = freshDir('same');
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText('one'));
    const { applied, rejected, unchanged } = watched(file);
    await settle(100);
    writeFileSync(file, configText('one'));
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    // The events were seen and checked (not missed), and the check found nothing new.
    await eventually(() => expect(unchanged.checks).toBeGreaterThan(0));
    expect(applied).toEqual([]);
    expect(rejected).toEqual([]);
  });

  it('reloads on SIGHUP even when unchanged, and stops after close()', async () => {
    const file = join(freshDir('hup'), 'config.yaml');
    writeFileSync(file, configText('one'));
    const { applied } = watched(file);
    process.emit('SIGHUP', 'SIGHUP');
    await eventually(() => expect(applied).toEqual(['one']));
    watcher?.close();
    process.emit('SIGHUP', 'SIGHUP');
    writeFileSync(file, configText('two'));
    await settle();
    expect(applied).toEqual(['one']);
    expect(process.listenerCount('SIGHUP')).toBe(0);
  });
});
