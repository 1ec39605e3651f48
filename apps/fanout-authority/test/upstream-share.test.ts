import { type DnsClient, DnsQueryError, type DnsQueryResult } from '@mdns/transport';
import { describe, expect, it } from 'vitest';
import { closedCircuit, receivedCircuit } from '../src/upstream/circuit.js';
import { UpstreamHealth } from '../src/upstream/health.js';
import { parseCircuitEvent } from '../src/upstream/share.js';
import { Upstream } from '../src/upstream/upstream.js';

// listen.workers > 1: a circuit transition one worker learns is told to the others, which
// apply it as their own (docs/behaviour.md, "Several workers answer as one server").
const limits = {
  floorMs: 50,
  ceilingMs: 1000,
  initialMs: 200,
  failureThreshold: 3,
  probeIntervalMs: 5000,
};
const open = { open: true, consecutiveFailures: 3, openedAtMs: 100 };

describe('receivedCircuit: how a sibling worker applies a transition', () => {
  it('an open received opens a closed circuit, as if the failures had been seen here', () => {
    const before = { open: false, consecutiveFailures: 1, openedAtMs: null };
    expect(receivedCircuit(before, 0, { open: true, atMs: 500 }, 3)).toEqual({
      circuit: { open: true, consecutiveFailures: 3, openedAtMs: 500 },
      changedAtMs: 500,
    });
  });

  it('a close received closes an open circuit and clears the failures', () => {
    expect(receivedCircuit(open, 100, { open: false, atMs: 900 }, 3)).toEqual({
      circuit: closedCircuit(),
      changedAtMs: 900,
    });
  });

  it('news older than (or as old as) this worker’s own last transition is ignored', () => {
    expect(receivedCircuit(open, 900, { open: false, atMs: 800 }, 3)).toBeNull();
    expect(receivedCircuit(open, 900, { open: false, atMs: 900 }, 3)).toBeNull();
  });

  it('the same state received only moves the clock: a later older news stays ignored', () => {
    const r = receivedCircuit(open, 100, { open: true, atMs: 300 }, 3);
    expect(r).toEqual({ circuit: open, changedAtMs: 300 });
    expect(receivedCircuit(open, r!.changedAtMs, { open: false, atMs: 200 }, 3)).toBeNull();
  });
});

describe('UpstreamHealth: own transitions stamped, received ones applied', () => {
  it('stamps the opening and the closing it learns itself', () => {
    const h = new UpstreamHealth();
    for (let i = 1; i <= 3; i++) h.onNoReply('timeout', 'timeout', limits, 1000 + i);
    expect(h.healthy).toBe(false);
    expect(h.changedAtMs).toBe(1003);
    h.onReply(0, 20, true, limits, 2000);
    expect(h.healthy).toBe(true);
    expect(h.changedAtMs).toBe(2000);
    // A success on a closed circuit is no transition.
    h.onReply(0, 20, true, limits, 2500);
    expect(h.changedAtMs).toBe(2000);
  });

  it('a received close adopts the sibling’s RTT when this worker has no sample yet', () => {
    const h = new UpstreamHealth();
    expect(h.receive({ open: true, atMs: 10, srtt: null, rttvar: 0 }, limits)).toBe('opened');
    expect(h.receive({ open: false, atMs: 20, srtt: 150, rttvar: 10 }, limits)).toBe('closed');
    expect(h.rtt).toEqual({ srtt: 150, rttvar: 10, backoff: 0 });
    h.onReply(0, 100, true, limits, 30);
    // Its own sample from then on; a later news does not overwrite a learned RTT.
    const learned = h.rtt;
    h.receive({ open: true, atMs: 40, srtt: 900, rttvar: 0 }, limits);
    expect(h.rtt).toEqual(learned);
  });

  it('counts no circuit opening of its own for a received one, and says why it is open', () => {
    const h = new UpstreamHealth();
    h.receive({ open: true, atMs: 10, srtt: null, rttvar: 0, lastError: 'timeout' }, limits);
    expect(h.stats.circuitOpens).toBe(0);
    expect(h.healthy).toBe(false);
    expect(h.lastError).toBe('timeout (in a sibling worker)');
  });
});

describe('parseCircuitEvent: what arrives over IPC is checked', () => {
  it('keeps a well-formed event, drops a malformed one', () => {
    const ok = {
      key: 'z|x|127.0.0.1|53',
      open: true,
      atMs: 5,
      srtt: 12.5,
      rttvar: 3,
      lastError: 'timeout after 200 ms',
    };
    expect(parseCircuitEvent(ok)).toEqual(ok);
    expect(parseCircuitEvent({ ...ok, srtt: null })).toEqual({ ...ok, srtt: null });
    expect(parseCircuitEvent({ ...ok, srtt: -1, rttvar: 'x', lastError: 7 })).toEqual({
      ...ok,
      srtt: null,
      rttvar: 0,
      lastError: null,
    });
    for (const bad of [null, 'x', { ...ok, key: 1 }, { ...ok, open: 'yes' }, { ...ok, atMs: NaN }])
      expect(parseCircuitEvent(bad)).toBeNull();
  });
});

/** A DnsClient stand-in: every query waits until the test settles it. */
function heldClient() {
  const waiting: Array<(outcome: DnsQueryResult | DnsQueryError) => void> = [];
  const client = {
    // As DnsClient.send: `done` gets the outcome and the context given here.
    send(
      _options: unknown,
      done: (outcome: DnsQueryResult | DnsQueryError, context: unknown) => void,
      _onLate: unknown,
      context: unknown,
    ) {
      waiting.push((outcome) => done(outcome, context));
      return { cancel() {} };
    },
  } as unknown as DnsClient;
  return { client, waiting };
}

describe('Upstream: told transitions out, received ones in', () => {
  const where = { zone: 'prod.test', name: 'x', address: '127.0.0.1', port: 5300 };

  it('tells its own opening once, never a received one', () => {
    const told: boolean[] = [];
    const { client, waiting } = heldClient();
    const u = new Upstream(where, new UpstreamHealth(), limits, client, (up) =>
      told.push(up.healthy),
    );
    for (let i = 0; i < 3; i++) u.send(`n${i}.prod.test`, 1, () => {});
    for (const settle of waiting.splice(0, 3)) settle(new DnsQueryError('timeout', 'timeout'));
    expect(told).toEqual([false]);
    u.receive({ open: false, atMs: Date.now() + 1000, srtt: 10, rttvar: 1 });
    expect(u.healthy).toBe(true);
    expect(told).toEqual([false]);
  });

  it('an open received releases the queries waiting on that upstream at once', () => {
    const { client } = heldClient();
    const u = new Upstream(where, new UpstreamHealth(), limits, client);
    const outcomes: string[] = [];
    u.send('svc.prod.test', 1, (ex) => outcomes.push(ex.outcome.class));
    expect(outcomes).toEqual([]);
    u.receive({ open: true, atMs: Date.now(), srtt: null, rttvar: 0 });
    expect(u.healthy).toBe(false);
    expect(outcomes).toEqual(['FAILED']);
  });
});
