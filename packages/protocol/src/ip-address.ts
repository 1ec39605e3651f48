import { writeIpv4, writeIpv6 } from './private/address.js';

// Zone identifiers as Node's `net.isIP` accepts them (`fe80::1%eth0`), kept as written:
// interface names are case-sensitive and not ours to rewrite.
const ZONE = /^[0-9a-zA-Z.:-]+$/;

/**
 * The one text form of an IP address, or null when `text` is not an IP address literal.
 * IPv4 is dotted decimal without leading zeros (anything else is refused, as `net.isIP`
 * refuses it). IPv6 is RFC 5952 form: lower case, no leading zeros in a group, the longest
 * run of two or more zero groups written `::` (the first of equal runs), and IPv4-mapped
 * addresses (`::ffff:0:0/96`) in mixed notation, `::ffff:192.0.2.1`, the form sockets report
 * for IPv4 peers of a dual-stack socket. A zone suffix (`%eth0`) is kept as written.
 *
 * Pure string and byte work, the same on every runtime: WHATWG `URL` (the obvious shortcut)
 * refuses valid addresses such as `::0:0:0:0:0.0.0.0` and every zone on Bun.
 */
export function canonicalAddress(text: string): string | null {
  if (!text.includes(':')) return writeIpv4(text, SCRATCH, 0) ? text : null;
  const percent = text.indexOf('%');
  const address = percent < 0 ? text : text.slice(0, percent);
  const zone = percent < 0 ? '' : text.slice(percent);
  if (zone !== '' && !ZONE.test(zone.slice(1))) return null;
  if (!writeIpv6(address, SCRATCH, 0)) return null;
  return formatIpv6(SCRATCH, 0) + zone;
}

// One buffer for the parse: canonicalAddress is synchronous, so no caller can see it shared.
const SCRATCH = new Uint8Array(16);

/** RFC 5952 text of the 16 address bytes at `bytes[pos…pos+15]`. */
export function formatIpv6(bytes: Uint8Array, pos = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[pos + 2 * i] << 8) | bytes[pos + 2 * i + 1]);
  if (isIpv4Mapped(groups)) {
    return `::ffff:${bytes[pos + 12]}.${bytes[pos + 13]}.${bytes[pos + 14]}.${bytes[pos + 15]}`;
  }
  const [start, length] = longestZeroRun(groups);
  // RFC 5952 4.2.2: a single zero group is written "0", never "::".
  if (length < 2) return groups.map(hex).join(':');
  const head = groups.slice(0, start).map(hex).join(':');
  const tail = groups
    .slice(start + length)
    .map(hex)
    .join(':');
  return `${head}::${tail}`;
}

function hex(group: number): string {
  return group.toString(16);
}

function isIpv4Mapped(groups: number[]): boolean {
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return false;
  return groups[5] === 0xffff;
}

/** Start and length of the first longest run of zero groups (length 0 when there is none). */
function longestZeroRun(groups: number[]): [number, number] {
  let bestStart = 0;
  let bestLength = 0;
  let runStart = -1;
  for (let i = 0; i <= groups.length; i++) {
    if (i < groups.length && groups[i] === 0) {
      if (runStart < 0) runStart = i;
      continue;
    }
    // Strictly longer only: of equal runs the first one wins (RFC 5952 4.2.3).
    if (runStart >= 0 && i - runStart > bestLength) {
      bestStart = runStart;
      bestLength = i - runStart;
    }
    runStart = -1;
  }
  return [bestStart, bestLength];
}
