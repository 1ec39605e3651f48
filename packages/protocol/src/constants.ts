/** Response codes (RFC 1035, RFC 6891 for BADVERS, which needs the OPT record's extended bits). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** RFC 8945: a TSIG failure (the TSIG record carries BADSIG, BADKEY or BADTIME). */
  NOTAUTH: 9,
  BADVERS: 16,
} as const;

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR',
  1: 'FORMERR',
  2: 'SERVFAIL',
  3: 'NXDOMAIN',
  4: 'NOTIMP',
  5: 'REFUSED',
  6: 'YXDOMAIN',
  7: 'YXRRSET',
  8: 'NXRRSET',
  9: 'NOTAUTH',
  10: 'NOTZONE',
  16: 'BADVERS',
};

/**
 * Mnemonic for a response code: `rcodeName(3) === 'NXDOMAIN'`; an unknown one as `RCODE23`,
 * or as `unknown` when given (metrics fold every unknown code into one label).
 */
export function rcodeName(rcode: number, unknown?: string): string {
  return RCODE_NAMES[rcode] ?? unknown ?? `RCODE${rcode}`;
}

/** Query/record types this project answers or inspects. Any 16-bit value is legal on the wire. */
export const QTYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const;

// The mnemonic table is wider than QTYPE so that typeName() agrees with dns-packet's
// decoder output for every type it knows; anything else uses RFC 3597 "TYPEnnn".
const TYPE_NAMES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  10: 'NULL',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  17: 'RP',
  18: 'AFSDB',
  24: 'SIG',
  25: 'KEY',
  28: 'AAAA',
  29: 'LOC',
  33: 'SRV',
  35: 'NAPTR',
  36: 'KX',
  37: 'CERT',
  39: 'DNAME',
  41: 'OPT',
  42: 'APL',
  43: 'DS',
  44: 'SSHFP',
  45: 'IPSECKEY',
  46: 'RRSIG',
  47: 'NSEC',
  48: 'DNSKEY',
  49: 'DHCID',
  50: 'NSEC3',
  51: 'NSEC3PARAM',
  52: 'TLSA',
  55: 'HIP',
  59: 'CDS',
  60: 'CDNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  249: 'TKEY',
  250: 'TSIG',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
  256: 'URI',
  257: 'CAA',
  32768: 'TA',
  32769: 'DLV',
};

const TYPE_NUMBERS = new Map<string, number>(
  Object.entries(TYPE_NAMES).map(([n, name]) => [name, Number(n)]),
);

/** Mnemonic for a type number: `typeName(28) === 'AAAA'`, unknown types as `TYPE666` (RFC 3597). */
export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}

/**
 * Type number for a mnemonic (case-insensitive), also accepting `TYPEnnn` and dns-packet's
 * `UNKNOWN_nnn`. Returns `undefined` for anything else, so callers can answer a clear error.
 */
export function typeNumber(name: string): number | undefined {
  const upper = name.toUpperCase();
  const known = TYPE_NUMBERS.get(upper);
  if (known !== undefined) return known;
  const m = /^(?:TYPE|UNKNOWN_)(\d{1,5})$/.exec(upper);
  if (m) {
    const n = Number(m[1]);
    if (n <= 0xffff) return n;
  }
  return undefined;
}
