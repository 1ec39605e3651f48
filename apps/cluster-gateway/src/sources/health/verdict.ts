// The health decision for one claiming object, as a pure function of its backends' states.

/**
 * One backend Service as health sees it. `unknown`: no EndpointSlice names it (ExternalName,
 * a Service without selector, the EndpointSlice API absent or forbidden) — health never
 * blocks answers, so it counts as healthy.
 */
export type BackendState = 'ready' | 'grace' | 'down' | 'unknown';

/** `health.require`: one healthy backend is enough (`any`) or every one must be (`all`). */
export type HealthRequirement = 'any' | 'all';

/** A backend that serves answers: ready, inside the grace period, or unknowable. */
export function backendHealthy(state: BackendState): boolean {
  return state !== 'down';
}

/**
 * Whether an object's claims are answered. `backends` null: health does not apply (a
 * DNSEndpoint, an object annotated `mdns.io/health: ignore`); empty: nothing to check
 * (an Ingress with only resource backends), healthy.
 */
export function claimHealthy(
  backends: readonly string[] | null,
  stateOf: (service: string) => BackendState,
  require: HealthRequirement,
): boolean {
  if (backends === null || backends.length === 0) return true;
  if (require === 'all') return backends.every((b) => backendHealthy(stateOf(b)));
  return backends.some((b) => backendHealthy(stateOf(b)));
}
