// The OpenAI-compatible gateway on Node: HTTP in, Router.completion, HTTP
// out. Every routing decision stays in the core; this file maps HTTP to the
// Router and back, with the route in x-switchyard-* headers.
import { createServer } from 'node:http';
import { timingSafeEqual, createHash } from 'node:crypto';
import { Router, SwitchyardError } from './index.js';
import { resolveConfig } from './config.js';
import { Metrics } from './metrics.js';
import { Alerts } from './alerts.js';

/** Bodies above this are refused with 413 before they are read to the end. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Starts a gateway.
 * @param {object | string} config LiteLLM proxy config, object or YAML text
 * @param {{ port?: number, host?: string, env?: Record<string, string | undefined>,
 *   fetch?: typeof fetch, log?: (line: string) => void, maxBodyBytes?: number }} [options]
 * @returns {Promise<{ url: string, router: Router, close(graceMs?: number): Promise<void> }>}
 */
export async function startGateway(config, options = {}) {
  const env = options.env ?? process.env;
  const resolved = resolveConfig(config, env).config;
  const masterKey = resolved?.general_settings?.master_key;
  const groups = [...new Set((resolved?.model_list ?? []).map((d) => d.model_name))];
  const metrics = new Metrics();
  const log = options.log ?? ((line) => process.stdout.write(line + '\n'));
  const alerting = resolved?.router_settings?.alerting;
  const alerts = alerting ? new Alerts(alerting, { log }) : null;
  const router = await Router.create(resolved, {
    env,
    fetch: options.fetch,
    onEvent: (ev) => {
      if (ev.type === 'config_warning') process.stderr.write(`switchyard: config ${ev.path}: ${ev.message}\n`);
      else {
        metrics.observe(ev);
        alerts?.observe(ev);
      }
    },
  });
  const maxBody = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const keyDigest = masterKey ? createHash('sha256').update(String(masterKey)).digest() : null;

  /** Constant-time comparison of the bearer token with the master key. */
  const authorized = (req) => {
    if (!keyDigest) return true;
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    return timingSafeEqual(createHash('sha256').update(m[1]).digest(), keyDigest);
  };

  const server = createServer(async (req, res) => {
    const started = Date.now();
    const url = new URL(req.url, 'http://gateway');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    try {
      if (req.method === 'GET' && path === '/health/liveliness') return send(res, 200, "I'm alive!");
      if (!authorized(req)) {
        return sendError(res, 401, 'invalid or missing key: send Authorization: Bearer <master key>', 'authentication_error', 'invalid_api_key');
      }
      if (req.method === 'GET' && path === '/health/readiness') return send(res, 200, { status: 'healthy' });
      if (req.method === 'GET' && path === '/health') return send(res, 200, healthReport(router));
      if (req.method === 'GET' && path === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        return res.end(metrics.render());
      }
      if (req.method === 'GET' && (path === '/v1/models' || path === '/models')) {
        return send(res, 200, { object: 'list', data: groups.map((id) => ({ id, object: 'model', created: 0, owned_by: 'switchyard' })) });
      }
      const chat = path === '/v1/chat/completions' || path === '/chat/completions';
      const embeddings = path === '/v1/embeddings' || path === '/embeddings';
      if (req.method === 'POST' && (chat || embeddings)) {
        const body = await readJson(req, maxBody);
        const done = (status, route) => logLine(log, req, path, status, started, route);
        try {
          const answer = await (chat ? router.completion(body) : router.embedding(body));
          if (chat && body.stream === true) return await streamOut(req, res, answer, done);
          routeHeaders(res, answer.switchyard);
          send(res, 200, answer);
          done(200, answer.switchyard);
        } catch (err) {
          if (!(err instanceof SwitchyardError)) throw err;
          routeHeaders(res, err.route);
          if (err.retryAfterMs) res.setHeader('retry-after', String(Math.max(1, Math.ceil(err.retryAfterMs / 1000))));
          sendError(res, err.status, err.message, err.type, err.code);
          done(err.status, err.route);
        }
        return;
      }
      sendError(res, 404, `no route ${req.method} ${path}`, 'invalid_request_error', 'not_found');
    } catch (err) {
      if (err instanceof HttpError) return sendError(res, err.status, err.message, 'invalid_request_error', err.code);
      sendError(res, 500, 'internal error in the gateway', 'api_error', 'internal_error');
      log(JSON.stringify({ level: 'error', msg: 'gateway error', error: String(err?.message ?? err) }));
    }
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
    /** Stops accepting, lets requests in flight finish for up to |graceMs|, then ends the rest. */
    close: async (graceMs = 10_000) => {
      const closed = new Promise((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
      await router.close();
    },
  };
}

class HttpError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The request body as JSON, refused with 413 past |limit| bytes and 400 when not a JSON object. */
async function readJson(req, limit) {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `request body over ${limit} bytes`, 'body_too_large');
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `request body over ${limit} bytes`, 'body_too_large');
    chunks.push(chunk);
  }
  let body;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', 'invalid_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_json');
  return body;
}

/**
 * Sends a committed stream as Server-Sent Events in OpenAI's chunk format.
 * Failures before the first token never get here: they were retried or
 * answered as ordinary HTTP errors. A failure after it ends the stream with
 * an OpenAI error event, then the connection. A client that goes away
 * cancels the request, which aborts its upstream attempt.
 */
async function streamOut(req, res, stream, done) {
  routeHeaders(res, stream.switchyard);
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let finished = false;
  res.on('close', () => { if (!finished) stream.cancel(); });
  try {
    for await (const chunk of stream) res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    res.write('data: [DONE]\n\n');
    done(200, stream.switchyard);
  } catch (err) {
    const e = err instanceof SwitchyardError ? err : { message: 'internal error', type: 'api_error', code: 'internal_error' };
    if (!res.destroyed) res.write(`data: ${JSON.stringify({ error: { message: e.message, type: e.type, code: e.code } })}\n\n`);
    done(e.status ?? 500, e.route);
  }
  finished = true;
  res.end();
}

/** Each deployment's state: healthy, or cooling until when and why. */
function healthReport(router) {
  const now = Date.now();
  const deployments = router.health().map((d) => ({
    id: d.id,
    model_group: d.model_group,
    model: d.model,
    state: d.cooling_until > now ? 'cooling' : 'healthy',
    ...(d.cooling_until > now
      ? { cooling_until: new Date(d.cooling_until).toISOString(), cooling_ms_left: Math.round(d.cooling_until - now), reason: d.reason }
      : {}),
    recent_failures: d.failures,
  }));
  const healthy = deployments.filter((d) => d.state === 'healthy').length;
  return { healthy_count: healthy, unhealthy_count: deployments.length - healthy, deployments };
}

function routeHeaders(res, route) {
  if (!route) return;
  if (route.deployment) res.setHeader('x-switchyard-deployment', route.deployment);
  if (route.model_group) res.setHeader('x-switchyard-model-group', route.model_group);
  res.setHeader('x-switchyard-attempts', String(route.attempts ?? 0));
}

function send(res, status, body) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json' });
  res.end(text);
}

function sendError(res, status, message, type, code) {
  if (res.headersSent) return res.destroy();
  send(res, status, { error: { message, type, code } });
}

/** One structured line per request with its route; no secret is ever in a route. */
function logLine(log, req, path, status, started, route) {
  log(JSON.stringify({
    ts: new Date().toISOString(), method: req.method, path, status, ms: Date.now() - started,
    model_group: route?.model_group, deployment: route?.deployment, attempts: route?.attempts,
    tries: route?.tries?.map((t) => `${t.deployment}:${t.status}:${t.class}:${Math.round(t.latency_ms)}ms`),
  }));
}
