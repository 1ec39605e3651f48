import { readFileSync } from 'node:fs';
import { TSIG_ALGORITHMS, type TsigKey } from '@mdns/protocol';
import { z } from 'zod';
import { dnsName } from './server.js';

/**
 * TSIG keys (RFC 8945) as both apps configure them: the gateway signs transfers and NOTIFY
 * with them, the authority signs its transfer requests and checks NOTIFY. One schema and one
 * secret reader, so a key reads the same in both files and a secret is found the same way.
 */

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const base64 = z
  .string()
  .regex(BASE64, { message: 'expected base64 (as `tsig-keygen` prints it)' });

/**
 * A TSIG key. The secret comes from exactly one place: inline (`secret`), an environment
 * variable (`secretEnv`) or a file (`secretFile`, e.g. a mounted Kubernetes Secret); all
 * base64. It is never logged.
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

export type TsigKeyConfig = z.output<typeof tsigKeySchema>;

/** A key's name as TSIG compares it: lowercase, no trailing dot. */
export function tsigKeyName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** A list of keys; a name listed twice is an error at that entry. */
export const tsigKeysSchema = z.array(tsigKeySchema).superRefine((keys, ctx) => {
  const names = new Set<string>();
  keys.forEach((k, i) => {
    const name = tsigKeyName(k.name);
    if (names.has(name)) {
      ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `key ${name} is listed twice` });
    }
    names.add(name);
  });
});

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
 * base64 is an error naming the key and the source (never the secret). `path` is where the
 * list sits in the config file, for the message.
 */
export function resolveTsigKeys(
  keys: readonly TsigKeyConfig[],
  sources: SecretSources = PROCESS_SECRETS,
  path = 'transfer.keys',
): { ok: true; keys: TsigKey[] } | { ok: false; error: string } {
  const out: TsigKey[] = [];
  for (const [i, k] of keys.entries()) {
    const where = `${path}[${i}] (${k.name})`;
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
    if (!BASE64.test(trimmed)) {
      return { ok: false, error: `${where}: the secret is not base64` };
    }
    out.push({
      name: tsigKeyName(k.name),
      algorithm: k.algorithm as TsigKey['algorithm'],
      secret: Buffer.from(trimmed, 'base64'),
    });
  }
  return { ok: true, keys: out };
}
