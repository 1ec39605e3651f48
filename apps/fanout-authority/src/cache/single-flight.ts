/**
 * Collapses concurrent work on the same key into one promise: while a `run(key, ...)` is in
 * flight, later callers with that key get the same promise instead of starting the work
 * again (one fan-out per name, however many clients ask at once). The key is forgotten as
 * soon as the promise settles, so a failure is shared by the callers that were waiting but
 * never remembered for the next one.
 */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  run(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running !== undefined) return running;
    const promise = start(work);
    this.inFlight.set(key, promise);
    const forget = (): void => {
      if (this.inFlight.get(key) === promise) this.inFlight.delete(key);
    };
    // then(forget, forget), not finally(): finally's derived promise would re-reject unhandled.
    promise.then(forget, forget);
    return promise;
  }

  /** Keys with work in flight (for metrics and tests). */
  get size(): number {
    return this.inFlight.size;
  }

  has(key: string): boolean {
    return this.inFlight.has(key);
  }
}

/** A work function that throws synchronously becomes a rejected promise, like an async one. */
function start<T>(work: () => Promise<T>): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (error) {
    return Promise.reject(error);
  }
}
