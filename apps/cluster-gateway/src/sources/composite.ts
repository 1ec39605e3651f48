import type {
  Claim,
  ExplainedClaim,
  IndexSink,
  KindPhase,
  KindState,
  Source,
  SourceKind,
} from './types.js';

// The least ready part decides; among settled parts one that serves the kind (synced)
// beats one where it is absent or forbidden.
const RANK: Record<KindPhase, number> = {
  error: 0,
  syncing: 1,
  synced: 2,
  forbidden: 3,
  absent: 4,
};

/** Merged state of one kind fed by several sources. */
export function mergeStates(states: readonly KindState[]): KindState {
  let phase: KindPhase = states[0]?.phase ?? 'syncing';
  for (const s of states) if (RANK[s.phase] < RANK[phase]) phase = s.phase;
  const times = states.map((s) => s.lastEventAt).filter((t): t is number => t !== null);
  const merged: KindState = {
    phase,
    objects: states.reduce((n, s) => n + s.objects, 0),
    lastEventAt: times.length ? Math.max(...times) : null,
  };
  const messages = states.map((s) => s.message).filter((m) => m !== undefined);
  if (messages.length) merged.message = messages.join('; ');
  return merged;
}

/**
 * Several sources (Kubernetes and manifests) feeding one index. Each part sees its own
 * sink: keys are prefixed with the part's name so objects never collide, a part's
 * replaceKind swaps only its own objects, and kind states are merged.
 */
export class CompositeSource implements Source {
  constructor(private readonly parts: readonly { name: string; source: Source }[]) {}

  async start(sink: IndexSink): Promise<void> {
    const objects = new Map<string, Map<SourceKind, Map<string, Claim[]>>>();
    const states = new Map<SourceKind, Map<string, KindState>>();
    const union = (kind: SourceKind) => {
      const out = new Map<string, Claim[]>();
      for (const [name, byKind] of objects) {
        for (const [key, claims] of byKind.get(kind) ?? []) out.set(`${name}:${key}`, claims);
      }
      return out;
    };
    const sinkFor = (name: string): IndexSink => ({
      replaceObject(kind, key, claims) {
        const own = objects.get(name)!;
        const m = own.get(kind) ?? new Map<string, Claim[]>();
        if (claims.length) m.set(key, claims);
        else m.delete(key);
        own.set(kind, m);
        sink.replaceObject(kind, `${name}:${key}`, claims);
      },
      replaceKind(kind, map) {
        objects.get(name)!.set(kind, new Map(map));
        sink.replaceKind(kind, union(kind));
      },
      setKindState(kind, state) {
        const m = states.get(kind) ?? new Map<string, KindState>();
        m.set(name, state);
        states.set(kind, m);
        sink.setKindState(kind, mergeStates([...m.values()]));
      },
    });
    for (const p of this.parts) objects.set(p.name, new Map());
    await Promise.all(this.parts.map((p) => p.source.start(sinkFor(p.name))));
  }

  explain(name: string): ExplainedClaim[] {
    return this.parts.flatMap((p) =>
      (p.source.explain?.(name) ?? []).map((c) => ({ ...c, object: `${p.name}:${c.object}` })),
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.parts.map((p) => p.source.stop()));
  }
}
