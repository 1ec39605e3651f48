import type { Claim } from '../types.js';

/** Addresses a parent Gateway publishes in its status, already split by family. */
export interface GatewayTarget {
  a: string[];
  aaaa: string[];
  hostnames: string[];
}

export interface ClaimContext {
  /** Served zones, normalized. */
  zones: readonly string[];
  /** Seconds, when the object has no TTL annotation. */
  defaultTtl: number;
  /** The parent Gateway `namespace/name`, or undefined when unknown or filtered out. */
  gateway(key: string): GatewayTarget | undefined;
}

export interface ClaimResult {
  claims: Claim[];
  /** Each names the object (`Kind namespace/name`) and the field. */
  warnings: string[];
  /** Valid names under no served zone: skipped quietly (debug level). */
  outside: string[];
}

export function objectRef(kind: string, meta: { namespace: string; name: string }): string {
  return `${kind} ${meta.namespace}/${meta.name}`;
}
