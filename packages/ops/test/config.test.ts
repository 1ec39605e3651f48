import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseCliArgs, runCli } from '../src/cli.js';
import { formatPath } from '../src/config/format.js';
import {
  applyEnvOverrides,
  envParsers,
  loadConfigFile,
  parseConfigText,
} from '../src/config/load.js';
import { zoneSchema, zonesSchema } from '../src/config/server.js';
import { testSchema } from './fixtures/schema.js';

const dir = mkdtempSync(join(tmpdir(), 'ops-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const GOOD = `
cluster:
  name: east
zones:
  - name: example.test
    upstreams:
      - address: 10.0.0.1
      - address: "fd00::1"
        port: 5353
`;

function errorsOf(text: string, source = 'gateway.yaml'): string[] {
  const r = parseConfigText(text, testSchema, { source });
  expect(r.ok).toBe(false);
  return r.ok ? [] : r.errors;
}

describe('formatPath', () => {
  it('renders indexes, identifiers and odd keys', () => {
    expect(formatPath(['zones', 0, 'upstreams', 1, 'address'])).toBe(
      'zones[0].upstreams[1].address',
    );
    expect(formatPath(['records', 'a.example', 'ttl'])).toBe('records["a.example"].ttl');
    expect(formatPath([])).toBe('');
  });
});

describe('parseConfigText', () => {
  it('accepts a valid file and applies defaults', () => {
    const r = parseConfigText(GOOD, testSchema);
    expect(r).toEqual({
      ok: true,
      config: {
        cluster: { name: 'east', port: 53 },
        logLevel: 'info',
        zones: [
          {
            name: 'example.test',
            upstreams: [
              { address: '10.0.0.1', port: 53 },
              { address: 'fd00::1', port: 5353 },
            ],
          },
        ],
      },
    });
  });

  it('names file, line and column on a YAML syntax error', () => {
    const errors = errorsOf('cluster:\n  name: east\nzones: [1, 2\nlogLevel: info\n');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^gateway\.yaml:4:1: /);
    expect(errors[0]).not.toContain('\n');
  });

  it('rejects duplicate keys with their line', () => {
    const errors = errorsOf('cluster:\n  name: a\n  name: b\n');
    expect(errors[0]).toMatch(/^gateway\.yaml:3:3: Map keys must be unique/);
  });

  it('names the exact path of a wrong type', () => {
    const errors = errorsOf('cluster:\n  name: east\n  port: "fifty-three"\n');
    expect(errors).toEqual(['cluster.port: expected number, received string']);
  });

  it('names a missing required field', () => {
    expect(errorsOf('cluster: {}\n')).toEqual(['cluster.name: required (expected string)']);
  });

  it('rejects unknown keys by name, at any depth', () => {
    const errors = errorsOf(
      `${GOOD}clutser: x\n`.replace(
        '- address: 10.0.0.1',
        '- address: 10.0.0.1\n        weight: 3',
      ),
    );
    expect(errors).toEqual(['zones[0].upstreams[0].weight: unknown key', 'clutser: unknown key']);
  });

  it('names the exact path of a bad IP address', () => {
    const errors = errorsOf(GOOD.replace('"fd00::1"', '10.0.0.300'));
    expect(errors).toEqual(['zones[0].upstreams[1].address: expected an IPv4 or IPv6 address']);
  });

  it('reports every problem, not just the first', () => {
    const errors = errorsOf('cluster:\n  port: 70000\nlogLevel: loud\n');
    expect(errors).toEqual([
      'cluster.name: required (expected string)',
      'cluster.port: expected number to be <=65535',
      'logLevel: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    ]);
  });

  it('treats an empty file as an empty mapping', () => {
    expect(errorsOf('')).toEqual(['cluster: required (expected object)']);
  });

  it('reports a non-mapping top level at (root)', () => {
    expect(errorsOf('- a\n- b\n')).toEqual(['(root): expected object, received array']);
  });

  it('reports an alias to a missing anchor', () => {
    expect(errorsOf('cluster: *nope\n')).toEqual([
      'gateway.yaml: Unresolved alias (the anchor must be set before the alias): nope',
    ]);
  });

  it('explains a union whose branches are objects by the closest branch', () => {
    const schema = z.strictObject({
      source: z.union([
        z.strictObject({ kind: z.literal('static'), records: z.array(z.string()) }),
        z.strictObject({ kind: z.literal('kube'), kubeconfig: z.string() }),
      ]),
    });
    const r = parseConfigText('source:\n  kind: static\n  records: [1]\n', schema);
    expect(r.ok ? [] : r.errors).toEqual(['source.records[0]: expected string, received number']);
  });
});

describe('zonesSchema', () => {
  const zones = z.strictObject({ zones: zonesSchema(zoneSchema) });

  it('names the second entry of one zone, whatever its case or trailing dot', () => {
    const r = parseConfigText('zones: [{ name: a.tld }, { name: b.tld }, { name: A.tld. }]', zones);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toEqual(['zones[2].name: zone a.tld is listed twice']);
  });

  it('needs at least one zone and accepts distinct ones', () => {
    const empty = parseConfigText('zones: []', zones);
    expect(empty.ok ? [] : empty.errors).toEqual(['zones: at least one zone is required']);
    expect(parseConfigText('zones: [{ name: a.tld }, { name: b.a.tld }]', zones).ok).toBe(true);
  });
});

describe('applyEnvOverrides', () => {
  const overrides = [
    { env: 'GW_CLUSTER_NAME', path: ['cluster', 'name'] },
    { env: 'GW_PORT', path: ['cluster', 'port'], parse: envParsers.int },
    { env: 'GW_LEVEL', path: ['logLevel'] },
    { env: 'GW_ZONES', path: ['zones'], parse: envParsers.json },
  ];

  it('writes set variables at their paths without touching the input', () => {
    const raw = { cluster: { name: 'east' } };
    const r = applyEnvOverrides(
      raw,
      { GW_CLUSTER_NAME: 'west', GW_PORT: '5300', GW_LEVEL: '' },
      overrides,
    );
    expect(r).toEqual({ ok: true, config: { cluster: { name: 'west', port: 5300 } } });
    expect(raw).toEqual({ cluster: { name: 'east' } });
  });

  it('creates missing objects and arrays on the way', () => {
    const r = applyEnvOverrides({}, { X: 'a' }, [{ env: 'X', path: ['zones', 0, 'name'] }]);
    expect(r).toEqual({ ok: true, config: { zones: [{ name: 'a' }] } });
  });

  it('names the variable when its value does not parse', () => {
    const r = applyEnvOverrides({}, { GW_PORT: 'abc', GW_ZONES: '[' }, overrides);
    expect(r.ok).toBe(false);
    expect(r.ok ? [] : r.errors).toEqual([
      'env GW_PORT: expected an integer, got "abc"',
      expect.stringMatching(/^env GW_ZONES: expected JSON: /),
    ]);
  });

  it('feeds the schema: an override is validated like the file', () => {
    const r = parseConfigText(GOOD, testSchema, {
      envOverrides: overrides,
      env: { GW_CLUSTER_NAME: 'west', GW_LEVEL: 'shout' },
    });
    expect(r.ok ? [] : r.errors).toEqual([
      'logLevel: expected one of "fatal"|"error"|"warn"|"info"|"debug"|"trace"|"silent"',
    ]);
    const ok = parseConfigText(GOOD, testSchema, {
      envOverrides: overrides,
      env: { GW_CLUSTER_NAME: 'west', GW_LEVEL: 'debug' },
    });
    expect(ok.ok && ok.config.cluster.name).toBe('west');
    expect(ok.ok && ok.config.logLevel).toBe('debug');
  });

  it('parses booleans and lists', () => {
    expect(envParsers.bool('TRUE')).toBe(true);
    expect(envParsers.bool('0')).toBe(false);
    expect(() => envParsers.bool('maybe')).toThrow('expected true/false');
    expect(envParsers.list(' a, b ,,c ')).toEqual(['a', 'b', 'c']);
  });
});

describe('loadConfigFile', () => {
  it('loads a file and names it in syntax errors', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, GOOD);
    expect((await loadConfigFile(good, testSchema)).ok).toBe(true);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'cluster: [\n');
    const r = await loadConfigFile(bad, testSchema);
    expect(r.ok ? [] : r.errors[0]).toMatch(new RegExp(`^${bad}:2:1: `));
  });

  it('reports a missing file as an error value', async () => {
    const r = await loadConfigFile(join(dir, 'nope.yaml'), testSchema);
    expect(r).toEqual({
      ok: false,
      errors: [`${join(dir, 'nope.yaml')}: cannot read config: file not found`],
    });
  });
});

describe('command line', () => {
  it('parses the flags', () => {
    expect(parseCliArgs(['--config', 'a.yaml'])).toEqual({ kind: 'run', configPath: 'a.yaml' });
    expect(parseCliArgs(['--config=a.yaml', '--check-config'])).toEqual({
      kind: 'check',
      configPath: 'a.yaml',
    });
    expect(parseCliArgs(['-c', 'b.yaml'])).toEqual({ kind: 'run', configPath: 'b.yaml' });
    expect(parseCliArgs([], { defaultConfigPath: '/etc/x.yaml' })).toEqual({
      kind: 'run',
      configPath: '/etc/x.yaml',
    });
    expect(parseCliArgs(['--check-config', '-h'])).toEqual({ kind: 'help' });
    expect(parseCliArgs([])).toEqual({ kind: 'error', message: '--config FILE is required' });
    expect(parseCliArgs(['--config'])).toEqual({
      kind: 'error',
      message: '--config needs a file path',
    });
    expect(parseCliArgs(['--verbose', '-c', 'a'])).toEqual({
      kind: 'error',
      message: 'unknown argument: --verbose',
    });
  });

  async function cli(argv: string[], run: (ctx: any) => void | Promise<void> = () => {}) {
    const out: string[] = [];
    const err: string[] = [];
    let code: number | undefined;
    await runCli({
      name: 'test-app',
      schema: testSchema,
      argv,
      envOverrides: [{ env: 'T_NAME', path: ['cluster', 'name'] }],
      env: {},
      run,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
      exit: (c) => {
        code = c;
      },
    });
    return { code, out: out.join(''), err: err.join('') };
  }

  it('--check-config prints "config OK" and exits 0 for a good file', async () => {
    const good = join(dir, 'cli-good.yaml');
    writeFileSync(good, GOOD);
    const r = await cli(['--config', good, '--check-config']);
    expect(r).toEqual({ code: 0, out: `config OK: ${good}\n`, err: '' });
  });

  it('--check-config prints each error and exits 2 for a bad file', async () => {
    const bad = join(dir, 'cli-bad.yaml');
    writeFileSync(bad, `${GOOD}typo: 1\n`.replace('10.0.0.1', 'ten'));
    const r = await cli(['--config', bad, '--check-config']);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      `test-app: invalid config ${bad}:\n` +
        '  zones[0].upstreams[0].address: expected an IPv4 or IPv6 address\n' +
        '  typo: unknown key\n',
    );
  });

  it('runs with the config and a load() for reloads', async () => {
    const good = join(dir, 'cli-run.yaml');
    writeFileSync(good, GOOD);
    let seen: unknown;
    const r = await cli(['--config', good], async (ctx: any) => {
      seen = ctx.config.cluster.name;
      writeFileSync(good, GOOD.replace('east', 'north'));
      const again = await ctx.load();
      expect(again.ok && again.config.cluster.name).toBe('north');
    });
    expect(seen).toBe('east');
    expect(r.code).toBeUndefined();
  });

  it('--help lists options and env overrides', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--check-config');
    expect(r.out).toMatch(/T_NAME\s+cluster\.name/);
  });

  it('a usage error exits 2', async () => {
    const r = await cli(['--bogus']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown argument: --bogus');
  });
});
