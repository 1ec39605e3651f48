import { readFileSync } from 'node:fs';
import { parseConfigText, parseCorefile, renderConversion } from '@mdns/ops';
import { assertBuilt, runApp, tempDir } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertGatewayCorefile } from '../src/config/corefile.js';
import { gatewayConfigSchema } from '../src/config/schema.js';
import { MAIN } from './support/gateway.js';

const FIXTURES = new URL('./fixtures/corefile/', import.meta.url);
const fixture = (name: string) => new URL(name, FIXTURES).pathname;

/** Corefile text -> rendered YAML -> the gateway's own config loader. */
function convert(text: string) {
  const parsed = parseCorefile(text);
  if (!parsed.ok) throw new Error(parsed.error);
  const converted = convertGatewayCorefile(parsed.blocks);
  if (!converted.ok) return { error: converted.error };
  const yaml = renderConversion(converted.conversion, ['test']);
  const loaded = parseConfigText(yaml, gatewayConfigSchema);
  if (!loaded.ok) throw new Error(`${loaded.errors.join('\n')}\n${yaml}`);
  return { yaml, config: loaded.config, notes: converted.conversion.notes };
}

const fromFixture = (name: string) => convert(readFileSync(fixture(name), 'utf8'));

describe('convert-corefile (k8s_gateway README examples)', () => {
  it('ori-edge example: the zone, and k8s_gateway default kinds Ingress + Service', () => {
    const r = fromFixture('k8s-gateway-ori-edge-example.Corefile');
    expect(r.config?.zones.map((z) => z.name)).toEqual(['example.com']);
    expect(r.config?.sources.resources).toEqual(['Ingress', 'Service']);
    expect(r.config?.ttl).toBe(60);
    // Service publishing differs: externalIPs are off here, and the output says so.
    expect(r.config?.sources.services.externalIPs).toBe(false);
    expect(r.yaml).toMatch(/# .*spec\.externalIPs.*sources\.services\.externalIPs: true/);
  });

  it('ori-edge options: resources and ttl', () => {
    const r = fromFixture('k8s-gateway-ori-edge-options.Corefile');
    expect(r.config?.sources.resources).toEqual(['Ingress']);
    expect(r.config?.ttl).toBe(10);
    // The one comment: k8s_gateway's cross-namespace merge is not the default here.
    expect(r.notes).toEqual([
      expect.stringMatching(/^line 4: k8s_gateway merges .* set conflicts: merge/),
    ]);
    expect(r.config?.sources.ownership.conflicts).toBe('first-claimant');
  });

  it('fork example: port, apex + secondary as nameservers, kubeconfig', () => {
    const r = fromFixture('k8s-gateway-fork-example.Corefile');
    expect(r.config?.listen.port).toBe(1053);
    expect(r.config?.ttl).toBe(30);
    expect(r.config?.zones[0].nameservers.map((n) => n.name)).toEqual([
      'exdns-1-k8s-gateway.kube-system.example.com',
      'exdns-2-k8s-gateway.kube-system.example.com',
    ]);
    expect(r.config?.sources.kubernetes.kubeconfig).toBe('/.kube/config');
    expect(r.config?.sources.kubernetes.context).toBeNull();
  });

  it('fork zone-transfer example: `to` addresses get NOTIFY, the transfer itself is a comment', () => {
    const r = fromFixture('k8s-gateway-fork-transfer.Corefile');
    expect(r.config?.sources.resources).toEqual(['Ingress', 'Service']);
    expect(r.config?.notify.targets).toEqual([{ address: '192.0.2.1', port: 53 }]);
    expect(r.yaml).toContain('#   line 9: transfer to *: no NOTIFY target');
    expect(r.yaml).toContain('#   line 8: `transfer` has no equivalent: zone transfers');
  });

  it('rrl, bind and transfer targets with ports: mapped; what has no equivalent is commented', () => {
    const r = convert(
      [
        'example.com:1053 {',
        '  bind 10.0.0.5',
        '  k8s_gateway example.com',
        '  rrl example.com {',
        '    responses-per-second 20',
        '    errors-per-second 8',
        '    nxdomains-per-second 5',
        '    nodata-per-second 20',
        '    window 10',
        '    slip-ratio 3',
        '    ipv4-prefix-length 22',
        '    ipv6-prefix-length 48',
        '    max-table-size 5000',
        '    report-only',
        '  }',
        '  transfer {',
        '    to 192.0.2.10:5300 [2001:db8::53]:53 2001:db8::54',
        '  }',
        '}',
      ].join('\n'),
    );
    expect(r.config?.listen).toMatchObject({ host: '10.0.0.5', port: 1053 });
    expect(r.config?.rrl).toMatchObject({
      responsesPerSecond: 20,
      errorsPerSecond: 5,
      window: 10,
      slip: 3,
      ipv4PrefixLength: 22,
      ipv6PrefixLength: 48,
      tableSize: 5000,
    });
    expect(r.config?.notify.targets).toEqual([
      { address: '192.0.2.10', port: 5300 },
      { address: '2001:db8::53', port: 53 },
      { address: '2001:db8::54', port: 53 },
    ]);
    const commented = r.notes?.map((n) => /^line (\d+): `?([^`\s]+)/.exec(n)?.slice(1).join(' '));
    // In Corefile order.
    expect(commented).toEqual([
      '3 k8s_gateway', // cross-namespace merge
      '3 k8s_gateway', // externalIPs
      '4 rrl', // its zones
      '8 nodata-per-second',
      '14 report-only',
      '4 rrl', // errors and nxdomains share one allowance
      '16 transfer',
    ]);
  });

  it('bind with an interface name or several addresses is a comment', () => {
    const r = convert('example.com {\n  bind eth0 lo\n  k8s_gateway\n}\n');
    expect(r.config?.listen.host).toBe('0.0.0.0');
    expect(r.notes?.[0]).toMatch(/^line 2: `bind eth0 lo` has no equivalent/);
  });

  it('a typical deployment: every plugin converted or commented', () => {
    const r = fromFixture('k8s-gateway-typical-deployment.Corefile');
    const config = r.config;
    expect(config?.zones.map((z) => z.name)).toEqual(['example.com', 'other.example']);
    expect(config?.zones[1].nameservers).toEqual([
      { name: 'k8s-gateway.kube-system.other.example', addresses: [] },
    ]);
    expect(config?.sources.resources).toEqual(['HTTPRoute', 'Ingress', 'Service', 'DNSEndpoint']);
    expect(config?.sources.filters.ingressClasses).toEqual(['nginx']);
    expect(config?.sources.filters.gatewayClasses).toEqual(['public']);
    expect(config?.ttl).toBe(300);
    expect(config?.ops).toMatchObject({ metricsPort: 9153, healthPort: 8080, readyPort: 8181 });
    expect(config?.shutdown.lameDuckSeconds).toBe(5);
    const commented = r.notes?.map((n) => /`([^`\s]+)/.exec(n)?.[1]);
    expect(commented).toEqual(
      expect.arrayContaining([
        'errors',
        'log',
        'fallthrough',
        'forward',
        'cache',
        'loop',
        'reload',
        'loadbalance',
      ]),
    );
  });

  it.each([
    ['. {\n  forward . 1.1.1.1\n}\n', 'no k8s_gateway plugin in the Corefile'],
    ['. {\n  k8s_gateway\n}\n', 'k8s_gateway has no zone: name one (k8s_gateway example.com)'],
  ])('cannot convert %j', (text, error) => {
    expect(convert(text)).toEqual({ error });
  });
});

describe('cluster-gateway convert-corefile (real process)', () => {
  beforeAll(() => assertBuilt(MAIN));
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('prints YAML that --check-config accepts', async () => {
    const r = await runApp(MAIN, [
      'convert-corefile',
      fixture('k8s-gateway-fork-example.Corefile'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('example.com');
    const file = dir.write('converted.yaml', r.stdout);
    const check = await runApp(MAIN, ['--check-config', '--config', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });

  it('a Corefile syntax error: exit 2 naming the file and line', async () => {
    const file = dir.write('bad.Corefile', 'example.com {\n  k8s_gateway example.com\n');
    const r = await runApp(MAIN, ['convert-corefile', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad.Corefile: line 1: "{" is never closed');
  });
});
