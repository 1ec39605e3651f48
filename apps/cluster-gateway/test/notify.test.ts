import { createSocket, type Socket } from 'node:dgram';
import { Notifier, notifyMessage } from '@mdns/ops';
import { scan } from '@mdns/protocol';
import { until } from '@mdns/testkit';
import { afterEach, describe, expect, it } from 'vitest';

const silent = { info() {}, warn() {} };
const sockets: Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

/** A UDP authority stand-in: records NOTIFYs, acks with `rcode` unless told to stay silent. */
async function authority(options: { rcode?: number; ignoreFirst?: number } = {}) {
  const socket = createSocket('udp4');
  sockets.push(socket);
  const received: { zone: string; opcode: number; aa: boolean }[] = [];
  let ignore = options.ignoreFirst ?? 0;
  socket.on('message', (msg, rinfo) => {
    const r = scan(msg);
    if (!r.ok) return;
    received.push({
      zone: r.query.qname,
      opcode: r.query.opcode,
      aa: (r.query.flags & 0x0400) !== 0,
    });
    if (ignore-- > 0) return;
    const reply = Buffer.from(msg);
    reply[2] |= 0x80;
    reply[3] = (reply[3] & 0xf0) | (options.rcode ?? 0);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received };
}

describe('NOTIFY message (RFC 1996)', () => {
  it('opcode 4, AA, one SOA question for the zone', () => {
    const r = scan(notifyMessage('prod.example.tld', 77));
    expect(r.ok && r.query).toMatchObject({
      id: 77,
      opcode: 4,
      qdcount: 1,
      qtype: 6,
      qname: 'prod.example.tld',
    });
    expect(r.ok && r.query.flags & 0x0400).toBe(0x0400);
  });
});

describe('Notifier', () => {
  it('debounces a burst of changes into one NOTIFY per zone and target', async () => {
    const a = await authority();
    const n = new Notifier({
      targets: [{ address: '127.0.0.1', port: a.port }],
      zones: ['z1.tld', 'z2.tld'],
      debounceMs: 100,
      timeoutMs: 500,
      retries: 2,
      logger: silent,
    });
    for (let i = 0; i < 20; i++) n.changed();
    await until(() => n.counters.acknowledged === 2);
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received.map((x) => x.zone).sort()).toEqual(['z1.tld', 'z2.tld']);
    expect(a.received.every((x) => x.opcode === 4 && x.aa)).toBe(true);
    await n.stop();
  });

  it('notifies during continuous churn: later changes do not push the NOTIFY back', async () => {
    const a = await authority();
    const n = new Notifier({
      targets: [{ address: '127.0.0.1', port: a.port }],
      zones: ['z.tld'],
      debounceMs: 100,
      timeoutMs: 500,
      retries: 2,
      logger: silent,
    });
    // A change every 20 ms for up to 5 s: a debounce re-armed per change would never fire.
    const churn = setInterval(() => n.changed(), 20);
    try {
      await until(() => n.counters.acknowledged >= 1, 5000);
    } finally {
      clearInterval(churn);
    }
    expect(a.received[0]?.zone).toBe('z.tld');
    await n.stop();
  });

  it('retries after a timeout', async () => {
    const a = await authority({ ignoreFirst: 1 });
    const n = new Notifier({
      targets: [{ address: '127.0.0.1', port: a.port }],
      zones: ['z.tld'],
      debounceMs: 0,
      timeoutMs: 200,
      retries: 3,
      logger: silent,
    });
    n.changed();
    await until(() => n.counters.acknowledged === 1);
    expect(a.received).toHaveLength(2);
    await n.stop();
  });

  it('counts a refusal without retrying, and gives up on a dead target', async () => {
    const refusing = await authority({ rcode: 5 });
    const dead = await authority({ ignoreFirst: 100 });
    const n = new Notifier({
      targets: [
        { address: '127.0.0.1', port: refusing.port },
        { address: '127.0.0.1', port: dead.port },
      ],
      zones: ['z.tld'],
      debounceMs: 0,
      timeoutMs: 100,
      retries: 2,
      logger: silent,
    });
    n.changed();
    await until(() => n.counters.rejected === 1 && n.counters.failed === 1);
    expect(refusing.received).toHaveLength(1);
    expect(dead.received).toHaveLength(3);
    await n.stop();
  });

  it('no targets: disabled, never sends', async () => {
    const n = new Notifier({
      targets: [],
      zones: ['z.tld'],
      debounceMs: 0,
      timeoutMs: 100,
      retries: 0,
      logger: silent,
    });
    n.changed();
    expect(n.enabled).toBe(false);
    await n.stop();
    expect(n.counters.sent).toBe(0);
  });
});
