/**
 * One deprecation warning we cannot fix at its source, dropped; every other warning is
 * printed as usual.
 *
 * DEP0169 (`url.parse()`): @kubernetes/client-node 1.4 (the last line that runs on Node 20;
 * 2.x needs Node >= 22.19) calls node-fetch 2, whose `Request` passes every URL through
 * `url.parse` after normalizing it with the WHATWG `URL` parser. Node 24 (the images)
 * prints the warning on the first watch of every start. The URLs are the API server's from
 * the kubeconfig or the in-cluster service account, never input from DNS clients.
 */
const DROPPED = new Set(['DEP0169']);

const emitWarning = process.emitWarning;
process.emitWarning = function filteredEmitWarning(
  this: NodeJS.Process,
  warning: string | Error,
  ...rest: unknown[]
): void {
  const first = rest[0];
  const code =
    typeof first === 'object' && first !== null
      ? (first as { code?: string }).code
      : typeof rest[1] === 'string'
        ? rest[1]
        : (warning as { code?: string }).code;
  if (code !== undefined && DROPPED.has(code)) return;
  (emitWarning as (...args: unknown[]) => void).call(this, warning, ...rest);
} as typeof process.emitWarning;
