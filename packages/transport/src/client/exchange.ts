import { canonicalAddress, type ScannedQuery } from '@mdns/protocol';
import { DnsQueryError } from './errors.js';
import type { ExpectedReply } from './reply-match.js';

export interface ExchangeRequest {
  /** IP literal, canonical form (what the socket reports as the reply source). */
  host: string;
  port: number;
  packet: Uint8Array;
  expect: ExpectedReply;
  /** Absolute `Date.now()` time by which the whole query must be answered. */
  deadline: number;
  signal: AbortSignal | undefined;
}

export interface ExchangeReply {
  bytes: Uint8Array;
  reply: ScannedQuery;
}

/**
 * Settles an exchange exactly once and releases everything it holds: the
 * deadline timer, the abort listener and the socket (via `release`).
 */
export class ExchangeOutcome {
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort: () => void;

  constructor(
    private readonly req: ExchangeRequest,
    private readonly resolve: (reply: ExchangeReply) => void,
    private readonly reject: (error: DnsQueryError) => void,
    private readonly release: () => void,
    onDeadline: () => DnsQueryError,
  ) {
    this.timer = setTimeout(() => this.fail(onDeadline()), Math.max(0, req.deadline - Date.now()));
    this.onAbort = () =>
      this.fail(
        new DnsQueryError('aborted', `query to ${target(req)} aborted`, {
          cause: req.signal?.reason,
        }),
      );
    req.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get done(): boolean {
    return this.settled;
  }

  succeed(reply: ExchangeReply): void {
    if (this.finish()) this.resolve(reply);
  }

  fail(error: DnsQueryError): void {
    if (this.finish()) this.reject(error);
  }

  private finish(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.timer);
    this.req.signal?.removeEventListener('abort', this.onAbort);
    this.release();
    return true;
  }
}

export function target(req: { host: string; port: number }): string {
  return req.host.includes(':') ? `[${req.host}]:${req.port}` : `${req.host}:${req.port}`;
}

/**
 * The form the socket reports replies from (`::1`, not `0:0:0:0:0:0:0:1`; `::ffff:192.0.2.1`
 * for an IPv4-mapped peer), or null when `host` is not an IP literal. RFC 5952 text from
 * `@mdns/protocol`, the same on Node and Bun (WHATWG `URL` refuses valid forms on Bun).
 */
export function canonicalIp(host: string): string | null {
  return canonicalAddress(host);
}

/** Did this datagram come from the address we queried? Exact match first; parse only if not. */
export function isQueriedAddress(address: string, canonicalHost: string): boolean {
  return address === canonicalHost || canonicalIp(address) === canonicalHost;
}
