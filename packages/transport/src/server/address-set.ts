import { BlockList, isIPv6 } from 'node:net';

/**
 * A set of source addresses and CIDR ranges, for "who may ask this" rules (NOTIFY senders,
 * zone transfer clients). One list per family: Node's BlockList alone would let an IPv6
 * range such as `::/0` match every IPv4 source (it checks IPv4 as IPv4-mapped IPv6).
 */
export type AddressSet = Record<'ipv4' | 'ipv6', BlockList>;

/** Builds the set from validated CIDRs or single addresses (`10.0.0.0/8`, `::1`). */
export function addressSet(entries: readonly string[]): AddressSet {
  const set = { ipv4: new BlockList(), ipv6: new BlockList() };
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const ip = slash < 0 ? entry : entry.slice(0, slash);
    const f = family(ip);
    if (slash < 0) set[f].addAddress(ip, f);
    else set[f].addSubnet(ip, Number(entry.slice(slash + 1)), f);
  }
  return set;
}

/** Is `source` (an IPv4, IPv6 or IPv4-mapped IPv6 address, as sockets report it) in `set`? */
export function inAddressSet(set: AddressSet, source: string): boolean {
  const address =
    source.startsWith('::ffff:') && !source.includes(':', 7) ? source.slice(7) : source;
  const f = family(address);
  return set[f].check(address, f);
}

function family(address: string): 'ipv4' | 'ipv6' {
  return isIPv6(address) ? 'ipv6' : 'ipv4';
}
