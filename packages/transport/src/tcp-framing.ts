/**
 * RFC 1035 §4.2.2 / RFC 7766 TCP framing: every message is preceded by a
 * 2-byte big-endian length. The decoder is pure (no sockets) so the framing
 * rules can be tested byte by byte.
 *
 * A frame that lies inside one received chunk is returned as a view into it (no copy).
 * A frame that straddles chunks is copied once into a buffer allocated from its length
 * prefix: a client sending a 64 KiB frame one byte per segment costs 64 KiB of copying,
 * not the 2 GiB a "join the tail with each new chunk" buffer would.
 */

/** A DNS message is never shorter than its 12-byte header. */
export const MIN_DNS_MESSAGE = 12;

/** Returned by `next()` when the length prefix cannot be a DNS message. */
export const MALFORMED_FRAME: unique symbol = Symbol('malformed-frame');

export type FrameResult = Uint8Array | null | typeof MALFORMED_FRAME;

const EMPTY = new Uint8Array(0);

export class TcpFrameDecoder {
  /** Received chunks not yet consumed; `off` is the read position in the first one. */
  private chunks: Uint8Array[] = [];
  private off = 0;
  /** Bytes in `chunks` from `off` on. */
  private queued = 0;
  /** The first byte of a length prefix whose second byte has not arrived yet (-1: none). */
  private prefixHigh = -1;
  /** The straddling frame being filled, sized from its length prefix. */
  private frame: Uint8Array = EMPTY;
  private filled = 0;
  private malformed = false;

  /** Append received bytes (kept by reference until consumed). */
  feed(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.length;
  }

  /**
   * The next complete frame, `null` when more bytes are needed, or
   * `MALFORMED_FRAME` when the length prefix is shorter than a DNS header
   * (the stream cannot be resynchronised after that: close the connection).
   */
  next(): FrameResult {
    if (this.malformed) return MALFORMED_FRAME;
    if (this.frame !== EMPTY) return this.fill();
    if (this.prefixHigh < 0) {
      if (this.queued === 0) return null;
      this.prefixHigh = this.takeByte();
    }
    if (this.queued === 0) return null;
    const len = (this.prefixHigh << 8) | this.takeByte();
    this.prefixHigh = -1;
    if (len < MIN_DNS_MESSAGE) {
      this.malformed = true;
      return MALFORMED_FRAME;
    }
    const head = this.chunks[0];
    if (head !== undefined && head.length - this.off >= len) {
      const view = head.subarray(this.off, this.off + len);
      this.advance(len);
      return view;
    }
    this.frame = new Uint8Array(len);
    this.filled = 0;
    return this.fill();
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    const prefix = this.frame !== EMPTY ? 2 : this.prefixHigh >= 0 ? 1 : 0;
    return this.queued + this.filled + prefix;
  }

  /** Copy queued bytes into the straddling frame; the frame once it is whole. */
  private fill(): Uint8Array | null {
    const frame = this.frame;
    while (this.filled < frame.length && this.queued > 0) {
      const head = this.chunks[0];
      const n = Math.min(frame.length - this.filled, head.length - this.off);
      frame.set(head.subarray(this.off, this.off + n), this.filled);
      this.filled += n;
      this.advance(n);
    }
    if (this.filled < frame.length) return null;
    this.frame = EMPTY;
    this.filled = 0;
    return frame;
  }

  private takeByte(): number {
    const byte = this.chunks[0][this.off];
    this.advance(1);
    return byte;
  }

  private advance(n: number): void {
    this.off += n;
    this.queued -= n;
    if (this.off === this.chunks[0].length) {
      this.chunks.shift();
      this.off = 0;
    }
  }
}

/** The 2-byte length prefix for a message of `length` bytes (caller checks <= 65535). */
export function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(2);
  prefix[0] = length >>> 8;
  prefix[1] = length & 0xff;
  return prefix;
}
