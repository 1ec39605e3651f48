export {
  type CliCommand,
  type CliContext,
  EXIT_USAGE,
  parseCliArgs,
  type RunCliOptions,
  runCli,
  usageText,
} from './cli.js';
export { formatPath, formatZodError, formatZodIssues } from './config/format.js';
export {
  applyEnvOverrides,
  type ConfigResult,
  type EnvOverride,
  envParsers,
  loadConfigFile,
  type ParseConfigOptions,
  parseConfigText,
} from './config/load.js';
export { ipAddress, LOG_LEVELS, type LogLevel, logLevel, port } from './config/schemas.js';
export {
  dnsName,
  type ListenConfig,
  type LogConfig,
  listenSchema,
  logSchema,
  type MetricsConfig,
  metricsSchema,
  nameserverSchema,
  type OpsPortsConfig,
  opsPortsSchema,
  type RrlConfig,
  rrlSchema,
  type ShutdownConfig,
  shutdownSchema,
  soaSchema,
  type ZoneConfig,
  zoneApexFromConfig,
  zoneSchema,
  zonesSchema,
} from './config/server.js';
export { type ConfigWatcher, type WatchConfigOptions, watchConfig } from './config/watch.js';
export {
  type ConvertCorefileCli,
  type ConvertCorefileOptions,
  convertCorefileCli,
} from './corefile/cli.js';
export {
  type CorefileConversion,
  convertCommonPlugin,
  convertServerPort,
  newConversion,
  noEquivalent,
  renderConversion,
  setConfig,
} from './corefile/convert.js';
export {
  type CorefileDirective,
  type CorefileParse,
  type CorefileServerBlock,
  parseCorefile,
  parseCorefileDuration,
  splitServerKey,
} from './corefile/parse.js';
export { allowYoungGrowth, holdYoungGeneration } from './heap.js';
export { type CreateLoggerOptions, createLogger, type Logger } from './logger.js';
export {
  checkHeapLimit,
  containerMemoryLimit,
  explicitHeapFlag,
  type HeapLimitReport,
  heapLimitReport,
  OLD_SPACE_PERCENTAGE,
} from './memory-limit.js';
export {
  type CollectedMetric,
  type CollectedValue,
  registerCollected,
} from './metrics/collected.js';
export { type ExportCountersOptions, exportCounters, snakeCase } from './metrics/counters.js';
export {
  corednsServerLabel,
  DNS_DURATION_BUCKETS,
  type DnsQueryMetrics,
  type DnsQueryMetricsOptions,
  dnsQueryMetrics,
  type QueryVia,
  qtypeLabel,
  rcodeLabel,
} from './metrics/dns.js';
export { type CreateRegistryOptions, createRegistry } from './metrics/registry.js';
export {
  type MetricsSource,
  type OpsServer,
  type OpsServerOptions,
  planListeners,
  type ReadyState,
  readyReply,
  startOpsServer,
} from './server.js';
export {
  type OnSignalsOptions as SignalOptions,
  onSignals,
  type SignalHandlers,
} from './signals.js';
export {
  type AskWhat,
  combineHealth,
  combineReady,
  restartDelayMs,
  type WorkerReady,
} from './workers/ipc.js';
export {
  type PrimaryOptions,
  runPrimary,
  type SuperviseOptions,
  superviseWorkers,
} from './workers/primary.js';
export {
  type ListenSocketOptions,
  type ListenWorkersConfig,
  listenSocketOptions,
  planWorkers,
  type SocketModeInput,
  supportsReusePort,
  type WorkerPlan,
  type WorkerSocketsSetting,
  workerSocketMode,
} from './workers/sockets.js';
export {
  type ProcessOps,
  type SiblingListener,
  type Siblings,
  siblings,
  startProcessOps,
  startWorkerOps,
  type WorkerOps,
  type WorkerOpsOptions,
  workerIndex,
  workerPlan,
} from './workers/worker.js';
