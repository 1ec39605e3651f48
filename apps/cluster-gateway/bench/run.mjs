// Load test of the built gateway: `node dist/main.js` over a manifests directory of N names,
// driven by dnsperf (a mix of hits, wildcard hits, NXDOMAIN and NODATA). Prints dnsperf's
// summary and the server's CPU time per query. Needs `pnpm build` first and dnsperf.
// Usage: node bench/run.mjs [seconds=5] [names=1000]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const seconds = Number(process.argv[2] ?? 5);
const names = Number(process.argv[3] ?? 1000);
const ZONE = 'bench.example.tld';
const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gateway-bench-'));
const manifests = join(dir, 'manifests');
execFileSync('mkdir', ['-p', manifests]);

const docs = [];
for (let i = 0; i < names; i++) {
  docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: app${i}, namespace: ns${i % 20} }
spec: { rules: [{ host: app${i}.ns${i % 20}.${ZONE} }] }
status: { loadBalancer: { ingress: [{ ip: 10.${(i >> 8) & 255}.${i & 255}.1 }] } }`);
}
docs.push(`apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: wild, namespace: w }
spec: { rules: [{ host: "*.apps.${ZONE}" }] }
status: { loadBalancer: { ingress: [{ ip: 10.200.0.1 }] } }`);
writeFileSync(join(manifests, 'objects.yaml'), docs.join('\n---\n'));

const config = {
  zones: [{ name: ZONE }],
  listen: { host: '127.0.0.1', port: 0 },
  ops: { host: '127.0.0.1', metricsPort: 0, healthPort: 0, readyPort: 0 },
  log: { level: 'info' }, // the "listening" line carries the port
  sources: {
    resources: ['Ingress'],
    kubernetes: { enabled: false },
    manifests: { enabled: true, directory: manifests },
  },
};
const configPath = join(dir, 'gateway.yaml');
writeFileSync(configPath, JSON.stringify(config));

const queries = [];
for (let i = 0; i < 200; i++) queries.push(`app${i % names}.ns${i % 20}.${ZONE} A`);
for (let i = 0; i < 50; i++) queries.push(`x${i}.apps.${ZONE} A`);
for (let i = 0; i < 25; i++) queries.push(`missing${i}.${ZONE} A`);
for (let i = 0; i < 25; i++) queries.push(`app${i}.ns${i % 20}.${ZONE} AAAA`);
const queryFile = join(dir, 'queries.txt');
writeFileSync(queryFile, queries.join('\n') + '\n');

const child = spawn(process.execPath, [main, '--config', configPath], {
  env: { ...process.env, LOG_LEVEL: 'info' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const port = await new Promise((resolve, reject) => {
  let buf = '';
  const timer = setTimeout(() => {
    child.kill('SIGTERM');
    reject(new Error('gateway did not start'));
  }, 20_000);
  child.stdout.on('data', (chunk) => {
    buf += chunk;
    const m = /"dnsPort":(\d+)/.exec(buf);
    if (m) {
      clearTimeout(timer);
      resolve(Number(m[1]));
    }
  });
});
await new Promise((r) => setTimeout(r, 1000)); // first sync of the directory

const cpu = () =>
  Number(
    execFileSync('ps', ['-o', 'cputime=', '-p', String(child.pid)])
      .toString()
      .trim()
      .split(':')
      .reduce((a, b) => a * 60 + Number(b), 0),
  );
try {
  const before = cpu();
  const out = execFileSync(
    'dnsperf',
    ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-c', '4'],
    { encoding: 'utf8' },
  );
  const after = cpu();
  console.log(out);
  const sent = Number(/Queries completed:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (sent > 0)
    console.log(
      `server CPU: ${(((after - before) * 1e6) / sent).toFixed(1)} µs per query (ps cputime resolution: 1 s)`,
    );
} finally {
  child.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}
