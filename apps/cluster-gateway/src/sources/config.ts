import { z } from 'zod';
import { SOURCE_KINDS } from './kinds.js';
import { parseLabelSelector } from './label-selector.js';
import type { SourceKind } from './types.js';

const kindSchema = z.enum(SOURCE_KINDS as unknown as [SourceKind, ...SourceKind[]]);

const backoffSchema = z
  .strictObject({
    initialMs: z.number().int().positive().default(500),
    // The longest wait between retries is also the longest an API outage outlives the API:
    // 4 s (2-4 s with the jitter) keeps recovery within 5 s of the API returning (the
    // reliability target; 30 s gave up to 30 s of stale answers after the API was back).
    maxMs: z.number().int().positive().default(4000),
  })
  .refine((b) => b.maxMs >= b.initialMs, { message: 'maxMs must be >= initialMs' });

// null: the served version is discovered (see GATEWAY_API_VERSIONS in kubernetes/resources.ts);
// a string pins it, for an API server whose discovery is wrong or filtered.
const pinnedVersion = z.string().regex(/^v[0-9]+((alpha|beta)[0-9]+)?$/, {
  message: 'expected a Kubernetes API version such as v1 or v1alpha2',
});

const gatewayApiVersionsSchema = z.strictObject({
  HTTPRoute: pinnedVersion.nullable().default(null),
  GRPCRoute: pinnedVersion.nullable().default(null),
  TLSRoute: pinnedVersion.nullable().default(null),
  Gateway: pinnedVersion.nullable().default(null),
});

const kubernetesSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Path to a kubeconfig; null -> KUBECONFIG env, else in-cluster config. */
  kubeconfig: z.string().min(1).nullable().default(null),
  context: z.string().min(1).nullable().default(null),
  crdRecheckSeconds: z.number().positive().default(60),
  watchSilenceSeconds: z.number().positive().default(120),
  backoff: backoffSchema.prefault({}),
  /**
   * A list page body larger than this is cut and asked again with half the objects; a
   * page of one object over it skips that object. Bounds the memory a list can take.
   */
  maxPageBytes: z
    .number()
    .int()
    .min(65_536)
    .default(16 * 1024 * 1024),
  /**
   * A watch event (one object) larger than this is dropped unread and its object's claims
   * removed. etcd refuses objects over 1.5 MiB by default, so 4 MiB only stops abuse.
   */
  maxEventBytes: z
    .number()
    .int()
    .min(65_536)
    .default(4 * 1024 * 1024),
  gatewayApiVersions: gatewayApiVersionsSchema.prefault({}),
});

const manifestsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    directory: z.string().min(1).nullable().default(null),
  })
  .refine((m) => !m.enabled || m.directory !== null, {
    message: 'directory is required when manifests are enabled',
    path: ['directory'],
  });

const filtersSchema = z.strictObject({
  ingressClasses: z.array(z.string().min(1)).default([]),
  gatewayClasses: z.array(z.string().min(1)).default([]),
  labelSelector: z
    .string()
    .default('')
    .superRefine((sel, ctx) => {
      const parsed = parseLabelSelector(sel);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.error });
    }),
  namespaces: z.array(z.string().min(1)).default([]),
});

const servicesSchema = z.strictObject({
  /**
   * Publish `spec.externalIPs` of LoadBalancer Services. Off: anyone who may create a
   * Service may write any address there (CVE-2020-8554), k8s_gateway publishes them.
   */
  externalIPs: z.boolean().default(false),
  /**
   * Publish the cluster IPs of a Service under its external-dns `internal-hostname`
   * annotation. Off: cluster IPs answer only inside routed pod/service networks, and a
   * zone served outside the cluster would hand out unreachable addresses.
   */
  internalHostnames: z.boolean().default(false),
});

const annotationsSchema = z.strictObject({
  /**
   * Read the external-dns `target` annotation (Ingress, Service, Gateway): its IPs or host
   * name replace the addresses the object publishes. Off: anyone who may create an Ingress
   * or Service could publish any address under the names they own (the CVE-2020-8554 class,
   * as `services.externalIPs`), while load balancer status is written by the controller.
   * external-dns users who rely on `target` turn it on; `ownership` still bounds the names.
   */
  target: z.boolean().default(false),
});

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;
// RFC 1123 label: what a namespace name is.
const NAMESPACE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

const suffixSchema = z
  .string()
  .transform((s) => s.trim().toLowerCase().replace(/\.$/, ''))
  .refine((s) => DNS_NAME.test(s), {
    message: 'expected a DNS name such as team-a.prod.example.tld',
  });

const namespaceSchema = z
  .string()
  .refine((s) => NAMESPACE.test(s), { message: 'expected a namespace name (RFC 1123 label)' });

const ownershipSchema = z.strictObject({
  /**
   * Namespace -> the name suffixes its objects may claim (a name at or below one of them).
   * Empty: no suffix rule. Not empty: a namespace that is not listed claims nothing.
   */
  namespaces: z.record(namespaceSchema, z.array(suffixSchema)).default({}),
  /**
   * Namespaces whose objects may claim wildcard names (`*.apps.zone`). null: every namespace
   * when `namespaces` is empty (no policy), none when it is set.
   */
  wildcardNamespaces: z.array(namespaceSchema).nullable().default(null),
  /**
   * Objects of different namespaces claiming one name: `first-claimant` gives the name to
   * the namespace of its oldest claimant (creationTimestamp, then namespace/name);
   * `merge` merges them as objects of one namespace (k8s_gateway's behaviour).
   */
  conflicts: z.enum(['first-claimant', 'merge']).default('first-claimant'),
});

const healthSchema = z.strictObject({
  /**
   * Answers follow application health: an object whose backend Services have no ready
   * endpoint (EndpointSlices) is not answered. Needs `list`/`watch` on
   * `endpointslices.discovery.k8s.io`; without it every object counts as healthy.
   */
  enabled: z.boolean().default(true),
  /** `any`: one backend Service with a ready endpoint is enough; `all`: every one must have one. */
  require: z.enum(['any', 'all']).default('any'),
  /**
   * A backend that loses its last ready endpoint stays answered this long (a rolling
   * restart or a probe blip does not flap the name); it is answered again at once when an
   * endpoint is ready. 0: unhealthy at once.
   */
  graceSeconds: z.number().min(0).max(3600).default(5),
});

export const sourcesConfigSchema = z.strictObject({
  /** Enabled kinds, and their precedence order (first wins). */
  resources: z
    .array(kindSchema)
    .refine((r) => new Set(r).size === r.length, { message: 'resources must not repeat a kind' })
    .default([...SOURCE_KINDS]),
  kubernetes: kubernetesSchema.prefault({}),
  manifests: manifestsSchema.prefault({}),
  filters: filtersSchema.prefault({}),
  services: servicesSchema.prefault({}),
  annotations: annotationsSchema.prefault({}),
  ownership: ownershipSchema.prefault({}),
  health: healthSchema.prefault({}),
});

export type SourcesConfig = z.output<typeof sourcesConfigSchema>;
/** What a user may write (every key optional). */
export type SourcesConfigInput = z.input<typeof sourcesConfigSchema>;
