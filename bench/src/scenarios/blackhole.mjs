// NXDOMAIN while 1 of 3 upstreams never answers: latency before the authority has
// learned the upstream is dead (first seconds) and after (circuit open).
import dgram from 'node:dgram';
import { join } from 'node:path';
import { ZONE, zoneFile } from '../dataset.mjs';
import { sampleLatency } from '../dns-wire.mjs';
import { startAuthority } from '../ours.mjs';
import { startKnot } from '../peers.mjs';
import { stopProcess } from '../proc.mjs';
import { latencySummary } from '../stats.mjs';

/** A UDP socket that receives and never answers: a cluster that went dark. */
function blackhole() {
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let received = 0;
    sock.on('message', () => {
      received++;
    });
    sock.bind(0, '127.0.0.1', () =>
      resolve({ port: sock.address().port, received: () => received, close: () => sock.close() }),
    );
  });
}

// Names nobody has, unique per query so the cache never answers (every query is a fanout).
const uniqueNames = (tag, n) => Array.from({ length: n }, (_, i) => `nx-${tag}-${i}.${ZONE}`);

export async function blackholeScenario(ctx) {
  const hole = await blackhole();
  const knots = [];
  let authority;
  try {
    for (let k = 0; k < 2; k++) {
      knots.push(
        await startKnot(join(ctx.dir, `blackhole-up${k}`), zoneFile(0), `knot-upstream-${k}`),
      );
    }
    const upstreams = [
      { name: 'gw0', port: knots[0].port },
      { name: 'gw1', port: knots[1].port },
      { name: 'dead', port: hole.port },
    ];
    authority = await startAuthority(join(ctx.dir, 'authority-blackhole'), {
      upstreams,
      cache: {},
    });
    const tag = Date.now().toString(36);
    // First seconds: the dead upstream's circuit is still closed, its timeout not learned.
    const cold = await sampleLatency(
      authority.port,
      uniqueNames(`${tag}c`, ctx.blackhole.coldQueries),
      {
        qps: ctx.blackhole.coldQps,
      },
    );
    const warm = await sampleLatency(
      authority.port,
      uniqueNames(`${tag}w`, ctx.blackhole.warmQueries),
      {
        qps: ctx.blackhole.warmQps,
      },
    );
    const phase = (r, qps) => ({
      ...latencySummary(r.latencies),
      sent: r.sent,
      lost: r.lost,
      rcodes: r.rcodes,
      qps,
    });
    return {
      id: 'blackhole',
      cold: phase(cold, ctx.blackhole.coldQps),
      warm: phase(warm, ctx.blackhole.warmQps),
      deadUpstreamQueries: hole.received(),
      targetP99Ms: 250,
    };
  } finally {
    await Promise.all([authority, ...knots].filter(Boolean).map((p) => stopProcess(p.proc)));
    hole.close();
  }
}
