// UDP relay between a DNS client (dig/kdig) and a server (knotd) that records both
// directions as hex. Used only by capture-fixtures.sh. Prints its port on stdout, then
// appends one JSON line per exchange to the file named in argv[3] until SIGTERM.
import dgram from 'node:dgram';
import { appendFileSync } from 'node:fs';

const upstreamPort = Number(process.argv[2]);
const logFile = process.argv[3];
const front = dgram.createSocket('udp4');
const pending = new Map(); // query id -> { query, peer }

const back = dgram.createSocket('udp4');
back.on('message', (msg) => {
  const id = msg.readUInt16BE(0);
  const entry = pending.get(id);
  if (!entry) return;
  pending.delete(id);
  appendFileSync(
    logFile,
    `${JSON.stringify({ query: entry.query, response: msg.toString('hex') })}\n`,
  );
  front.send(msg, entry.peer.port, entry.peer.address);
});

front.on('message', (msg, peer) => {
  pending.set(msg.readUInt16BE(0), { query: msg.toString('hex'), peer });
  back.send(msg, upstreamPort, '127.0.0.1');
});

back.bind(0, '127.0.0.1', () => {
  front.bind(0, '127.0.0.1', () => {
    console.log(front.address().port);
  });
});
process.on('SIGTERM', () => process.exit(0));
