import { type ScannedQuery, scan, typeNumber } from '@mdns/protocol';
import { clientCounters } from './counters.js';
import { DnsQueryError } from './errors.js';
import { canonicalIp, type ExchangeReply, type ExchangeRequest } from './exchange.js';
import { tcpExchange } from './exchange-tcp.js';
import { udpExchange } from './exchange-udp.js';
import { buildQuery, randomQueryId } from './query-bytes.js';
import { type ExpectedReply, fullRcode, isTruncated } from './reply-match.js';

export interface DnsQueryOptions {
  /** Server IP literal (IPv4 or IPv6). */
  host: string;
  /** Default 53. */
  port?: number;
  name: string;
  /** Type number or name ('A', 'AAAA', ...). */
  type: number | string;
  /** Default 1 (IN). */
  class?: number;
  /** Recursion desired. Default true. */
  rd?: boolean;
  /** Add an EDNS(0) OPT record. Default true. */
  edns?: boolean;
  /** EDNS UDP payload size we advertise. Default 1232. */
  udpSize?: number;
  /** DO bit in the OPT record. Default false. */
  dnssecOk?: boolean;
  /** Whole-query budget, including a TCP retry and its connect. Default 5000. */
  timeoutMs?: number;
  /** TCP only, no UDP attempt. Default false. */
  tcp?: boolean;
  signal?: AbortSignal;
}

export interface DnsQueryRawOptions {
  host: string;
  /** Default 53. */
  port?: number;
  /** A complete query with exactly one question; its ID is used as-is (see `randomQueryId`). */
  packet: Uint8Array;
  /** Default 5000. */
  timeoutMs?: number;
  /** Default false. */
  tcp?: boolean;
  signal?: AbortSignal;
}

export interface DnsQueryResult {
  /** The reply bytes as received (a view; copy to keep beyond the next tick if you mutate). */
  bytes: Uint8Array;
  /** Header and question scan of the reply. */
  query: ScannedQuery;
  /** Full rcode (with EDNS extended bits). */
  rcode: number;
  rttMs: number;
  transport: 'udp' | 'tcp';
  /** True when UDP came back with TC=1 and this is the TCP retry's reply. */
  truncatedRetry: boolean;
}

const DEFAULT_TIMEOUT_MS = 5000;

/** Ask one question; see the README for the matching and retry rules. */
export function dnsQuery(options: DnsQueryOptions): Promise<DnsQueryResult> {
  clientCounters.queries++;
  const qtype = typeof options.type === 'number' ? options.type : typeNumber(options.type);
  if (qtype == null) {
    return rejectWith(new DnsQueryError('local', `unknown query type "${options.type}"`));
  }
  const packet = buildQuery({
    id: randomQueryId(),
    name: options.name,
    qtype,
    qclass: options.class ?? 1,
    rd: options.rd ?? true,
    edns:
      options.edns === false
        ? null
        : { udpSize: options.udpSize ?? 1232, dnssecOk: options.dnssecOk ?? false },
  });
  if (typeof packet === 'string') {
    return rejectWith(new DnsQueryError('local', `cannot build query: ${packet}`));
  }
  return exchange({ ...options, packet });
}

/** Send prepared query bytes (forwarding, NOTIFY) with the same matching and TC retry. */
export function dnsQueryRaw(options: DnsQueryRawOptions): Promise<DnsQueryResult> {
  clientCounters.queries++;
  return exchange(options);
}

async function exchange(options: DnsQueryRawOptions): Promise<DnsQueryResult> {
  const started = performance.now();
  try {
    const req = prepare(options);
    if (options.tcp) return result(await tcpExchange(req), started, 'tcp', false);
    const first = await udpExchange(req);
    if (!isTruncated(first.bytes)) return result(first, started, 'udp', false);
    clientCounters.truncatedRetries++;
    return result(await tcpExchange(req), started, 'tcp', true);
  } catch (error) {
    throw countedFailure(error);
  }
}

function prepare(options: DnsQueryRawOptions): ExchangeRequest {
  const port = options.port ?? 53;
  const host = canonicalIp(options.host);
  if (host === null) {
    throw new DnsQueryError('local', `host "${options.host}" is not an IP address`);
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new DnsQueryError('local', `port ${port} is not 1..65535`);
  }
  if (options.signal?.aborted) {
    throw new DnsQueryError('aborted', `query to ${host} aborted before it was sent`);
  }
  return {
    host,
    port,
    packet: options.packet,
    expect: expectationOf(options.packet),
    deadline: Date.now() + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    signal: options.signal,
  };
}

function expectationOf(packet: Uint8Array): ExpectedReply {
  const scanned = scan(packet);
  if (!scanned.ok) {
    throw new DnsQueryError('local', `query packet: ${scanned.error} at offset ${scanned.offset}`);
  }
  const q = scanned.query;
  if (q.qdcount !== 1) {
    throw new DnsQueryError('local', `query packet has ${q.qdcount} questions, expected 1`);
  }
  return { id: q.id, qname: q.qname, qtype: q.qtype, qclass: q.qclass };
}

function result(
  reply: ExchangeReply,
  started: number,
  transport: 'udp' | 'tcp',
  truncatedRetry: boolean,
): DnsQueryResult {
  return {
    bytes: reply.bytes,
    query: reply.reply,
    rcode: fullRcode(reply.bytes, reply.reply),
    rttMs: performance.now() - started,
    transport,
    truncatedRetry,
  };
}

/** `error` as a DnsQueryError, counted once in `clientCounters` by kind. */
export function countedFailure(error: unknown): DnsQueryError {
  const e =
    error instanceof DnsQueryError
      ? error
      : new DnsQueryError('network', `query failed: ${String(error)}`, { cause: error });
  if (e.kind === 'timeout') clientCounters.timeouts++;
  else if (e.kind === 'aborted') clientCounters.aborted++;
  else if (e.kind === 'network') clientCounters.networkErrors++;
  else if (e.kind === 'local') clientCounters.localErrors++;
  else clientCounters.malformed++;
  return e;
}

function rejectWith(error: DnsQueryError): Promise<never> {
  return Promise.reject(countedFailure(error));
}
