// The little DNS the harness needs itself (readiness checks, latency samples,
// change -> answer polling): build a query, read rcode and A/AAAA answers.
// Kept here rather than importing @mdns/protocol so the harness measures our servers
// with code that is not theirs.
import dgram from 'node:dgram';
import { udpExchange } from '@mdns/testkit';

export const TYPE = { A: 1, AAAA: 28, SOA: 6 };
export const RCODE_NAME = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export function buildQuery(id, name, type) {
  const labels = name.split('.').filter(Boolean);
  const size = 12 + labels.reduce((n, l) => n + l.length + 1, 1) + 4;
  const b = Buffer.alloc(size);
  b.writeUInt16BE(id, 0);
  b.writeUInt16BE(0x0100, 2); // RD, as stub resolvers send it
  b.writeUInt16BE(1, 4);
  let o = 12;
  for (const l of labels) {
    b[o++] = l.length;
    o += b.write(l, o, 'ascii');
  }
  b[o++] = 0;
  b.writeUInt16BE(type, o);
  b.writeUInt16BE(1, o + 2);
  return b;
}

function skipName(b, o) {
  while (o < b.length) {
    const len = b[o];
    if (len === 0) return o + 1;
    if ((len & 0xc0) === 0xc0) return o + 2;
    o += len + 1;
  }
  return o;
}

/** `{ id, rcode, addresses }` with the A/AAAA rdata of the answer section as text. */
export function parseResponse(b) {
  if (b.length < 12) return null;
  const id = b.readUInt16BE(0);
  const rcode = b[3] & 0x0f;
  const qd = b.readUInt16BE(4);
  const an = b.readUInt16BE(6);
  let o = 12;
  for (let i = 0; i < qd; i++) o = skipName(b, o) + 4;
  const addresses = [];
  for (let i = 0; i < an && o + 10 <= b.length; i++) {
    o = skipName(b, o);
    const type = b.readUInt16BE(o);
    const rdlen = b.readUInt16BE(o + 8);
    const rd = b.subarray(o + 10, o + 10 + rdlen);
    if (type === TYPE.A && rdlen === 4) addresses.push(rd.join('.'));
    if (type === TYPE.AAAA && rdlen === 16) addresses.push(rd.toString('hex'));
    o += 10 + rdlen;
  }
  return { id, rcode, addresses };
}

/** One query over a fresh socket; resolves `null` on timeout. */
export async function queryOnce(port, name, type, timeoutMs = 1000) {
  const id = Math.floor(Math.random() * 65536);
  const reply = await udpExchange(port, buildQuery(id, name, TYPE[type] ?? type), {
    timeoutMs,
    accept: (msg) => parseResponse(msg)?.id === id,
  });
  return reply === null ? null : parseResponse(reply);
}

/**
 * Sends `names.length` queries at a fixed rate from one socket and records each
 * round-trip time (ms). Queries still unanswered `timeoutMs` after the last send are
 * counted as lost. Bounded by construction: it ends after the last send + timeout.
 */
export function sampleLatency(port, names, { qps = 200, type = 'A', timeoutMs = 8000 } = {}) {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    const pending = new Map();
    const latencies = [];
    const rcodes = {};
    let sent = 0;
    let nextId = Math.floor(Math.random() * 65536);
    const started = performance.now();
    sock.on('message', (msg) => {
      const r = parseResponse(msg);
      const t0 = r && pending.get(r.id);
      if (t0 === undefined) return;
      pending.delete(r.id);
      latencies.push(performance.now() - t0);
      const name = RCODE_NAME[r.rcode] ?? String(r.rcode);
      rcodes[name] = (rcodes[name] ?? 0) + 1;
      if (sent === names.length && pending.size === 0) done();
    });
    const tick = setInterval(() => {
      // Catch up to the schedule: timers on a busy box fire late, the rate should not drift.
      const due = Math.min(
        names.length,
        Math.floor(((performance.now() - started) / 1000) * qps) + 1,
      );
      while (sent < due) {
        nextId = (nextId + 1) & 0xffff;
        pending.set(nextId, performance.now());
        sock.send(buildQuery(nextId, names[sent], TYPE[type]), port, '127.0.0.1');
        sent++;
      }
      if (sent === names.length) {
        clearInterval(tick);
        setTimeout(done, timeoutMs);
      }
    }, 2);
    let finished = false;
    function done() {
      if (finished) return;
      finished = true;
      clearInterval(tick);
      sock.close();
      resolve({ sent, latencies, lost: pending.size, rcodes });
    }
  });
}
