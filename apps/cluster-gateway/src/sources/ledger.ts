import { type AnnotatedKind, ignoresHealth, reportUnsupported } from './claims/annotations.js';
import {
  type ClaimContext,
  type ClaimResult,
  type GatewayTarget,
  newRejectionCounts,
  objectRef,
  type Tenancy,
} from './claims/context.js';
import { dnsEndpointClaims } from './claims/dns-endpoint.js';
import { ingressClaims } from './claims/ingress.js';
import { gatewayTarget, parentGatewayKeys, type RouteKind, routeClaims } from './claims/route.js';
import { serviceClaims } from './claims/service.js';
import { admitsGateway, admitsIngress, admitsMeta, type Filters } from './filters.js';
import { ServiceHealth } from './health/service-health.js';
import type { HealthTally } from './health/tally.js';
import { claimHealthy, type HealthRequirement } from './health/verdict.js';
import { applyOwnership, OPEN_POLICY } from './ownership.js';
import { addRef, deleteRef, type RefSets, refsOf } from './ref-sets.js';
import {
  objectKey,
  type SlimMeta,
  type SlimRoute,
  type SlimService,
  slimDnsEndpoint,
  slimGateway,
  slimIngress,
  slimRoute,
  slimService,
} from './slim.js';
import type { Claim, IndexSink, SourceKind, SourceLogger } from './types.js';

/**
 * What a source watches: the index kinds plus Gateways, which only feed route addresses,
 * and EndpointSlices, which only feed health.
 */
export type WatchedKind = SourceKind | 'Gateway' | 'EndpointSlice';

/** `sources.health` as a ledger applies it. */
export interface LedgerHealth {
  require: HealthRequirement;
  graceMs: number;
  /** Counts held-back objects and flips (metrics). */
  tally?: HealthTally;
}

interface Entry {
  /** Compared with `sameClaims`, so a no-op update (status churn) never reaches the index. */
  claims: Claim[];
  warnings: string;
  route?: SlimRoute;
  /** Backend Services (`namespace/name`) whose ready endpoints decide health; null: none apply. */
  backends: string[] | null;
  /** What the index holds: `claims` when healthy, their names without data when not. */
  healthy: boolean;
  /** A published headless Service: claimed again when its ready endpoints change. */
  headless?: SlimService;
}

/** One frozen empty list for every claim without values of a type (most have no AAAA, no TXT). */
const NO_VALUES = Object.freeze([]) as unknown as string[];

/**
 * An unhealthy object's claims: its names, no data. The names stay claimed (first-claimant
 * ownership does not move while a backend is down); the index answers them from the other
 * claimants, if any, instead.
 */
export function withoutData(claims: readonly Claim[]): Claim[] {
  return claims.map((c) => {
    const out: Claim = { name: c.name, a: NO_VALUES, aaaa: NO_VALUES, txt: NO_VALUES, ttl: c.ttl };
    if (c.origin) out.origin = c.origin;
    return out;
  });
}

/** The Services an object's health follows: null when health does not apply to it. */
function backendsOf(
  kind: SourceKind,
  meta: SlimMeta,
  listed: string[] | undefined,
): string[] | null {
  if (kind === 'DNSEndpoint' || ignoresHealth(meta)) return null;
  if (kind === 'Service') return [objectKey(meta)];
  return listed ?? null;
}

function sameStrings(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/**
 * Same claims in the same order. Compared field by field rather than through a stored
 * JSON fingerprint: that string cost ~150 bytes per object for the life of the process.
 */
export function sameClaims(x: readonly Claim[], y: readonly Claim[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) {
    const a = x[i];
    const b = y[i];
    if (
      a.name !== b.name ||
      a.ttl !== b.ttl ||
      a.cname !== b.cname ||
      a.origin?.namespace !== b.origin?.namespace ||
      a.origin?.createdAt !== b.origin?.createdAt ||
      !sameStrings(a.a, b.a) ||
      !sameStrings(a.aaaa, b.aaaa) ||
      !sameStrings(a.txt, b.txt) ||
      !sameStrings(extraTexts(a), extraTexts(b))
    )
      return false;
  }
  return true;
}

const NO_TEXTS: string[] = [];

/**
 * A claim as the ledger keeps it (and the index, which shares it): its empty lists are the
 * one shared `NO_VALUES`, two arrays less per object. Its other lists are not frozen:
 * JavaScriptCore turns a frozen array into a sparse one (one more cell and a hash table
 * each); nothing changes a stored claim (`Claim` in @mdns/protocol).
 */
function storedClaim(claim: Claim): Claim {
  if (claim.a.length === 0) claim.a = NO_VALUES;
  if (claim.aaaa.length === 0) claim.aaaa = NO_VALUES;
  if (claim.txt.length === 0) claim.txt = NO_VALUES;
  return claim;
}

/** Each extra record as `TYPE text`: equal lists mean equal records. */
function extraTexts(claim: Claim): string[] {
  return claim.extra?.map((r) => `${r.type} ${r.ttl} ${r.text}`) ?? NO_TEXTS;
}

/** Slims, filters and claims one object: null when the object is filtered out or malformed. */
function evaluate(
  kind: SourceKind,
  raw: unknown,
  f: Filters,
  ctx: ClaimContext,
  tenancy: Tenancy,
): Evaluated | null {
  const out = claimObject(kind, raw, f, ctx);
  if (out) reportUnsupported(annotatedKind(kind), out.meta, objectRef(kind, out.meta), out.result);
  if (out) applyOwnership(tenancy.ownership, objectRef(kind, out.meta), out.meta, out.result);
  return out;
}

function annotatedKind(kind: SourceKind): AnnotatedKind {
  return kind === 'Ingress' || kind === 'Service' || kind === 'DNSEndpoint' ? kind : 'Route';
}

interface Evaluated {
  meta: SlimMeta;
  result: ClaimResult;
  route?: SlimRoute;
  backends: string[] | null;
  headless?: SlimService;
}

function claimObject(
  kind: SourceKind,
  raw: unknown,
  f: Filters,
  ctx: ClaimContext,
): Evaluated | null {
  switch (kind) {
    case 'Ingress': {
      const ing = slimIngress(raw);
      return ing && admitsIngress(f, ing)
        ? {
            meta: ing.metadata,
            result: ingressClaims(ing, ctx),
            backends: backendsOf(kind, ing.metadata, ing.backends),
          }
        : null;
    }
    case 'Service': {
      const svc = slimService(raw);
      return svc && admitsMeta(f, svc.metadata)
        ? {
            meta: svc.metadata,
            result: serviceClaims(svc, ctx),
            backends: backendsOf(kind, svc.metadata, undefined),
            ...(svc.headless ? { headless: svc } : {}),
          }
        : null;
    }
    case 'DNSEndpoint': {
      const ep = slimDnsEndpoint(raw);
      return ep && admitsMeta(f, ep.metadata)
        ? { meta: ep.metadata, result: dnsEndpointClaims(ep, ctx), backends: null }
        : null;
    }
    default: {
      const route = slimRoute(raw);
      if (!route || !admitsMeta(f, route.metadata)) return null;
      return {
        meta: route.metadata,
        result: routeClaims(kind, route, ctx),
        route,
        backends: backendsOf(kind, route.metadata, route.backends),
      };
    }
  }
}

/** The Services an entry is re-decided on: its backends, or itself for a headless Service. */
function followed(key: string, e: Entry): string[] | null {
  return e.headless ? [key] : e.backends;
}

/** What the index holds of an entry. */
function served(e: Entry): Claim[] {
  return e.healthy ? e.claims : withoutData(e.claims);
}

/** One object's claim on a name and its health, for the explain endpoint. */
export interface ExplainedClaim extends ObjectHealth {
  kind: SourceKind;
  object: string;
  /** The claim as made (before health): what it answers when healthy. */
  claim: Claim;
}

/** One object's health, for the explain endpoint. */
export interface ObjectHealth {
  healthy: boolean;
  /** null: health does not apply (DNSEndpoint, `mdns.io/health: ignore`). */
  backends:
    | { service: string; state: string; ready: number; total: number; slices: number }[]
    | null;
}

/** What a ledger applies when its source was given no `Tenancy`: today's safe defaults. */
export function defaultTenancy(): Tenancy {
  return { externalIPs: false, ownership: OPEN_POLICY, rejected: newRejectionCounts() };
}

/**
 * The objects one source has seen, per kind, and the claims they gave the index.
 * Sources feed it raw objects (watch events, list results, parsed files); it slims,
 * filters, claims, logs new warnings once, and forwards changes to the IndexSink.
 * It also keeps Gateways and a reverse map Gateway -> routes, so a Gateway's new
 * address re-emits the claims of every route that names it.
 */
export class ClaimLedger {
  private readonly entries = new Map<SourceKind, Map<string, Entry>>();
  private readonly gateways = new Map<string, GatewayTarget>();
  private readonly gatewayWarnings = new Map<string, string>();
  /** Gateway key -> `${kind} ${routeKey}` of each route naming it. */
  private readonly routesByGateway: RefSets = new Map();
  /** Service key -> `${kind} ${key}` of each object whose health follows it. */
  private readonly dependents: RefSets = new Map();
  private readonly health: ServiceHealth | null;
  private readonly ctx: ClaimContext;

  constructor(
    kinds: readonly SourceKind[],
    zones: readonly string[],
    defaultTtl: number,
    private readonly filters: Filters,
    private readonly sink: IndexSink,
    private readonly logger: SourceLogger,
    private readonly tenancy: Tenancy = defaultTenancy(),
    private readonly healthOptions: LedgerHealth | null = null,
  ) {
    for (const k of kinds) this.entries.set(k, new Map());
    this.health = healthOptions
      ? new ServiceHealth(healthOptions.graceMs, (services) => this.healthChanged(services))
      : null;
    this.ctx = {
      zones,
      defaultTtl,
      externalIPs: tenancy.externalIPs,
      internalHostnames: tenancy.internalHostnames ?? false,
      targetAnnotation: tenancy.targetAnnotation ?? false,
      gateway: (key) => this.gateways.get(key),
    };
    const health = this.health;
    if (health) this.ctx.endpoints = (service) => health.readyAddresses(service);
  }

  /** Stops the health grace timers. */
  stop(): void {
    this.health?.stop();
  }

  /** Every object claiming `name` (normalized), with its health: what the explain endpoint shows. */
  explain(name: string): ExplainedClaim[] {
    const out: ExplainedClaim[] = [];
    for (const [kind, table] of this.entries) {
      for (const [key, e] of table) {
        const claim = e.claims.find((c) => c.name === name);
        if (!claim) continue;
        out.push({ kind, object: key, claim, ...this.healthOf(e) });
      }
    }
    return out;
  }

  private healthOf(e: Entry): ObjectHealth {
    return {
      healthy: e.healthy,
      backends:
        e.backends?.map((service) => ({
          service,
          state: this.health?.state(service) ?? 'unknown',
          ...(this.health?.endpoints(service) ?? { ready: 0, total: 0, slices: 0 }),
        })) ?? null,
    };
  }

  /** Objects of the kind that currently claim at least one name. */
  count(kind: SourceKind): number {
    let n = 0;
    for (const e of this.entries.get(kind)?.values() ?? []) if (e.claims.length > 0) n++;
    return n;
  }

  /** An added or modified object (a filtered-out one is removed: its labels may have changed). */
  upsert(kind: WatchedKind, raw: unknown): void {
    if (kind === 'Gateway') {
      this.upsertGateway(raw);
      return;
    }
    if (kind === 'EndpointSlice') {
      this.health?.upsert(raw);
      return;
    }
    const table = this.entries.get(kind);
    if (!table) return;
    const evaluated = evaluate(kind, raw, this.filters, this.ctx, this.tenancy);
    if (!evaluated) {
      const meta = (raw as { metadata?: { namespace?: string; name?: string } })?.metadata;
      if (meta?.name)
        this.remove(kind, objectKey({ namespace: meta.namespace ?? 'default', name: meta.name }));
      return;
    }
    const key = objectKey(evaluated.meta);
    const entry = this.record(
      kind,
      key,
      evaluated.result,
      evaluated.route,
      evaluated.backends,
      evaluated.headless,
    );
    if (entry.changed) this.sink.replaceObject(kind, key, entry.claims);
  }

  remove(kind: WatchedKind, key: string, raw?: unknown): void {
    if (kind === 'Gateway') {
      this.gatewayWarnings.delete(key);
      if (this.gateways.delete(key)) this.reemitRoutesOf([key]);
      return;
    }
    if (kind === 'EndpointSlice') {
      this.health?.remove(
        raw ?? { metadata: { namespace: key.split('/')[0], name: key.split('/')[1] } },
      );
      return;
    }
    const table = this.entries.get(kind);
    const entry = table?.get(key);
    if (!table || !entry) return;
    table.delete(key);
    this.unlinkRoute(kind, key, entry.route);
    this.unlinkBackends(kind, key, followed(key, entry));
    this.healthOptions?.tally?.note(kind, key, null, false);
    if (entry.claims.length > 0) this.sink.replaceObject(kind, key, []);
  }

  /** After a (re)list: every object of the kind; those not in `raws` vanish atomically. */
  replaceAll(kind: WatchedKind, raws: readonly unknown[]): void {
    if (kind === 'Gateway') {
      this.replaceGateways(raws);
      return;
    }
    if (kind === 'EndpointSlice') {
      this.health?.replaceAll(raws);
      return;
    }
    const table = this.entries.get(kind);
    if (!table) return;
    const seen = new Set<string>();
    for (const raw of raws) {
      const evaluated = evaluate(kind, raw, this.filters, this.ctx, this.tenancy);
      if (!evaluated) continue;
      const key = objectKey(evaluated.meta);
      seen.add(key);
      this.record(
        kind,
        key,
        evaluated.result,
        evaluated.route,
        evaluated.backends,
        evaluated.headless,
      );
    }
    for (const [key, entry] of table) {
      if (seen.has(key)) continue;
      table.delete(key);
      this.unlinkRoute(kind, key, entry.route);
      this.unlinkBackends(kind, key, followed(key, entry));
      this.healthOptions?.tally?.note(kind, key, null, false);
    }
    this.sink.replaceKind(kind, this.claimsOf(kind));
  }

  /** Every object of the kind with what the index holds of it (objects claiming nothing are left out). */
  claimsOf(kind: SourceKind): Map<string, Claim[]> {
    const out = new Map<string, Claim[]>();
    for (const [key, e] of this.entries.get(kind) ?? [])
      if (e.claims.length > 0) out.set(key, served(e));
    return out;
  }

  private healthy(backends: string[] | null): boolean {
    const h = this.health;
    if (!h || !this.healthOptions) return true;
    return claimHealthy(backends, (s) => h.state(s), this.healthOptions.require);
  }

  /** Re-decides every object following the Services; sends those whose health flipped. */
  private healthChanged(services: readonly string[]): void {
    const objects = new Set<string>();
    for (const s of services) for (const o of refsOf(this.dependents, s)) objects.add(o);
    for (const o of objects) {
      const [kind, key] = splitObjectRef<SourceKind>(o);
      const entry = this.entries.get(kind)?.get(key);
      if (!entry) continue;
      if (entry.headless) {
        this.reclaimHeadless(key, entry.headless, entry.backends);
        continue;
      }
      const healthy = this.healthy(entry.backends);
      if (healthy === entry.healthy) continue;
      entry.healthy = healthy;
      if (entry.claims.length === 0) continue;
      this.healthOptions?.tally?.note(kind, key, healthy, true);
      this.logger.info(
        { kind, object: key, healthy, backends: entry.backends },
        `${kind} ${key}: ${healthy ? 'healthy again, answered' : 'no ready endpoint, not answered'}`,
      );
      this.sink.replaceObject(kind, key, served(entry));
    }
  }

  /** A headless Service's names follow its ready endpoints' addresses. */
  private reclaimHeadless(key: string, svc: SlimService, backends: string[] | null): void {
    const result = serviceClaims(svc, this.ctx);
    applyOwnership(
      this.tenancy.ownership,
      objectRef('Service', svc.metadata),
      svc.metadata,
      result,
    );
    const rec = this.record('Service', key, result, undefined, backends, svc);
    if (rec.changed) this.sink.replaceObject('Service', key, rec.claims);
  }

  private linkBackends(kind: SourceKind, key: string, backends: string[] | null): void {
    for (const s of backends ?? []) addRef(this.dependents, s, `${kind} ${key}`);
  }

  private unlinkBackends(kind: SourceKind, key: string, backends: string[] | null): void {
    for (const s of backends ?? []) deleteRef(this.dependents, s, `${kind} ${key}`);
  }

  private record(
    kind: SourceKind,
    key: string,
    result: ClaimResult,
    route: SlimRoute | undefined,
    backends: string[] | null,
    headless?: SlimService,
  ): { claims: Claim[]; changed: boolean } {
    const table = this.entries.get(kind)!;
    const previous = table.get(key);
    const same = previous !== undefined && sameClaims(previous.claims, result.claims);
    const warnings = result.warnings.join('\n');
    if (warnings !== '' && warnings !== previous?.warnings) {
      // Counted with the warning: once per object change, not on every resync.
      for (const reason of result.rejected) this.tenancy.rejected[reason]++;
      this.logger.warn(
        { kind, object: key, warnings: result.warnings },
        `${kind} ${key}: ${result.warnings.join('; ')}`,
      );
    }
    if (result.outside.length > 0 && !same) {
      this.logger.debug(
        { kind, object: key, names: result.outside },
        'names outside every served zone skipped',
      );
    }
    if (previous?.route) this.unlinkRoute(kind, key, previous.route);
    if (route) this.linkRoute(kind, key, route);
    if (previous) this.unlinkBackends(kind, key, followed(key, previous));
    // A headless Service follows its own slices for its addresses, health or not.
    this.linkBackends(kind, key, headless ? [key] : backends);
    // Unchanged: keep the arrays the index already holds, and let the new ones go.
    // A new array of exact size (one built by push has room for 17, ~150 bytes), each
    // claim with the shared empty list for a type it has no values of.
    const claims = same ? previous.claims : result.claims.map(storedClaim);
    const healthy = this.healthy(backends);
    const entry: Entry = { claims, warnings, route, backends, healthy };
    if (headless) entry.headless = headless;
    table.set(key, entry);
    const flipped = previous !== undefined && previous.healthy !== healthy;
    this.healthOptions?.tally?.note(
      kind,
      key,
      claims.length > 0 ? healthy : null,
      flipped && previous.claims.length > 0,
    );
    const changed = previous ? !same || flipped : claims.length > 0;
    return { claims: served(entry), changed };
  }

  private linkRoute(kind: SourceKind, key: string, route: SlimRoute): void {
    for (const gw of parentGatewayKeys(route)) addRef(this.routesByGateway, gw, `${kind} ${key}`);
  }

  private unlinkRoute(kind: SourceKind, key: string, route: SlimRoute | undefined): void {
    if (!route) return;
    for (const gw of parentGatewayKeys(route))
      deleteRef(this.routesByGateway, gw, `${kind} ${key}`);
  }

  /** The Gateway's target, or null when filtered out or malformed. */
  private gatewayOf(raw: unknown): { key: string; target: GatewayTarget } | null {
    const gw = slimGateway(raw);
    if (!gw || !admitsGateway(this.filters, gw)) return null;
    const key = objectKey(gw.metadata);
    const { target, warnings, rejected } = gatewayTarget(gw, this.ctx.targetAnnotation);
    const text = warnings.join('\n');
    if (text !== '' && text !== this.gatewayWarnings.get(key)) {
      for (const reason of rejected) this.tenancy.rejected[reason]++;
      this.logger.warn(
        { kind: 'Gateway', object: key, warnings },
        `Gateway ${key}: ${warnings.join('; ')}`,
      );
    }
    this.gatewayWarnings.set(key, text);
    return { key, target };
  }

  private upsertGateway(raw: unknown): void {
    const gw = this.gatewayOf(raw);
    if (!gw) {
      const meta = (raw as { metadata?: { namespace?: string; name?: string } })?.metadata;
      if (meta?.name)
        this.remove(
          'Gateway',
          objectKey({ namespace: meta.namespace ?? 'default', name: meta.name }),
        );
      return;
    }
    const before = this.gateways.get(gw.key);
    this.gateways.set(gw.key, gw.target);
    if (JSON.stringify(before) !== JSON.stringify(gw.target)) this.reemitRoutesOf([gw.key]);
  }

  private replaceGateways(raws: readonly unknown[]): void {
    const next = new Map<string, GatewayTarget>();
    for (const raw of raws) {
      const gw = this.gatewayOf(raw);
      if (gw) next.set(gw.key, gw.target);
    }
    const changed: string[] = [];
    for (const key of new Set([...this.gateways.keys(), ...next.keys()])) {
      if (JSON.stringify(this.gateways.get(key)) !== JSON.stringify(next.get(key)))
        changed.push(key);
    }
    this.gateways.clear();
    for (const [k, v] of next) this.gateways.set(k, v);
    this.reemitRoutesOf(changed);
  }

  private reemitRoutesOf(gatewayKeys: readonly string[]): void {
    const routes = new Set<string>();
    for (const gw of gatewayKeys) for (const r of refsOf(this.routesByGateway, gw)) routes.add(r);
    for (const r of routes) {
      const [kind, key] = splitObjectRef<RouteKind>(r);
      const entry = this.entries.get(kind)?.get(key);
      if (!entry?.route) continue;
      const result = routeClaims(kind, entry.route, this.ctx);
      applyOwnership(
        this.tenancy.ownership,
        objectRef(kind, entry.route.metadata),
        entry.route.metadata,
        result,
      );
      const rec = this.record(kind, key, result, entry.route, entry.backends);
      if (rec.changed) this.sink.replaceObject(kind, key, rec.claims);
    }
  }
}

/** `${kind} ${key}` (the reverse maps' entries) back into its kind and key. */
function splitObjectRef<K extends string>(ref: string): [K, string] {
  const space = ref.indexOf(' ');
  return [ref.slice(0, space) as K, ref.slice(space + 1)];
}
