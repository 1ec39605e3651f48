import { isIP } from 'node:net';
import {
  type CorefileConversion,
  type CorefileDirective,
  type CorefileServerBlock,
  convertCommonPlugin,
  convertServerPort,
  newConversion,
  noEquivalent,
  setConfig,
  splitServerKey,
} from '@mdns/ops';
import { SOURCE_KINDS } from '../sources/kinds.js';
import type { SourceKind } from '../sources/types.js';

export type GatewayCorefileResult =
  | { ok: true; conversion: CorefileConversion }
  | { ok: false; error: string };

const zoneName = (name: string): string => name.toLowerCase().replace(/\.$/, '');

/** k8s_gateway's default when `resources` is absent (its README): Ingress and Service only. */
const K8S_GATEWAY_DEFAULT_RESOURCES: readonly SourceKind[] = ['Ingress', 'Service'];

function convertK8sGateway(
  conversion: CorefileConversion,
  block: CorefileServerBlock,
  plugin: CorefileDirective,
  zones: string[],
  nameservers: string[],
): void {
  // `k8s_gateway [ZONES...]`; without zones it serves the server block's zones.
  const own = plugin.args.length > 0 ? plugin.args : block.keys.map((k) => splitServerKey(k).zone);
  for (const zone of own.map(zoneName)) {
    if (zone !== '' && zone !== '.' && !zones.includes(zone)) zones.push(zone);
  }
  let resources: readonly SourceKind[] = K8S_GATEWAY_DEFAULT_RESOURCES;
  for (const option of plugin.block) {
    const args = option.args;
    switch (option.name) {
      case 'resources': {
        const unknown = args.filter((a) => !SOURCE_KINDS.includes(a as SourceKind));
        if (unknown.length > 0)
          noEquivalent(conversion, option, `unknown kind ${unknown.join(', ')}`);
        // Our list is also the precedence order; keep ours, which k8s_gateway's lookup follows.
        resources = SOURCE_KINDS.filter((k) => args.includes(k));
        break;
      }
      case 'ingressClasses':
        setConfig(conversion, ['sources', 'filters', 'ingressClasses'], args);
        break;
      case 'gatewayClasses':
        setConfig(conversion, ['sources', 'filters', 'gatewayClasses'], args);
        break;
      case 'ttl':
        if (/^\d+$/.test(args[0] ?? '')) conversion.config.ttl = Number(args[0]);
        else noEquivalent(conversion, option, 'expected a TTL in seconds');
        break;
      case 'apex':
      case 'secondary':
        // k8s_gateway answers NS at the apex with `<apex>.<zone>` (apex, then secondary).
        nameservers.push(...args);
        break;
      case 'kubeconfig':
        setConfig(conversion, ['sources', 'kubernetes', 'kubeconfig'], args[0]);
        if (args[1] !== undefined)
          setConfig(conversion, ['sources', 'kubernetes', 'context'], args[1]);
        break;
      case 'fallthrough':
        noEquivalent(
          conversion,
          option,
          'a name in a zone that no object claims is NXDOMAIN (or NODATA), and a name outside the zones is REFUSED; there is no next plugin (docs/migrating.md)',
        );
        break;
      default:
        noEquivalent(conversion, option, 'not a k8s_gateway option this gateway knows');
    }
  }
  setConfig(conversion, ['sources', 'resources'], [...resources]);
  conversion.notes.push(
    `line ${plugin.line}: k8s_gateway merges the records of objects in different namespaces that claim one name; here the namespace of the oldest claimant keeps it (sources.ownership.conflicts: first-claimant): set conflicts: merge for k8s_gateway's behaviour`,
  );
  if (resources.includes('Service')) {
    conversion.notes.push(
      `line ${plugin.line}: k8s_gateway publishes a Service's spec.externalIPs; here they are off by default (anyone who may create a Service may write any address there): set sources.services.externalIPs: true to publish them`,
    );
  }
}

/** `ADDRESS` or `ADDRESS:PORT` (`[v6]:PORT`) of a `transfer { to ... }` line; null otherwise. */
export function parseTransferTarget(text: string): { address: string; port: number } | null {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:]+)(?::(\d+))?$/.exec(text);
  const address = isIP(text) === 6 ? text : m?.[1];
  const port = isIP(text) === 6 ? 53 : Number(m?.[2] ?? 53);
  if (address === undefined || isIP(address) === 0 || port < 1 || port > 65535) return null;
  return { address, port };
}

/**
 * CoreDNS `transfer { to ADDRESS... }` sends NOTIFY to each address when the zone changes,
 * which `notify.targets` does here; the zone transfer itself (AXFR/IXFR) is REFUSED.
 */
function convertTransfer(conversion: CorefileConversion, directive: CorefileDirective): void {
  const targets: { address: string; port: number }[] = [];
  for (const option of directive.block) {
    if (option.name !== 'to') {
      noEquivalent(conversion, option, 'not a transfer option here');
      continue;
    }
    for (const arg of option.args) {
      const target = arg === '*' ? null : parseTransferTarget(arg);
      if (target !== null) targets.push(target);
      else
        conversion.notes.push(
          `line ${option.line}: transfer to ${arg}: no NOTIFY target (an IP address[:port] is)`,
        );
    }
  }
  if (targets.length > 0) setConfig(conversion, ['notify', 'targets'], targets);
  noEquivalent(
    conversion,
    directive,
    'zone transfers (AXFR/IXFR) are REFUSED: the fanout-authority asks the gateway per name; the `to` addresses get NOTIFY (notify.targets)',
  );
}

/**
 * Pure: a parsed Corefile -> the gateway's raw YAML config. Converts `k8s_gateway` (zones,
 * resources, classes, ttl, apex/secondary, kubeconfig), `transfer { to }` (NOTIFY targets),
 * the server block port, and the shared ops plugins (`prometheus`, `health`, `ready`, `rrl`,
 * `bind`); every other plugin or option becomes a note.
 */
export function convertGatewayCorefile(
  blocks: readonly CorefileServerBlock[],
): GatewayCorefileResult {
  const conversion = newConversion();
  const zones: string[] = [];
  const nameservers: string[] = [];
  let found = false;
  for (const block of blocks) {
    convertServerPort(conversion, block.keys, block.line);
    for (const directive of block.directives) {
      if (directive.name === 'k8s_gateway') {
        found = true;
        convertK8sGateway(conversion, block, directive, zones, nameservers);
      } else if (directive.name === 'transfer') {
        convertTransfer(conversion, directive);
      } else if (directive.name === 'cache') {
        noEquivalent(
          conversion,
          directive,
          'the gateway answers from its in-memory index; the fanout-authority in front caches',
        );
      } else if (directive.name === 'reload') {
        noEquivalent(
          conversion,
          directive,
          'the config is read at start; the kustomize configMapGenerator rolls the pods on a change',
        );
      } else if (directive.name === 'forward') {
        noEquivalent(
          conversion,
          directive,
          'a name outside the zones is REFUSED: forwarding belongs to the resolver that asks us',
        );
      } else if (!convertCommonPlugin(conversion, directive)) {
        noEquivalent(conversion, directive, 'no such plugin here');
      }
    }
  }
  if (!found) return { ok: false, error: 'no k8s_gateway plugin in the Corefile' };
  if (zones.length === 0) {
    return { ok: false, error: 'k8s_gateway has no zone: name one (k8s_gateway example.com)' };
  }
  const zoneConfigs = zones.map((name) =>
    nameservers.length === 0
      ? { name }
      : { name, nameservers: nameservers.map((ns) => ({ name: `${zoneName(ns)}.${name}` })) },
  );
  // Zones first in the YAML, as in the README examples.
  conversion.config = { zones: zoneConfigs, ...conversion.config };
  return { ok: true, conversion };
}
