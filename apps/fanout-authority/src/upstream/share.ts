import type { Siblings } from '@mdns/ops';
import type { SiblingTransition } from './health.js';
import type { Upstream } from './upstream.js';

/** The sibling topic of circuit transitions. */
const TOPIC = 'circuit';

/** What a worker tells its siblings when one of its upstreams' circuit opened or closed. */
export interface CircuitEvent extends SiblingTransition {
  /** `upstreamKey`: zone, name, address and port — the same upstream in every worker. */
  key: string;
}

/** A sibling's payload as a CircuitEvent, or null when it is not one. */
export function parseCircuitEvent(payload: unknown): CircuitEvent | null {
  if (typeof payload !== 'object' || payload === null) return null;
  const p = payload as Record<string, unknown>;
  if (typeof p.key !== 'string' || typeof p.open !== 'boolean') return null;
  if (typeof p.atMs !== 'number' || !Number.isFinite(p.atMs)) return null;
  const srtt = typeof p.srtt === 'number' && Number.isFinite(p.srtt) && p.srtt >= 0 ? p.srtt : null;
  const rttvar =
    typeof p.rttvar === 'number' && Number.isFinite(p.rttvar) ? Math.max(0, p.rttvar) : 0;
  const lastError = typeof p.lastError === 'string' ? p.lastError.slice(0, 500) : null;
  return { key: p.key, open: p.open, atMs: p.atMs, srtt, rttvar, lastError };
}

/**
 * Upstream health learned once for every worker (listen.workers > 1): a circuit that opens
 * or closes in one worker is told to the others, which apply it as their own
 * (`Upstream.receive`): no worker fans out to a cluster another already knows is dead, nor
 * keeps skipping one another saw come back. Only transitions travel — a single failure, a
 * single RTT sample do not — so the channel carries a message per cluster death or
 * recovery, never one per query.
 *
 * Probing: every worker keeps probing the upstreams whose circuit it holds open, on its own
 * rounds. The first probe that passes, in any worker, closes the circuit everywhere; a dead
 * cluster gets one SOA per worker per `probeIntervalMs`. One designated prober would save
 * those few queries but needs a hand-over when that worker dies or restarts; this needs none.
 */
export class HealthShare {
  constructor(
    private readonly siblings: Siblings,
    private readonly upstreams: () => readonly Upstream[],
  ) {
    siblings.on(TOPIC, (payload) => {
      const event = parseCircuitEvent(payload);
      if (event === null) return;
      // A reload may have removed it, or not reached this worker yet: nothing to apply then.
      for (const u of this.upstreams()) if (u.key === event.key) u.receive(event);
    });
  }

  /** For `buildRuntime`: called by an upstream whose circuit this worker flipped. */
  readonly changed = (u: Upstream): void => {
    const h = u.health;
    this.siblings.tell(TOPIC, {
      key: u.key,
      open: h.circuit.open,
      atMs: h.changedAtMs,
      srtt: h.rtt.srtt,
      rttvar: h.rtt.rttvar,
      lastError: h.lastError,
    } satisfies CircuitEvent);
  };
}
