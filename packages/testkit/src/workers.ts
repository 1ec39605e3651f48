import { defaultRuntime, type Runtime } from './bun.js';
import { freePort } from './knot.js';

/**
 * The worker counts the apps' end-to-end suites run with (issue #21; docs/behaviour.md,
 * "Several workers answer as one server"): one worker, and two, where the OS hands each query
 * to either worker, so every case also checks that what one worker learned serves the other.
 */
export const WORKER_COUNTS: readonly number[] = [1, 2];

/**
 * A YAML config with `listen.workers` set: the flow-style `listen: { ... }` line the test
 * configs write gets `workers: n` (an explicit 1 is the default, spelt out so that the matrix's
 * two runs differ in that one field only). Throws when there is no such line, so a config that
 * changed shape fails the suite instead of silently running one worker twice.
 */
export function yamlWithWorkers(yaml: string, workers: number): string {
  const listen = /^listen: \{ (.*) \}$/m;
  if (!listen.test(yaml)) throw new Error('yamlWithWorkers: no "listen: { ... }" line');
  return yaml.replace(listen, (_, fields: string) => `listen: { ${fields}, workers: ${workers} }`);
}

/**
 * The flow-style `listen: { ... }` line's `port` and `workers` (1 when absent); null when the
 * config has no such line.
 */
export function listenOf(yaml: string): { port: number; workers: number } | null {
  const line = /^listen: \{ (.*) \}$/m.exec(yaml)?.[1];
  if (line === undefined) return null;
  const field = (name: string, absent: number) =>
    Number(new RegExp(`(?:^|, )${name}: (\\d+)`).exec(line)?.[1] ?? absent);
  return { port: field('port', 0), workers: field('workers', 1) };
}

/** The YAML with the `listen: { ... }` line's `port: 0` made `port: <port>`. */
export function yamlWithListenPort(yaml: string, port: number): string {
  return yaml.replace(/^(listen: \{ (?:.*, )?)port: 0\b/m, `$1port: ${port}`);
}

/**
 * The `listen.port` for a test server with `workers` on `runtime`: 0 (any free port), except
 * with several workers on Bun, which cannot share the primary's socket (each worker binds its
 * own with SO_REUSEPORT) and so refuses port 0: there, a port free now.
 */
export async function workersListenPort(
  workers: number,
  runtime: Runtime = defaultRuntime(),
): Promise<number> {
  return runtime === 'bun' && workers > 1 ? freePort() : 0;
}

/**
 * `workersListenPort` for a YAML config: the port to put in place of its `listen` port 0, or
 * null to keep the config as written (a fixed port already, one worker, or Node).
 */
export async function fixedListenPort(
  yaml: string,
  runtime: Runtime = defaultRuntime(),
): Promise<number | null> {
  const listen = listenOf(yaml);
  if (listen === null || listen.port !== 0) return null;
  const port = await workersListenPort(listen.workers, runtime);
  return port === 0 ? null : port;
}
