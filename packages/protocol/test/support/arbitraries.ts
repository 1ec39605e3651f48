import fc from 'fast-check';

/** Mixed-case LDH labels, so case handling and compression are both exercised. */
export const label = fc.stringMatching(/^[a-zA-Z0-9]([a-zA-Z0-9-]{0,14}[a-zA-Z0-9])?$/);

// Few distinct suffixes make shared suffixes (and so compression pointers) likely.
const suffix = fc.constantFrom('example.tld', 'Example.TLD', 'prod.example.tld', 'other.test', 'a');

export const name = fc
  .tuple(fc.array(label, { minLength: 0, maxLength: 4 }), suffix)
  .map(([ls, s]) => [...ls, s].join('.'));

const ttl = fc.integer({ min: 0, max: 0x7fffffff });

export const record = fc.oneof(
  fc.record({ name, type: fc.constant('A' as const), ttl, data: fc.ipV4() }),
  fc.record({ name, type: fc.constant('AAAA' as const), ttl, data: fc.ipV6() }),
  fc.record({ name, type: fc.constant('CNAME' as const), ttl, data: name }),
  fc.record({ name, type: fc.constant('NS' as const), ttl, data: name }),
  fc.record({
    name,
    type: fc.constant('TXT' as const),
    ttl,
    data: fc.array(fc.string({ maxLength: 40, unit: 'binary-ascii' }), {
      minLength: 1,
      maxLength: 3,
    }),
  }),
  fc.record({
    name,
    type: fc.constant('SOA' as const),
    ttl,
    data: fc.record({
      mname: name,
      rname: name,
      serial: fc.nat({ max: 0xffffffff }),
      refresh: fc.nat({ max: 0xffffffff }),
      retry: fc.nat({ max: 0xffffffff }),
      expire: fc.nat({ max: 0xffffffff }),
      minimum: fc.nat({ max: 0xffffffff }),
    }),
  }),
);

export const opt = fc.record({
  name: fc.constant('.'),
  type: fc.constant('OPT' as const),
  udpPayloadSize: fc.integer({ min: 0, max: 65535 }),
  extendedRcode: fc.integer({ min: 0, max: 255 }),
  ednsVersion: fc.integer({ min: 0, max: 255 }),
  flags: fc.integer({ min: 0, max: 65535 }),
  options: fc.array(
    fc.record({
      code: fc.constantFrom(3, 10, 65001),
      data: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
    }),
    { maxLength: 2 },
  ),
});

export const message = fc.record({
  type: fc.constantFrom('query' as const, 'response' as const),
  id: fc.integer({ min: 0, max: 65535 }),
  flags: fc.integer({ min: 0, max: 0x7fff }),
  questions: fc.array(
    fc.record({
      name,
      type: fc.constantFrom('A' as const, 'AAAA' as const, 'TXT' as const, 'SOA' as const),
      class: fc.constant('IN' as const),
    }),
    { minLength: 1, maxLength: 1 },
  ),
  answers: fc.array(record, { maxLength: 6 }),
  authorities: fc.array(record, { maxLength: 3 }),
  additionals: fc.array(record, { maxLength: 3 }),
});

/** A query as a client sends it: one question, any type/class, optional OPT, maybe junk RRs. */
export const query = fc.record({
  type: fc.constant('query' as const),
  id: fc.integer({ min: 0, max: 65535 }),
  flags: fc.integer({ min: 0, max: 0x7fff }),
  qname: name,
  qtype: fc.integer({ min: 1, max: 65535 }),
  qclass: fc.constantFrom(1, 3, 254, 255),
  opt: fc.option(opt, { nil: undefined }),
  answers: fc.array(record, { maxLength: 2 }),
});
