/**
 * Exponential backoff with jitter: attempt 0 waits about `initialMs`, each further failure
 * doubles it up to `maxMs`. Half of the delay is random so that many gateways restarted by
 * the same API outage do not all come back in the same instant.
 */
export function backoffDelay(
  attempt: number,
  b: { initialMs: number; maxMs: number },
  random = Math.random,
): number {
  const exp = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(exp / 2 + (random() * exp) / 2);
}
