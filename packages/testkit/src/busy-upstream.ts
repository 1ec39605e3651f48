import { Worker } from 'node:worker_threads';

// Runs in a worker thread so it can answer while the test's own thread is blocked. Plain JS
// (eval: true) so no TypeScript loader is needed inside the worker.
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const dgram = require('node:dgram');
const flag = new Int32Array(workerData.flag);
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  Atomics.store(flag, 0, 1);
  Atomics.wait(flag, 1, 0, workerData.delayMs);
  Atomics.store(flag, 1, 0);
  let at = 12;
  while (msg[at] !== 0) at += msg[at] + 1;
  at += 5;
  const out = Buffer.alloc(at + 16);
  msg.copy(out, 0, 0, at);
  out[2] = 0x84 | (msg[2] & 0x01);
  out[3] = 0;
  out.writeUInt16BE(1, 6);
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  out.writeUInt16BE(0xc00c, at);
  out.writeUInt16BE(1, at + 2);
  out.writeUInt16BE(1, at + 4);
  out.writeUInt32BE(60, at + 6);
  out.writeUInt16BE(4, at + 10);
  out.set([192, 0, 2, 1], at + 12);
  socket.send(out, rinfo.port, rinfo.address, () => Atomics.store(flag, 0, 2));
});
socket.bind(0, '127.0.0.1', () => parentPort.postMessage(socket.address().port));
parentPort.on('message', () => socket.close(() => parentPort.close()));
`;

/**
 * A UDP upstream in its own thread: to each query it answers `A 192.0.2.1` after `delayMs`
 * (or as soon as `release()` is called), and it publishes its progress in shared memory
 * (1 = query received, 2 = reply sent), which the test can read while its own event loop is
 * blocked.
 */
export class BusyUpstream {
  private constructor(
    private readonly worker: Worker,
    private readonly flag: Int32Array,
    readonly port: number,
  ) {}

  static async start(delayMs: number): Promise<BusyUpstream> {
    const shared = new SharedArrayBuffer(8);
    const worker = new Worker(WORKER_CODE, { eval: true, workerData: { flag: shared, delayMs } });
    const port = await new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new BusyUpstream(worker, new Int32Array(shared), port);
  }

  /** 0 idle, 1 query received, 2 reply sent. */
  get state(): number {
    return Atomics.load(this.flag, 0);
  }

  reset(): void {
    Atomics.store(this.flag, 0, 0);
  }

  /**
   * Answers the query held now (or the next one) without waiting out `delayMs`: callable from
   * a blocked thread, so a test can make the reply arrive exactly while its loop is busy.
   */
  release(): void {
    Atomics.store(this.flag, 1, 1);
    Atomics.notify(this.flag, 1);
  }

  /** Resolves once a query has reached the upstream (polled each check phase, bounded). */
  async queryReceived(limitMs = 5000): Promise<void> {
    const until = Date.now() + limitMs;
    while (this.state < 1) {
      if (Date.now() > until) throw new Error('the query never reached the busy upstream');
      await new Promise((r) => setImmediate(r));
    }
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await new Promise((r) => this.worker.once('exit', r));
  }
}

/** Blocks this thread's event loop, as a saturated server would. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}
