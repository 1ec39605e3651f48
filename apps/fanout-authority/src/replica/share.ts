import type { PrimaryFeeds, WorkerFeeds } from '@mdns/ops';
import { type DnsRecord, decode, encode, flatRecord } from '@mdns/protocol';
import { buildCopy, type ReplicaCopy, warmCopy } from './copy.js';
import type { Replica, ReplicaSyncState } from './replica.js';

// listen.workers > 1: the primary holds the replicas (one set of transfers, one copy of the
// transferred records per process); each worker's replica follows it. Two feeds, keyed by
// the upstream key: the copy (sent only when a pull changed it) and the state of the last
// check (sent after every check: the expire clock, the last transfer, the counts).

/** The feed of the copies: `ReplicaCopyWire` or null (no copy). */
export const COPY_TOPIC = 'replica-copy';
/** The feed of each replica's state after its last check: `ReplicaSyncState`. */
export const STATE_TOPIC = 'replica-state';
/** Workers to the primary: a NOTIFY a worker verified (`ReplicaNotify`). */
export const NOTIFY_TOPIC = 'replica-notify';

/**
 * A copy as it crosses the IPC channel: the records in DNS wire format (with name
 * compression), base64, in chunks. A third of the JSON of the decoded records, exact for
 * every type (TXT and unknown types hold bytes, which JSON does not), and decoded by the
 * worker with the same decoder as a transfer.
 */
export interface ReplicaCopyWire {
  zone: string;
  serial: number;
  /** The SOA record, then the others in chunks of `CHUNK_RECORDS`. */
  soa: string;
  chunks: string[];
}

export interface ReplicaNotify {
  upstream: string;
  serial?: number;
}

/** A message holds at most 65 535 records (16-bit counts): well under. */
const CHUNK_RECORDS = 8192;

function toWire(records: readonly DnsRecord[]): string {
  return Buffer.from(encode({ type: 'response', answers: [...records] })).toString('base64');
}

function fromWire(base64: string): DnsRecord[] {
  const d = decode(Buffer.from(base64, 'base64'));
  if (!d.ok) throw new Error(`a replica copy from the primary does not decode: ${d.error}`);
  // Kept as long as the copy: flat strings (`flatRecord`), as a transfer's records.
  return ((d.message.answers ?? []) as DnsRecord[]).map((r) => flatRecord(r));
}

/** The copy of a pull, for the workers. */
export function copyToWire(copy: ReplicaCopy): ReplicaCopyWire {
  const chunks: string[] = [];
  for (let i = 0; i < copy.records.length; i += CHUNK_RECORDS) {
    chunks.push(toWire(copy.records.slice(i, i + CHUNK_RECORDS)));
  }
  const soa: DnsRecord = {
    name: copy.zone,
    type: 'SOA',
    ttl: copy.soaTtl,
    data: copy.soa,
  } as DnsRecord;
  return { zone: copy.zone, serial: copy.serial, soa: toWire([soa]), chunks };
}

/** A worker's copy from the primary's wire form: built (answering structure too) as after a pull. */
export function copyFromWire(wire: ReplicaCopyWire): ReplicaCopy {
  const [soa] = fromWire(wire.soa);
  if (soa === undefined) throw new Error('a replica copy from the primary has no SOA');
  return warmCopy(buildCopy(wire.zone, soa, wire.chunks.flatMap(fromWire)));
}

/**
 * The primary's side: publishes a replica after each check — its copy when it is not the one
 * published last, then its state. `replicas()` the current set (a reload swaps it).
 */
export class ReplicaPublisher {
  readonly #published = new WeakMap<Replica, ReplicaCopy | null>();

  constructor(
    private readonly feeds: PrimaryFeeds,
    private readonly keyOf: (replica: Replica) => string,
  ) {}

  /** Returns whether a new copy was published (the merged zones' serial owner moves on it). */
  checked(replica: Replica): boolean {
    const key = this.keyOf(replica);
    const copy = replica.copy;
    const changed = this.#published.get(replica) !== copy;
    if (changed) {
      this.#published.set(replica, copy);
      this.feeds.publish(COPY_TOPIC, key, copy === null ? null : copyToWire(copy));
    }
    this.feeds.publish(STATE_TOPIC, key, replica.syncState());
    return changed;
  }

  /** A replica no longer run: the workers drop what they hold of it. */
  removed(replica: Replica): void {
    const key = this.keyOf(replica);
    this.feeds.publish(COPY_TOPIC, key, null);
    this.feeds.publish(STATE_TOPIC, key, null);
  }
}

/**
 * A worker's side: follows both feeds into the current runtime's replicas (`replicas()`),
 * and `seed` gives replicas built by a reload what the feeds hold already.
 */
export function followReplicas(
  feeds: WorkerFeeds,
  replicas: () => ReadonlyMap<string, Replica>,
  onError: (err: unknown, upstream: string) => void,
): { seed: (all: ReadonlyMap<string, Replica>) => void } {
  const adoptCopy = (replica: Replica | undefined, key: string, value: unknown) => {
    if (replica === undefined) return;
    try {
      replica.adoptCopy(value === null ? null : copyFromWire(value as ReplicaCopyWire));
    } catch (err) {
      onError(err, key);
    }
  };
  const adoptState = (replica: Replica | undefined, value: unknown) => {
    if (replica !== undefined && value !== null) replica.adoptState(value as ReplicaSyncState);
  };
  feeds.follow(COPY_TOPIC, (key, value) => adoptCopy(replicas().get(key), key, value));
  feeds.follow(STATE_TOPIC, (key, value) => adoptState(replicas().get(key), value));
  return {
    seed(all) {
      for (const [key, replica] of all) {
        if (replica.copy !== null) continue;
        const copy = feeds.get(COPY_TOPIC, key);
        if (copy !== undefined) adoptCopy(replica, key, copy);
        adoptState(replica, feeds.get(STATE_TOPIC, key) ?? null);
      }
    },
  };
}
