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
