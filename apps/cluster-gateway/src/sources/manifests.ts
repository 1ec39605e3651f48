import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Tenancy } from './claims/context.js';
import type { Filters } from './filters.js';
import { ClaimLedger, type ExplainedClaim, type WatchedKind } from './ledger.js';
import { isManifestFile, type ManifestObject, parseManifestFile } from './manifest-files.js';
import { trimListed } from './slim.js';
import type { IndexSink, Source, SourceKind, SourceLogger } from './types.js';

export interface ManifestsSourceOptions {
  directory: string;
  kinds: readonly SourceKind[];
  zones: readonly string[];
  defaultTtl: number;
  filters: Filters;
  /** externalIPs, ownership policy, rejection counters; default: `defaultTenancy()`. */
  tenancy?: Tenancy;
  logger: SourceLogger;
  /** Quiet time after the last change before re-reading (ms). */
  debounceMs?: number;
  /** A full re-read now and then, because fs.watch can miss events (ms). */
  rescanMs?: number;
}

interface FileState {
  /** Digest of the file's text: an unchanged file is not parsed again (the text is not kept). */
  digest: string;
  /** Trimmed as parsed (`trimListed`): managedFields and unread annotations are dropped. */
  objects: ManifestObject[];
}

function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('base64');
}

/**
 * Objects from YAML files in one directory, with the same kinds and claims as the
 * Kubernetes source: for tests, demos, and clusters whose objects are rendered by CI.
 * Every change re-reads the directory; a file that fails to parse keeps the objects
 * it had; a deleted file takes its objects away.
 */
export class ManifestsSource implements Source {
  private readonly files = new Map<string, FileState>();
  private watcher: FSWatcher | null = null;
  private debounce: NodeJS.Timeout | null = null;
  private rescan: NodeJS.Timeout | null = null;
  private sink: IndexSink | null = null;
  private ledger: ClaimLedger | null = null;
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;
  private applied = false;

  constructor(private readonly opts: ManifestsSourceOptions) {}

  async start(sink: IndexSink): Promise<void> {
    this.sink = sink;
    const o = this.opts;
    this.ledger = new ClaimLedger(
      o.kinds,
      o.zones,
      o.defaultTtl,
      o.filters,
      sink,
      o.logger,
      o.tenancy,
    );
    for (const kind of o.kinds)
      sink.setKindState(kind, { phase: 'syncing', objects: 0, lastEventAt: null });
    await this.schedule();
    this.startWatcher();
    this.rescan = setInterval(() => void this.schedule(), o.rescanMs ?? 30_000);
    this.rescan.unref();
  }

  explain(name: string): ExplainedClaim[] {
    return this.ledger?.explain(name) ?? [];
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = null;
    if (this.debounce) clearTimeout(this.debounce);
    if (this.rescan) clearInterval(this.rescan);
    await this.reading;
  }

  private startWatcher(): void {
    if (this.watcher || this.stopped) return;
    try {
      this.watcher = watch(this.opts.directory, () => this.changed());
      this.watcher.on('error', (err) => {
        this.opts.logger.warn(
          { directory: this.opts.directory, err: String(err) },
          'manifests watch failed',
        );
        this.watcher?.close();
        this.watcher = null; // the periodic rescan re-creates it
      });
    } catch (err) {
      this.opts.logger.warn(
        { directory: this.opts.directory, err: String(err) },
        'manifests directory not watchable yet',
      );
    }
  }

  private changed(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.schedule(), this.opts.debounceMs ?? 100);
  }

  /** Reads run one after another, never two at once. */
  private schedule(): Promise<void> {
    this.reading = this.reading.then(() => (this.stopped ? undefined : this.read()));
    return this.reading;
  }

  private async read(): Promise<void> {
    const { directory, logger, kinds } = this.opts;
    let names: string[];
    try {
      names = (await readdir(directory)).filter(isManifestFile).sort();
    } catch (err) {
      const message = `manifests directory ${directory}: ${(err as Error).message}`;
      logger.error({ directory }, message);
      for (const kind of kinds)
        this.sink!.setKindState(kind, { phase: 'error', objects: 0, lastEventAt: null, message });
      return;
    }
    this.startWatcher();
    // Until one read succeeded (the directory may appear late and empty) always apply.
    let dirty = !this.applied;
    for (const gone of [...this.files.keys()].filter((f) => !names.includes(f))) {
      this.files.delete(gone);
      dirty = true;
    }
    for (const name of names) {
      const path = join(directory, name);
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch (err) {
        // Vanished between readdir and read: the next event removes it.
        logger.warn({ file: path }, `manifest ${path}: ${(err as Error).message}`);
        continue;
      }
      const previous = this.files.get(name);
      const digest = digestOf(text);
      if (previous?.digest === digest) continue;
      const parsed = parseManifestFile(path, text);
      if (!parsed.ok) {
        logger.error({ file: path }, `manifest ${parsed.error}; keeping its previous objects`);
        continue;
      }
      for (const o of parsed.objects) trimListed(o.raw);
      this.files.set(name, { digest, objects: parsed.objects });
      dirty = true;
    }
    if (dirty) this.apply();
  }

  private apply(): void {
    this.applied = true;
    const byKind = new Map<WatchedKind, unknown[]>();
    for (const file of this.files.values()) {
      for (const { kind, raw } of file.objects) {
        const list = byKind.get(kind) ?? [];
        list.push(raw);
        byKind.set(kind, list);
      }
    }
    const ledger = this.ledger!;
    // Gateways first, so routes are claimed with their parents' addresses in one pass.
    ledger.replaceAll('Gateway', byKind.get('Gateway') ?? []);
    const now = Date.now();
    for (const kind of this.opts.kinds) {
      ledger.replaceAll(kind, byKind.get(kind) ?? []);
      this.sink!.setKindState(kind, {
        phase: 'synced',
        objects: ledger.count(kind),
        lastEventAt: now,
      });
    }
  }
}
