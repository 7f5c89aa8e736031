// The mock provider over real HTTP, on the loopback interface only. The logic
// is in ./index.js; this file only carries its plans onto sockets:
// `down` and scripted `net` answers destroy the socket, a cut stream destroys
// it mid-body, a client that goes away cancels the plan's timers.
import { createServer, STATUS_CODES } from 'node:http';
import { createMockProvider, errorBody } from './index.js';

export * from './index.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
const MAX_BODY = 16 * 1024 * 1024;

/**
 * Serves `provider` over HTTP. Deployment N is at `${url}/N`.
 *
 * @param {ReturnType<typeof createMockProvider>} provider
 * @param {{ host?: string, port?: number }} [opts] host must be a loopback name
 *   (default 127.0.0.1); port 0 (the default) picks a free one
 * @returns {Promise<{ url: string, port: number, close(): Promise<void> }>}
 */
export async function startMockServer(provider, opts = {}) {
  const host = opts.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new Error(`switchyard/mock: refusing to listen on ${host}: the mock serves the loopback interface only`);
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @type {Set<(why?: string) => void>} */
  const active = new Set();

  const server = createServer((req, res) => {
    serve(provider, req, res, active).catch(() => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(errorBody('openai', 500).body);
      } else res.destroy();
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve(undefined);
    });
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing = null;
  return {
    url: `http://${shown}:${address.port}`,
    port: address.port,
    close() {
      closing ??= new Promise((resolve) => {
        for (const cancel of active) cancel('aborted');
        active.clear();
        server.close(() => resolve(undefined));
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** Alias of startMockServer. */
export const listen = startMockServer;

/**
 * A provider and its server in one call.
 * @param {Parameters<typeof createMockProvider>[0] & { host?: string, port?: number }} [options]
 */
export async function createMockServer(options = {}) {
  const provider = createMockProvider(options);
  const server = await startMockServer(provider, { host: options.host, port: options.port });
  return { provider, ...server };
}

/**
 * @param {ReturnType<typeof createMockProvider>} provider
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {Set<(why?: string) => void>} active
 */
async function serve(provider, req, res, active) {
  const chunks = [];
  let size = 0;
  for await (const c of req) {
    size += c.length;
    if (size > MAX_BODY) {
      const e = errorBody('openai', 413, { message: `Request body too large: the limit is ${MAX_BODY} bytes.` });
      res.writeHead(413, { ...e.headers, connection: 'close' });
      res.end(e.body);
      return;
    }
    chunks.push(c);
  }
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i], req.rawHeaders[i + 1]);

  /** @type {((why?: string) => void) | null} */
  let cancel = null;
  let gone = false;
  res.on('close', () => {
    if (res.writableFinished) return;
    gone = true;
    if (cancel) {
      cancel('aborted');
      active.delete(cancel);
    }
  });

  const plan = await provider.handle({
    method: req.method,
    url: req.url ?? '/',
    headers,
    body: Buffer.concat(chunks).toString('utf8'),
  });
  if (gone) {
    plan.call.outcome = 'aborted';
    plan.call.end = provider.clock.now();
    return;
  }
  let over = false;
  const finish = () => {
    over = true;
    if (cancel) active.delete(cancel);
  };
  cancel = provider.play(plan, {
    refuse() {
      finish();
      req.socket.destroy();
    },
    head(status, h) {
      const out = { ...h };
      if (plan.type === 'http' && plan.body !== undefined) out['content-length'] = String(Buffer.byteLength(plan.body));
      res.writeHead(status, STATUS_CODES[status] ?? (status === 529 ? 'Site Overloaded' : 'Unknown'), out);
      if (plan.type === 'http' && plan.frames) res.flushHeaders();
    },
    write(text) {
      if (text) res.write(text);
    },
    end() {
      finish();
      res.end();
    },
    cut() {
      finish();
      // Drop the connection in the middle of the chunked body.
      res.socket?.destroy();
    },
  });
  if (!over && !gone) active.add(cancel);
}
