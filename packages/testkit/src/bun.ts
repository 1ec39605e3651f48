import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The runtimes a test can start our servers with (see `AppProcessOptions.runtime`). */
export type Runtime = 'node' | 'bun';

/**
 * The pinned Bun binary of this checkout: the root devDependency `@oven/bun-linux-x64`
 * (exact version in package.json and the lockfile), which `pnpm install --frozen-lockfile`
 * unpacks to `node_modules/@oven/bun-linux-x64/bin/bun`. Throws, naming the path, when it is
 * missing (another platform, or an install that skipped it) so no Bun case passes by skipping.
 */
export function bunBinary(): string {
  const bin = fileURLToPath(
    new URL('../../../node_modules/@oven/bun-linux-x64/bin/bun', import.meta.url),
  );
  if (!existsSync(bin)) {
    throw new Error(`${bin} is missing: run \`pnpm install --frozen-lockfile\` (linux x64 only)`);
  }
  return bin;
}

/**
 * The runtime a real-process test uses when it does not name one: `MDNS_TEST_RUNTIME=bun`
 * runs every app suite's servers under Bun (the runtime matrix of scripts/test.sh).
 */
export function defaultRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const value = env.MDNS_TEST_RUNTIME ?? 'node';
  if (value !== 'node' && value !== 'bun') {
    throw new Error(`MDNS_TEST_RUNTIME must be "node" or "bun", got "${value}"`);
  }
  return value;
}

/** The executable for `runtime` (`node`: the one running the tests). */
export function runtimeBinary(runtime: Runtime): string {
  return runtime === 'bun' ? bunBinary() : process.execPath;
}
