import { BlockList, isIPv6 } from 'node:net';

// Who may send NOTIFY for a zone. The upstream's own address is not enough on a real
// cluster: a gateway's NOTIFY leaves its pod through the node's address (SNAT), not
// through the LoadBalancer IP the authority queries. `notify.allowFrom` names those
// source ranges per upstream (the nodes' subnet). A NOTIFY only expires cache entries
// (they are asked again, served stale meanwhile), so an address check is the bound on a
// spoofed flood; TSIG, when it exists, is the stronger way.

/**
 * The addresses a NOTIFY for one upstream may come from: its own ∪ its `allowFrom`. One
 * list per family: Node's BlockList alone would let an IPv6 range such as `::/0` match
 * every IPv4 source (it checks IPv4 as IPv4-mapped IPv6).
 */
export type NotifySourceSet = Record<'ipv4' | 'ipv6', BlockList>;

/** Builds the set; `allowFrom` entries are validated CIDRs or single addresses (config). */
export function notifySourceSet(address: string, allowFrom: readonly string[]): NotifySourceSet {
  const set = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const entry of [address, ...allowFrom]) {
    const slash = entry.indexOf('/');
    const ip = slash < 0 ? entry : entry.slice(0, slash);
    const f = family(ip);
    if (slash < 0) set[f].addAddress(ip, f);
    else set[f].addSubnet(ip, Number(entry.slice(slash + 1)), f);
  }
  return set;
}

/** The decision: is `source` (an IPv4, IPv6 or IPv4-mapped IPv6 address) in `set`? */
export function notifyAllowed(set: NotifySourceSet, source: string): boolean {
  const address =
    source.startsWith('::ffff:') && !source.includes(':', 7) ? source.slice(7) : source;
  const f = family(address);
  return set[f].check(address, f);
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIPv6(address) ? 'ipv6' : 'ipv4';
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
