/** Text IP addresses to wire bytes; `false` when the text is not a plain address. */

export function writeIpv4(text: string, out: Uint8Array, pos: number): boolean {
  let part = 0;
  let digits = 0;
  let index = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (digits === 0 || index > 3) return false;
      out[pos + index++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      // No leading zeros: "010" is octal to some parsers and ambiguous to readers.
      if (digits === 1 && part === 0) return false;
      part = part * 10 + (c - 0x30);
      if (part > 255 || ++digits > 3) return false;
    } else {
      return false;
    }
  }
  return index === 4;
}

function hexGroup(s: string): number {
  if (s.length === 0 || s.length > 4 || !/^[0-9a-fA-F]+$/.test(s)) return -1;
  return Number.parseInt(s, 16);
}

export function writeIpv6(text: string, out: Uint8Array, pos: number): boolean {
  let body = text;
  let v4: Uint8Array | null = null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > 0) {
    // An IPv4 tail ("::ffff:192.0.2.1") is two 16-bit groups: parse it as "0:0", then patch.
    v4 = new Uint8Array(4);
    if (!writeIpv4(text.slice(lastColon + 1), v4, 0)) return false;
    body = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = body.split('::');
  if (halves.length > 2) return false;
  const head = parseGroups(halves[0]);
  if (head === null) return false;
  let groups = head;
  if (halves.length === 2) {
    const rest = parseGroups(halves[1]);
    if (rest === null) return false;
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return false;
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest];
  }
  if (groups.length !== 8) return false;
  for (let i = 0; i < 8; i++) {
    out[pos + 2 * i] = groups[i] >> 8;
    out[pos + 2 * i + 1] = groups[i] & 0xff;
  }
  if (v4) out.set(v4, pos + 12);
  return true;
}

function parseGroups(s: string): number[] | null {
  if (s === '') return [];
  const groups: number[] = [];
  for (const g of s.split(':')) {
    const v = hexGroup(g);
    if (v < 0) return null;
    groups.push(v);
  }
  return groups;
}
