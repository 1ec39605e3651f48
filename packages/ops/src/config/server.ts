import { DEFAULT_UDP_SIZE, normalizeName, type ZoneApex } from '@mdns/protocol';
import { z } from 'zod';
import { ipAddress, logLevel, port } from './schemas.js';

// Config fragments both apps share, so a zone, a listener or the ops ports are
// spelled the same way in the gateway's and the authority's YAML. Every object is
// strict: an operator's typo is an error naming the key, never silently ignored.

// A DNS name as written in config: case and a trailing dot are tolerated and
// normalized away by the apps.
export const dnsName = z
  .string()
  .min(1)
  .max(254)
  .regex(
    /^(\*\.)?([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.?$/,
    {
      message: 'expected a DNS name such as prod.example.tld',
    },
  );

export const soaSchema = z.strictObject({
  // Defaults follow what operators expect from a small dynamic zone.
  mname: dnsName.optional(), // default: the first nameserver, else ns1.<zone>
  rname: dnsName.optional(), // default: hostmaster.<zone>
  serial: z.number().int().min(0).max(0xffffffff).optional(), // default: start time (unix seconds)
  refresh: z.number().int().min(1).default(3600),
  retry: z.number().int().min(1).default(600),
  expire: z.number().int().min(1).default(86400),
  minimum: z.number().int().min(0).max(86400).default(30),
  ttl: z.number().int().min(0).max(86400).default(60),
});

export const nameserverSchema = z.strictObject({
  name: dnsName,
  // Glue: answered as additional A/AAAA when the name is inside the zone.
  addresses: z.array(ipAddress).default([]),
});

export const zoneSchema = z.strictObject({
  name: dnsName,
  soa: soaSchema.default(soaSchema.parse({})),
  nameservers: z.array(nameserverSchema).default([]),
  nsTtl: z.number().int().min(0).max(86400).default(3600),
});

/**
 * The `zones:` list of either app, `zone` being that app's zone schema: at least one, and
 * each zone once, compared as DNS names (`A.tld.` is `a.tld`): two entries for one zone
 * would leave which settings answer to chance.
 */
export function zonesSchema<Zone extends z.ZodType<{ name: string }>>(zone: Zone) {
  return z
    .array(zone)
    .min(1, { message: 'at least one zone is required' })
    .superRefine((zones, ctx) => {
      const seen = new Set<string>();
      zones.forEach((z, i) => {
        const name = normalizeName(z.name);
        if (seen.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [i, 'name'],
            message: `zone ${name} is listed twice`,
          });
        }
        seen.add(name);
      });
    });
}

export const listenSchema = z.strictObject({
  host: z.string().default('0.0.0.0'),
  port: port.default(53),
  udpSize: z.number().int().min(512).max(4096).default(DEFAULT_UDP_SIZE),
  // SO_RCVBUF / SO_SNDBUF of the UDP socket, bytes; 0 = the OS default (often 208 KiB,
  // ~200 queued queries). The kernel caps it at net.core.rmem_max / wmem_max. 1 MiB holds
  // ~1 300 queries: a burst waits (~15 ms at 80k qps) instead of being dropped.
  udpBufferBytes: z
    .number()
    .int()
    .min(0)
    .max(64 * 1024 * 1024)
    .default(1024 * 1024),
  // Also the write-stall limit: queued replies that make no progress for this long close
  // the connection (a client that sends queries and never reads).
  tcpIdleTimeoutMs: z.number().int().min(100).default(10_000),
  maxTcpConnections: z.number().int().min(1).default(1000),
  // One IPv4 address (or IPv6 /64) cannot hold more than this many of maxTcpConnections.
  // 100, not less: behind a LoadBalancer with externalTrafficPolicy Cluster every client
  // arrives from a node address, and an enterprise resolver is one source for many users.
  maxTcpConnectionsPerSource: z.number().int().min(1).default(100),
  // Reply bytes queued for a client that has not read them: reading stops at half, a reply
  // past the limit closes the connection. 512 KiB = eight 64 KiB answers.
  maxTcpQueuedBytes: z
    .number()
    .int()
    .min(16 * 1024)
    .max(64 * 1024 * 1024)
    .default(512 * 1024),
  // Worker processes answering on this address (node:cluster). 1 = this process alone.
  workers: z.number().int().min(1).max(64).default(1),
  // How several workers share the port; see workerSocketMode (workers/sockets.ts).
  workerSockets: z.enum(['auto', 'shared', 'reuseport']).default('auto'),
});

// Response rate limiting of UDP replies (BIND's RRL; @mdns/transport RateLimitOptions).
// Off unless responsesPerSecond > 0: a server behind an enterprise resolver sees that
// resolver as one client, and the right rate depends on the deployment.
export const rrlSchema = z.strictObject({
  responsesPerSecond: z.number().min(0).max(1_000_000).default(0),
  // NXDOMAIN and errors, one account per client network; absent = responsesPerSecond.
  errorsPerSecond: z.number().min(0.001).max(1_000_000).optional(),
  window: z.number().int().min(1).max(3600).default(15),
  slip: z.number().int().min(0).max(10).default(2),
  ipv4PrefixLength: z.number().int().min(0).max(32).default(24),
  ipv6PrefixLength: z.number().int().min(0).max(128).default(56),
  tableSize: z.number().int().min(1).max(10_000_000).default(20_000),
});

export const opsPortsSchema = z.strictObject({
  host: z.string().default('0.0.0.0'),
  metricsPort: port.default(9153),
  healthPort: port.default(8080),
  readyPort: port.default(8181),
});

export const metricsSchema = z.strictObject({
  // Also export coredns_dns_requests_total, coredns_dns_responses_total and
  // coredns_dns_request_duration_seconds with CoreDNS's label names, so dashboards and
  // alerts written for CoreDNS keep working after a migration. Off by default: it costs
  // a little per query (docs/operations.md, BENCHMARKS.md).
  corednsCompatible: z.boolean().default(false),
});

// SIGTERM (a rollout, a drain): first `/ready` turns 503 while DNS keeps answering for
// `lameDuckSeconds`, so the Service endpoints, kube-proxy rules and load balancers stop
// sending queries here before the sockets close (CoreDNS `health { lameduck 5s }`); then
// the drain. 0 = drain at once. Kubernetes' terminationGracePeriodSeconds must cover it
// plus the drain (~10 s).
export const shutdownSchema = z.strictObject({
  lameDuckSeconds: z.number().min(0).max(300).default(5),
});

export const logSchema = z.strictObject({
  level: logLevel.default('info'),
});

/**
 * The keys every server config has besides `zones` and `ops` (which each app extends), with
 * their defaults: spread into an app's `z.strictObject({ zones, ops, ...serverKeys, ... })`.
 */
export const serverKeys = {
  listen: listenSchema.prefault({}),
  rrl: rrlSchema.prefault({}),
  log: logSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  shutdown: shutdownSchema.prefault({}),
};

export type ZoneConfig = z.infer<typeof zoneSchema>;
export type ListenConfig = z.infer<typeof listenSchema>;
export type RrlConfig = z.infer<typeof rrlSchema>;
export type OpsPortsConfig = z.infer<typeof opsPortsSchema>;
export type LogConfig = z.infer<typeof logSchema>;
export type MetricsConfig = z.infer<typeof metricsSchema>;
export type ShutdownConfig = z.infer<typeof shutdownSchema>;

/**
 * Turns a validated zone config into the protocol's `ZoneApex`. `serialDefault` lets a process pick one serial at start so every
 * answer agrees until the config changes.
 */
export function zoneApexFromConfig(zone: ZoneConfig, serialDefault: number): ZoneApex {
  const name = normalizeName(zone.name);
  const ns = zone.nameservers.map((n) => normalizeName(n.name));
  const glue = new Map<string, { a: string[]; aaaa: string[] }>();
  for (const n of zone.nameservers) {
    if (n.addresses.length === 0) continue;
    glue.set(normalizeName(n.name), {
      a: n.addresses.filter((a) => !a.includes(':')),
      aaaa: n.addresses.filter((a) => a.includes(':')),
    });
  }
  return {
    zone: name,
    soa: {
      mname: zone.soa.mname ? normalizeName(zone.soa.mname) : (ns[0] ?? `ns1.${name}`),
      rname: zone.soa.rname ? normalizeName(zone.soa.rname) : `hostmaster.${name}`,
      serial: zone.soa.serial ?? serialDefault,
      refresh: zone.soa.refresh,
      retry: zone.soa.retry,
      expire: zone.soa.expire,
      minimum: zone.soa.minimum,
    },
    soaTtl: zone.soa.ttl,
    ns: ns.length > 0 ? ns : [`ns1.${name}`],
    nsTtl: zone.nsTtl,
    glue,
  };
}
