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

/** True when `name` equals `zone` or lies below it, on a label boundary. Both normalized. */
export function isAtOrBelow(name: string, zone: string): boolean {
  if (zone === '') return true;
  if (name.length === zone.length) return name === zone;
  return (
    name.length > zone.length &&
    name.charCodeAt(name.length - zone.length - 1) === 0x2e &&
    name.endsWith(zone)
  );
}

/** The name with its leftmost label removed; the parent of a single label and of the root is `''`. */
export function parentName(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? '' : name.slice(dot + 1);
}

/** Number of labels: `labelCount('') === 0`, `labelCount('a.b') === 2`. */
export function labelCount(name: string): number {
  if (name === '') return 0;
  let count = 1;
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) count++;
  return count;
}

/** Labels left to right: `labels('a.b.c')` is `['a', 'b', 'c']`, the root has none. */
export function labels(name: string): string[] {
  return name === '' ? [] : name.split('.');
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
