/**
 * At most one log line per key per interval. For lines an outsider can cause at will (a
 * refused zone transfer, a bad TSIG): without a gate, one client sending a thousand refused
 * requests a second writes a thousand lines a second — the log becomes the attack. Counters
 * still count every event; the line that passes says how many were held back since the last.
 */
export class LogGate {
  readonly #last = new Map<string, { atMs: number; suppressed: number }>();

  /**
   * `intervalMs`: per key. `maxKeys`: bound on the keys remembered (keys are often peer
   * addresses, which an attacker chooses); past it the oldest key is forgotten, so at worst
   * a forgotten key logs once more.
   */
  constructor(
    private readonly intervalMs: number,
    private readonly maxKeys = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  /** `null`: stay quiet (held back and counted); else how many were held back before this one. */
  pass(key: string): number | null {
    const nowMs = this.now();
    const entry = this.#last.get(key);
    if (entry !== undefined && nowMs - entry.atMs < this.intervalMs && nowMs >= entry.atMs) {
      entry.suppressed++;
      return null;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.#last.delete(key);
    if (this.#last.size >= this.maxKeys) {
      const oldest = this.#last.keys().next().value;
      if (oldest !== undefined) this.#last.delete(oldest);
    }
    this.#last.set(key, { atMs: nowMs, suppressed: 0 });
    return suppressed;
  }
}
