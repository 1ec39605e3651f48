import { describe, expect, it } from 'vitest';
import { GatewayIndex } from '../src/index/gateway-index.js';
import { HeldNames } from '../src/sources/health/held-names.js';
import type { Claim } from '../src/sources/types.js';

// A name whose every claimant is held back for health exists without data: NODATA, never
// NXDOMAIN (which would also deny every name below it, RFC 8020).
const ZONE = 'zone';

function claim(name: string, a: string[] = []): Claim {
  return { name, a, aaaa: [], txt: [], ttl: 60 };
}

function setup() {
  const index = new GatewayIndex(['Ingress', 'Service']);
  let notified = 0;
  const held = new HeldNames(
    (n, z) => index.lookup(n, z),
    () => notified++,
  );
  const sink = held.sink(index);
  return { index, held, sink, notified: () => notified };
}

describe('names held back for health', () => {
  it('the held name and the names above it answer NODATA; siblings stay NXDOMAIN', () => {
    const { held, sink } = setup();
    sink.replaceObject('Service', 'shop/web', [claim('web.shop.zone')]);
    expect(held.lookup('web.shop.zone', ZONE).type).toBe('empty');
    expect(held.lookup('shop.zone', ZONE).type).toBe('empty');
    expect(held.lookup('other.shop.zone', ZONE).type).toBe('nxdomain');
    expect(held.lookup('below.web.shop.zone', ZONE).type).toBe('nxdomain');
  });

  it('a healthy claimant of the same name answers; removing the held object restores NXDOMAIN', () => {
    const { held, sink, notified } = setup();
    sink.replaceObject('Ingress', 'shop/web', [claim('web.zone')]);
    sink.replaceObject('Service', 'shop/web', [claim('web.zone', ['192.0.2.1'])]);
    expect(held.lookup('web.zone', ZONE).type).toBe('records');
    sink.replaceObject('Service', 'shop/web', []);
    expect(held.lookup('web.zone', ZONE).type).toBe('empty');
    const before = held.generation;
    sink.replaceObject('Ingress', 'shop/web', []);
    expect(held.lookup('web.zone', ZONE).type).toBe('nxdomain');
    // The index did not change its answer here (no records before or after): the held
    // names did, and that is what drops stored answers and sends NOTIFY.
    expect(held.generation).toBeGreaterThan(before);
    expect(notified()).toBe(2);
  });

  it('a held wildcard covers names below it, up to a closer encloser that exists', () => {
    const { held, sink } = setup();
    sink.replaceObject('Ingress', 'apps/wild', [claim('*.apps.zone')]);
    sink.replaceObject('Service', 'apps/real', [claim('x.apps.zone', ['192.0.2.2'])]);
    expect(held.lookup('a.apps.zone', ZONE).type).toBe('empty');
    expect(held.lookup('b.c.apps.zone', ZONE).type).toBe('empty');
    // x.apps.zone exists: it is the closest encloser of y.x.apps.zone, the wildcard does not apply.
    expect(held.lookup('y.x.apps.zone', ZONE).type).toBe('nxdomain');
  });

  it('a relist forgets held objects no longer there', () => {
    const { held, sink } = setup();
    sink.replaceKind('Service', new Map([['shop/web', [claim('web.zone')]]]));
    expect(held.lookup('web.zone', ZONE).type).toBe('empty');
    sink.replaceKind('Service', new Map());
    expect(held.lookup('web.zone', ZONE).type).toBe('nxdomain');
    expect(held.size).toBe(0);
  });
});
