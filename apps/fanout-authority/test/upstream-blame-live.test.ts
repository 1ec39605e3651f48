import { decode, encode, QTYPE } from '@mdns/protocol';
import { startDnsPeer } from '@mdns/testkit';
import { DnsClient } from '@mdns/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UpstreamHealth } from '../src/upstream/health.js';
import { Upstream, type UpstreamLimits } from '../src/upstream/upstream.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

// Blame through a real Upstream and real UDP: what reaches the circuit and what does not.
const ZONE = 'prod.test';
const limits: UpstreamLimits = {
  floorMs: 50,
  ceilingMs: 1000,
  initialMs: 500,
  failureThreshold: 3,
  probeIntervalMs: 2000,
};

/** Answers SERVFAIL for `broken.<zone>` (and, when `apexBroken`, for the apex SOA too), NXDOMAIN otherwise. */
async function responder() {
  const state = { apexBroken: false, soaAsked: 0 };
  const peer = await startDnsPeer(({ bytes: msg, send }) => {
    const d = decode(msg);
    if (!d.ok) return;
    const q = d.message.questions?.[0];
    if (!q) return;
    const name = q.name.toLowerCase();
    if (name === ZONE) state.soaAsked++;
    const fail = name === `broken.${ZONE}` || (name === ZONE && state.apexBroken);
    const reply = encode({
      id: d.message.id,
      type: 'response',
      flags: 0x0400 | (fail ? 2 : name === ZONE ? 0 : 3),
      questions: [q],
    } as never);
    send(reply);
  });
  return { port: peer.port, state, close: () => peer.close() };
}

describe('only the upstream can fail the upstream (live)', () => {
  let up: Awaited<ReturnType<typeof responder>>;
  beforeAll(async () => {
    up = await responder();
  });
  afterAll(() => up.close());

  const upstream = () =>
    new Upstream(
      { zone: ZONE, name: 'gw', address: '127.0.0.1', port: up.port },
      new UpstreamHealth(),
      limits,
      client,
    );

  it('a query we cannot encode is ours: counted, never toward the circuit', async () => {
    const u = upstream();
    for (let i = 0; i < 5; i++) {
      const ex = await u.ask(`${'x'.repeat(64)}.${ZONE}`, QTYPE.A);
      expect(ex.outcome.class).toBe('FAILED');
    }
    expect(u.health.stats.localErrors).toBe(5);
    expect(u.health.circuit.consecutiveFailures).toBe(0);
    expect(u.healthy).toBe(true);
  });

  it('SERVFAIL for one name, asked in a loop: the circuit stays closed, the apex is checked', async () => {
    const u = upstream();
    const before = up.state.soaAsked;
    for (let i = 0; i < 10; i++) {
      const ex = await u.ask(`broken.${ZONE}`, QTYPE.A);
      expect(ex.outcome.class).toBe('FAILED');
    }
    await new Promise((r) => setTimeout(r, 100)); // the last apex check's reply
    expect(u.health.stats.nameErrors).toBe(10);
    expect(u.healthy).toBe(true);
    expect(up.state.soaAsked).toBeGreaterThan(before);
    expect((await u.ask(`fine.${ZONE}`, QTYPE.A)).outcome.class).toBe('NXDOMAIN');
  });

  it('broken for the whole zone (the apex SOA fails too): the circuit opens', async () => {
    up.state.apexBroken = true;
    const u = upstream();
    for (let i = 0; i < 10 && u.healthy; i++) {
      await u.ask(`broken.${ZONE}`, QTYPE.A);
      await new Promise((r) => setTimeout(r, 20));
    }
    up.state.apexBroken = false;
    expect(u.healthy).toBe(false);
    expect(u.health.stats.circuitOpens).toBe(1);
  });
});
