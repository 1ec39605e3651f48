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
