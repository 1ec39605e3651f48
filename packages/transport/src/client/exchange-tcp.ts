import net from 'node:net';
import { scan } from '@mdns/protocol';
import { lengthPrefix, MALFORMED_FRAME, TcpFrameDecoder } from '../tcp-framing.js';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import { ExchangeOutcome, type ExchangeReply, type ExchangeRequest, target } from './exchange.js';
import { judgeReply } from './reply-match.js';

/**
 * One query over its own TCP connection: simple and robust, and the connect
 * time counts against the same deadline as the reply.
 */
export function tcpExchange(req: ExchangeRequest): Promise<ExchangeReply> {
  clientCounters.tcpExchanges++;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: req.host, port: req.port, noDelay: true });
    const decoder = new TcpFrameDecoder();
    const outcome = new ExchangeOutcome(
      req,
      resolve,
      reject,
      () => socket.destroy(),
      () => new DnsQueryError('timeout', `no reply from ${target(req)} over tcp`),
    );
    const networkError = (what: string, cause?: unknown) =>
      outcome.fail(new DnsQueryError('network', `tcp ${target(req)}: ${what}`, { cause }));

    socket.on('error', (error) => networkError(error.message, error));
    socket.on('close', () => networkError('connection closed before a reply'));
    socket.on('connect', () => {
      if (req.packet.length > 0xffff) {
        outcome.fail(
          new DnsQueryError('malformed', `query of ${req.packet.length} bytes is too long for tcp`),
        );
        return;
      }
      socket.cork();
      socket.write(lengthPrefix(req.packet.length));
      socket.write(req.packet);
      socket.uncork();
    });
    socket.on('data', (chunk: Buffer) => {
      decoder.feed(chunk);
      for (let frame = decoder.next(); frame !== null; frame = decoder.next()) {
        if (outcome.done) return;
        if (frame === MALFORMED_FRAME) {
          clientCounters.malformedReplies++;
          outcome.fail(new DnsQueryError('malformed', `bad tcp length prefix from ${target(req)}`));
          return;
        }
        const verdict = judgeReply(scan(frame), req.expect, frame);
        if (verdict.ok) {
          outcome.succeed({ bytes: frame, reply: verdict.reply });
          return;
        }
        if (verdict.reason === 'malformed') {
          clientCounters.malformedReplies++;
          outcome.fail(
            new DnsQueryError(
              'malformed',
              `malformed reply from ${target(req)}: ${verdict.detail}`,
            ),
          );
          return;
        }
        // A connection carries only our query, but stay strict: drop and keep reading.
        clientCounters.mismatched++;
        if (verdict.reason === 'id') clientCounters.mismatchedId++;
        else clientCounters.mismatchedQuestion++;
      }
    });
  });
}
