import { describe, expect, it } from 'vitest';
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
