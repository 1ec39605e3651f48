import { parentPort, workerData } from 'node:worker_threads';
import { type DelayProxyOptions, startDelayProxy } from './delay-proxy.js';

// The body of `startDelayProxyThread`: one delay proxy on this thread's own event loop.
const port = parentPort;
if (port === null) throw new Error('proxy-thread.js runs only as a worker thread');
const proxy = await startDelayProxy(workerData as DelayProxyOptions);
port.on('message', async (message: unknown) => {
  if (message === 'forwarded') port.postMessage({ forwarded: proxy.forwarded });
  if (message === 'close') {
    await proxy.close();
    port.postMessage({ closed: true });
    port.close();
  }
});
port.postMessage({ port: proxy.port });
