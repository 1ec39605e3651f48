/** Something with at most one deadline in a `Deadlines` sweep. */
export interface DeadlineItem {
  /** `performance.now()` time of the armed deadline; 0 when none is armed. Owned by `Deadlines`. */
  due: number;
  /** Its index in its bucket's list. Owned by `Deadlines`. */
  dueSlot: number;
  /** The deadline passed (called once per `add`, unless `remove`d first). */
  onDeadline(): void;
}

// Deadlines are rounded up to this grain: one timer for every query in flight instead of one
// Node timer per query. A timeout fires at most GRAIN_MS late, far below any RTT-based
// upstream timeout (RFC 6298 minimums are tens of ms and more).
export const GRAIN_MS = 4;

/**
 * One coarse timer for many deadlines (the pooled client's query timeouts and tombstones):
 * deadlines fall into GRAIN_MS buckets and a single Node timer is armed for the earliest
 * bucket. `remove` takes the item out of its bucket at once (swap with the last, O(1)), so an
 * answered query is not kept alive until its deadline (it dies young, cheap for the GC) and a
 * bucket whose queries were all answered is dropped unvisited: the timer wakes about once per
 * timeout, not once per grain, and never re-arms on a remove.
 */
export class Deadlines {
  private readonly buckets = new Map<number, DeadlineItem[]>();
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
    let list = this.buckets.get(bucket);
    if (list === undefined) {
      list = [];
      this.buckets.set(bucket, list);
    }
    item.dueSlot = list.length;
    list.push(item);
    if (bucket < this.armedFor) this.arm(bucket);
  }

  /** Disarms `item`'s deadline, if any. */
  remove(item: DeadlineItem): void {
    if (item.due === 0) return;
    this.disarm(item);
    if (this.live === 0) this.reset();
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
    const due: Array<[number, DeadlineItem[]]> = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [bucket, list] of this.buckets) {
      if (list.length === 0) this.buckets.delete(bucket);
      else if (bucket <= passed) {
        due.push([bucket, list]);
        this.buckets.delete(bucket);
      } else if (bucket < next) next = bucket;
    }
    // Earliest deadline first, also when a busy loop let several buckets pass.
    if (due.length > 1) due.sort((a, b) => a[0] - b[0]);
    for (const [, list] of due) {
      for (const item of list) {
        // Removed (or re-armed) by an earlier callback of this round.
        if (item.due === 0 || bucketOf(item.due) > passed) continue;
        item.due = 0;
        this.live--;
        item.onDeadline();
      }
    }
    if (this.live === 0) this.reset();
    else if (next < this.armedFor) this.arm(next);
  }

  private disarm(item: DeadlineItem): void {
    const list = this.buckets.get(bucketOf(item.due));
    // A list being fired is out of the map already; a new list of the same bucket does not
    // hold the item at its slot.
    if (list !== undefined && list[item.dueSlot] === item) {
      const last = list.pop() as DeadlineItem;
      if (last !== item) {
        list[item.dueSlot] = last;
        last.dueSlot = item.dueSlot;
      }
    }
    item.due = 0;
    this.live--;
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

  /** Nothing armed: drop the timer and the empty lists. */
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
