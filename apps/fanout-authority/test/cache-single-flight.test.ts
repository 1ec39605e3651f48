import { describe, expect, it } from 'vitest';
import { SingleFlight } from '../src/cache/index.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('concurrent calls with one key share one piece of work', async () => {
    const sf = new SingleFlight<string>();
    const d = deferred<string>();
    let calls = 0;
    const work = () => {
      calls++;
      return d.promise;
    };
    const p1 = sf.run('a', work);
    const p2 = sf.run('a', work);
    expect(p1).toBe(p2);
    expect(sf.has('a')).toBe(true);
    d.resolve('answer');
    expect(await Promise.all([p1, p2])).toEqual(['answer', 'answer']);
    expect(calls).toBe(1);
  });

  it('different keys run separately', async () => {
    const sf = new SingleFlight<string>();
    const [a, b] = await Promise.all([sf.run('a', async () => 'A'), sf.run('b', async () => 'B')]);
    expect([a, b]).toEqual(['A', 'B']);
  });

  it('forgets the key once settled: the next call runs the work again', async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    const work = async () => ++calls;
    expect(await sf.run('a', work)).toBe(1);
    await Promise.resolve();
    expect(sf.size).toBe(0);
    expect(await sf.run('a', work)).toBe(2);
  });

  it('a failure is shared by the waiting callers but not remembered', async () => {
    const sf = new SingleFlight<string>();
    const d = deferred<string>();
    const p1 = sf.run('a', () => d.promise);
    const p2 = sf.run('a', () => Promise.resolve('never'));
    d.reject(new Error('all upstreams failed'));
    await expect(p1).rejects.toThrow('all upstreams failed');
    await expect(p2).rejects.toThrow('all upstreams failed');
    expect(sf.size).toBe(0);
    expect(await sf.run('a', async () => 'recovered')).toBe('recovered');
  });

  it('a work function that throws synchronously becomes a rejection, and is released', async () => {
    const sf = new SingleFlight<string>();
    const p = sf.run('a', () => {
      throw new Error('sync bug');
    });
    await expect(p).rejects.toThrow('sync bug');
    expect(sf.size).toBe(0);
  });
});
