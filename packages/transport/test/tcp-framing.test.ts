import { afterEach, describe, expect, it, vi } from 'vitest';
import { lengthPrefix, MALFORMED_FRAME, TcpFrameDecoder } from '../src/tcp-framing.js';

function framed(...messages: number[][]): Uint8Array {
  const parts = messages.flatMap((m) => [m.length >> 8, m.length & 0xff, ...m]);
  return new Uint8Array(parts);
}

const twelve = (fill: number) => new Array(12).fill(fill);

describe('TcpFrameDecoder', () => {
  it('returns every frame of a chunk as a view, without copying', () => {
    const d = new TcpFrameDecoder();
    const chunk = framed(twelve(1), twelve(2));
    d.feed(chunk);
    const a = d.next() as Uint8Array;
    const b = d.next() as Uint8Array;
    expect(Array.from(a)).toEqual(twelve(1));
    expect(Array.from(b)).toEqual(twelve(2));
    expect(a.buffer).toBe(chunk.buffer);
    expect(d.next()).toBeNull();
    expect(d.buffered).toBe(0);
  });

  it('joins a frame split at every possible byte boundary', () => {
    const whole = framed(twelve(7), [...twelve(8), 9, 9]);
    for (let cut = 1; cut < whole.length; cut++) {
      const d = new TcpFrameDecoder();
      const got: number[][] = [];
      for (const piece of [whole.subarray(0, cut), whole.subarray(cut)]) {
        d.feed(piece);
        for (let f = d.next(); f !== null; f = d.next()) {
          expect(f).not.toBe(MALFORMED_FRAME);
          got.push(Array.from(f as Uint8Array));
        }
      }
      expect(got).toEqual([twelve(7), [...twelve(8), 9, 9]]);
    }
  });

  describe('a frame sent in tiny segments', () => {
    afterEach(() => vi.restoreAllMocks());

    /** Bytes copied by `Uint8Array.prototype.set` (the only way the decoder copies) while `run` runs. */
    function bytesCopied(run: () => void): number {
      let copied = 0;
      const original = Uint8Array.prototype.set;
      vi.spyOn(Uint8Array.prototype, 'set').mockImplementation(function (
        this: Uint8Array,
        source: ArrayLike<number>,
        offset?: number,
      ) {
        copied += source.length;
        original.call(this, source, offset);
      });
      run();
      vi.restoreAllMocks();
      return copied;
    }

    it('copies each byte of a frame fed one byte at a time exactly once', () => {
      const message = Array.from({ length: 3000 }, (_, i) => i & 0xff);
      const whole = framed(message, twelve(5));
      const d = new TcpFrameDecoder();
      const got: number[][] = [];
      const copied = bytesCopied(() => {
        for (let i = 0; i < whole.length; i++) {
          d.feed(whole.subarray(i, i + 1));
          for (let f = d.next(); f !== null; f = d.next()) got.push(Array.from(f as Uint8Array));
        }
      });
      expect(got).toEqual([message, twelve(5)]);
      // Each straddling frame is copied once into a buffer of its own length: 3000 + 12.
      expect(copied).toBe(message.length + 12);
    });

    it('returns a frame inside one chunk without copying, even after a split one', () => {
      const whole = framed(twelve(1), twelve(2), twelve(3));
      const d = new TcpFrameDecoder();
      const copied = bytesCopied(() => {
        d.feed(whole.subarray(0, 5)); // first frame split after 3 of its bytes
        expect(d.next()).toBeNull();
        d.feed(whole.subarray(5));
        expect(Array.from(d.next() as Uint8Array)).toEqual(twelve(1));
        const second = d.next() as Uint8Array;
        expect(Array.from(second)).toEqual(twelve(2));
        expect(second.buffer).toBe(whole.buffer);
        expect(Array.from(d.next() as Uint8Array)).toEqual(twelve(3));
      });
      expect(copied).toBe(12);
      expect(d.buffered).toBe(0);
    });

    it('joins a length prefix split between two chunks', () => {
      const whole = framed(twelve(4));
      const d = new TcpFrameDecoder();
      d.feed(whole.subarray(0, 1));
      expect(d.next()).toBeNull();
      expect(d.buffered).toBe(1);
      d.feed(whole.subarray(1));
      expect(Array.from(d.next() as Uint8Array)).toEqual(twelve(4));
    });
  });

  it('reports a length shorter than a DNS header as malformed', () => {
    const d = new TcpFrameDecoder();
    d.feed(new Uint8Array([0, 11, ...new Array(11).fill(0)]));
    expect(d.next()).toBe(MALFORMED_FRAME);
    const zero = new TcpFrameDecoder();
    zero.feed(new Uint8Array([0, 0]));
    expect(zero.next()).toBe(MALFORMED_FRAME);
  });

  it('waits for the rest of a long frame', () => {
    const d = new TcpFrameDecoder();
    d.feed(new Uint8Array([0xff, 0xff, 1, 2, 3]));
    expect(d.next()).toBeNull();
    expect(d.buffered).toBe(5);
  });

  it('writes a big-endian 2-byte length prefix', () => {
    expect(Array.from(lengthPrefix(0x1234))).toEqual([0x12, 0x34]);
    expect(Array.from(lengthPrefix(65535))).toEqual([0xff, 0xff]);
  });
});
