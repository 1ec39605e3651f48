import { describe, expect, it } from 'vitest';
import { FeedHub, type WorkerFeeds, workerFeedsOver } from '../src/workers/feed.js';
import type { ToPrimary, ToWorker } from '../src/workers/ipc.js';

/**
 * A primary's hub and workers in memory; messages cross on a later turn of the event loop,
 * as IPC does. A worker `gone` throws on send (dead); `restart` gives it a fresh channel.
 */
function cluster(n: number) {
  interface Peer {
    index: number;
    deliver: ((m: unknown) => void) | null;
    gone: boolean;
  }
  const toPrimary: [number, ToPrimary][] = [];
  const hub = new FeedHub<Peer>((peer, message: ToWorker) => {
    if (peer.gone) throw new Error('gone');
    setImmediate(() => peer.deliver?.(message));
  });
  const peers: Peer[] = Array.from({ length: n }, (_, i) => ({
    index: i + 1,
    deliver: null,
    gone: false,
  }));
  const connect = (peer: Peer): WorkerFeeds =>
    workerFeedsOver({
      send: (m) =>
        setImmediate(() => {
          toPrimary.push([peer.index, m]);
          hub.route(peer, m);
        }),
      onMessage: (listener) => {
        peer.deliver = listener;
      },
    });
  const workers = peers.map(connect);
  const restart = (i: number) => {
    hub.forget(peers[i]);
    peers[i].deliver = null;
    return connect(peers[i]);
  };
  return { hub, peers, workers, restart, toPrimary };
}

const turns = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('feeds: state the primary owns, followed by every worker', () => {
  it('a worker gets the snapshot when it subscribes, then each change, removals as null', async () => {
    const { hub, workers } = cluster(2);
    hub.publish('copies', 'a', { serial: 1 });
    hub.publish('copies', 'b', { serial: 7 });
    const seen: [number, string, unknown][] = [];
    workers.forEach((w, i) => {
      w.follow('copies', (key, value) => seen.push([i + 1, key, value]));
    });
    await turns();
    hub.publish('copies', 'a', { serial: 2 });
    hub.publish('copies', 'b', null);
    hub.publish('other', 'x', 1);
    await turns();
    for (const worker of [1, 2]) {
      expect(seen.filter(([w]) => w === worker).map(([, k, v]) => [k, v])).toEqual([
        ['a', { serial: 1 }],
        ['b', { serial: 7 }],
        ['a', { serial: 2 }],
        ['b', null],
      ]);
    }
    expect(workers[0].get('copies', 'a')).toEqual({ serial: 2 });
    expect(workers[0].get('copies', 'b')).toBeUndefined();
    expect(workers[0].get('other', 'x')).toBeUndefined();
  });

  it('a restarted worker gets what the primary holds now, not the history', async () => {
    const { hub, workers, restart } = cluster(2);
    workers[1].follow('copies', () => {});
    await turns();
    hub.publish('copies', 'a', { serial: 1 });
    hub.publish('copies', 'a', { serial: 2 });
    hub.publish('copies', 'gone', { serial: 3 });
    hub.publish('copies', 'gone', null);
    await turns();
    const again = restart(1);
    const seen: [string, unknown][] = [];
    again.follow('copies', (key, value) => seen.push([key, value]));
    await turns();
    expect(seen).toEqual([['a', { serial: 2 }]]);
  });

  it('a dead worker does not stop the others getting the change', async () => {
    const { hub, peers, workers } = cluster(3);
    const seen: number[] = [];
    workers.forEach((w, i) => {
      w.follow('copies', () => seen.push(i + 1));
    });
    await turns();
    peers[1].gone = true;
    hub.publish('copies', 'a', 1);
    await turns();
    expect(seen.sort()).toEqual([1, 3]);
  });

  it("a worker's message reaches the primary's handler for its topic; a throwing one is reported", async () => {
    const got: unknown[] = [];
    const errors: string[] = [];
    const hub = new FeedHub<number>(
      () => {},
      (_err, topic) => errors.push(topic),
    );
    hub.onWorker('notify', (payload) => got.push(payload));
    hub.onWorker('bad', () => {
      throw new Error('boom');
    });
    expect(hub.route(1, { mdns: 'to-primary', topic: 'notify', payload: { serial: 5 } })).toBe(
      true,
    );
    expect(hub.route(1, { mdns: 'to-primary', topic: 'bad', payload: null })).toBe(true);
    expect(hub.route(1, { mdns: 'to-primary', topic: 'nobody', payload: null })).toBe(true);
    expect(hub.route(1, { mdns: 'listening' })).toBe(false);
    expect(got).toEqual([{ serial: 5 }]);
    expect(errors).toEqual(['bad']);
  });
});
