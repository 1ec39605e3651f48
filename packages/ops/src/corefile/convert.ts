import { isIP } from 'node:net';
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

/** rrl (github.com/coredns/rrl) options with the same meaning in our `rrl:` (config/server.ts). */
const RRL_OPTIONS: Record<string, string> = {
  'responses-per-second': 'responsesPerSecond',
  window: 'window',
  'slip-ratio': 'slip',
  'ipv4-prefix-length': 'ipv4PrefixLength',
  'ipv6-prefix-length': 'ipv6PrefixLength',
  'max-table-size': 'tableSize',
};

/** Why an rrl option has no equivalent here. */
const RRL_NONE: Record<string, string> = {
  'nodata-per-second': 'NODATA answers count as responses (rrl.responsesPerSecond)',
  'referrals-per-second': 'these servers never answer with a referral',
  'requests-per-second':
    'rrl limits responses only; the fanout-authority limits cache misses per source (rateLimit)',
  'report-only': 'rrl always acts; watch rrl_* metrics with a high limit first',
};

/**
 * CoreDNS `rrl [ZONES...] { ... }` -> `rrl:`. NXDOMAIN and errors share one allowance here
 * (`errorsPerSecond`): `errors-per-second` and `nxdomains-per-second` set it, the smaller
 * one when both are given (a note says so).
 */
function convertRrl(conversion: CorefileConversion, directive: CorefileDirective): void {
  if (directive.args.some((z) => z !== '.')) {
    conversion.notes.push(
      `line ${directive.line}: \`rrl ${directive.args.join(' ')}\`: its zones are not kept; rrl covers every zone served`,
    );
  }
  const errors: number[] = [];
  for (const option of directive.block) {
    const value = option.args[0] ?? '';
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : null;
    const key = RRL_OPTIONS[option.name];
    if (RRL_NONE[option.name] !== undefined)
      noEquivalent(conversion, option, RRL_NONE[option.name]);
    else if (n === null) noEquivalent(conversion, option, 'expected a number');
    else if (key !== undefined) setConfig(conversion, ['rrl', key], n);
    else if (option.name === 'errors-per-second' || option.name === 'nxdomains-per-second') {
      errors.push(n);
    } else noEquivalent(conversion, option, 'not an rrl option here');
  }
  if (errors.length > 0) setConfig(conversion, ['rrl', 'errorsPerSecond'], Math.min(...errors));
  if (new Set(errors).size > 1) {
    conversion.notes.push(
      `line ${directive.line}: rrl errors-per-second and nxdomains-per-second share one allowance here: rrl.errorsPerSecond ${Math.min(...errors)}, the smaller`,
    );
  }
}

/** CoreDNS `bind ADDRESS`: one IP address -> `listen.host`; interfaces or several -> a note. */
function convertBind(conversion: CorefileConversion, directive: CorefileDirective): void {
  const [address, ...more] = directive.args;
  if (address !== undefined && more.length === 0 && isIP(address) !== 0) {
    setConfig(conversion, ['listen', 'host'], address);
  } else {
    noEquivalent(
      conversion,
      directive,
      'listen.host is one IP address (0.0.0.0 or :: for all); interface names and several addresses are not',
    );
  }
}

/**
 * The plugins both apps share an equivalent for (`prometheus`, `health`, `ready`, `rrl`,
 * `bind`, `log`, `errors`) into `conversion`. Returns false for any other plugin, which the
 * app converter handles or notes.
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
  if (name === 'rrl') {
    convertRrl(conversion, directive);
    return true;
  }
  if (name === 'bind') {
    convertBind(conversion, directive);
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
