/** Which API endpoint a request path names. Pure: no knowledge of what is installed. */

export type Route =
  | { type: 'version' }
  | { type: 'coreVersions' }
  | { type: 'groupList' }
  | { type: 'group'; group: string }
  | { type: 'resourceList'; group: string; version: string }
  | {
      type: 'resource';
      group: string;
      version: string;
      plural: string;
      namespace?: string;
      name?: string;
      subresource?: string;
    }
  | { type: 'unknown' };

function resourceRoute(group: string, version: string, rest: string[]): Route {
  if (rest.length === 0) return { type: 'resourceList', group, version };
  // `/namespaces/NS` alone is the Namespace object itself; `/namespaces/NS/<plural>` scopes.
  const scoped = rest[0] === 'namespaces' && rest.length >= 3;
  const [namespace, plural, name, subresource, extra] = scoped
    ? [rest[1], rest[2], rest[3], rest[4], rest[5]]
    : [undefined, rest[0], rest[1], rest[2], rest[3]];
  if (extra !== undefined || !plural) return { type: 'unknown' };
  return { type: 'resource', group, version, plural, namespace, name, subresource };
}

export function parseRoute(pathname: string): Route {
  const seg = pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  if (seg[0] === 'version' && seg.length === 1) return { type: 'version' };
  if (seg[0] === 'api') {
    if (seg.length === 1) return { type: 'coreVersions' };
    return resourceRoute('', seg[1], seg.slice(2));
  }
  if (seg[0] === 'apis') {
    if (seg.length === 1) return { type: 'groupList' };
    if (seg.length === 2) return { type: 'group', group: seg[1] };
    return resourceRoute(seg[1], seg[2], seg.slice(3));
  }
  return { type: 'unknown' };
}
