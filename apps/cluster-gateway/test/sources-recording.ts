// Test doubles for the seam: a sink that keeps what the index would, and a logger that
// records lines. Not a test file itself (no `.test.`).

import { vi } from 'vitest';
import type {
  Claim,
  IndexSink,
  KindState,
  SourceKind,
  SourceLogger,
} from '../src/sources/types.js';

export class RecordingSink implements IndexSink {
  readonly kinds = new Map<SourceKind, Map<string, Claim[]>>();
  readonly states = new Map<SourceKind, KindState>();
  readonly phases: string[] = [];
  replaceKindCalls = 0;

  replaceObject(kind: SourceKind, key: string, claims: Claim[]): void {
    const m = this.kinds.get(kind) ?? new Map();
    if (claims.length > 0) m.set(key, claims);
    else m.delete(key);
    this.kinds.set(kind, m);
  }

  replaceKind(kind: SourceKind, objects: Map<string, Claim[]>): void {
    this.replaceKindCalls++;
    this.kinds.set(kind, new Map(objects));
  }

  setKindState(kind: SourceKind, state: KindState): void {
    this.states.set(kind, state);
    this.phases.push(`${kind}:${state.phase}`);
  }

  /** `name -> sorted addresses` across every object of the kind. */
  names(kind: SourceKind): Record<string, string> {
    const out: Record<string, string> = {};
    for (const claims of this.kinds.get(kind)?.values() ?? []) {
      for (const c of claims)
        out[c.name] = [...c.a, ...c.aaaa, ...(c.cname ? [`cname:${c.cname}`] : []), ...c.txt].join(
          ' ',
        );
    }
    return out;
  }

  phase(kind: SourceKind): string | undefined {
    return this.states.get(kind)?.phase;
  }
}

export class RecordingLogger implements SourceLogger {
  readonly lines: { level: string; msg: string; obj: object }[] = [];
  debug(obj: object, msg?: string): void {
    this.lines.push({ level: 'debug', msg: msg ?? '', obj });
  }
  info(obj: object, msg?: string): void {
    this.lines.push({ level: 'info', msg: msg ?? '', obj });
  }
  warn(obj: object, msg?: string): void {
    this.lines.push({ level: 'warn', msg: msg ?? '', obj });
  }
  error(obj: object, msg?: string): void {
    this.lines.push({ level: 'error', msg: msg ?? '', obj });
  }
  at(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.msg);
  }
}

/**
 * `vi.waitFor` with a bound for watch effects: an informer's list, watch and relist take
 * several event-loop turns and, on the shared test machine, more than vitest's 1 s default.
 */
export function eventually(check: () => void, timeoutMs = 15_000): Promise<void> {
  return vi.waitFor(check, { timeout: timeoutMs, interval: 50 });
}
