// Ad-hoc: list/watch requests and RSS, gateway against the kube stand-in with N Ingress.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startStandin } from '@mdns/kube-standin';
import { AppProcess } from '@mdns/testkit';

const [main, workers, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const ZONE = 'prod.example.tld';
const objects = Array.from({ length: count }, (_, i) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: `web${i}`, namespace: `ns${i % 50}` },
  spec: { rules: [{ host: `web${i}.${ZONE}` }] },
  status: {
    loadBalancer: { ingress: [{ ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` }] },
  },
}));
const standin = await startStandin({
  kinds: [
    'namespaces',
    'services',
    'ingresses',
    'gateways',
    'httproutes',
    'grpcroutes',
    'tlsroutes',
  ],
  objects,
});
const config = {
  zones: [{ name: ZONE, nameservers: [{ name: `ns1.${ZONE}`, addresses: ['192.0.2.53'] }] }],
  listen: { host: '127.0.0.1', port: 0, workers },
  ops: { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 },
  log: { level: 'warn' },
  shutdown: { lameDuckSeconds: 0 },
  sources: { kubernetes: { kubeconfig: standin.kubeconfigPath } },
};
const path = `/tmp/gwonce21/gw-${workers}.json`;
writeFileSync(path, JSON.stringify(config));
const log = { level: 'info' };
config.log = log;
writeFileSync(path, JSON.stringify(config));
const gw = await AppProcess.start(main, path, { timeoutMs: 120_000 });
const t0 = Date.now();
while ((await gw.http('/ready')).status !== 200) {
  if (Date.now() - t0 > 180_000) throw new Error('not ready');
  await sleep(200);
}
await sleep(3000);
const rss = (pid) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const pids = [
  gw.pid,
  ...new Set(gw.logs.filter((l) => l.msg === 'listening' && l.worker).map((l) => l.pid)),
];
const per = (verb) => {
  const c = {};
  for (const r of standin.requests) if (r.verb === verb && r.kind) c[r.kind] = (c[r.kind] ?? 0) + 1;
  return c;
};
console.log(
  JSON.stringify({
    main,
    workers,
    count,
    lists: per('list')['ingresses.networking.k8s.io'],
    watches: per('watch')['ingresses.networking.k8s.io'],
    allLists: standin.count('list'),
    allWatches: standin.count('watch'),
    rssMB: pids.map((p) => Math.round(rss(p))),
    totalMB: Math.round(pids.map(rss).reduce((a, b) => a + b, 0)),
    readyAfterS: (Date.now() - t0 - 3000) / 1000,
  }),
);
await gw.stop();
await standin.close();
