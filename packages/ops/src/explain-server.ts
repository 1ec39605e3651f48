import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running explain endpoint. */
export interface ExplainServer {
  port: number;
  close(): Promise<void>;
}

/** What one app explains: its reports, their terminal form, and how to ask. */
export interface ExplainEndpoint<R> {
  host: string;
  port: number;
  /** Every request needs `Authorization: Bearer <token>`; absent: none (loopback only). */
  token?: string;
  /** The query parameters to a report, or `{ error }` for a 400 (a missing or bad name). */
  explain(params: URLSearchParams): Promise<R | { error: string }> | R | { error: string };
  /** The `&format=text` form of a report. */
  format(report: R): string;
  /** Shown on a 404 or a 400: e.g. `/explain?name=NAME`. */
  usage: string;
}

/**
 * True when `token` is unset, or `authorization` is `Bearer <token>` (compared in constant
 * time: the token may be all that stands between the network and a fan-out per request).
 */
export function authorized(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(authorization ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function isError(x: unknown): x is { error: string } {
  return (
    typeof x === 'object' && x !== null && typeof (x as { error?: unknown }).error === 'string'
  );
}

/**
 * `GET /explain?...` on its own port (JSON; `&format=text` for the terminal form): both
 * apps' debugging endpoint, off by default, never an API to expose. The decisions (what a
 * report holds) are the app's; this is only the HTTP around them.
 */
export function startExplainServer<R>(endpoint: ExplainEndpoint<R>): Promise<ExplainServer> {
  const { host, port, token } = endpoint;
  const text = (res: import('node:http').ServerResponse, status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  const server: Server = createServer((req, res) => {
    if (!authorized(req.headers.authorization, token)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
        .end('explain needs Authorization: Bearer <explain.token>\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://explain');
    if (url.pathname !== '/explain') {
      text(res, 404, `not found; try ${endpoint.usage}\n`);
      return;
    }
    Promise.resolve()
      .then(() => endpoint.explain(url.searchParams))
      .then(
        (report) => {
          if (isError(report)) text(res, 400, `${report.error}; try ${endpoint.usage}\n`);
          else if (url.searchParams.get('format') === 'text') {
            text(res, 200, endpoint.format(report));
          } else {
            res
              .writeHead(200, { 'content-type': 'application/json' })
              .end(`${JSON.stringify(report, null, 2)}\n`);
          }
        },
        (err: Error) => text(res, 500, `explain failed: ${err.message}\n`),
      );
  });
  server.requestTimeout = 10_000;
  return new Promise((resolve, reject) => {
    server.once('error', (err) =>
      reject(new Error(`explain server: cannot listen on ${host}:${port}: ${err.message}`)),
    );
    server.listen(port, host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
