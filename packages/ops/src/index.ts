export { type CliContext, EXIT_USAGE, runCli } from './cli.js';
export { type EnvOverride, envParsers, loadConfigFile, parseConfigText } from './config/load.js';
export { ipAddress, port } from './config/schemas.js';
export {
  dnsName,
  opsPortsSchema,
  serverKeys,
  zoneApexFromConfig,
  zoneSchema,
  zonesSchema,
} from './config/server.js';
export {
  resolveTsigKeys,
  type SecretSources,
  type TsigKeyConfig,
  tsigKeyName,
  tsigKeySchema,
  tsigKeysSchema,
} from './config/tsig-keys.js';
export { watchConfig } from './config/watch.js';
export { convertCorefileCli } from './corefile/cli.js';
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
  type CorefileServerBlock,
  parseCorefile,
  parseCorefileDuration,
  splitServerKey,
} from './corefile/parse.js';
export {
  authorized,
  type ExplainEndpoint,
  type ExplainServer,
  startExplainServer,
} from './explain-server.js';
export {
  allowYoungGrowth,
  compactHeap,
  type HeapCompaction,
  holdYoungGeneration,
  limitOldGenerationGrowth,
  restoreOldGenerationGrowth,
} from './heap.js';
export { LogGate } from './log-gate.js';
export { createLogger, type Logger } from './logger.js';
export { checkHeapLimit, containerMemoryLimit } from './memory-limit.js';
export { registerCollected } from './metrics/collected.js';
export { exportCounters } from './metrics/counters.js';
export {
  corednsServerLabel,
  type DnsQueryMetrics,
  dnsQueryMetrics,
  type QueryVia,
  rcodeLabel,
} from './metrics/dns.js';
export { createRegistry } from './metrics/registry.js';
export { isNotifyAck, notifyMessage } from './notify/message.js';
export {
  Notifier,
  type NotifierLogger,
  type NotifierOptions,
  type NotifyCounters,
} from './notify/notifier.js';
export { notifyTargetSchema } from './notify/schema.js';
export {
  type HostResolver,
  type NotifyTarget,
  type NotifyTargetConfig,
  type ResolvedTargets,
  resolveTargets,
  serverResolver,
  systemResolver,
} from './notify/targets.js';
export { onSignals } from './signals.js';
export {
  createTransferResponder,
  newTransferCounters,
  TRANSFER_COUNTER_HELP,
  type TransferCounters,
  type TransferLogger,
  type TransferPeer,
  type TransferResponderOptions,
} from './transfer/responder.js';
export {
  checkTransfer,
  type TransferConfig,
  transferFields,
  transferSchema,
} from './transfer/schema.js';
export {
  type ZoneNames,
  type ZoneVersion,
  ZoneVersions,
  type ZoneVersionsOptions,
} from './transfer/versions.js';
export {
  FeedHub,
  type FeedListener,
  type PrimaryFeeds,
  type WorkerFeeds,
  workerFeeds,
  workerFeedsOver,
} from './workers/feed.js';
export {
  type PrimaryContext,
  type PrimaryPart,
  superviseWorkers,
  workerStartSecond,
} from './workers/primary.js';
export {
  type SiblingAnswerer,
  type SiblingListener,
  type Siblings,
  siblings,
  startedAtSeconds,
  startProcessOps,
  workerIndex,
} from './workers/worker.js';
