import dns from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string,
  family: number,
) => void;

/**
 * `node:dgram`'s `lookup` for sockets that are given IP literals (a client's address from
 * `rinfo`, an upstream's canonical IP). Node's default, `dns.lookup`, answers an IP literal
 * on the next tick: every `send` then costs a `process.nextTick`, its tick object and a
 * deferred `doSend`. Called back at once, the datagram leaves inside `send`, as it does on a
 * connected socket (issue 15). Anything that is not an IP literal of the socket's family
 * still goes to `dns.lookup`, unchanged. Node passes the family as a number (4 or 6).
 */
export function ipLiteralLookup(
  address: string,
  options: number | dns.LookupOneOptions,
  callback: LookupCallback,
): void {
  const family = typeof options === 'number' ? options : Number(options.family ?? 0);
  if (family !== 0 && isIP(address) === family) {
    callback(null, address, family);
    return;
  }
  dns.lookup(address, options as dns.LookupOneOptions, callback);
}
