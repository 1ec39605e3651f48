/**
 * Is the authority ready as far as its replicas go? At start each replicated upstream's
 * first pull decides whether that upstream is answered from a copy or asked per query; a pod
 * taking traffic before that answers a rolling restart's queries by fan-out (or SERVFAIL
 * for a gateway that is down but whose copy the old pod held). So `/ready` waits until every
 * replica's first pull finished, good or bad, or `waitMs` passed since start: a dead
 * primary never holds the pod out of service longer than that. 0 waits for nothing.
 */
export function replicasSettled(
  replicas: Iterable<{ firstPullDone: boolean }>,
  sinceStartMs: number,
  waitMs: number,
): boolean {
  if (sinceStartMs >= waitMs) return true;
  for (const r of replicas) if (!r.firstPullDone) return false;
  return true;
}
