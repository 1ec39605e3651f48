import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import { API_IP } from './pod.js';

// What a pod has of its cluster's API server: an HTTPS endpoint at
// KUBERNETES_SERVICE_HOST:443 whose certificate the service account's ca.crt signs, and
// a bearer token file. Here: a TLS front (certificate for API_IP, made with openssl)
// that checks the token and passes each request on to the kube stand-in (plain HTTP).
// It listens on a unix socket, which crosses network namespaces; FORWARDER, run inside
// the pod's namespace, carries API_IP:443 to it.

export const FORWARDER = `
const net = require('node:net');
const [host, port, socket] = process.argv.slice(1);
net.createServer((c) => {
  const up = net.connect(socket);
  c.pipe(up).pipe(c);
  c.on('error', () => up.destroy());
  up.on('error', () => c.destroy());
}).listen(Number(port), host);
`;

export type InClusterApi = {
  /** Directory with token, ca.crt and namespace: the service account volume. */
  serviceAccountDir: string;
  socket: string;
  /** Requests that carried the token, and those that did not (401). */
  counts: { authorized: number; rejected: number };
  close: () => Promise<void>;
};

export async function startInClusterApi(dir: string, standinPort: number): Promise<InClusterApi> {
  mkdirSync(dir, { recursive: true });
  const key = join(dir, 'tls.key');
  const ca = join(dir, 'ca.crt');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=kubernetes',
      '-addext',
      `subjectAltName=IP:${API_IP}`,
      '-keyout',
      key,
      '-out',
      ca,
    ],
    { stdio: 'ignore' },
  );
  const sa = join(dir, 'serviceaccount');
  mkdirSync(sa, { recursive: true });
  const token = randomBytes(24).toString('hex');
  writeFileSync(join(sa, 'token'), token);
  writeFileSync(join(sa, 'ca.crt'), readFileSync(ca));
  writeFileSync(join(sa, 'namespace'), 'mdns-system');
  const counts = { authorized: 0, rejected: 0 };
  const server: Server = createServer(
    { key: readFileSync(key), cert: readFileSync(ca) },
    (req, res) => {
      if (req.headers.authorization !== `Bearer ${token}`) {
        counts.rejected++;
        res
          .writeHead(401, { 'content-type': 'application/json' })
          .end('{"kind":"Status","code":401}');
        return;
      }
      counts.authorized++;
      const up = request(
        {
          host: '127.0.0.1',
          port: standinPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    },
  );
  const socket = join(dir, 'api.sock');
  await new Promise<void>((res) => server.listen(socket, res));
  return {
    serviceAccountDir: sa,
    socket,
    counts,
    close: () =>
      new Promise<void>((res) => {
        server.closeAllConnections();
        server.close(() => res());
      }),
  };
}
