export type { ConfigDocProblems, ParsingSchema } from './config-docs.js';
export { configDocProblems } from './config-docs.js';
export type { DelayProxy, DelayProxyOptions } from './delay-proxy.js';
export { roundTripMs, startDelayProxy } from './delay-proxy.js';
export type { Knotd } from './knot.js';
export { freePort, startKnotd } from './knot.js';
export { node24 } from './node24.js';
export type { DelayProxyThread } from './thread.js';
export { startDelayProxyThread } from './thread.js';
