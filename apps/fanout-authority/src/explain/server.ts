import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AnswerCache } from '../cache/index.js';
import type { Runtime } from '../config/runtime.js';
import { explain, formatExplain, parseExplainRequest } from './explain.js';

export interface ExplainServer {
  port: number;
  close(): Promise<void>;
}

/**
 * True when `token` is unset, or `authorization` is `Bearer <token>` (compared in constant
 * time: the token is the only thing between the network and a fan-out per request).
 */
export function authorized(authorization: string | undefined, token: string | undefined): boolean {
  if (token === undefined) return true;
  const given = Buffer.from(authorization ?? '');
  const wanted = Buffer.from(`Bearer ${token}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/**
 * `GET /explain?name=svc.prod.example.tld&type=A` (JSON; `&format=text` for the terminal
 * form). On its own port, loopback by default, because every request queries every
 * upstream: it is a debugging tool, not an API to expose. With `token`, every request needs
 * `Authorization: Bearer <token>` (the config requires one for a non-loopback host).
 */
export function startExplainServer(
  host: string,
  port: number,
  runtime: () => Runtime,
  cache: () => AnswerCache | null,
  token?: string,
): Promise<ExplainServer> {
  const server: Server = createServer((req, res) => {
    if (!authorized(req.headers.authorization, token)) {
      res
        .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
        .end('explain needs Authorization: Bearer <explain.token>\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://explain');
    if (url.pathname !== '/explain') {
      res
        .writeHead(404, { 'content-type': 'text/plain' })
        .end('not found; try /explain?name=NAME&type=A\n');
      return;
    }
    const parsed = parseExplainRequest(url.searchParams.get('name'), url.searchParams.get('type'));
    if (!parsed.ok) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`${parsed.error}\n`);
      return;
    }
    explain(runtime(), parsed.name, parsed.qtype, cache()).then(
      (report) => {
        if (url.searchParams.get('format') === 'text') {
          res
            .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
            .end(formatExplain(report));
        } else {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(`${JSON.stringify(report, null, 2)}\n`);
        }
      },
      (err: Error) =>
        res
          .writeHead(500, { 'content-type': 'text/plain' })
          .end(`explain failed: ${err.message}\n`),
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
