// Preloaded (--import) into cluster workers by cluster-main.mjs. The transport binds its
// listeners with `exclusive: true`, which in a cluster worker means "my own socket" and
// fails with EADDRINUSE for the second worker on Node < 22.12 (no reusePort). Sharing the
// primary's socket instead is the multi-process mode a `workers` option would give the
// apps. Bench-only; never loaded by the apps themselves.
import dgram from 'node:dgram';
import net from 'node:net';

// Listeners on a fixed port are shared. A port-0 socket (an upstream query's random
// source port) must stay the worker's own — Node's cluster would otherwise share ONE
// such socket among all workers and hand replies to the wrong worker — so it is made
// exclusive even when bound as `bind(0, cb)`.
function dgramOptions(args) {
  if (args[0] !== null && typeof args[0] === 'object') {
    const opts = args[0];
    return [{ ...opts, exclusive: !(opts.port > 0) }, ...args.slice(1)];
  }
  const port = typeof args[0] === 'number' ? args[0] : 0;
  const address = typeof args[1] === 'string' ? args[1] : undefined;
  const callback = args.find((a) => typeof a === 'function');
  const opts = { port, exclusive: !(port > 0) };
  if (address) opts.address = address;
  return callback ? [opts, callback] : [opts];
}

const bind = dgram.Socket.prototype.bind;
dgram.Socket.prototype.bind = function bindShared(...args) {
  return bind.apply(this, dgramOptions(args));
};

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function listenShared(opts, ...rest) {
  const shared =
    opts !== null && typeof opts === 'object' && !Array.isArray(opts) && opts.port > 0
      ? { ...opts, exclusive: false }
      : opts;
  return listen.call(this, shared, ...rest);
};
