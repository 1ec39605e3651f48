import {
  checkTransfer,
  ipAddress,
  notifyTargetSchema,
  opsPortsSchema,
  port,
  serverKeys,
  transferFields,
  tsigKeyName,
  zoneSchema,
  zonesSchema,
} from '@mdns/ops';
import { z } from 'zod';
import { cacheConfigSchema } from '../cache/index.js';

/**
 * The authority's YAML. Common keys (zone apex, listen, ops, log) are the shared fragments
 * from @mdns/ops so they read the same as the gateway's. Every object is strict: a typo is
 * an error naming the key.
 */
/** RFC 1035 SOA timers are 32-bit seconds; a week is far more than any sane refresh. */
const timerSeconds = z.number().int().min(1).max(2_147_483_647);

/**
 * This authority as a secondary of one upstream (src/replica/README.md): the upstream's zone
 * is pulled by AXFR/IXFR and that upstream is answered from memory. Off by default: the
 * upstream is then asked per query, as without this key.
 */
export const upstreamTransferSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Name of a `transfer.keys` entry: requests are signed with it, NOTIFY must be too. */
    key: z.string().min(1).optional(),
    /** Overrides of the primary's SOA timers (RFC 1035 3.3.13); default: the SOA's own. */
    refreshSeconds: timerSeconds.optional(),
    retrySeconds: timerSeconds.optional(),
    expireSeconds: timerSeconds.optional(),
    /**
     * Bounds of one copy: a transfer over them is rejected and the last good copy kept.
     * ~200 bytes of memory a record: 200 000 records ≈ 40 MB per upstream.
     */
    maxRecords: z.number().int().min(1).max(10_000_000).default(200_000),
    /** Bytes received in one transfer (every message). */
    maxBytes: z
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
  })
  .refine(
    (t) =>
      t.refreshSeconds === undefined ||
      t.expireSeconds === undefined ||
      t.expireSeconds >= t.refreshSeconds,
    { message: 'expireSeconds must not be below refreshSeconds', path: ['expireSeconds'] },
  );

export type UpstreamTransferConfig = z.infer<typeof upstreamTransferSchema>;

export const upstreamServerSchema = z.strictObject({
  /** Cluster name: used in logs, metrics, explain, and for NOTIFY cache invalidation. */
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, {
    message: 'expected a short name of letters, digits, ".", "_" or "-"',
  }),
  address: ipAddress,
  port: port.min(1).default(53),
  /** `priority` policy only: lower number = preferred. */
  priority: z.number().int().min(0).max(1000).default(0),
  notify: z
    .strictObject({
      /**
       * Sources besides `address` whose NOTIFY for this zone is accepted: CIDRs or single
       * addresses. A gateway's NOTIFY leaves from its node's address (SNAT), not from the
       * LoadBalancer IP in `address`: list the downstream cluster's node subnet here.
       */
      allowFrom: z
        .array(
          z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
            error: 'expected an IPv4/IPv6 CIDR such as 10.0.0.0/16, or an address',
          }),
        )
        .default([]),
    })
    .prefault({}),
  transfer: upstreamTransferSchema.prefault({}),
});

/** How a zone's upstream answers are merged (fanout/merge.ts `decide`). */
export const policySchema = z.enum(['first', 'all', 'priority']);
export type Policy = z.infer<typeof policySchema>;

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
 * cluster that dies costs the queries in flight about the floor each (the back-off doubles
 * a base far below it), and the circuit opens on the 3rd failure, after which it is
 * skipped; opening it releases every query still waiting on that cluster at once. An NXDOMAIN that has to wait for the
 * dead cluster therefore waits <= ~100 ms (p99 well under 250 ms), and only while the
 * circuit is not yet open. Before any RTT is known and once the start-up probe gave up
 * (`/ready` waits for it), the wait is `initialTimeoutMs`: 200 ms, so a cluster
 * that is dead from the start costs the first queries ~200 ms plus the few ms until the
 * 3rd timeout, still under 250 ms. A far cluster (another site) keeps headroom of its whole
 * RTT (upstream/rtt.ts), bounded by the 1000 ms ceiling, and before its first RTT sample a
 * query waits as long as the start-up probe still does, so its first answers are right.
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
    // 64: four times the ports a blind spoofer must cover than 16, at no measured CPU cost
    // (BENCHMARKS.md); a socket per query costs about half as much CPU again per miss.
    sockets: z.number().int().min(0).max(1024).default(64),
    // Which UDP sockets the upstream queries use: `node` (node:dgram, on both runtimes) or
    // `auto` (on Bun, Bun.udpSocket with sendMany batches of at most 4: -25-27 % CPU per miss;
    // node:dgram on Node). Not `auto` by default: at full speed one run in nine still
    // overflowed an upstream's receive buffer (transport README, "Runtimes").
    udpBackend: z.enum(['node', 'auto']).default('node'),
    // 0x20 on upstream queries: random letter case, exact echo required. Our gateways and
    // Knot echo the question; turn off only for an upstream that lowercases it.
    randomCase: z.boolean().default(true),
  })
  .refine((u) => u.timeoutFloorMs <= u.timeoutCeilingMs, {
    message: 'timeoutFloorMs must not be greater than timeoutCeilingMs',
    path: ['timeoutFloorMs'],
  });

/** True for an address only this host can reach: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

export const explainSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    // Loopback by default: an explain request makes us query every upstream, which must not
    // be open to the network.
    host: z.string().default('127.0.0.1'),
    port: port.default(8053),
    // Required (as `Authorization: Bearer TOKEN`) when set; must be set for a host other
    // than loopback, where anyone who can reach the port could make us query every upstream.
    token: z.string().min(16, { message: 'expected at least 16 characters' }).optional(),
  })
  .refine((e) => !e.enabled || e.token !== undefined || isLoopbackHost(e.host), {
    message: 'a non-loopback explain.host needs explain.token (or enabled: false)',
    path: ['token'],
  });

/**
 * The shared ops ports plus what `/ready` may tell: by default only ready or not; with
 * `readyDetail: true` also each upstream's name and health (anyone who can reach the port
 * sees them, so it is off unless the port is private).
 */
export const authorityOpsSchema = opsPortsSchema.extend({
  readyDetail: z.boolean().default(false),
  /**
   * At start `/ready` also waits for every replicated upstream's first pull to finish (a copy
   * loaded or a failure on record), at most this long; 0: not at all. Later pulls and
   * reloads never make the process unready.
   */
  readyReplicaWaitSeconds: z.number().int().min(0).max(3600).default(30),
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

/**
 * `transfer.keys`: the keys of every upstream's `transfer` (the replicas) and of this
 * authority's own transfers. The rest: this authority as the primary of its merged zones
 * (README, "Primary for the merged zone"), the gateway's options, off by default.
 */
export const authorityTransferSchema = z
  .strictObject({
    ...transferFields,
    notify: z
      .strictObject({
        /** Secondaries told of each new serial of a merged zone (RFC 1996). */
        targets: z.array(notifyTargetSchema).default([]),
        /** A copy swapped in is committed (new serial, NOTIFY) this long after the first. */
        debounceMs: z.number().int().min(0).max(600_000).default(250),
        /** Wait for each acknowledgement, then retry. */
        timeoutMs: z.number().int().min(50).max(60_000).default(2000),
        retries: z.number().int().min(0).max(10).default(3),
      })
      .prefault({}),
  })
  .superRefine(checkTransfer);

export const authorityConfigSchema = z
  .strictObject({
    zones: zonesSchema(authorityZoneSchema),
    upstream: upstreamLimitsSchema.prefault({}),
    cache: cacheConfigSchema.prefault({}),
    ...serverKeys,
    ops: authorityOpsSchema.prefault({}),
    explain: explainSchema.prefault({}),
    rateLimit: rateLimitSchema.prefault({}),
    transfer: authorityTransferSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    // An upstream's key must be one of the listed keys: caught here, naming the upstream.
    const known = new Set(config.transfer.keys.map((k) => tsigKeyName(k.name)));
    config.zones.forEach((zone, z) => {
      zone.upstreams.forEach((u, i) => {
        const key = u.transfer.key;
        if (key === undefined || known.has(tsigKeyName(key))) return;
        ctx.addIssue({
          code: 'custom',
          path: ['zones', z, 'upstreams', i, 'transfer', 'key'],
          message: `no key "${key}" in transfer.keys`,
        });
      });
    });
    config.transfer.notify.targets.forEach((t, i) => {
      if (t.key === undefined || known.has(tsigKeyName(t.key))) return;
      ctx.addIssue({
        code: 'custom',
        path: ['transfer', 'notify', 'targets', i, 'key'],
        message: `no key "${t.key}" in transfer.keys`,
      });
    });
    if (config.transfer.enabled) {
      config.zones.forEach((zone, z) => {
        zone.upstreams.forEach((u, i) => {
          if (u.transfer.enabled) return;
          // Without a copy the zone cannot be listed: every transfer of it would be SERVFAIL.
          ctx.addIssue({
            code: 'custom',
            path: ['zones', z, 'upstreams', i, 'transfer', 'enabled'],
            message: `transfer.enabled (a primary of the merged zone) needs every upstream replicated; ${zone.name}/${u.name} is not`,
          });
        });
      });
    }
  });

export type AuthorityConfig = z.infer<typeof authorityConfigSchema>;
export type AuthorityZoneConfig = z.infer<typeof authorityZoneSchema>;
export type RateLimitConfig = z.infer<typeof rateLimitSchema>;
export type UpstreamLimitsConfig = z.infer<typeof upstreamLimitsSchema>;
