import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { formatZodIssues } from './format.js';

/** Errors are values at the config boundary: every message names the file or field. */
export type ConfigResult<T> = { ok: true; config: T } | { ok: false; errors: string[] };

/** One environment variable that overrides one field of the raw (pre-validation) config. */
export interface EnvOverride {
  /** Variable name, e.g. `GATEWAY_CLUSTER_NAME`. Unset or empty means "no override". */
  env: string;
  /** Where it goes in the raw config, e.g. `['cluster', 'name']` or `['zones', 0, 'name']`. */
  path: readonly (string | number)[];
  /** Turns the text into the raw value; throw an Error to reject it. Default: the text as is. */
  parse?: (text: string) => unknown;
}

export interface ParseConfigOptions {
  /** Named in YAML syntax errors (`config.yaml:3:1: ...`). Default `'config'`. */
  source?: string;
  /** Overrides applied after YAML parsing and before validation. Default none. */
  envOverrides?: readonly EnvOverride[];
  /** The environment read by `envOverrides`. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Ready-made `parse` functions for `EnvOverride`. Each throws an Error whose message says
 * what was expected; `applyEnvOverrides` prefixes it with the variable name.
 */
export const envParsers = {
  string: (text: string): string => text,
  int: (text: string): number => {
    if (!/^-?\d+$/.test(text.trim())) throw new Error(`expected an integer, got "${text}"`);
    return Number(text.trim());
  },
  bool: (text: string): boolean => {
    const t = text.trim().toLowerCase();
    if (t === 'true' || t === '1' || t === 'yes') return true;
    if (t === 'false' || t === '0' || t === 'no') return false;
    throw new Error(`expected true/false, got "${text}"`);
  },
  /** Comma-separated list; blanks around items are dropped. */
  list: (text: string): string[] =>
    text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  json: (text: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new Error(`expected JSON: ${(err as Error).message}`);
    }
  },
} as const;

function isContainer(v: unknown): v is Record<string | number, unknown> {
  return typeof v === 'object' && v !== null;
}

function setAtPath(
  root: Record<string, unknown>,
  path: readonly (string | number)[],
  value: unknown,
): string | null {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    let next = node[key];
    if (next === undefined || next === null) {
      next = typeof path[i + 1] === 'number' ? [] : {};
      node[key] = next;
    }
    if (!isContainer(next)) return `cannot set a field inside ${typeof next} at ${key}`;
    node = next;
  }
  node[path[path.length - 1]] = value;
  return null;
}

/**
 * Return a deep copy of `raw` with each set variable written at its path. Intermediate
 * objects are created as needed. Errors name the variable: `env GATEWAY_PORT: expected an
 * integer, got "abc"`.
 */
export function applyEnvOverrides(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
  overrides: readonly EnvOverride[],
): ConfigResult<unknown> {
  if (overrides.length === 0) return { ok: true, config: raw };
  const base = raw === null || raw === undefined ? {} : raw;
  if (!isContainer(base) || Array.isArray(base)) {
    return { ok: false, errors: ['(root): expected a mapping at the top level of the config'] };
  }
  const copy = structuredClone(base) as Record<string, unknown>;
  const errors: string[] = [];
  for (const o of overrides) {
    const text = env[o.env];
    if (text === undefined || text === '') continue;
    if (o.path.length === 0) {
      errors.push(`env ${o.env}: override has an empty path`);
      continue;
    }
    let value: unknown;
    try {
      value = (o.parse ?? envParsers.string)(text);
    } catch (err) {
      errors.push(`env ${o.env}: ${(err as Error).message}`);
      continue;
    }
    const problem = setAtPath(copy, o.path, value);
    if (problem) errors.push(`env ${o.env}: ${problem}`);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: copy };
}

/** `config.yaml:3:1: Map keys must be unique` — first line of yaml's message, position in front. */
function yamlError(
  source: string,
  err: { message: string; linePos?: { line: number; col: number }[] },
): string {
  const firstLine = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const pos = err.linePos?.[0];
  return pos ? `${source}:${pos.line}:${pos.col}: ${firstLine}` : `${source}: ${firstLine}`;
}

/** Parse YAML text (JSON is YAML too), apply env overrides, validate with `schema`. */
export function parseConfigText<S extends z.ZodType>(
  text: string,
  schema: S,
  options: ParseConfigOptions = {},
): ConfigResult<z.output<S>> {
  const source = options.source ?? 'config';
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, errors: doc.errors.map((e) => yamlError(source, e)) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, errors: [`${source}: ${(err as Error).message}`] };
  }
  // An empty file is an empty mapping, so schema defaults apply and required keys are named.
  if (raw === null || raw === undefined) raw = {};
  if (options.envOverrides && options.envOverrides.length > 0) {
    const applied = applyEnvOverrides(raw, options.env ?? process.env, options.envOverrides);
    if (!applied.ok) return applied;
    raw = applied.config;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, errors: formatZodIssues(parsed.error.issues) };
  return { ok: true, config: parsed.data };
}

/** Read `path` and `parseConfigText` it; a missing or unreadable file is an error value. */
export async function loadConfigFile<S extends z.ZodType>(
  path: string,
  schema: S,
  options: Omit<ParseConfigOptions, 'source'> = {},
): Promise<ConfigResult<z.output<S>>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    return { ok: false, errors: [`${path}: cannot read config: ${why}`] };
  }
  return parseConfigText(text, schema, { ...options, source: path });
}
