import { z } from 'zod';
import { tsigKeysSchema } from '../config/tsig-keys.js';

/**
 * The options of a primary's zone transfers (AXFR/IXFR) to secondaries, shared by the gateway
 * (`transfer`) and the authority (`transfer`, beside its replicas' keys). Off by default.
 */
export const transferFields = {
  enabled: z.boolean().default(false),
  /** Sources allowed to transfer (CIDRs or addresses); a transfer also needs a key. */
  allow: z
    .array(
      z.union([z.cidrv4(), z.cidrv6(), z.ipv4(), z.ipv6()], {
        error: 'expected an IPv4/IPv6 address or CIDR prefix',
      }),
    )
    .default([]),
  /** Keys a transfer request may be signed with; NOTIFY targets name one of them. */
  keys: tsigKeysSchema.default([]),
  journal: z
    .strictObject({
      /** Changes kept per zone for IXFR (one per NOTIFY debounce); older serials get AXFR. */
      maxEntries: z.number().int().min(0).max(100_000).default(100),
      /** Estimated bytes of those changes per zone. */
      maxBytes: z
        .number()
        .int()
        .min(0)
        .default(16 * 1024 * 1024),
    })
    .prefault({}),
  /** Upper bound of one transfer message (TCP frames up to 65535). */
  maxMessageBytes: z.number().int().min(1024).max(65535).default(16384),
  /** Allowed clock difference of a signed request (RFC 8945 fudge). */
  fudgeSeconds: z.number().int().min(1).max(3600).default(300),
};

/** With transfers on: at least one key and one allowed range (address AND key). */
export function checkTransfer(
  t: { enabled: boolean; keys: readonly unknown[]; allow: readonly string[] },
  ctx: z.RefinementCtx,
): void {
  if (t.enabled && t.keys.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['keys'],
      message: 'transfers need at least one TSIG key (a transfer is allowed by address AND key)',
    });
  }
  if (t.enabled && t.allow.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['allow'],
      message: 'transfers need at least one allowed source range',
    });
  }
}

/** The gateway's `transfer`. */
export const transferSchema = z.strictObject(transferFields).superRefine(checkTransfer);

export type TransferConfig = z.output<typeof transferSchema>;
