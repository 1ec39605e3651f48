import type { SourceKind } from '../types.js';

/**
 * Which objects are held back for health, and how often objects flipped: read by the
 * metrics at scrape time (`mdns_gateway_health_objects`, `mdns_gateway_health_transitions_total`).
 */
export class HealthTally {
  readonly transitions = { healthy: 0, unhealthy: 0 };
  private readonly held = new Map<SourceKind, Set<string>>();

  /**
   * An object's health after a change: null when it no longer claims anything; `flipped`
   * when it was answered the other way before (a new object is not a transition).
   */
  note(kind: SourceKind, key: string, healthy: boolean | null, flipped: boolean): void {
    let set = this.held.get(kind);
    if (healthy === false) {
      if (!set) {
        set = new Set();
        this.held.set(kind, set);
      }
      set.add(key);
    } else set?.delete(key);
    if (flipped && healthy !== null) this.transitions[healthy ? 'healthy' : 'unhealthy']++;
  }

  /** Objects of the kind whose claims are held back (no ready endpoint). */
  unhealthy(kind: SourceKind): number {
    return this.held.get(kind)?.size ?? 0;
  }
}
