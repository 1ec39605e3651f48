import dgram from 'node:dgram';
import { decode, encode } from '@mdns/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Authority, configYaml, startAuthority } from './support/authority.js';

// The upstream socket pool (`upstream.sockets`) is main's: a reload that changes its size
// swaps the pool, so the new size is what the upstreams see. Observed from the upstream's
// side: the source ports its queries arrive from.

const ZONE = 'pool.test';

/** A UDP upstream answering every A query, recording the source port of each `q-*` name. */
async function portRecorder() {
  const ports: number[] = [];
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const d = decode(msg);
    if (!d.ok || !d.message.questions?.length) return;
    const q = d.message.questions[0];
    if (q.name.startsWith('q-')) ports.push(rinfo.port);
    const answers = q.type === 'A' ? [{ name: q.name, type: 'A', ttl: 60, data: '192.0.2.9' }] : [];
    const reply = encode({
      id: d.message.id,
      type: 'response',
      flags: 1 << 10, // AA
      questions: [q],
      answers,
    } as never);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return { port: socket.address().port, ports, close: () => socket.close() };
}

const yaml = (upstreamPort: number, sockets: number) =>
  configYaml(
    [{ name: ZONE, upstreams: [{ name: 'gw', port: upstreamPort }] }],
    // randomCase off: the recorder echoes the question as decoded; no cache: every query asks.
    `upstream: { sockets: ${sockets}, randomCase: false }\ncache: { enabled: false }\n`,
  );

describe('upstream.sockets: the pool main owns', () => {
  let up: Awaited<ReturnType<typeof portRecorder>>;
  let auth: Authority;
  beforeAll(async () => {
    up = await portRecorder();
    auth = await startAuthority(yaml(up.port, 1));
  });
  afterAll(async () => {
    await auth?.stop();
    up?.close();
  });

  async function askFour(prefix: string): Promise<Set<number>> {
    const from = up.ports.length;
    for (let i = 0; i < 4; i++) {
      const r = await auth.query(`q-${prefix}${i}.${ZONE}`, 'A');
      expect(r.rcode).toBe(0);
    }
    return new Set(up.ports.slice(from));
  }

  it('sockets: 1 sends every query from one port', async () => {
    expect((await askFour('one')).size).toBe(1);
  });

  it('a reload to sockets: 0 gets a fresh port per query', async () => {
    auth.writeConfig(yaml(up.port, 0));
    await auth.waitForLog((l) => l.msg === 'config reloaded');
    expect((await askFour('fresh')).size).toBeGreaterThan(1);
  });
});
