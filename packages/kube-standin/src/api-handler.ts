/**
 * Serves one API request: discovery, get, list, watch and the optional HTTP write verbs.
 * Faults and logging happen in the server before this is called.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  apiGroup,
  apiGroupList,
  apiVersionOf,
  coreVersions,
  type KindSpec,
  kindKey,
  resourceList,
} from './kinds.js';
import { paginate } from './list-page.js';
import type { Route } from './routes.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';
import { failure, NO_RESOURCE } from './status.js';
import type { KubeObject, ObjectStore } from './store.js';
import type { WatchFilter, WatchStream } from './watch-stream.js';

export type Verb =
  | 'discovery'
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'delete'
  | 'unknown';

export interface Classified {
  verb: Verb;
  /** Installed kind the request addresses; undefined for discovery or a missing kind. */
  spec?: KindSpec;
}

export interface ApiState {
  store: ObjectStore;
  installed(): readonly KindSpec[];
  isForbidden(spec: KindSpec): boolean;
  serverAddress(): string;
  openWatch(
    res: ServerResponse,
    spec: KindSpec,
    filter: WatchFilter,
    opts: { bookmarks: boolean; timeoutMs?: number },
  ): WatchStream;
}

function isWatch(q: URLSearchParams): boolean {
  const w = q.get('watch');
  return w === 'true' || w === '1';
}

export function classify(
  route: Route,
  method: string,
  q: URLSearchParams,
  installed: readonly KindSpec[],
): Classified {
  if (route.type === 'unknown') return { verb: 'unknown' };
  if (route.type !== 'resource') return { verb: 'discovery' };
  const spec = installed.find(
    (k) => k.group === route.group && k.version === route.version && k.plural === route.plural,
  );
  const verb: Verb =
    method === 'GET'
      ? route.name
        ? 'get'
        : isWatch(q)
          ? 'watch'
          : 'list'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'DELETE'
            ? 'delete'
            : 'unknown';
  return { verb, spec };
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function notFound(res: ServerResponse): void {
  sendJson(res, 404, failure(404, NO_RESOURCE, {}));
}

function objectNotFound(res: ServerResponse, spec: KindSpec, name: string): void {
  sendJson(
    res,
    404,
    failure(404, `${kindKey(spec)} "${name}" not found`, {
      name,
      group: spec.group,
      kind: spec.plural,
    }),
  );
}

function forbidden(res: ServerResponse, spec: KindSpec, verb: Verb, ns?: string): void {
  const scope = ns ? `in the namespace "${ns}"` : 'at the cluster scope';
  const msg =
    `${kindKey(spec)} is forbidden: User "system:serviceaccount:mdns:cluster-gateway" ` +
    `cannot ${verb} resource "${spec.plural}" in API group "${spec.group}" ${scope}`;
  sendJson(res, 403, failure(403, msg, { group: spec.group, kind: spec.plural }));
}

function discovery(state: ApiState, route: Route, res: ServerResponse): void {
  const installed = state.installed();
  const body =
    route.type === 'version'
      ? { major: '1', minor: '33', gitVersion: 'v1.33.0-standin', platform: 'linux/amd64' }
      : route.type === 'coreVersions'
        ? coreVersions(state.serverAddress())
        : route.type === 'groupList'
          ? apiGroupList(installed)
          : route.type === 'group'
            ? apiGroup(installed, route.group)
            : route.type === 'resourceList'
              ? resourceList(installed, route.group, route.version)
              : undefined;
  if (body) sendJson(res, 200, body);
  else notFound(res);
}

/** Built-in kinds omit per-item apiVersion/kind in lists; custom resources keep them. */
function listItem(spec: KindSpec, o: KubeObject): KubeObject {
  if (spec.crd !== false) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
}

async function readBody(req: IncomingMessage): Promise<KubeObject | undefined> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  try {
    const obj = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return obj && typeof obj.metadata?.name === 'string' ? obj : undefined;
  } catch {
    return undefined;
  }
}

export async function serveApi(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  route: Route,
  c: Classified,
): Promise<void> {
  if (route.type !== 'resource') return discovery(state, route, res);
  const { spec } = c;
  if (!spec || (route.subresource && route.subresource !== 'status')) return notFound(res);
  if (!spec.namespaced && route.namespace !== undefined) return notFound(res);
  if (state.isForbidden(spec)) return forbidden(res, spec, c.verb, route.namespace);
  const { store } = state;
  const q = url.searchParams;
  switch (c.verb) {
    case 'get': {
      const o = store.get(spec, route.namespace, route.name!);
      return o ? sendJson(res, 200, o) : objectNotFound(res, spec, route.name!);
    }
    case 'list':
    case 'watch': {
      const labels = parseLabelSelector(q.get('labelSelector'));
      if (!labels.ok) return sendJson(res, 400, failure(400, labels.error));
      const fields = parseFieldSelector(q.get('fieldSelector'));
      if (!fields.ok) return sendJson(res, 400, failure(400, fields.error));
      const filter = { namespace: route.namespace, labels: labels.value, fields: fields.value };
      return c.verb === 'list'
        ? list(state, spec, filter, q, res)
        : watch(state, spec, filter, q, res);
    }
    case 'create':
    case 'update': {
      const body = await readBody(req);
      if (!body)
        return sendJson(res, 400, failure(400, 'body must be an object with metadata.name'));
      body.metadata.namespace = route.namespace ?? body.metadata.namespace;
      const name = route.name ?? body.metadata.name;
      const exists = store.get(spec, body.metadata.namespace, name) !== undefined;
      if (c.verb === 'create' && exists) {
        return sendJson(res, 409, failure(409, `${kindKey(spec)} "${name}" already exists`));
      }
      if (c.verb === 'update' && !exists) return objectNotFound(res, spec, name);
      const saved =
        route.subresource === 'status'
          ? store.patchStatus(spec, body.metadata.namespace, name, body.status)!
          : store.put(spec, { ...body, metadata: { ...body.metadata, name } });
      return sendJson(res, c.verb === 'create' ? 201 : 200, saved);
    }
    case 'delete': {
      const gone = route.name ? store.remove(spec, route.namespace, route.name) : undefined;
      return gone ? sendJson(res, 200, gone) : objectNotFound(res, spec, route.name ?? '');
    }
    default:
      return sendJson(res, 405, failure(405, `method ${req.method} is not supported here`));
  }
}

function list(
  state: ApiState,
  spec: KindSpec,
  filter: WatchFilter,
  q: URLSearchParams,
  res: ServerResponse,
) {
  const { store } = state;
  const asked = Number(q.get('resourceVersion') || '0');
  if (q.get('resourceVersionMatch') === 'Exact' && asked < store.oldestWatchableVersion) {
    const msg = `too old resource version: ${asked} (${store.oldestWatchableVersion})`;
    return sendJson(res, 410, failure(410, msg));
  }
  const { namespace, labels, fields } = filter;
  const items = store
    .list(spec)
    .filter(
      (o) =>
        (namespace === undefined || o.metadata.namespace === namespace) &&
        visible(labels, fields, o),
    );
  const limit = q.has('limit') ? Number(q.get('limit')) : undefined;
  const page = paginate(
    items,
    { limit, continueToken: q.get('continue') ?? undefined },
    store.resourceVersion,
    store.oldestWatchableVersion,
  );
  if (!page.ok) return sendJson(res, page.code, failure(page.code, page.message));
  sendJson(res, 200, {
    kind: `${spec.kind}List`,
    apiVersion: apiVersionOf(spec),
    metadata: {
      resourceVersion: String(page.rv),
      ...(page.continue ? { continue: page.continue, remainingItemCount: page.remaining } : {}),
    },
    items: page.items.map((o) => listItem(spec, o)),
  });
}

function visible(labels: WatchFilter['labels'], fields: WatchFilter['fields'], o: KubeObject) {
  return matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o.metadata);
}

function watch(
  state: ApiState,
  spec: KindSpec,
  filter: WatchFilter,
  q: URLSearchParams,
  res: ServerResponse,
) {
  const { store } = state;
  const rvParam = q.get('resourceVersion') ?? '';
  const fromRv = Number(rvParam || '0');
  if (!Number.isInteger(fromRv) || fromRv < 0) {
    return sendJson(res, 400, failure(400, `invalid resourceVersion "${rvParam}"`));
  }
  const timeoutSeconds = Number(q.get('timeoutSeconds') || '0');
  const stream = state.openWatch(res, spec, filter, {
    bookmarks: isWatch(new URLSearchParams({ watch: q.get('allowWatchBookmarks') ?? '' })),
    timeoutMs: timeoutSeconds > 0 ? timeoutSeconds * 1000 : undefined,
  });
  // "0" or unset means "any version": the real server starts with the current state.
  if (fromRv === 0) return stream.added(store.list(spec));
  const replay = store.replay(spec, fromRv);
  if (!replay.ok) {
    return stream.error(failure(410, `too old resource version: ${fromRv} (${replay.oldest})`));
  }
  for (const ev of replay.events) stream.deliver(ev);
}
