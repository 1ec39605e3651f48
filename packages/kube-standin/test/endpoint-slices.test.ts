import { afterEach, describe, expect, it } from 'vitest';
import { type Standin, startStandin } from '../src/index.js';

// The gateway's health follows EndpointSlices by their service-name label: the stand-in
// serves them like the API server, listed and watched cluster-wide with label selectors.
const SLICES = '/apis/discovery.k8s.io/v1/endpointslices';

function slice(name: string, service: string, ready: boolean[]) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: ready.map((r, i) => ({ addresses: [`10.0.0.${i + 1}`], conditions: { ready: r } })),
  };
}

let s: Standin | null = null;
afterEach(async () => {
  await s?.close();
  s = null;
});

describe('EndpointSlices', () => {
  it('are discovered under discovery.k8s.io/v1 and listed by service-name label', async () => {
    s = await startStandin({
      objects: [slice('web-abc', 'web', [true]), slice('api-def', 'api', [false])],
    });
    const disc = (await (await fetch(`${s.url}/apis/discovery.k8s.io/v1`)).json()) as any;
    expect(disc.resources.map((r: { name: string }) => r.name)).toContain('endpointslices');
    const selector = encodeURIComponent('kubernetes.io/service-name=web');
    const list = (await (await fetch(`${s.url}${SLICES}?labelSelector=${selector}`)).json()) as any;
    expect(list.items.map((o: { metadata: { name: string } }) => o.metadata.name)).toEqual([
      'web-abc',
    ]);
    // Built in: listed without apiVersion/kind per item, as a real server does.
    expect(list.items[0].kind).toBeUndefined();
  });
});
