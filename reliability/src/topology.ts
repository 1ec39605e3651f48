import { setTimeout as sleep } from 'node:timers/promises';
import {
  authorityConfig,
  fixtureObjects,
  gatewayConfig,
  KNOWN,
  type Workdir,
  writeManifests,
  ZONE,
} from './fixtures.js';
import type { Expectation } from './probe.js';
import { type AppProcess, startServer, writeConfig } from './server-process.js';

/** Polls `/ready` until 200 (bounded). */
export async function waitReady(server: AppProcess, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < end) {
    if (!server.alive) throw new Error(`${server.name} exited: ${JSON.stringify(server.exit)}`);
    try {
      const r = await server.http('/ready');
      if (r.status === 200) return;
      last = `${r.status} ${r.body}`;
    } catch (err) {
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`${server.name} not ready after ${timeoutMs} ms: ${last}`);
}

/** A gateway serving the fixture objects from a manifests directory, ready. */
export async function startFixtureGateway(
  work: Workdir,
  overrides: Record<string, unknown> = {},
  name = 'gateway',
  objects = fixtureObjects(),
): Promise<AppProcess> {
  const manifests = writeManifests(work.path, objects);
  const file = writeConfig(work.path, `${name}.yaml`, gatewayConfig({ manifests }, overrides));
  const server = await startServer('cluster-gateway', file);
  await waitReady(server);
  return server;
}

/**
 * A gateway on ::1 to sit behind an authority under fuzz. The authority accepts NOTIFY from
 * its upstreams' addresses; with the upstream on 127.0.0.1 too, the fuzzer's NOTIFY packets
 * (sweep family, from 127.0.0.1) would pass as the gateway's and flush the cache thousands of
 * times a second — an attacker who can spoof the gateway's address, which is a finding of its
 * own (RELIABILITY.md), not the packet-parsing robustness the fuzz campaign measures.
 */
export function startUpstreamGateway6(work: Workdir): Promise<AppProcess> {
  return startFixtureGateway(work, { listen: { host: '::1', port: 0 } }, 'gateway6');
}

/** An authority in front of `upstreams` (name + port, on 127.0.0.1 unless `address`), ready. */
export async function startAuthority(
  work: Workdir,
  upstreams: { name: string; port: number; address?: string }[],
  overrides: Record<string, unknown> = {},
  name = 'authority',
  spawn: { main?: string; cgroup?: string } = {},
): Promise<AppProcess> {
  const file = writeConfig(work.path, `${name}.yaml`, authorityConfig(upstreams, overrides));
  const server = await startServer('fanout-authority', file, spawn);
  await waitReady(server);
  return server;
}

/** The canonical "valid query after the storm": web.<zone> A must be exactly its address. */
export const WEB_A: Expectation = { name: KNOWN.web.name, type: 'A', addresses: KNOWN.web.a };
export const MULTI_A: Expectation = {
  name: KNOWN.multi.name,
  type: 'A',
  addresses: KNOWN.multi.a,
};

export const KNOWN_NAMES: readonly string[] = [KNOWN.web.name, KNOWN.multi.name, ZONE];
