import { isIP } from 'node:net';
import {
  type CorefileConversion,
  type CorefileDirective,
  type CorefileServerBlock,
  convertCommonPlugin,
  convertServerPort,
  newConversion,
  noEquivalent,
  parseCorefileDuration,
  setConfig,
  splitServerKey,
} from '@mdns/ops';

export type AuthorityCorefileResult =
  | { ok: true; conversion: CorefileConversion }
  | { ok: false; error: string };

export interface AuthorityCorefileOptions {
  /** The zone where the Corefile serves the root `.` (the authority serves named zones). */
  zone?: string;
  /** The text of /etc/resolv.conf, for `fanout . /etc/resolv.conf`. */
  resolvConf?: string;
}

interface Upstream {
  name: string;
  address: string;
  port: number;
}

const zoneName = (name: string): string => name.toLowerCase().replace(/\.$/, '') || '.';

/** `nameserver` addresses of a resolv.conf text. */
export function resolvConfNameservers(text: string): string[] {
  return text
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined && isIP(a.replace(/%.*$/, '')) !== 0);
}

/** `10.0.0.1`, `10.0.0.1:1053`, `[2001:db8::1]:53`, `dns://...` -> address and port. */
export function parseFanoutTarget(text: string): { address: string; port: number } | null {
  const bare = text.replace(/^dns:\/\//, '');
  let address = bare;
  let port = '53';
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(bare);
  if (bracketed) {
    address = bracketed[1];
    port = bracketed[2] ?? '53';
  } else if (isIP(bare) === 0 && bare.includes(':')) {
    address = bare.slice(0, bare.lastIndexOf(':'));
    port = bare.slice(bare.lastIndexOf(':') + 1);
  }
  const n = /^\d+$/.test(port) ? Number(port) : 0;
  return isIP(address) !== 0 && n >= 1 && n <= 65535 ? { address, port: n } : null;
}

/** A name the schema accepts (starts with a letter or digit): `10.0.0.1-53`, `ip6-2003--1-53`. */
const upstreamName = (address: string, port: number): string =>
  isIP(address) === 6 ? `ip6-${address.replace(/:/g, '-')}-${port}` : `${address}-${port}`;

/** fanout options that its README also shows outside the fanout block. */
const FANOUT_OPTIONS_OUTSIDE = new Set([
  'policy',
  'weighted-random-server-count',
  'weighted-random-load-factor',
]);

/** Options inside `fanout { ... }` and what they become. */
function convertFanoutOption(conversion: CorefileConversion, option: CorefileDirective): void {
  const first = option.args[0] ?? '';
  switch (option.name) {
    case 'attempt-count':
      if (/^[1-9]\d*$/.test(first)) {
        setConfig(conversion, ['upstream', 'failureThreshold'], Number(first));
      } else {
        noEquivalent(
          conversion,
          option,
          'an upstream is always marked down after failureThreshold (>= 1) failures',
        );
      }
      return;
    case 'timeout':
      noEquivalent(
        conversion,
        option,
        "each upstream's wait is learned from its round-trip times, between upstream.timeoutFloorMs (50) and upstream.timeoutCeilingMs (1000)",
      );
      return;
    case 'policy':
    case 'worker-count':
    case 'weighted-random-server-count':
    case 'weighted-random-load-factor':
      noEquivalent(
        conversion,
        option,
        'every upstream is asked at once; policy first (default) answers the first positive, as fanout does; all and priority are the other policies',
      );
      return;
    case 'race':
      noEquivalent(
        conversion,
        option,
        'a negative answer waits for every upstream (or its circuit to open)',
      );
      return;
    case 'network':
      noEquivalent(
        conversion,
        option,
        'upstreams are asked over UDP, and over TCP when a reply is truncated',
      );
      return;
    case 'except':
    case 'except-file':
      noEquivalent(
        conversion,
        option,
        'only the configured zones are served; any other name is REFUSED',
      );
      return;
    default:
      noEquivalent(
        conversion,
        option,
        'not a fanout option the authority knows (no TLS to upstreams)',
      );
  }
}

/** `cache [TTL] [ZONES...] { success / denial / prefetch / serve_stale }`. */
function convertCache(conversion: CorefileConversion, cache: CorefileDirective): void {
  const [ttl, ...zones] = cache.args;
  if (ttl !== undefined) setConfig(conversion, ['cache', 'maxTtl'], Number(ttl));
  if (zones.length > 0) noEquivalent(conversion, cache, 'the cache covers every configured zone');
  for (const option of cache.block) {
    const [a, b, c] = option.args;
    const int = (s: string | undefined) => (s !== undefined && /^\d+$/.test(s) ? Number(s) : null);
    if (option.name === 'success' && int(a) !== null) {
      setConfig(conversion, ['cache', 'maxEntries'], int(a));
      if (int(b) !== null) setConfig(conversion, ['cache', 'maxTtl'], int(b));
      if (int(c) !== null) setConfig(conversion, ['cache', 'minTtl'], int(c));
    } else if (option.name === 'denial' && int(a) !== null && b === undefined) {
      noEquivalent(
        conversion,
        option,
        'negative entries share cache.maxEntries; their bytes are capped by cache.negativeMaxBytes',
      );
    } else if (option.name === 'denial' && int(b) !== null) {
      setConfig(conversion, ['cache', 'negativeMaxTtl'], int(b));
      noEquivalent(
        conversion,
        option,
        `kept only the TTL ${b} (cache.negativeMaxTtl); negative entries share cache.maxEntries`,
      );
    } else if (option.name === 'prefetch' && int(a) !== null) {
      setConfig(conversion, ['cache', 'prefetch', 'minHits'], int(a));
      if (b !== undefined && !/^\d+%$/.test(b))
        noEquivalent(
          conversion,
          option,
          `kept AMOUNT and N%; DURATION ${b}: hits count over the entry's current lifetime`,
        );
      const percent = option.args.find((x) => /^\d+%$/.test(x));
      if (percent)
        setConfig(
          conversion,
          ['cache', 'prefetch', 'thresholdPercent'],
          Number(percent.slice(0, -1)),
        );
    } else if (option.name === 'serve_stale') {
      const seconds = a === undefined ? 3600 : parseCorefileDuration(a);
      if (seconds === null) noEquivalent(conversion, option, 'expected a duration such as 1h');
      else setConfig(conversion, ['cache', 'maxStaleSeconds'], Math.round(seconds));
      if (b !== undefined)
        noEquivalent(conversion, option, 'a stale answer is always refreshed in the background');
    } else if (option.name === 'servfail') {
      noEquivalent(
        conversion,
        option,
        'a SERVFAIL is never cached: a stale answer is served instead when held (RFC 8767)',
      );
    } else if (option.name === 'disable') {
      noEquivalent(
        conversion,
        option,
        'cache.enabled: false turns the whole cache off; positive or negative answers alone cannot be',
      );
    } else if (option.name === 'keepttl') {
      noEquivalent(conversion, option, 'TTLs are always aged by the time an answer was held');
    } else noEquivalent(conversion, option, 'not a cache option the authority has');
  }
}

/**
 * Pure: a parsed Corefile -> the authority's raw YAML config. Each `fanout FROM TO...`
 * becomes a zone (the server block's zone, else FROM, else `options.zone` for the root)
 * with TO as its upstreams; `cache` and the shared ops plugins (`prometheus`, `health`,
 * `ready`, `rrl`, `bind`) are converted; every other plugin or option becomes a note.
 */
export function convertAuthorityCorefile(
  blocks: readonly CorefileServerBlock[],
  options: AuthorityCorefileOptions = {},
): AuthorityCorefileResult {
  const conversion = newConversion();
  const zones: { name: string; upstreams: Upstream[] }[] = [];
  for (const block of blocks) {
    convertServerPort(conversion, block.keys, block.line);
    for (const directive of block.directives) {
      if (directive.name === 'cache') convertCache(conversion, directive);
      else if (directive.name === 'reload') {
        noEquivalent(
          conversion,
          directive,
          'not needed: a change of the file or SIGHUP reloads it',
        );
      } else if (FANOUT_OPTIONS_OUTSIDE.has(directive.name))
        convertFanoutOption(conversion, directive);
      else if (directive.name !== 'fanout') {
        if (!convertCommonPlugin(conversion, directive)) {
          noEquivalent(conversion, directive, 'no such plugin here');
        }
      } else {
        const [from = '.', ...targets] = directive.args;
        const blockZones = block.keys.map((k) => zoneName(splitServerKey(k).zone));
        const named = [...blockZones.filter((z) => z !== '.'), zoneName(from)].filter(
          (z) => z !== '.',
        );
        const zone = named[0] ?? (options.zone === undefined ? undefined : zoneName(options.zone));
        if (zone === undefined) {
          return {
            ok: false,
            error: `line ${directive.line}: fanout serves the root ".", the authority serves named zones: give --zone NAME`,
          };
        }
        const upstreams: Upstream[] = [];
        for (const target of targets) {
          if (target.startsWith('/')) {
            if (options.resolvConf === undefined) {
              return { ok: false, error: `line ${directive.line}: cannot read ${target}` };
            }
            for (const address of resolvConfNameservers(options.resolvConf)) {
              upstreams.push({ name: upstreamName(address, 53), address, port: 53 });
            }
            continue;
          }
          const parsed = parseFanoutTarget(target);
          if (parsed === null) {
            return {
              ok: false,
              error: `line ${directive.line}: upstream "${target}" is not an address[:port] the authority can ask (plain DNS only: no tls://, no host names)`,
            };
          }
          upstreams.push({ name: upstreamName(parsed.address, parsed.port), ...parsed });
        }
        if (upstreams.length === 0) {
          return { ok: false, error: `line ${directive.line}: fanout has no upstream` };
        }
        for (const option of directive.block) convertFanoutOption(conversion, option);
        zones.push({ name: zone, upstreams });
      }
    }
  }
  if (zones.length === 0) return { ok: false, error: 'no fanout plugin in the Corefile' };
  conversion.config = { zones, ...conversion.config };
  return { ok: true, conversion };
}
