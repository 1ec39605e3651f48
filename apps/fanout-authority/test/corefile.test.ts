import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfigText, parseCorefile, renderConversion } from '@mdns/ops';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type AuthorityCorefileOptions,
  convertAuthorityCorefile,
  parseFanoutTarget,
  resolvConfNameservers,
} from '../src/config/corefile.js';
import { authorityConfigSchema } from '../src/config/schema.js';

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/corefile/${name}`, import.meta.url));

/** Corefile text -> rendered YAML -> the authority's own config loader. */
function convert(text: string, options: AuthorityCorefileOptions = {}) {
  const parsed = parseCorefile(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const converted = convertAuthorityCorefile(parsed.blocks, options);
  if (!converted.ok) return { error: converted.error };
  const yaml = renderConversion(converted.conversion, ['test']);
  const loaded = parseConfigText(yaml, authorityConfigSchema);
  if (!loaded.ok) throw new Error(`${loaded.errors.join('\n')}\n${yaml}`);
  return { yaml, config: loaded.config, notes: converted.conversion.notes };
}

const fromFixture = (name: string, options: AuthorityCorefileOptions = {}) =>
  convert(readFileSync(fixture(name), 'utf8'), options);

const ROOT = { zone: 'prod.example.tld' };

describe('convert-corefile (networkservicemesh/fanout README examples)', () => {
  it('1: the server block zone, one upstream per port, policy first', () => {
    const r = fromFixture('fanout-readme-1-example-org.Corefile');
    expect(r.config?.zones).toHaveLength(1);
    const zone = r.config?.zones[0];
    expect(zone?.name).toBe('example.org');
    expect(zone?.policy).toBe('first');
    expect(zone?.upstreams.map((u) => [u.name, u.address, u.port])).toEqual([
      ['127.0.0.1-9005', '127.0.0.1', 9005],
      ['127.0.0.1-9006', '127.0.0.1', 9006],
      ['127.0.0.1-9007', '127.0.0.1', 9007],
      ['127.0.0.1-9008', '127.0.0.1', 9008],
    ]);
    expect(r.notes).toEqual([]);
  });

  it('2: the root needs --zone; IPv6 in brackets; network is a comment', () => {
    const text = readFileSync(fixture('fanout-readme-2-tcp-ipv6.Corefile'), 'utf8');
    expect(convert(text)).toEqual({
      error:
        'line 3: fanout serves the root ".", the authority serves named zones: give --zone NAME',
    });
    const r = convert(text, ROOT);
    expect(r.config?.zones[0].name).toBe('prod.example.tld');
    expect(r.config?.zones[0].upstreams.map((u) => [u.address, u.port])).toEqual([
      ['10.0.0.10', 53],
      ['10.0.0.11', 1053],
      ['2003::1', 53],
    ]);
    expect(r.yaml).toContain('#   line 4: `network TCP` has no equivalent');
  });

  it('3: except is a comment (only the zones are served)', () => {
    const r = fromFixture('fanout-readme-3-except.Corefile', ROOT);
    expect(r.config?.zones[0].upstreams.map((u) => u.port)).toEqual([1234]);
    expect(r.yaml).toContain('`except example.org` has no equivalent');
  });

  it('4: /etc/resolv.conf: its nameservers', () => {
    const resolvConf = 'search x\nnameserver 192.0.2.53\nnameserver ::1\noptions ndots:5\n';
    const r = fromFixture('fanout-readme-4-resolv-conf.Corefile', { ...ROOT, resolvConf });
    expect(r.config?.zones[0].upstreams.map((u) => [u.name, u.address])).toEqual([
      ['192.0.2.53-53', '192.0.2.53'],
      ['ip6---1-53', '::1'],
    ]);
  });

  it('5: DNS over TLS cannot be converted (plain DNS only)', () => {
    expect(fromFixture('fanout-readme-5-tls.Corefile', ROOT)).toEqual({
      error:
        'line 3: upstream "tls://9.9.9.9" is not an address[:port] the authority can ask (plain DNS only: no tls://, no host names)',
    });
  });

  it.each([
    ['fanout-readme-6-worker-count.Corefile', ['worker-count']],
    ['fanout-readme-7-race.Corefile', ['race']],
    [
      'fanout-readme-8-weighted-random.Corefile',
      ['policy', 'weighted-random-server-count', 'weighted-random-load-factor'],
    ],
    ['fanout-readme-9-sequential.Corefile', ['policy']],
  ])('%s: five/three upstreams, %j commented', (name, commented) => {
    const r = fromFixture(name, ROOT);
    expect(r.config?.zones[0].upstreams.length).toBeGreaterThanOrEqual(3);
    expect(r.notes?.map((n) => /`([^`\s]+)/.exec(n)?.[1])).toEqual(commented);
  });
});

describe('convert-corefile: cache and the ops plugins', () => {
  it('cache options map to cache.*, ops plugins to ops.*, the rest is commented', () => {
    const r = convert(
      [
        'prod.example.tld:5353 {',
        '  fanout . 10.0.0.1 10.0.0.2:1053 {',
        '    attempt-count 5',
        '    timeout 10s',
        '  }',
        '  cache 600 {',
        '    success 5000 300 5',
        '    denial 2000 60',
        '    prefetch 10 1m 20%',
        '    serve_stale 2h',
        '  }',
        '  prometheus :9253',
        '  health 127.0.0.1:8081 {',
        '    lameduck 10s',
        '  }',
        '  ready :8282',
        '  reload',
        '}',
      ].join('\n'),
    );
    const config = r.config;
    expect(config?.listen.port).toBe(5353);
    expect(config?.upstream.failureThreshold).toBe(5);
    expect(config?.cache).toMatchObject({
      maxEntries: 5000,
      maxTtl: 300,
      minTtl: 5,
      negativeMaxTtl: 60,
      maxStaleSeconds: 7200,
      prefetch: { enabled: true, minHits: 10, thresholdPercent: 20 },
    });
    expect(config?.ops).toMatchObject({ metricsPort: 9253, healthPort: 8081, readyPort: 8282 });
    expect(config?.shutdown.lameDuckSeconds).toBe(10);
    expect(r.notes?.map((n) => /`([^`\s]+)/.exec(n)?.[1])).toEqual([
      'timeout',
      'denial',
      'prefetch', // its DURATION
      'health',
      'reload',
    ]);
  });

  it('cache servfail / disable / keepttl, rrl and bind: mapped or a comment each', () => {
    const r = convert(
      [
        'prod.example.tld {',
        '  bind 127.0.0.2',
        '  fanout . 10.0.0.1',
        '  cache {',
        '    servfail 5s',
        '    disable denial',
        '    keepttl',
        '  }',
        '  rrl {',
        '    responses-per-second 50',
        '    errors-per-second 10',
        '    requests-per-second 100',
        '    referrals-per-second 5',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(r.config?.listen.host).toBe('127.0.0.2');
    expect(r.config?.rrl).toMatchObject({ responsesPerSecond: 50, errorsPerSecond: 10 });
    expect(r.config?.cache.enabled).toBe(true);
    expect(r.notes?.map((n) => /`([^`\s]+)/.exec(n)?.[1])).toEqual([
      'servfail',
      'disable',
      'keepttl',
      'requests-per-second',
      'referrals-per-second',
    ]);
  });

  it('two server blocks: two zones', () => {
    const r = convert('a.example {\n  fanout . 10.0.0.1\n}\nb.example {\n  fanout . 10.0.0.2\n}\n');
    expect(r.config?.zones.map((z) => z.name)).toEqual(['a.example', 'b.example']);
  });
});

describe('fanout targets', () => {
  it.each([
    ['10.0.0.1', { address: '10.0.0.1', port: 53 }],
    ['10.0.0.1:1053', { address: '10.0.0.1', port: 1053 }],
    ['dns://10.0.0.1:5300', { address: '10.0.0.1', port: 5300 }],
    ['[2001:db8::1]:53', { address: '2001:db8::1', port: 53 }],
    ['2001:db8::1', { address: '2001:db8::1', port: 53 }],
    ['gw.example:53', null],
    ['10.0.0.1:0', null],
    ['tls://9.9.9.9', null],
  ])('%s', (text, expected) => {
    expect(parseFanoutTarget(text)).toEqual(expected);
  });

  it('resolv.conf nameservers', () => {
    expect(
      resolvConfNameservers('# c\nnameserver 10.0.0.1\nnameserver bad\n nameserver ::1\n'),
    ).toEqual(['10.0.0.1', '::1']);
  });
});

describe('fanout-authority convert-corefile (real process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fa-corefile-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      execFile(process.execPath, [MAIN, ...args], { timeout: 20_000 }, (e, out, err) =>
        resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out, err }),
      );
    });

  it('--zone for the root; the output passes --check-config', async () => {
    const r = await run([
      'convert-corefile',
      '--zone',
      'prod.example.tld',
      fixture('fanout-readme-7-race.Corefile'),
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    writeFileSync(join(dir, 'converted.yaml'), r.out);
    const check = await run(['--check-config', '--config', join(dir, 'converted.yaml')]);
    expect(check.out).toContain('config OK');
    expect(check.code).toBe(0);
  });

  it('without --zone for the root: exit 2 saying so', async () => {
    const r = await run(['convert-corefile', fixture('fanout-readme-7-race.Corefile')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('give --zone NAME');
  });
});
