import { type DnsRecord, decode, encode } from '@mdns/protocol';
import { startDnsPeer } from '@mdns/testkit';
import { ZONE } from '../fixtures.js';

/**
 * An upstream gateway that misbehaves on purpose, for the authority's fault table.
 * Modes:
 * - `good`: answers its own names, NXDOMAIN (+SOA) for the rest;
 * - `flap`: `good` and silent in turns of `periodMs`;
 * - `partial`: answers only every `everyNth` query, silent for the rest;
 * - `huge`: every positive answer carries `hugeRecords` A records (tens of KB, over UDP too);
 * - `flood`: before each real answer (sent `floodDelayMs` later) sends `floodCount` forged
 *   replies to the asker — random IDs, or the right ID with another question — all carrying
 *   `POISON` addresses. Forged replies go only to the asker's own address and port: a blind
 *   spray at random loopback ports would hit other programs on a shared machine.
 * - `forge-exact`: a spoofer who already has the port and the ID: before each real answer
 *   (sent `floodDelayMs` later, echoing the question as received) one forged reply with the
 *   same ID and the question name in lowercase, answering `POISON` for any name. Only the
 *   0x20 case of the question tells it from the real one.
 * - `overreach`: every answer is a CNAME to `OUTSIDE` (a name outside the zone) plus an A
 *   record `POISON` for that outside name, all with TTL `WEEK`: an upstream (or a spoofer)
 *   speaking for a zone that is not ours, for a week.
 */
export type FaultMode =
  | 'good'
  | 'flap'
  | 'partial'
  | 'huge'
  | 'flood'
  | 'forge-exact'
  | 'overreach';

export const OUTSIDE = 'lb.elsewhere.example';
export const WEEK = 604_800;

export const POISON = '198.18.0.66';

export interface FaultUpstreamOptions {
  /** name -> IPv4 address this upstream serves. */
  names: Record<string, string>;
  mode?: FaultMode;
  periodMs?: number;
  everyNth?: number;
  hugeRecords?: number;
  floodCount?: number;
  floodDelayMs?: number;
  /** Names answered SERVFAIL in every mode: a cluster broken for one name only. */
  servfailNames?: string[];
}

export interface FaultUpstream {
  port: number;
  readonly counters: { queries: number; answered: number; forged: number };
  setMode(mode: FaultMode): void;
  close(): Promise<void>;
}

const soa: DnsRecord = {
  name: ZONE,
  type: 'SOA',
  ttl: 30,
  class: 'IN',
  data: {
    mname: `gw.${ZONE}`,
    rname: `hostmaster.${ZONE}`,
    serial: 1,
    refresh: 60,
    retry: 60,
    expire: 60,
    minimum: 30,
  },
} as DnsRecord;

function answer(
  id: number,
  question: { name: string; type: string; class?: string },
  addresses: string[],
  rcode: number,
): Uint8Array {
  return encode({
    id,
    type: 'response',
    flags: 0x0400 | rcode,
    questions: [question],
    answers: addresses.map((data) => ({ name: question.name, type: 'A', ttl: 60, data })),
    authorities: addresses.length === 0 ? [soa] : [],
  } as never);
}

export async function startFaultUpstream(options: FaultUpstreamOptions): Promise<FaultUpstream> {
  let mode: FaultMode = options.mode ?? 'good';
  const counters = { queries: 0, answered: 0, forged: 0 };
  const servfail = new Set(options.servfailNames ?? []);
  const startedAt = Date.now();

  /** The replies to send for one query, each after its delay. */
  const peer = await startDnsPeer(({ bytes: query, send, sendLater }) => {
    const d = decode(query);
    if (!d.ok || !d.message.questions?.length) return;
    counters.queries++;
    const id = d.message.id ?? 0;
    const q = d.message.questions[0];
    const question = { name: q.name, type: String(q.type), class: 'IN' };
    const address = options.names[q.name.toLowerCase()];
    const wantsA = question.type === 'A';
    const addresses = address && wantsA ? [address] : [];
    const rcode = address ? 0 : 3;
    if (servfail.has(q.name.toLowerCase())) {
      counters.answered++;
      return send(answer(id, question, [], 2));
    }
    if (mode === 'flap' && Math.floor((Date.now() - startedAt) / (options.periodMs ?? 500)) % 2)
      return;
    if (mode === 'partial' && counters.queries % (options.everyNth ?? 2) !== 0) return;
    if (mode === 'huge' && addresses.length > 0) {
      const many = Array.from(
        { length: options.hugeRecords ?? 3000 },
        (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      );
      counters.answered++;
      return send(answer(id, question, many, 0));
    }
    if (mode === 'forge-exact') {
      const forgedQuestion = { ...question, name: question.name.toLowerCase() };
      const forged = encode({
        id,
        type: 'response',
        flags: 0x0400,
        questions: [forgedQuestion],
        answers: [{ name: forgedQuestion.name, type: 'A', ttl: 60, data: POISON }],
      } as never);
      send(forged);
      counters.forged++;
      counters.answered++;
      return sendLater(options.floodDelayMs ?? 20, answer(id, question, addresses, rcode));
    }
    if (mode === 'overreach') {
      counters.answered++;
      return send(
        encode({
          id,
          type: 'response',
          flags: 0x0400,
          questions: [question],
          answers: [
            { name: question.name, type: 'CNAME', ttl: WEEK, data: OUTSIDE },
            { name: OUTSIDE, type: 'A', ttl: WEEK, data: POISON },
          ],
        } as never),
      );
    }
    if (mode === 'flood') {
      const count = options.floodCount ?? 50;
      for (let i = 0; i < count; i++) {
        const forgedId = i % 5 === 0 ? id : (id + 1 + Math.floor(Math.random() * 65535)) & 0xffff;
        // Same ID but another question (a cache-poisoning attempt for a neighbour name)...
        const forgedQuestion =
          forgedId === id ? { ...question, name: `victim${i}.${ZONE}` } : question;
        const forged = answer(forgedId, forgedQuestion, [POISON], 0);
        send(forged);
        counters.forged++;
      }
      counters.answered++;
      return sendLater(options.floodDelayMs ?? 20, answer(id, question, addresses, rcode));
    }
    counters.answered++;
    send(answer(id, question, addresses, rcode));
  });
  return {
    port: peer.port,
    counters,
    setMode(next) {
      mode = next;
    },
    close: () => peer.close(),
  };
}
