import {
  dnsName,
  ipAddress,
  notifyTargetSchema,
  opsPortsSchema,
  port,
  serverKeys,
  transferSchema,
  zoneSchema,
  zonesSchema,
} from '@mdns/ops';
import { normalizeName } from '@mdns/protocol';
import { z } from 'zod';
import { sourcesConfigSchema } from '../sources/config.js';

/** DNS NOTIFY (RFC 1996) to the authorities after index changes. No targets: off. */
export const notifySchema = z.strictObject({
  targets: z.array(notifyTargetSchema).default([]),
  /** The DNS server that resolves `host` targets; default the system resolver (resolv.conf). */
  resolver: z
    .strictObject({
      address: ipAddress,
      port: port.min(1).default(53),
    })
    .optional(),
  /**
   * NOTIFY goes out this long after the first change not yet notified (changes meanwhile ride
   * along). 250 ms: the bench's write -> answer-at-the-authority p99 was 1.07 s at 1000 ms
   * (target 1 s); 250 ms still folds a burst of events into one NOTIFY.
   */
  debounceMs: z.number().int().min(0).max(600_000).default(250),
  /** Zones to notify for; default every configured zone. */
  zones: z.array(z.string().min(1)).optional(),
  /** Wait for each acknowledgement, then retry. */
  timeoutMs: z.number().int().min(50).max(60_000).default(2000),
  retries: z.number().int().min(0).max(10).default(3),
});

/**
 * `GET /explain?name=...`: which objects claim a name, their backends' ready endpoints and the
 * verdict. Loopback only: it names namespaces, objects and Services. Off by default: every
 * gateway process would otherwise bind one more fixed port; turn it on where you debug.
 */
export const explainSchema = z.strictObject({
  enabled: z.boolean().default(false),
  host: z
    .enum(['127.0.0.1', '::1', 'localhost'], {
      error: 'explain.host must be a loopback address (127.0.0.1, ::1 or localhost)',
    })
    .default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8054),
});

/** The whole gateway YAML: shared fragments (@mdns/ops) + sources + gateway keys. */
export const gatewayConfigSchema = z
  .strictObject({
    zones: zonesSchema(zoneSchema),
    /**
     * Reverse zones answered with PTR for the A/AAAA the gateway serves (several names for
     * one address: several PTR, sorted). Each gets the default SOA; NS from `zones[0]`.
     */
    reverseZones: z
      .array(
        dnsName.refine((n) => /(^|\.)(in-addr|ip6)\.arpa\.?$/i.test(n), {
          message: 'expected a zone under in-addr.arpa or ip6.arpa, e.g. 10.in-addr.arpa',
        }),
      )
      .default([]),
    /** Record TTL in seconds when an object has no `external-dns.alpha.kubernetes.io/ttl`. */
    ttl: z.number().int().min(0).max(86400).default(60),
    ...serverKeys,
    ops: opsPortsSchema.prefault({}),
    sources: sourcesConfigSchema.prefault({}),
    notify: notifySchema.prefault({}),
    explain: explainSchema.prefault({}),
    transfer: transferSchema.prefault({}),
  })
  .superRefine((config, ctx) => {
    // Each zone once is zonesSchema's check; here, the keys that must name one of them.
    const seen = new Set(config.zones.map((zone) => normalizeName(zone.name)));
    const reverse = new Set<string>();
    config.reverseZones.forEach((zone, i) => {
      const name = normalizeName(zone);
      if (seen.has(name) || reverse.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['reverseZones', i],
          message: `zone ${name} is listed twice`,
        });
      }
      reverse.add(name);
    });
    // A suffix under no zone would let its namespace claim nothing: a typo, said at start.
    for (const [ns, suffixes] of Object.entries(config.sources.ownership.namespaces)) {
      suffixes.forEach((suffix, i) => {
        if (![...seen].some((zone) => suffix === zone || suffix.endsWith(`.${zone}`))) {
          ctx.addIssue({
            code: 'custom',
            path: ['sources', 'ownership', 'namespaces', ns, i],
            message: `${suffix} is not at or under a configured zone`,
          });
        }
      });
    }
    const keys = new Set(config.transfer.keys.map((k) => normalizeName(k.name)));
    config.notify.targets.forEach((t, i) => {
      if (t.key !== undefined && !keys.has(normalizeName(t.key))) {
        ctx.addIssue({
          code: 'custom',
          path: ['notify', 'targets', i, 'key'],
          message: `${t.key} is not one of transfer.keys`,
        });
      }
    });
    config.notify.zones?.forEach((zone, i) => {
      if (!seen.has(normalizeName(zone))) {
        ctx.addIssue({
          code: 'custom',
          path: ['notify', 'zones', i],
          message: `${zone} is not one of the configured zones`,
        });
      }
    });
  });

export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;
export type NotifyConfig = GatewayConfig['notify'];
