/** The CLI as a real process, driven through the HTTP control routes. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, ingress, rawWatch, until } from './fixtures.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('cli: node dist/cli.js --manifests DIR', () => {
  let child: ChildProcess;
  let dir: string;
  let ready: { url: string; port: number; kubeconfigPath: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'standin-cli-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(ingress('a', 'a.test')));
    writeFileSync(
      join(dir, 'b.json'),
      JSON.stringify({ kind: 'List', items: [ingress('b', 'b.test'), ingress('c', 'c.test')] }),
    );
    child = spawn(process.execPath, [CLI, '--manifests', dir, '--kinds', 'ingresses,services']);
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    await until('ready line', () => out.includes('\n'), 20_000);
    ready = JSON.parse(out.split('\n')[0]);
  });

  afterAll(async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the manifests and only the chosen kinds', async () => {
    const list = await getJson(`${ready.url}/apis/networking.k8s.io/v1/ingresses`);
    expect(list.body.items.map((o: any) => o.metadata.name)).toEqual(['a', 'b', 'c']);
    expect((await getJson(`${ready.url}/apis`)).body.groups).toHaveLength(1);
    expect(ready.kubeconfigPath).toMatch(/kubeconfig\.yaml$/);
  });

  it('control routes: apply, drop, state', async () => {
    const w = await rawWatch(
      `${ready.url}/apis/networking.k8s.io/v1/ingresses?watch=true&resourceVersion=0`,
    );
    await until('initial', () => w.events.length === 3);
    const applied = await fetch(`${ready.url}/_standin/apply`, {
      method: 'POST',
      body: JSON.stringify(ingress('d', 'd.test')),
    });
    expect(applied.status).toBe(200);
    await until('ADDED d', () => w.events.length === 4);
    const state = await getJson(`${ready.url}/_standin/state`);
    expect(state.body.openWatches).toBe(1);
    const drop = await getJson(`${ready.url}/_standin/drop`);
    expect(drop.body.dropped).toBe(1);
    expect(await w.ended).toEqual({ clean: false });
    const bad = await fetch(`${ready.url}/_standin/apply`, {
      method: 'POST',
      body: JSON.stringify({ kind: 'Nope', metadata: { name: 'x' } }),
    });
    expect(bad.status).toBe(400);
  });
});
