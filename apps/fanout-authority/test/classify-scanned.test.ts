import {
  buildResponse,
  type DnsRecord,
  decode,
  encode,
  QTYPE,
  RCODE,
  scan,
  scanAnswerChain,
  typeNumber,
} from '@mdns/protocol';
import { describe, expect, it } from 'vitest';
import { classifyReply, classifyScanned } from '../src/upstream/classify.js';

const ZONE = 'z.test';
const QNAME = 'www.z.test';
const rr = (name: string, type: string, data: unknown, ttl = 60) =>
  ({ name, type, class: 'IN', ttl, data }) as DnsRecord;

/** An upstream reply to (QNAME in 0x20 case, type), as a gateway writes it. */
function reply(type: string, answers: DnsRecord[], rcode: number = RCODE.NOERROR): Uint8Array {
  const bytes = encode({
    type: 'query',
    id: 7,
    questions: [{ name: 'wWw.Z.tEsT', type: type as 'A', class: 'IN' }],
  });
  const q = scan(bytes);
  if (!q.ok) throw new Error(q.error);
  return buildResponse(q.query, bytes, { rcode, aa: true, answers }, { maxSize: 65535 });
}

/** What the decode path says about the same bytes. */
function decoded(bytes: Uint8Array, qtype: number, rcode: number) {
  const d = decode(bytes);
  if (!d.ok) throw new Error(d.error);
  return classifyReply(
    { rcode, answers: d.message.answers ?? [], additionals: d.message.additionals ?? [] },
    QNAME,
    qtype,
    ZONE,
  );
}

const CASES: Array<[string, string, DnsRecord[], number?]> = [
  ['an address', 'A', [rr('WWW.z.test', 'A', '10.0.0.1'), rr(QNAME, 'A', '10.0.0.2')]],
  ['a chain in the zone', 'A', [rr(QNAME, 'CNAME', 'Lb.z.test'), rr('lb.z.TEST', 'A', '10.0.0.3')]],
  ['a chain ending in NXDOMAIN', 'AAAA', [rr(QNAME, 'CNAME', 'gone.z.test')], RCODE.NXDOMAIN],
  ['a chain leaving the zone', 'A', [rr(QNAME, 'CNAME', 'x.other'), rr('x.other', 'A', '1.1.1.1')]],
  ['other names only', 'A', [rr('other.z.test', 'A', '10.0.0.9')]],
  ['another type only', 'AAAA', [rr(QNAME, 'A', '10.0.0.1')]],
  ['TXT', 'TXT', [rr(QNAME, 'TXT', ['v=1', 'two'])]],
  ['a CNAME query', 'CNAME', [rr(QNAME, 'CNAME', 'lb.z.test'), rr('lb.z.test', 'A', '10.0.0.3')]],
  ['out of chain order', 'A', [rr('lb.z.test', 'A', '10.0.0.3'), rr(QNAME, 'CNAME', 'lb.z.test')]],
  ['a CNAME loop', 'A', [rr(QNAME, 'CNAME', 'b.z.test'), rr('b.z.test', 'CNAME', QNAME)]],
];

const LEFT_TO_DECODE = new Set(['a chain leaving the zone', 'a CNAME query', 'out of chain order']);

describe('classifyScanned agrees with the decode path', () => {
  for (const [what, type, answers, rcode = RCODE.NOERROR] of CASES) {
    it(what, () => {
      const qtype = typeNumber(type) as number;
      const bytes = reply(type, answers, rcode);
      const want = decoded(bytes, qtype, rcode);
      const got = classifyScanned(bytes, rcode, scanAnswerChain(bytes, qtype, ZONE));
      if (LEFT_TO_DECODE.has(what)) {
        // A POSITIVE whose section holds more than the answer, or in another order.
        expect(got).toBeNull();
        expect(want.class).toBe('POSITIVE');
        return;
      }
      if (got === null) throw new Error('the scan settled nothing');
      expect(got.class).toBe(want.class);
      expect(got.rcode).toBe(rcode);
      expect(got.records).toEqual(want.records);
      expect(got.additionals ?? []).toEqual(want.additionals ?? []);
      if (got.class === 'POSITIVE') {
        expect(got.wire?.reply).toBe(bytes);
        expect(got.reason).toBe(`${want.records.length} record(s)`);
      }
    });
  }

  it('leaves a malformed answer section to the decode (which fails it)', () => {
    const bytes = reply('A', [rr(QNAME, 'A', '10.0.0.1')]);
    const cut = bytes.subarray(0, bytes.length - 14);
    expect(scanAnswerChain(cut, QTYPE.A, ZONE)).toBeNull();
    expect(classifyScanned(cut, RCODE.NOERROR, null)).toBeNull();
  });
});
