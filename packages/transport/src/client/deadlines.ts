/** Something with at most one deadline in a `Deadlines` sweep. */
export interface DeadlineItem {
  /** `performance.now()` time of the armed deadline; 0 when none is armed. Owned by `Deadlines`. */
  due: number;
  /** The deadline passed (called once per `add`, unless `remove`d first). */
  onDeadline(): void;
}

// Deadlines are rounded up to this grain: one timer per grain that holds a deadline instead
// of one Node timer per query. A timeout fires at most GRAIN_MS late, far below any RTT-based
// upstream timeout (RFC 6298 minimums are tens of ms and more).
export const GRAIN_MS = 4;

/** The items of one GRAIN_MS bucket; `live` counts those still armed there. */
interface Bucket {
  items: DeadlineItem[];
  live: number;
}

/**
 * One coarse timer for many deadlines (the pooled client's query timeouts and tombstones):
 * deadlines fall into GRAIN_MS buckets and a single Node timer is armed for the earliest
 * bucket. `remove` is lazy (it clears `due` and counts the bucket down; the item stays in
 * its list), so answering a query costs no timer work; when the timer fires, buckets left
 * with nothing armed are dropped unvisited and the timer skips to the earliest bucket still
 * holding a deadline. Most queries are answered long before their timeout, so the timer
 * wakes about once per timeout, not once per grain. While nothing is armed no timer runs, so an idle
 * client never keeps the process alive; while a deadline is armed the timer does, as a
 * per-query timer would.
 */
export class Deadlines {
  private readonly buckets = new Map<number, Bucket>();
  private timer: NodeJS.Timeout | null = null;
  /** Bucket the timer is armed for (Infinity: none). */
  private armedFor = Number.POSITIVE_INFINITY;
  /** Items with a deadline armed (not removed, not yet fired). */
  private live = 0;

  /** Arms `item`'s deadline `inMs` from now; an armed one is replaced. */
  add(item: DeadlineItem, inMs: number): void {
    if (item.due !== 0) this.disarm(item);
    const due = performance.now() + Math.max(0, inMs);
    item.due = due;
    this.live++;
    const bucket = bucketOf(due);
    const entry = this.buckets.get(bucket);
    if (entry === undefined) this.buckets.set(bucket, { items: [item], live: 1 });
    else {
      entry.items.push(item);
      entry.live++;
    }
    if (bucket < this.armedFor) this.arm(bucket);
  }

  /** Disarms `item`'s deadline, if any. */
  remove(item: DeadlineItem): void {
    if (item.due === 0) return;
    this.disarm(item);
    if (this.live === 0) this.reset();
  }

  private disarm(item: DeadlineItem): void {
    const entry = this.buckets.get(bucketOf(item.due));
    if (entry !== undefined) entry.live--;
    item.due = 0;
    this.live--;
  }

  /** Deadlines armed now (for tests and counters). */
  get armed(): number {
    return this.live;
  }

  /** The timer fired: call every item whose bucket has passed, then arm for the next bucket. */
  fire(): void {
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
    const passed = Math.floor(performance.now() / GRAIN_MS);
    const due: DeadlineItem[][] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [bucket, entry] of this.buckets) {
      if (entry.live === 0) this.buckets.delete(bucket);
      else if (bucket <= passed) {
        due.push(entry.items);
        this.buckets.delete(bucket);
      } else if (bucket < next) next = bucket;
    }
    for (const list of due) {
      for (const item of list) {
        // Skip items removed since, or re-armed into a later bucket (they sit there too).
        if (item.due === 0 || bucketOf(item.due) > passed) continue;
        item.due = 0;
        this.live--;
        item.onDeadline();
      }
    }
    if (this.live === 0) this.reset();
    else if (next < this.armedFor) this.arm(next);
  }

  private arm(bucket: number): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = bucket;
    // Node may fire up to a millisecond early by our clock: `fire` then finds the bucket not
    // yet passed and arms again.
    this.timer = setTimeout(
      fireDeadlines,
      Math.max(1, bucket * GRAIN_MS - performance.now()),
      this,
    );
  }

  /** Nothing armed: drop the lazy leftovers and the timer. */
  private reset(): void {
    this.buckets.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Number.POSITIVE_INFINITY;
  }
}

function bucketOf(due: number): number {
  return Math.ceil(due / GRAIN_MS);
}

function fireDeadlines(deadlines: Deadlines): void {
  deadlines.fire();
}

/** The process's sweep for pooled queries: one timer for every `DnsClient`. */
export const queryDeadlines = new Deadlines();
