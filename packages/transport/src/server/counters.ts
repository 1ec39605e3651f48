/**
 * Server counters: a plain object of numbers so an app can export each field
 * as a Prometheus counter/gauge without knowing anything about the transport.
 */
export interface ServerCounters {
  /** UDP datagrams received (including the ones dropped below). */
  udpQueries: number;
  /** UDP replies handed to the socket. */
  udpReplies: number;
  /** Framed TCP messages received. */
  tcpQueries: number;
  /** TCP replies written. */
  tcpReplies: number;
  /** Messages never given to the handler: shorter than a header, QR=1, or received while closing. */
  dropped: number;
  /** Handler returned null (the handler decided not to answer). */
  noReply: number;
  /** Handler threw or rejected (each answered with SERVFAIL when the question could be scanned). */
  handlerErrors: number;
  /** Of `handlerErrors`: the query could not be scanned, so nothing was sent. */
  handlerErrorsUnanswered: number;
  /** Replies not sent because they exceed the transport's maximum (65507 UDP, 65535 TCP). */
  oversizeReplies: number;
  /** UDP replies not sent: their rate-limit account was spent (`rateLimit`). */
  rrlDropped: number;
  /** UDP replies sent as an empty TC=1 instead: limited, but every `slip`-th one (`rateLimit`). */
  rrlSlipped: number;
  /** Socket send/write errors (UDP send failures, TCP socket errors). */
  sendErrors: number;
  /**
   * ICMP errors the kernel reported about earlier UDP replies (port unreachable: the client
   * closed its socket, or the query's source was spoofed). Only on Bun (IP_RECVERR); every
   * reply of other clients is still sent (`sendManyPastIcmpReports`). Not failures of ours.
   */
  udpIcmpReports: number;
  /** TCP connections accepted (total). */
  tcpConnections: number;
  /** TCP connections open now (a gauge). */
  tcpOpen: number;
  /** TCP connections closed at once because `maxTcpConnections` were open. */
  tcpRejected: number;
  /** TCP connections closed at once because their source had `maxTcpConnectionsPerSource` open. */
  tcpSourceRejected: number;
  /** TCP connections closed after `tcpIdleTimeoutMs` without traffic. */
  tcpIdleClosed: number;
  /** TCP connections closed because a length prefix was shorter than a DNS header. */
  tcpFramingErrors: number;
  /** Times a TCP connection stopped reading because `maxTcpPipelined` queries were in flight. */
  tcpPipelinePauses: number;
  /** TCP connections closed because queued replies made no progress for `tcpIdleTimeoutMs`. */
  tcpWriteStalls: number;
  /** TCP connections closed because a reply would take queued output past `maxTcpQueuedBytes`. */
  tcpQueueOverflows: number;
}

export function newServerCounters(): ServerCounters {
  return {
    udpQueries: 0,
    udpReplies: 0,
    tcpQueries: 0,
    tcpReplies: 0,
    dropped: 0,
    noReply: 0,
    handlerErrors: 0,
    handlerErrorsUnanswered: 0,
    oversizeReplies: 0,
    rrlDropped: 0,
    rrlSlipped: 0,
    sendErrors: 0,
    udpIcmpReports: 0,
    tcpConnections: 0,
    tcpOpen: 0,
    tcpRejected: 0,
    tcpSourceRejected: 0,
    tcpIdleClosed: 0,
    tcpFramingErrors: 0,
    tcpPipelinePauses: 0,
    tcpWriteStalls: 0,
    tcpQueueOverflows: 0,
  };
}
