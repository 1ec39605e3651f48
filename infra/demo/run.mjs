#!/usr/bin/env node
// The local demo (README's first command runs this through scripts/demo.sh).
//   node infra/demo/run.mjs            run until Ctrl-C
//   node infra/demo/run.mjs --check    start, verify the example answers, stop (exit 0/1)
// Env: DEMO_PORT_BASE (default 5300).
import { execFileSync } from 'node:child_process';
import { DEMO_TSIG_KEY, startTopology, ZONE } from './topology.mjs';

const check = process.argv.includes('--check');
const portBase = Number(process.env.DEMO_PORT_BASE ?? 5300);

function shortLog(name, line) {
  // The apps log JSON lines; show the level and message, keep the rest out of the way.
  try {
    const o = JSON.parse(line);
    if (check && o.level !== 'warn' && o.level !== 'error') return;
    const extra = o.err?.message ?? o.error ?? '';
    console.log(`[${name}] ${o.level ?? ''} ${o.msg ?? ''}${extra ? ` (${extra})` : ''}`);
  } catch {
    console.log(`[${name}] ${line}`);
  }
}

function dig(port, name, type = 'A') {
  return execFileSync(
    'dig',
    [`@127.0.0.1`, '-p', String(port), name, type, '+short', '+time=2', '+tries=1'],
    { encoding: 'utf8' },
  )
    .trim()
    .split('\n')
    .filter(Boolean);
}

function digStatus(port, name) {
  const out = execFileSync('dig', [`@127.0.0.1`, '-p', String(port), name, '+time=2', '+tries=1'], {
    encoding: 'utf8',
  });
  return /status: (\w+)/.exec(out)?.[1] ?? 'no answer';
}

const examples = [
  { name: `shop.${ZONE}`, what: 'served by cluster-x only' },
  { name: `grafana.${ZONE}`, what: 'served by cluster-y only (HTTPRoute + Gateway)' },
  { name: `api.${ZONE}`, what: 'served by both clusters (policy all: both addresses)' },
  { name: `nope.${ZONE}`, what: 'served by nobody: NXDOMAIN' },
];

// Ctrl-C during start-up stops the processes already launched, too.
const starting = new AbortController();
const abortStart = () => starting.abort();
process.once('SIGINT', abortStart);
process.once('SIGTERM', abortStart);
let topology;
try {
  topology = await startTopology({ portBase, onLog: shortLog, signal: starting.signal });
} catch (e) {
  console.error(`\ndemo failed to start: ${e.message}`);
  process.exit(1);
}
process.off('SIGINT', abortStart);
process.off('SIGTERM', abortStart);
const { ports } = topology;
let failed = false;

/** `mdns_authority_replica_fresh` per upstream: 1 once the authority holds its copy. */
async function replicasFresh() {
  const text = await (await fetch(`http://127.0.0.1:${ports.authority.ops}/metrics`)).text();
  const fresh = {};
  for (const m of text.matchAll(
    /^mdns_authority_replica_fresh\{[^}]*upstream="([^"]+)"[^}]*\} (\S+)$/gm,
  )) {
    fresh[m[1]] = m[2] === '1';
  }
  return fresh;
}
// The copies load right after start (one AXFR each); wait for them, bounded, so the answers
// printed below are the replicated ones.
let fresh = {};
for (let i = 0; i < 50; i++) {
  fresh = await replicasFresh().catch(() => ({}));
  if (fresh['cluster-x'] && fresh['cluster-y']) break;
  await new Promise((r) => setTimeout(r, 100));
}

console.log(`\nmdns demo is up: zone ${ZONE}`);
console.log(`  fanout-authority  dns 127.0.0.1:${ports.authority.dns}`);
console.log(
  `  cluster-x gateway dns 127.0.0.1:${ports['cluster-x'].dns} (manifests: infra/demo/cluster-x)`,
);
console.log(
  `  cluster-y gateway dns 127.0.0.1:${ports['cluster-y'].dns} (manifests: infra/demo/cluster-y)\n`,
);
console.log('Try (answers as seen just now):');
for (const ex of examples) {
  const status = digStatus(ports.authority.dns, ex.name);
  const answers = status === 'NOERROR' ? dig(ports.authority.dns, ex.name) : [];
  console.log(`  dig @127.0.0.1 -p ${ports.authority.dns} ${ex.name}   # ${ex.what}`);
  console.log(`      -> ${status}${answers.length ? ` ${answers.join(', ')}` : ''}`);
  const expectAnswer = !ex.name.startsWith('nope.');
  if (expectAnswer ? answers.length === 0 : status !== 'NXDOMAIN') failed = true;
}
const copies = ['cluster-x', 'cluster-y'].map((c) => `${c} ${fresh[c] ? 'loaded' : 'NOT loaded'}`);
console.log(
  `\nReplication: the authority is a secondary of both gateways (${copies.join(', ')}) and answers from the copies. A gateway's zone, with the demo key:`,
);
console.log(
  `  dig @127.0.0.1 -p ${ports['cluster-x'].dns} -y ${DEMO_TSIG_KEY.algorithm}:${DEMO_TSIG_KEY.name}:${DEMO_TSIG_KEY.secret} ${ZONE} AXFR`,
);
if (!fresh['cluster-x'] || !fresh['cluster-y']) failed = true;
console.log('\nMetrics, health and readiness:');
for (const [name, p] of Object.entries(ports)) {
  console.log(`  ${name.padEnd(10)} http://127.0.0.1:${p.ops}/metrics  /health  /ready`);
}
console.log(
  `\nWhy did a name resolve that way? curl 'http://127.0.0.1:${ports.authority.explain}/explain?name=api.${ZONE}&type=A'`,
);
console.log(
  'Edit a file under infra/demo/cluster-x or cluster-y (e.g. change an IP) and dig again: the answer follows.',
);

if (check) {
  await topology.stop();
  console.log(failed ? '\ndemo check FAILED' : '\ndemo check passed');
  process.exit(failed ? 1 : 0);
}

console.log('\nCtrl-C stops everything.\n');
let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping...');
    await topology.stop();
    process.exit(0);
  });
}
for (const { name, app } of topology.children) {
  app.closed.then(() => {
    if (stopping) return;
    console.error(`[${name}] exited (${app.exit.signal ?? app.exit.code}); stopping the demo`);
    stopping = true;
    topology.stop().then(() => process.exit(1));
  });
}
