/** Hears the end of a flight it joined (`SingleFlight.join`): no Promise, no closure. */
export interface FlightListener<T> {
  /** The work's value, or `failed` set (and `value` undefined) when it failed. */
  flightEnded(value: T | undefined, failed: FlightFailure | null): void;
}

/** Why a flight failed (the work threw). */
export interface FlightFailure {
  error: unknown;
}

/**
 * One piece of work in flight for one key: the starter ends it with `done` or `fail`, and
 * every caller that joined meanwhile hears the same outcome.
 */
export class Flight<T> {
  private first: FlightListener<T> | null = null;
  private more: FlightListener<T>[] | null = null;
  /** `run`'s shared promise for this flight, made when a `run` caller first asks. */
  promise: Promise<T> | null = null;

  constructor(
    private readonly owner: SingleFlight<T>,
    readonly key: string,
  ) {}

  /** @internal */
  add(listener: FlightListener<T>): void {
    if (this.first === null) this.first = listener;
    else if (this.more === null) this.more = [listener];
    else this.more.push(listener);
  }

  done(value: T): void {
    this.end(value, null);
  }

  fail(error: unknown): void {
    this.end(undefined, { error });
  }

  private end(value: T | undefined, failed: FlightFailure | null): void {
    // Forgotten first: a listener that asks again starts a new flight.
    if (!this.owner.forget(this)) return; // ended already
    const first = this.first;
    const more = this.more;
    this.first = null;
    this.more = null;
    first?.flightEnded(value, failed);
    if (more !== null) for (const l of more) l.flightEnded(value, failed);
  }
}

/**
 * Collapses concurrent work on the same key into one: while a flight for a key is in flight,
 * later callers with that key wait for its outcome instead of starting the work again (one
 * fan-out per name, however many clients ask at once). The key is forgotten as soon as the
 * work settles, so a failure is shared by the callers that were waiting but never remembered
 * for the next one. Two forms share the same flights: `join` (a listener, the miss path's:
 * no Promise per miss) and `run` (a promise).
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Flight<T>>();

  /**
   * Joins `key`'s flight, or starts one: `start(flight, listener)` begins the work, which ends
   * it with `flight.done(value)` or `flight.fail(error)` (a throw from `start` fails it).
   * `listener` hears the outcome once, possibly before `join` returns.
   */
  join<L extends FlightListener<T>>(
    key: string,
    listener: L,
    start: (flight: Flight<T>, listener: L) => void,
  ): void {
    const running = this.inFlight.get(key);
    if (running !== undefined) {
      running.add(listener);
      return;
    }
    const flight = new Flight(this, key);
    flight.add(listener);
    this.inFlight.set(key, flight);
    try {
      start(flight, listener);
    } catch (error) {
      flight.fail(error);
    }
  }

  /** `join` as a promise: concurrent callers with one key get the same promise. */
  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running !== undefined) {
      running.promise ??= new Promise<T>((resolve, reject) =>
        running.add(new PromiseListener(resolve, reject)),
      );
      return running.promise;
    }
    const flight = new Flight(this, key);
    const promise = new Promise<T>((resolve, reject) =>
      flight.add(new PromiseListener(resolve, reject)),
    );
    flight.promise = promise;
    this.inFlight.set(key, flight);
    startWork(flight, work);
    return promise;
  }

  /** @internal A flight ended: false when it had already. */
  forget(flight: Flight<T>): boolean {
    if (this.inFlight.get(flight.key) !== flight) return false;
    this.inFlight.delete(flight.key);
    return true;
  }

  /** Keys with work in flight (for metrics and tests). */
  get size(): number {
    return this.inFlight.size;
  }

  has(key: string): boolean {
    return this.inFlight.has(key);
  }
}

class PromiseListener<T> implements FlightListener<T> {
  constructor(
    private readonly resolve: (value: T) => void,
    private readonly reject: (error: unknown) => void,
  ) {}

  flightEnded(value: T | undefined, failed: FlightFailure | null): void {
    if (failed !== null) this.reject(failed.error);
    else this.resolve(value as T);
  }
}

/** A work function that throws synchronously fails the flight, like an async one. */
function startWork<T>(flight: Flight<T>, work: () => Promise<T>): void {
  let promise: Promise<T>;
  try {
    promise = Promise.resolve(work());
  } catch (error) {
    flight.fail(error);
    return;
  }
  promise.then(
    (value) => flight.done(value),
    (error: unknown) => flight.fail(error),
  );
}
