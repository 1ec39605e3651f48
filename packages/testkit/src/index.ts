export type { DelayProxy, DelayProxyOptions } from './delay-proxy.js';
export { roundTripMs, startDelayProxy } from './delay-proxy.js';
export type { DelayProxyThread } from './thread.js';
export { startDelayProxyThread } from './thread.js';
