import type { SourceKind } from './types.js';

/** Every kind, in the default precedence order (first wins when kinds claim the same name). */
export const SOURCE_KINDS: readonly SourceKind[] = [
  'HTTPRoute',
  'TLSRoute',
  'GRPCRoute',
  'Ingress',
  'Service',
  'DNSEndpoint',
];
