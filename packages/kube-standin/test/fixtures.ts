/** Shared builders and waiting for the kube-standin tests. */
import { request } from 'node:http';
import { connect } from 'node:net';
import type { KubeObject } from '../src/index.js';

export function ingress(name: string, host: string, namespace = 'web', labels = {}): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace, labels },
    spec: { rules: [{ host }] },
  };
}

export function dnsEndpoint(name: string, dnsName: string, namespace = 'web'): KubeObject {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace },
    spec: { endpoints: [{ dnsName, recordType: 'A', targets: ['192.0.2.1'] }] },
  };
}

/** Poll `pred` every 10 ms until true; throws naming `what` after `timeoutMs`. */
export async function until(what: string, pred: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}

export interface RawWatch {
  status: number;
  events: { type: string; object: any }[];
  /** Raw bytes received, to see torn lines. */
  raw: string;
  /** Resolves when the response ends: `clean` true for a normal end, false for a reset. */
  ended: Promise<{ clean: boolean }>;
  close(): void;
}

/** A watch read with node:http directly, so tests see exactly what is on the wire. */
export function rawWatch(url: string): Promise<RawWatch> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let buf = '';
      const w: RawWatch = {
        status: res.statusCode ?? 0,
        events: [],
        raw: '',
        ended: new Promise((done) => {
          res.on('end', () => done({ clean: true }));
          res.on('error', () => done({ clean: false }));
          res.on('aborted', () => done({ clean: false }));
        }),
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        w.raw += chunk;
        buf += chunk;
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          w.events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
          nl = buf.indexOf('\n');
        }
      });
      resolve(w);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * The HTTP chunks of a response exactly as framed on the wire (a plain TCP socket, the
 * chunked encoding parsed here), to see where a server put the chunk boundaries.
 */
export function httpChunks(url: string): Promise<string[]> {
  const { hostname, port, pathname, search } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const parts: Buffer[] = [];
    socket.on('data', (d) => parts.push(d));
    socket.on('error', reject);
    socket.on('end', () => {
      const text = Buffer.concat(parts).toString('latin1');
      let pos = text.indexOf('\r\n\r\n') + 4;
      const chunks: string[] = [];
      for (;;) {
        const eol = text.indexOf('\r\n', pos);
        const size = Number.parseInt(text.slice(pos, eol), 16);
        if (!(size > 0)) break;
        chunks.push(Buffer.from(text.slice(eol + 2, eol + 2 + size), 'latin1').toString('utf8'));
        pos = eol + 2 + size + 2;
      }
      resolve(chunks);
    });
    socket.write(
      `GET ${pathname}${search} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`,
    );
  });
}
