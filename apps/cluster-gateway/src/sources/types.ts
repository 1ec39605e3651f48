// The seam between the gateway's sources (this folder) and its core (index/, dns/, main.ts).
// Core reads these types; sources produce Claims and push them into an IndexSink.

import type { Claim } from '@mdns/protocol';
import type { RejectionCounts } from './claims/context.js';
import type { HealthTally } from './health/tally.js';
import type { ExplainedClaim } from './ledger.js';

export type SourceKind =
  | 'HTTPRoute'
  | 'TLSRoute'
  | 'GRPCRoute'
  | 'Ingress'
  | 'Service'
  | 'DNSEndpoint';

// What an object claims is the zone index's own claim shape (@mdns/protocol): the sources
// produce it, the index merges it. Named here too, so a source needs one import for its seam.
export type { Claim, ClaimOrigin, ExtraRecord, ExtraType } from '@mdns/protocol';

export interface IndexSink {
  /** Replace every claim of one object; `[]` removes the object. key = `namespace/name`. */
  replaceObject(kind: SourceKind, key: string, claims: Claim[]): void;
  /** After a (re)list: atomically swap every object of the kind (objects not in the map vanish). */
  replaceKind(kind: SourceKind, objects: Map<string, Claim[]>): void;
  setKindState(kind: SourceKind, state: KindState): void;
}

export type KindPhase = 'syncing' | 'synced' | 'absent' | 'forbidden' | 'error';

export type KindState = {
  phase: KindPhase;
  objects: number;
  /** Epoch ms of the last list, watch event or bookmark seen; null before any. */
  lastEventAt: number | null;
  message?: string;
};

export interface Source {
  start(sink: IndexSink): Promise<void>;
  stop(): Promise<void>;
  /** Every object claiming `name` (normalized) and its health; for the explain endpoint. */
  explain?(name: string): ExplainedClaim[];
}

/**
 * The logger sources write to: structurally a subset of pino's Logger, so a pino
 * logger (or a child) can be passed as is, and tests can pass a recording object.
 */
export interface SourceLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface SourcesContext {
  /** Served zones, normalized. */
  zones: string[];
  /** Seconds, used when an object has no TTL annotation. */
  defaultTtl: number;
  logger: SourceLogger;
  /** Counted refusals per reason (metrics); the sources make their own when absent. */
  rejected?: RejectionCounts;
  /** Held-back objects and health flips, for the metrics (`sources.health`). */
  healthTally?: HealthTally;
  /** The Kubernetes source's `onAllListed`: every watched kind has finished its first list. */
  onKubernetesListed?: () => void;
}

export type { RejectionCounts, RejectReason } from './claims/context.js';
export type { SourcesConfig } from './config.js';
export { createSources } from './index.js';
export { SOURCE_KINDS } from './kinds.js';
export type { ExplainedClaim } from './ledger.js';
