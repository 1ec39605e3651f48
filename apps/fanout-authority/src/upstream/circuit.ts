/**
 * Consecutive-failure circuit breaker for one upstream. Closed: queried. Open: skipped by
 * every query and probed in the background; the first successful probe closes it. There
 * is no half-open state where real queries test the water: a client's answer never pays
 * for the experiment, the probe does.
 */
export interface CircuitState {
  open: boolean;
  consecutiveFailures: number;
  openedAtMs: number | null;
}

export function closedCircuit(): CircuitState {
  return { open: false, consecutiveFailures: 0, openedAtMs: null };
}

export function recordSuccess(state: CircuitState): CircuitState {
  if (!state.open && state.consecutiveFailures === 0) return state;
  return closedCircuit();
}

/** A query failure; opens the circuit on the `threshold`-th in a row. */
export function recordFailure(state: CircuitState, threshold: number, nowMs: number): CircuitState {
  const consecutiveFailures = state.consecutiveFailures + 1;
  if (state.open) return { ...state, consecutiveFailures };
  if (consecutiveFailures >= threshold)
    return { open: true, consecutiveFailures, openedAtMs: nowMs };
  return { open: false, consecutiveFailures, openedAtMs: null };
}

/**
 * A circuit transition another worker saw (listen.workers > 1), stamped with the wall-clock
 * time it happened (`Date.now()`: the workers share one host and its clock).
 */
export interface CircuitNews {
  open: boolean;
  atMs: number;
}

/**
 * How a worker applies a sibling's transition to its own circuit, `changedAtMs` being the
 * time of its own last transition (learned or received; 0 for none). The newest transition
 * wins: news older than what this worker knows is ignored, so a close and an open crossing
 * on the channel settle on the later one in every worker. Received news is never told on
 * (the sender told every sibling). An open received is one learned here: skipped by every
 * query, probed by this worker's own probe rounds; its failures count as the threshold
 * reached. A close received clears the failures. Null: nothing changes.
 */
export function receivedCircuit(
  state: CircuitState,
  changedAtMs: number,
  news: CircuitNews,
  threshold: number,
): { circuit: CircuitState; changedAtMs: number } | null {
  if (news.atMs <= changedAtMs) return null;
  if (news.open === state.open) return { circuit: state, changedAtMs: news.atMs };
  const circuit = news.open
    ? {
        open: true,
        consecutiveFailures: Math.max(state.consecutiveFailures, threshold),
        openedAtMs: news.atMs,
      }
    : closedCircuit();
  return { circuit, changedAtMs: news.atMs };
}
