import type { Rng } from './rng.js';
import { buildQuery, type RawOpt, RD, validQuery, wireName } from './wire.js';

/**
 * The fuzz families of the issue. Each one is a pure function of the PRNG, so a storm is
 * reproducible from its seed. `generatePacket` picks a family by weight.
 */
export const FAMILIES = [
  'random',
  'random-header',
  'bit-flip',
  'truncate',
  'count-inflation',
  'compression-loop',
  'forward-pointer',
  'oversized-label',
  'long-name',
  'bogus-opt',
  'sweep',
  'valid',
] as const;
export type Family = (typeof FAMILIES)[number];

export interface FuzzPacket {
  family: Family;
  bytes: Uint8Array;
}

const COMMON_TYPES = [1, 2, 5, 6, 12, 15, 16, 28, 33, 41, 43, 46, 48, 64, 65, 251, 252, 255, 666];
const CLASSES = [0, 1, 2, 3, 4, 254, 255, 0xffff];

/** Query names: in zone (known, random, apex), case-mixed, and outside every zone. */
function randomName(rng: Rng, zone: string, known: readonly string[]): string {
  const pick = rng.int(6);
  let name: string;
  if (pick === 0) name = zone;
  else if (pick <= 2) name = rng.pick(known);
  else if (pick === 3) name = `x${rng.u32().toString(36)}.${zone}`;
  else if (pick === 4) name = `${rng.u32().toString(36)}.example.org`;
  else name = `a.b.c.${rng.u32().toString(36)}.${zone}`;
  if (rng.chance(0.3)) {
    name = [...name].map((c) => (rng.chance(0.5) ? c.toUpperCase() : c)).join('');
  }
  return name;
}

function baseQuery(rng: Rng, zone: string, known: readonly string[]): Uint8Array {
  return validQuery(rng.u32() & 0xffff, randomName(rng, zone, known), rng.pick(COMMON_TYPES), {
    edns: rng.chance(0.5) ? rng.pick([512, 1232, 4096, 65535]) : undefined,
    dnssecOk: rng.chance(0.3),
  });
}

function withCounts(bytes: Uint8Array, counts: number[]): Uint8Array {
  const out = Uint8Array.from(bytes);
  counts.forEach((c, i) => {
    out[4 + i * 2] = (c >>> 8) & 0xff;
    out[5 + i * 2] = c & 0xff;
  });
  return out;
}

/** Pointer bytes 0xC000 | offset. */
const pointer = (offset: number) => [0xc0 | ((offset >>> 8) & 0x3f), offset & 0xff];

function compressionLoop(rng: Rng): Uint8Array {
  const kind = rng.int(4);
  let name: number[];
  if (kind === 0)
    name = pointer(12); // points at itself
  else if (kind === 1)
    name = [1, 0x61, ...pointer(12)]; // "a" then back to its own start
  else if (kind === 2)
    name = [1, 0x61, ...pointer(16), ...pointer(12)]; // two pointers chasing each other
  else {
    // A long chain of pointers each to the previous one: bounded work or a loop detector?
    name = [];
    for (let i = 0; i < 60; i++) name.push(...pointer(12 + Math.max(0, i - 1) * 2));
  }
  return buildQuery({
    id: 0,
    flags: RD,
    questions: [{ name: Uint8Array.from(name), qtype: 1, qclass: 1 }],
  });
}

function forwardPointer(rng: Rng): Uint8Array {
  // Points past itself (to bytes not yet read) or past the end of the message.
  const target = rng.pick([14, 20, 40, 200, 0x3fff]);
  const tail = rng.bytes(rng.int(30));
  const q = buildQuery({
    id: 0,
    flags: RD,
    questions: [{ name: Uint8Array.from(pointer(target)), qtype: 1, qclass: 1 }],
  });
  const out = new Uint8Array(q.length + tail.length);
  out.set(q);
  out.set(tail, q.length);
  return out;
}

function oversizedLabel(rng: Rng, zone: string): Uint8Array {
  const len = rng.range(64, 255);
  // The length byte claims 64..255 (0x40..0xff also covers the reserved 01/10 label types).
  const label = [len, ...rng.bytes(rng.chance(0.5) ? len & 0x3f : rng.int(300))];
  const name = Uint8Array.from([...label, ...wireName(zone)]);
  return buildQuery({ id: 0, flags: RD, questions: [{ name, qtype: 1, qclass: 1 }] });
}

function longName(rng: Rng, zone: string): Uint8Array {
  // Valid labels whose total exceeds 255 octets (RFC 1035 2.3.4), in and out of zone.
  const labels: string[] = [];
  const count = rng.range(4, 130);
  for (let i = 0; i < count; i++) labels.push('a'.repeat(rng.range(1, 63)));
  const name = `${labels.join('.')}.${rng.chance(0.5) ? zone : 'example.org'}`;
  return validQuery(0, name, 1, { edns: rng.chance(0.5) ? 1232 : undefined });
}

function bogusOpt(rng: Rng, zone: string, known: readonly string[]): Uint8Array {
  const opt = (): RawOpt => {
    const kind = rng.int(7);
    if (kind === 0) return { udpSize: rng.u32() & 0xffff, version: rng.range(1, 255) };
    if (kind === 1) return { udpSize: 1232, owner: wireName('bogus.owner') };
    if (kind === 2) return { udpSize: 1232, rdata: rng.bytes(8), rdlength: rng.range(9, 0xffff) };
    if (kind === 3) {
      // Option code + a length that lies about the data that follows.
      const data = [0, rng.int(20), 0xff, 0xff, ...rng.bytes(4)];
      return { udpSize: 4096, rdata: Uint8Array.from(data) };
    }
    if (kind === 4) return { udpSize: rng.pick([0, 1, 511]), flags: rng.u32() & 0xffff };
    if (kind === 5) return { udpSize: 1232, extendedRcode: rng.int(256), rdata: rng.bytes(40) };
    return { udpSize: 1232, rdata: Uint8Array.from([0, 10, 0, 8, ...rng.bytes(8)]) }; // COOKIE
  };
  const opts = rng.chance(0.3) ? [opt(), opt()] : [opt()];
  const q = buildQuery({
    id: 0,
    flags: RD,
    questions: [{ name: wireName(randomName(rng, zone, known)), qtype: 1, qclass: 1 }],
    opts,
  });
  // Sometimes put the OPT in the answer or authority section instead of the additional one.
  if (rng.chance(0.2)) return withCounts(q, rng.chance(0.5) ? [1, 1, 0, 0] : [1, 0, 1, 0]);
  return q;
}

function sweep(rng: Rng, zone: string, known: readonly string[]): Uint8Array {
  // Every opcode, every flag combination (QR=1 included), any class, any type.
  const opcode = rng.int(16);
  const flags = (rng.u32() & 0x87f0) | (opcode << 11);
  return buildQuery({
    id: 0,
    flags,
    questions: [
      {
        name: wireName(randomName(rng, zone, known)),
        qtype: rng.chance(0.5) ? rng.u32() & 0xffff : rng.pick(COMMON_TYPES),
        qclass: rng.chance(0.7) ? rng.pick(CLASSES) : rng.u32() & 0xffff,
      },
    ],
    opts: rng.chance(0.5) ? [{ udpSize: 1232 }] : [],
  });
}

export function generateFamily(
  family: Family,
  rng: Rng,
  zone: string,
  known: readonly string[],
): Uint8Array {
  switch (family) {
    case 'random':
      return rng.bytes(rng.chance(0.9) ? rng.int(600) : rng.int(4096));
    case 'random-header': {
      const out = rng.bytes(12 + rng.int(300));
      out[2] &= 0x7f; // looks like a query
      return out;
    }
    case 'bit-flip': {
      const out = baseQuery(rng, zone, known);
      const flips = rng.range(1, 8);
      for (let i = 0; i < flips; i++) out[rng.int(out.length)] ^= 1 << rng.int(8);
      return out;
    }
    case 'truncate': {
      const q = baseQuery(rng, zone, known);
      return q.subarray(0, rng.int(q.length));
    }
    case 'count-inflation': {
      const pickCount = () => rng.pick([0, 2, 3, 0x7fff, 0xffff, rng.u32() & 0xffff]);
      return withCounts(baseQuery(rng, zone, known), [
        pickCount(),
        pickCount(),
        pickCount(),
        pickCount(),
      ]);
    }
    case 'compression-loop':
      return compressionLoop(rng);
    case 'forward-pointer':
      return forwardPointer(rng);
    case 'oversized-label':
      return oversizedLabel(rng, zone);
    case 'long-name':
      return longName(rng, zone);
    case 'bogus-opt':
      return bogusOpt(rng, zone, known);
    case 'sweep':
      return sweep(rng, zone, known);
    case 'valid':
      return baseQuery(rng, zone, known);
  }
}

/** One packet of a storm; its ID (when it has one) is overwritten with `id` for pairing. */
export function generatePacket(
  rng: Rng,
  id: number,
  zone: string,
  known: readonly string[],
): FuzzPacket {
  const family = FAMILIES[rng.int(FAMILIES.length)];
  const bytes = generateFamily(family, rng, zone, known);
  if (bytes.length >= 2) {
    bytes[0] = (id >>> 8) & 0xff;
    bytes[1] = id & 0xff;
  }
  return { family, bytes };
}
