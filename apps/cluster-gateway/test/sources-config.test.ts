import { describe, expect, it } from 'vitest';
import { sourcesConfigSchema } from '../src/sources/config.js';

describe('sources config', () => {
  it('fills every default from an empty object', () => {
    const c = sourcesConfigSchema.parse({});
    expect(c).toEqual({
      resources: ['HTTPRoute', 'TLSRoute', 'GRPCRoute', 'Ingress', 'Service', 'DNSEndpoint'],
      kubernetes: {
        enabled: true,
        kubeconfig: null,
        context: null,
        crdRecheckSeconds: 60,
        watchSilenceSeconds: 120,
        backoff: { initialMs: 500, maxMs: 4000 },
        maxPageBytes: 16 * 1024 * 1024,
        maxEventBytes: 4 * 1024 * 1024,
        // null: discovered (v1, else v1beta1, v1alpha3, v1alpha2).
        gatewayApiVersions: { HTTPRoute: null, GRPCRoute: null, TLSRoute: null, Gateway: null },
      },
      manifests: { enabled: false, directory: null },
      filters: { ingressClasses: [], gatewayClasses: [], labelSelector: '', namespaces: [] },
      // The safe defaults of issue #18: externalIPs off, first claimant across namespaces.
      services: { externalIPs: false, internalHostnames: false },
      annotations: { target: false },
      ownership: { namespaces: {}, wildcardNamespaces: null, conflicts: 'first-claimant' },
      health: { enabled: true, require: 'any', graceSeconds: 5 },
    });
  });

  it('keeps partial nested values and defaults the rest', () => {
    const c = sourcesConfigSchema.parse({ kubernetes: { backoff: { maxMs: 1000 } } });
    expect(c.kubernetes.backoff).toEqual({ initialMs: 500, maxMs: 1000 });
    expect(c.kubernetes.gatewayApiVersions.TLSRoute).toBeNull();
  });

  it.each([
    [{ kubernetes: { nope: 1 } }, 'kubernetes'],
    [{ resources: ['Pod'] }, 'resources.0'],
    [{ resources: ['Service', 'Service'] }, 'resources'],
    [{ manifests: { enabled: true } }, 'manifests.directory'],
    [{ kubernetes: { backoff: { initialMs: 10, maxMs: 5 } } }, 'kubernetes.backoff'],
    [{ filters: { labelSelector: 'app in (a' } }, 'filters.labelSelector'],
    [{ filters: { nope: [] } }, 'filters'],
    [
      { kubernetes: { gatewayApiVersions: { TLSRoute: 'v2beta' } } },
      'kubernetes.gatewayApiVersions.TLSRoute',
    ],
    [{ services: { internalHostnames: 'yes' } }, 'services.internalHostnames'],
    [{ annotations: { target: 'yes' } }, 'annotations.target'],
    [{ health: { require: 'most' } }, 'health.require'],
    [{ health: { graceSeconds: -1 } }, 'health.graceSeconds'],
  ])('rejects %j at %s', (input, path) => {
    const r = sourcesConfigSchema.safeParse(input);
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path.join('.'))).toContain(path);
  });
});
