import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseConfigText } from '@mdns/ops';
import { DnsClient } from '@mdns/transport';
import { afterAll, describe, expect, it } from 'vitest';
import { buildRuntime } from '../src/config/runtime.js';
import { authorityConfigSchema } from '../src/config/schema.js';
import { mergeRecords } from '../src/fanout/fanout.js';

// The upstream socket pool, as main owns it; closed when the file's tests are done.
const client = new DnsClient({ sockets: 2 });
afterAll(() => client.close());

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const minimal =
  'zones:\n  - name: Prod.Example.TLD.\n    upstreams: [{ name: x, address: 10.0.0.1 }]\n';

describe('config schema', () => {
  it('fills every default', () => {
    const r = parseConfigText(minimal, authorityConfigSchema);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.zones[0]).toMatchObject({
      policy: 'first',
      upstreams: [{ name: 'x', port: 53, priority: 0 }],
    });
    expect(r.config.upstream).toEqual({
      timeoutFloorMs: 50,
      timeoutCeilingMs: 1000,
      initialTimeoutMs: 200,
      failureThreshold: 3,
      probeIntervalMs: 2000,
      allPolicyWaitMs: 300,
      sockets: 64,
      udpBackend: 'node',
      randomCase: true,
    });
    expect(r.config.listen).toMatchObject({
      port: 53,
      maxTcpConnectionsPerSource: 100,
      maxTcpQueuedBytes: 524288,
    });
    // Response rate limiting: off unless asked for.
    expect(r.config.rrl.responsesPerSecond).toBe(0);
    expect(r.config.ops).toMatchObject({
      metricsPort: 9153,
      healthPort: 8080,
      readyPort: 8181,
      readyDetail: false,
    });
    expect(r.config.explain).toEqual({ enabled: true, host: '127.0.0.1', port: 8053 });
    expect(r.config.metrics).toEqual({ corednsCompatible: false });
    expect(r.config.rateLimit).toEqual({ missesPerSecond: 500, burst: 1000, maxSources: 100_000 });
  });

  it.each([
    ['zones: []\n', 'zones'],
    [
      'zones:\n  - name: z\n    upstreams: [{ name: x, address: nope }]\n',
      'zones[0].upstreams[0].address',
    ],
    [
      'zones:\n  - name: z\n    policy: random\n    upstreams: [{ name: x, address: 10.0.0.1 }]\n',
      'zones[0].policy',
    ],
    [
      'zones:\n  - name: z\n    upstreams: [{ name: x, address: 10.0.0.1 }, { name: x, address: 10.0.0.2 }]\n',
      'zones[0].upstreams[1].name',
    ],
    [`${minimal}${minimal.slice('zones:\n'.length).toLowerCase()}`, 'zones[1].name'],
    [`${minimal}upstream: { timeoutFloorMs: 2000 }\n`, 'upstream.timeoutFloorMs'],
    [`${minimal}upstream: { timeoutFlor: 20 }\n`, 'upstream'],
    [`${minimal}rrl: { responsesPerSecond: -1 }\n`, 'rrl.responsesPerSecond'],
    [`${minimal}listen: { maxTcpQueuedBytes: 100 }\n`, 'listen.maxTcpQueuedBytes'],
    [`${minimal}explain: { host: 0.0.0.0 }\n`, 'explain.token'],
    [`${minimal}explain: { host: 10.0.0.5, token: short }\n`, 'explain.token'],
    [`${minimal}ops: { readyDetail: yes please }\n`, 'ops.readyDetail'],
    [`${minimal}rateLimit: { missesPerSecond: -1 }\n`, 'rateLimit.missesPerSecond'],
    [`${minimal}rateLimit: { burst: 0 }\n`, 'rateLimit.burst'],
    [`${minimal}rateLimit: { maxSources: 0 }\n`, 'rateLimit.maxSources'],
    [`${minimal}rateLimit: { perSecond: 5 }\n`, 'rateLimit'],
  ])('rejects %j naming %s', (text, field) => {
    const r = parseConfigText(text, authorityConfigSchema);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors.join('\n')).toContain(field);
  });

  it('explain off the loopback is fine with a token, or when explain is disabled', () => {
    for (const extra of [
      'explain: { host: 0.0.0.0, token: 0123456789abcdef0123 }\n',
      'explain: { host: 0.0.0.0, enabled: false }\n',
      'explain: { host: 127.0.0.2 }\n',
      'explain: { host: "::1" }\n',
    ]) {
      const r = parseConfigText(`${minimal}${extra}`, authorityConfigSchema);
      expect(r.ok, extra).toBe(true);
    }
  });

  it('a reload keeps the health of unchanged upstreams and not of changed ones', () => {
    const r = parseConfigText(
      'zones:\n  - name: z\n    upstreams: [{ name: x, address: 10.0.0.1 }, { name: y, address: 10.0.0.2 }]\n',
      authorityConfigSchema,
    );
    if (!r.ok) throw new Error(r.errors.join());
    const first = buildRuntime(r.config, 1, client);
    const next = structuredClone(r.config);
    next.zones[0].upstreams[1].port = 5353;
    const second = buildRuntime(next, 2, client, first);
    expect(second.upstreams[0].health).toBe(first.upstreams[0].health);
    expect(second.upstreams[1].health).not.toBe(first.upstreams[1].health);
    expect(second.zones.get('z')?.apex.soa.serial).toBe(2);
  });
});

describe('--check-config', () => {
  it('exits 0 for a good file and 2 naming the field for a bad one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fa-config-'));
    writeFileSync(join(dir, 'good.yaml'), minimal);
    writeFileSync(
      join(dir, 'bad.yaml'),
      'zones:\n  - name: z\n    upstreams: [{ name: x, address: 10.0.0.1, port: 70000 }]\n',
    );
    const run = promisify(execFile);
    const ok = await run(process.execPath, [
      MAIN,
      '--config',
      join(dir, 'good.yaml'),
      '--check-config',
    ]);
    expect(ok.stdout).toContain('config OK');
    const bad = await run(process.execPath, [
      MAIN,
      '--config',
      join(dir, 'bad.yaml'),
      '--check-config',
    ]).catch((e) => e);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('zones[0].upstreams[0].port');
  });
});

describe('policy all: merging RRsets', () => {
  it('deduplicates, keeps RRsets together, takes the lowest TTL per RRset', () => {
    const merged = mergeRecords([
      [
        { name: 'w.z', type: 'A', ttl: 60, data: '10.0.0.1' },
        { name: 'w.z', type: 'A', ttl: 60, data: '10.0.0.2' },
      ],
      [
        { name: 'W.Z', type: 'A', ttl: 30, data: '10.0.0.2' },
        { name: 'w.z', type: 'A', ttl: 30, data: '10.0.0.3' },
      ],
    ]);
    expect(merged.map((r) => (r as { data: string }).data)).toEqual([
      '10.0.0.1',
      '10.0.0.2',
      '10.0.0.3',
    ]);
    expect(merged.every((r) => (r as { ttl: number }).ttl === 30)).toBe(true);
  });
});
