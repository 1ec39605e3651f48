import dnsPacket from 'dns-packet';
import { typeNumber } from '../constants.js';
import { writeIpv4, writeIpv6 } from './address.js';

/** Thrown by `encode` for a message that cannot be put on the wire; names the record and field. */
export class EncodeError extends Error {
  override name = 'EncodeError';
}

const CLASS_NUMBERS: Record<string, number> = { IN: 1, CS: 2, CH: 3, HS: 4, NONE: 254, ANY: 255 };

export function classNumber(klass: string | number | undefined): number {
  if (klass === undefined) return 1;
  if (typeof klass === 'number') return klass & 0xffff;
  const upper = klass.toUpperCase();
  const known = CLASS_NUMBERS[upper];
  if (known !== undefined) return known;
  const m = /^(?:CLASS|UNKNOWN_)(\d{1,5})$/.exec(upper);
  if (m && Number(m[1]) <= 0xffff) return Number(m[1]);
  throw new EncodeError(`unknown class ${JSON.stringify(klass)}`);
}

function lowerKey(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => c.toLowerCase()) : s;
}

// RFC 3597 section 4: only the RFC 1035 types may have names in RDATA compressed.
// Types whose RDATA we write ourselves (what the servers emit); dns-packet does the rest.
const OWN_TYPES = new Set(['A', 'AAAA', 'CNAME', 'NS', 'PTR', 'MX', 'SOA', 'TXT', 'HINFO']);
const COMPRESSIBLE_RDATA = new Set(['CNAME', 'NS', 'PTR', 'MX', 'SOA']);

/**
 * A growing byte buffer that writes DNS names with compression (RFC 1035 4.1.4). Compression
 * keys are name suffixes; with `caseInsensitive` a name may point at an earlier copy that
 * differs in case (what authoritative servers do, so answers reuse the client's question
 * case), otherwise only at a byte-identical copy so encode/decode round-trips exactly.
 */
export class WireWriter {
  buf: Buffer;
  pos = 0;
  readonly #names = new Map<string, number>();
  readonly #caseInsensitive: boolean;

  constructor(caseInsensitive: boolean, initialSize = 512) {
    this.buf = Buffer.allocUnsafe(initialSize);
    this.#caseInsensitive = caseInsensitive;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Make a name already in the buffer (e.g. a copied question) available as a target. */
  remember(suffix: string, offset: number): void {
    if (offset < 0x4000) this.#names.set(this.#caseInsensitive ? lowerKey(suffix) : suffix, offset);
  }

  /**
   * Writes a presentation name as dns-packet would (leading/trailing dot ignored; with
   * `mail`, a label ending in "\" joins the next, as in SOA RNAME), compressed if allowed.
   */
  name(name: string, compress: boolean, mail = false): void {
    const n = name.replace(/^\.|\.$/g, '');
    if (n === '') {
      this.u8(0);
      return;
    }
    const starts = labelStarts(n, mail);
    let total = 1;
    for (let i = 0; i < starts.length; i++) {
      const key = n.slice(starts[i]);
      if (compress) {
        const target = this.#names.get(this.#caseInsensitive ? lowerKey(key) : key);
        if (target !== undefined) {
          this.u16(0xc000 | target);
          return;
        }
        this.remember(key, this.pos);
      }
      const end = i + 1 < starts.length ? starts[i + 1] - 1 : n.length;
      let label = n.slice(starts[i], end);
      if (mail && i === 0 && starts.length > 0) label = label.replace(/\\\./g, '.');
      const byteLen = Buffer.byteLength(label);
      if (byteLen === 0 || byteLen > 63) {
        throw new EncodeError(
          `name ${JSON.stringify(name)}: label ${i + 1} is ${byteLen} bytes (1..63)`,
        );
      }
      total += byteLen + 1;
      if (total > 255)
        throw new EncodeError(`name ${JSON.stringify(name)} is longer than 255 octets`);
      this.ensure(byteLen + 1);
      this.buf[this.pos] = byteLen;
      this.buf.write(label, this.pos + 1);
      this.pos += byteLen + 1;
    }
    this.u8(0);
  }

  /** Characters strings (TXT, HINFO): a length byte then up to 255 bytes. */
  characterString(s: string | Uint8Array, what: string): void {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    if (b.length > 255)
      throw new EncodeError(`${what}: character string is ${b.length} bytes (max 255)`);
    this.u8(b.length);
    this.bytes(b);
  }

  /** One resource record (owner, type, class, TTL, RDATA). */
  record(rec: any): void {
    const type = String(rec.type).toUpperCase();
    const what = `${type} record for ${JSON.stringify(rec.name)}`;
    if (typeof rec.name !== 'string') throw new EncodeError(`${what}: name is not a string`);
    const typeNum = typeNumber(type);
    if (typeNum === undefined) throw new EncodeError(`${what}: unknown type`);
    if (!OWN_TYPES.has(type)) {
      this.#opaque(rec, typeNum, what);
      return;
    }
    let klass: number;
    try {
      klass = classNumber(rec.class);
    } catch (e) {
      throw new EncodeError(`${what}: ${(e as Error).message}`);
    }
    this.name(rec.name, true);
    if (rec.flush) klass |= 0x8000;
    this.u16(typeNum);
    this.u16(klass);
    this.u32(rec.ttl || 0);
    const rdlenAt = this.pos;
    this.u16(0);
    const rdStart = this.pos;
    this.#rdata(type, rec.data, what);
    const rdlen = this.pos - rdStart;
    this.buf[rdlenAt] = rdlen >> 8;
    this.buf[rdlenAt + 1] = rdlen & 0xff;
  }

  /** RDATA for the types in OWN_TYPES. */
  #rdata(type: string, data: any, what: string): void {
    const compress = COMPRESSIBLE_RDATA.has(type);
    switch (type) {
      case 'A':
        this.ensure(4);
        if (typeof data !== 'string' || !writeIpv4(data, this.buf, this.pos)) {
          throw new EncodeError(`${what}: ${JSON.stringify(data)} is not an IPv4 address`);
        }
        this.pos += 4;
        return;
      case 'AAAA':
        this.ensure(16);
        if (typeof data !== 'string' || !writeIpv6(data, this.buf, this.pos)) {
          throw new EncodeError(`${what}: ${JSON.stringify(data)} is not an IPv6 address`);
        }
        this.pos += 16;
        return;
      case 'CNAME':
      case 'NS':
      case 'PTR':
        if (typeof data !== 'string') throw new EncodeError(`${what}: data is not a name`);
        this.name(data, compress);
        return;
      case 'MX':
        if (!data || typeof data.exchange !== 'string') {
          throw new EncodeError(`${what}: data needs { preference, exchange }`);
        }
        this.u16(data.preference || 0);
        this.name(data.exchange, compress);
        return;
      case 'SOA':
        if (!data || typeof data.mname !== 'string' || typeof data.rname !== 'string') {
          throw new EncodeError(`${what}: data needs mname and rname`);
        }
        this.name(data.mname, compress);
        this.name(data.rname, compress, true);
        this.u32(data.serial || 0);
        this.u32(data.refresh || 0);
        this.u32(data.retry || 0);
        this.u32(data.expire || 0);
        this.u32(data.minimum || 0);
        return;
      case 'TXT': {
        const parts = Array.isArray(data) ? data : [data];
        for (const p of parts) {
          if (typeof p !== 'string' && !(p instanceof Uint8Array)) {
            throw new EncodeError(`${what}: TXT data must be strings or bytes`);
          }
          this.characterString(p, what);
        }
        return;
      }
      case 'HINFO':
        if (!data || typeof data.cpu !== 'string' || typeof data.os !== 'string') {
          throw new EncodeError(`${what}: data needs { cpu, os }`);
        }
        this.characterString(data.cpu, what);
        this.characterString(data.os, what);
        return;
    }
  }

  /** Any other type: dns-packet encodes it (uncompressed); we compress only the owner. */
  #opaque(rec: any, typeNum: number, what: string): void {
    let encoded: Buffer;
    try {
      encoded = (dnsPacket as any).answer.encode(rec);
    } catch (e) {
      throw new EncodeError(`${what}: ${(e as Error).message}`);
    }
    let ownerEnd = 0;
    while (encoded[ownerEnd] !== 0) ownerEnd += encoded[ownerEnd] + 1;
    this.name(rec.name, true);
    const typeAt = this.pos;
    this.bytes(encoded.subarray(ownerEnd + 1));
    // dns-packet writes 0 for types it has no mnemonic for (TYPE666): put the number back.
    this.buf[typeAt] = typeNum >> 8;
    this.buf[typeAt + 1] = typeNum & 0xff;
  }
}

function labelStarts(n: string, mail: boolean): number[] {
  const starts = [0];
  for (let i = n.indexOf('.'); i >= 0; i = n.indexOf('.', i + 1)) {
    // In a mail name the first "\." is part of the local-part label (dns-packet's rule).
    if (mail && starts.length === 1 && n.charCodeAt(i - 1) === 0x5c) continue;
    starts.push(i + 1);
  }
  return starts;
}
