import type { KubeConfig } from '@kubernetes/client-node';
import type { SourcesConfig } from '../config.js';
import type { WatchedKind } from '../ledger.js';
import { trimListed } from '../slim.js';
import { getJson } from './api-request.js';

/** Where one kind is served, and how to list it. */
export interface Resource {
  kind: WatchedKind;
  /** `''` for the core group. */
  group: string;
  version: string;
  plural: string;
  /** Collection path across all namespaces, for the watch. */
  path: string;
}

export interface ListResult {
  items: unknown[];
  resourceVersion: string;
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
    case 'DNSEndpoint':
      return {
        kind,
        group: 'externaldns.k8s.io',
        version: 'v1alpha1',
        plural: 'dnsendpoints',
        path: '/apis/externaldns.k8s.io/v1alpha1/dnsendpoints',
      };
    default: {
      const version = versions[kind];
      const plural = `${kind.toLowerCase()}s`;
      return {
        kind,
        group: 'gateway.networking.k8s.io',
        version,
        plural,
        path: `/apis/gateway.networking.k8s.io/${version}/${plural}`,
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
 * as it arrives (`trimListed`); the list's resourceVersion is the first page's, as for
 * client-go's pager (a continued list is a consistent snapshot at that version).
 */
export function resourceApi(kc: KubeConfig, timeoutMs = 60_000): ResourceApi {
  return {
    async served(r) {
      const path = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
      const list = (await getJson(kc, path, {}, timeoutMs)) as ApiResourceList;
      return (list.resources ?? []).some((res) => res.name === r.plural);
    },
    async list(r, labelSelector) {
      const items: unknown[] = [];
      let resourceVersion = '';
      let token: string | undefined;
      // Bounded: a server that keeps handing out continue tokens cannot loop us forever.
      for (let page = 0; page < 100_000; page++) {
        const out = (await getJson(
          kc,
          r.path,
          { labelSelector, limit: String(LIST_PAGE_SIZE), continue: token },
          timeoutMs,
        )) as ListPage;
        for (const item of out.items ?? []) items.push(trimListed(item));
        if (page === 0) resourceVersion = out.metadata?.resourceVersion ?? '';
        token = out.metadata?.continue || undefined;
        if (!token) break;
      }
      return { items, resourceVersion };
    },
  };
}
