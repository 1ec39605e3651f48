import { setTimeout as sleep } from 'node:timers/promises';
import type { Standin } from '@mdns/kube-standin';
import { gatewayConfig, type Workdir } from '../fixtures.js';
import { type Expectation, probeAnswer } from '../probe.js';
import { type AppProcess, startServer, writeConfig } from '../server-process.js';
import { waitReady } from '../topology.js';

/** An Ingress claiming `host` with load balancer address `ip`. */
export function ingress(namespace: string, name: string, host: string, ip: string) {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace },
    spec: { rules: [{ host }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

export function dnsEndpoint(namespace: string, name: string, host: string, ip: string) {
  return {
    apiVersion: 'externaldns.k8s.io/v1alpha1',
    kind: 'DNSEndpoint',
    metadata: { name, namespace },
    spec: { endpoints: [{ dnsName: host, recordType: 'A', targets: [ip] }] },
  };
}

/** A gateway reading the stand-in through its kubeconfig, ready (first full sync done). */
export async function startKubeGateway(
  work: Workdir,
  standin: Standin,
  kubernetes: Record<string, unknown> = {},
): Promise<AppProcess> {
  const file = writeConfig(
    work.path,
    'gateway-kube.yaml',
    gatewayConfig({ kubeconfig: standin.kubeconfigPath, kubernetes }),
  );
  const server = await startServer('cluster-gateway', file);
  await waitReady(server);
  return server;
}

/** One answer check against a gateway: '' when correct. */
export async function answerProblem(server: AppProcess, expect: Expectation): Promise<string> {
  const r = await probeAnswer('127.0.0.1', server.dnsPort, expect, {
    attempts: 2,
    timeoutMs: 1000,
  });
  return r.detail;
}

/** Milliseconds until `check` first returns '' (polled every 50 ms), or null at the deadline. */
export async function timeUntil(
  check: () => Promise<string>,
  timeoutMs: number,
): Promise<{ ms: number | null; last: string }> {
  const started = Date.now();
  let last = '';
  while (Date.now() - started < timeoutMs) {
    last = await check();
    if (last === '') return { ms: Date.now() - started, last };
    await sleep(50);
  }
  return { ms: null, last };
}

export interface ReadinessKind {
  phase: string;
  objects: number;
  names: number;
  secondsSinceLastEvent: number | null;
  message?: string;
}

/** `/ready` status and the per-kind detail the gateway publishes. */
export async function readiness(
  server: AppProcess,
): Promise<{ status: number; kinds: Record<string, ReadinessKind> }> {
  const r = await server.http('/ready');
  const body = JSON.parse(r.body) as { detail?: { kinds?: Record<string, ReadinessKind> } };
  return { status: r.status, kinds: body.detail?.kinds ?? {} };
}

export interface OutageResult {
  outageMs: number;
  /** Answer checks while the API was down, and the ones that were wrong. */
  checks: number;
  wrong: string[];
  /** /ready answers that were not 200 while down. */
  notReady: number;
  /** Largest seconds_since_last_event{kind="Ingress"} seen while down: the staleness signal. */
  maxStalenessSeconds: number;
  /** From up() to the change made during the outage being answered. */
  recoveryMs: number | null;
  recoveryLast: string;
}

/**
 * "API down for minutes, then back": takes the stand-in down, keeps checking the last good
 * answer, `/ready` and the staleness metric, changes an object meanwhile, brings the API
 * back and measures how long the gateway takes to serve the change.
 */
export async function runApiOutage(
  standin: Standin,
  gateway: AppProcess,
  options: {
    outageMs: number;
    lastGood: Expectation;
    change: { object: Record<string, unknown>; expect: Expectation };
    recoveryTimeoutMs?: number;
    log?: (line: string) => void;
  },
): Promise<OutageResult> {
  const result: OutageResult = {
    outageMs: options.outageMs,
    checks: 0,
    wrong: [],
    notReady: 0,
    maxStalenessSeconds: 0,
    recoveryMs: null,
    recoveryLast: '',
  };
  await standin.down();
  const end = Date.now() + options.outageMs;
  let changed = false;
  try {
    while (Date.now() < end) {
      const problem = await answerProblem(gateway, options.lastGood);
      result.checks++;
      if (problem) result.wrong.push(problem);
      const ready = await gateway.http('/ready');
      if (ready.status !== 200) result.notReady++;
      const staleness = await gateway.metric(
        'mdns_gateway_seconds_since_last_event{kind="Ingress"}',
      );
      result.maxStalenessSeconds = Math.max(result.maxStalenessSeconds, staleness ?? 0);
      // The change happens during the outage: the gateway can only learn it after up().
      if (!changed) {
        standin.apply(options.change.object as never);
        changed = true;
      }
      options.log?.(
        `down ${Math.round((options.outageMs - (end - Date.now())) / 1000)} s: answer ${problem || 'ok'}, ready ${ready.status}, staleness ${staleness}`,
      );
      await sleep(1000);
    }
  } finally {
    await standin.up();
  }
  const recovery = await timeUntil(
    () => answerProblem(gateway, options.change.expect),
    options.recoveryTimeoutMs ?? 60_000,
  );
  result.recoveryMs = recovery.ms;
  result.recoveryLast = recovery.last;
  return result;
}
