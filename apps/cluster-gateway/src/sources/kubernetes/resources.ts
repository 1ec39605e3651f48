import type { KubeConfig } from '@kubernetes/client-node';
import type { SourcesConfig } from '../config.js';
import { trimEndpointSlice } from '../health/endpoint-slice.js';
import type { WatchedKind } from '../ledger.js';
import { trimListed } from '../slim.js';
import { BodyTooLarge, getJson } from './api-request.js';
import { listHead } from './oversize.js';

/** Where one kind is served, and how to list it. */
export interface Resource {
  kind: WatchedKind;
  /** `''` for the core group. */
  group: string;
  version: string;
  plural: string;
  /** Collection path across all namespaces, for the watch. */
  path: string;
  /**
   * Versions to try at discovery, preferred first; the first served one becomes `version`
   * and `path`. Absent: `version` only.
   */
  candidates?: readonly string[];
}

/**
 * The Gateway API versions tried for each kind when `gatewayApiVersions` does not pin one:
 * v1 first (TLSRoute is v1 from Gateway API 1.4, HTTPRoute/GRPCRoute/Gateway earlier), then
 * the older channels a cluster may still serve alone. The fields read (`spec.hostnames`,
 * `spec.parentRefs`, `status.addresses`) are the same in all of them.
 */
export const GATEWAY_API_VERSIONS: readonly string[] = ['v1', 'v1beta1', 'v1alpha3', 'v1alpha2'];

/** The resource at one of its versions. */
export function atVersion(r: Resource, version: string): Resource {
  const base = r.group === '' ? `/api/${version}` : `/apis/${r.group}/${version}`;
  return { ...r, version, path: `${base}/${r.plural}` };
}

export interface ListResult {
  items: unknown[];
  resourceVersion: string;
  /** Objects left out because even alone they were over the page cap. */
  skipped: { object: string; bytes: number }[];
}

/** The byte caps on what the API server may send (`sources.kubernetes`). */
export interface ByteCaps {
  maxPageBytes: number;
  maxEventBytes: number;
}

/** The talking part of a resource: discovery, list. Injected so the reflector stays testable. */
export interface ResourceApi {
  /** true when the group/version serves the plural; throws (with `code`) on HTTP errors. */
  served(r: Resource): Promise<boolean>;
  list(r: Resource, labelSelector: string | undefined): Promise<ListResult>;
}

export function resourceOf(
  kind: WatchedKind,
  versions: SourcesConfig['kubernetes']['gatewayApiVersions'],
): Resource {
  switch (kind) {
    case 'Service':
      return { kind, group: '', version: 'v1', plural: 'services', path: '/api/v1/services' };
    case 'Ingress':
      return {
        kind,
        group: 'networking.k8s.io',
        version: 'v1',
        plural: 'ingresses',
        path: '/apis/networking.k8s.io/v1/ingresses',
      };
    case 'EndpointSlice':
      return {
        kind,
        group: 'discovery.k8s.io',
        version: 'v1',
        plural: 'endpointslices',
        path: '/apis/discovery.k8s.io/v1/endpointslices',
      };
    case 'DNSEndpoint':
      return {
        kind,
        group: 'externaldns.k8s.io',
        version: 'v1alpha1',
        plural: 'dnsendpoints',
        path: '/apis/externaldns.k8s.io/v1alpha1/dnsendpoints',
      };
    default: {
      const pinned = versions[kind];
      const candidates = pinned === null ? GATEWAY_API_VERSIONS : [pinned];
      const plural = `${kind.toLowerCase()}s`;
      return {
        ...atVersion(
          { kind, group: 'gateway.networking.k8s.io', version: '', plural, path: '' },
          candidates[0],
        ),
        candidates,
      };
    }
  }
}

/** HTTP status of a client-node error (generated APIs use `code`, Watch uses `statusCode`). */
export function httpStatus(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown } | null;
  if (typeof e?.statusCode === 'number') return e.statusCode;
  if (typeof e?.code === 'number') return e.code;
  return undefined;
}

/** Objects per list request: bounds the memory a list needs, whatever the cluster size. */
export const LIST_PAGE_SIZE = 500;

interface ApiResourceList {
  resources?: { name?: unknown }[];
}

interface ListPage {
  items?: unknown[];
  metadata?: { resourceVersion?: string; continue?: string };
}

/**
 * Discovery and paginated lists over plain HTTP GETs (see `getJson`). Each page is trimmed
 * as it arrives (`trimListed`, `trimEndpointSlice`); the list's resourceVersion is the first
 * page's, as for client-go's pager (a continued list is a consistent snapshot at that
 * version).
 *
 * A page body over `maxPageBytes` is cut, never parsed, and asked again with half as many
 * objects; a page of ONE object still over the cap skips that object (its name and the
 * continue token are read from the page's start, which the server writes before the
 * items) and the list goes on. A page that does not show them fails the list, which the
 * reflector retries. So one huge object costs its own name, not the kind nor the process.
 */
export function resourceApi(
  kc: KubeConfig,
  timeoutMs = 60_000,
  maxPageBytes = Number.POSITIVE_INFINITY,
): ResourceApi {
  return {
    async served(r) {
      const path = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const list = (await getJson(kc, path, {}, timeoutMs)) as ApiResourceList;
      return (list.resources ?? []).some((res) => res.name === r.plural);
    },
    async list(r, labelSelector) {
      const items: unknown[] = [];
      const skipped: ListResult['skipped'] = [];
      let resourceVersion = '';
      let token: string | undefined;
      let limit = LIST_PAGE_SIZE;
      let first = true;
      // EndpointSlices only feed health: cut to what it reads. Other kinds keep their raw
      // shape (the claims read it), less the bulk no claim reads.
      const trim = r.kind === 'EndpointSlice' ? trimEndpointSlice : trimListed;
      // Bounded: a server that keeps handing out continue tokens cannot loop us forever.
      for (let request = 0; request < 100_000; request++) {
        let out: ListPage;
        try {
          out = (await getJson(
            kc,
            r.path,
            { labelSelector, limit: String(limit), continue: token },
            timeoutMs,
            maxPageBytes,
          )) as ListPage;
        } catch (err) {
          if (!(err instanceof BodyTooLarge)) throw err;
          if (limit > 1) {
            limit = Math.max(1, Math.floor(limit / 2));
            continue;
          }
          const head = listHead(err.head);
          if (head === null || head.first === null) {
            throw new Error(
              `list of ${r.kind}: a page of one object is over ${maxPageBytes} bytes (sources.kubernetes.maxPageBytes) and its start does not show which object or how to continue`,
            );
          }
          skipped.push({ object: head.first, bytes: maxPageBytes });
          if (first) resourceVersion = head.resourceVersion;
          first = false;
          token = head.continue;
          if (!token) break;
          continue;
        }
        for (const item of out.items ?? []) items.push(trim(item));
        if (first) resourceVersion = out.metadata?.resourceVersion ?? '';
        first = false;
        token = out.metadata?.continue || undefined;
        if (!token) break;
        // Back towards full pages once past the large objects.
        limit = Math.min(LIST_PAGE_SIZE, limit * 2);
      }
      return { items, resourceVersion, skipped };
    },
  };
}
