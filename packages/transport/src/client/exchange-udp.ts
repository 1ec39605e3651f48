import dgram from 'node:dgram';
import { scan } from '@mdns/protocol';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import {
  ExchangeOutcome,
  type ExchangeReply,
  type ExchangeRequest,
  isQueriedAddress,
  target,
} from './exchange.js';
import { judgeReply } from './reply-match.js';

/**
 * One query over a fresh UDP socket (kernel-chosen random source port). The
 * socket is deliberately not connect()ed so replies from elsewhere reach us
 * and can be counted; anything that does not match is dropped and we keep
 * waiting until the deadline.
 */
export function udpExchange(req: ExchangeRequest): Promise<ExchangeReply> {
  clientCounters.udpExchanges++;
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(req.host.includes(':') ? 'udp6' : 'udp4');
    let lastMalformed: string | null = null;
    const outcome = new ExchangeOutcome(
      req,
      resolve,
      reject,
      () => socket.close(),
      () =>
        lastMalformed === null
          ? new DnsQueryError('timeout', `no reply from ${target(req)} over udp`)
          : new DnsQueryError(
              'malformed',
              `only malformed replies from ${target(req)} over udp: ${lastMalformed}`,
            ),
    );
    socket.on('error', (error) =>
      outcome.fail(
        new DnsQueryError('network', `udp to ${target(req)}: ${error.message}`, { cause: error }),
      ),
    );
    socket.on('message', (msg, rinfo) => {
      if (outcome.done) return;
      if (rinfo.port !== req.port || !isQueriedAddress(rinfo.address, req.host)) {
        clientCounters.mismatched++;
        clientCounters.mismatchedSource++;
        return;
      }
      const verdict = judgeReply(scan(msg), req.expect, msg);
      if (verdict.ok) {
        outcome.succeed({ bytes: msg, reply: verdict.reply });
        return;
      }
      if (verdict.reason === 'malformed') {
        clientCounters.malformedReplies++;
        lastMalformed = verdict.detail;
        return;
      }
      clientCounters.mismatched++;
      if (verdict.reason === 'id') clientCounters.mismatchedId++;
      else clientCounters.mismatchedQuestion++;
    });
    // Exclusive: a query's own random port, never shared through a node:cluster primary.
    socket.bind({ port: 0, exclusive: true }, () => {
      if (outcome.done) return;
      socket.send(req.packet, req.port, req.host, (error) => {
        if (error) {
          outcome.fail(
            new DnsQueryError('network', `udp send to ${target(req)}: ${error.message}`, {
              cause: error,
            }),
          );
        }
      });
    });
  });
}
