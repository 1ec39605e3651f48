/**
 * `local`: the query was never sent because of our side (a name, type or host that cannot
 * go on the wire, no free query ID) — never evidence about the server, so callers that judge
 * a server's health must not count it.
 */
export type DnsQueryErrorKind = 'timeout' | 'network' | 'aborted' | 'malformed' | 'local';

/** Every failure of `dnsQuery`/`dnsQueryRaw`; `kind` is what callers branch on. */
export class DnsQueryError extends Error {
  override readonly name = 'DnsQueryError';

  constructor(
    readonly kind: DnsQueryErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
