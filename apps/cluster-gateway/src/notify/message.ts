import { encode, OPCODE } from '@mdns/protocol';

/**
 * A DNS NOTIFY for `zone` (RFC 1996 3.1): opcode NOTIFY, AA=1, one question `<zone> IN SOA`.
 * The optional SOA answer is left out: the authority only uses NOTIFY as a "something
 * changed" trigger, and our serial does not track index changes.
 */
export function notifyMessage(zone: string, id: number): Uint8Array {
  return encode({
    id,
    type: 'query',
    flags: (OPCODE.NOTIFY << 11) | 0x0400,
    questions: [{ name: zone, type: 'SOA', class: 'IN' }],
  });
}

/** RFC 1996 4.7: an acknowledgement is a response with the same opcode; rcode 0 is success. */
export function isNotifyAck(reply: {
  query: { qr: boolean; opcode: number };
  rcode: number;
}): boolean {
  return reply.query.qr && reply.query.opcode === OPCODE.NOTIFY && reply.rcode === 0;
}
