import { buildResponse, prepareStored, type ResponseParts, scan } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { StoredCompactor } from '../src/dns/compact-stored.js';
import { queryBytes } from './support/query.js';

function storedAnswer(name: string, ip: string) {
  const bytes = queryBytes(name, 'A');
  const scanned = scan(bytes);
  if (!scanned.ok) throw new Error(scanned.error);
  const parts: ResponseParts = {
    rcode: 0,
    aa: true,
    answers: [{ name, type: 'A', class: 'IN', ttl: 60, data: ip }],
  };
  return prepareStored(buildResponse(scanned.query, bytes, parts, { maxSize: 65535 }));
}

describe('StoredCompactor', () => {
  it('keeps every field, shares equal tables, packs bytes out of the Buffer pool', () => {
    const c = new StoredCompactor();
    const a = storedAnswer('aa.zone.tld', '10.0.0.1');
    const b = storedAnswer('bb.zone.tld', '10.0.0.2');
    const ca = c.compact(a, 'zone.tld');
    const cb = c.compact(b, 'zone.tld');
    expect({ ...ca, zone: undefined, bytes: [...ca.bytes] }).toEqual({
      ...a,
      zone: undefined,
      bytes: [...a.bytes],
    });
    expect(ca.zone).toBe('zone.tld');
    // Same name length and TTL: the tables are the same objects.
    expect(cb.ttls).toBe(ca.ttls);
    expect(cb.ttlOffsets).toBe(ca.ttlOffsets);
    expect(cb.cuts).toBe(ca.cuts);
    // Both answers' bytes sit in one arena chunk of their own, not in Node's 8 KB pool.
    expect(cb.bytes.buffer).toBe(ca.bytes.buffer);
    expect(ca.bytes.buffer.byteLength).toBe(64 * 1024);
    expect(Buffer.from(cb.bytes).equals(b.bytes)).toBe(true);
  });
});
