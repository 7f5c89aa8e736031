// The OpenAI-compatible gateway on Node: node:http in and out around the
// runtime-neutral handler of js/http.js (paths, auth, answers, SSE), which
// the Worker shares. Every routing decision stays in the core.
import { createServer } from 'node:http';
import { createHash } from 'node:crypto';
import { Router } from './index.js';
import { createHandler, keyCheck as createKeyCheck } from './http.js';
import { resolveConfig } from './config.js';
import { Metrics } from './metrics.js';
import { Alerts } from './alerts.js';
import { Dashboard, isPagePath } from './ui/server.js';

// A request target that is a plain absolute path (letters, digits, _, -, /;
// not "//", which URL reads as a host) is its own pathname: URL is only
// needed for queries, escapes, dot segments and absolute forms.
const PLAIN_PATH = /^\/(?!\/)[\w/-]*$/;
const pathOf = (target) => (PLAIN_PATH.test(target) ? target : new URL(target, 'http://gateway').pathname);

/**
 * |req|'s body, chunk by chunk, for the handler's one pass over it: lighter
 * than the stream's own async iterator (an end-of-stream watcher with its
 * listeners, and a promise per step, about 4 KB of garbage a request).
 * Chunks that have arrived come out at once; next() waits only when none
 * has. Left early (a body over the limit), what still arrives is dropped
 * while the answer goes out; once it is out, Node closes a connection
 * whose request never ended, so a client cannot keep it reading
 * (tests/js/gateway.test.js).
 * @param {import('node:http').IncomingMessage} req
 * @returns {AsyncIterableIterator<Uint8Array>}
 */
function chunksOf(req) {
  const chunks = [];
  let ended = false, left = false, failed = null, wake = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  req.on('data', (c) => { if (!left) chunks.push(c); notify(); });
  req.on('end', () => { ended = true; notify(); });
  req.on('error', (err) => { failed ??= err; notify(); });
  req.on('close', () => { if (!ended) failed ??= new Error('the request closed before its body ended'); notify(); });
  return {
    async next() {
      while (!chunks.length && !ended && !failed) await new Promise((resolve) => (wake = resolve));
      if (chunks.length) return { value: chunks.shift(), done: false };
      if (failed) throw failed;
      return { value: undefined, done: true };
    },
    async return() {
      left = true;
      chunks.length = 0;
      return { value: undefined, done: true };
    },
    [Symbol.asyncIterator]() { return this; },
  };
}

/** @type {((line: string) => void) | null} */
let stdoutSink = null;

/**
 * The default log: lines gathered and written to stdout once per turn of
 * the event loop, one process-wide sink for every gateway. A write per line
 * was a system call per request, 3 % of the gateway's CPU under load. It
 * costs a line's delay until the turn ends (at most 64 KiB wait), and on
 * exit what is pending is written then; a killed process loses that turn's.
 */
function stdoutLog() {
  if (stdoutSink) return stdoutSink;
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const text = pending;
    pending = '';
    process.stdout.write(text);
  };
  process.once('exit', flush);
  stdoutSink = (line) => {
    if (!pending) setImmediate(flush);
    pending += line + '\n';
    if (pending.length > 64 * 1024) flush();
  };
  return stdoutSink;
}

/**
 * Starts a gateway.
 * @param {object | string} config LiteLLM proxy config, object or YAML text
 * @param {{ port?: number, host?: string, env?: Record<string, string | undefined>,
 *   fetch?: typeof fetch, log?: (line: string) => void, maxBodyBytes?: number,
 *   ui?: boolean }} [options] ui: false turns off the pages (/ui, the dashboard; /demo, the in-browser demo)
 * @returns {Promise<{ url: string, router: Router, dashboard: Dashboard | null, close(graceMs?: number): Promise<void> }>}
 */
export async function startGateway(config, options = {}) {
  const env = options.env ?? process.env;
  const resolved = resolveConfig(config, env).config;
  const masterKey = resolved?.general_settings?.master_key;
  const groups = [...new Set((resolved?.model_list ?? []).map((d) => d.model_name))];
  const metrics = new Metrics();
  const log = options.log ?? stdoutLog();
  const alerting = resolved?.router_settings?.alerting;
  const alerts = alerting ? new Alerts(alerting, { log }) : null;
  let dashboard = null; // set once the Router exists; sees no event before that
  const router = await Router.create(resolved, {
    env,
    fetch: options.fetch,
    onEvent: (ev) => {
      if (ev.type === 'config_warning') process.stderr.write(`switchyard: config ${ev.path}: ${ev.message}\n`);
      else {
        metrics.observe(ev);
        alerts?.observe(ev);
        dashboard?.observe(ev); // returns at once unless a /ui page is connected
      }
    },
  });
  const keyCheck = createKeyCheck(masterKey, (text) => createHash('sha256').update(text).digest());
  if (options.ui !== false) dashboard = new Dashboard({ router, keyCheck, masterKey });
  const handle = createHandler({
    router: async () => router,
    groups: async () => groups,
    authorized: keyCheck,
    metrics: () => metrics.render(),
    log,
    maxBodyBytes: options.maxBodyBytes,
    beforeRoute: dashboard ? (body) => dashboard.asking(body?.model) : undefined,
  });

  const server = createServer(async (req, res) => {
    // The browser pages: /ui (the live dashboard) and /demo (js/ui/server.js).
    if (dashboard && (req.url.startsWith('/ui') || req.url.startsWith('/demo'))) {
      const path = pathOf(req.url);
      if (isPagePath(path)) return dashboard.serve(req, res);
    }
    const reply = await handle({
      method: req.method,
      path: pathOf(req.url),
      authorization: req.headers.authorization,
      contentLength: Number(req.headers['content-length'] ?? 0),
      body: () => chunksOf(req),
    });
    if (!reply.stream) {
      // With its length known up front the answer is not chunked, and Node
      // writes the head and body as one string in one write.
      reply.headers['content-length'] = String(Buffer.byteLength(reply.body));
      res.writeHead(reply.status, reply.headers);
      return res.end(reply.body);
    }
    res.writeHead(reply.status, reply.headers);
    let finished = false;
    res.on('close', () => { if (!finished) reply.cancel(); });
    for await (const frame of reply.stream) if (!res.destroyed) res.write(frame);
    finished = true;
    res.end();
  });
  server.requestTimeout = 120_000; // slow clients are cut, not kept forever
  server.headersTimeout = 30_000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4000, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    router,
    dashboard,
    /** Stops accepting, lets requests in flight finish for up to |graceMs|, then ends the rest. */
    close: async (graceMs = 10_000) => {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      dashboard?.close(); // dashboard event streams never finish by themselves
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await router.close();
    },
  };
}
