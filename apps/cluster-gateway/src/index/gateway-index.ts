import { RecordIndex } from '@mdns/protocol';
import { SOURCE_KINDS } from '../sources/kinds.js';
import type { IndexSink, KindState, SourceKind } from '../sources/types.js';
import { type ConflictPolicy, firstClaimant } from './first-claimant.js';

export type { ConflictPolicy } from './first-claimant.js';

/** The order k8s_gateway uses when the configured `resources` list does not say otherwise. */
export const DEFAULT_KIND_ORDER: readonly SourceKind[] = SOURCE_KINDS;

/**
 * The zone index (`RecordIndex` of @mdns/protocol) bound to what is Kubernetes here: the
 * kinds in the configured `resources` order (then k8s_gateway's order for any not listed),
 * first-claimant ownership across namespaces, and each kind's sync state for readiness.
 * Fed by the sources through `IndexSink`, read by the DNS handler.
 */
export class GatewayIndex extends RecordIndex<SourceKind> implements IndexSink {
  readonly #states = new Map<SourceKind, KindState>();
  readonly #stateListeners: Array<(kind: SourceKind, state: KindState) => void> = [];

  /**
   * `kindOrder`: the configured `resources` order; the first kind claiming a name wins it.
   * `conflicts`: `sources.ownership.conflicts` (claims from different namespaces).
   */
  constructor(
    kindOrder: readonly SourceKind[] = DEFAULT_KIND_ORDER,
    conflicts: ConflictPolicy = 'first-claimant',
  ) {
    super(
      [...kindOrder, ...DEFAULT_KIND_ORDER],
      conflicts === 'first-claimant' ? firstClaimant : null,
    );
  }

  setKindState(kind: SourceKind, state: KindState): void {
    this.#states.set(kind, state);
    for (const listener of this.#stateListeners) listener(kind, state);
  }

  /** Called after each `setKindState` (readiness, logs). */
  onKindState(listener: (kind: SourceKind, state: KindState) => void): void {
    this.#stateListeners.push(listener);
  }

  kindState(kind: SourceKind): KindState | undefined {
    return this.#states.get(kind);
  }

  kindStates(): ReadonlyMap<SourceKind, KindState> {
    return this.#states;
  }
}
