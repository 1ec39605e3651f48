export { type ClientCounters, clientCounters } from './client/counters.js';
export {
  DnsClient,
  type DnsClientOptions,
  type DnsClientQuery,
} from './client/dns-client.js';
export { DnsQueryError, type DnsQueryErrorKind } from './client/errors.js';
export type {
  LateReplyCallback,
  PendingQuery,
  QueryCallback,
} from './client/pooled-query.js';
export {
  type DnsQueryOptions,
  type DnsQueryRawOptions,
  type DnsQueryResult,
  dnsQuery,
  dnsQueryRaw,
} from './client/query.js';
export { randomQueryId } from './client/query-bytes.js';
export {
  pullZone,
  type TransferFailure,
  TransferReader,
  type TransferRequest,
  type TransferResult,
} from './client/transfer.js';
export { type AddressSet, addressSet, inAddressSet } from './server/address-set.js';
export type { ServerCounters } from './server/counters.js';
export { LaterReply, type LaterReplySink } from './server/later-reply.js';
export type { RateLimitOptions } from './server/rate-limit.js';
export { DnsServer } from './server/server.js';
export { sourcePrefix } from './server/source-prefix.js';
export type {
  CloseOptions,
  DnsServerOptions,
  Handler,
  HandlerReply,
  MessageList,
  Peer,
  StreamingHandler,
  Transport,
} from './server/types.js';
export type { UdpBackend } from './server/udp-listener.js';
