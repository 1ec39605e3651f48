/**
 * RFC 1035 §4.2.2 / RFC 7766 TCP framing: every message is preceded by a
 * 2-byte big-endian length. The decoder is pure (no sockets) so the framing
 * rules can be tested byte by byte.
 *
 * Frames are returned as views into the received chunk whenever a frame lies
 * inside one chunk; bytes are only copied when a frame straddles chunks.
 */

/** A DNS message is never shorter than its 12-byte header. */
export const MIN_DNS_MESSAGE = 12;

/** Returned by `next()` when the length prefix cannot be a DNS message. */
export const MALFORMED_FRAME: unique symbol = Symbol('malformed-frame');

export type FrameResult = Uint8Array | null | typeof MALFORMED_FRAME;

export class TcpFrameDecoder {
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;

  /** Append received bytes. */
  feed(chunk: Uint8Array): void {
    if (this.off >= this.buf.length) {
      this.buf = chunk;
      this.off = 0;
      return;
    }
    // Only the tail of an incomplete frame is kept and joined with the new chunk.
    const rest = this.buf.length - this.off;
    const joined = new Uint8Array(rest + chunk.length);
    joined.set(this.buf.subarray(this.off), 0);
    joined.set(chunk, rest);
    this.buf = joined;
    this.off = 0;
  }

  /**
   * The next complete frame, `null` when more bytes are needed, or
   * `MALFORMED_FRAME` when the length prefix is shorter than a DNS header
   * (the stream cannot be resynchronised after that: close the connection).
   */
  next(): FrameResult {
    const avail = this.buf.length - this.off;
    if (avail < 2) return null;
    const len = (this.buf[this.off] << 8) | this.buf[this.off + 1];
    if (len < MIN_DNS_MESSAGE) return MALFORMED_FRAME;
    if (avail < 2 + len) return null;
    const start = this.off + 2;
    this.off = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** Bytes received but not yet returned as a frame. */
  get buffered(): number {
    return this.buf.length - this.off;
  }
}

/** The 2-byte length prefix for a message of `length` bytes (caller checks <= 65535). */
export function lengthPrefix(length: number): Uint8Array {
  const prefix = new Uint8Array(2);
  prefix[0] = length >>> 8;
  prefix[1] = length & 0xff;
  return prefix;
}
