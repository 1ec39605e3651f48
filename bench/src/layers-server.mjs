// Reference, not a DNS server: the gateway's answer path in layers on a live socket, to split
// its CPU per query (run by layers.mjs, BENCHMARKS.md "Gateway on Bun: where the time goes").
// Every name is answered with one A record, built on first sight and then served stored.
//   hot     : Bun.udpSocket, replies of a turn in one sendMany (as echo-batched-bun.mjs) +
//             the hit path: scan -> two Map probes -> patchStored            (Bun only)
//   server  : @mdns/transport DnsServer (its default UDP backend) + the same hit path
//   observe : server + performance.now() twice and a counter update per query
//   <runtime> layers-server.mjs MODE PORT
// The built packages by path: the bench does not depend on them as packages.
const { DnsServer } = await import('../../packages/transport/dist/index.js');
const { buildResponse, maxResponseSize, patchStored, prepareStored, scan } = await import(
  '../../packages/protocol/dist/index.js'
);

const [mode, portText] = process.argv.slice(2);
const port = Number(portText);
// LAYERS_BALLAST=N: N small live objects (a string and a nested object each, like a slimmed
// Kubernetes object), held for the life of the process: the heap-size hypothesis, alone.
const ballast = [];
for (let i = 0; i < Number(process.env.LAYERS_BALLAST ?? 0); i++) {
  ballast.push({ name: `object-${i}`, spec: { host: `app-${i}.bench.test`, port: i } });
}
globalThis.__layersBallast = ballast;
const byType = new Map();
const patch = { elapsedSeconds: 0, maxSize: 0, serverUdpSize: 1232 };

function answer(bytes, transport) {
  const scanned = scan(bytes);
  if (!scanned.ok) return null;
  const q = scanned.query;
  let byName = byType.get(q.qtype);
  if (!byName) {
    byName = new Map();
    byType.set(q.qtype, byName);
  }
  let stored = byName.get(q.qname);
  if (!stored) {
    const parts = {
      rcode: 0,
      aa: true,
      answers: [{ name: q.qname, type: 'A', ttl: 30, data: '10.0.0.1' }],
      authorities: [],
      additionals: [],
    };
    stored = prepareStored(buildResponse(q, bytes, parts, { maxSize: 65535, serverUdpSize: 1232 }));
    byName.set(q.qname, stored);
  }
  patch.maxSize = maxResponseSize(q, transport, 1232);
  return patchStored(stored, q, bytes, patch);
}

if (mode === 'hot') {
  let queue = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const taken = queue;
    queue = [];
    try {
      socket.sendMany(taken);
    } catch {}
  };
  const socket = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, message, rport, address) {
        const out = answer(message, 'udp');
        if (out === null) return;
        queue.push(out, rport, address);
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      },
    },
  });
} else if (mode === 'server' || mode === 'observe') {
  const observe = mode === 'observe';
  const tally = { count: 0, seconds: 0 };
  const handler = (bytes, peer) => {
    const started = observe ? performance.now() : 0;
    const out = answer(bytes, peer.transport);
    if (observe) {
      tally.count++;
      tally.seconds += (performance.now() - started) / 1000;
    }
    return out;
  };
  await new DnsServer({ host: '127.0.0.1', port, handler }).listen();
} else {
  throw new Error(`layers-server.mjs: unknown mode "${mode}" (hot, server, observe)`);
}
process.on('SIGTERM', () => process.exit(0));
