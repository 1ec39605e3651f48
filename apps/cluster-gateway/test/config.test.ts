import { parseConfigText } from '@mdns/ops';
import { assertBuilt, runApp, tempDir } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GATEWAY_ENV_OVERRIDES } from '../src/config/env.js';
import { gatewayConfigSchema } from '../src/config/schema.js';
import { MAIN } from './support/gateway.js';

const MINIMAL = 'zones:\n  - name: prod.example.tld\n';

function parse(text: string, env: Record<string, string> = {}) {
  return parseConfigText(text, gatewayConfigSchema, { envOverrides: GATEWAY_ENV_OVERRIDES, env });
}

describe('config schema', () => {
  it('a minimal file gets every default', () => {
    const r = parse(MINIMAL);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config).toMatchObject({
      ttl: 60,
      listen: {
        host: '0.0.0.0',
        port: 53,
        udpSize: 1232,
        maxTcpConnections: 1000,
        maxTcpConnectionsPerSource: 100,
        maxTcpQueuedBytes: 524288,
      },
      // Response rate limiting is off unless asked for.
      rrl: {
        responsesPerSecond: 0,
        window: 15,
        slip: 2,
        ipv4PrefixLength: 24,
        ipv6PrefixLength: 56,
      },
      ops: { metricsPort: 9153, healthPort: 8080, readyPort: 8181 },
      log: { level: 'info' },
      metrics: { corednsCompatible: false },
      notify: { targets: [], debounceMs: 250, timeoutMs: 2000, retries: 3 },
      sources: {
        resources: ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service', 'DNSEndpoint'],
      },
    });
  });

  it.each([
    ['no zones', '{}', 'zones'],
    ['empty zones', 'zones: []', 'zones'],
    ['bad zone name', 'zones: [{ name: "not a name" }]', 'zones[0].name'],
    ['duplicate zone', 'zones: [{ name: a.tld }, { name: A.tld. }]', 'zones[1].name'],
    ['unknown key', `${MINIMAL}bogus: 1`, 'bogus'],
    ['negative ttl', `${MINIMAL}ttl: -1`, 'ttl'],
    ['bad listen port', `${MINIMAL}listen: { port: 70000 }`, 'listen.port'],
    [
      'bad notify address',
      `${MINIMAL}notify: { targets: [{ address: nope }] }`,
      'notify.targets[0].address',
    ],
    ['notify zone not served', `${MINIMAL}notify: { zones: [other.tld] }`, 'notify.zones[0]'],
    ['bad log level', `${MINIMAL}log: { level: loud }`, 'log.level'],
    ['rrl slip out of range', `${MINIMAL}rrl: { responsesPerSecond: 5, slip: 11 }`, 'rrl.slip'],
    ['unknown rrl key', `${MINIMAL}rrl: { rate: 5 }`, 'rrl'],
    [
      'per-source TCP cap 0',
      `${MINIMAL}listen: { maxTcpConnectionsPerSource: 0 }`,
      'listen.maxTcpConnectionsPerSource',
    ],
    ['unknown resource kind', `${MINIMAL}sources: { resources: [Pod] }`, 'sources.resources[0]'],
    ['explain off loopback', `${MINIMAL}explain: { enabled: true, host: 0.0.0.0 }`, 'explain.host'],
    [
      'health require unknown',
      `${MINIMAL}sources: { health: { require: most } }`,
      'sources.health.require',
    ],
    [
      'ownership suffix outside the zones',
      `${MINIMAL}sources: { ownership: { namespaces: { team-a: [a.other.tld] } } }`,
      'sources.ownership.namespaces.team-a[0]',
    ],
    [
      'list page cap too small',
      `${MINIMAL}sources: { kubernetes: { maxPageBytes: 100 } }`,
      'sources.kubernetes.maxPageBytes',
    ],
    [
      'ownership conflicts unknown',
      `${MINIMAL}sources: { ownership: { conflicts: last-wins } }`,
      'sources.ownership.conflicts',
    ],
    [
      'externalIPs not a boolean',
      `${MINIMAL}sources: { services: { externalIPs: yes please } }`,
      'sources.services.externalIPs',
    ],
  ])('%s: the error names %s', (_label, text, field) => {
    const r = parse(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.join('\n')).toContain(field);
  });

  it('metrics.corednsCompatible: a boolean, and an error naming the key otherwise', () => {
    const on = parse(`${MINIMAL}metrics:\n  corednsCompatible: true\n`);
    expect(on.ok && on.config.metrics.corednsCompatible).toBe(true);
    const bad = parse(`${MINIMAL}metrics:\n  corednsCompatible: yes please\n`);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toContain('metrics.corednsCompatible');
    const typo = parse(`${MINIMAL}metrics:\n  corednsCompatibel: true\n`);
    expect(typo.ok).toBe(false);
  });

  it('env overrides win over the file', () => {
    const r = parse(`${MINIMAL}listen: { port: 53 }`, {
      MDNS_LISTEN_PORT: '5353',
      MDNS_LOG_LEVEL: 'debug',
      MDNS_KUBECONFIG: '/tmp/kc.yaml',
    });
    expect(r.ok && r.config.listen.port).toBe(5353);
    expect(r.ok && r.config.log.level).toBe('debug');
    expect(r.ok && r.config.sources.kubernetes.kubeconfig).toBe('/tmp/kc.yaml');
  });

  it('a bad env value names the variable', () => {
    const r = parse(MINIMAL, { MDNS_LISTEN_PORT: 'abc' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.join()).toContain('MDNS_LISTEN_PORT');
  });
});

describe('--check-config (real process)', () => {
  beforeAll(() => assertBuilt(MAIN));
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('a good file: exit 0', async () => {
    const file = dir.write('good.yaml', MINIMAL);
    const r = await runApp(MAIN, ['--check-config', '--config', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('config OK');
  });

  it.each([
    ['bad zone', 'zones: [{ name: "bad name!" }]', 'zones[0].name'],
    ['unknown key', `${MINIMAL}listen: { prot: 53 }`, 'listen'],
    ['yaml syntax', 'zones: [', 'broken.yaml'],
  ])('%s: exit 2', async (_label, text, field) => {
    const file = dir.write('broken.yaml', text);
    const r = await runApp(MAIN, ['--check-config', '--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(field);
  });

  it('a missing file: exit 2 naming the path', async () => {
    const r = await runApp(MAIN, ['--check-config', '--config', `${dir.path}/missing.yaml`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('missing.yaml');
  });

  it('a bad config at start (not only with --check-config): exit 2', async () => {
    const file = dir.write('start.yaml', 'zones: []');
    const r = await runApp(MAIN, ['--config', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('zones');
  });
});
