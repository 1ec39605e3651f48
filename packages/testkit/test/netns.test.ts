import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createNetLab, type NetLab, netLabUnavailable, removeStaleLabs } from '../src/index.js';

// createNetLab with real namespaces (root only): the nodes reach each other and the test's
// own namespace, a cut is silence in both directions, a heal undoes it, and the lab of a
// killed test process is removed by the next one while a live one's is kept.

const unavailable = netLabUnavailable();
if (unavailable !== null) console.warn(`netns.test skipped: ${unavailable}`);

const namespaces = () => execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });

/**
 * A UDP query to port 53 of `address` from `node`'s namespace, where nothing listens:
 * "refused" (an ICMP port unreachable came back: the address is reachable) or "silent".
 */
async function probe(lab: NetLab, node: string, address: string): Promise<'refused' | 'silent'> {
  const out = await lab.exec(node, ['dig', '+time=1', '+tries=1', `@${address}`, 'probe.test']);
  if (/connection refused/.test(out)) return 'refused';
  if (/timed out/.test(out)) return 'silent';
  throw new Error(`dig said neither: ${out}`);
}

describe.skipIf(unavailable !== null)('createNetLab', () => {
  let lab: NetLab | undefined;
  afterAll(async () => {
    await lab?.destroy();
  });

  it('nodes reach each other over IPv4 and IPv6; a cut is silence both ways until healed', async () => {
    lab = await createNetLab(['x', 'y']);
    const [x, y] = [lab.node('x'), lab.node('y')];
    expect(namespaces()).toContain(x.netns);
    expect(await probe(lab, 'x', y.ipv4)).toBe('refused');
    expect(await probe(lab, 'x', y.ipv6)).toBe('refused');
    await lab.cut('y', 'x');
    expect(await probe(lab, 'x', y.ipv4)).toBe('silent');
    expect(await probe(lab, 'y', x.ipv6)).toBe('silent');
    // Only that link: the test's own namespace still reaches y.
    expect(await probe(lab, 'x', lab.host.ipv4)).toBe('refused');
    await lab.heal('y', 'x');
    expect(await probe(lab, 'x', y.ipv4)).toBe('refused');
    expect(await probe(lab, 'y', x.ipv6)).toBe('refused');
    await lab.destroy();
    expect(namespaces()).not.toContain(lab.id);
  });

  it("a killed run's lab is removed at the next start; a live run's is kept", async () => {
    lab = await createNetLab(['live']);
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    // A test process that builds a lab and is killed before it can clean up.
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { createNetLab } = await import(${JSON.stringify(dist)});
         const lab = await createNetLab(['orphan']);
         console.log(lab.id);
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const orphanId = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (d) => resolve(String(d).trim()));
      child.once('exit', (code) => reject(new Error(`lab child exited ${code} first`)));
    });
    expect(namespaces()).toContain(`${orphanId}-orphan`);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));

    const removed = await removeStaleLabs();
    expect(removed).toContain(`${orphanId}-orphan`);
    expect(removed).toContain(`${orphanId}-lan`);
    expect(namespaces()).not.toContain(orphanId);
    // Ours is alive: left alone.
    expect(namespaces()).toContain(lab.node('live').netns);
  });
});
