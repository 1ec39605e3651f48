import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DnsRecord, ZoneApex } from '../src/index.js';
import {
  anyResponseRecord,
  buildResponse,
  errorResponse,
  maxResponseSize,
  negativeSoa,
  patchStored,
  prepareStored,
  QTYPE,
  RCODE,
  scan,
} from '../src/index.js';

// A tiny real UDP server answering from buildResponse/patchStored, queried by the real dig:
// proves the compressed, truncated and patched bytes are what a real client accepts.
const run = promisify(execFile);

const apex: ZoneApex = {
  zone: 'example.tld',
  soa: {
    mname: 'ns1.example.tld',
    rname: 'hostmaster.example.tld',
    serial: 9,
    refresh: 1,
    retry: 1,
    expire: 1,
    minimum: 30,
  },
  soaTtl: 300,
  ns: ['ns1.example.tld'],
  nsTtl: 300,
  glue: new Map(),
};
const a = (name: string, ip: string): DnsRecord => ({
  name,
  type: 'A',
  class: 'IN',
  ttl: 60,
  data: ip,
});
const big = Array.from({ length: 60 }, (_, i) => a('big.example.tld', `198.51.100.${i}`));
let cached: ReturnType<typeof prepareStored> | undefined;

function answer(bytes: Uint8Array): Uint8Array | null {
  const s = scan(bytes);
  if (!s.ok) return null;
  const q = s.query;
  const maxSize = maxResponseSize(q, 'udp');
  if (q.qname === 'other.tld') return errorResponse(q, bytes, RCODE.REFUSED);
  if (q.qname === 'cached.example.tld' && cached)
    return patchStored(cached, q, bytes, { elapsedSeconds: 5, maxSize });
  if (q.qtype === QTYPE.ANY)
    return buildResponse(
      q,
      bytes,
      { rcode: 0, aa: true, answers: [anyResponseRecord(q.qname)] },
      { maxSize },
    );
  const answers =
    q.qname === 'www.example.tld'
      ? [
          {
            name: 'www.example.tld',
            type: 'CNAME',
            class: 'IN',
            ttl: 60,
            data: 'web.example.tld',
          } as DnsRecord,
          a('web.example.tld', '192.0.2.1'),
          a('web.example.tld', '192.0.2.2'),
        ]
      : q.qname === 'big.example.tld'
        ? big
        : [];
  const rcode = answers.length > 0 ? RCODE.NOERROR : RCODE.NXDOMAIN;
  return buildResponse(
    q,
    bytes,
    { rcode, aa: true, answers, authorities: answers.length ? [] : [negativeSoa(apex)] },
    { maxSize },
  );
}

let server: dgram.Socket;
let port = 0;

beforeAll(async () => {
  server = dgram.createSocket('udp4');
  server.on('message', (msg, peer) => {
    const reply = answer(msg);
    if (reply) server.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => server.bind(0, '127.0.0.1', resolve));
  port = server.address().port;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function dig(...args: string[]): Promise<string> {
  const { stdout } = await run('dig', [
    '@127.0.0.1',
    '-p',
    String(port),
    '+time=2',
    '+tries=1',
    '+notcp',
    ...args,
  ]);
  return stdout;
}

describe('dig accepts our replies', () => {
  it('compressed CNAME chain, mixed case echoed', async () => {
    const out = await dig('WwW.Example.TLD', 'A', '+norec');
    expect(out).toMatch(/status: NOERROR/);
    expect(out).toMatch(/flags: qr aa;/);
    expect(out).toMatch(/WwW\.Example\.TLD\.\s+60\s+IN\s+CNAME\s+web\.Example\.TLD\./);
    expect(out).toMatch(/web\.Example\.TLD\.\s+60\s+IN\s+A\s+192\.0\.2\.2/);
    expect(out).toMatch(/EDNS: version: 0, flags:; udp: 1232/);
  });

  it('NXDOMAIN with the SOA, REFUSED, ANY', async () => {
    expect(await dig('nope.example.tld', 'A')).toMatch(
      /status: NXDOMAIN[\s\S]*AUTHORITY SECTION:\nexample\.tld\.\s+30\s+IN\s+SOA\s+ns1\.example\.tld\. hostmaster\.example\.tld\. 9/,
    );
    expect(await dig('other.tld', 'A')).toMatch(/status: REFUSED/);
    expect(await dig('www.example.tld', 'ANY')).toMatch(/IN\s+HINFO\s+"RFC8482" ""/);
  });

  it('truncated over UDP without EDNS: tc flag, no partial RRset', async () => {
    const out = await dig('big.example.tld', 'A', '+noedns', '+ignore');
    expect(out).toMatch(/flags: qr aa tc rd;/);
    expect(out).toMatch(/ANSWER: 0,/);
  });

  it('a patched cached answer', async () => {
    const seed = Buffer.from(plainQuery('cached.example.tld'));
    const s = scan(seed);
    if (!s.ok) throw new Error(s.error);
    cached = prepareStored(
      buildResponse(
        s.query,
        seed,
        { rcode: 0, aa: true, answers: [a('cached.example.tld', '192.0.2.9')] },
        { maxSize: 65535 },
      ),
    );
    const out = await dig('CACHED.example.tld', 'A', '+dnssec');
    expect(out).toMatch(/CACHED\.example\.tld\.\s+55\s+IN\s+A\s+192\.0\.2\.9/);
    expect(out).toMatch(/EDNS: version: 0, flags: do; udp: 1232/);
  });
});

/** A plain query for `name` (what a cache would have sent upstream). */
function plainQuery(name: string): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...Buffer.from(l)]);
  return new Uint8Array([0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, 0, 1, 0, 1]);
}
