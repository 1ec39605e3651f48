// Reference, not a DNS server, Bun only: returns every datagram with QR set, the replies of
// one event-loop turn written with one `sendMany` (setImmediate), as our Bun UDP backend
// (packages/transport/src/server/udp-bun.ts) writes its replies. The floor under our numbers
// on Bun: echo-server.mjs (node:dgram, one send per datagram) costs more than our servers do.
//   bun echo-batched-bun.mjs PORT
const port = Number(process.argv[2]);
let queue = [];
let scheduled = false;
const flush = () => {
  scheduled = false;
  const taken = queue;
  queue = [];
  // A partial send or a send error drops the rest: a floor, not a server (dnsperf counts
  // them as lost).
  try {
    socket.sendMany(taken);
  } catch {}
};
const socket = await Bun.udpSocket({
  hostname: '127.0.0.1',
  port,
  socket: {
    data(_socket, message, rport, address) {
      message[2] |= 0x80;
      queue.push(message, rport, address);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
  },
});
process.on('SIGTERM', () => {
  socket.close();
  process.exit(0);
});
