// The peers we are measured against, started unprivileged on loopback high ports
// (configs as in /work/shared/FIELD-NOTES.md).
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZONE, zoneFile } from './dataset.mjs';
import { queryOnce } from './dns-wire.mjs';
import { freePort, startProcess, waitFor } from './proc.mjs';

/**
 * Knot DNS with one UDP worker: the fair peer for one Node process. `tsig` ({ name, secret }):
 * AXFR/IXFR allowed to requests signed with that key (hmac-sha256), as our primaries do.
 */
export async function startKnot(dir, zoneText, label = 'knot', { tsig } = {}) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const zonePath = join(dir, `${ZONE}.zone`);
  writeFileSync(zonePath, zoneText);
  const conf = join(dir, 'knot.conf');
  writeFileSync(
    conf,
    [
      'server:',
      `  listen: 127.0.0.1@${port}`,
      `  rundir: ${dir}`,
      '  udp-workers: 1',
      '  tcp-workers: 1',
      '  background-workers: 1',
      'database:',
      `  storage: ${dir}`,
      'log:',
      '  - target: stderr',
      '    any: warning',
      ...(tsig
        ? [
            'key:',
            `  - id: ${tsig.name}`,
            '    algorithm: hmac-sha256',
            `    secret: ${tsig.secret}`,
            'acl:',
            '  - id: xfr',
            `    key: ${tsig.name}`,
            '    action: transfer',
          ]
        : []),
      'zone:',
      `  - domain: ${ZONE}`,
      `    file: ${zonePath}`,
      '    zonefile-sync: -1',
      '    journal-content: none',
      ...(tsig ? ['    acl: [xfr]'] : []),
      '',
    ].join('\n'),
  );
  const proc = startProcess(label, 'knotd', ['-c', conf]);
  await waitFor(`${label} answering on ${port}`, () => answersSoa(port), {
    proc,
    timeoutMs: 15_000,
  });
  return { name: label, proc, port };
}

/** dnsdist in front of one backend, with or without its packet cache. */
export async function startDnsdist(dir, backendPort, { cache }) {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'dnsdist.conf');
  const lines = [
    `setLocal("127.0.0.1:${port}")`,
    'setSecurityPollSuffix("")',
    `newServer({address="127.0.0.1:${backendPort}", name="knot"})`,
  ];
  if (cache) {
    lines.push('pc = newPacketCache(200000, {maxTTL=86400, minTTL=0, temporaryFailureTTL=60})');
    lines.push('getPool(""):setCache(pc)');
  }
  writeFileSync(conf, `${lines.join('\n')}\n`);
  const label = cache ? 'dnsdist-cache' : 'dnsdist';
  const proc = startProcess(label, 'dnsdist', ['--supervised', '--disable-syslog', '-C', conf]);
  await waitFor(`${label} answering on ${port}`, () => answersSoa(port), {
    proc,
    timeoutMs: 15_000,
  });
  return { name: label, proc, port };
}

async function answersSoa(port) {
  const r = await queryOnce(port, ZONE, 'SOA', 300);
  return r !== null && r.rcode === 0;
}

export function peerVersions() {
  const first = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim() || 'not installed';
  };
  return {
    knotd: first('knotd', ['--version']),
    dnsdist: first('dnsdist', ['--version']),
  };
}

/**
 * Three Knot servers standing in for three gateways of one zone: name i of `names` (the
 * dataset's zone) lives on gateway i % 3, the others answer NXDOMAIN for it. The miss
 * scenario's upstreams, and the miss probes' (miss-ab, miss-drops, miss-gc, miss-syscalls).
 */
export async function startKnotGateways(dir, names, prefix = '') {
  const gateways = [];
  for (let k = 0; k < 3; k++) {
    const knot = await startKnot(
      join(dir, `${prefix}up${k}`),
      zoneFile(names, (i) => i % 3 === k),
      `knot-upstream-${k}`,
    );
    gateways.push({ ...knot, name: `gw${k}` });
  }
  return gateways;
}
