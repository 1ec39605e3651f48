import { encode, OPCODE, type ZoneApex } from '@mdns/protocol';

/**
 * A DNS NOTIFY for `zone` (RFC 1996 3.1): opcode NOTIFY, AA=1, one question `<zone> IN SOA`,
 * and with `apex` the zone's current SOA as the answer (RFC 1996 3.7: a secondary may skip
 * its SOA query when it already holds that serial).
 */
export function notifyMessage(zone: string, id: number, apex?: ZoneApex): Uint8Array {
  return encode({
    id,
    type: 'query',
    flags: (OPCODE.NOTIFY << 11) | 0x0400,
    questions: [{ name: zone, type: 'SOA', class: 'IN' }],
    answers: apex
      ? [{ name: zone, type: 'SOA', class: 'IN', ttl: apex.soaTtl, data: { ...apex.soa } }]
      : [],
  });
}

/** RFC 1996 4.7: an acknowledgement is a response with the same opcode; rcode 0 is success. */
export function isNotifyAck(reply: {
  query: { qr: boolean; opcode: number };
  rcode: number;
}): boolean {
  return reply.query.qr && reply.query.opcode === OPCODE.NOTIFY && reply.rcode === 0;
}
