import { tsigKeyName, zoneApexFromConfig } from '@mdns/ops';
import {
  type DnsRecord,
  negativeSoa,
  normalizeName,
  type SharedRules,
  type TsigKey,
  type ZoneApex,
  ZoneSet,
} from '@mdns/protocol';
import type { DnsClient } from '@mdns/transport';
import { Replica, type ReplicaOptions } from '../replica/replica.js';
import { UpstreamHealth } from '../upstream/health.js';
import { type NotifySender, notifySourceSet } from '../upstream/notify-sources.js';
import { Upstream, type UpstreamLimits, upstreamKey } from '../upstream/upstream.js';
import type { AuthorityConfig, Policy } from './schema.js';

/** One upstream as a member of a zone's fan-out. */
export interface ZoneMember {
  upstream: Upstream;
  /** Lower = preferred (`priority` policy). */
  priority: number;
  /** This authority's copy of the upstream's zone (`transfer.enabled`); null: asked per query. */
  replica: Replica | null;
}

export interface ZoneRuntime {
  name: string;
  apex: ZoneApex;
  policy: Policy;
  members: readonly ZoneMember[];
  /** Precomputed: the authority section of every NODATA/NXDOMAIN in this zone. */
  negativeSoa: DnsRecord;
}

/**
 * Everything a query needs, built whole from one validated config and swapped in with a
 * single reference assignment: a query sees either the old runtime or the new one, never
 * a mix.
 */
export interface Runtime {
  config: AuthorityConfig;
  zoneSet: ZoneSet;
  zones: ReadonlyMap<string, ZoneRuntime>;
  /**
   * The shared answer rules over these zones. No local data: every in-zone name the rules
   * leave open is fanned out. Transfers refused.
   */
  rules: SharedRules<never, ZoneRuntime>;
  upstreams: readonly Upstream[];
  /** NOTIFY senders we accept: each upstream with its address ∪ `notify.allowFrom`. */
  notifiers: readonly NotifySender<Upstream>[];
  limits: UpstreamLimits;
  allPolicyWaitMs: number;
  /** Every replica of this runtime, by upstream key (`upstreamKey`). */
  replicas: ReadonlyMap<string, Replica>;
}

/** What replicas need besides the config: the resolved keys and where they report. */
export interface ReplicationWiring {
  /** `transfer.keys` with their secrets read, by normalized name. */
  keys: ReadonlyMap<string, TsigKey>;
  logger: ReplicaOptions['logger'];
  onChange?: ReplicaOptions['onChange'];
  /** Tests: a stand-in for the TCP transfer client. */
  pull?: ReplicaOptions['pull'];
  /**
   * listen.workers > 1, in a worker: the replicas follow the primary's (replica/share.ts);
   * a verified NOTIFY for the upstream with this key goes to the primary.
   */
  follow?: (upstreamKey: string, serial?: number) => void;
  /** In the primary of several workers: told after each replica's every check (its replicas answer nothing). */
  onChecked?: ReplicaOptions['onChecked'];
}

/**
 * The replicas of `config` (upstreams with `transfer.enabled`), by upstream key: those of
 * `previous` whose identity is unchanged are kept (copy, timers, counters), the others are
 * new and not started. Used by `buildRuntime`, and alone by the primary of several workers.
 */
export function buildReplicas(
  config: AuthorityConfig,
  replication: ReplicationWiring,
  previous?: Iterable<Replica>,
): Map<string, Replica> {
  const oldReplicas = new Map<string, Replica>();
  for (const r of previous ?? []) {
    oldReplicas.set(replicaIdentity(upstreamKey(r.upstream), r.options), r);
  }
  const replicas = new Map<string, Replica>();
  for (const zc of config.zones) {
    const zone = normalizeName(zc.name);
    for (const uc of zc.upstreams) {
      if (!uc.transfer.enabled) continue;
      const where = { zone, name: uc.name, address: uc.address, port: uc.port };
      const key = upstreamKey(where);
      const tsig =
        uc.transfer.key === undefined
          ? undefined
          : replication.keys.get(tsigKeyName(uc.transfer.key));
      if (uc.transfer.key !== undefined && tsig === undefined) {
        // The schema checks key names; a missing one here is a wiring bug.
        throw new Error(`upstream ${zone}/${uc.name}: key ${uc.transfer.key} was not resolved`);
      }
      const follow = replication.follow;
      const options: ReplicaOptions = {
        upstream: where,
        settings: uc.transfer,
        key: tsig,
        logger: replication.logger,
        onChange: replication.onChange,
        ...(replication.pull ? { pull: replication.pull } : {}),
        ...(follow ? { follow: (serial?: number) => follow(key, serial) } : {}),
        ...(replication.onChecked ? { onChecked: replication.onChecked, answers: false } : {}),
      };
      replicas.set(key, oldReplicas.get(replicaIdentity(key, options)) ?? new Replica(options));
    }
  }
  return replicas;
}

/**
 * A reload keeps a replica (its copy, timers and counters) when nothing it depends on
 * changed: the upstream's identity, its transfer settings and the key's secret.
 */
function replicaIdentity(upstreamKeyText: string, options: ReplicaOptions): string {
  const key = options.key;
  return JSON.stringify([
    upstreamKeyText,
    options.settings,
    key ? [key.name, key.algorithm, Buffer.from(key.secret).toString('base64')] : null,
  ]);
}

/**
 * Builds a runtime whose upstreams send through `client` (the caller owns it: a socket pool
 * outlives a reload that keeps its size). Upstreams whose identity (zone, name, address,
 * port) is unchanged from `previous` keep their health object: learned RTT, circuit state
 * and counters. `onCircuitChange`: told when an upstream's own queries open or close its
 * circuit (upstream/share.ts passes it on to the sibling workers).
 */
export function buildRuntime(
  config: AuthorityConfig,
  serial: number,
  client: DnsClient,
  previous?: Runtime,
  /** Absent: no replicas at all (tests of the fan-out alone); main always passes it. */
  replication?: ReplicationWiring,
  /** listen.workers > 1: tells the sibling workers of a circuit transition (upstream/share.ts). */
  onCircuitChange?: (upstream: Upstream) => void,
): Runtime {
  const u = config.upstream;
  const limits: UpstreamLimits = {
    floorMs: u.timeoutFloorMs,
    ceilingMs: u.timeoutCeilingMs,
    initialMs: u.initialTimeoutMs,
    failureThreshold: u.failureThreshold,
    probeIntervalMs: u.probeIntervalMs,
    randomCase: u.randomCase,
  };
  const oldHealth = new Map<string, UpstreamHealth>();
  for (const up of previous?.upstreams ?? []) oldHealth.set(up.key, up.health);

  const replicas =
    replication === undefined
      ? new Map<string, Replica>()
      : buildReplicas(config, replication, previous?.replicas.values());

  const zones = new Map<string, ZoneRuntime>();
  const upstreams: Upstream[] = [];
  const notifiers: NotifySender<Upstream>[] = [];
  for (const zc of config.zones) {
    const name = normalizeName(zc.name);
    const members: ZoneMember[] = zc.upstreams.map((uc) => {
      const where = { zone: name, name: uc.name, address: uc.address, port: uc.port };
      const health = oldHealth.get(upstreamKey(where)) ?? new UpstreamHealth();
      const upstream = new Upstream(where, health, limits, client, onCircuitChange);
      upstreams.push(upstream);
      notifiers.push({ upstream, from: notifySourceSet(uc.address, uc.notify.allowFrom) });
      const replica = replicas.get(upstream.key) ?? null;
      return { upstream, priority: uc.priority, replica };
    });
    const apex = zoneApexFromConfig(zc, serial);
    zones.set(name, { name, apex, policy: zc.policy, members, negativeSoa: negativeSoa(apex) });
  }
  const zoneSet = new ZoneSet(zones.keys());
  const zoneOf = (qname: string): ZoneRuntime | undefined => {
    const zone = zoneSet.match(qname);
    return zone === undefined ? undefined : zones.get(zone);
  };
  return {
    config,
    zoneSet,
    zones,
    rules: { zoneOf, refuseTransfers: true, local: null },
    upstreams,
    notifiers,
    limits,
    allPolicyWaitMs: u.allPolicyWaitMs,
    replicas,
  };
}
