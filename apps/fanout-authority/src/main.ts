import { readFile } from 'node:fs/promises';
import {
  allowYoungGrowth,
  type CliContext,
  checkHeapLimit,
  convertCorefileCli,
  corednsServerLabel,
  createLogger,
  createRegistry,
  type ExplainServer,
  exportCounters,
  type Logger,
  onSignals,
  type PrimaryContext,
  resolveTsigKeys,
  runCli,
  siblings,
  startExplainServer,
  startedAtSeconds,
  startProcessOps,
  superviseWorkers,
  TRANSFER_COUNTER_HELP,
  watchConfig,
  workerFeeds,
  workerIndex,
} from '@mdns/ops';
import { DnsClient, DnsServer } from '@mdns/transport';
import { AnswerCache, SingleFlight } from './cache/index.js';
import { convertAuthorityCorefile } from './config/corefile.js';
import { AUTHORITY_ENV_OVERRIDES } from './config/env.js';
import {
  buildReplicas,
  buildRuntime,
  type ReplicationWiring,
  type Runtime,
} from './config/runtime.js';
import { type AuthorityConfig, authorityConfigSchema } from './config/schema.js';
import { createHandler } from './dns/handler.js';
import { routeTransfers } from './dns/transfer-route.js';
import { explainCli } from './explain/cli.js';
import { explain, formatExplain, parseExplainRequest } from './explain/explain.js';
import type { FanoutResult } from './fanout/fanout.js';
import { METRICS_PREFIX, registerAuthorityMetrics } from './metrics.js';
import { MergedZonePrimary } from './primary/primary.js';
import {
  MERGED_SERIAL_TOPIC,
  MERGED_WORKER_TOPIC,
  MergedSerialOwner,
  mergeConfigKey,
  type WorkerMergeConfig,
} from './primary/serials.js';
import { replicasSettled } from './replica/readiness.js';
import type { Replica } from './replica/replica.js';
import {
  followReplicas,
  NOTIFY_TOPIC,
  type ReplicaNotify,
  ReplicaPublisher,
} from './replica/share.js';
import { watchLoopLag } from './upstream/loop-lag.js';
import { Prober } from './upstream/prober.js';
import { HealthShare } from './upstream/share.js';
import { upstreamKey } from './upstream/upstream.js';

const NAME = 'fanout-authority';
const DEFAULT_CONFIG_PATH = '/etc/mdns/authority.yaml';
const CACHE_SWEEP_MS = 60_000;
/** Young-generation cap (see @mdns/ops heap.ts): new space settles between 16 and 32 MiB. */
const AUTHORITY_NEW_SPACE_BYTES = 32 * 1024 * 1024;

async function start(ctx: CliContext<AuthorityConfig>): Promise<void> {
  const config = ctx.config;
  const logger = createLogger({ name: NAME, level: config.log.level });
  // listen.workers > 1: the primary supervises and runs the replicas (null); each worker
  // runs the rest, its replicas following the primary's.
  const plan = await superviseWorkers({
    name: NAME,
    listen: config.listen,
    ops: config.ops,
    logger,
    metricsPrefix: METRICS_PREFIX,
    lameDuckMs: config.shutdown.lameDuckSeconds * 1000,
    primary: (primaryContext) => replicasInPrimary(ctx, primaryContext),
  });
  if (plan === null) return;
  // Node 24 would grow the young generation to 128 MiB (Node 20: 32 MiB), ≈+130 MB of RSS
  // for no CPU gained on the bench: hold it near Node 20's size.
  allowYoungGrowth(AUTHORITY_NEW_SPACE_BYTES);
  // The start second: with workers, the process primary's, so every worker starts from the
  // same SOA serial (the merged zones' serial is then the primary's, primary/serials.ts).
  let serial = startedAtSeconds();
  // Every upstream query goes through this pool of long-lived UDP sockets (`upstream.sockets`);
  // a reload that changes the size swaps it, shutdown closes it.
  let client = upstreamClient(config);
  // Upstream timeouts add our own event-loop stalls (upstream/loop-lag.ts): measured from now.
  watchLoopLag();
  // listen.workers > 1: what one worker learns of an upstream's health, every worker knows
  // (upstream/share.ts), and a stale answer one worker holds, every worker can serve.
  const workerSiblings = plan.role === 'worker' ? siblings() : undefined;
  const healthShare =
    workerSiblings === undefined
      ? undefined
      : new HealthShare(workerSiblings, () => runtime.upstreams);
  let cache = new AnswerCache(config.cache);
  // A replica that swapped in a new copy: what the cache holds from that upstream (and every
  // negative answer) is older than the copy, as after a NOTIFY.
  let primary: MergedZonePrimary | null = null;
  const replicaChanged = (upstream: string) => {
    // A copy swapped in: the merged zone may have changed (new serial, NOTIFY).
    primary?.changed();
    try {
      cache.expireNegative();
      cache.expireUpstream(upstream);
    } catch (err) {
      logger.warn({ err, upstream }, 'cache invalidation after a replica change failed');
    }
  };
  // listen.workers > 1: the replicas are the primary's; this worker's follow them
  // (replica/share.ts) and pass a verified NOTIFY on to it.
  const feeds = plan.role === 'worker' ? workerFeeds() : null;
  const replication = (next: AuthorityConfig): ReplicationWiring => ({
    ...replicationKeys(next),
    logger,
    onChange: replicaChanged,
    ...(feeds === null
      ? {}
      : {
          follow: (upstream: string, serial?: number) =>
            feeds.toPrimary(NOTIFY_TOPIC, { upstream, serial } satisfies ReplicaNotify),
        }),
  });
  let runtime = buildRuntime(
    config,
    serial,
    client,
    undefined,
    replication(config),
    healthShare?.changed,
  );
  const followers =
    feeds === null
      ? null
      : followReplicas(
          feeds,
          () => runtime.replicas,
          (err, upstream) =>
            logger.error({ err, upstream }, 'a replica copy from the primary was not applied'),
        );
  if (config.transfer.enabled) {
    const resolved = resolveTsigKeys(config.transfer.keys);
    if (!resolved.ok) throw new Error(resolved.error);
    primary = new MergedZonePrimary({
      settings: config.transfer,
      keys: resolved.keys,
      runtime: () => runtime,
      logger,
      follower: feeds !== null,
    });
    // After the copies' feeds: a serial arrives once this worker holds the copies it covers.
    const follower = primary;
    feeds?.follow(MERGED_SERIAL_TOPIC, (zone, value) => {
      if (typeof value === 'number') follower.adoptSerial(zone, value);
    });
  }
  const registry = createRegistry();
  checkHeapLimit(logger, registry, METRICS_PREFIX);
  const metrics = registerAuthorityMetrics(
    registry,
    () => runtime,
    () => cache,
    config.metrics.corednsCompatible
      ? { server: corednsServerLabel(config.listen.host, config.listen.port) }
      : undefined,
  );

  const handler = createHandler({
    runtime: () => runtime,
    cache: () => cache,
    flights: new SingleFlight<FanoutResult>(),
    metrics,
    logger,
    siblings: workerSiblings,
  });
  const transferPrimary = primary;
  const server = new DnsServer({
    host: config.listen.host,
    port: config.listen.port,
    handler: transferPrimary === null ? handler : routeTransfers(handler, transferPrimary.respond),
    tcpIdleTimeoutMs: config.listen.tcpIdleTimeoutMs,
    maxTcpConnections: config.listen.maxTcpConnections,
    maxTcpConnectionsPerSource: config.listen.maxTcpConnectionsPerSource,
    maxTcpQueuedBytes: config.listen.maxTcpQueuedBytes,
    rateLimit: config.rrl,
    udpBufferBytes: config.listen.udpBufferBytes,
    ...plan.sockets,
    onHandlerError: (err, peer) =>
      logger.error({ err, peer: peer.address }, 'handler failed; answered SERVFAIL'),
  });
  const { port: dnsPort } = await server.listen();
  // The copies and serial feeds were followed before: the primary's first NOTIFY may go. And
  // after each reload: the primary commits only once every worker merges by its config.
  const reportMergeConfig = (running: AuthorityConfig) => {
    const worker = workerIndex();
    if (transferPrimary === null || feeds === null || worker === null) return;
    feeds.toPrimary(MERGED_WORKER_TOPIC, {
      worker,
      config: mergeConfigKey(running),
    } satisfies WorkerMergeConfig);
  };
  reportMergeConfig(config);
  exportCounters(registry, `${METRICS_PREFIX}server_`, () => ({ ...server.counters }), {
    gauges: ['tcpConnections'],
  });
  if (transferPrimary !== null) {
    exportCounters(
      registry,
      `${METRICS_PREFIX}transfer_`,
      () => ({ ...transferPrimary.counters }),
      {
        help: TRANSFER_COUNTER_HELP,
      },
    );
    // Outgoing NOTIFY to the secondaries (`notify_total` counts the incoming ones); with
    // workers, the process primary sends them and exports these.
    const notifyCounters = transferPrimary.notifyCounters;
    if (notifyCounters !== null) {
      exportCounters(registry, `${METRICS_PREFIX}transfer_notify_`, () => ({
        ...notifyCounters,
      }));
    }
  }

  // Ready once every upstream's start-up probe has answered (its RTT is the first sample,
  // so a far cluster is not failed by the initial timeout) or given up after the ceiling:
  // with every cluster down we still answer the apex, stale entries and SERVFAIL quickly,
  // which beats no pod at all. The upstreams' names and health only with
  // ops.readyDetail: the port is open to whoever can reach it.
  const prober = new Prober(
    () => runtime.upstreams,
    () => runtime.limits.probeIntervalMs,
    logger,
  );
  // And once every replica's first pull finished, or ops.readyReplicaWaitSeconds passed
  // (replica/readiness.ts): latched, so a reload that adds a replica never unreadies us.
  const startedAt = Date.now();
  let replicasReady = false;
  const isReady = () => {
    if (!prober.startupSettled) return false;
    replicasReady ||= replicasSettled(
      runtime.replicas.values(),
      Date.now() - startedAt,
      config.ops.readyReplicaWaitSeconds * 1000,
    );
    return replicasReady;
  };
  const ready = () =>
    config.ops.readyDetail
      ? {
          ready: isReady(),
          detail: {
            upstreams: runtime.upstreams.map((u) => ({
              zone: u.zone,
              name: u.name,
              healthy: u.healthy,
            })),
          },
        }
      : isReady();
  // A worker has no ports of its own: the primary serves /metrics, /health, /ready for all.
  const ops = await startProcessOps(plan, config.ops, { registry, ready });
  let explainServer: ExplainServer | null = null;
  if (config.explain.enabled) {
    explainServer = await startExplainServer({
      host: config.explain.host,
      port: config.explain.port,
      token: config.explain.token,
      usage: '/explain?name=NAME&type=A',
      format: formatExplain,
      explain: (params) => {
        const parsed = parseExplainRequest(params.get('name'), params.get('type'));
        // Read at each request: a reload swaps the runtime and the cache.
        return parsed.ok ? explain(runtime, parsed.name, parsed.qtype, cache) : parsed;
      },
    });
  }

  prober.start();
  startReplicas(runtime);
  const sweeper = setInterval(() => {
    try {
      cache.sweep(Date.now());
    } catch (err) {
      logger.warn({ err }, 'cache sweep failed');
    }
  }, CACHE_SWEEP_MS);
  sweeper.unref();

  const apply = (next: AuthorityConfig) => {
    let nextClient = client;
    try {
      serial = Math.max(serial + 1, Math.floor(Date.now() / 1000));
      if (
        next.upstream.sockets !== runtime.config.upstream.sockets ||
        next.upstream.udpBackend !== runtime.config.upstream.udpBackend
      )
        nextClient = upstreamClient(next);
      const built = buildRuntime(
        next,
        serial,
        nextClient,
        runtime,
        replication(next),
        healthShare?.changed,
      );
      warnRestartOnly(logger, runtime.config, next);
      // A new follower takes what the primary's feeds hold already.
      followers?.seed(built.replicas);
      // Before the swap: the zones take the primary's apex (its serial) from the first query.
      primary?.adopt(built);
      let nextCache = cache;
      if (JSON.stringify(next.cache) !== JSON.stringify(runtime.config.cache))
        nextCache = new AnswerCache(next.cache);
      const kept = new Set(built.upstreams.map((u) => u.key));
      const removed = runtime.upstreams.filter((u) => !kept.has(u.key));
      // The swap: one assignment each; in-flight queries finish on the runtime they read.
      const previous = runtime;
      runtime = built;
      cache = nextCache;
      // The old pool closes each socket once its queries in flight are answered or timed out.
      if (nextClient !== client) client.close();
      client = nextClient;
      for (const u of removed) cache.dropUpstream(u.name);
      // A copy no longer served: what the cache took from it gives way to the live upstream.
      for (const stopped of stopReplicas(previous, built)) replicaChanged(stopped.upstream.name);
      startReplicas(built);
      reportMergeConfig(next);
      logger.info(
        {
          zones: [...built.zones.keys()],
          upstreams: built.upstreams.map((u) => `${u.zone}/${u.name}@${u.address}:${u.port}`),
          removed: removed.map((u) => `${u.zone}/${u.name}`),
        },
        'config reloaded',
      );
    } catch (err) {
      if (nextClient !== client) nextClient.close();
      logger.error({ err }, 'config reload failed while building; keeping the running config');
    }
  };
  const watcher = watchConfig(ctx.configPath, {
    load: ctx.load,
    onValid: apply,
    onInvalid: (errors) =>
      logger.error(
        { errors, file: ctx.configPath },
        `config reload rejected: ${errors.join('; ')}; keeping the running config`,
      ),
  });

  onSignals({
    logger,
    lameDuckMs: config.shutdown.lameDuckSeconds * 1000,
    onLameDuck: () => ops.markNotReady(),
    onShutdown: () => ops.markShuttingDown(),
    drain: async () => {
      watcher.close();
      prober.stop();
      stopReplicas(runtime);
      await primary?.stop();
      clearInterval(sweeper);
      await server.close({ drainMs: 5000 });
      await explainServer?.close();
      client.close();
      await ops.close();
    },
  });

  logger.info(
    {
      // The same fields as the gateway's line, so one harness reads both apps.
      dnsHost: config.listen.host,
      dnsPort,
      opsPorts: ops.ports ?? 'primary',
      explainPort: explainServer?.port ?? null,
      // Which UDP socket serves: Bun.udpSocket on Bun, node:dgram on Node.
      udpBackend: server.udpBackend,
      // Which UDP sockets ask the upstreams (`upstream.udpBackend`).
      upstreamUdpBackend: client.udpBackend,
      zones: [...runtime.zones.keys()],
      upstreams: runtime.upstreams.length,
    },
    'listening',
  );
  // After our own line: the primary's "every worker is serving" comes last.
  ops.listening({ dns: dnsPort });
}

/** The pool of upstream sockets `upstream.sockets` and `upstream.udpBackend` ask for. */
function upstreamClient(config: AuthorityConfig): DnsClient {
  return new DnsClient({
    sockets: config.upstream.sockets,
    udpBackend: config.upstream.udpBackend,
  });
}

/** `transfer.keys` resolved, by name, for the replicas. */
function replicationKeys(config: AuthorityConfig): Pick<ReplicationWiring, 'keys'> {
  const resolved = resolveTsigKeys(config.transfer.keys);
  if (!resolved.ok) throw new Error(resolved.error);
  return { keys: new Map(resolved.keys.map((k) => [k.name, k])) };
}

/**
 * listen.workers > 1: the replicas run here, once per process — one set of transfers and
 * timers, one copy of the records — and every check is published to the workers, whose
 * replicas follow (replica/share.ts). A NOTIFY reaches a worker, which verifies it and
 * passes it here. A config change reloads this set as a worker reloads its runtime.
 * With `transfer.enabled` the merged zones' serials are owned here too (primary/serials.ts):
 * one serial per change for every worker, and the one NOTIFY.
 */
function replicasInPrimary(ctx: CliContext<AuthorityConfig>, primary: PrimaryContext): void {
  const logger = primary.logger;
  const publisher = new ReplicaPublisher(primary.feeds, (r) => upstreamKey(r.upstream));
  let serials: MergedSerialOwner | null = null;
  const wiring = (config: AuthorityConfig): ReplicationWiring => ({
    ...replicationKeys(config),
    logger,
    onChecked: (replica) => {
      if (publisher.checked(replica)) serials?.copyChanged(upstreamKey(replica.upstream));
    },
  });
  let replicas = buildReplicas(ctx.config, wiring(ctx.config));
  const config = ctx.config;
  if (config.transfer.enabled) {
    const resolved = resolveTsigKeys(config.transfer.keys);
    if (!resolved.ok) throw new Error(resolved.error);
    serials = new MergedSerialOwner({
      config,
      feeds: primary.feeds,
      keys: resolved.keys,
      replicas: () => replicas,
      logger,
      workers: config.listen.workers,
    });
    const owner = serials;
    primary.feeds.onWorker(MERGED_WORKER_TOPIC, (payload) => {
      const report = payload as WorkerMergeConfig;
      if (typeof report?.worker === 'number' && typeof report.config === 'string') {
        owner.workerReport(report);
      }
    });
    exportCounters(primary.registry, `${METRICS_PREFIX}transfer_notify_`, () => ({
      ...owner.notifyCounters,
    }));
  }
  for (const replica of replicas.values()) replica.start();
  primary.feeds.onWorker(NOTIFY_TOPIC, (payload) => {
    const notify = payload as ReplicaNotify;
    replicas
      .get(String(notify?.upstream))
      ?.notify(typeof notify?.serial === 'number' ? notify.serial : undefined);
  });
  // Lives as long as the primary: its drain ends in process.exit.
  watchConfig(ctx.configPath, {
    load: ctx.load,
    onValid: (next) => {
      try {
        const built = buildReplicas(next, wiring(next), replicas.values());
        const kept = new Set(built.values());
        for (const replica of replicas.values()) {
          if (kept.has(replica)) continue;
          replica.stop();
          publisher.removed(replica);
        }
        replicas = built;
        for (const replica of built.values()) replica.start();
        serials?.reloaded(next);
      } catch (err) {
        logger.error({ err }, 'config reload of the replicas failed; keeping the running ones');
      }
    },
    // Each worker logs the rejection.
    onInvalid: () => {},
  });
}

/** Starts the replicas of `rt` not yet running (a reload keeps the running ones as they are). */
function startReplicas(rt: Runtime): void {
  for (const replica of rt.replicas.values()) replica.start();
}

/** Stops the replicas of `before` that `after` does not keep (all of them without `after`). */
function stopReplicas(before: Runtime, after?: Runtime): Replica[] {
  const kept = new Set(after?.replicas.values() ?? []);
  const stopped: Replica[] = [];
  for (const replica of before.replicas.values()) {
    if (kept.has(replica)) continue;
    replica.stop();
    stopped.push(replica);
  }
  return stopped;
}

/** Keys bound at start: a reload that changes them is applied everywhere else, with a warning. */
function warnRestartOnly(logger: Logger, before: AuthorityConfig, after: AuthorityConfig): void {
  for (const key of ['listen', 'rrl', 'ops', 'explain', 'log', 'metrics', 'shutdown'] as const) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) {
      logger.warn({ key }, `config key "${key}" changed: takes effect on restart`);
    }
  }
  // The primary of the merged zones is bound at start; `transfer.keys` also reload the replicas.
  const { keys: _before, ...primaryBefore } = before.transfer;
  const { keys: _after, ...primaryAfter } = after.transfer;
  if (JSON.stringify(primaryBefore) !== JSON.stringify(primaryAfter)) {
    logger.warn(
      { key: 'transfer' },
      'config key "transfer" (primary) changed: takes effect on restart',
    );
  }
}

const argv = process.argv.slice(2);
if (argv[0] === 'explain') {
  process.exitCode = await explainCli(argv.slice(1), DEFAULT_CONFIG_PATH);
} else if (argv[0] === 'convert-corefile') {
  process.exitCode = await convertCorefileCli(argv.slice(1), {
    name: NAME,
    plugin: 'fanout',
    acceptsZone: true,
    convert: async (blocks, options) => {
      // Read only when a `fanout . /etc/resolv.conf` names it, as CoreDNS does at start.
      const file = blocks
        .flatMap((b) => b.directives)
        .find((d) => d.name === 'fanout' && d.args.slice(1).some((a) => a.startsWith('/')))
        ?.args.slice(1)
        .find((a) => a.startsWith('/'));
      const resolvConf =
        file === undefined ? undefined : await readFile(file, 'utf8').catch(() => undefined);
      return convertAuthorityCorefile(blocks, { ...options, resolvConf });
    },
  });
} else {
  await runCli({
    name: NAME,
    description:
      'Authoritative DNS for the management cluster: fans each query out to every cluster gateway.',
    schema: authorityConfigSchema,
    defaultConfigPath: DEFAULT_CONFIG_PATH,
    envOverrides: AUTHORITY_ENV_OVERRIDES,
    run: start,
  });
}
