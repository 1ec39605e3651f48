import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** Node 24, the images' runtime, from the npm registry's `node` package (cached). */
export function node24(): string {
  const prefix = join(homedir(), '.cache', 'mdns-node24');
  const bin = join(prefix, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    execFileSync(
      'npm',
      ['install', '--no-save', '--no-package-lock', '--loglevel=error', 'node@24'],
      { cwd: prefix, stdio: 'inherit', timeout: 300_000 },
    );
  }
  return bin;
}
