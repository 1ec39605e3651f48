/**
 * Process-wide client counters (plain numbers, exported as metrics by the apps).
 * Every dropped reply is counted once in `mismatched` and once in its reason.
 */
export interface ClientCounters {
  /** Calls to dnsQuery/dnsQueryRaw. */
  queries: number;
  /** UDP exchanges started. */
  udpExchanges: number;
  /** TCP exchanges started (TCP-only queries and truncation retries). */
  tcpExchanges: number;
  /** UDP replies with TC=1 that were retried over TCP. */
  truncatedRetries: number;
  /** Replies dropped because source, ID or question did not match the query. */
  mismatched: number;
  /** ... of which from another address or port than the one queried. */
  mismatchedSource: number;
  /** ... of which with another message ID (or QR=0). */
  mismatchedId: number;
  /** ... of which with another question (name case-insensitively, type, class). */
  mismatchedQuestion: number;
  /** Replies from the right source that could not be scanned as DNS. */
  malformedReplies: number;
  /** Queries that failed with kind 'timeout'. */
  timeouts: number;
  /** Queries that failed with kind 'aborted'. */
  aborted: number;
  /** Queries that failed with kind 'network'. */
  networkErrors: number;
  /** Queries that failed with kind 'malformed'. */
  malformed: number;
  /** Queries that failed with kind 'local' (never sent: our side). */
  localErrors: number;
  /** DnsClient: queries sent through its long-lived sockets (also counted in `queries`). */
  pooledQueries: number;
  /** DnsClient: queries cancelled by their caller (no callback, not a failure). */
  cancelled: number;
  /** DnsClient: replies to a query already timed out or cancelled (dropped, not a mismatch). */
  lateReplies: number;
  /** DnsClient: sockets opened (each bound to a new random port). */
  socketsOpened: number;
  /** DnsClient: sockets closed after their query count or lifetime (rotation). */
  socketsRotated: number;
  /** DnsClient: timeouts whose verdict was deferred past a busy event loop and then saved. */
  lateTimersSaved: number;
  /** DnsClient: send calls (syscalls) its pooled sockets made: one per query on `node:dgram`, one per `sendMany` batch on Bun. */
  udpSendCalls: number;
  /**
   * DnsClient: ICMP errors about earlier queries (an upstream's port closed) seen on its
   * sockets; a send they failed was sent again. Bun only (IP_RECVERR; `isIcmpReport`).
   */
  icmpReports: number;
}

export const clientCounters: ClientCounters = {
  queries: 0,
  udpExchanges: 0,
  tcpExchanges: 0,
  truncatedRetries: 0,
  mismatched: 0,
  mismatchedSource: 0,
  mismatchedId: 0,
  mismatchedQuestion: 0,
  malformedReplies: 0,
  timeouts: 0,
  aborted: 0,
  networkErrors: 0,
  malformed: 0,
  localErrors: 0,
  pooledQueries: 0,
  cancelled: 0,
  lateReplies: 0,
  socketsOpened: 0,
  socketsRotated: 0,
  lateTimersSaved: 0,
  udpSendCalls: 0,
  icmpReports: 0,
};
