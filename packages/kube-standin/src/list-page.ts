/**
 * List pagination (`limit` / `continue`). Pure. A continue token remembers the list's
 * resourceVersion and the last key served; once history is compacted past that version the
 * token is expired (410), like the real server after etcd compaction.
 */
import type { KubeObject } from './store.js';

interface ContinueToken {
  rv: number;
  after: string;
}

export function encodeContinue(t: ContinueToken): string {
  return Buffer.from(JSON.stringify(t)).toString('base64url');
}

export function decodeContinue(s: string): ContinueToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    return typeof t?.rv === 'number' && typeof t?.after === 'string' ? t : undefined;
  } catch {
    return undefined;
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

export type Page =
  | { ok: true; items: KubeObject[]; rv: number; continue?: string; remaining?: number }
  | { ok: false; code: 400 | 410; message: string };

/**
 * One page of `items` (already filtered, sorted by namespace/name). A continued list keeps
 * the first page's resourceVersion but reads current data (documented simplification).
 */
export function paginate(
  items: readonly KubeObject[],
  query: { limit?: number; continueToken?: string },
  now: number,
  oldestWatchable: number,
): Page {
  let rv = now;
  let rest = items;
  if (query.continueToken) {
    const t = decodeContinue(query.continueToken);
    if (!t) return { ok: false, code: 400, message: 'continue key is not valid' };
    if (t.rv < oldestWatchable) {
      return {
        ok: false,
        code: 410,
        message:
          'The provided continue parameter is too old to display a consistent list result. ' +
          'You can start a new list without the continue parameter.',
      };
    }
    rv = t.rv;
    rest = items.filter((o) => keyOf(o) > t.after);
  }
  const limit = query.limit && query.limit > 0 ? query.limit : Number.POSITIVE_INFINITY;
  if (rest.length <= limit) return { ok: true, items: [...rest], rv };
  const page = rest.slice(0, limit);
  return {
    ok: true,
    items: page,
    rv,
    continue: encodeContinue({ rv, after: keyOf(page[page.length - 1]) }),
    remaining: rest.length - limit,
  };
}
