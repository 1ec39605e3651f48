import { setTimeout as sleep } from 'node:timers/promises';
import { type Standin, startStandin } from '@mdns/kube-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AppProcess,
  answerProblem,
  type Expectation,
  startKubeGateway,
  timeUntil,
  type Workdir,
  workdir,
  ZONE,
} from '../src/index.js';

// The Kubernetes API fault rows of the other kinds, for EndpointSlices (health, issue 13):
// a real gateway (default health settings: grace 5 s) through the kube stand-in. Pass: the
// health verdict follows the slices across every fault, bad slices never crash the gateway
// nor change a verdict they do not belong to, and answers that cannot be judged are served.

function service(name: string, ip: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'apps' },
    spec: { type: 'LoadBalancer', selector: { app: name } },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function slice(service: string, ready: number, name = `${service}-abcde`) {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'apps', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: [0, 1].map((i) => ({
      addresses: [`10.9.0.${i + 1}`],
      conditions: { ready: i < ready },
    })),
  };
}

const up = (name: string, ip: string): Expectation => ({
  name: `${name}.apps.${ZONE}`,
  type: 'A',
  addresses: [ip],
});
const held = (name: string): Expectation => ({
  name: `${name}.apps.${ZONE}`,
  type: 'A',
  addresses: [],
});

describe('EndpointSlice faults against the gateway (kube stand-in)', () => {
  let work: Workdir;
  let standin: Standin;
  let gateway: AppProcess;

  beforeAll(async () => {
    work = workdir();
    standin = await startStandin({
      objects: [
        service('web', '192.0.2.50'),
        slice('web', 2),
        service('api', '192.0.2.51'),
        slice('api', 0),
      ] as never,
    });
    gateway = await startKubeGateway(work, standin, { crdRecheckSeconds: 2 });
    await becomes(up('web', '192.0.2.50'));
    await becomes(held('api'));
  });

  afterAll(async () => {
    await gateway?.stop();
    await standin?.close();
    work?.remove();
  });

  const becomes = async (expectation: Expectation) => {
    const r = await timeUntil(() => answerProblem(gateway, expectation), 30_000);
    expect(r.ms, `${expectation.name}: ${r.last}`).not.toBeNull();
    console.log(`${expectation.name} [${expectation.addresses}]: after ${r.ms} ms`);
  };

  it('watch stream cut mid-event: the next slice change arrives over a new watch', async () => {
    await standin.waitForWatch('endpointslices');
    const watches = standin.count('watch', 'endpointslices');
    expect(standin.dropConnections({ cutMidEvent: true })).toBeGreaterThan(0);
    standin.apply(slice('api', 1));
    await becomes(up('api', '192.0.2.51'));
    expect(standin.count('watch', 'endpointslices')).toBeGreaterThan(watches);
  });

  it('410 loops: every re-watch expired, slice changes still arrive', async () => {
    for (let round = 0; round < 3; round++) {
      standin.apply(slice('api', round % 2 === 0 ? 0 : 1));
      standin.compact();
      standin.endWatches('endpointslices');
      await becomes(round % 2 === 0 ? held('api') : up('api', '192.0.2.51'));
    }
    expect(gateway.alive).toBe(true);
  });

  it('403 on EndpointSlices: the last verdicts kept (RBAC taken away is not "no endpoints")', async () => {
    await becomes(held('api'));
    standin.forbid('endpointslices', true);
    try {
      standin.endWatches('endpointslices');
      await sleep(3000); // a re-check at least (crdRecheckSeconds 2)
      expect(standin.answered(403, 'endpointslices.discovery.k8s.io')).toBeGreaterThan(0);
      expect(await answerProblem(gateway, held('api'))).toBe('');
      expect(await answerProblem(gateway, up('web', '192.0.2.50'))).toBe('');
    } finally {
      standin.forbid('endpointslices', false);
    }
    standin.apply(slice('api', 2));
    await becomes(up('api', '192.0.2.51'));
  });

  it('malformed slices and slices of unknown Services: no crash, no verdict changed, the API defaults applied', async () => {
    const bad = (name: string, body: Record<string, unknown>) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: 'apps', labels: { 'kubernetes.io/service-name': 'nobody' } },
      addressType: 'IPv4',
      ...body,
    });
    standin.applyAll([
      bad('endpoints-string', { endpoints: 'many' }),
      bad('endpoints-null', { endpoints: null }),
      bad('conditions-string', { endpoints: [{ addresses: ['10.9.9.9'], conditions: 'ready' }] }),
      bad('endpoint-number', { endpoints: [42, null] }),
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'no-label', namespace: 'apps' },
        endpoints: [{ addresses: ['10.9.9.8'], conditions: { ready: false } }],
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: 'label-number',
          namespace: 'apps',
          labels: { 'kubernetes.io/service-name': 7 },
        },
        endpoints: [{ addresses: ['10.9.9.7'], conditions: { ready: false } }],
      },
    ] as never);
    // A slice of `web` with no conditions at all: ready by the API's documented default.
    standin.apply({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'web-nocond',
        namespace: 'apps',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      endpoints: [{ addresses: ['10.9.0.9'] }],
    } as never);
    standin.apply(slice('web', 0));
    await sleep(1500);
    expect(gateway.alive).toBe(true);
    expect(await answerProblem(gateway, up('web', '192.0.2.50'))).toBe('');
    expect(await answerProblem(gateway, up('api', '192.0.2.51'))).toBe('');
    // Cause and effect: without the condition-less slice, web's only slice has none ready.
    standin.delete('EndpointSlice', 'apps', 'web-nocond');
    await becomes(held('web'));
  });
});
