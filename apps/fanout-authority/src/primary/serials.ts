import { createHash } from 'node:crypto';
import {
  type Logger,
  Notifier,
  type NotifyCounters,
  type PrimaryFeeds,
  startedAtSeconds,
  tsigKeyName,
  zoneApexFromConfig,
} from '@mdns/ops';
import { nextSerial, normalizeName, type TsigKey, type ZoneApex } from '@mdns/protocol';
import type { AuthorityConfig } from '../config/schema.js';
import type { Replica } from '../replica/replica.js';
import { upstreamKey } from '../upstream/upstream.js';

// listen.workers > 1 with `transfer.enabled`: the merged zones' serials are owned once per
// process, by the primary (which runs the replicas, replica/share.ts), as the gateway's
// primary owns its zones' serials. Each worker's `MergedZonePrimary` follows: it takes the
// primary's serial (`ZoneVersions.adopt`) with the records and journal entry it computes
// from its own copies, and sends no NOTIFY. The primary computes no merged records (it holds
// the copies' records only, not their answering index): a serial moves when a new copy of a
// member is published, or a reload changed the zone, whether or not the merged view changed.

/** The serial the primary moved a merged zone to: key the zone, value the serial. */
export const MERGED_SERIAL_TOPIC = 'authority-merged-serial';
/**
 * Workers to the primary (`WorkerMergeConfig`): this worker is serving (its copies and serial
 * followed), sent once it listens, and again after each reload, with the config it merges by.
 */
export const MERGED_WORKER_TOPIC = 'authority-merged-worker';

export interface WorkerMergeConfig {
  worker: number;
  /** `mergeConfigKey` of the config the worker runs. */
  config: string;
}

/** How long a commit waits for every worker to run the primary's config before it goes anyway. */
export const CONFIG_AGREEMENT_WAIT_MS = 10_000;

/**
 * Pure: what the merged records depend on besides the copies (the zones' entries: apex,
 * policy, members; the `cache.maxTtl` cap), as a short key. The workers and the primary
 * each read the config file on their own: a serial is committed only when every worker runs
 * the primary's config, so each computes the records at it with the same config.
 */
export function mergeConfigKey(config: AuthorityConfig): string {
  return createHash('sha256')
    .update(JSON.stringify([config.zones, config.cache.maxTtl]))
    .digest('base64url')
    .slice(0, 16);
}

/**
 * Pure: a pending commit goes now when every worker that reported runs the primary's config
 * (`own`), or once it waited `CONFIG_AGREEMENT_WAIT_MS` (a worker that failed to reload must
 * not hold the serial forever: it then serves the old config's records at that serial).
 */
export function mayCommit(own: string, workers: Iterable<string>, waitedMs: number): boolean {
  if (waitedMs >= CONFIG_AGREEMENT_WAIT_MS) return true;
  for (const config of workers) if (config !== own) return false;
  return true;
}

/** A merged zone as the serial owner sees it: its name and its members' upstream keys. */
export interface ZoneMembers {
  name: string;
  members: readonly string[];
}

/** What changed since the last commit: members with a new copy, zones a reload touched. */
export interface PendingChanges {
  /** Upstream keys. */
  upstreams: ReadonlySet<string>;
  /** Zone names. */
  zones: ReadonlySet<string>;
}

/**
 * Pure: the zones a commit moves: those a reload touched or with a member that has a new
 * copy, whose every member holds a fresh copy now (`fresh`) — a zone that cannot be listed
 * keeps its serial, as a single process's commit skips it.
 */
export function zonesToMove(
  zones: Iterable<ZoneMembers>,
  pending: PendingChanges,
  fresh: (upstreamKey: string) => boolean,
): string[] {
  const moved: string[] = [];
  for (const zone of zones) {
    const touched =
      pending.zones.has(zone.name) || zone.members.some((m) => pending.upstreams.has(m));
    if (touched && zone.members.every(fresh)) moved.push(zone.name);
  }
  return moved;
}

/**
 * Pure: the zones (normalized names) a reload may have changed the merged records of: each
 * zone whose config entry differs (NS, glue, SOA fields, policy, members), and every zone
 * when `cache.maxTtl` (the TTL cap the merge applies) differs. Zones added by the reload are
 * left out by the caller (offered for transfer only after a restart).
 */
export function zonesReloaded(before: AuthorityConfig, after: AuthorityConfig): string[] {
  const old = new Map(before.zones.map((z) => [normalizeName(z.name), JSON.stringify(z)]));
  const all = before.cache.maxTtl !== after.cache.maxTtl;
  return after.zones
    .filter((z) => all || old.get(normalizeName(z.name)) !== JSON.stringify(z))
    .map((z) => normalizeName(z.name));
}

export interface MergedSerialOwnerOptions {
  config: AuthorityConfig;
  feeds: Pick<PrimaryFeeds, 'publish'>;
  keys: readonly TsigKey[];
  /** The primary's replicas now, by upstream key (a reload swaps the set). */
  replicas: () => ReadonlyMap<string, Replica>;
  logger: Logger;
  /** `listen.workers`: the first NOTIFY waits until this many workers are serving. */
  workers: number;
}

/**
 * The primary's side: each merged zone's serial (from the start second, as in every worker),
 * moved `transfer.notify.debounceMs` after the first change not yet committed, published on
 * `MERGED_SERIAL_TOPIC` after the copies it covers (the feeds keep publication order per
 * worker), then one NOTIFY round to `transfer.notify.targets`. The replicas here load before
 * the workers listen: a secondary told at once would find no worker (Knot then waits its
 * retry interval), so the first NOTIFY waits until every worker is serving (`workerReport`;
 * it carries the serial then, which covers any commit before it); a restarted worker adds none.
 */
export class MergedSerialOwner {
  readonly #options: MergedSerialOwnerOptions;
  readonly #apexes = new Map<string, ZoneApex>();
  readonly #notifier: Notifier;
  #config: AuthorityConfig;
  /** Upstream keys with a new copy, and zones a reload touched, since the last commit. */
  readonly #changedUpstreams = new Set<string>();
  readonly #changedZones = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  /** Each worker that reported, with the config key it runs. */
  readonly #workers = new Map<number, string>();
  #configKey: string;
  /** When the pending commit first waited for the workers' config, or null. */
  #waitingSince: number | null = null;
  /** A serial moved while the NOTIFY was held (not every worker serving yet). */
  #held = false;

  constructor(options: MergedSerialOwnerOptions) {
    this.#options = options;
    this.#config = options.config;
    this.#configKey = mergeConfigKey(options.config);
    const settings = options.config.transfer;
    const serial = startedAtSeconds();
    for (const zc of options.config.zones) {
      const apex = zoneApexFromConfig(zc, serial);
      this.#apexes.set(apex.zone, apex);
      // A worker forked later (restarted) starts from its own second: this puts it right.
      options.feeds.publish(MERGED_SERIAL_TOPIC, apex.zone, apex.soa.serial);
    }
    const keys = new Map(options.keys.map((k) => [k.name, k]));
    this.#notifier = new Notifier({
      targets: settings.notify.targets,
      zones: [...this.#apexes.keys()],
      // The debounce happens once, here: a NOTIFY follows each new serial at once.
      debounceMs: 0,
      timeoutMs: settings.notify.timeoutMs,
      retries: settings.notify.retries,
      logger: options.logger.child({ component: 'notify' }),
      soa: (zone) => this.#apexes.get(zone),
      key: (name) => keys.get(tsigKeyName(name)),
    });
  }

  /** NOTIFY to the secondaries: sent, acknowledged, rejected, failed, resolveFailed. */
  get notifyCounters(): NotifyCounters {
    return this.#notifier.counters;
  }

  /** The serial of a zone now (tests). */
  serial(zone: string): number | undefined {
    return this.#apexes.get(zone)?.soa.serial;
  }

  /** A new copy of the upstream with this key was published to the workers. */
  copyChanged(upstreamKeyText: string): void {
    this.#changedUpstreams.add(upstreamKeyText);
    this.#arm();
  }

  /**
   * A reload: the zones it changed move (the workers, which reload the same file, compute
   * their records with the new config by then: the serial comes a debounce later). The
   * apex fields but the serial follow the config, for the NOTIFY's SOA.
   */
  reloaded(next: AuthorityConfig): void {
    for (const zone of zonesReloaded(this.#config, next)) {
      if (this.#apexes.has(zone)) this.#changedZones.add(zone);
    }
    for (const zc of next.zones) {
      const apex = this.#apexes.get(normalizeName(zc.name));
      if (apex === undefined) continue;
      const fields = zoneApexFromConfig(zc, apex.soa.serial);
      Object.assign(apex, { ...fields, soa: { ...fields.soa, serial: apex.soa.serial } });
    }
    this.#config = next;
    this.#configKey = mergeConfigKey(next);
    if (this.#changedZones.size > 0) this.#arm();
  }

  /** Moves the serials of the zones changed since the last commit; returns those zones. */
  commit(nowSeconds = Date.now() / 1000): string[] {
    const replicas = this.#options.replicas();
    const fresh = (key: string) => replicas.get(key)?.fresh() != null;
    const moved = zonesToMove(
      this.#zones(),
      { upstreams: this.#changedUpstreams, zones: this.#changedZones },
      fresh,
    );
    this.#changedUpstreams.clear();
    this.#changedZones.clear();
    for (const zone of moved) {
      const apex = this.#apexes.get(zone) as ZoneApex;
      apex.soa.serial = nextSerial(apex.soa.serial, nowSeconds);
      this.#options.feeds.publish(MERGED_SERIAL_TOPIC, zone, apex.soa.serial);
    }
    if (moved.length > 0) {
      this.#options.logger.info(
        { zones: moved.map((z) => `${z}@${this.#apexes.get(z)?.soa.serial}`) },
        'merged zone changed: new serial',
      );
      this.#notify();
    }
    return moved;
  }

  /**
   * A worker is serving (first report) or reloaded, with the config it runs. Once every
   * worker served, the held NOTIFY goes.
   */
  workerReport(report: WorkerMergeConfig): void {
    const served = this.#allServing();
    this.#workers.set(report.worker, report.config);
    if (!served && this.#allServing() && this.#held) this.#notify();
  }

  #allServing(): boolean {
    return this.#workers.size >= this.#options.workers;
  }

  #notify(): void {
    this.#held = !this.#allServing();
    if (!this.#held) this.#notifier.changed();
  }

  async stop(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#notifier.stop();
  }

  #arm(): void {
    if (this.#timer) return;
    // The debounce is bound at start, as the rest of `transfer` (a reload warns).
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const now = Date.now();
      this.#waitingSince ??= now;
      if (!mayCommit(this.#configKey, this.#workers.values(), now - this.#waitingSince)) {
        // A worker has not read the file the primary did: its records would be the old ones.
        this.#arm();
        return;
      }
      if (now - this.#waitingSince >= CONFIG_AGREEMENT_WAIT_MS) {
        this.#options.logger.warn(
          { waitedMs: now - this.#waitingSince },
          'merged zone serial moved before every worker ran the same config',
        );
      }
      this.#waitingSince = null;
      this.commit();
    }, this.#options.config.transfer.notify.debounceMs);
    this.#timer.unref();
  }

  /** The zones known at start (a reload's new zones wait for a restart), with their members now. */
  #zones(): ZoneMembers[] {
    const out: ZoneMembers[] = [];
    for (const zc of this.#config.zones) {
      const zone = normalizeName(zc.name);
      if (!this.#apexes.has(zone)) continue;
      out.push({
        name: zone,
        members: zc.upstreams.map((u) =>
          upstreamKey({ zone, name: u.name, address: u.address, port: u.port }),
        ),
      });
    }
    return out;
  }
}
