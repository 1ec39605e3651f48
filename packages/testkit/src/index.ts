export type { DelayProxy, DelayProxyOptions } from './delay-proxy.js';
export { jittered, startDelayProxy } from './delay-proxy.js';
