import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
      done();
    },
  });
  return { lines, destination: stream as unknown as { write(s: string): void } };
}

describe('createLogger', () => {
  it('writes one JSON object per event with level name, ISO time and name', () => {
    const { lines, destination } = capture();
    const log = createLogger({ name: 'gw', destination, env: {} });
    log.info({ zone: 'example.test' }, 'zone loaded');
    log.debug('hidden at info');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'info',
      name: 'gw',
      zone: 'example.test',
      msg: 'zone loaded',
    });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('takes LOG_LEVEL from the environment; an explicit level wins', () => {
    const a = capture();
    createLogger({ name: 'x', destination: a.destination, env: { LOG_LEVEL: 'DEBUG' } }).debug('d');
    expect(a.lines).toHaveLength(1);
    const b = capture();
    createLogger({
      name: 'x',
      level: 'warn',
      destination: b.destination,
      env: { LOG_LEVEL: 'debug' },
    }).info('i');
    expect(b.lines).toHaveLength(0);
  });

  it('warns about an unknown LOG_LEVEL and uses info', () => {
    const { lines, destination } = capture();
    createLogger({ name: 'x', destination, env: { LOG_LEVEL: 'loud' } }).info('after');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      ['warn', 'unknown LOG_LEVEL, using info'],
      ['info', 'after'],
    ]);
  });
});
