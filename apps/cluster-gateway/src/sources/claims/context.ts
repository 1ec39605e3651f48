import type { OwnershipPolicy } from '../ownership.js';
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
  /** `sources.services.externalIPs`: publish a Service's `spec.externalIPs`. */
  externalIPs: boolean;
  /** `sources.services.internalHostnames`: publish cluster IPs under `internal-hostname`. */
  internalHostnames: boolean;
  /** `sources.annotations.target`: read the external-dns `target` annotation. */
  targetAnnotation: boolean;
  /** The parent Gateway `namespace/name`, or undefined when unknown or filtered out. */
  gateway(key: string): GatewayTarget | undefined;
  /**
   * The ready endpoints' addresses of Service `namespace/name` (EndpointSlices), for
   * headless Services; absent when EndpointSlices are not watched (`sources.health` off).
   */
  endpoints?(service: string): string[];
}

export interface ClaimResult {
  claims: Claim[];
  /** Each names the object (`Kind namespace/name`) and the field. */
  warnings: string[];
  /** Valid names under no served zone: skipped quietly (debug level). */
  outside: string[];
  /** One entry per thing refused for a tenant-safety rule (counted in a metric). */
  rejected: RejectReason[];
}

/** Why a claim (or part of one) was refused; the label of `claims_rejected_total`. */
export type RejectReason =
  | 'ownership'
  | 'wildcard'
  | 'external_ips'
  | 'target'
  | 'txt'
  | 'object_too_large'
  | 'unsupported'
  | 'record_type'
  | 'endpoint_field';

export const REJECT_REASONS: readonly RejectReason[] = [
  'ownership',
  'wildcard',
  'external_ips',
  'target',
  'txt',
  'object_too_large',
  'unsupported',
  'record_type',
  'endpoint_field',
];

export function objectRef(kind: string, meta: { namespace: string; name: string }): string {
  return `${kind} ${meta.namespace}/${meta.name}`;
}

/** Refusals counted per reason since start (`mdns_gateway_claims_rejected_total`). */
export type RejectionCounts = Record<RejectReason, number>;

export function newRejectionCounts(): RejectionCounts {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as RejectionCounts;
}

/** The tenant-safety settings every ledger applies (`sources.services`, `sources.ownership`). */
export interface Tenancy {
  externalIPs: boolean;
  /** `sources.services.internalHostnames`; absent: false. */
  internalHostnames?: boolean;
  /** `sources.annotations.target`; absent: false. */
  targetAnnotation?: boolean;
  ownership: OwnershipPolicy;
  rejected: RejectionCounts;
}
