import type { PrimaryFeeds, WorkerFeeds } from '@mdns/ops';
import type { Claim, IndexSink, KindState, SourceKind } from './types.js';

// listen.workers > 1: the primary runs the sources once (one list+watch per resource per
// process, one ledger) and publishes what the index needs; each worker's index follows.
// What crosses is the claims (per object, as the sources hand them to the index), not the
// slim objects: the claims are smaller (an object's names and addresses only) and the
// worker then needs no source code path at all, so its index is built by the very calls
// (`replaceObject`, `setKindState`) a source makes in a single process.

/** The claims of each object: key `${kind} ${namespace/name}`, value `Claim[]` (null: gone). */
export const CLAIMS_TOPIC = 'gateway-claims';
/** Each kind's sync state (readiness, `/ready` detail, metrics): key the kind, value `KindState`. */
export const KIND_STATE_TOPIC = 'gateway-kind-state';
/** The serial the primary committed the zone's data at: key the zone, value the serial. */
export const SERIAL_TOPIC = 'gateway-serial';
/** Workers to the primary: this worker (its index) finished its first full sync. */
export const WORKER_SYNCED_TOPIC = 'gateway-worker-synced';

/** The feed key of one object. A kind has no space, so the first space splits it back. */
export function claimsKey(kind: SourceKind, key: string): string {
  return `${kind} ${key}`;
}

/** Pure: the kind and object key of a feed key. */
export function splitClaimsKey(feedKey: string): { kind: SourceKind; key: string } {
  const at = feedKey.indexOf(' ');
  return { kind: feedKey.slice(0, at) as SourceKind, key: feedKey.slice(at + 1) };
}

/**
 * Pure: claims as JSON gave them back. JSON has no Infinity: an unknown creation time
 * (`createdAt: Infinity`, the youngest for first-claimant) arrives as null.
 */
export function reviveClaims(claims: readonly Claim[]): Claim[] {
  for (const claim of claims) {
    const origin = claim.origin as { namespace: string; createdAt: number | null } | undefined;
    if (origin !== undefined && origin.createdAt === null) {
      claim.origin = { namespace: origin.namespace, createdAt: Number.POSITIVE_INFINITY };
    }
  }
  return claims as Claim[];
}

/**
 * The primary's sink: publishes each object's claims when they changed (a relist after a
 * watch expired hands every object again; only the ones that differ cross), and each kind's
 * state. A relist's `replaceKind` becomes per-object entries: the removed objects, then the
 * changed ones — the workers end with the same index as a `replaceKind` would give them.
 */
export function publishingSink(feeds: Pick<PrimaryFeeds, 'publish'>): IndexSink {
  /** The JSON of what was published last, per feed key: the change test. */
  const published = new Map<string, string>();
  const replaceObject = (kind: SourceKind, key: string, claims: Claim[]) => {
    const feedKey = claimsKey(kind, key);
    if (claims.length === 0) {
      if (published.delete(feedKey)) feeds.publish(CLAIMS_TOPIC, feedKey, null);
      return;
    }
    const json = JSON.stringify(claims);
    if (published.get(feedKey) === json) return;
    published.set(feedKey, json);
    feeds.publish(CLAIMS_TOPIC, feedKey, claims);
  };
  return {
    replaceObject,
    replaceKind(kind, objects) {
      const prefix = claimsKey(kind, '');
      for (const feedKey of [...published.keys()]) {
        if (feedKey.startsWith(prefix) && !objects.has(feedKey.slice(prefix.length))) {
          replaceObject(kind, feedKey.slice(prefix.length), []);
        }
      }
      for (const [key, claims] of objects) replaceObject(kind, key, claims);
    },
    setKindState(kind: SourceKind, state: KindState) {
      feeds.publish(KIND_STATE_TOPIC, kind, state);
    },
  };
}

/**
 * A worker's side: the primary's entries into `sink` (the worker's held names and index),
 * and its serials to `onSerial`. The feeds keep publication order per worker, and the
 * primary commits a serial after publishing the claims it covers: so a serial arrives once
 * the worker holds the data it names. The claims are followed first and the kind states
 * last, so a (re)started worker gets every object and the serial before the states that
 * say its kinds are synced (its first version is then taken at the primary's serial).
 */
export function followClaims(
  feeds: WorkerFeeds,
  sink: IndexSink,
  onSerial: (zone: string, serial: number) => void = () => {},
): void {
  feeds.follow(CLAIMS_TOPIC, (feedKey, value) => {
    const { kind, key } = splitClaimsKey(feedKey);
    sink.replaceObject(kind, key, value === null ? [] : reviveClaims(value as Claim[]));
  });
  feeds.follow(SERIAL_TOPIC, (zone, value) => {
    if (typeof value === 'number') onSerial(zone, value);
  });
  feeds.follow(KIND_STATE_TOPIC, (kind, value) => {
    if (value !== null) sink.setKindState(kind as SourceKind, value as KindState);
  });
}

/** The primary's side of the serial: each zone a commit moved, at its serial now. */
export function publishSerials(
  feeds: Pick<PrimaryFeeds, 'publish'>,
  zones: readonly string[],
  serialOf: (zone: string) => number | undefined,
): void {
  for (const zone of zones) {
    const serial = serialOf(zone);
    if (serial !== undefined) feeds.publish(SERIAL_TOPIC, zone, serial);
  }
}

/** Both sinks get every call: the primary's own index and the workers' feed. */
export function teeSink(a: IndexSink, b: IndexSink): IndexSink {
  return {
    replaceObject(kind, key, claims) {
      a.replaceObject(kind, key, claims);
      b.replaceObject(kind, key, claims);
    },
    replaceKind(kind, objects) {
      a.replaceKind(kind, objects);
      b.replaceKind(kind, objects);
    },
    setKindState(kind, state) {
      a.setKindState(kind, state);
      b.setKindState(kind, state);
    },
  };
}
