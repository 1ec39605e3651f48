import { describe, expect, it } from 'vitest';
import { addRef, deleteRef, type RefSets, refsOf } from '../src/sources/ref-sets.js';

describe('RefSets (the ledger reverse maps: Service -> followers, Gateway -> routes)', () => {
  it('holds a lone ref as the string, a Set from the second one, and the string again at one', () => {
    const map: RefSets = new Map();
    addRef(map, 'ns/svc', 'Service ns/svc');
    addRef(map, 'ns/svc', 'Service ns/svc'); // again: still one
    expect(map.get('ns/svc')).toBe('Service ns/svc');
    expect([...refsOf(map, 'ns/svc')]).toEqual(['Service ns/svc']);

    addRef(map, 'ns/svc', 'Ingress ns/web');
    expect(map.get('ns/svc')).toBeInstanceOf(Set);
    expect([...refsOf(map, 'ns/svc')].sort()).toEqual(['Ingress ns/web', 'Service ns/svc']);

    deleteRef(map, 'ns/svc', 'Service ns/svc');
    expect(map.get('ns/svc')).toBe('Ingress ns/web');
    deleteRef(map, 'ns/svc', 'Service ns/other'); // not held: nothing changes
    expect(map.get('ns/svc')).toBe('Ingress ns/web');
    deleteRef(map, 'ns/svc', 'Ingress ns/web');
    expect(map.has('ns/svc')).toBe(false);
    expect([...refsOf(map, 'ns/svc')]).toEqual([]);
  });

  it('drops the key when the last of several refs goes', () => {
    const map: RefSets = new Map();
    for (const r of ['HTTPRoute a/x', 'HTTPRoute a/y', 'TLSRoute a/z']) addRef(map, 'a/gw', r);
    for (const r of ['HTTPRoute a/x', 'TLSRoute a/z', 'HTTPRoute a/y']) deleteRef(map, 'a/gw', r);
    expect(map.size).toBe(0);
  });
});
