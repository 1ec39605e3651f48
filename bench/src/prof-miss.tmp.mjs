// temporary: profile the authority miss path
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mixedQueries, writeLines, ZONE, zoneFile } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { throughput } from './dnsperf.mjs';
import { AUTHORITY_MAIN } from './ours.mjs';
import { startKnot } from './peers.mjs';
import { freePort, procStats, startProcess, stopProcess, waitFor } from './proc.mjs';

const dir = '/tmp/prof/run';
mkdirSync(dir, { recursive: true });
const N = 10000;
const ups = [];
for (let k = 0; k < 3; k++)
  ups.push(
    await startKnot(
      join(dir, `up${k}`),
      zoneFile(N, (i) => i % 3 === k),
      `up${k}`,
    ),
  );
const port = await freePort();
const ops = await freePort();
const config = {
  zones: [
    {
      name: ZONE,
      soa: { minimum: 3600, ttl: 3600 },
      nameservers: [{ name: `ns1.${ZONE}`, addresses: ['127.0.0.1'] }],
      upstreams: ups.map((u, k) => ({ name: `gw${k}`, address: '127.0.0.1', port: u.port })),
    },
  ],
  listen: { host: '127.0.0.1', port },
  ops: { host: '127.0.0.1', metricsPort: ops, healthPort: ops, readyPort: ops },
  log: { level: 'warn' },
  cache: { enabled: process.env.CACHE === '1' },
  explain: { enabled: false },
};
writeFileSync(join(dir, 'a.yaml'), JSON.stringify(config));
const extra = process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir', '/tmp/prof'] : [];
const proc = startProcess('auth', process.execPath, [
  ...extra,
  AUTHORITY_MAIN,
  '--config',
  join(dir, 'a.yaml'),
]);
await waitFor('auth', async () => (await queryOnce(port, ZONE, 'SOA', 500))?.rcode === 0, { proc });
const qf = writeLines(join(dir, 'q.txt'), mixedQueries(N));
const before = procStats(proc.pid);
const r = await throughput(port, qf, Number(process.env.SECS ?? 10));
const after = procStats(proc.pid);
console.log(
  JSON.stringify({
    qps: r.qps ?? r,
    cpu: after && before ? after.cpuSeconds - before.cpuSeconds : null,
    r,
  }),
);
await stopProcess(proc, 5000);
for (const u of ups) await stopProcess(u.proc);
process.exit(0);
