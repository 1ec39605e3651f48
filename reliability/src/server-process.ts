import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AppName,
  AppProcess,
  type AppProcessOptions,
  appMain as builtMain,
  runApp as runBundle,
} from '@mdns/testkit';

export type { AppName, LogLine, MemorySample } from '@mdns/testkit';
export { AppProcess, readMemory } from '@mdns/testkit';

/**
 * The app's bundle: this checkout's `apps/<app>/dist/main.js`, or, with
 * `RELIABILITY_APPS_DIR` (another checkout's built `apps/`), that one, to measure the same
 * attack against an older build for before/after figures.
 */
export function appMain(app: AppName): string {
  const other = process.env.RELIABILITY_APPS_DIR;
  return other ? join(other, app, 'dist', 'main.js') : builtMain(app);
}

/** Writes `config` as JSON (valid YAML, which both apps read) and returns the path. */
export function writeConfig(dir: string, name: string, config: unknown): string {
  const file = join(dir, name);
  writeFileSync(file, typeof config === 'string' ? config : JSON.stringify(config, null, 2));
  return file;
}

/**
 * One app as a real process (`@mdns/testkit`'s `AppProcess`, named after the app for the
 * reports). `main`: another bundle of the app (e.g. an older commit's, for "before"
 * figures). The log buffer is bounded: a fuzz storm must not make it the leak under test.
 */
export function startServer(
  app: AppName,
  configPath: string,
  options: Omit<AppProcessOptions, 'name' | 'maxLogLines'> & { main?: string } = {},
): Promise<AppProcess> {
  return AppProcess.start(options.main ?? appMain(app), configPath, {
    ...options,
    name: app,
    maxLogLines: 5000,
  });
}

/** Runs an app to completion (config checks): exit code and output, bounded by `timeoutMs`. */
export function runApp(
  app: AppName,
  args: string[],
  timeoutMs = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runBundle(appMain(app), args, { timeoutMs });
}
