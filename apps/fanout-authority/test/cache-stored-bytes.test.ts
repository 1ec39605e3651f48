import { RCODE } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { prepareForCache } from '../src/cache/stored.js';
import { reply, ZONE } from './cache-fixtures.js';

// Found by reliability/ fuzzing: cached bytes were slices of Node's shared 8 KB buffer pool,
// so every long-lived entry pinned a whole slab (RSS ~450 MB with 64 MB of cache accounted).
describe('prepareForCache', () => {
  it('gives each entry a buffer of its own, exactly its size', () => {
    const stored = prepareForCache(
      reply(
        `svc.${ZONE}`,
        RCODE.NOERROR,
        [{ name: `svc.${ZONE}`, type: 'A', ttl: 60, data: '10.0.0.1' }],
        [],
      ),
    );
    expect(stored).not.toBeNull();
    expect(stored!.bytes.buffer.byteLength).toBe(stored!.bytes.length);
    expect(stored!.bytes.byteOffset).toBe(0);
  });
});
