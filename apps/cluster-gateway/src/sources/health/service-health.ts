import { type SlimEndpointSlice, slimEndpointSlice } from './endpoint-slice.js';
import type { BackendState } from './verdict.js';

/** Ready and total endpoints of one Service over all its slices. */
export interface ServiceEndpoints {
  ready: number;
  total: number;
  slices: number;
}

interface ServiceEntry extends ServiceEndpoints {
  state: BackendState;
  /** Runs when the grace period of a Service with no ready endpoint ends. */
  timer?: NodeJS.Timeout;
}

/**
 * The state of a Service from its counts and its previous state. A Service that had ready
 * endpoints and has none enters `grace` (answers go on for `health.graceSeconds`, so a
 * rolling restart does not flap the name); one first seen without any is `down` at once:
 * there is no serving backend to be patient with. No slice at all: `unknown`.
 */
export function nextState(
  counts: ServiceEndpoints,
  previous: BackendState,
  graceMs: number,
): BackendState {
  if (counts.slices === 0) return 'unknown';
  if (counts.ready > 0) return 'ready';
  if (graceMs > 0 && (previous === 'ready' || previous === 'grace')) return 'grace';
  return 'down';
}

/**
 * EndpointSlices summed per Service, and each Service's BackendState with its grace timer.
 * Fed by the EndpointSlice reflector; tells its owner which Services changed state.
 */
export class ServiceHealth {
  private readonly slices = new Map<string, SlimEndpointSlice>();
  private readonly services = new Map<string, ServiceEntry>();
  private stopped = false;

  constructor(
    private readonly graceMs: number,
    private readonly changed: (services: readonly string[]) => void,
  ) {}

  state(service: string): BackendState {
    return this.services.get(service)?.state ?? 'unknown';
  }

  /**
   * The ready endpoints' addresses of a Service, sorted and unique (a headless Service answers
   * them). Walks every slice: asked only for the few published headless Services.
   */
  readyAddresses(service: string): string[] {
    const out = new Set<string>();
    for (const slice of this.slices.values()) {
      if (slice.service === service) for (const a of slice.addresses) out.add(a);
    }
    return [...out].sort();
  }

  /** Counts for the explain endpoint; undefined when no slice names the Service. */
  endpoints(service: string): ServiceEndpoints | undefined {
    const s = this.services.get(service);
    return s && { ready: s.ready, total: s.total, slices: s.slices };
  }

  upsert(raw: unknown): void {
    const slice = slimEndpointSlice(raw);
    if (!slice) return;
    const moved = new Set<string>();
    const touched = this.put(slice, moved);
    this.settle(touched, moved);
  }

  remove(raw: unknown): void {
    const slice = slimEndpointSlice(raw);
    if (!slice) return;
    const moved = new Set<string>();
    this.settle(this.drop(slice.key, moved), moved);
  }

  /** After a (re)list: every slice; slices not in `raws` are gone. */
  replaceAll(raws: readonly unknown[]): void {
    const touched = new Set<string>();
    const moved = new Set<string>();
    const seen = new Set<string>();
    for (const raw of raws) {
      const slice = slimEndpointSlice(raw);
      if (!slice) continue;
      seen.add(slice.key);
      for (const s of this.put(slice, moved)) touched.add(s);
    }
    for (const key of [...this.slices.keys()]) {
      if (!seen.has(key)) for (const s of this.drop(key, moved)) touched.add(s);
    }
    this.settle([...touched], moved);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.services.values()) clearTimeout(s.timer);
  }

  /**
   * Stores the slice; the Services whose counts it touched (old and new owner). Services
   * whose ready addresses changed go into `moved`.
   */
  private put(slice: SlimEndpointSlice, moved: Set<string>): string[] {
    const old = this.slices.get(slice.key);
    const same =
      old !== undefined &&
      old.service === slice.service &&
      old.addresses.join(' ') === slice.addresses.join(' ');
    const touched = this.drop(slice.key, same ? undefined : moved);
    if (slice.service === null) return touched;
    if (!same && slice.addresses.length > 0) moved.add(slice.service);
    this.slices.set(slice.key, slice);
    const s = this.entry(slice.service);
    s.ready += slice.ready;
    s.total += slice.total;
    s.slices++;
    if (!touched.includes(slice.service)) touched.push(slice.service);
    return touched;
  }

  private drop(key: string, moved?: Set<string>): string[] {
    const old = this.slices.get(key);
    if (!old || old.service === null) return [];
    if (moved && old.addresses.length > 0) moved.add(old.service);
    this.slices.delete(key);
    const s = this.entry(old.service);
    s.ready -= old.ready;
    s.total -= old.total;
    s.slices--;
    return [old.service];
  }

  private entry(service: string): ServiceEntry {
    let s = this.services.get(service);
    if (!s) {
      s = { ready: 0, total: 0, slices: 0, state: 'unknown' };
      this.services.set(service, s);
    }
    return s;
  }

  /** Recomputes the touched Services' states; reports those whose state or addresses changed. */
  private settle(touched: readonly string[], moved: ReadonlySet<string>): void {
    const changed: string[] = [...moved];
    for (const service of touched) {
      const s = this.services.get(service);
      if (!s) continue;
      const next = nextState(s, s.state, this.graceMs);
      if (next !== 'grace') {
        clearTimeout(s.timer);
        s.timer = undefined;
      }
      if (next === 'grace' && s.state !== 'grace') {
        s.timer = setTimeout(() => this.graceOver(service), this.graceMs);
        s.timer.unref();
      }
      if (next !== s.state && !moved.has(service)) changed.push(service);
      s.state = next;
      if (s.slices === 0) this.services.delete(service);
    }
    if (changed.length > 0) this.changed(changed);
  }

  private graceOver(service: string): void {
    const s = this.services.get(service);
    if (this.stopped || !s || s.state !== 'grace') return;
    s.timer = undefined;
    s.state = 'down';
    this.changed([service]);
  }
}
