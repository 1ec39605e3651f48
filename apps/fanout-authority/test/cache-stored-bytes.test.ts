import { RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { prepareForCache } from '../src/cache/stored.js';
import { cache, k, reply, T0, ZONE } from './cache-fixtures.js';

const answer = () =>
  reply(
    `svc.${ZONE}`,
    RCODE.NOERROR,
    [{ name: `svc.${ZONE}`, type: 'A', ttl: 60, data: '10.0.0.1' }],
    [],
  );

// A cache entry lives long and is evicted in any order: a slice of Node's shared 8 KB pool
// would keep the whole slab alive with it, and a view of the reply would change with it.
describe('prepareForCache', () => {
  it('gives each entry a buffer of its own, exactly its size', () => {
    const stored = prepareForCache(answer());
    expect(stored).not.toBeNull();
    expect(stored!.bytes.buffer.byteLength).toBe(stored!.bytes.length);
    expect(stored!.bytes.byteOffset).toBe(0);
  });

  it('a cached answer stays intact after the receive buffer is reused', () => {
    // The reply as it arrives: inside a larger receive buffer that the next packet overwrites.
    const wire = answer();
    const receive = Buffer.alloc(wire.length + 64);
    receive.set(wire, 32);
    const c = cache();
    const key = k(c, `svc.${ZONE}`);
    c.store(key, receive.subarray(32, 32 + wire.length), ['x'], T0);
    const before = Buffer.from(c.lookup(key, T0)!.stored.bytes);

    receive.fill(0xa5);

    const hit = c.lookup(key, T0);
    expect(Buffer.from(hit!.stored.bytes).equals(before)).toBe(true);
    expect(hit!.stored.bytes.buffer).not.toBe(receive.buffer);
  });
});
