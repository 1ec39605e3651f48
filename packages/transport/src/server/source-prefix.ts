import { isIPv4, isIPv6 } from 'node:net';

/**
 * The network a client address belongs to, as a map key: `1.2.3.0/24`, `2001:db8:0:0:0:0:0:0/56`.
 * Limits that count "one source" (TCP connections per source, response rate limiting) count
 * a prefix rather than one address, because an IPv6 client holds at least a /64 and would
 * otherwise get a fresh budget for every address it picks. An IPv4-mapped IPv6 address
 * (`::ffff:192.0.2.1`, what a dual-stack `::` listener reports) is treated as IPv4.
 * Returns the address itself when it is not an IP literal (nothing to mask).
 */
export function sourcePrefix(address: string, ipv4Bits: number, ipv6Bits: number): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  const v4 = mapped ? mapped[1] : address;
  if (isIPv4(v4)) return `${maskIPv4(v4, ipv4Bits)}/${ipv4Bits}`;
  const bare = address.replace(/%.*$/, '');
  if (isIPv6(bare)) return `${maskIPv6(ipv6Groups(bare), ipv6Bits).join(':')}/${ipv6Bits}`;
  return address;
}

function maskIPv4(address: string, bits: number): string {
  const octets = address.split('.').map(Number);
  return octets.map((octet, i) => octet & byteMask(bits - i * 8)).join('.');
}

/** The eight 16-bit groups of an IPv6 literal (`::` expanded, a dotted IPv4 tail converted). */
export function ipv6Groups(address: string): number[] {
  let text = address;
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1].split('.').map(Number);
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, rest] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : new Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((group) => Number.parseInt(group, 16));
}

function maskIPv6(groups: number[], bits: number): string[] {
  return groups.map((group, i) => {
    const keep = bits - i * 16;
    const mask = keep >= 16 ? 0xffff : keep <= 0 ? 0 : (0xffff << (16 - keep)) & 0xffff;
    return (group & mask).toString(16);
  });
}

function byteMask(keep: number): number {
  if (keep >= 8) return 0xff;
  if (keep <= 0) return 0;
  return (0xff << (8 - keep)) & 0xff;
}
