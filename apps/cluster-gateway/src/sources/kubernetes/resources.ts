import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  NetworkingV1Api,
} from '@kubernetes/client-node';
import type { SourcesConfig } from '../config.js';
import type { WatchedKind } from '../ledger.js';

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

export function resourceApi(kc: KubeConfig): ResourceApi {
  const core = kc.makeApiClient(CoreV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  return {
    async served(r) {
      const list =
        r.group === ''
          ? await core.getAPIResources()
          : await custom.getAPIResources({ group: r.group, version: r.version });
      return (list.resources ?? []).some((res) => res.name === r.plural);
    },
    async list(r, labelSelector) {
      let out: { items?: unknown[]; metadata?: { resourceVersion?: string } };
      if (r.kind === 'Service') out = await core.listServiceForAllNamespaces({ labelSelector });
      else if (r.kind === 'Ingress')
        out = await networking.listIngressForAllNamespaces({ labelSelector });
      else {
        out = (await custom.listClusterCustomObject({
          group: r.group,
          version: r.version,
          plural: r.plural,
          labelSelector,
        })) as typeof out;
      }
      return { items: out.items ?? [], resourceVersion: out.metadata?.resourceVersion ?? '' };
    },
  };
}
