import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ExplainReport, formatReport } from './report.js';

export interface ExplainServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `GET /explain?name=web.prod.example.tld` (JSON; `&format=text` for the terminal form):
 * which objects claim the name, their backends, ready/total endpoints and the verdict.
 * Loopback only (the schema allows no other host): it names namespaces and Services.
 */
export function startExplainServer(
  host: string,
  port: number,
  report: (name: string) => ExplainReport,
): Promise<ExplainServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://explain');
    const name = url.searchParams.get('name');
    if (url.pathname !== '/explain' || !name) {
      res
        .writeHead(url.pathname === '/explain' ? 400 : 404, { 'content-type': 'text/plain' })
        .end('try /explain?name=NAME\n');
      return;
    }
    const r = report(name);
    if (url.searchParams.get('format') === 'text') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(formatReport(r));
    } else {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`${JSON.stringify(r, null, 2)}\n`);
    }
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
