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

  /** Counts for the explain endpoint; undefined when no slice names the Service. */
  endpoints(service: string): ServiceEndpoints | undefined {
    const s = this.services.get(service);
    return s && { ready: s.ready, total: s.total, slices: s.slices };
  }

  upsert(raw: unknown): void {
    const slice = slimEndpointSlice(raw);
    if (!slice) return;
    const touched = this.put(slice);
    this.settle(touched);
  }

  remove(raw: unknown): void {
    const slice = slimEndpointSlice(raw);
    if (!slice) return;
    this.settle(this.drop(slice.key));
  }

  /** After a (re)list: every slice; slices not in `raws` are gone. */
  replaceAll(raws: readonly unknown[]): void {
    const touched = new Set<string>();
    const seen = new Set<string>();
    for (const raw of raws) {
      const slice = slimEndpointSlice(raw);
      if (!slice) continue;
      seen.add(slice.key);
      for (const s of this.put(slice)) touched.add(s);
    }
    for (const key of [...this.slices.keys()]) {
      if (!seen.has(key)) for (const s of this.drop(key)) touched.add(s);
    }
    this.settle([...touched]);
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.services.values()) clearTimeout(s.timer);
  }

  /** Stores the slice; the Services whose counts it touched (old and new owner). */
  private put(slice: SlimEndpointSlice): string[] {
    const touched = this.drop(slice.key);
    if (slice.service === null) return touched;
    this.slices.set(slice.key, slice);
    const s = this.entry(slice.service);
    s.ready += slice.ready;
    s.total += slice.total;
    s.slices++;
    if (!touched.includes(slice.service)) touched.push(slice.service);
    return touched;
  }

  private drop(key: string): string[] {
    const old = this.slices.get(key);
    if (!old || old.service === null) return [];
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

  /** Recomputes the touched Services' states; reports those that changed. */
  private settle(touched: readonly string[]): void {
    const changed: string[] = [];
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
      if (next !== s.state) changed.push(service);
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
