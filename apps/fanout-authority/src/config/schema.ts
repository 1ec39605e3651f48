import { listenSchema, logSchema, opsPortsSchema, zoneSchema } from '@mdns/ops';
import { z } from 'zod';
import { cacheConfigSchema } from '../cache/index.js';

/**
 * The authority's YAML. Common keys (zone apex, listen, ops, log) are the shared fragments
 * from @mdns/ops so they read the same as the gateway's. Every object is strict: a typo is
 * an error naming the key.
 */
const ipAddress = z.union([z.ipv4(), z.ipv6()], { error: 'expected an IPv4 or IPv6 address' });
const port = z.number().int().min(0).max(65535);

export const upstreamServerSchema = z.strictObject({
  /** Cluster name: used in logs, metrics, explain, and for NOTIFY cache invalidation. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    message: 'expected a short name of letters, digits, ".", "_" or "-"',
  }),
  address: ipAddress,
  port: port.min(1).default(53),
  /** `priority` policy only: lower number = preferred. */
  priority: z.number().int().min(0).max(1000).default(0),
});

export const policySchema = z.enum(['first', 'all', 'priority']);

export const authorityZoneSchema = zoneSchema
  .extend({
    policy: policySchema.default('first'),
    upstreams: z
      .array(upstreamServerSchema)
      .min(1, { message: 'a zone needs at least one upstream' }),
  })
  .superRefine((zone, ctx) => {
    const seen = new Set<string>();
    zone.upstreams.forEach((u, i) => {
      if (seen.has(u.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['upstreams', i, 'name'],
          message: `duplicate upstream name "${u.name}"`,
        });
      }
      seen.add(u.name);
    });
  });

/**
 * Defaults are chosen for the "one cluster is dead" case: a query to a healthy cluster on
 * the same network answers in a few ms, so its learned timeout sits at the 50 ms floor; a
 * cluster that dies costs the queries in flight at most floor, then 2 x floor (back-off),
 * and the circuit opens on the 3rd failure, after which it is skipped; opening it releases
 * every query still waiting on that cluster at once. An NXDOMAIN that has to wait for the
 * dead cluster therefore waits <= ~100 ms (p99 well under 250 ms), and only while the
 * circuit is not yet open. Before any RTT is known (start-up: every upstream is probed at
 * once and a reply teaches its RTT), the wait is `initialTimeoutMs`: 200 ms, so a cluster
 * that is dead from the start costs the first queries ~200 ms plus the few ms until the
 * 3rd timeout, still under 250 ms, while a slow-but-alive cluster (up to ~200 ms away)
 * is not failed by its very first queries.
 */
export const upstreamLimitsSchema = z
  .strictObject({
    timeoutFloorMs: z.number().int().min(1).default(50),
    timeoutCeilingMs: z.number().int().min(1).default(1000),
    initialTimeoutMs: z.number().int().min(1).default(200),
    failureThreshold: z.number().int().min(1).default(3),
    probeIntervalMs: z.number().int().min(100).default(2000),
    allPolicyWaitMs: z.number().int().min(0).default(300),
    // Long-lived UDP sockets for upstream queries (rotated); 0 = a fresh socket per query.
    sockets: z.number().int().min(0).max(1024).default(16),
  })
  .refine((u) => u.timeoutFloorMs <= u.timeoutCeilingMs, {
    message: 'timeoutFloorMs must not be greater than timeoutCeilingMs',
    path: ['timeoutFloorMs'],
  });

export const explainSchema = z.strictObject({
  enabled: z.boolean().default(true),
  // Loopback by default: an explain request makes us query every upstream, which must not
  // be open to the network.
  host: z.string().default('127.0.0.1'),
  port: port.default(8053),
});

/**
 * Per-source limit on cache misses (fan-outs); see dns/miss-limit.ts. Sized for a resolver
 * that forwards many users' misses: a source over it is answered without a fan-out (UDP: TC=1
 * so a real client retries over TCP, which a spoofer cannot; TCP: REFUSED; stale when held).
 */
export const rateLimitSchema = z.strictObject({
  /** Tokens per second per source; 0 disables the limit. */
  missesPerSecond: z.number().min(0).max(1_000_000).default(500),
  burst: z.number().int().min(1).max(1_000_000).default(1000),
  maxSources: z.number().int().min(1).max(10_000_000).default(100_000),
});

export const authorityConfigSchema = z
  .strictObject({
    zones: z.array(authorityZoneSchema).min(1, { message: 'at least one zone is required' }),
    upstream: upstreamLimitsSchema.prefault({}),
    cache: cacheConfigSchema.prefault({}),
    listen: listenSchema.prefault({}),
    ops: opsPortsSchema.prefault({}),
    log: logSchema.prefault({}),
    explain: explainSchema.prefault({}),
    rateLimit: rateLimitSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.zones.forEach((zone, i) => {
      const name = zone.name.toLowerCase().replace(/\.$/, '');
      if (seen.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['zones', i, 'name'],
          message: `duplicate zone "${name}"`,
        });
      }
      seen.add(name);
    });
  });

export type AuthorityConfig = z.infer<typeof authorityConfigSchema>;
export type AuthorityZoneConfig = z.infer<typeof authorityZoneSchema>;
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;
export type UpstreamLimitsConfig = z.infer<typeof upstreamLimitsSchema>;
