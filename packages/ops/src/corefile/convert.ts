import { stringify } from 'yaml';
import { type CorefileDirective, parseCorefileDuration, splitServerKey } from './parse.js';

/**
 * What a Corefile converter builds: the raw YAML config (before validation and defaults)
 * and one note per Corefile option that has no equivalent, each printed as a `#` comment.
 */
export interface CorefileConversion {
  config: Record<string, unknown>;
  notes: string[];
}

export function newConversion(): CorefileConversion {
  return { config: {}, notes: [] };
}

/** Sets `config[a][b]... = value`, creating the objects on the way. */
export function setConfig(
  conversion: CorefileConversion,
  path: readonly string[],
  value: unknown,
): void {
  let node = conversion.config;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

/** One `#` line for an option without an equivalent: where it was, what it was, why. */
export function noEquivalent(
  conversion: CorefileConversion,
  directive: CorefileDirective,
  why: string,
): void {
  const text = [directive.name, ...directive.args].join(' ');
  conversion.notes.push(`line ${directive.line}: \`${text}\` has no equivalent: ${why}`);
}

/** `HOST:PORT`, `:PORT` or `HOST` of prometheus/health/ready; null port = the default. */
function splitListenAddress(text: string): { host: string | null; port: number | null } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(text);
  if (!m) return { host: null, port: null };
  return {
    host: m[1] === '' ? null : m[1].replace(/^\[|\]$/g, ''),
    port: m[2] !== undefined ? Number(m[2]) : null,
  };
}

const OPS_PORT_KEY = { prometheus: 'metricsPort', health: 'healthPort', ready: 'readyPort' };

/**
 * The plugins both apps share an equivalent for (`prometheus`, `health`, `ready`, `log`,
 * `errors`) into `conversion`. Returns false for any other plugin, which the app converter
 * handles or notes.
 */
export function convertCommonPlugin(
  conversion: CorefileConversion,
  directive: CorefileDirective,
): boolean {
  const name = directive.name;
  if (name === 'prometheus' || name === 'health' || name === 'ready') {
    const address = splitListenAddress(directive.args[0] ?? '');
    if (address.port !== null) setConfig(conversion, ['ops', OPS_PORT_KEY[name]], address.port);
    if (address.host !== null && address.host !== '0.0.0.0') {
      conversion.notes.push(
        `line ${directive.line}: \`${name} ${directive.args[0]}\`: its host is not kept; ops.host (default 0.0.0.0) is the one address of all three ops ports`,
      );
    }
    for (const sub of directive.block) {
      const seconds = parseCorefileDuration(sub.args[0] ?? '');
      if (name === 'health' && sub.name === 'lameduck' && seconds !== null) {
        setConfig(conversion, ['shutdown', 'lameDuckSeconds'], seconds);
      } else noEquivalent(conversion, sub, `not an option of ${name} here`);
    }
    return true;
  }
  if (name === 'log') {
    noEquivalent(
      conversion,
      directive,
      'there is no per-query log; per-query counts and latencies are metrics (log.level sets the process log)',
    );
    return true;
  }
  if (name === 'errors') {
    noEquivalent(conversion, directive, 'errors are always logged (log.level, default info)');
    return true;
  }
  return false;
}

/** The port of the server block keys (`.:1053`) as `listen.port`; notes disagreeing ports. */
export function convertServerPort(
  conversion: CorefileConversion,
  keys: readonly string[],
  line: number,
): void {
  const ports = new Set(keys.map((k) => splitServerKey(k).port).filter((p) => p !== null));
  const listen = conversion.config.listen as { port?: number } | undefined;
  for (const port of ports) {
    if (listen?.port !== undefined && listen.port !== port) {
      conversion.notes.push(
        `line ${line}: port ${port} ignored: one process listens on one port (listen.port ${listen.port})`,
      );
    } else setConfig(conversion, ['listen', 'port'], port);
  }
}

/** The YAML text: a header, the notes as `#` lines, then the config. */
export function renderConversion(
  conversion: CorefileConversion,
  header: readonly string[],
): string {
  const lines = header.map((h) => `# ${h}`);
  if (conversion.notes.length > 0) {
    lines.push('#', '# Not converted:');
    for (const note of conversion.notes) lines.push(`#   ${note}`);
  }
  return `${lines.join('\n')}\n${stringify(conversion.config)}`;
}
