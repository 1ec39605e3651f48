import { describe, expect, it } from 'vitest';
import {
  fixedListenPort,
  listenOf,
  workersListenPort,
  yamlWithListenPort,
  yamlWithWorkers,
} from '../src/workers.js';

const YAML = 'zones: []\nlisten: { host: 127.0.0.1, port: 0 }\nops: { port: 0 }\n';

describe('the listen port of a test server with workers', () => {
  it('listenOf reads port and workers from the flow-style line', () => {
    expect(listenOf(YAML)).toEqual({ port: 0, workers: 1 });
    expect(listenOf(yamlWithWorkers(YAML, 2))).toEqual({ port: 0, workers: 2 });
    expect(listenOf('listen: { host: 127.0.0.1, port: 1053, workers: 3 }')).toEqual({
      port: 1053,
      workers: 3,
    });
    expect(listenOf('zones: []\n')).toBeNull();
  });

  it('yamlWithListenPort changes the listen port 0 only', () => {
    expect(yamlWithListenPort(yamlWithWorkers(YAML, 2), 4242)).toBe(
      'zones: []\nlisten: { host: 127.0.0.1, port: 4242, workers: 2 }\nops: { port: 0 }\n',
    );
  });

  it('a fixed port only for several workers on Bun, port 0 otherwise', async () => {
    expect(await workersListenPort(1, 'bun')).toBe(0);
    expect(await workersListenPort(2, 'node')).toBe(0);
    expect(await workersListenPort(2, 'bun')).toBeGreaterThan(0);
    expect(await fixedListenPort(yamlWithWorkers(YAML, 2), 'bun')).toBeGreaterThan(0);
    expect(await fixedListenPort(yamlWithWorkers(YAML, 2), 'node')).toBeNull();
    expect(await fixedListenPort(YAML, 'bun')).toBeNull();
    const fixed = 'listen: { host: 127.0.0.1, port: 1053, workers: 2 }\n';
    expect(await fixedListenPort(fixed, 'bun')).toBeNull();
  });
});
