// The attacker of neighbours.mjs on a thread of its own, so its send loop does not delay the
// neighbour's replies (both would share one event loop otherwise).
import { parentPort, workerData } from 'node:worker_threads';
import { notifyPacket, randomNameQuery, udpFlood, ZONE } from '../dist/index.js';

const { attack, zone, ...options } = workerData;
const packet =
  attack === 'names' ? (i) => randomNameQuery(zone, 'flood-', i) : () => notifyPacket(ZONE);
parentPort.postMessage(await udpFlood({ ...options, packet }));
