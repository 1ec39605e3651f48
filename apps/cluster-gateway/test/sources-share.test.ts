import { FeedHub, workerFeedsOver } from '@mdns/ops';
import { describe, expect, it } from 'vitest';
import { GatewayIndex } from '../src/index/gateway-index.js';
import { followClaims, publishingSink, teeSink } from '../src/sources/share.js';
import type { Claim } from '../src/sources/types.js';

// listen.workers > 1: the primary's sources feed its index and the workers' (sources/share.ts).
// The feed crosses as JSON, on a later turn, as over IPC; each worker's index must end equal
// to an index the same calls were made on directly, whenever the worker (re)subscribed.

function claim(name: string, a: string[], namespace: string, createdAt: number): Claim {
  return { name, a, aaaa: [], txt: [], ttl: 60, origin: { namespace, createdAt } };
}

function setup() {
  const published: string[] = [];
  const hub = new FeedHub<(m: unknown) => void>((deliver, message) => {
    const json = JSON.stringify(message);
    setImmediate(() => deliver(JSON.parse(json)));
  });
  const direct = new GatewayIndex(['Ingress', 'Service'], 'first-claimant');
  const sink = teeSink(
    direct,
    publishingSink({
      publish: (topic, key, value) => {
        published.push(`${topic} ${key}`);
        hub.publish(topic, key, value);
      },
    }),
  );
  const worker = () => {
    const index = new GatewayIndex(['Ingress', 'Service'], 'first-claimant');
    let deliver: (m: unknown) => void = () => {};
    const feeds = workerFeedsOver({
      send: (m) => setImmediate(() => hub.route(deliver, m)),
      onMessage: (listener) => {
        deliver = listener;
      },
    });
    followClaims(feeds, index);
    return index;
  };
  return { sink, direct, worker, published };
}

const turns = async (n = 10) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

const view = (index: GatewayIndex) => ({
  names: [...index.namesWithRecords()],
  contested: index.contested,
  states: [...index.kindStates()],
  web: index.lookup('web.zone', 'zone'),
});

describe('the primary publishes claims, the workers index them', () => {
  it('a worker from the start and one that joins late hold the index the sources built', async () => {
    const { sink, direct, worker } = setup();
    const early = worker();
    await turns();
    sink.replaceKind(
      'Ingress',
      new Map([
        ['a/web', [claim('web.zone', ['10.0.0.1'], 'a', 1000)]],
        // Unknown creation time (Infinity, not JSON): it must stay the youngest claimant.
        ['b/web', [claim('web.zone', ['10.0.0.2'], 'b', Number.POSITIVE_INFINITY)]],
        ['a/api', [claim('api.zone', ['10.0.0.3'], 'a', 1000)]],
      ]),
    );
    sink.setKindState('Ingress', { phase: 'synced', objects: 3, lastEventAt: 1 });
    sink.replaceObject('Service', 'a/svc', [claim('svc.zone', ['10.0.1.1'], 'a', 5)]);
    sink.replaceObject('Ingress', 'a/api', []);
    await turns();
    const late = worker();
    await turns();
    expect(direct.contested).toBe(1);
    expect(view(early)).toEqual(view(direct));
    expect(view(late)).toEqual(view(direct));
  });

  it('a re-list sends only the objects that changed, and the removed ones', async () => {
    const { sink, direct, worker, published } = setup();
    const w = worker();
    await turns();
    const web = [claim('web.zone', ['10.0.0.1'], 'a', 1)];
    sink.replaceKind(
      'Ingress',
      new Map([
        ['a/web', web],
        ['a/old', [claim('old.zone', ['10.0.0.9'], 'a', 1)]],
      ]),
    );
    published.length = 0;
    sink.replaceKind(
      'Ingress',
      new Map([
        ['a/web', [claim('web.zone', ['10.0.0.1'], 'a', 1)]],
        ['a/new', [claim('new.zone', ['10.0.0.5'], 'a', 1)]],
      ]),
    );
    expect(published.sort()).toEqual([
      'gateway-claims Ingress a/new',
      'gateway-claims Ingress a/old',
    ]);
    await turns();
    expect(view(w)).toEqual(view(direct));
    expect(w.lookup('old.zone', 'zone').type).toBe('nxdomain');
  });
});
