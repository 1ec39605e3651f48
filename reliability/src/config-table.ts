import type { AppName } from './server-process.js';

/**
 * Broken config files, each with the text its error must contain (the field path, or the
 * file and line for YAML syntax). `base` cases are written for both apps: they share the
 * zone, listen, ops and log fragments.
 */
export interface BrokenConfig {
  label: string;
  /** YAML text; `{{UPSTREAMS}}` is replaced by a valid upstream list for the authority. */
  yaml: string;
  /** Must appear in the error output. */
  names: string;
  apps: AppName[];
}

const BOTH: AppName[] = ['cluster-gateway', 'fanout-authority'];
const GW: AppName[] = ['cluster-gateway'];
const AUTH: AppName[] = ['fanout-authority'];

const zone = (extra = '') =>
  `zones:\n  - name: rel.example.test\n    upstreams: {{UPSTREAMS}}\n${extra}`;

export const BROKEN_CONFIGS: BrokenConfig[] = [
  { label: 'YAML syntax error', yaml: 'zones: [\n  - name: x\n', names: ':1:', apps: BOTH },
  { label: 'tab indentation', yaml: 'zones:\n\t- name: x\n', names: '.yaml:2:1: Tabs', apps: BOTH },
  { label: 'empty file', yaml: '', names: 'zones', apps: BOTH },
  { label: 'a scalar, not a mapping', yaml: 'hello\n', names: '(root): expected', apps: BOTH },
  { label: 'zones missing', yaml: 'listen:\n  port: 5353\n', names: 'zones', apps: BOTH },
  { label: 'zones empty', yaml: 'zones: []\n', names: 'zones', apps: BOTH },
  {
    label: 'bad zone name',
    yaml: zone().replace('rel.example.test', '"bad_name!"'),
    names: 'zones[0].name',
    apps: BOTH,
  },
  {
    label: 'duplicate zone',
    yaml: `${zone()}  - name: REL.example.test.\n    upstreams: {{UPSTREAMS}}\n`,
    names: 'zones[1].name',
    apps: BOTH,
  },
  {
    label: 'port out of range',
    yaml: zone('listen:\n  port: 70000\n'),
    names: 'listen.port',
    apps: BOTH,
  },
  {
    label: 'port as text',
    yaml: zone('listen:\n  port: fifty-three\n'),
    names: 'listen.port',
    apps: BOTH,
  },
  {
    label: 'zero workers',
    yaml: zone('listen:\n  workers: 0\n'),
    names: 'listen.workers',
    apps: BOTH,
  },
  {
    label: 'unknown worker socket mode',
    yaml: zone('listen:\n  workers: 2\n  workerSockets: fork\n'),
    names: 'listen.workerSockets',
    apps: BOTH,
  },
  {
    label: 'udpSize below 512',
    yaml: zone('listen:\n  udpSize: 100\n'),
    names: 'listen.udpSize',
    apps: BOTH,
  },
  {
    label: 'maxTcpConnections 0',
    yaml: zone('listen:\n  maxTcpConnections: 0\n'),
    names: 'listen.maxTcpConnections',
    apps: BOTH,
  },
  {
    label: 'maxTcpConnectionsPerSource 0',
    yaml: zone('listen:\n  maxTcpConnectionsPerSource: 0\n'),
    names: 'listen.maxTcpConnectionsPerSource',
    apps: BOTH,
  },
  {
    label: 'rrl window 0',
    yaml: zone('rrl:\n  responsesPerSecond: 10\n  window: 0\n'),
    names: 'rrl.window',
    apps: BOTH,
  },
  {
    label: 'unknown top-level key',
    yaml: zone('listne:\n  port: 53\n'),
    names: 'listne',
    apps: BOTH,
  },
  { label: 'bad log level', yaml: zone('log:\n  level: loud\n'), names: 'log.level', apps: BOTH },
  {
    label: 'nameserver address not an IP',
    yaml: zone(
      '    nameservers:\n      - name: ns1.rel.example.test\n        addresses: [not-an-ip]\n',
    ),
    names: 'zones[0].nameservers[0].addresses[0]',
    apps: BOTH,
  },
  {
    label: 'negative SOA minimum',
    yaml: zone('    soa:\n      minimum: -1\n'),
    names: 'zones[0].soa.minimum',
    apps: BOTH,
  },
  {
    label: 'ops port as a list',
    yaml: zone('ops:\n  metricsPort: [1]\n'),
    names: 'ops.metricsPort',
    apps: BOTH,
  },
  // Gateway only.
  {
    label: 'unknown source kind',
    yaml: zone('sources:\n  resources: [Ingress, Bogus]\n'),
    names: 'sources.resources[1]',
    apps: GW,
  },
  {
    label: 'backoff max below initial',
    yaml: zone('sources:\n  kubernetes:\n    backoff: { initialMs: 1000, maxMs: 10 }\n'),
    names: 'sources.kubernetes.backoff',
    apps: GW,
  },
  {
    label: 'manifests enabled without directory',
    yaml: zone('sources:\n  manifests:\n    enabled: true\n'),
    names: 'sources.manifests.directory',
    apps: GW,
  },
  {
    label: 'bad label selector',
    yaml: zone('sources:\n  filters:\n    labelSelector: "app in ("\n'),
    names: 'sources.filters.labelSelector',
    apps: GW,
  },
  {
    label: 'notify target not an IP',
    yaml: zone('notify:\n  targets: [{ address: authority }]\n'),
    names: 'notify.targets[0].address',
    apps: GW,
  },
  { label: 'negative ttl', yaml: zone('ttl: -5\n'), names: 'ttl', apps: GW },
  // Authority only.
  {
    label: 'no upstreams',
    yaml: 'zones:\n  - name: rel.example.test\n    upstreams: []\n',
    names: 'zones[0].upstreams',
    apps: AUTH,
  },
  {
    label: 'upstream address is a name',
    yaml: 'zones:\n  - name: rel.example.test\n    upstreams: [{ name: x, address: cluster-x }]\n',
    names: 'zones[0].upstreams[0].address',
    apps: AUTH,
  },
  {
    label: 'upstream port 0',
    yaml: 'zones:\n  - name: rel.example.test\n    upstreams: [{ name: x, address: 127.0.0.1, port: 0 }]\n',
    names: 'zones[0].upstreams[0].port',
    apps: AUTH,
  },
  {
    label: 'duplicate upstream names',
    yaml: 'zones:\n  - name: rel.example.test\n    upstreams: [{ name: x, address: 127.0.0.1 }, { name: x, address: 127.0.0.2 }]\n',
    names: 'zones[0].upstreams[1].name',
    apps: AUTH,
  },
  {
    label: 'unknown policy',
    yaml: zone('    policy: fastest\n'),
    names: 'zones[0].policy',
    apps: AUTH,
  },
  {
    label: 'timeout floor above ceiling',
    yaml: zone('upstream:\n  timeoutFloorMs: 5000\n  timeoutCeilingMs: 100\n'),
    names: 'upstream.timeoutFloorMs',
    apps: AUTH,
  },
  {
    label: 'cache maxBytes tiny',
    yaml: zone('cache:\n  maxBytes: 10\n'),
    names: 'cache.maxBytes',
    apps: AUTH,
  },
  {
    label: 'cache minTtl above maxTtl',
    yaml: zone('cache:\n  minTtl: 100\n  maxTtl: 10\n'),
    names: 'cache.minTtl',
    apps: AUTH,
  },
];

/** The YAML for `app`: the authority gets a valid upstream list, the gateway none. */
export function configText(c: BrokenConfig, app: AppName): string {
  const text =
    app === 'fanout-authority'
      ? c.yaml.replaceAll('{{UPSTREAMS}}', '[{ name: gw, address: 127.0.0.1, port: 5399 }]')
      : c.yaml.replaceAll('    upstreams: {{UPSTREAMS}}\n', '');
  return text;
}
