import {
  createTransferResponder,
  type Logger,
  Notifier,
  type NotifyCounters,
  newTransferCounters,
  type TransferCounters,
  tsigKeyName,
  ZoneVersions,
} from '@mdns/ops';
import { type DnsRecord, negativeSoa, type TsigKey, type ZoneApex } from '@mdns/protocol';
import { addressSet } from '@mdns/transport';
import type { Runtime, ZoneRuntime } from '../config/runtime.js';
import type { AuthorityConfig } from '../config/schema.js';
import { mergedZone } from './merged-zone.js';

export type TransferResponder = ReturnType<typeof createTransferResponder>;

export interface MergedZonePrimaryOptions {
  /** `transfer` at start: the primary's settings are bound at start (a reload warns). */
  settings: AuthorityConfig['transfer'];
  keys: readonly TsigKey[];
  /** Read at each use: a reload swaps the runtime. */
  runtime: () => Runtime;
  logger: Logger;
  /**
   * listen.workers > 1, in a worker: the process primary owns the serial (serials.ts). No
   * commit of our own and no NOTIFY: `adoptSerial` takes each serial it publishes.
   */
  follower?: boolean;
}

/**
 * This authority as the primary of its merged zones (README, "Primary for the merged
 * zone"): `ZoneVersions` (@mdns/ops) holds each zone's serial, records and journal, the
 * records being `mergedZone` over the fresh copies; a copy swapped in (`changed`) is a
 * commit within `notify.debounceMs`, a commit that moved a serial sends NOTIFY. The apex
 * objects are the runtime's own, so the SOA the authority answers carries the transfer serial.
 * A `follower` (a worker of several) never commits: the process primary's serial arrives by
 * `adoptSerial`, after the copies it covers, and the records and journal entry at it are
 * computed here from this worker's copies (`ZoneVersions.adopt`).
 */
export class MergedZonePrimary {
  readonly counters: TransferCounters = newTransferCounters();
  readonly respond: TransferResponder;
  readonly #versions: ZoneVersions;
  /** null: a follower (the process primary sends the one NOTIFY). */
  readonly #notifier: Notifier | null;
  readonly #options: MergedZonePrimaryOptions;
  /** Why a zone cannot be listed now (logged when it changes). */
  readonly #why = new Map<string, string>();

  constructor(options: MergedZonePrimaryOptions) {
    this.#options = options;
    const { settings, logger } = options;
    const rt = options.runtime();
    const keys = new Map(options.keys.map((k) => [k.name, k]));
    this.#notifier = options.follower
      ? null
      : new Notifier({
          targets: settings.notify.targets,
          zones: [...rt.zones.keys()],
          // The debounce happens once, in ZoneVersions: a NOTIFY follows each new serial at once.
          debounceMs: 0,
          timeoutMs: settings.notify.timeoutMs,
          retries: settings.notify.retries,
          logger: logger.child({ component: 'notify' }),
          soa: (zone) => this.#versions.zone(zone)?.apex,
          key: (name) => keys.get(tsigKeyName(name)),
        });
    this.#versions = new ZoneVersions({
      apexes: [...rt.zones.values()].map((z) => z.apex),
      records: (apex) => this.#records(apex),
      journal: settings.journal,
      debounceMs: settings.notify.debounceMs,
      // A follower commits nothing: only `baseline` (records taken at the serial it has) calls it.
      onCommit: (zones) => {
        this.#serialMoved(zones);
        if (options.follower) return;
        logger.info(
          { zones: zones.map((z) => `${z}@${this.#versions.zone(z)?.apex.soa.serial}`) },
          'merged zone changed: new serial',
        );
        this.#notifier?.changed();
      },
    });
    this.respond = createTransferResponder({
      enabled: true,
      versions: this.#versions,
      allow: addressSet(settings.allow),
      keys: options.keys,
      maxMessageBytes: settings.maxMessageBytes,
      fudgeSeconds: settings.fudgeSeconds,
      ready: (zone) => this.ready(zone),
      notReadyWhy: (zone) => this.#why.get(zone) ?? 'zone data not complete',
      counters: this.counters,
      logger: logger.child({ component: 'transfer' }),
    });
  }

  /** NOTIFY to the secondaries: sent, acknowledged, …; null in a follower (the primary's). */
  get notifyCounters(): NotifyCounters | null {
    return this.#notifier?.counters ?? null;
  }

  /** A copy was swapped in (or a reload): the merged records may have changed. */
  changed(): void {
    if (!this.#options.follower) this.#versions.changed();
  }

  /**
   * A follower: the process primary moved `zone` to `serial` (or told its start serial). The
   * copies it covers arrived before it: the records at it and the journal entry to it are
   * this worker's own. Equal to ours with no records yet (a worker restarted in the second
   * of the last commit): the records are taken at it.
   */
  adoptSerial(zone: string, serial: number): void {
    if (this.#versions.adopt(zone, serial, true)) this.#serialMoved([zone]);
    else if (this.#versions.zone(zone)?.records === null) this.#versions.baseline();
  }

  /**
   * The zone can be listed now: every member answered from a fresh copy, and the records at
   * the serial were built from them. Checked at each request: a copy expires without an event.
   */
  ready(name: string): boolean {
    const version = this.#versions.zone(name);
    const zone = this.#options.runtime().zones.get(name);
    if (version?.records === null || version === undefined || zone === undefined) return false;
    const missing = zone.members.filter((m) => m.replica?.fresh() == null);
    if (missing.length === 0) return true;
    this.#say(name, `no fresh copy of ${missing.map((m) => m.upstream.name).join(', ')}`);
    return false;
  }

  /**
   * A reload built `rt`: its zones known at start take the primary's apex (the serial moves
   * only with the records; the other SOA fields, NS and glue come from the new config).
   * Zones added by a reload are not offered for transfer until a restart.
   */
  adopt(rt: Runtime): void {
    for (const zone of rt.zones.values()) {
      const version = this.#versions.zone(zone.name);
      if (version === undefined) continue;
      adoptApex(version.apex, zone);
    }
    // A follower's serial moves with the primary's, which reloads the same file.
    this.changed();
  }

  /** Serial of a zone as the primary serves it (tests, explain). */
  serial(zone: string): number | undefined {
    return this.#versions.zone(zone)?.apex.soa.serial;
  }

  async stop(): Promise<void> {
    this.#versions.stop();
    await this.#notifier?.stop();
  }

  /** The runtime's negative answers carry the new SOA. */
  #serialMoved(zones: readonly string[]): void {
    const now = this.#options.runtime();
    for (const name of zones) {
      const zone = now.zones.get(name);
      if (zone) zone.negativeSoa = negativeSoa(zone.apex);
    }
  }

  #records(apex: ZoneApex): DnsRecord[] | null {
    const rt = this.#options.runtime();
    const zone = rt.zones.get(apex.zone);
    if (zone === undefined) {
      this.#say(apex.zone, 'the zone is no longer configured');
      return null;
    }
    const merged = mergedZone({
      apex,
      policy: zone.policy,
      sources: zone.members.map((m) => ({
        name: m.upstream.name,
        priority: m.priority,
        copy: m.replica?.fresh() ?? null,
      })),
      maxTtl: rt.config.cache.maxTtl,
      owns: (name) => rt.zoneSet.match(name) === apex.zone,
    });
    if (!merged.ok) {
      this.#say(apex.zone, merged.why);
      return null;
    }
    if (this.#why.delete(apex.zone)) {
      this.#options.logger.info({ zone: apex.zone }, 'merged zone complete: offered for transfer');
    }
    return merged.records;
  }

  #say(zone: string, why: string): void {
    if (this.#why.get(zone) === why) return;
    this.#why.set(zone, why);
    this.#options.logger.warn(
      { zone, why },
      'merged zone cannot be listed: transfers of it answer SERVFAIL',
    );
  }
}

function adoptApex(apex: ZoneApex, zone: ZoneRuntime): void {
  const next = zone.apex;
  if (next !== apex) {
    Object.assign(apex.soa, { ...next.soa, serial: apex.soa.serial });
    apex.soaTtl = next.soaTtl;
    apex.ns = next.ns;
    apex.nsTtl = next.nsTtl;
    apex.glue = next.glue;
    zone.apex = apex;
  }
  zone.negativeSoa = negativeSoa(apex);
}
