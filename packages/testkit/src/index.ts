export type { AppName, AppProcessOptions, LogLine, MemorySample, OpsPorts } from './app-process.js';
export {
  AppProcess,
  appMain,
  assertBuilt,
  type KdigKey,
  kdigAxfr,
  kdigRecords,
  readMemory,
  runApp,
  runTool,
  soaSerial,
} from './app-process.js';
export { bunBinary, defaultRuntime, type Runtime, runtimeBinary } from './bun.js';
export { BusyUpstream, busyWait } from './busy-upstream.js';
export type { ConfigDocProblems, ParsingSchema } from './config-docs.js';
export { configDocProblems } from './config-docs.js';
export type { DelayProxy, DelayProxyOptions } from './delay-proxy.js';
export { roundTripMs, startDelayProxy } from './delay-proxy.js';
export type { DnsPeer, PeerQuery } from './dns-peer.js';
export { startDnsPeer } from './dns-peer.js';
export type { Knotd } from './knot.js';
export { freePort, knotSecondaryOf, startKnotd } from './knot.js';
export type { LabNode, NetLab } from './netns.js';
export { createNetLab, LAB_PREFIX, netLabUnavailable, removeStaleLabs } from './netns.js';
export { node24 } from './node24.js';
export { seededRandom } from './seeded.js';
export { netCoreSysctl, udpSocketMemory } from './socket-memory.js';
export type { TempDir } from './temp-dir.js';
export { tempDir } from './temp-dir.js';
export type { DelayProxyThread } from './thread.js';
export { startDelayProxyThread } from './thread.js';
export type { UdpExchangeOptions } from './udp-exchange.js';
export { udpExchange } from './udp-exchange.js';
export type { Unbound } from './unbound.js';
export { startUnbound } from './unbound.js';
export { until } from './until.js';
export {
  fixedListenPort,
  listenOf,
  WORKER_COUNTS,
  workersListenPort,
  yamlWithListenPort,
  yamlWithWorkers,
} from './workers.js';
