import { scan } from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { canonicalIp, isQueriedAddress } from '../src/client/exchange.js';
import { buildQuery, encodeName, randomQueryId } from '../src/client/query-bytes.js';
import { fullRcode, isTruncated, judgeReply } from '../src/client/reply-match.js';

const spec = {
  id: 0xbeef,
  name: 'Www.Example.Test.',
  qtype: 1,
  qclass: 1,
  rd: true,
  edns: { udpSize: 1232, dnssecOk: true },
};

describe('buildQuery', () => {
  it('builds a query that scans back to what was asked', () => {
    const bytes = buildQuery(spec) as Uint8Array;
    const s = scan(bytes);
    expect(s.ok).toBe(true);
    if (!s.ok) return;
    expect(s.query).toMatchObject({
      id: 0xbeef,
      qr: false,
      rd: true,
      opcode: 0,
      qdcount: 1,
      arcount: 1,
      qname: 'www.example.test',
      qtype: 1,
      qclass: 1,
      edns: { udpSize: 1232, dnssecOk: true, version: 0, extendedRcode: 0 },
    });
    expect(bytes.length).toBe(s.query.questionEnd + 11);
  });

  it('leaves OPT out when edns is null and encodes the root name', () => {
    const bytes = buildQuery({ ...spec, name: '.', edns: null, rd: false }) as Uint8Array;
    const s = scan(bytes);
    expect(s.ok && s.query).toMatchObject({ qname: '', arcount: 0, edns: null, rd: false });
    expect(bytes.length).toBe(12 + 1 + 4);
  });

  it('rejects names and numbers that cannot go on the wire, naming the problem', () => {
    expect(buildQuery({ ...spec, name: 'a..b' })).toContain('empty label');
    expect(buildQuery({ ...spec, name: `${'a'.repeat(64)}.test` })).toContain('63');
    expect(buildQuery({ ...spec, name: Array(130).fill('ab').join('.') })).toContain('255');
    expect(buildQuery({ ...spec, name: 'a b' })).toContain('non-printable');
    expect(buildQuery({ ...spec, qtype: 70000 })).toContain('qtype');
    expect(buildQuery({ ...spec, edns: { udpSize: 100, dnssecOk: false } })).toContain('udpSize');
    expect(Array.from(encodeName('ab') as Uint8Array)).toEqual([2, 97, 98, 0]);
  });

  it('draws IDs across the whole 16-bit range', () => {
    const ids = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const id = randomQueryId();
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(0x10000);
      ids.add(id);
    }
    expect(ids.size).toBeGreaterThan(150);
  });
});

describe('judgeReply', () => {
  const query = buildQuery(spec) as Uint8Array;
  const expectation = { id: 0xbeef, qname: 'www.example.test', qtype: 1, qclass: 1 };
  const replyBytes = (mutate: (b: Uint8Array) => void = () => {}) => {
    const b = query.slice();
    b[2] |= 0x80;
    mutate(b);
    return b;
  };
  const judge = (b: Uint8Array, expect: Parameters<typeof judgeReply>[1] = expectation) =>
    judgeReply(scan(b), expect, b);
  const asReply = replyBytes;

  it('accepts QR=1 with the same id and question', () => {
    expect(judge(asReply()).ok).toBe(true);
  });

  it('matches the name case-insensitively', () => {
    // The query went out as 'Www...'; a server echoing 'wWW...' is still our question.
    const flipped = asReply((b) => {
      for (let i = 13; i < 16; i++) b[i] ^= 0x20;
    });
    const scanned = scan(flipped);
    expect(scanned.ok && scanned.query.qname).toBe('www.example.test');
    expect(judge(flipped).ok).toBe(true);
  });

  it('with exactName (0x20), only a byte-for-byte echo of the name is ours', () => {
    const exact = { ...expectation, exactName: query.slice(12, query.length - 4 - 11) };
    expect(judge(asReply(), exact).ok).toBe(true);
    const oneLetterFlipped = asReply((b) => {
      b[14] ^= 0x20;
    });
    expect(judge(oneLetterFlipped, exact)).toMatchObject({ ok: false, reason: 'question' });
  });

  it('refuses a query (QR=0), another id, another question', () => {
    expect(judge(query)).toMatchObject({ ok: false, reason: 'id' });
    expect(judge(asReply((b) => (b[1] ^= 1)))).toMatchObject({ reason: 'id' });
    expect(judge(asReply(), { ...expectation, qtype: 28 })).toMatchObject({
      reason: 'question',
    });
    expect(judge(asReply(), { ...expectation, qclass: 3 })).toMatchObject({
      reason: 'question',
    });
    expect(judge(asReply(), { ...expectation, qname: 'www.example.tesu' })).toMatchObject({
      reason: 'question',
    });
    expect(judge(new Uint8Array(3))).toMatchObject({ reason: 'malformed' });
  });

  it('reads TC and the full extended rcode', () => {
    const b = query.slice();
    b[2] |= 0x82;
    b[3] = 0x01;
    const s = scan(b);
    expect(isTruncated(b)).toBe(true);
    if (!s.ok) throw new Error(s.error);
    expect(fullRcode(b, s.query)).toBe(1);
    expect(fullRcode(b, { ...s.query, edns: { ...s.query.edns!, extendedRcode: 1 } })).toBe(17);
  });
});

describe('reply source address', () => {
  it('compares addresses in the form sockets report them', () => {
    expect(canonicalIp('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(canonicalIp('FE80:0::1')).toBe('fe80::1');
    expect(canonicalIp('127.0.0.1')).toBe('127.0.0.1');
    expect(canonicalIp('localhost')).toBeNull();
    expect(canonicalIp('::0:0:0:0:0.0.0.0')).toBe('::');
    expect(canonicalIp('0:0:0:0:0:FFFF:7f00:1')).toBe('::ffff:127.0.0.1');
    expect(canonicalIp('fe80::0001%eth0')).toBe('fe80::1%eth0');
    expect(isQueriedAddress('::ffff:127.0.0.1', canonicalIp('::ffff:127.0.0.1')!)).toBe(true);
    expect(isQueriedAddress('::ffff:7f00:1', canonicalIp('::ffff:127.0.0.1')!)).toBe(true);
    expect(isQueriedAddress('127.0.0.2', '127.0.0.1')).toBe(false);
  });
});
