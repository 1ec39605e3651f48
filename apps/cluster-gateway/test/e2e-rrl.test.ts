import { createSocket } from 'node:dgram';
import net from 'node:net';
import { encode, scan } from '@mdns/protocol';
import { type AppProcess, assertBuilt, type TempDir, tempDir, until } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { MAIN, startGateway, testConfig } from './support/gateway.js';

const ZONE = 'prod.example.tld';
const NAME = `web.${ZONE}`;

const ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'web' },
  spec: { rules: [{ host: NAME }] },
  status: { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } },
};

interface Burst {
  answered: number;
  truncated: number;
}

/** `count` queries for NAME from `source` (one socket), paced in small batches; bounded. */
function burst(port: number, source: string, count: number, gapMs: number): Promise<Burst> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    const got: Burst = { answered: 0, truncated: 0 };
    socket.on('message', (msg) => {
      const s = scan(msg);
      if (!s.ok) return;
      if (msg[2] & 0x02) got.truncated++;
      else if (s.query.ancount === 1) got.answered++;
    });
    socket.once('error', reject);
    socket.bind(0, source, async () => {
      for (let i = 0; i < count; i++) {
        const q = encode({
          id: i & 0xffff,
          type: 'query',
          flags: 0,
          questions: [{ name: NAME, type: 'A', class: 'IN' }],
        });
        socket.send(q, port, '127.0.0.1');
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        else if (i % 50 === 49) await new Promise((r) => setImmediate(r));
      }
      setTimeout(() => {
        socket.close();
        resolve(got);
      }, 500);
    });
  });
}

/** One query over TCP from `source`; resolves with the reply bytes. */
function askTcpFrom(port: number, source: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const q = encode({
      id: 7,
      type: 'query',
      flags: 0,
      questions: [{ name: NAME, type: 'A', class: 'IN' }],
    });
    const socket = net.connect({ host: '127.0.0.1', port, localAddress: source }, () => {
      socket.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]));
    });
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(new Error('no TCP reply within 5 s')), 5000);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        resolve(buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

// Response rate limiting on the gateway's open LoadBalancer: a real process, real UDP sources.
describe('end to end: rrl', () => {
  beforeAll(() => assertBuilt(MAIN));
  let dir: TempDir;
  let manifests: TempDir;
  let gw: AppProcess;

  beforeAll(async () => {
    dir = tempDir();
    manifests = tempDir('gateway-rrl-');
    manifests.write('ingress.yaml', stringify(ingress));
    const config = testConfig({
      zones: [{ name: ZONE }],
      sources: {
        kubernetes: { enabled: false },
        manifests: { enabled: true, directory: manifests.path },
      },
      // Default prefixes (/24): 127.0.1.x and 127.0.2.x are two client networks.
      rrl: { responsesPerSecond: 10, window: 60 },
    });
    gw = await startGateway(dir.write('gateway.yaml', JSON.stringify(config)));
    await until(async () => (await gw.http('/ready')).status === 200);
  });

  afterAll(async () => {
    await gw?.stop();
    dir?.remove();
    manifests?.remove();
  });

  it('limits a flooding network while another network gets every answer', async () => {
    const flood = burst(gw.dnsPort, '127.0.1.1', 2000, 0);
    // The other client asks at its own modest pace during the flood (5 a second).
    const other = burst(gw.dnsPort, '127.0.2.1', 10, 200);
    const [flooded, served] = await Promise.all([flood, other]);
    expect(served).toEqual({ answered: 10, truncated: 0 });
    // Ten a second for the flooder (one second of credit plus what the clock adds).
    expect(flooded.answered).toBeLessThan(100);
    expect(flooded.truncated).toBeGreaterThan(500);
    const metrics = (await gw.http('/metrics')).body;
    const dropped = Number(/^mdns_gateway_transport_rrl_dropped_total (\d+)/m.exec(metrics)?.[1]);
    const slipped = Number(/^mdns_gateway_transport_rrl_slipped_total (\d+)/m.exec(metrics)?.[1]);
    expect(dropped).toBeGreaterThan(500);
    // The flooder's own socket may drop some of what it was sent: at least what it saw.
    expect(slipped).toBeGreaterThanOrEqual(flooded.truncated);
  });

  it('answers the flooding network over TCP: TCP is never limited', async () => {
    const reply = await askTcpFrom(gw.dnsPort, '127.0.1.1');
    const s = scan(reply);
    expect(s.ok && s.query.ancount).toBe(1);
    expect(reply[2] & 0x02).toBe(0);
  });
});
