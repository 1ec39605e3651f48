export type DnsQueryErrorKind = 'timeout' | 'network' | 'aborted' | 'malformed';

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
