import dgram from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from '@mdns/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DnsServer } from '../src/index.js';
import { percentiles, traceFromEnv, UdpTrace } from '../src/server/udp-trace.js';
import { testZoneHandler } from './support/test-zone.js';

// The opt-in latency trace of the Bun UDP backend (MDNS_UDP_TRACE). Its bookkeeping is fed
// made-up timestamps here; the live test runs on Bun only (scripts/test.sh's Bun run).
const onBun = typeof process.versions.bun === 'string';

const dirs: string[] = [];
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mdns-trace-'));
  dirs.push(dir);
  return join(dir, 'trace.jsonl');
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));

describe('percentiles', () => {
  it('nearest rank over the first n values', () => {
    const values = new Float64Array([5, 1, 4, 2, 3, 99, 99]);
    expect(percentiles(values, 5)).toEqual({ p50: 3, p90: 5, p99: 5, p999: 5, max: 5 });
    expect(percentiles(new Float64Array(4), 0)).toEqual({
      p50: 0,
      p90: 0,
      p99: 0,
      p999: 0,
      max: 0,
    });
  });
});

describe('UdpTrace', () => {
  it('times each reply from its datagram to handed over, and from handed over to its flush', () => {
    const file = tempFile();
    const trace = new UdpTrace(file);
    trace.received(10);
    trace.handed(10.5);
    trace.received(10.6);
    trace.handed(10.8);
    // A partial send: only the first reply left; the second waits for the next flush.
    trace.flushed(11, 11.5, 1);
    trace.flushed(13, 14, 1);
    trace.write();
    const [s] = lines(file);
    expect(s.replies).toBe(2);
    expect(s.flushes).toBe(2);
    expect(s.handlerMs.max).toBeCloseTo(0.5);
    expect(s.handlerMs.p50).toBeCloseTo(0.2);
    // 11.5 - 10.5 and 14 - 10.8.
    expect(s.queuedMs.p50).toBeCloseTo(1);
    expect(s.queuedMs.max).toBeCloseTo(3.2);
    expect(s.sendManyMs.max).toBeCloseTo(1);
    expect(s.batch.max).toBe(1);
  });

  it('counts gaps over 1 ms between datagrams as stalls, and starts a new line after 500 ms idle', () => {
    const file = tempFile();
    const trace = new UdpTrace(file);
    trace.received(100);
    trace.handed(100.1);
    trace.flushed(100.2, 100.3, 1);
    trace.received(105); // a 5 ms stall
    trace.handed(105.1);
    trace.flushed(105.2, 105.3, 1);
    trace.received(2000); // idle: the first burst is written, this datagram starts the next
    trace.handed(2000.1);
    trace.flushed(2000.2, 2000.3, 1);
    trace.write();
    trace.write(); // nothing new: no line
    const [first, second, ...rest] = lines(file);
    expect(rest).toEqual([]);
    expect(first.replies).toBe(2);
    expect(first.stalls.count).toBe(1);
    expect(first.stalls.ms.max).toBeCloseTo(5);
    expect(first.seconds).toBeCloseTo(0.005);
    expect(second.replies).toBe(1);
    expect(second.stalls.count).toBe(0);
  });

  it('is off unless MDNS_UDP_TRACE names a file', () => {
    expect(traceFromEnv({})).toBeNull();
    expect(traceFromEnv({ MDNS_UDP_TRACE: '' })).toBeNull();
    expect(traceFromEnv({ MDNS_UDP_TRACE: tempFile() })).toBeInstanceOf(UdpTrace);
  });
});

describe.skipIf(!onBun)('MDNS_UDP_TRACE on a live Bun server', () => {
  it('writes one line for the replies it sent when the server closes', async () => {
    const file = tempFile();
    process.env.MDNS_UDP_TRACE = file;
    const server = new DnsServer({ host: '127.0.0.1', port: 0, handler: testZoneHandler() });
    let port: number;
    try {
      port = (await server.listen()).port;
    } finally {
      delete process.env.MDNS_UDP_TRACE;
    }
    const client = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => client.bind(0, '127.0.0.1', () => resolve()));
    try {
      const answered = new Promise<void>((resolve) => {
        let n = 0;
        client.on('message', () => {
          if (++n === 10) resolve();
        });
      });
      for (let id = 1; id <= 10; id++) {
        const query = encode({
          id,
          type: 'query',
          flags: 0x0100,
          questions: [{ name: 'www.example.test', type: 'A', class: 'IN' }],
        });
        client.send(query, port, '127.0.0.1');
      }
      await answered;
    } finally {
      client.close();
      await server.close({ drainMs: 100 });
    }
    const [s, ...rest] = lines(file);
    expect(rest).toEqual([]);
    expect(s.replies).toBe(10);
    expect(s.batch.max).toBeGreaterThanOrEqual(1);
    expect(s.handlerMs.max).toBeGreaterThanOrEqual(0);
    expect(s.queuedMs.max).toBeGreaterThanOrEqual(s.queuedMs.p50);
  });
});
