// One cluster in another site: answer latency for names of the near cluster, of the far one
// (150 ms round trip through the @mdns/testkit delay proxy) and absent names, under policies
// `first` and `all`, so the cost of waiting for the far site is visible.
import { join } from 'node:path';
import { startDelayProxyThread } from '@mdns/testkit';
import { ZONE } from '../dataset.mjs';
import { sampleLatency } from '../dns-wire.mjs';
import { startAuthority } from '../ours.mjs';
import { startKnot } from '../peers.mjs';
import { stopProcess } from '../proc.mjs';
import { latencySummary } from '../stats.mjs';

const FAR_RTT_MS = 150;

const zone = (records) =>
  [
    `$ORIGIN ${ZONE}.`,
    '$TTL 3600',
    '@ SOA ns1 hostmaster 1 3600 600 86400 3600',
    '@ NS ns1',
    'ns1 A 127.0.0.1',
    ...records,
    '',
  ].join('\n');

// Unique names (a wildcard answers them) so every query is a fan-out, never a cache hit.
const KINDS = {
  near: (tag, i) => `${tag}-${i}.near.${ZONE}`,
  far: (tag, i) => `${tag}-${i}.far.${ZONE}`,
  absent: (tag, i) => `${tag}-${i}.none.${ZONE}`,
};

export async function farScenario(ctx) {
  const started = [];
  let proxy;
  try {
    const near = await startKnot(
      join(ctx.dir, 'far-near'),
      zone(['*.near A 10.1.0.1']),
      'knot-near',
    );
    started.push(near);
    const far = await startKnot(join(ctx.dir, 'far-far'), zone(['*.far A 10.2.0.1']), 'knot-far');
    started.push(far);
    // On a thread of its own: the sampler in this process never holds a packet back.
    proxy = await startDelayProxyThread({
      targetHost: '127.0.0.1',
      targetPort: far.port,
      rttMs: FAR_RTT_MS,
    });
    const samples = [];
    for (const policy of ['first', 'all']) {
      const authority = await startAuthority(join(ctx.dir, `authority-far-${policy}`), {
        upstreams: [
          { name: 'near', port: near.port },
          { name: 'far', port: proxy.port },
        ],
        cache: {},
        policy,
        label: `fanout-authority-far-${policy}`,
      });
      started.push(authority);
      const tag = `${policy}${Date.now().toString(36)}`;
      for (const [kind, nameOf] of Object.entries(KINDS)) {
        const names = Array.from({ length: ctx.far.queries }, (_, i) => nameOf(tag, i));
        const r = await sampleLatency(authority.port, names, { qps: ctx.far.qps });
        samples.push({
          policy,
          kind,
          ...latencySummary(r.latencies),
          sent: r.sent,
          lost: r.lost,
          rcodes: r.rcodes,
        });
      }
      await stopProcess(authority.proc);
      started.pop();
    }
    return { id: 'far', farRttMs: FAR_RTT_MS, qps: ctx.far.qps, samples };
  } finally {
    await Promise.all(started.map((p) => stopProcess(p.proc)));
    await proxy?.close();
  }
}
