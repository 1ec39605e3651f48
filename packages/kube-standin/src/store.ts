/**
 * The "etcd" of the stand-in: objects per kind, one global monotonically increasing
 * resourceVersion, and a bounded history of change events that watches replay from.
 * No I/O; the server subscribes with `onEvent` and turns events into stream lines.
 */
import { randomUUID } from 'node:crypto';
import { apiVersionOf, type KindSpec, kindKey } from './kinds.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [k: string]: unknown;
}

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  rv: number;
  /** `kindKey` of the object's kind. */
  key: string;
  object: KubeObject;
  /** The object before a MODIFIED: a selector watch turns "stopped matching" into DELETED. */
  prev?: KubeObject;
}

export type Replay = { ok: true; events: StoreEvent[] } | { ok: false; oldest: number };

export interface StoreOptions {
  /** Events kept for watch replay; older resourceVersions get 410 Expired. */
  historyLimit: number;
  /** Add a `managedFields` entry like a real server, so clients can prove they strip it. */
  managedFields: boolean;
}

function objectId(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

/** Everything except metadata and status: a change here bumps `metadata.generation`. */
function specOf(obj: KubeObject): string {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return JSON.stringify(rest);
}

function comparable(obj: KubeObject): string {
  const { resourceVersion: _r, managedFields: _f, ...meta } = obj.metadata;
  return JSON.stringify({ ...obj, metadata: meta });
}

export class ObjectStore {
  private rv = 1;
  /** A watch from a resourceVersion below this is expired: its events were dropped. */
  private compactedRv = 0;
  private history: StoreEvent[] = [];
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly listeners = new Set<(ev: StoreEvent) => void>();

  constructor(private readonly opts: StoreOptions) {}

  get resourceVersion(): number {
    return this.rv;
  }

  get oldestWatchableVersion(): number {
    return this.compactedRv;
  }

  onEvent(fn: (ev: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bucket(spec: KindSpec): Map<string, KubeObject> {
    const key = kindKey(spec);
    let b = this.objects.get(key);
    if (!b) {
      b = new Map();
      this.objects.set(key, b);
    }
    return b;
  }

  private record(spec: KindSpec, type: EventType, object: KubeObject, prev?: KubeObject): void {
    const ev: StoreEvent = { type, rv: this.rv, key: kindKey(spec), object, prev };
    this.history.push(ev);
    while (this.history.length > this.opts.historyLimit) {
      this.compactedRv = this.history.shift()!.rv;
    }
    for (const fn of this.listeners) fn(ev);
  }

  /**
   * Create or replace. Returns the stored object; an identical re-apply changes nothing
   * and emits no event (as a real server does for a no-op update).
   */
  put(spec: KindSpec, input: KubeObject): KubeObject {
    const obj = structuredClone(input);
    obj.apiVersion = apiVersionOf(spec);
    obj.kind = spec.kind;
    const meta = obj.metadata;
    if (spec.namespaced) meta.namespace = meta.namespace || 'default';
    else delete meta.namespace;
    const b = this.bucket(spec);
    const id = objectId(meta.namespace, meta.name);
    const old = b.get(id);
    if (old) {
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      meta.generation = old.metadata.generation;
      if (obj.status === undefined && old.status !== undefined) obj.status = old.status;
      if (comparable(obj) === comparable(old)) return old;
      if (specOf(obj) !== specOf(old)) meta.generation = (old.metadata.generation ?? 1) + 1;
    } else {
      meta.uid = meta.uid ?? randomUUID();
      meta.creationTimestamp = meta.creationTimestamp ?? new Date().toISOString();
      meta.generation = 1;
    }
    this.rv++;
    meta.resourceVersion = String(this.rv);
    if (this.opts.managedFields) {
      meta.managedFields = [
        {
          manager: 'kube-standin',
          operation: 'Apply',
          apiVersion: obj.apiVersion,
          time: new Date().toISOString(),
          fieldsType: 'FieldsV1',
          fieldsV1: {},
        },
      ];
    }
    b.set(id, obj);
    this.record(spec, old ? 'MODIFIED' : 'ADDED', obj, old);
    return obj;
  }

  /** Replace only `status`; undefined when the object does not exist. */
  patchStatus(spec: KindSpec, ns: string | undefined, name: string, status: unknown) {
    const old = this.get(spec, ns, name);
    if (!old) return undefined;
    return this.put(spec, { ...old, metadata: { ...old.metadata }, status });
  }

  remove(spec: KindSpec, ns: string | undefined, name: string): KubeObject | undefined {
    const b = this.bucket(spec);
    const id = objectId(spec.namespaced ? ns || 'default' : undefined, name);
    const old = b.get(id);
    if (!old) return undefined;
    b.delete(id);
    this.rv++;
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(this.rv) } };
    this.record(spec, 'DELETED', gone);
    return gone;
  }

  /** Delete every object of a kind (a CRD being uninstalled), each with a DELETED event. */
  removeAll(spec: KindSpec): number {
    const items = this.list(spec);
    for (const o of items) this.remove(spec, o.metadata.namespace, o.metadata.name);
    return items.length;
  }

  get(spec: KindSpec, ns: string | undefined, name: string): KubeObject | undefined {
    return this.bucket(spec).get(objectId(spec.namespaced ? ns || 'default' : undefined, name));
  }

  /** All objects of a kind ordered by namespace/name, the order `continue` tokens rely on. */
  list(spec: KindSpec): KubeObject[] {
    const b = this.bucket(spec);
    return [...b.keys()].sort().map((k) => b.get(k)!);
  }

  /** Events of one kind after `fromRv`, or `ok: false` when history no longer reaches back. */
  replay(spec: KindSpec, fromRv: number): Replay {
    if (fromRv < this.compactedRv) return { ok: false, oldest: this.compactedRv };
    const key = kindKey(spec);
    return { ok: true, events: this.history.filter((e) => e.rv > fromRv && e.key === key) };
  }

  /** Drop all history: every resourceVersion older than now becomes 410 Expired for watches. */
  compact(): void {
    this.history = [];
    this.compactedRv = this.rv;
  }
}
