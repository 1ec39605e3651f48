import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startUnbound, type Unbound } from '@mdns/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM module shared with the demo
import { freePortBase, repoRoot, startTopology, ZONE } from '../demo/topology.mjs';

// The seed's whole path with a resolver nobody here wrote: Unbound stands in for the
// enterprise (AD) DNS that delegates the tier's zone to the fanout-authority, which
// fans out to two cluster-gateways fed by the demo manifests (a copy, so the test can
// move a service between clusters).

// A free port base found at start (the topology's fixed layout needs a base).
let portBase = 0;
const RECORD_TTL = 2; // short, so a move is visible through Unbound's cache quickly

const work = mkdtempSync(join(tmpdir(), 'mdns-delegation-'));
const manifests = join(work, 'manifests');
let topology: { ports: any; stop(): Promise<void> };
let unbound: Unbound;

function viaUnbound(name: string, type = 'A'): { status: string; answers: string[] } {
  const out = execFileSync(
    'dig',
    ['@127.0.0.1', '-p', String(unbound.port), name, type, '+time=3', '+tries=2'],
    { encoding: 'utf8' },
  );
  const status = /status: (\w+)/.exec(out)?.[1] ?? 'none';
  const answerSection = out.split(';; ANSWER SECTION:')[1]?.split('\n\n')[0] ?? '';
  const answers = answerSection
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(';'))
    .map((l) => l.trim().split(/\s+/).pop()!)
    .sort();
  return { status, answers };
}

/** NOTIFYs the authority accepted and acted on (its own metric). */
async function authorityNotifyInvalidations(): Promise<number> {
  const url = `http://127.0.0.1:${topology.ports.authority.ops}/metrics`;
  const text = await (await fetch(url)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('mdns_authority_notify_invalidations_total{')) {
      sum += Number(line.split(' ').at(-1));
    }
  }
  return sum;
}

async function until<T>(f: () => T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let v = f();
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100));
    v = f();
  }
  return v;
}

beforeAll(async () => {
  portBase = await freePortBase();
  cpSync(join(repoRoot, 'infra', 'demo', 'cluster-x'), join(manifests, 'cluster-x'), {
    recursive: true,
  });
  cpSync(join(repoRoot, 'infra', 'demo', 'cluster-y'), join(manifests, 'cluster-y'), {
    recursive: true,
  });
  topology = await startTopology({
    portBase: portBase,
    manifestsRoot: manifests,
    recordTtl: RECORD_TTL,
    notify: true,
  });
  unbound = await startUnbound(ZONE, portBase);
  await until(
    () => {
      try {
        return viaUnbound(`ns1.${ZONE}`).status;
      } catch {
        return 'down';
      }
    },
    (s) => s === 'NOERROR',
    15_000,
  );
});

afterAll(async () => {
  await unbound?.stop();
  await topology?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('delegation through Unbound', () => {
  it('resolves a name served only by cluster-x', () => {
    expect(viaUnbound(`shop.${ZONE}`)).toEqual({ status: 'NOERROR', answers: ['192.0.2.10'] });
  });

  it('resolves a name served only by cluster-y (HTTPRoute via its Gateway)', () => {
    expect(viaUnbound(`grafana.${ZONE}`)).toEqual({
      status: 'NOERROR',
      answers: ['198.51.100.40'],
    });
  });

  it('merges a name served by both clusters', () => {
    expect(viaUnbound(`api.${ZONE}`).answers).toEqual(['192.0.2.20', '198.51.100.20']);
  });

  it('follows a hostname load balancer as a CNAME and a DNSEndpoint TXT', () => {
    const docs = viaUnbound(`docs.${ZONE}`, 'CNAME');
    expect(docs.answers).toEqual(['lb-1234.elb.example.net.']);
    expect(viaUnbound(`legacy.${ZONE}`, 'TXT').answers).toEqual(['"owner=ops-team"']);
  });

  it('gets NXDOMAIN for a name nobody serves, and NODATA for a missing type', () => {
    expect(viaUnbound(`nope.${ZONE}`)).toEqual({ status: 'NXDOMAIN', answers: [] });
    expect(viaUnbound(`shop.${ZONE}`, 'AAAA')).toEqual({ status: 'NOERROR', answers: [] });
  });

  it('follows a service that moves from cluster-x to cluster-y', async () => {
    expect(viaUnbound(`pg.${ZONE}`).answers).toEqual(['192.0.2.30']);
    const xFile = join(manifests, 'cluster-x', 'services.yaml');
    const moved = readFileSync(xFile, 'utf8')
      .replace('192.0.2.30', '198.51.100.30')
      .replace(/\n\s+- ip: 2001:db8::30/, '');
    // Appear in y first, then leave x: the order a migration runs in.
    writeFileSync(join(manifests, 'cluster-y', 'postgres.yaml'), moved);
    await new Promise((r) => setTimeout(r, 500));
    rmSync(xFile);
    // The gateways NOTIFY the authority, which drops what cluster-x supplied at once;
    // Unbound holds its copy for at most the record TTL (the wait bound is that TTL plus
    // slack: a protocol bound, not a speed check).
    const after = await until(
      () => viaUnbound(`pg.${ZONE}`).answers,
      (a) => a.length === 1 && a[0] === '198.51.100.30',
      (RECORD_TTL + 5) * 1000,
    );
    expect(after).toEqual(['198.51.100.30']);
  });

  it('sees a change at once at the authority when the gateways send NOTIFY', async () => {
    const direct = () =>
      execFileSync(
        'dig',
        ['@127.0.0.1', '-p', String(portBase), `api.${ZONE}`, 'A', '+short', '+time=2'],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .sort();
    expect(direct()).toEqual(['192.0.2.20', '198.51.100.20']); // cached now, TTL 30 s
    const invalidations = await authorityNotifyInvalidations();
    const yFile = join(manifests, 'cluster-y', 'ingresses.yaml');
    writeFileSync(yFile, readFileSync(yFile, 'utf8').replace('198.51.100.20', '198.51.100.21'));
    // Waited for well inside the 30 s TTL of the cached entry (a protocol bound) ...
    const after = await until(direct, (a) => a.includes('198.51.100.21'), 10_000);
    expect(after).toEqual(['192.0.2.20', '198.51.100.21']);
    // ... and the cause: cluster-y's NOTIFY was accepted and invalidated the cached entry.
    expect(await authorityNotifyInvalidations()).toBeGreaterThan(invalidations);
  });
});
