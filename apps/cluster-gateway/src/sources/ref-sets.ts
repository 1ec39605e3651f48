/**
 * A map from a key (a Service, a Gateway) to the object refs that follow it, holding a lone
 * ref as the string itself and a Set only from the second one on. Nearly every Service is
 * followed by one object (itself, or the one Ingress sending to it): a Set per key (object
 * and hash table, ~150 bytes) cost ~1.5 MB live at 20k objects, for one string each.
 */
export type RefSets = Map<string, string | Set<string>>;

/** Adds `ref` under `key`. */
export function addRef(map: RefSets, key: string, ref: string): void {
  const held = map.get(key);
  if (held === undefined) map.set(key, ref);
  else if (typeof held === 'string') {
    if (held !== ref) map.set(key, new Set([held, ref]));
  } else held.add(ref);
}

/** Removes `ref` from `key`; the key goes when nothing follows it any more. */
export function deleteRef(map: RefSets, key: string, ref: string): void {
  const held = map.get(key);
  if (held === undefined) return;
  if (typeof held === 'string') {
    if (held === ref) map.delete(key);
    return;
  }
  held.delete(ref);
  if (held.size === 1) map.set(key, held.values().next().value as string);
  else if (held.size === 0) map.delete(key);
}

/** The refs following `key` (none: empty). */
export function refsOf(map: RefSets, key: string): Iterable<string> {
  const held = map.get(key);
  if (held === undefined) return [];
  return typeof held === 'string' ? [held] : held;
}
