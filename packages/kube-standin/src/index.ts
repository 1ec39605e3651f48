export type { Classified, Verb } from './api-handler.js';
export {
  apiVersionOf,
  DEFAULT_KINDS,
  defaultKinds,
  type KindRef,
  type KindSpec,
  kindKey,
} from './kinds.js';
export { kubeconfigYaml } from './kubeconfig.js';
export {
  type RequestRecord,
  Standin,
  type StandinOptions,
  startStandin,
} from './server.js';
export type { KubeObject, ObjectMeta } from './store.js';
