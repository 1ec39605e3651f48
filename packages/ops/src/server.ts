import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
/** What `/metrics` serves: a prom-client `Registry`, or the primary's merge of its workers'. */
export interface MetricsSource {
  contentType: string;
  metrics(): Promise<string>;
}

export type ReadyState = boolean | { ready: boolean; detail?: unknown };

export interface OpsServerOptions {
  /** Listen address for all three endpoints. Default `'0.0.0.0'`. */
  host?: string;
  /** `/metrics`. Default 9153 (the CoreDNS metrics port). */
  metricsPort?: number;
  /** `/health` (liveness). Default 8080 (CoreDNS `health`). */
  healthPort?: number;
  /** `/ready` (readiness). Default 8181 (CoreDNS `ready`). */
  readyPort?: number;
  /** Served at `/metrics`. */
  registry: MetricsSource;
  /** Asked on every `/ready`; `{ ready, detail }` puts `detail` in the JSON body. */
  ready: () => ReadyState | Promise<ReadyState>;
  /** Extra liveness condition; `/health` is 503 when it returns false. Default: always alive. */
  health?: () => boolean | Promise<boolean>;
}

export interface OpsServer {
  /** The bound ports (useful with port 0). */
  ports: { metrics: number; health: number; ready: number };
  /** From now on `/ready` answers 503 and `/health` stays as it was: the lame duck. */
  markNotReady(): void;
  /** From now on `/health` and `/ready` answer 503: the process is draining. */
  markShuttingDown(): void;
  close(): Promise<void>;
}

type Endpoint = 'metrics' | 'health' | 'ready';

interface Reply {
  status: number;
  type: string;
  body: string;
}

const TEXT = 'text/plain; charset=utf-8';
const JSON_TYPE = 'application/json; charset=utf-8';

/** Pure: the readiness reply for a state (or for a throwing `ready()`). */
export function readyReply(state: ReadyState | Error, shuttingDown: boolean): Reply {
  if (state instanceof Error) {
    return {
      status: 503,
      type: JSON_TYPE,
      body: JSON.stringify({ ready: false, error: state.message }),
    };
  }
  const ready = (typeof state === 'boolean' ? state : state.ready) && !shuttingDown;
  const body: Record<string, unknown> = { ready };
  if (shuttingDown) body.shuttingDown = true;
  if (typeof state === 'object' && state.detail !== undefined) body.detail = state.detail;
  return { status: ready ? 200 : 503, type: JSON_TYPE, body: JSON.stringify(body) };
}

/** Pure: which endpoints each distinct port serves. Equal numbers (including 0) share one. */
export function planListeners(ports: Record<Endpoint, number>): Map<number, Endpoint[]> {
  const plan = new Map<number, Endpoint[]>();
  for (const name of ['metrics', 'health', 'ready'] as const) {
    const list = plan.get(ports[name]) ?? [];
    list.push(name);
    plan.set(ports[name], list);
  }
  return plan;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    'content-type': reply.type,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(reply.body),
  });
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}

/**
 * Start the operational HTTP endpoints: `/metrics`, `/health`, `/ready`. Each path is
 * served only on its own port, so a probe cannot be confused with a scrape.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const host = options.host ?? '0.0.0.0';
  const wanted = {
    metrics: options.metricsPort ?? 9153,
    health: options.healthPort ?? 8080,
    ready: options.readyPort ?? 8181,
  };
  let shuttingDown = false;
  // Lame duck: out of the Service endpoints, still alive (a failing liveness probe would
  // get the container killed before it finished answering).
  let notReady = false;

  async function answer(endpoint: Endpoint): Promise<Reply> {
    switch (endpoint) {
      case 'metrics':
        try {
          return {
            status: 200,
            type: options.registry.contentType,
            body: await options.registry.metrics(),
          };
        } catch (err) {
          return { status: 500, type: TEXT, body: `metrics failed: ${(err as Error).message}\n` };
        }
      case 'health': {
        let alive = !shuttingDown;
        try {
          alive &&= options.health ? await options.health() : true;
        } catch {
          alive = false;
        }
        return alive
          ? { status: 200, type: TEXT, body: 'OK' }
          : { status: 503, type: TEXT, body: shuttingDown ? 'shutting down' : 'unhealthy' };
      }
      case 'ready': {
        let state: ReadyState | Error;
        try {
          state = await options.ready();
        } catch (err) {
          state = err as Error;
        }
        return readyReply(state, shuttingDown || notReady);
      }
    }
  }

  const servers: Server[] = [];
  const bound = new Map<number, number>();
  try {
    for (const [port, endpoints] of planListeners(wanted)) {
      const paths = new Map<string, Endpoint>(endpoints.map((e) => [`/${e}`, e]));
      const server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        const endpoint = paths.get(path);
        if (!endpoint) return send(req, res, { status: 404, type: TEXT, body: 'not found\n' });
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          res.setHeader('allow', 'GET, HEAD');
          return send(req, res, { status: 405, type: TEXT, body: 'method not allowed\n' });
        }
        answer(endpoint).then(
          (reply) => send(req, res, reply),
          () => send(req, res, { status: 500, type: TEXT, body: 'internal error\n' }),
        );
      });
      // Probes and scrapes are short; do not let a slow client hold the process open.
      server.keepAliveTimeout = 5_000;
      server.requestTimeout = 10_000;
      servers.push(server);
      bound.set(port, await listen(server, port, host));
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(undefined)))));
    const e = err as NodeJS.ErrnoException;
    throw new Error(`ops server: cannot listen on ${host}: ${e.message}`, { cause: err });
  }

  return {
    ports: {
      metrics: bound.get(wanted.metrics)!,
      health: bound.get(wanted.health)!,
      ready: bound.get(wanted.ready)!,
    },
    markNotReady() {
      notReady = true;
    },
    markShuttingDown() {
      shuttingDown = true;
    },
    async close() {
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      );
    },
  };
}
