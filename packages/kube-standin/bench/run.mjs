// Cost of the stand-in itself in a "change -> answer" measurement: how long from
// `apply()` until a real client-node informer reports the change, and how long an initial
// list of many objects takes. Bounded; prints one JSON line per measurement.
import * as k8s from '@kubernetes/client-node';
import { startStandin } from '../dist/index.js';

const CHANGES = Number(process.env.CHANGES ?? 200);
const OBJECTS = Number(process.env.OBJECTS ?? 5000);

const ingress = (name, host) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'bench' },
  spec: { rules: [{ host }] },
});

function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

const s = await startStandin({ kinds: ['ingresses'] });
for (let i = 0; i < OBJECTS; i++) s.apply(ingress(`pre-${i}`, `pre-${i}.bench.test`));
const kc = new k8s.KubeConfig();
kc.loadFromFile(s.kubeconfigPath);
const api = kc.makeApiClient(k8s.NetworkingV1Api);
const informer = k8s.makeInformer(kc, '/apis/networking.k8s.io/v1/ingresses', () =>
  api.listIngressForAllNamespaces(),
);
let waiting;
informer.on('add', (o) => {
  if (waiting && o.metadata.name === waiting.name) waiting.resolve();
});
const t0 = performance.now();
await informer.start();
await s.waitForWatch('ingresses');
console.log(
  JSON.stringify({
    bench: 'initial-list',
    objects: OBJECTS,
    ms: +(performance.now() - t0).toFixed(1),
  }),
);

const lat = [];
for (let i = 0; i < CHANGES; i++) {
  const name = `c-${i}`;
  const seen = new Promise((resolve) => {
    waiting = { name, resolve };
  });
  const start = performance.now();
  s.apply(ingress(name, `${name}.bench.test`));
  await Promise.race([seen, new Promise((r) => setTimeout(r, 5000))]);
  lat.push(performance.now() - start);
}
lat.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    bench: 'apply-to-informer-add',
    changes: CHANGES,
    p50_ms: +pct(lat, 50).toFixed(3),
    p99_ms: +pct(lat, 99).toFixed(3),
    max_ms: +lat[lat.length - 1].toFixed(3),
  }),
);
await informer.stop();
await s.close();
