// What can still be read from the start of a response the gateway refused to take whole
// (`sources.kubernetes.maxPageBytes` / `maxEventBytes`): enough to name the object and to
// continue a list past it. Pure; the input is untrusted and possibly cut anywhere.

/** How much of a refused body is kept to read these from: metadata comes first. */
export const OVERSIZE_HEAD_BYTES = 64 * 1024;

const NAME = /"name"\s*:\s*"((?:[^"\\]|\\.){1,253})"/;
const NAMESPACE = /"namespace"\s*:\s*"((?:[^"\\]|\\.){1,63})"/;

/**
 * `namespace/name` of the first object in `text` (a cut watch event line or list item):
 * the API server writes `metadata` first with `name` and `namespace` at its top, before
 * labels and annotations. null when the text does not show them.
 */
export function objectRefIn(text: string): string | null {
  const at = text.indexOf('"metadata"');
  if (at < 0) return null;
  const meta = text.slice(at, at + 4096);
  const name = NAME.exec(meta)?.[1];
  if (name === undefined) return null;
  const namespace = NAMESPACE.exec(meta)?.[1];
  // A name is RFC 1123 or a path-safe string: no quote or backslash left to unescape.
  return namespace === undefined ? name : `${namespace}/${name}`;
}

/**
 * The list's `metadata` (resourceVersion, continue) and the first item's `namespace/name`
 * from the start of a list page: the server writes `{"kind":..,"apiVersion":..,
 * "metadata":{..},"items":[` before any item. null when the head does not have that shape.
 */
export function listHead(
  head: string,
): { resourceVersion: string; continue: string | undefined; first: string | null } | null {
  const at = head.indexOf('"items":[');
  if (at < 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(`${head.slice(0, at)}"items":[]}`);
  } catch {
    return null;
  }
  const meta = (parsed as { metadata?: { resourceVersion?: unknown; continue?: unknown } })
    ?.metadata;
  if (meta === undefined || meta === null || typeof meta !== 'object') return null;
  return {
    resourceVersion: typeof meta.resourceVersion === 'string' ? meta.resourceVersion : '',
    continue: typeof meta.continue === 'string' && meta.continue !== '' ? meta.continue : undefined,
    first: objectRefIn(head.slice(at)),
  };
}
