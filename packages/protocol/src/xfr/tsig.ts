import { createHmac, timingSafeEqual } from 'node:crypto';
import { labels, normalizeName } from '../names.js';
import { readName } from '../private/wire-name.js';
import { skipRecord } from '../scan.js';

/**
 * TSIG (RFC 8945): HMAC over a message and the TSIG variables, appended as the last record
 * of the additional section. Written by hand: dns-packet has no TSIG record type.
 */

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1';

export const TSIG_ALGORITHMS: readonly TsigAlgorithm[] = [
  'hmac-sha256',
  'hmac-sha512',
  'hmac-sha1',
];

const DIGEST: Record<TsigAlgorithm, string> = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
  'hmac-sha1': 'sha1',
};

/** A shared secret; `name` normalized (lowercase, no trailing dot). */
export interface TsigKey {
  name: string;
  algorithm: TsigAlgorithm;
  secret: Uint8Array;
}

/** TSIG error codes (RFC 8945 3, carried in the TSIG record; the header rcode is NOTAUTH). */
export const TSIG_ERROR = { NOERROR: 0, BADSIG: 16, BADKEY: 17, BADTIME: 18 } as const;
export type TsigFailure = 'BADSIG' | 'BADKEY' | 'BADTIME';

/** RFC 8945 10: 300 s. */
export const DEFAULT_FUDGE = 300;
const TYPE_TSIG = 250;
const CLASS_ANY = 255;

/** A parsed TSIG record. */
export interface TsigRecord {
  keyName: string;
  algorithm: string;
  timeSigned: number;
  fudge: number;
  mac: Uint8Array;
  originalId: number;
  error: number;
  otherData: Uint8Array;
}

/** The message split at its TSIG: `unsigned` is what the MAC covers (original ID, ARCOUNT - 1). */
export type TsigSplit =
  | { ok: true; tsig: TsigRecord; unsigned: Uint8Array }
  | { ok: true; tsig: null; unsigned: Uint8Array }
  | { ok: false; error: string };

function nameWire(name: string): Uint8Array {
  const parts = labels(normalizeName(name));
  const out: number[] = [];
  for (const label of parts) {
    const bytes = Buffer.from(label, 'latin1');
    out.push(bytes.length, ...bytes);
  }
  out.push(0);
  return Uint8Array.from(out);
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >> 8) & 0xff, n & 0xff);
}

function u48(n: number): Uint8Array {
  const high = Math.floor(n / 2 ** 32);
  const low = n >>> 0;
  return Uint8Array.of(
    (high >> 8) & 0xff,
    high & 0xff,
    low >>> 24,
    (low >> 16) & 0xff,
    (low >> 8) & 0xff,
    low & 0xff,
  );
}

function withMacSize(mac: Uint8Array): Uint8Array[] {
  return [u16(mac.length), mac];
}

function hmac(key: TsigKey, parts: readonly Uint8Array[]): Uint8Array {
  const h = createHmac(DIGEST[key.algorithm], key.secret);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Time Signed + Fudge (RFC 8945 4.3.3: the "TSIG timers" of subsequent messages). */
function timers(timeSigned: number, fudge: number): Uint8Array[] {
  return [u48(timeSigned), u16(fudge)];
}

function variables(
  keyName: string,
  algorithm: string,
  timeSigned: number,
  fudge: number,
  error: number,
  otherData: Uint8Array,
): Uint8Array[] {
  return [
    nameWire(keyName),
    u16(CLASS_ANY),
    Uint8Array.of(0, 0, 0, 0),
    nameWire(algorithm),
    ...timers(timeSigned, fudge),
    u16(error),
    u16(otherData.length),
    otherData,
  ];
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Appends a TSIG record and increments ARCOUNT. */
function appendTsig(
  message: Uint8Array,
  keyName: string,
  t: Omit<TsigRecord, 'keyName'>,
): Uint8Array {
  const rdata = concat([
    nameWire(t.algorithm),
    ...timers(t.timeSigned, t.fudge),
    ...withMacSize(t.mac),
    u16(t.originalId),
    u16(t.error),
    u16(t.otherData.length),
    t.otherData,
  ]);
  const out = concat([
    message,
    nameWire(keyName),
    u16(TYPE_TSIG),
    u16(CLASS_ANY),
    Uint8Array.of(0, 0, 0, 0),
    u16(rdata.length),
    rdata,
  ]);
  const arcount = ((out[10] << 8) | out[11]) + 1;
  out[10] = arcount >> 8;
  out[11] = arcount & 0xff;
  return out;
}

export interface TsigSignOptions {
  key: TsigKey;
  /** Seconds since the epoch. */
  timeSigned: number;
  fudge?: number;
  /** A response: the request's MAC (RFC 8945 4.3.1). */
  requestMac?: Uint8Array;
  /**
   * A later message of a multi-message response (AXFR/IXFR): the previous message's MAC;
   * the digest covers it, this message and the timers only (RFC 8945 5.3.1).
   */
  previousMac?: Uint8Array;
  /** TSIG error code of an error response (BADTIME); default 0. */
  error?: number;
  otherData?: Uint8Array;
}

/** Signs `message` (which holds no TSIG yet): the message with its TSIG, and the MAC. */
export function tsigSign(
  message: Uint8Array,
  options: TsigSignOptions,
): { bytes: Uint8Array; mac: Uint8Array } {
  const { key, timeSigned } = options;
  const fudge = options.fudge ?? DEFAULT_FUDGE;
  const error = options.error ?? 0;
  const otherData = options.otherData ?? new Uint8Array(0);
  const algorithm = key.algorithm;
  const parts: Uint8Array[] = [];
  if (options.previousMac) {
    parts.push(...withMacSize(options.previousMac), message, ...timers(timeSigned, fudge));
  } else {
    if (options.requestMac) parts.push(...withMacSize(options.requestMac));
    parts.push(message, ...variables(key.name, algorithm, timeSigned, fudge, error, otherData));
  }
  const mac = hmac(key, parts);
  const originalId = (message[0] << 8) | message[1];
  const bytes = appendTsig(message, key.name, {
    algorithm,
    timeSigned,
    fudge,
    mac,
    originalId,
    error,
    otherData,
  });
  return { bytes, mac };
}

/**
 * An unsigned error TSIG (RFC 8945 5.2.1, 5.2.2: BADKEY and BADSIG responses carry an empty
 * MAC): appended to `message`, which should have rcode NOTAUTH.
 */
export function tsigUnsignedError(
  message: Uint8Array,
  request: TsigRecord,
  error: number,
): Uint8Array {
  return appendTsig(message, request.keyName, {
    algorithm: request.algorithm,
    timeSigned: request.timeSigned,
    fudge: request.fudge,
    mac: new Uint8Array(0),
    originalId: (message[0] << 8) | message[1],
    error,
    otherData: new Uint8Array(0),
  });
}

/** Finds the TSIG record: it must be the last record of the additional section. */
export function tsigSplit(message: Uint8Array): TsigSplit {
  if (message.length < 12) return { ok: false, error: 'message shorter than a header' };
  const qd = (message[4] << 8) | message[5];
  const records =
    ((message[6] << 8) | message[7]) +
    ((message[8] << 8) | message[9]) +
    ((message[10] << 8) | message[11]);
  let pos = 12;
  for (let i = 0; i < qd; i++) {
    pos = readName(message, pos, false);
    if (pos < 0 || pos + 4 > message.length)
      return { ok: false, error: `question ${i + 1} cut off` };
    pos += 4;
  }
  let last = -1;
  for (let i = 0; i < records; i++) {
    last = pos;
    pos = skipRecord(message, pos);
    if (pos < 0) return { ok: false, error: `record ${i + 1} does not parse` };
  }
  if (pos !== message.length) return { ok: false, error: 'bytes after the last record' };
  const arcount = (message[10] << 8) | message[11];
  if (last < 0 || arcount === 0) return { ok: true, tsig: null, unsigned: message };
  const nameEnd = readName(message, last, false);
  const type = (message[nameEnd] << 8) | message[nameEnd + 1];
  if (type !== TYPE_TSIG) return { ok: true, tsig: null, unsigned: message };
  const klass = (message[nameEnd + 2] << 8) | message[nameEnd + 3];
  const ttl = message.subarray(nameEnd + 4, nameEnd + 8);
  if (klass !== CLASS_ANY || ttl.some((b) => b !== 0)) {
    return { ok: false, error: 'TSIG record with a class other than ANY or a TTL other than 0' };
  }
  const keyName = normalizeName(decodeName(message, last));
  const rdStart = nameEnd + 10;
  const algEnd = readName(message, rdStart, false);
  if (algEnd < 0 || algEnd + 10 > pos) return { ok: false, error: 'TSIG RDATA cut off' };
  const algorithm = normalizeName(decodeName(message, rdStart));
  let p = algEnd;
  const timeSigned =
    ((message[p] << 8) | message[p + 1]) * 2 ** 32 +
    ((message[p + 2] << 24) >>> 0) +
    ((message[p + 3] << 16) | (message[p + 4] << 8) | message[p + 5]);
  const fudge = (message[p + 6] << 8) | message[p + 7];
  const macSize = (message[p + 8] << 8) | message[p + 9];
  p += 10;
  if (p + macSize + 6 > pos) return { ok: false, error: 'TSIG MAC cut off' };
  // Copies, never views: `message` is often a Node Buffer, whose `slice` is a view (unlike
  // Uint8Array's), and `unsigned` is written below; the caller's bytes must stay as they
  // came (a NOTIFY is checked once per upstream that may have sent it).
  const mac = copyOf(message, p, p + macSize);
  p += macSize;
  const originalId = (message[p] << 8) | message[p + 1];
  const error = (message[p + 2] << 8) | message[p + 3];
  const otherLen = (message[p + 4] << 8) | message[p + 5];
  p += 6;
  if (p + otherLen !== pos) return { ok: false, error: 'TSIG other data length does not match' };
  const otherData = copyOf(message, p, pos);
  const unsigned = copyOf(message, 0, last);
  unsigned[0] = originalId >> 8;
  unsigned[1] = originalId & 0xff;
  unsigned[10] = (arcount - 1) >> 8;
  unsigned[11] = (arcount - 1) & 0xff;
  return {
    ok: true,
    tsig: { keyName, algorithm, timeSigned, fudge, mac, originalId, error, otherData },
    unsigned,
  };
}

/** A copy of `message[start, end)`, also when `message` is a Buffer (whose slice is a view). */
function copyOf(message: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(message, start, end);
}

function decodeName(message: Uint8Array, at: number): string {
  // readName with collect fills a shared scratch buffer; re-read it through a fresh walk.
  const out: string[] = [];
  let pos = at;
  for (let guard = 0; guard < 128; guard++) {
    const b = message[pos];
    if (b === 0 || b === undefined) break;
    if ((b & 0xc0) === 0xc0) {
      pos = ((b & 0x3f) << 8) | message[pos + 1];
      continue;
    }
    out.push(Buffer.from(message.subarray(pos + 1, pos + 1 + b)).toString('latin1'));
    pos += 1 + b;
  }
  return out.join('.');
}

export type TsigVerifyResult =
  | { ok: true; key: TsigKey; mac: Uint8Array; tsig: TsigRecord }
  | { ok: false; failure: TsigFailure; tsig: TsigRecord; key?: TsigKey }
  | { ok: false; failure: 'MISSING' | 'FORMERR'; error: string };

export interface TsigVerifyOptions {
  /** The key of that name, or undefined (BADKEY). */
  key: (name: string) => TsigKey | undefined;
  /** Seconds since the epoch. */
  now: number;
  /** Verifying a response: the MAC of our request. */
  requestMac?: Uint8Array;
  /** A later message of a multi-message response: the previous signed message's MAC. */
  previousMac?: Uint8Array;
  /**
   * Unsigned messages received since the previous signed one (RFC 8945 5.3.1 allows up to
   * 99 in a row): the digest covers them in order, before this message.
   */
  unsignedBefore?: readonly Uint8Array[];
}

/**
 * Verifies the TSIG of one message (RFC 8945 5.2 order: key, then MAC, then time).
 * Untrusted bytes: every failure is a value.
 */
export function tsigVerify(message: Uint8Array, options: TsigVerifyOptions): TsigVerifyResult {
  const split = tsigSplit(message);
  if (!split.ok) return { ok: false, failure: 'FORMERR', error: split.error };
  if (split.tsig === null) return { ok: false, failure: 'MISSING', error: 'no TSIG record' };
  return tsigVerifySplit(split.tsig, split.unsigned, options);
}

/** `tsigVerify` for a message already split by `tsigSplit`. */
export function tsigVerifySplit(
  tsig: TsigRecord,
  unsigned: Uint8Array,
  options: TsigVerifyOptions,
): TsigVerifyResult {
  const key = options.key(tsig.keyName);
  if (key === undefined || normalizeName(key.algorithm) !== tsig.algorithm) {
    return { ok: false, failure: 'BADKEY', tsig };
  }
  const parts: Uint8Array[] = [];
  if (options.previousMac) {
    parts.push(...withMacSize(options.previousMac));
    for (const m of options.unsignedBefore ?? []) parts.push(m);
    parts.push(unsigned, ...timers(tsig.timeSigned, tsig.fudge));
  } else {
    if (options.requestMac) parts.push(...withMacSize(options.requestMac));
    parts.push(
      unsigned,
      ...variables(
        tsig.keyName,
        tsig.algorithm,
        tsig.timeSigned,
        tsig.fudge,
        tsig.error,
        tsig.otherData,
      ),
    );
  }
  const expected = hmac(key, parts);
  if (tsig.mac.length !== expected.length || !timingSafeEqual(tsig.mac, expected)) {
    return { ok: false, failure: 'BADSIG', tsig, key };
  }
  if (Math.abs(options.now - tsig.timeSigned) > tsig.fudge) {
    return { ok: false, failure: 'BADTIME', tsig, key };
  }
  return { ok: true, key, mac: tsig.mac, tsig };
}
