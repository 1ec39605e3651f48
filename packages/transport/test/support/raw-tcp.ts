import net from 'node:net';

/** A bare TCP client that speaks DNS framing by hand, so tests control every byte. */
export class RawTcpClient {
  private buffered = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  readonly frames: Buffer[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 2) {
        const len = this.buffered.readUInt16BE(0);
        if (this.buffered.length < 2 + len) break;
        this.frames.push(this.buffered.subarray(2, 2 + len));
        this.buffered = this.buffered.subarray(2 + len);
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  /** `localAddress` picks the source (any of 127.0.0.0/8 works on Linux loopback). */
  static connect(host: string, port: number, localAddress?: string): Promise<RawTcpClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, localAddress }, () => {
        socket.off('error', reject);
        resolve(new RawTcpClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Queue framed messages; they go out in one write so the server sees them back-to-back. */
  send(...messages: Uint8Array[]): void {
    const parts: Buffer[] = [];
    for (const m of messages) {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(m.length);
      parts.push(prefix, Buffer.from(m));
    }
    this.socket.write(Buffer.concat(parts));
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  /** Resolves when `count` frames arrived, or rejects after `timeoutMs` / on close. */
  waitFrames(count: number, timeoutMs = 5000): Promise<Buffer[]> {
    return this.waitFor(() => this.frames.length >= count, timeoutMs, `${count} frames`).then(() =>
      this.frames.slice(0, count),
    );
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    return this.waitFor(() => this.closed, timeoutMs, 'close');
  }

  close(): void {
    this.socket.destroy();
  }

  private waitFor(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
      const check = () => {
        if (done()) {
          clearTimeout(timer);
          resolve();
          return;
        }
        if (this.closed) {
          clearTimeout(timer);
          reject(new Error(`connection closed while waiting for ${what}`));
          return;
        }
        this.waiters.push(check);
      };
      check();
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
