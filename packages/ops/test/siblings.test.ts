import { describe, expect, it, vi } from 'vitest';
import type { ToPrimary, ToWorker } from '../src/workers/ipc.js';
import { SiblingRouter } from '../src/workers/relay.js';
import { type Siblings, siblingsOver, type WorkerChannel } from '../src/workers/worker.js';

/**
 * N workers and a primary in memory: each worker's `Siblings` over a channel whose messages
 * reach the primary's router (and back) on a later turn of the event loop, as IPC does.
 * `silent` workers receive nothing (a stuck event loop); `gone` ones throw on send (dead).
 */
function cluster(
  n: number,
  opts: { silent?: number[]; gone?: number[]; starting?: number[] } = {},
) {
  interface Peer {
    index: number;
    deliver: ((m: unknown) => void) | null;
  }
  const peers: Peer[] = Array.from({ length: n }, (_, i) => ({ index: i + 1, deliver: null }));
  const sent: ToWorker[] = [];
  const router = new SiblingRouter<Peer>(
    () => peers,
    (peer, message) => {
      if (opts.gone?.includes(peer.index)) throw new Error('gone');
      sent.push(message);
      if (opts.silent?.includes(peer.index)) return;
      setImmediate(() => peer.deliver?.(message));
    },
    (peer) => !opts.starting?.includes(peer.index),
  );
  const workers: Siblings[] = peers.map((peer) => {
    const channel: WorkerChannel = {
      send: (m: ToPrimary) => setImmediate(() => router.route(peer, m)),
      onMessage: (listener) => {
        peer.deliver = listener;
      },
    };
    return siblingsOver(channel);
  });
  return { workers, router, sent };
}

describe('Siblings.tell / on', () => {
  it('an event reaches every other worker, never the one that told it', async () => {
    const { workers } = cluster(3);
    const got: string[] = [];
    for (const [i, w] of workers.entries()) {
      w.on('notify', (p) => got.push(`${i + 1}:${JSON.stringify(p)}`));
    }
    workers[0].tell('notify', { upstreams: ['x'] });
    await vi.waitFor(() => expect(got).toHaveLength(2));
    // One more turn: a copy to the teller itself would have arrived by now.
    await new Promise((r) => setImmediate(r));
    expect(got.sort()).toEqual(['2:{"upstreams":["x"]}', '3:{"upstreams":["x"]}']);
  });
});

describe('Siblings.ask / answer', () => {
  it('the first sibling that holds something answers; the empty ones do not decide', async () => {
    const { workers, router } = cluster(3);
    workers[1].answer('stale', () => null);
    workers[2].answer('stale', (p) => ((p as { key: string }).key === 'k' ? 'reply-bytes' : null));
    expect(await workers[0].ask('stale', { key: 'k' }, 10_000)).toBe('reply-bytes');
    expect(router.pending).toBe(0);
  });

  it('every sibling empty: null as soon as the last one answered, not at the timeout', async () => {
    const { workers, router } = cluster(3);
    workers[1].answer('stale', () => null);
    workers[2].answer('stale', () => undefined);
    // A 60 s bound: were the question held to its timeout, the test would time out instead.
    expect(await workers[0].ask('stale', { key: 'k' }, 60_000)).toBeNull();
    expect(router.pending).toBe(0);
  });

  it('a topic nobody answers, and an answerer that throws, count as empty answers', async () => {
    const { workers } = cluster(3);
    workers[1].answer('stale', () => {
      throw new Error('bug');
    });
    expect(await workers[0].ask('stale', {}, 60_000)).toBeNull();
    expect(await workers[0].ask('other-topic', {}, 60_000)).toBeNull();
  });

  it('a sibling that never answers: null after the bound, and its late answer is ignored', async () => {
    const { workers, router } = cluster(3, { silent: [3] });
    workers[1].answer('stale', () => null);
    workers[2].answer('stale', () => 'never delivered');
    expect(await workers[0].ask('stale', {}, 30)).toBeNull();
    await vi.waitFor(() => expect(router.pending).toBe(0));
  });

  it('a sibling that is gone counts as empty; one that holds the answer still wins', async () => {
    const { workers } = cluster(3, { gone: [2] });
    workers[2].answer('stale', () => ({ reply: 'abc' }));
    expect(await workers[0].ask('stale', {}, 60_000)).toEqual({ reply: 'abc' });
  });

  it('each of several questions in flight gets its own answer', async () => {
    const { workers } = cluster(2);
    workers[1].answer('echo', (p) => p);
    const answers = await Promise.all([1, 2, 3].map((n) => workers[0].ask('echo', n, 60_000)));
    expect(answers).toEqual([1, 2, 3]);
  });

  it('a worker still starting is asked nothing: no wait for it', async () => {
    const { workers, sent } = cluster(3, { starting: [3], silent: [3] });
    workers[1].answer('stale', () => null);
    expect(await workers[0].ask('stale', {}, 60_000)).toBeNull();
    expect(sent.filter((m) => m.mdns === 'sibling-ask')).toHaveLength(1);
  });

  it('a worker without siblings (the only worker running) gets null at once', async () => {
    const { workers, router } = cluster(1);
    expect(await workers[0].ask('stale', {}, 60_000)).toBeNull();
    expect(router.pending).toBe(0);
  });

  it('outside a multi-worker process: ask resolves null, tell does nothing', async () => {
    const alone = siblingsOver(null);
    alone.tell('notify', {});
    expect(await alone.ask('stale', {}, 60_000)).toBeNull();
  });
});
