import { type DnsRecord, decode, encode, scan } from '@mdns/protocol';
import type { Handler, Peer } from '../../src/index.js';

/**
 * A tiny handler whose behaviour is chosen by the first label of the name:
 *   throw.*  -> throws            reject.* -> rejected promise
 *   null.*   -> no reply          delayNNN.* -> answers after NNN ms
 *   big.*    -> 60 TXT records; over UDP only TC=1 with an empty answer
 *   anything else -> A 192.0.2.1
 */
export function testZoneHandler(seen: Peer[] = []): Handler {
  return (query, peer) => {
    seen.push(peer);
    const scanned = scan(query);
    if (!scanned.ok) return null;
    const name = scanned.query.qname;
    const first = name.split('.')[0];
    if (first === 'throw') throw new Error('handler exploded');
    if (first === 'reject') return Promise.reject(new Error('handler rejected'));
    if (first === 'null') return null;
    const delay = /^delay(\d+)$/.exec(first);
    if (delay) {
      return new Promise((resolve) =>
        setTimeout(() => resolve(answer(query, [aRecord(name)])), Number(delay[1])),
      );
    }
    if (first === 'big') {
      if (peer.transport === 'udp') return answer(query, [], { tc: true });
      return answer(query, bigTxt(name));
    }
    return answer(query, [aRecord(name)]);
  };
}

export function aRecord(name: string): DnsRecord {
  return { name, type: 'A', ttl: 60, class: 'IN', data: '192.0.2.1' };
}

export function bigTxt(name: string): DnsRecord[] {
  const records: DnsRecord[] = [];
  for (let i = 0; i < 60; i++) {
    records.push({
      name,
      type: 'TXT',
      ttl: 60,
      class: 'IN',
      data: `record-${i}-${'x'.repeat(90)}`,
    });
  }
  return records;
}

/** A response to `query` (question echoed, RD copied, AA set); a view, as encode returns it. */
export function answer(
  query: Uint8Array,
  answers: DnsRecord[],
  options: { tc?: boolean; id?: number; flags?: number } = {},
): Uint8Array {
  const decoded = decode(query);
  if (!decoded.ok) throw new Error(`test zone cannot decode query: ${decoded.error}`);
  const q = decoded.message;
  const rd = (q.flags ?? 0) & 0x0100;
  return encode({
    id: options.id ?? q.id,
    type: 'response',
    flags: options.flags ?? 0x0400 | rd | (options.tc ? 0x0200 : 0),
    questions: q.questions,
    answers,
  });
}
