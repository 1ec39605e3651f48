import type { KubeConfig } from '@kubernetes/client-node';
import type { Tenancy } from '../claims/context.js';
import type { SourcesConfig } from '../config.js';
import type { Filters } from '../filters.js';
import { ClaimLedger, defaultTenancy, type LedgerHealth, type WatchedKind } from '../ledger.js';
import { objectKey, slimMeta } from '../slim.js';
import type {
  ExplainedClaim,
  IndexSink,
  KindState,
  Source,
  SourceKind,
  SourceLogger,
} from '../types.js';
import { Reflector } from './reflector.js';
import { type ResourceApi, resourceApi, resourceOf } from './resources.js';
import { EventWatch, type WatchApi } from './watch-stream.js';

export interface KubernetesSourceOptions {
  kc: KubeConfig;
  config: SourcesConfig['kubernetes'];
  kinds: readonly SourceKind[];
  zones: readonly string[];
  defaultTtl: number;
  filters: Filters;
  /** externalIPs, ownership policy, rejection counters; default: `defaultTenancy()`. */
  tenancy?: Tenancy;
  /** `sources.health`: EndpointSlices are watched and decide which objects answer; null: off. */
  health?: LedgerHealth | null;
  logger: SourceLogger;
  /**
   * Called once when every kind this source watches (EndpointSlices and Gateways too, which
   * the index's readiness does not wait for) has finished its first list, or is absent or
   * forbidden: the end of the start-up burst of allocation.
   */
  onAllListed?: () => void;
  /** For tests: replaces the discovery/list calls. */
  api?: ResourceApi;
  /** For tests: replaces the watch stream. */
  watch?: WatchApi;
}

const ROUTE_KINDS: ReadonlySet<SourceKind> = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute']);
/** Sign-of-life updates reach the sink at most this often (the index only shows staleness). */
const ALIVE_REPORT_MS = 1000;

/**
 * One reflector per enabled kind, plus one for Gateways when any route kind is enabled
 * (routes take their addresses from their parent Gateways). Route kinds start after the
 * Gateways' first list so a route is never briefly published without its addresses.
 */
export class KubernetesSource implements Source {
  private readonly reflectors: Reflector[] = [];
  private readonly states = new Map<SourceKind, KindState>();
  private readonly reportedAt = new Map<SourceKind, number>();
  private readonly trailing = new Map<SourceKind, NodeJS.Timeout>();
  /** `kind namespace/name` of objects refused for their size (bounded: each cost its sender MiBs). */
  private readonly oversized = new Set<string>();
  private gatewaysSettled: (() => void) | null = null;
  private stopped = false;
  private routesStarted = false;
  private ledger: ClaimLedger | null = null;

  constructor(private readonly opts: KubernetesSourceOptions) {}

  async start(sink: IndexSink): Promise<void> {
    const o = this.opts;
    const tenancy = o.tenancy ?? defaultTenancy();
    const ledger = new ClaimLedger(
      o.kinds,
      o.zones,
      o.defaultTtl,
      o.filters,
      sink,
      o.logger,
      tenancy,
      o.health ?? null,
    );
    this.ledger = ledger;
    const api =
      o.api ?? resourceApi(o.kc, o.config.watchSilenceSeconds * 1000, o.config.maxPageBytes);
    const watch = o.watch ?? new EventWatch(o.kc, o.config.maxEventBytes);
    const labelSelector = o.filters.labelSelectorText || undefined;
    const reflectorOpts = {
      labelSelector,
      silenceMs: o.config.watchSilenceSeconds * 1000,
      recheckMs: o.config.crdRecheckSeconds * 1000,
      backoff: o.config.backoff,
      logger: o.logger,
    };
    for (const kind of o.kinds)
      this.report(sink, kind, { phase: 'syncing', objects: 0, lastEventAt: null });

    const routes = o.kinds.filter((k) => ROUTE_KINDS.has(k));
    const others = o.kinds.filter((k) => !ROUTE_KINDS.has(k));
    // Every reflector this source will start, routes included although they start later.
    const unlisted = new Set<WatchedKind>(others);
    if (o.health) unlisted.add('EndpointSlice');
    if (routes.length > 0) for (const k of ['Gateway' as const, ...routes]) unlisted.add(k);
    const firstListed = (kind: WatchedKind) => {
      if (!unlisted.delete(kind) || unlisted.size > 0) return;
      o.onAllListed?.();
    };
    // Nothing to list (`resources: []`, health off): start-up has nothing to wait for.
    if (unlisted.size === 0) o.onAllListed?.();
    // The label selector picks the objects that claim names; it says nothing about slices.
    const sliceOpts = { ...reflectorOpts, labelSelector: undefined };
    const make = (kind: WatchedKind) =>
      new Reflector(
        resourceOf(kind, o.config.gatewayApiVersions),
        api,
        watch,
        kind === 'EndpointSlice' ? sliceOpts : reflectorOpts,
        {
          listed: (items) => ledger.replaceAll(kind, items),
          upsert: (obj) => ledger.upsert(kind, obj),
          remove: (obj) => {
            const meta = slimMeta(obj);
            if (meta) ledger.remove(kind, objectKey(meta), obj);
          },
          oversized: (object, bytes, where) => {
            // A relist meets the same object again: said and counted once (a watch event is a change).
            const seen = `${kind} ${object}`;
            if (where === 'list' && this.oversized.has(seen)) return;
            this.oversized.add(seen);
            tenancy.rejected.object_too_large++;
            const cap =
              where === 'list'
                ? `sources.kubernetes.maxPageBytes ${o.config.maxPageBytes}`
                : `sources.kubernetes.maxEventBytes ${o.config.maxEventBytes}`;
            // A watched object that grew too large loses its claims: serving what it said
            // before would keep a name its owner may have meant to change or remove.
            if (where === 'watch' && object !== null) {
              ledger.remove(kind, object.includes('/') ? object : `default/${object}`);
            }
            o.logger.warn(
              { kind, object, bytes, where },
              `${kind} ${object ?? '(name not readable)'} skipped: over ${cap} bytes (${where})`,
            );
          },
          state: (phase, message) => {
            if (phase === 'synced' || phase === 'absent' || phase === 'forbidden')
              firstListed(kind);
            // Health never blocks answers: until slices are listed (or when the API is absent or
            // forbidden, said once by the reflector) every object counts as healthy.
            if (kind === 'EndpointSlice') return;
            if (kind === 'Gateway') {
              if (phase !== 'syncing' && phase !== 'error') this.gatewaysSettled?.();
              else if (phase === 'error' && !this.routesStarted) {
                // Routes wait for Gateways: say why they are not synced yet.
                for (const r of routes) {
                  this.report(sink, r, {
                    phase: 'error',
                    objects: 0,
                    lastEventAt: null,
                    message: `waiting for Gateways: ${message}`,
                  });
                }
              }
              return;
            }
            const prev = this.states.get(kind);
            this.report(sink, kind, {
              phase,
              objects: ledger.count(kind),
              lastEventAt: prev?.lastEventAt ?? null,
              message,
            });
          },
          alive: (at) => {
            if (kind === 'Gateway' || kind === 'EndpointSlice') return;
            const prev = this.states.get(kind);
            if (!prev) return;
            prev.lastEventAt = at;
            // Event bursts would otherwise call the sink once per event: report at most once
            // per ALIVE_REPORT_MS, with one trailing report so the last event is not lost.
            const since = at - (this.reportedAt.get(kind) ?? 0);
            if (since >= ALIVE_REPORT_MS) {
              this.report(sink, kind, { ...prev, objects: ledger.count(kind) });
            } else if (!this.trailing.has(kind)) {
              const t = setTimeout(() => {
                this.trailing.delete(kind);
                const now = this.states.get(kind);
                if (now && !this.stopped)
                  this.report(sink, kind, { ...now, objects: ledger.count(kind) });
              }, ALIVE_REPORT_MS - since);
              t.unref();
              this.trailing.set(kind, t);
            }
          },
        },
      );

    if (o.health) this.add(make('EndpointSlice'));
    for (const kind of others) this.add(make(kind));
    if (routes.length > 0) {
      const settled = new Promise<void>((resolve) => {
        this.gatewaysSettled = resolve;
      });
      this.add(make('Gateway'));
      void settled.then(() => {
        this.routesStarted = true;
        if (this.stopped) return;
        for (const kind of routes) this.add(make(kind));
      });
    }
  }

  explain(name: string): ExplainedClaim[] {
    return this.ledger?.explain(name) ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.gatewaysSettled?.();
    for (const t of this.trailing.values()) clearTimeout(t);
    await Promise.all(this.reflectors.map((r) => r.stop()));
    this.ledger?.stop();
  }

  private add(r: Reflector): void {
    this.reflectors.push(r);
    r.start();
  }

  private report(sink: IndexSink, kind: SourceKind, state: KindState): void {
    if (state.message === undefined) delete state.message;
    this.states.set(kind, state);
    this.reportedAt.set(kind, Date.now());
    sink.setKindState(kind, { ...state });
  }
}
