// Reference, not a DNS server: returns every datagram with QR set. What one Node process
// can do with dgram on this box when the answer costs nothing — the floor under our numbers.
//   node echo-server.mjs PORT
import dgram from 'node:dgram';

const port = Number(process.argv[2]);
const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
sock.on('message', (msg, rinfo) => {
  msg[2] |= 0x80;
  sock.send(msg, rinfo.port, rinfo.address);
});
sock.bind(port, '127.0.0.1');
process.on('SIGTERM', () => sock.close(() => process.exit(0)));
