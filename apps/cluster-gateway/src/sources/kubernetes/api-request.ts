import http from 'node:http';
import https from 'node:https';
import { StringDecoder } from 'node:string_decoder';
import type { KubeConfig } from '@kubernetes/client-node';
import { OVERSIZE_HEAD_BYTES } from './oversize.js';

/** An HTTP error from the API server; `statusCode` is what `httpStatus` reads. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A response body over the caller's byte cap: the request was cut, `head` is its start. */
export class BodyTooLarge extends Error {
  constructor(
    readonly limit: number,
    readonly head: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * GET `path` (with `query`) from the kubeconfig's current cluster and parse the JSON body.
 * Authentication, TLS and proxy come from client-node (`applyToHTTPSOptions`), the request
 * itself is Node's: the generated API clients would run every object of a list through
 * their model deserializer (a second full copy of a 20k-object list, plus megabytes of
 * model code kept compiled) only for the gateway to throw nearly all of it away.
 */
export async function getJson(
  kc: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
  timeoutMs: number,
  /** The body may not exceed this many bytes: the request is cut and rejects with `BodyTooLarge`. */
  maxBytes = Number.POSITIVE_INFINITY,
): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, v);
  const opts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  await kc.applyToHTTPSOptions(opts);
  const request = url.protocol === 'http:' ? http.request : https.request;
  return new Promise((resolve, reject) => {
    const req = request(url, opts, (res) => {
      // Decoded as it arrives into a V8 string: a Buffer.concat of the page would be a large
      // malloc that glibc keeps in the process after it is freed (RSS that never comes back).
      const decoder = new StringDecoder('utf8');
      let text = '';
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        if (bytes > maxBytes) return;
        bytes += c.length;
        if (bytes > maxBytes) {
          // Cut here: one huge object (or page) must not be held whole, let alone parsed.
          const head = (text + decoder.write(c)).slice(0, OVERSIZE_HEAD_BYTES);
          text = '';
          req.destroy(
            new BodyTooLarge(maxBytes, head, `GET ${url.pathname}: body over ${maxBytes} bytes`),
          );
          return;
        }
        text += decoder.write(c);
      });
      res.on('error', reject);
      res.on('end', () => {
        text += decoder.end();
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          reject(
            new ApiError(status, `GET ${url.pathname}: HTTP ${status} ${statusMessage(text)}`),
          );
          return;
        }
        try {
          resolve(JSON.parse(text));
        } catch (err) {
          reject(new Error(`GET ${url.pathname}: body is not JSON: ${(err as Error).message}`));
        }
      });
    });
    req.on('error', reject);
    // The caller gives up after the same time; this frees the socket of a stalled request.
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`GET ${url.pathname}: no answer within ${timeoutMs} ms`)),
    );
    req.end();
  });
}

/** The `message` of a Kubernetes Status body, else the start of the body. */
function statusMessage(text: string): string {
  try {
    const m = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof m === 'string') return m;
  } catch {
    // not JSON: fall through
  }
  return text.slice(0, 200);
}
