import {
  AppProcess,
  appMain,
  assertBuilt,
  fixedListenPort,
  tempDir,
  yamlWithListenPort,
} from '@mdns/testkit';
import { dnsQuery } from '@mdns/transport';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { GATEWAY_MAIN } from './support/gateway.js';

// docs/behaviour.md, Operations: SIGTERM → lame duck (/ready 503, DNS still answered for
// shutdown.lameDuckSeconds) → drain → exit 0. Both apps, real processes, a real UDP client.

const AUTHORITY_MAIN = appMain('fanout-authority');
const ZONE = 'prod.example.tld';
const LAME_DUCK_SECONDS = 3;

const authorityYaml = (extra = '') =>
  [
    'zones:',
    `  - name: ${ZONE}`,
    // Nothing listens there: the apex SOA is answered locally, which is all this test asks.
    '    upstreams: [{ name: gone, address: 127.0.0.1, port: 9 }]',
    'listen: { host: 127.0.0.1, port: 0 }',
    'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
    'explain: { enabled: false }',
    `shutdown: { lameDuckSeconds: ${LAME_DUCK_SECONDS} }`,
    extra,
  ].join('\n');

const gatewayYaml = (extra = '') =>
  [
    'zones:',
    `  - name: ${ZONE}`,
    'listen: { host: 127.0.0.1, port: 0 }',
    'ops: { host: 127.0.0.1, metricsPort: 0, healthPort: 0, readyPort: 0 }',
    'sources: { kubernetes: { enabled: false } }',
    `shutdown: { lameDuckSeconds: ${LAME_DUCK_SECONDS} }`,
    extra,
  ].join('\n');

interface Outcome {
  exitCode: number | null;
  /** Queries sent after SIGTERM that completed before the "lame duck over" line was seen. */
  duringLameDuck: { answered: number; unanswered: number };
  readyDuringLameDuck: number[];
  healthDuringLameDuck: number[];
  logs: string[];
}

/**
 * Starts `main` with `yaml`, queries the zone's SOA over UDP one query at a time (a fresh
 * socket and ID each) while the process gets SIGTERM, and polls /ready and /health until
 * the process says its lame duck is over. The client is sequential, so at most one query
 * straddles that line; it is not counted either way.
 */
async function sigtermWhileQuerying(main: string, yaml: string): Promise<Outcome> {
  const dir = tempDir('lame-duck-');
  // Several workers on Bun need a fixed port (docs/behaviour.md, "Runtimes").
  const port = await fixedListenPort(yaml);
  const config = port === null ? yaml : yamlWithListenPort(yaml, port);
  // Resolves once it serves: with workers, once the primary says every worker is serving.
  const server = await AppProcess.start(main, dir.write('config.yaml', config), {
    timeoutMs: 20_000,
  });
  const seen = (msg: string) => server.logs.some((l) => l.msg === msg);
  const exited = () => !server.alive;
  try {
    const dnsPort = server.dnsPort;
    const http = async (path: string) => (await server.http(path)).status;
    // The authority turns ready once every upstream's start-up probe has answered or given
    // up (at most upstream.timeoutCeilingMs): wait for that, then SIGTERM must take it away.
    await vi.waitFor(async () => expect(await http('/ready')).toBe(200), {
      timeout: 10_000,
      interval: 50,
    });

    const query = async () => {
      try {
        const r = await dnsQuery({
          host: '127.0.0.1',
          port: dnsPort,
          name: ZONE,
          type: 'SOA',
          timeoutMs: 1000,
        });
        return r.rcode === 0;
      } catch {
        return false;
      }
    };
    const duringLameDuck = { answered: 0, unanswered: 0 };
    let termSent = false;
    const client = (async () => {
      // Bounded: ~20 s of queries at most, whatever the process does.
      for (let i = 0; i < 20_000 && !exited(); i++) {
        const sentDuring = termSent && !seen('lame duck over');
        const ok = await query();
        if (sentDuring && !seen('lame duck over')) {
          if (ok) duringLameDuck.answered++;
          else duringLameDuck.unanswered++;
        }
        if (seen('lame duck over')) break;
      }
    })();
    // Some queries answered before the signal: the client is running.
    await new Promise((r) => setTimeout(r, 200));
    server.signal('SIGTERM');
    termSent = true;
    const readyDuringLameDuck: number[] = [];
    const healthDuringLameDuck: number[] = [];
    for (let i = 0; i < 200 && !seen('lame duck over') && !exited(); i++) {
      const ready = await http('/ready').catch(() => -1);
      const health = await http('/health').catch(() => -1);
      // Only answers given before the lame duck ended count (the drain closes the ports).
      if (!seen('lame duck over')) {
        readyDuringLameDuck.push(ready);
        healthDuringLameDuck.push(health);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await client;
    const exitCode = await server.waitForExit(20_000);
    return {
      exitCode,
      duringLameDuck,
      readyDuringLameDuck,
      healthDuringLameDuck,
      logs: [...server.logs.map((l) => JSON.stringify(l)), ...server.stderr],
    };
  } finally {
    if (server.alive) server.signal('SIGKILL');
    dir.remove();
  }
}

function expectLameDuck(o: Outcome): void {
  const story = o.logs.join('\n');
  expect(story, 'the lame duck ended before the drain').toMatch(/lame duck over[\s\S]*drained/);
  expect(o.duringLameDuck.unanswered, story).toBe(0);
  expect(o.duringLameDuck.answered).toBeGreaterThan(10);
  // The first poll may still see 200 only if it raced the signal; every later one is 503.
  expect(o.readyDuringLameDuck.length).toBeGreaterThan(3);
  expect(o.readyDuringLameDuck.slice(1).every((s) => s === 503)).toBe(true);
  expect(o.healthDuringLameDuck.every((s) => s === 200)).toBe(true);
  expect(o.exitCode).toBe(0);
}

describe('SIGTERM: lame duck, then drain (authority)', () => {
  beforeAll(() => assertBuilt(AUTHORITY_MAIN));
  it('keeps answering while /ready is 503, then drains and exits 0', async () => {
    expectLameDuck(await sigtermWhileQuerying(AUTHORITY_MAIN, authorityYaml()));
  }, 60_000);
});

describe('SIGTERM: lame duck, then drain (gateway)', () => {
  beforeAll(() => assertBuilt(GATEWAY_MAIN));
  it('keeps answering while /ready is 503, then drains and exits 0', async () => {
    expectLameDuck(await sigtermWhileQuerying(GATEWAY_MAIN, gatewayYaml()));
  }, 60_000);

  it('with listen.workers 2: the primary forwards SIGTERM, every worker lame-ducks', async () => {
    const yaml = gatewayYaml().replace(
      'listen: { host: 127.0.0.1, port: 0 }',
      'listen: { host: 127.0.0.1, port: 0, workers: 2, workerSockets: shared }',
    );
    expectLameDuck(await sigtermWhileQuerying(GATEWAY_MAIN, yaml));
  }, 60_000);
});
