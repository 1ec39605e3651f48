import { existsSync } from 'node:fs';

/**
 * Throws unless `main` (a built bundle) exists. Real-process suites call it in `beforeAll`
 * so that a run without a build fails every case loudly instead of passing by skipping.
 */
export function assertBuilt(main: string): void {
  if (!existsSync(main)) {
    throw new Error(`${main} is missing: run \`pnpm turbo run build\` before the e2e tests`);
  }
}
