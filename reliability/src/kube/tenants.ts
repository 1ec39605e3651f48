// Tenants attacking each other through the objects their own namespaces may create, against
// a real gateway reading the kube stand-in. Each attack is applied, then a marker object of
// the same kind is applied behind it and awaited: once the marker answers, the attack's
// event has been processed (one ordered watch stream per kind), so nothing here sleeps.
import type { Standin } from '@mdns/kube-standin';
import { decode } from '@mdns/protocol';
import { dnsQuery } from '@mdns/transport';
import { fixtureObjects, gatewayConfig, KNOWN, type Workdir, ZONE } from '../fixtures.js';
import { type AppProcess, startServer, writeConfig } from '../server-process.js';
import { waitReady } from '../topology.js';

export const TEAM_A = `a.${ZONE}`;
export const TEAM_B = `b.${ZONE}`;
/** 360 UTF-16 units, 420 UTF-8 bytes: split by units it made a 300+ byte string. */
export const NON_ASCII_TXT = 'héllo '.repeat(60);
/** Over the gateway's default per-event cap (4 MiB) and per-page cap (16 MiB); env RELIABILITY_HUGE_OBJECT_MB. */
export const HUGE_OBJECT_BYTES = Number(process.env.RELIABILITY_HUGE_OBJECT_MB ?? 24) * 1024 * 1024;

/** The gateway config of the campaign: `policy` adds the tenant ownership policy. */
export function tenantGatewayConfig(kubeconfig: string, policy: boolean): Record<string, unknown> {
  const config = gatewayConfig({ kubeconfig, kubernetes: {} });
  if (!policy) return config;
  const sources = config.sources as Record<string, unknown>;
  sources.ownership = {
    namespaces: {
      web: [KNOWN.web.name],
      data: [KNOWN.multi.name],
      'team-a': [TEAM_A],
      'team-b': [TEAM_B],
    },
  };
  return config;
}

export async function startTenantGateway(
  work: Workdir,
  standin: Standin,
  options: { policy: boolean; main?: string },
): Promise<AppProcess> {
  const file = writeConfig(
    work.path,
    'gateway-tenants.yaml',
    tenantGatewayConfig(standin.kubeconfigPath, options.policy),
  );
  const server = await startServer('cluster-gateway', file, { main: options.main });
  await waitReady(server);
  return server;
}

function ingress(ns: string, name: string, host: string, lb: { ip?: string; hostname?: string }) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns },
    spec: { rules: [{ host }] },
    status: { loadBalancer: { ingress: [lb] } },
  };
}

function service(ns: string, name: string, host: string, spec: object, ips: string[]) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: ns, annotations: { 'coredns.io/hostname': host } },
    spec: { type: 'LoadBalancer', ...spec },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
  };
}

function endpoint(ns: string, name: string, host: string, type: string, targets: string[]) {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace: ns },
    spec: { endpoints: [{ dnsName: host, recordType: type, targets }] },
  };
}

/** The victims: team-a's names, created before any attacker object. */
export function tenantObjects(): Record<string, unknown>[] {
  return [
    ...fixtureObjects(),
    ingress('team-a', 'api', `api.${TEAM_A}`, { ip: '10.0.1.1' }),
    ingress('team-a', 'cdn', `cdn.${TEAM_A}`, { hostname: 'cdn-a.example.net' }),
  ];
}

/** `rcode: TYPE data, ...` as a dig +short would show it (TXT strings quoted, byte lengths). */
export async function answerOf(port: number, name: string, type: string): Promise<string> {
  let reply: Awaited<ReturnType<typeof dnsQuery>> | null = null;
  // Three tries: the stand-in shares this process and may hold the event loop while it
  // serializes a huge object, so one lost reply is not the gateway's doing.
  for (let attempt = 0; attempt < 3 && reply === null; attempt++) {
    reply = await dnsQuery({ host: '127.0.0.1', port, name, type, timeoutMs: 2000 }).catch(
      () => null,
    );
  }
  if (reply === null) return 'no reply (3 tries)';
  const d = decode(reply.bytes);
  if (!d.ok) return `undecodable: ${d.error}`;
  const m = d.message as { rcode: string; answers?: { type: string; data: unknown }[] };
  const answers = (m.answers ?? []).map((a) => {
    if (a.type === 'TXT') {
      const parts = (a.data as Uint8Array[]).map((p) => Buffer.from(p));
      return `TXT ${parts.map((p) => `${p.length}B`).join('+')} ${JSON.stringify(Buffer.concat(parts).toString('utf8') === NON_ASCII_TXT ? 'intact' : 'altered')}`;
    }
    return `${a.type} ${String(a.data)}`;
  });
  return `${m.rcode}${answers.length ? `: ${answers.join(', ')}` : ''}`;
}

export interface TenantAttack {
  attack: string;
  /** Name asked after the attack, and the answer its rightful owner expects. */
  ask: { name: string; type: string };
  expected: string;
  /** What the attacker applies, and a harmless object of the same kind behind it. */
  objects: Record<string, unknown>[];
  marker: { object: Record<string, unknown>; name: string };
}

let markers = 0;
function marker(kind: 'Ingress' | 'Service' | 'DNSEndpoint'): TenantAttack['marker'] {
  const n = ++markers;
  const name = `m${n}.${TEAM_B}`;
  const ip = `10.0.9.${n}`;
  const object =
    kind === 'Ingress'
      ? ingress('team-b', `m${n}`, name, { ip })
      : kind === 'Service'
        ? service('team-b', `m${n}`, name, {}, [ip])
        : endpoint('team-b', `m${n}`, name, 'A', [ip]);
  return { object, name };
}

/** Every attack of the campaign, in order. */
export function tenantAttacks(): TenantAttack[] {
  return [
    {
      attack: "A claim on another team's name",
      ask: { name: `api.${TEAM_A}`, type: 'A' },
      expected: 'NOERROR: A 10.0.1.1',
      objects: [ingress('team-b', 'steal', `api.${TEAM_A}`, { ip: '203.0.113.66' })],
      marker: marker('Ingress'),
    },
    {
      attack: "A claim on another team's CNAME name",
      ask: { name: `cdn.${TEAM_A}`, type: 'A' },
      expected: 'NOERROR: CNAME cdn-a.example.net',
      objects: [ingress('team-b', 'cdn', `cdn.${TEAM_A}`, { ip: '203.0.113.67' })],
      marker: marker('Ingress'),
    },
    {
      attack: 'wildcard over the whole zone',
      ask: { name: `anything.${ZONE}`, type: 'A' },
      expected: 'NXDOMAIN',
      objects: [ingress('team-b', 'wild', `*.${ZONE}`, { ip: '203.0.113.68' })],
      marker: marker('Ingress'),
    },
    {
      attack: 'Service spec.externalIPs pointing at any address',
      ask: { name: `ext.${TEAM_B}`, type: 'A' },
      expected: 'NXDOMAIN',
      objects: [service('team-b', 'ext', `ext.${TEAM_B}`, { externalIPs: ['10.0.1.1'] }, [])],
      marker: marker('Service'),
    },
    {
      attack: 'non-ASCII TXT over 255 bytes',
      ask: { name: `txt.${TEAM_B}`, type: 'TXT' },
      expected: 'NOERROR: TXT 255B+165B "intact"',
      objects: [endpoint('team-b', 'txt', `txt.${TEAM_B}`, 'TXT', [NON_ASCII_TXT])],
      marker: marker('DNSEndpoint'),
    },
    {
      attack: `one ${HUGE_OBJECT_BYTES / 1024 / 1024} MiB object`,
      ask: { name: `huge.${TEAM_B}`, type: 'A' },
      expected: 'NXDOMAIN',
      objects: [
        service(
          'team-b',
          'huge',
          `huge.${TEAM_B}`,
          { selector: { junk: 'x'.repeat(HUGE_OBJECT_BYTES) } },
          ['10.0.2.2'],
        ),
      ],
      marker: marker('Service'),
    },
  ];
}

export interface TenantAttackResult {
  attack: string;
  answer: string;
  expected: string;
  held: boolean;
  /** Victims and fixture names still answered correctly after the attack. */
  victimsIntact: boolean;
  /** 'handler failed' log lines (stack traces) the attack caused. */
  handlerErrors: number;
  /** VmHWM growth during the attack, MiB. */
  peakGrowthMb: number;
}

const VICTIMS: [string, string, string][] = [
  [`api.${TEAM_A}`, 'A', 'NOERROR: A 10.0.1.1'],
  [`cdn.${TEAM_A}`, 'A', 'NOERROR: CNAME cdn-a.example.net'],
  [KNOWN.web.name, 'A', `NOERROR: A ${KNOWN.web.a[0]}`],
];

/** Runs every attack against `gateway` (reading `standin`), one after the other. */
export async function runTenantAttacks(
  standin: Standin,
  gateway: AppProcess,
): Promise<TenantAttackResult[]> {
  const results: TenantAttackResult[] = [];
  for (const a of tenantAttacks()) {
    const peakBefore = gateway.memory()?.peakKb ?? 0;
    const errorsBefore = gateway.logs.filter(
      (l) => l.msg === 'handler failed: answered SERVFAIL',
    ).length;
    for (const o of a.objects) standin.apply(o as never);
    standin.apply(a.marker.object as never);
    const deadline = Date.now() + 60_000;
    while ((await answerOf(gateway.dnsPort, a.marker.name, 'A')).startsWith('NXDOMAIN')) {
      if (Date.now() > deadline || !gateway.alive) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const answer = gateway.alive
      ? await answerOf(gateway.dnsPort, a.ask.name, a.ask.type)
      : 'gateway died';
    let victimsIntact = gateway.alive;
    for (const [name, type, want] of VICTIMS) {
      if (!gateway.alive || (await answerOf(gateway.dnsPort, name, type)) !== want)
        victimsIntact = false;
    }
    results.push({
      attack: a.attack,
      answer,
      expected: a.expected,
      held: answer === a.expected,
      victimsIntact,
      handlerErrors:
        gateway.logs.filter((l) => l.msg === 'handler failed: answered SERVFAIL').length -
        errorsBefore,
      peakGrowthMb: Math.round(((gateway.memory()?.peakKb ?? 0) - peakBefore) / 1024),
    });
  }
  return results;
}
