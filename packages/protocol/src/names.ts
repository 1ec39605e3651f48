/**
 * Domain names in this project are kept *normalized*: lowercase ASCII, no trailing dot,
 * the root is `''`. Every function here except the normalizer and validators expects that
 * form; normalizing once at the boundary keeps the hot path free of case folding.
 */

const UPPER = /[A-Z]/;
const UPPER_ALL = /[A-Z]/g;

function lowerAscii(c: string): string {
  return String.fromCharCode(c.charCodeAt(0) | 0x20);
}

/** Lowercase (ASCII only, as DNS case-insensitivity is ASCII only) and drop one trailing dot. */
export function normalizeName(name: string): string {
  let n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (UPPER.test(n)) n = n.replace(UPPER_ALL, lowerAscii);
  return n;
}

// Presentation length 253 + implied root = 255 octets on the wire (RFC 1035 2.3.4).
const MAX_NAME_CHARS = 253;
const MAX_LABEL = 63;

function stripDot(name: string): string {
  return name.endsWith('.') && name !== '.' ? name.slice(0, -1) : name;
}

/**
 * Checks a presentation-form DNS name (any printable ASCII in labels, e.g. `_srv._tcp`).
 * Returns an error text naming the problem, or `null` when the name is valid.
 */
export function validateDnsName(name: string): string | null {
  if (name === '' || name === '.') return null;
  const n = stripDot(name);
  if (n.length > MAX_NAME_CHARS)
    return `name is ${n.length} characters, more than ${MAX_NAME_CHARS}`;
  let start = 0;
  for (let i = 0; i <= n.length; i++) {
    const c = i < n.length ? n.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - start;
      if (len === 0) return `empty label at character ${start}`;
      if (len > MAX_LABEL) return `label "${n.slice(start, i)}" is ${len} characters, more than 63`;
      start = i + 1;
    } else if (c <= 0x20 || c >= 0x7f) {
      return `character ${JSON.stringify(n[i])} at ${i} is not printable ASCII`;
    }
  }
  return null;
}

function isLetterDigit(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/**
 * RFC 1123 host name check: labels of letters, digits and inner hyphens, 1..63 characters,
 * at most 253 characters in all. With `wildcard`, a leftmost label that is exactly `*` is
 * allowed (`*.apps.example.tld`); `*` anywhere else never is.
 */
export function validateHostname(
  name: string,
  options: { wildcard?: boolean } = {},
): string | null {
  if (name === '' || name === '.') return 'empty host name';
  const n = stripDot(name);
  if (n.length > MAX_NAME_CHARS)
    return `name is ${n.length} characters, more than ${MAX_NAME_CHARS}`;
  let start = 0;
  if (n.charCodeAt(0) === 0x2a) {
    if (!options.wildcard) return 'wildcard "*" is not allowed here';
    if (n.length === 1) return 'a wildcard needs a parent name ("*.example.tld")';
    if (n.charCodeAt(1) !== 0x2e) return '"*" must be a whole leftmost label';
    start = 2;
  }
  for (let i = start; i <= n.length; i++) {
    const c = i < n.length ? n.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - start;
      if (len === 0) return `empty label at character ${start}`;
      if (len > MAX_LABEL) return `label "${n.slice(start, i)}" is ${len} characters, more than 63`;
      if (n.charCodeAt(start) === 0x2d || n.charCodeAt(i - 1) === 0x2d) {
        return `label "${n.slice(start, i)}" starts or ends with a hyphen`;
      }
      start = i + 1;
    } else if (!isLetterDigit(c) && c !== 0x2d) {
      return `character ${JSON.stringify(n[i])} at ${i} is not a letter, digit or hyphen`;
    }
  }
  return null;
}

/**
 * True when the `.` at `at` is escaped (`\.`, a dot byte inside a label as `scan` writes it):
 * an odd number of backslashes right before it. `\\.` is an escaped backslash, then a label
 * boundary.
 */
function escapedAt(name: string, at: number): boolean {
  let slashes = 0;
  for (let i = at - 1; i >= 0 && name.charCodeAt(i) === 0x5c; i--) slashes++;
  return (slashes & 1) === 1;
}

/**
 * Index of the first label boundary at or after `from`, or -1. A dot byte inside a label
 * (`a\.b`, one label) is never a boundary: splitting there would put the name under a zone it
 * is not under.
 */
export function labelBoundary(name: string, from = 0): number {
  let dot = name.indexOf('.', from);
  while (dot > 0 && name.charCodeAt(dot - 1) === 0x5c && escapedAt(name, dot)) {
    dot = name.indexOf('.', dot + 1);
  }
  return dot;
}

/** True when `name` equals `zone` or lies below it, on a label boundary. Both normalized. */
export function isAtOrBelow(name: string, zone: string): boolean {
  if (zone === '') return true;
  if (name.length === zone.length) return name === zone;
  const dot = name.length - zone.length - 1;
  return (
    name.length > zone.length &&
    name.charCodeAt(dot) === 0x2e &&
    name.endsWith(zone) &&
    !escapedAt(name, dot)
  );
}

/** The name with its leftmost label removed; the parent of a single label and of the root is `''`. */
export function parentName(name: string): string {
  const dot = labelBoundary(name);
  return dot < 0 ? '' : name.slice(dot + 1);
}

/** Number of labels: `labelCount('') === 0`, `labelCount('a.b') === 2`. */
export function labelCount(name: string): number {
  if (name === '') return 0;
  let count = 1;
  for (let i = labelBoundary(name); i >= 0; i = labelBoundary(name, i + 1)) count++;
  return count;
}

/** Labels left to right: `labels('a.b.c')` is `['a', 'b', 'c']`, the root has none. */
export function labels(name: string): string[] {
  if (name === '') return [];
  const out: string[] = [];
  let start = 0;
  for (let dot = labelBoundary(name); dot >= 0; dot = labelBoundary(name, start)) {
    out.push(name.slice(start, dot));
    start = dot + 1;
  }
  out.push(name.slice(start));
  return out;
}

/** Letters, digits, `-`, `_` and `*`: every byte a name in our zones can hold. */
function isHostByte(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2d ||
    c === 0x5f ||
    c === 0x2a ||
    (c >= 0x41 && c <= 0x5a)
  );
}

/**
 * The edge check for a query name (as `scan` gives it: presentation form, odd bytes escaped):
 * `null` when the name could be a host name one of our zones holds, else why not — a byte
 * other than a letter, digit, `-`, `_` or `*` (escaped as `\DDD`, or a dot or backslash
 * inside a label as `\.`/`\\`), an empty label, a label over 63 bytes. Deliberately looser
 * than `validateHostname` (underscores for `_service` names, `*` for a literal wildcard query,
 * hyphens anywhere) and stricter than `validateDnsName` (no other printable ASCII). Both
 * servers answer such a name locally (NXDOMAIN in a served zone) and never look it up,
 * cache it or fan it out.
 */
export function validateQueryName(name: string): string | null {
  let start = 0;
  const n = name.length;
  for (let i = 0; i <= n; i++) {
    const c = i < n ? name.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      if (i - start > MAX_LABEL)
        return `label ${labelNumber(name, start)} is ${i - start} bytes, more than 63`;
      if (i === start && n > 0) return `label ${labelNumber(name, start)} is empty`;
      start = i + 1;
    } else if (!isHostByte(c)) {
      const what = c === 0x5c ? `the escaped byte ${escapeAt(name, i)}` : JSON.stringify(name[i]);
      return `label ${labelNumber(name, start)} holds ${what}, not a letter, digit, "-", "_" or "*"`;
    }
  }
  return null;
}

/** 1-based number of the label starting at `start` (for error texts only). */
function labelNumber(name: string, start: number): number {
  let count = 1;
  for (let d = labelBoundary(name); d >= 0 && d < start; d = labelBoundary(name, d + 1)) count++;
  return count;
}

/** The escape starting at `at`: `\DDD`, `\.` or `\\` (for error texts only). */
function escapeAt(name: string, at: number): string {
  const next = name.charCodeAt(at + 1);
  return name.slice(at, at + (next >= 0x30 && next <= 0x39 ? 4 : 2));
}

/**
 * The name and each ancestor, most specific first, down to and including `stopAt`
 * (default the root `''`); a name not below `stopAt` walks on to the root.
 */
export function* ancestors(name: string, stopAt = ''): Generator<string> {
  let n = name;
  for (;;) {
    yield n;
    if (n === stopAt || n === '') return;
    n = parentName(n);
  }
}
