import { readFileSync } from 'node:fs';
import { dnsName } from '@mdns/ops';
import { TSIG_ALGORITHMS, type TsigKey } from '@mdns/protocol';
import { z } from 'zod';

const base64 = z
  .string()
  .regex(/^[A-Za-z0-9+/]+={0,2}$/, { message: 'expected base64 (as `tsig-keygen` prints it)' });

/**
 * A TSIG key (RFC 8945). The secret comes from exactly one place: inline (`secret`), an
 * environment variable (`secretEnv`) or a file (`secretFile`, e.g. a mounted Kubernetes
 * Secret); all base64. It is never logged.
 */
export const tsigKeySchema = z
  .strictObject({
    name: dnsName,
    algorithm: z.enum(TSIG_ALGORITHMS as [string, ...string[]]).default('hmac-sha256'),
    secret: base64.optional(),
    secretEnv: z.string().min(1).optional(),
    secretFile: z.string().min(1).optional(),
  })
  .refine(
    (k) => [k.secret, k.secretEnv, k.secretFile].filter((s) => s !== undefined).length === 1,
    { message: 'give exactly one of secret, secretEnv or secretFile' },
  );

/** Zone transfers (AXFR/IXFR) to secondaries. Off by default. */
export const transferSchema = z
  .strictObject({
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
    keys: z.array(tsigKeySchema).default([]),
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
  })
  .superRefine((t, ctx) => {
    const names = new Set<string>();
    t.keys.forEach((k, i) => {
      const name = k.name.toLowerCase().replace(/\.$/, '');
      if (names.has(name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['keys', i, 'name'],
          message: `key ${name} is listed twice`,
        });
      }
      names.add(name);
    });
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
  });

export type TransferConfig = z.output<typeof transferSchema>;
type KeyConfig = z.output<typeof tsigKeySchema>;

/** Where secrets come from; the process environment and file system outside tests. */
export interface SecretSources {
  env: Readonly<Record<string, string | undefined>>;
  readFile: (path: string) => string;
}

const PROCESS_SECRETS: SecretSources = {
  env: process.env,
  readFile: (path) => readFileSync(path, 'utf8'),
};

/**
 * Reads every key's secret. A missing variable, an unreadable file or a value that is not
 * base64 is an error naming the key and the source (never the secret).
 */
export function resolveTsigKeys(
  keys: readonly KeyConfig[],
  sources: SecretSources = PROCESS_SECRETS,
): { ok: true; keys: TsigKey[] } | { ok: false; error: string } {
  const out: TsigKey[] = [];
  for (const [i, k] of keys.entries()) {
    const where = `transfer.keys[${i}] (${k.name})`;
    let text: string | undefined;
    if (k.secret !== undefined) text = k.secret;
    else if (k.secretEnv !== undefined) {
      text = sources.env[k.secretEnv];
      if (text === undefined || text.trim() === '') {
        return { ok: false, error: `${where}: environment variable ${k.secretEnv} is not set` };
      }
    } else {
      try {
        text = sources.readFile(k.secretFile!);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'unreadable';
        return { ok: false, error: `${where}: secretFile ${k.secretFile}: ${code}` };
      }
    }
    const trimmed = text.trim();
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
      return { ok: false, error: `${where}: the secret is not base64` };
    }
    out.push({
      name: k.name.toLowerCase().replace(/\.$/, ''),
      algorithm: k.algorithm as TsigKey['algorithm'],
      secret: Buffer.from(trimmed, 'base64'),
    });
  }
  return { ok: true, keys: out };
}
