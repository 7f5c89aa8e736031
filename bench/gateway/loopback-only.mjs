// loopback-only.mjs - preload (node --import ./loopback-only.mjs ...) that
// makes every server calling listen(port) with no host bind to 127.0.0.1
// instead of every interface. Portkey's start-server.js calls
// serve({fetch, port}) with no hostname and has no host flag; the gateway
// bench runs it with this preload so nothing listens beyond loopback.
import net from 'node:net';

const HOST = '127.0.0.1';
const orig = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' || (typeof args[0] === 'string' && /^\d+$/.test(args[0]))) {
    if (args[1] === undefined || args[1] === null) args[1] = HOST;
    else if (typeof args[1] === 'function') args.splice(1, 0, HOST);
    else if (typeof args[1] === 'string' && args[1] !== HOST) args[1] = HOST; // '0.0.0.0', '::'
  } else if (args[0] && typeof args[0] === 'object' && !args[0].path) {
    args[0] = { ...args[0], host: HOST };
  }
  return orig.apply(this, args);
};
