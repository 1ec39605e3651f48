// Bench-only multi-process mode for an app that has no worker option yet:
//   node cluster-main.mjs WORKERS APP_MAIN --config FILE
// The primary forks WORKERS copies of APP_MAIN; the shim preloaded in each worker lets
// them share one UDP socket (the kernel hands each datagram to one reader) instead of
// binding it exclusively. See bench/README.md ("multi-worker").
import cluster from 'node:cluster';
import { fileURLToPath } from 'node:url';

const [workersArg, appMain, ...appArgs] = process.argv.slice(2);
const workers = Number(workersArg);
if (!Number.isInteger(workers) || workers < 1 || !appMain) {
  console.error('usage: cluster-main.mjs WORKERS APP_MAIN [app args...]');
  process.exit(2);
}
const shim = fileURLToPath(new URL('./shared-socket-shim.mjs', import.meta.url));
cluster.setupPrimary({ exec: appMain, args: appArgs, execArgv: ['--import', shim] });
for (let i = 0; i < workers; i++) cluster.fork();
let stopping = false;
cluster.on('exit', (worker, code) => {
  if (!stopping) {
    console.error(`worker ${worker.process.pid} exited (${code}); stopping`);
    stop();
  }
});
function stop() {
  stopping = true;
  for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
