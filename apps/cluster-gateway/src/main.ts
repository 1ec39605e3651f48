// Side-effect modules: runtime-warnings.ts (first, before any dependency can warn) and
// heap-tuning.ts (holds the young generation before the sources allocate).
import './runtime-warnings.js';
import {
  checkHeapLimit,
  convertCorefileCli,
  corednsServerLabel,
  createLogger,
  createRegistry,
  createTransferResponder,
  exportCounters,
  type Logger,
  Notifier,
  newTransferCounters,
  onSignals,
  type PrimaryContext,
  resolveTsigKeys,
  runCli,
  serverResolver,
  startExplainServer,
  startedAtSeconds,
  startProcessOps,
  superviseWorkers,
  workerFeeds,
  workerIndex,
  ZoneVersions,
  zoneApexFromConfig,
  zoneSchema,
} from '@mdns/ops';
import {
  negativeSoa,
  normalizeName,
  type RuleZone,
  type TsigKey,
  type ZoneApex,
  ZoneSet,
} from '@mdns/protocol';
import { addressSet, DnsServer } from '@mdns/transport';
import { convertGatewayCorefile } from './config/corefile.js';
import { DEFAULT_CONFIG_PATH, GATEWAY_ENV_OVERRIDES } from './config/env.js';
import { type GatewayConfig, gatewayConfigSchema } from './config/schema.js';
import { createGatewayHandler } from './dns/handler.js';
import { explainReport, formatReport } from './explain/report.js';
import { allowSteadyYoungGrowth, compactAfterStartup } from './heap-tuning.js';
import { GatewayIndex } from './index/gateway-index.js';
import { readinessDetail, SyncLatch } from './index/readiness.js';
import { ReverseIndex } from './index/reverse.js';
import { gatewayZoneNames } from './index/zone-names.js';
import { METRICS_PREFIX, registerGatewayMetrics, registerSourceMetrics } from './metrics.js';
import { newRejectionCounts } from './sources/claims/context.js';
import { HeldNames } from './sources/health/held-names.js';
import { HealthTally } from './sources/health/tally.js';
import { createSources, sourcesEnabled } from './sources/index.js';
import {
  followClaims,
  publishingSink,
  publishSerials,
  teeSink,
  WORKER_SYNCED_TOPIC,
} from './sources/share.js';
import type { IndexSink, Source } from './sources/types.js';

const NAME = 'cluster-gateway';

/** Wires config -> sources -> index -> DNS server + ops server, and drains on SIGTERM. */
async function run(config: GatewayConfig): Promise<void> {
  const logger = createLogger({ name: NAME, level: config.log.level });
  // listen.workers > 1: the primary supervises and runs the sources once (one list+watch
  // per resource per process), publishing each object's claims (null here). Each worker
  // runs the rest, its index following the primary's feed.
  const plan = await superviseWorkers({
    name: NAME,
    listen: config.listen,
    ops: config.ops,
    logger,
    metricsPrefix: METRICS_PREFIX,
    lameDuckMs: config.shutdown.lameDuckSeconds * 1000,
    primary: (primary) => sourcesInPrimary(config, primary),
  });
  if (plan === null) return;
  const feeds = plan.role === 'worker' ? workerFeeds() : null;
  const { zones, reverseZones, zoneSet } = zoneNames(config);
  const kinds = config.sources.resources;
  const sourcesLogger = logger.child({ component: 'sources' });
  const rejected = newRejectionCounts();
  const healthTally = new HealthTally();
  // Start-up ends with the first full sync and, with Kubernetes, every watched kind's first
  // list (EndpointSlices and Gateways are not part of the sync): then one compaction.
  // A worker runs no source: its index is whole once the feed says every kind synced.
  const startupDone = compactAfterStartup(
    config.sources.kubernetes.enabled && feeds === null ? ['index', 'kubernetes'] : ['index'],
    logger,
  );
  // With no source enabled nothing will ever sync: serve the apex rather than SERVFAIL forever.
  if (!sourcesEnabled(config.sources)) {
    logger.warn('no source enabled: only the zone apex will answer');
  }
  // A worker follows the primary's serial (`follower`): it never commits nor notifies itself.
  const { apexes, index, held, latch, versions, notifier, tsigKeys } = zoneCore(config, logger, {
    follower: feeds !== null,
    onSynced: () => {
      logger.info({ names: index.size }, 'first full sync done: answering from the index');
      allowSteadyYoungGrowth();
      startupDone('index');
      // The primary sends the first NOTIFY once every worker has the zone.
      feeds?.toPrimary(WORKER_SYNCED_TOPIC, workerIndex());
    },
  });
  index.onContest((c) =>
    sourcesLogger.warn(
      { name: c.name, owner: c.owner, refused: c.refused },
      `${c.name}: claimed first by ${c.owner} (namespace ${c.namespace}); refused: ${c.refused.join(', ')} (sources.ownership.conflicts: first-claimant)`,
    ),
  );
  const sources: Source[] =
    feeds === null
      ? createSources(config.sources, {
          zones,
          defaultTtl: config.ttl,
          logger: sourcesLogger,
          rejected,
          healthTally,
          onKubernetesListed: () => startupDone('kubernetes'),
        })
      : [];
  const ruleZones = new Map<string, RuleZone>(
    [...apexes].map(([name, apex]) => [name, { name, apex, negativeSoa: negativeSoa(apex) }]),
  );
  const transfer = config.transfer;
  const transferCounters = newTransferCounters();

  const reverseSet = new Set(reverseZones);
  const reverse = new ReverseIndex(reverseZones, index);

  const registry = createRegistry();
  checkHeapLimit(logger, registry, METRICS_PREFIX);
  const handler = createGatewayHandler({
    source: {
      zoneOf: (name) => {
        const zone = zoneSet.match(name);
        return zone === undefined ? undefined : ruleZones.get(zone);
      },
      lookup: (name, zone) =>
        reverseSet.has(zone) ? reverse.lookup(name, zone) : held.lookup(name, zone),
      ready: () => latch.synced(),
    },
    // A new serial changes the SOA in answers, a held name NXDOMAIN into NODATA: built answers go.
    generation: () => index.generation + held.generation + versions.commits,
    serverUdpSize: config.listen.udpSize,
    transfer: transfer.enabled
      ? createTransferResponder({
          enabled: true,
          versions,
          allow: addressSet(transfer.allow),
          keys: [...tsigKeys.values()],
          maxMessageBytes: transfer.maxMessageBytes,
          fudgeSeconds: transfer.fudgeSeconds,
          ready: () => latch.synced(),
          notReadyWhy: () => 'index not synced yet',
          counters: transferCounters,
          logger: logger.child({ component: 'transfer' }),
        })
      : undefined,
    // `queryMetrics` is assigned below (it needs the handler's counters), before any query.
    observe: (zone, qtype, rcode, seconds, via) =>
      queryMetrics.observe(zone, qtype, rcode, seconds, via),
  });
  const dnsServer = new DnsServer({
    host: config.listen.host,
    port: config.listen.port,
    tcpIdleTimeoutMs: config.listen.tcpIdleTimeoutMs,
    maxTcpConnections: config.listen.maxTcpConnections,
    maxTcpConnectionsPerSource: config.listen.maxTcpConnectionsPerSource,
    maxTcpQueuedBytes: config.listen.maxTcpQueuedBytes,
    rateLimit: config.rrl,
    udpBufferBytes: config.listen.udpBufferBytes,
    ...plan.sockets,
    handler: handler.handle,
    onHandlerError: (err, peer) =>
      logger.error(
        { err, peer: `${peer.address}:${peer.port}` },
        'handler failed: answered SERVFAIL',
      ),
  });
  const queryMetrics = registerGatewayMetrics({
    registry,
    kinds,
    index,
    transport: () => dnsServer.counters as unknown as Record<string, unknown>,
    handler: handler.counters,
    // A worker sends no NOTIFY: the primary exports its own counters.
    notify: feeds === null ? notifier.counters : null,
    transfer: transferCounters,
    ready: () => latch.synced(),
    coredns: config.metrics.corednsCompatible
      ? { server: corednsServerLabel(config.listen.host, config.listen.port) }
      : undefined,
    // A worker's sources are the primary's: the primary exports what they count.
    sources: feeds === null ? { rejected, health: healthTally } : null,
  });

  const { port } = await dnsServer.listen();
  const ready = () => ({
    ready: latch.synced(),
    detail: {
      names: index.size,
      generation: index.generation,
      kinds: readinessDetail(kinds, index.kindStates(), index.namesPerKind(), Date.now()),
    },
  });
  // A worker has no ports of its own: the primary serves /metrics, /health, /ready for all.
  const ops = await startProcessOps(plan, config.ops, { registry, ready });

  // One explain server per process: with workers, the primary's (it holds the sources).
  const explainServer =
    config.explain.enabled && feeds === null
      ? await startGatewayExplain(config, zoneSet, reverseZones, held, sources)
      : null;

  // Sources start in the background: until they sync, in-zone queries get SERVFAIL.
  startSources(sources, held.sink(index), logger);
  // A worker's objects come from the primary: a restarted one gets them all again first.
  // Its serial is the primary's: each arrives once the worker holds the data it names.
  if (feeds !== null) {
    followClaims(feeds, held.sink(index), (zone, serial) =>
      versions.adopt(zone, serial, latch.synced()),
    );
  }

  onSignals({
    logger,
    // Without a handler SIGHUP (the usual "reload" signal) terminated the process and took
    // the zone down (found by reliability/). There is nothing to reload yet: say so, keep serving.
    hup: () =>
      logger.warn('SIGHUP: the gateway does not reload its config; restart it to apply changes'),
    lameDuckMs: config.shutdown.lameDuckSeconds * 1000,
    onLameDuck: () => ops.markNotReady(),
    onShutdown: () => ops.markShuttingDown(),
    drain: () => {
      versions.stop();
      return drain(logger, { sources, notifier, dnsServer, ops, explainServer });
    },
  });

  logger.info(
    {
      // The same fields as the authority's line, so one harness reads both apps.
      dnsHost: config.listen.host,
      dnsPort: port,
      opsPorts: ops.ports ?? 'primary',
      explainPort: explainServer?.port ?? null,
      // Which UDP socket serves: Bun.udpSocket on Bun, node:dgram on Node.
      udpBackend: dnsServer.udpBackend,
      zones,
      kinds,
    },
    'listening',
  );
  // Last, once the signal handlers are in: a harness (or an operator's script) that
  // reacts to this line with SIGHUP or SIGTERM must not meet Node's default handlers.
  // After our own line: the primary's "every worker is serving" comes last.
  ops.listening({ dns: port });
}

/** What answers and transfers read: the index, its held names, the sync latch, the versions. */
interface ZoneCore {
  apexes: Map<string, ZoneApex>;
  index: GatewayIndex;
  held: HeldNames;
  latch: SyncLatch;
  versions: ZoneVersions;
  notifier: Notifier;
  tsigKeys: Map<string, TsigKey>;
}

/**
 * The zones' state, built the same in a single process, in the primary of several workers
 * (which owns the serial: it commits and notifies) and in each worker (`follower`: its
 * serial is the primary's, `ZoneVersions.adopt`, and it sends no NOTIFY).
 */
function zoneCore(
  config: GatewayConfig,
  logger: Logger,
  options: {
    follower: boolean;
    onSynced: () => void;
    onCommit?: (zones: readonly string[]) => void;
    /** false: hold the NOTIFYs (the primary, until every worker answers with the data). */
    mayNotify?: () => boolean;
  },
): ZoneCore {
  const { zones, reverseZones, zoneSet } = zoneNames(config);
  // One serial per process start: every answer agrees until the next start. With workers,
  // the primary's start second, so every worker starts from the same serial.
  const serial = startedAtSeconds();
  const apexes = new Map<string, ZoneApex>(
    config.zones.map((z) => [normalizeName(z.name), zoneApexFromConfig(z, serial)]),
  );
  // A reverse zone: the default SOA, the first zone's nameservers (the same servers).
  for (const name of reverseZones) {
    const zone = zoneSchema.parse({ name, nameservers: config.zones[0].nameservers });
    apexes.set(name, zoneApexFromConfig(zone, serial));
  }
  const kinds = config.sources.resources;
  const index = new GatewayIndex(kinds, config.sources.ownership.conflicts);
  const latch = new SyncLatch(
    sourcesEnabled(config.sources) ? kinds : [],
    () => index.kindStates(),
    () => {
      // The synced data is the zone at the start serial, not a change after it: nothing
      // was served before (SERVFAIL, transfers refused), and so every worker, whenever its
      // own sync ended, holds this data at the same serial. The secondaries are told.
      versions.baseline();
      options.onSynced();
    },
  );
  // Close the latch as soon as the last kind settles, not at the next query.
  index.onKindState(() => latch.synced());

  const transfer = config.transfer;
  const resolvedKeys = resolveTsigKeys(transfer.keys);
  if (!resolvedKeys.ok) throw new Error(resolvedKeys.error);
  const tsigKeys = new Map(resolvedKeys.keys.map((k) => [k.name, k]));

  const resolver = config.notify.resolver;
  const notifier = new Notifier({
    targets: config.notify.targets,
    resolve: resolver ? serverResolver(resolver.address, resolver.port) : undefined,
    zones: config.notify.zones?.map(normalizeName) ?? zones,
    // The debounce happens once, in ZoneVersions: a NOTIFY follows each new serial at once.
    debounceMs: 0,
    timeoutMs: config.notify.timeoutMs,
    retries: config.notify.retries,
    logger: logger.child({ component: 'notify' }),
    soa: (zone) => apexes.get(zone),
    key: (name) => tsigKeys.get(normalizeName(name)),
  });
  // Before the first full sync the data is still being loaded: no serial moves (the sync
  // itself is the baseline, above). A follower's serial moves when its primary's does.
  const dataChanged = () => {
    if (!options.follower && latch.synced()) versions.changed();
  };
  // Names held back for health answer NODATA, not NXDOMAIN; their changes are data changes.
  const held = new HeldNames((name, zone) => index.lookup(name, zone), dataChanged);
  // The zone's serial moves with its data; the records and journal only serve transfers:
  // the index's records and a marker at each held name, committed name by name.
  const versions = new ZoneVersions({
    apexes: zones.map((z) => apexes.get(z)!),
    names: transfer.enabled
      ? gatewayZoneNames(index, held, (apex, name) => zoneSet.match(name) === apex.zone)
      : undefined,
    journal: transfer.journal,
    debounceMs: config.notify.debounceMs,
    onCommit: options.follower
      ? undefined
      : (changed) => {
          if (options.mayNotify?.() ?? true) notifier.changed();
          options.onCommit?.(changed);
        },
  });
  index.onChange(dataChanged);
  return { apexes, index, held, latch, versions, notifier, tsigKeys };
}

/** The served zones and reverse zones (normalized) and the set that matches a name to one. */
function zoneNames(config: GatewayConfig): {
  zones: string[];
  reverseZones: string[];
  zoneSet: ZoneSet;
} {
  const zones = config.zones.map((z) => normalizeName(z.name));
  const reverseZones = config.reverseZones.map(normalizeName);
  return { zones, reverseZones, zoneSet: new ZoneSet([...zones, ...reverseZones]) };
}

function startSources(sources: Source[], sink: IndexSink, logger: Logger): void {
  for (const source of sources) {
    source.start(sink).catch((err: unknown) => logger.error({ err }, 'source failed to start'));
  }
}

/** The explain endpoint: what each object claims on a name, and what the index answers. */
function startGatewayExplain(
  config: GatewayConfig,
  zoneSet: ZoneSet,
  reverseZones: readonly string[],
  held: HeldNames,
  sources: readonly Source[],
) {
  const reverseSet = new Set(reverseZones);
  return startExplainServer({
    host: config.explain.host,
    port: config.explain.port,
    usage: '/explain?name=NAME',
    format: formatReport,
    explain: (params) => {
      const name = params.get('name');
      if (!name) return { error: 'name is required' };
      const normalized = normalizeName(name);
      const zone = zoneSet.match(normalized) ?? null;
      // Reverse zones answer PTR from the addresses, not from claims: nothing to explain.
      return explainReport(
        normalized,
        zone,
        zone === null || reverseSet.has(zone) ? null : held.lookup(normalized, zone),
        sources.flatMap((s) => s.explain?.(normalized) ?? []),
      );
    },
  });
}

/**
 * The primary's part with listen.workers > 1: the sources, once per process. Their calls go
 * to the workers (the claims feed) and to an index of the primary's own, which the explain
 * endpoint and the source metrics read. It lives as long as the primary (whose drain ends
 * the process): the watches need no stop of their own.
 */
async function sourcesInPrimary(config: GatewayConfig, primary: PrimaryContext): Promise<void> {
  const { logger } = primary;
  const { zones, reverseZones, zoneSet } = zoneNames(config);
  const kinds = config.sources.resources;
  // The serial is owned here: one commit per change, published to the workers after the
  // claims it covers, and one NOTIFY per change (not one per worker).
  // The primary syncs before its workers answer: a secondary told at once would find no
  // worker with the zone. The first NOTIFY waits for every worker's first sync (it carries
  // the serial then, which covers any commit before it); a restarted worker adds none.
  const synced = new Set<number>();
  const allSynced = () => synced.size >= config.listen.workers;
  const { index, held, versions, notifier } = zoneCore(config, logger, {
    follower: false,
    onSynced: () => logger.info({ names: index.size }, 'first full sync done (primary)'),
    onCommit: (changed) =>
      publishSerials(primary.feeds, changed, (zone) => versions.zone(zone)?.apex.soa.serial),
    mayNotify: allSynced,
  });
  primary.feeds.onWorker(WORKER_SYNCED_TOPIC, (worker) => {
    if (allSynced() || typeof worker !== 'number') return;
    synced.add(worker);
    if (allSynced()) notifier.changed();
  });
  exportCounters(primary.registry, `${METRICS_PREFIX}notify_`, () => ({ ...notifier.counters }));
  const rejected = newRejectionCounts();
  const healthTally = new HealthTally();
  const sources = createSources(config.sources, {
    zones,
    defaultTtl: config.ttl,
    logger: logger.child({ component: 'sources' }),
    rejected,
    healthTally,
  });
  registerSourceMetrics(primary.registry, kinds, index, { rejected, health: healthTally });
  startSources(sources, teeSink(held.sink(index), publishingSink(primary.feeds)), logger);
  if (config.explain.enabled) {
    const server = await startGatewayExplain(config, zoneSet, reverseZones, held, sources);
    logger.info({ explainPort: server.port }, 'explain endpoint listening');
  }
}

async function drain(
  logger: Logger,
  parts: {
    sources: { stop(): Promise<void> }[];
    notifier: Notifier;
    dnsServer: DnsServer;
    ops: { close(): Promise<void> };
    explainServer: { close(): Promise<void> } | null;
  },
): Promise<void> {
  // Answer what is in flight first, then stop watching: the index stays valid meanwhile.
  await parts.dnsServer.close({ drainMs: 2000 });
  const stops = await Promise.allSettled([
    ...parts.sources.map((s) => s.stop()),
    parts.notifier.stop(),
    parts.explainServer?.close(),
  ]);
  for (const s of stops) if (s.status === 'rejected') logger.warn({ err: s.reason }, 'stop failed');
  await parts.ops.close();
}

const argv = process.argv.slice(2);
if (argv[0] === 'convert-corefile') {
  process.exitCode = await convertCorefileCli(argv.slice(1), {
    name: NAME,
    plugin: 'k8s_gateway',
    acceptsZone: false,
    convert: async (blocks) => convertGatewayCorefile(blocks),
  });
} else {
  await runCli({
    name: NAME,
    description: 'Per-cluster DNS server: Kubernetes objects -> names in the configured zones.',
    schema: gatewayConfigSchema,
    defaultConfigPath: DEFAULT_CONFIG_PATH,
    envOverrides: GATEWAY_ENV_OVERRIDES,
    run: ({ config }) => run(config),
  });
}
