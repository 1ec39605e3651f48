// UDP round-trip benchmark for DnsServer + a raw dgram client, in one process.
// Bounded: stops after DURATION_MS or MAX_QUERIES, whichever comes first.
// Usage: pnpm --filter @mdns/transport build && node bench/run.mjs [durationMs] [concurrency]
// BENCH_RRL=1: response rate limiting on, at a rate never reached (the cost of judging each reply).
import dgram from 'node:dgram';
import { DnsServer, dnsQuery } from '../dist/index.js';

const DURATION_MS = Number(process.argv[2] ?? 3000);
const CONCURRENCY = Number(process.argv[3] ?? 8);
const MAX_QUERIES = 2_000_000;

// Header + question for "bench.example.test A IN", built by hand so the loop allocates nothing.
const QUERY = Buffer.from([
  0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 98, 101, 110, 99, 104, 7, 101, 120, 97, 109, 112, 108, 101,
  4, 116, 101, 115, 116, 0, 0, 1, 0, 1,
]);

// The handler flips QR on the query in place and returns it: the cheapest possible "answer",
// so what is measured is the transport (receive, dispatch, send), not answer building.
const rrl = process.env.BENCH_RRL === '1';
const server = new DnsServer({
  host: '127.0.0.1',
  port: 0,
  ...(rrl ? { rateLimit: { responsesPerSecond: 1e9 } } : {}),
  handler: (query) => {
    query[2] |= 0x80;
    return query;
  },
});
const { port } = await server.listen();

// One real dnsQuery first: proves the server answers before measuring.
await dnsQuery({ host: '127.0.0.1', port, name: 'bench.example.test', type: 'A', timeoutMs: 2000 });

let sent = 0;
let received = 0;
const deadline = Date.now() + DURATION_MS;
const cpuBefore = process.cpuUsage();
const started = performance.now();

await Promise.all(
  Array.from(
    { length: CONCURRENCY },
    () =>
      new Promise((resolve) => {
        const socket = dgram.createSocket('udp4');
        const packet = Buffer.from(QUERY);
        const next = () => {
          if (Date.now() >= deadline || sent >= MAX_QUERIES) {
            socket.close();
            resolve();
            return;
          }
          sent++;
          socket.send(packet, port, '127.0.0.1');
        };
        // A lost datagram would stall this worker: re-send after a quiet 200 ms.
        const timer = setInterval(next, 200);
        socket.on('message', () => {
          received++;
          timer.refresh();
          next();
        });
        socket.on('close', () => clearInterval(timer));
        socket.bind(0, '127.0.0.1', next);
      }),
  ),
);

const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
await server.close({ drainMs: 100 });
const cpuUsPerQuery = (cpu.user + cpu.system) / Math.max(1, received);
console.log(
  JSON.stringify({
    bench: 'udp-round-trip',
    rrl,
    concurrency: CONCURRENCY,
    seconds: Number(seconds.toFixed(2)),
    sent,
    received,
    queriesPerSecond: Math.round(received / seconds),
    // Client and server share this process: the figure is an upper bound on server cost.
    processCpuMicrosPerQuery: Number(cpuUsPerQuery.toFixed(1)),
    serverCounters: server.counters,
  }),
);
