import { Worker } from 'node:worker_threads';
import { checkDelayOptions, type DelayProxyOptions } from './delay-proxy.js';

/** A delay proxy on a thread of its own (see `startDelayProxyThread`). */
export interface DelayProxyThread {
  port: number;
  /** Datagrams forwarded towards the target so far. */
  forwarded(): Promise<number>;
  close(): Promise<void>;
}

/**
 * `startDelayProxy` on a worker thread: the test process's own work (sending hundreds of
 * queries, decoding answers) then never holds a packet longer than asked, so the delay a
 * test sees is the link's, not its own event loop's. Runs the built `dist/proxy-thread.js`.
 */
export async function startDelayProxyThread(options: DelayProxyOptions): Promise<DelayProxyThread> {
  const problem = checkDelayOptions(options);
  if (problem !== null) throw new Error(`startDelayProxyThread: ${problem}`);
  const worker = new Worker(new URL('./proxy-thread.js', import.meta.url), {
    workerData: options,
  });
  const next = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!(key in m)) return;
        worker.off('message', onMessage);
        worker.off('error', reject);
        resolve(m[key] as T);
      };
      worker.on('message', onMessage);
      worker.once('error', reject);
    });
  const port = await next<number>('port');
  return {
    port,
    forwarded: () => {
      const answer = next<number>('forwarded');
      worker.postMessage('forwarded');
      return answer;
    },
    close: async () => {
      const closed = next<boolean>('closed');
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}
