// The three dnsperf scenarios: ours and the peer in the same run (see measure.mjs for
// how runs are interleaved).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostOf, ZONE, zoneFile } from '../dataset.mjs';
import { queryOnce } from '../dns-wire.mjs';
import { compareServers } from '../measure.mjs';
import { BENCH_NODE, BENCH_RUNTIME, startAuthority, startGateway } from '../ours.mjs';
import { startDnsdist, startKnot, startKnotGateways } from '../peers.mjs';
import { freePort, startProcess, stopProcess, waitFor } from '../proc.mjs';

/** Three Knot "gateways", name i living on gateway i % 3 (the others say NXDOMAIN). */
const startUpstreams = (ctx, tag) => startKnotGateways(ctx.dir, ctx.names, `${tag}-`);

const withWorkers = (label, w) => (w > 1 ? `${label} (${w} workers)` : label);

const ECHO = fileURLToPath(new URL('../echo-server.mjs', import.meta.url));
const ECHO_BATCHED_BUN = fileURLToPath(new URL('../echo-batched-bun.mjs', import.meta.url));
const FANOUT_FLOOR = fileURLToPath(new URL('../fanout-floor.mjs', import.meta.url));

/**
 * A reference process (not a DNS server) on the same runtime as our servers (labelled with
 * it: `node-echo`, `bun-echo`): what one process can do with dgram when the DNS work costs
 * nothing.
 */
async function startReference(label, script, args = []) {
  const port = await freePort();
  const proc = startProcess(label, BENCH_NODE, [script, String(port), ...args.map(String)]);
  await waitFor(
    `${label} answering`,
    async () => (await queryOnce(port, ZONE, 'A', 300)) !== null,
    {
      proc,
    },
  );
  return { name: proc.name, proc, port };
}

/** Answers every packet with itself (see echo-server.mjs). */
const startEcho = () => startReference(`${BENCH_RUNTIME.name}-echo (reference)`, ECHO);

/**
 * On Bun only: the echo written the way our Bun UDP backend writes (one `sendMany` per
 * event-loop turn, echo-batched-bun.mjs). `bun-echo` sends one datagram per call, which costs
 * more than our servers do, so this row is the floor "above the echo" means on Bun.
 */
const echoSpecs = () => [
  { start: startEcho },
  ...(BENCH_RUNTIME.name === 'bun'
    ? [{ start: () => startReference('bun-echo-batched (reference)', ECHO_BATCHED_BUN) }]
    : []),
];

/** Issue 15: p99 at half of the server's own max qps, gateway and cache hits. */
const P99_AT_HALF_MAX_MS = 1;

export async function gatewayScenario(ctx) {
  const specs = [
    { start: () => startKnot(join(ctx.dir, 'knot-gateway'), zoneFile(ctx.names), 'knot') },
    ...ctx.workers.map((w) => ({
      start: () =>
        startGateway(join(ctx.dir, `gateway-w${w}`), {
          source: { manifests: ctx.manifestsDir },
          readyName: hostOf(ctx.names - 1),
          workers: w,
          label: withWorkers('cluster-gateway', w),
        }),
    })),
    ...echoSpecs(),
  ];
  return {
    id: 'gateway',
    rows: await compareServers(ctx, specs),
    peer: 'knot',
    targetRatio: 1.0,
    targetP99HalfMaxMs: P99_AT_HALF_MAX_MS,
  };
}

/** Authority scenarios: dnsdist -> one Knot with every name; ours -> three Knot gateways. */
async function authorityScenario(
  ctx,
  { id, tag, dnsdistCache, authorityCache, targetRatio, targetP99HalfMaxMs, floor = false },
) {
  const knot = await startKnot(join(ctx.dir, `${tag}-knot`), zoneFile(ctx.names), 'knot-backend');
  try {
    const ups = await startUpstreams(ctx, tag);
    try {
      const specs = [
        {
          start: () =>
            startDnsdist(join(ctx.dir, `${tag}-dnsdist`), knot.port, { cache: dnsdistCache }),
          warmPasses: dnsdistCache ? 1 : 0,
        },
        ...ctx.workers.map((w) => ({
          start: () =>
            startAuthority(join(ctx.dir, `${tag}-authority-w${w}`), {
              upstreams: ups,
              cache: authorityCache,
              workers: w,
              label: withWorkers('fanout-authority', w),
            }),
          // Each worker has its own cache and gets a random share of each warm-up pass.
          warmPasses: authorityCache.enabled === false ? 0 : 2 * w,
        })),
        // The dgram cost of the fan-out alone (see fanout-floor.mjs).
        ...(floor
          ? [
              {
                start: () =>
                  startReference(
                    `${BENCH_RUNTIME.name}-fanout (reference)`,
                    FANOUT_FLOOR,
                    ups.map((u) => u.port),
                  ),
              },
            ]
          : []),
      ];
      const rows = await compareServers(ctx, specs);
      const peer = dnsdistCache ? 'dnsdist-cache' : 'dnsdist';
      return { id, rows, peer, targetRatio, targetP99HalfMaxMs };
    } finally {
      await Promise.all(ups.map((u) => stopProcess(u.proc)));
    }
  } finally {
    await stopProcess(knot.proc);
  }
}

export const authorityHitsScenario = (ctx) =>
  authorityScenario(ctx, {
    id: 'authority-hits',
    tag: 'hits',
    dnsdistCache: true,
    authorityCache: {},
    targetRatio: 1.0,
    targetP99HalfMaxMs: P99_AT_HALF_MAX_MS,
  });

export const authorityMissesScenario = (ctx) =>
  authorityScenario(ctx, {
    id: 'authority-misses',
    tag: 'misses',
    dnsdistCache: false,
    authorityCache: { enabled: false },
    targetRatio: 0.5,
    floor: true,
  });
