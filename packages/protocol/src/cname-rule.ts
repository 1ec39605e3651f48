import { normalizeName } from './names.js';

/**
 * What stays at one name when its data comes from several places that disagree (claims of
 * one cluster at the gateway, replies of several clusters at the authority). A CNAME cannot
 * share its owner name with other data (RFC 1034 3.6.2, RFC 2181 10.1), and resolvers treat
 * an answer that mixes them unpredictably, so one choice is made, the same at both levels:
 *
 * - addresses (A or AAAA) win over a host name: the client gets the IPs and needs no second
 *   lookup, so every CNAME is dropped;
 * - otherwise the smallest host name wins (compared normalized, so the choice does not
 *   depend on event or arrival order, nor on case) and the name's other data (TXT, ...) is
 *   dropped in its favour.
 *
 * Returns the CNAME target to keep as given, or null when no CNAME stays (none offered, or
 * addresses present).
 */
export function chooseCname(hasAddress: boolean, targets: readonly string[]): string | null {
  if (hasAddress) return null;
  let best: string | null = null;
  let bestKey = '';
  for (const target of targets) {
    const key = normalizeName(target);
    if (best === null || key < bestKey) {
      best = target;
      bestKey = key;
    }
  }
  return best;
}
