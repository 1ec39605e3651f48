import { parseAllDocuments } from 'yaml';
import type { WatchedKind } from './ledger.js';

/**
 * The API group each kind must come from: a `kind: Ingress` of another group is not ours.
 * EndpointSlices are not read from files: health needs them live, from the API.
 */
const GROUP_OF: Record<Exclude<WatchedKind, 'EndpointSlice'>, string> = {
  Ingress: 'networking.k8s.io',
  Service: '',
  HTTPRoute: 'gateway.networking.k8s.io',
  GRPCRoute: 'gateway.networking.k8s.io',
  TLSRoute: 'gateway.networking.k8s.io',
  Gateway: 'gateway.networking.k8s.io',
  DNSEndpoint: 'externaldns.k8s.io',
};

export interface ManifestObject {
  kind: WatchedKind;
  raw: unknown;
}

export type ParsedFile = { ok: true; objects: ManifestObject[] } | { ok: false; error: string };

function groupOf(apiVersion: unknown): string | null {
  if (typeof apiVersion !== 'string') return null;
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function collect(doc: unknown, out: ManifestObject[]): void {
  if (doc === null || typeof doc !== 'object') return;
  const o = doc as { kind?: unknown; apiVersion?: unknown; items?: unknown };
  if (o.kind === 'List' && Array.isArray(o.items)) {
    for (const item of o.items) collect(item, out);
    return;
  }
  if (typeof o.kind !== 'string' || !Object.hasOwn(GROUP_OF, o.kind)) return;
  const kind = o.kind as WatchedKind;
  if (groupOf(o.apiVersion) === GROUP_OF[kind as keyof typeof GROUP_OF])
    out.push({ kind, raw: doc });
}

/**
 * Parses one multi-document YAML file into the objects we watch (a `kind: List` is
 * unwrapped; other kinds are ignored). Any syntax error fails the whole file, with the
 * file name and line, so the caller can keep the file's previous objects.
 */
export function parseManifestFile(file: string, text: string): ParsedFile {
  const json = parseJson(text);
  if (json !== undefined) {
    const objects: ManifestObject[] = [];
    collect(json, objects);
    return { ok: true, objects };
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const objects: ManifestObject[] = [];
  for (const doc of list) {
    const err = doc.errors[0];
    if (err) {
      const line = err.linePos?.[0]?.line;
      const where = line !== undefined ? `${file}:${line}` : file;
      return { ok: false, error: `${where}: ${err.message.split('\n')[0]}` };
    }
    collect(doc.toJS(), objects);
  }
  return { ok: true, objects };
}

/**
 * A file that is one JSON value (generated manifests, `kubectl get -o json`) is read with
 * `JSON.parse`: the same value YAML 1.2 gives for JSON, at a fraction of the time and memory
 * of the YAML parser (10k objects: the YAML document model peaked at ~100 MB more RSS).
 * `undefined` for anything else, which then goes to the YAML parser (and its error lines).
 */
function parseJson(text: string): unknown {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isManifestFile(name: string): boolean {
  return !name.startsWith('.') && /\.(ya?ml|json)$/i.test(name);
}
