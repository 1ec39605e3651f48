import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { repoRoot } from '../demo/topology.mjs';

// The libraries are published to npm together: each must pack cleanly, pass publint
// and are-the-types-wrong (ESM-only profile), and every @mdns package carries one
// version (changesets "fixed" group).

const libraries = ['protocol', 'transport', 'ops'];
const bin = (name: string) => join(repoRoot, 'node_modules', '.bin', name);
const packDir = mkdtempSync(join(tmpdir(), 'mdns-pack-'));
afterAll(() => rmSync(packDir, { recursive: true, force: true }));

function pkg(dir: string) {
  return JSON.parse(readFileSync(join(repoRoot, dir, 'package.json'), 'utf8'));
}

describe('release', () => {
  it('versions every @mdns package together', () => {
    const dirs = [
      ...libraries.map((l) => `packages/${l}`),
      'apps/cluster-gateway',
      'apps/fanout-authority',
    ];
    const versions = new Set(dirs.map((d) => pkg(d).version));
    expect([...versions]).toHaveLength(1);
    const config = JSON.parse(readFileSync(join(repoRoot, '.changeset', 'config.json'), 'utf8'));
    expect(config.fixed).toEqual([['@mdns/*']]);
  });

  for (const lib of libraries) {
    describe(`@mdns/${lib}`, () => {
      const dir = join(repoRoot, 'packages', lib);

      it('is public, ESM, and ships only dist and its README', () => {
        const p = pkg(`packages/${lib}`);
        expect(p.private).toBeUndefined();
        expect(p.type).toBe('module');
        expect(p.files).toEqual(['dist', 'README.md']);
        for (const [name, range] of Object.entries<string>(p.dependencies ?? {})) {
          // pnpm rewrites workspace:* to the real version on publish.
          if (name.startsWith('@mdns/')) expect(range).toBe('workspace:*');
        }
      });

      it('packs, and passes publint and are-the-types-wrong', () => {
        execFileSync('pnpm', ['pack', '--pack-destination', packDir], { cwd: dir, stdio: 'pipe' });
        const tarball = readdirSync(packDir).find((f) => f.startsWith(`mdns-${lib}-`));
        expect(tarball).toBeDefined();
        const listing = execFileSync('tar', ['-tzf', join(packDir, tarball!)], {
          encoding: 'utf8',
        });
        expect(listing).toContain('package/dist/index.js');
        expect(listing).toContain('package/dist/index.d.ts');
        expect(listing).not.toContain('package/src/');
        // The packed manifest has workspace ranges replaced by real versions.
        const manifest = execFileSync(
          'tar',
          ['-xzOf', join(packDir, tarball!), 'package/package.json'],
          {
            encoding: 'utf8',
          },
        );
        expect(manifest).not.toContain('workspace:');
        execFileSync(bin('publint'), ['--strict'], { cwd: dir, stdio: 'pipe' });
        execFileSync(
          bin('attw'),
          [join(packDir, tarball!), '--profile', 'esm-only', '--format', 'ascii'],
          {
            cwd: dir,
            stdio: 'pipe',
          },
        );
      });
    });
  }
});
