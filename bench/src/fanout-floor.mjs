// Reference, not a DNS server: the least one Node process can do for the miss scenario.
// Each query goes to every upstream with a new ID; the first reply with answer records is
// returned (ID restored), else the last reply once every upstream answered. No decode, no
// timeouts, no health, no checks: the dgram cost of 1 receive + 3 sends + 3 receives +
// 1 send per client query. What the fanout-authority's miss path costs on top is ours.
//   node fanout-floor.mjs PORT UPSTREAM_PORT...
//   bun fanout-floor.mjs --batch PORT UPSTREAM_PORT...   (bun-fanout, see the end)
import dgram from 'node:dgram';

const batch = process.argv[2] === '--batch';
const [port, ...upstreams] = process.argv.slice(batch ? 3 : 2).map(Number);
if (batch) await batchedFloor();
else nodeFloor();

function nodeFloor() {
  const buffers = { recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 };
  const server = dgram.createSocket({ type: 'udp4', ...buffers });
  const client = dgram.createSocket({ type: 'udp4', ...buffers });
  const pending = new Map(); // our ID -> { port, address, id, left }
  let nextId = 0;

  server.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    nextId = (nextId + 1) & 0xffff;
    pending.set(nextId, {
      port: rinfo.port,
      address: rinfo.address,
      id: msg.readUInt16BE(0),
      left: upstreams.length,
    });
    msg.writeUInt16BE(nextId, 0);
    for (const p of upstreams) client.send(msg, p, '127.0.0.1');
  });

  client.on('message', (msg) => {
    if (msg.length < 12) return;
    const ours = msg.readUInt16BE(0);
    const q = pending.get(ours);
    if (q === undefined) return;
    q.left--;
    if (msg.readUInt16BE(6) === 0 && q.left > 0) return; // no answer yet: wait for the others
    pending.delete(ours);
    msg.writeUInt16BE(q.id, 0);
    server.send(msg, q.port, q.address);
  });

  client.bind(0, '127.0.0.1');
  server.bind(port, '127.0.0.1');
  process.on('SIGTERM', () => process.exit(0));
}

// bun-fanout: the same on Bun's own UDP socket, with what our Bun backends do for sends:
// everything queued in one event-loop turn leaves in one `sendMany` per socket (one
// syscall). No drain handling: a batch the kernel refuses in part shows as lost queries.
async function batchedFloor() {
  const pending = new Map(); // our ID -> { port, address, id, left }
  let nextId = 0;
  let toUpstreams = [];
  let toClients = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (toUpstreams.length > 0) client.sendMany(toUpstreams);
    if (toClients.length > 0) server.sendMany(toClients);
    toUpstreams = [];
    toClients = [];
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  const client = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      data(_socket, msg) {
        if (msg.length < 12) return;
        const ours = msg.readUInt16BE(0);
        const q = pending.get(ours);
        if (q === undefined) return;
        q.left--;
        if (msg.readUInt16BE(6) === 0 && q.left > 0) return;
        pending.delete(ours);
        msg.writeUInt16BE(q.id, 0);
        toClients.push(msg, q.port, q.address);
        schedule();
      },
    },
  });
  const server = await Bun.udpSocket({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, msg, rport, address) {
        if (msg.length < 12) return;
        nextId = (nextId + 1) & 0xffff;
        pending.set(nextId, {
          port: rport,
          address,
          id: msg.readUInt16BE(0),
          left: upstreams.length,
        });
        msg.writeUInt16BE(nextId, 0);
        for (const p of upstreams) toUpstreams.push(msg, p, '127.0.0.1');
        schedule();
      },
    },
  });
  process.on('SIGTERM', () => process.exit(0));
}
