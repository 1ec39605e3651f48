/**
 * The control API over HTTP under `/_standin/`, so a stand-in running as a separate
 * process (the CLI, the benchmark) can be driven like the in-process JS API.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './api-handler.js';
import type { Standin } from './server.js';
import { failure } from './status.js';
import type { KubeObject } from './store.js';

export const CONTROL_PREFIX = '/_standin/';

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

function asList(body: unknown): KubeObject[] {
  if (Array.isArray(body)) return body;
  const b = body as { kind?: string; items?: KubeObject[] };
  return b?.kind === 'List' && Array.isArray(b.items) ? b.items : [body as KubeObject];
}

/** Run one control action; the answer is JSON `{ ok: true, ... }` or a 400 Status. */
export async function serveControl(
  s: Standin,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const action = url.pathname.slice(CONTROL_PREFIX.length);
  const q = url.searchParams;
  const flag = (name: string, dflt: boolean) => (q.has(name) ? q.get(name) === 'true' : dflt);
  try {
    switch (action) {
      case 'state':
        return sendJson(res, 200, {
          ok: true,
          resourceVersion: s.resourceVersion,
          kinds: s.installedKinds(),
          openWatches: s.openWatches(),
          requests: s.requests.length,
        });
      case 'apply': {
        const applied = s.applyAll(asList(await readJson(req)));
        return sendJson(res, 200, { ok: true, resourceVersion: s.resourceVersion, applied });
      }
      case 'delete': {
        const deleted = s.delete(
          q.get('kind') ?? '',
          q.get('namespace') ?? undefined,
          q.get('name') ?? '',
        );
        return sendJson(res, 200, { ok: true, deleted });
      }
      case 'compact':
        s.compact();
        return sendJson(res, 200, { ok: true });
      case 'drop':
        return sendJson(res, 200, {
          ok: true,
          dropped: s.dropConnections({ cutMidEvent: flag('cutMidEvent', false) }),
        });
      case 'end-watches':
        return sendJson(res, 200, { ok: true, ended: s.endWatches() });
      case 'stall':
        s.stall(flag('on', true));
        return sendJson(res, 200, { ok: true });
      case 'install':
        s.installKind((await readJson(req)) as never);
        return sendJson(res, 200, { ok: true });
      case 'uninstall':
        s.uninstallKind(q.get('kind') ?? '');
        return sendJson(res, 200, { ok: true });
      case 'forbid':
        s.forbid(q.get('kind') ?? '', flag('on', true));
        return sendJson(res, 200, { ok: true });
      case 'fail-next':
        s.failNext(Number(q.get('n') ?? '1'), Number(q.get('status') ?? '500'));
        return sendJson(res, 200, { ok: true });
      default:
        return sendJson(res, 404, failure(404, `kube-standin: no control action "${action}"`));
    }
  } catch (err) {
    sendJson(res, 400, failure(400, err instanceof Error ? err.message : String(err)));
  }
}
