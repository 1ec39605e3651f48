import { type AddressSet, addressSet, inAddressSet } from '@mdns/transport';

// Who may send NOTIFY for a zone. The upstream's own address is not enough on a real
// cluster: a gateway's NOTIFY leaves its pod through the node's address (SNAT), not
// through the LoadBalancer IP the authority queries. `notify.allowFrom` names those
// source ranges per upstream (the nodes' subnet). A NOTIFY only expires cache entries
// (they are asked again, served stale meanwhile), so an address check is the bound on a
// spoofed flood; TSIG, when it exists, is the stronger way.

/** The addresses a NOTIFY for one upstream may come from: its own ∪ its `allowFrom`. */
export type NotifySourceSet = AddressSet;

/** Builds the set; `allowFrom` entries are validated CIDRs or single addresses (config). */
export function notifySourceSet(address: string, allowFrom: readonly string[]): NotifySourceSet {
  return addressSet([address, ...allowFrom]);
}

/** The decision: is `source` (an IPv4, IPv6 or IPv4-mapped IPv6 address) in `set`? */
export function notifyAllowed(set: NotifySourceSet, source: string): boolean {
  return inAddressSet(set, source);
}

/** One upstream as a NOTIFY sender. */
export interface NotifySender<U extends { zone: string }> {
  upstream: U;
  from: NotifySourceSet;
}

/** The upstreams of `zone` a NOTIFY from `source` speaks for (none: REFUSED). */
export function notifySenders<U extends { zone: string }>(
  senders: readonly NotifySender<U>[],
  zone: string,
  source: string,
): U[] {
  const found: U[] = [];
  for (const s of senders) {
    if (s.upstream.zone === zone && notifyAllowed(s.from, source)) found.push(s.upstream);
  }
  return found;
}
