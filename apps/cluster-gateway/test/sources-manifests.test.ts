import { copyFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compileFilters } from '../src/sources/filters.js';
import { ManifestsSource } from '../src/sources/manifests.js';
import { eventually, RecordingLogger, RecordingSink } from './sources-recording.js';

const fixture = join(import.meta.dirname, 'fixtures/sources/shop.yaml');

function svc(name: string, ip: string): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: shop }
spec: { type: LoadBalancer }
status: { loadBalancer: { ingress: [{ ip: ${ip} }] } }
`;
}

describe('manifests source', () => {
  let dir: string;
  let source: ManifestsSource;
  let sink: RecordingSink;
  let logger: RecordingLogger;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mdns-manifests-'));
    sink = new RecordingSink();
    logger = new RecordingLogger();
    const f = compileFilters({
      ingressClasses: [],
      gatewayClasses: [],
      labelSelector: '',
      namespaces: [],
    });
    if (!f.ok) throw new Error(f.error);
    source = new ManifestsSource({
      directory: dir,
      kinds: ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service', 'DNSEndpoint'],
      zones: ['prod.example.tld'],
      defaultTtl: 60,
      filters: f.filters,
      logger,
      debounceMs: 50,
      rescanMs: 60_000,
    });
  });

  afterEach(async () => {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every file at start and marks every kind synced, empty ones too', async () => {
    await copyFile(fixture, join(dir, 'shop.yaml'));
    await writeFile(join(dir, 'svc.yml'), svc('api', '198.51.100.1'));
    await writeFile(join(dir, 'notes.txt'), 'not yaml: [');
    await source.start(sink);
    expect(sink.names('HTTPRoute')).toEqual({ 'shop.prod.example.tld': '192.0.2.10' });
    expect(sink.names('Ingress')).toEqual({
      'legacy.prod.example.tld': 'cname:lb-1.elb.example.net',
    });
    expect(sink.names('Service')).toEqual({ 'api.shop.prod.example.tld': '198.51.100.1' });
    for (const k of [
      'HTTPRoute',
      'TLSRoute',
      'GRPCRoute',
      'Ingress',
      'Service',
      'DNSEndpoint',
    ] as const) {
      expect(sink.phase(k)).toBe('synced');
    }
    expect(sink.states.get('Service')?.objects).toBe(1);
    expect(sink.states.get('DNSEndpoint')?.objects).toBe(0);
  });

  it('edit, add and delete files -> claims follow', async () => {
    await writeFile(join(dir, 'svc.yaml'), svc('api', '198.51.100.1'));
    await source.start(sink);
    await writeFile(join(dir, 'svc.yaml'), svc('api', '198.51.100.2'));
    await eventually(() =>
      expect(sink.names('Service')).toEqual({ 'api.shop.prod.example.tld': '198.51.100.2' }),
    );
    await writeFile(join(dir, 'more.yaml'), svc('web', '198.51.100.3'));
    await eventually(() => expect(Object.keys(sink.names('Service'))).toHaveLength(2));
    await unlink(join(dir, 'svc.yaml'));
    await eventually(() =>
      expect(sink.names('Service')).toEqual({ 'web.shop.prod.example.tld': '198.51.100.3' }),
    );
  });

  it('a Gateway edit re-emits the routes on it', async () => {
    await copyFile(fixture, join(dir, 'shop.yaml'));
    await source.start(sink);
    const { readFile } = await import('node:fs/promises');
    const text = await readFile(fixture, 'utf8');
    await writeFile(join(dir, 'shop.yaml'), text.replace('192.0.2.10', '192.0.2.11'));
    await eventually(() =>
      expect(sink.names('HTTPRoute')).toEqual({ 'shop.prod.example.tld': '192.0.2.11' }),
    );
  });

  it('broken YAML -> error naming file and line, previous objects kept', async () => {
    await writeFile(join(dir, 'svc.yaml'), svc('api', '198.51.100.1'));
    await source.start(sink);
    await writeFile(
      join(dir, 'svc.yaml'),
      `${svc('api', '198.51.100.9')}---\nkind: [unclosed\n  bad: : x\n`,
    );
    await eventually(() => expect(logger.at('error').length).toBeGreaterThan(0));
    const err = logger.at('error')[0];
    expect(err).toContain(join(dir, 'svc.yaml'));
    expect(err).toMatch(/svc\.yaml:\d+/);
    expect(sink.names('Service')).toEqual({ 'api.shop.prod.example.tld': '198.51.100.1' });
    // Fixed again: picked up.
    await writeFile(join(dir, 'svc.yaml'), svc('api', '198.51.100.9'));
    await eventually(() =>
      expect(sink.names('Service')).toEqual({ 'api.shop.prod.example.tld': '198.51.100.9' }),
    );
  });

  it('JSON files (kind: List) are read with JSON.parse; flow-style YAML still goes to YAML', async () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [1, 2].map((i) => ({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `s${i}`, namespace: 'shop', managedFields: [{ manager: 'x' }] },
        spec: { type: 'LoadBalancer' },
        status: { loadBalancer: { ingress: [{ ip: `198.51.100.${i}` }] } },
      })),
    };
    await writeFile(join(dir, 'list.yaml'), JSON.stringify(list));
    // Starts with '{' but is not JSON: unquoted keys.
    await writeFile(
      join(dir, 'flow.yaml'),
      '{apiVersion: v1, kind: Service, metadata: {name: s3, namespace: shop}, spec: {type: LoadBalancer}, status: {loadBalancer: {ingress: [{ip: 198.51.100.3}]}}}',
    );
    await source.start(sink);
    expect(sink.names('Service')).toEqual({
      's1.shop.prod.example.tld': '198.51.100.1',
      's2.shop.prod.example.tld': '198.51.100.2',
      's3.shop.prod.example.tld': '198.51.100.3',
    });
  });

  it('missing directory -> error state naming it, then picked up once it exists', async () => {
    await rm(dir, { recursive: true });
    const f = compileFilters({
      ingressClasses: [],
      gatewayClasses: [],
      labelSelector: '',
      namespaces: [],
    });
    if (!f.ok) throw new Error(f.error);
    await source.stop();
    source = new ManifestsSource({
      directory: dir,
      kinds: ['Service'],
      zones: ['prod.example.tld'],
      defaultTtl: 60,
      filters: f.filters,
      logger,
      rescanMs: 200,
    });
    await source.start(sink);
    expect(sink.phase('Service')).toBe('error');
    expect(sink.states.get('Service')?.message).toContain(dir);
    const { mkdir } = await import('node:fs/promises');
    await mkdir(dir);
    await writeFile(join(dir, 'svc.yaml'), svc('api', '198.51.100.1'));
    await eventually(() => {
      expect(sink.phase('Service')).toBe('synced');
      expect(sink.names('Service')).toEqual({ 'api.shop.prod.example.tld': '198.51.100.1' });
    });
  });
});
