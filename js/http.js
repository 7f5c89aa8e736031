// The OpenAI-compatible HTTP surface, without a runtime: which path is what,
// the master-key decision, how a Router answer or error becomes status,
// headers and body, the health report and SSE framing. The Node gateway
// (js/gateway.js, node:http) and the Worker (js/worker.js, fetch) are thin
// adapters over this: they turn their request into a few plain values and
// write the Reply back, so both serve the same answers byte for byte and the
// Node path builds no Request/Response objects.
import { SwitchyardError, ChunkStream } from './router.js';

/** Bodies above this are refused with 413 before they are read to the end. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * What to send back. A streamed answer has |stream| (SSE frames as text) and
 * no |body|; the route and final status of a stream are only known at its
 * end, where |stream| logs them.
 * @typedef {{ status: number, headers: Record<string, string>, body: string } |
 *   { status: 200, headers: Record<string, string>, body: null, stream: AsyncIterable<string>, cancel(): void }} Reply
 */

/**
 * A request as the handler needs it: the host reads nothing it is not asked for.
 * @typedef {{ method: string, path: string, authorization: string | undefined,
 *   contentLength: number, body: () => AsyncIterable<Uint8Array> }} HttpRequest
 *   path: the URL's pathname; contentLength: the declared length, 0 when unknown.
 */

const RAW = { raw: true };

export class HttpError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * The host-independent request handler.
 * @param {{
 *   router: () => Promise<import('./router.js').Router>,
 *   groups: () => Promise<string[]>,
 *   authorized: (authorization: string | undefined) => boolean | Promise<boolean>,
 *   metrics?: () => string,
 *   log: (line: string) => void,
 *   maxBodyBytes?: number,
 *   beforeRoute?: (body: any) => void,
 * }} options router and groups are asked for on the first request that needs
 *   them (a Worker builds its Router lazily); metrics is served only when given;
 *   beforeRoute sees each completion or embeddings body just before the Router
 *   begins it (the gateway's dashboard learns the model asked for); it only
 *   reads: the Router is handed the client's own text, not this object.
 * @returns {(req: HttpRequest) => Promise<Reply>} never rejects
 */
export function createHandler({ router, groups, authorized, metrics, log, maxBodyBytes = MAX_BODY_BYTES, beforeRoute }) {
  return async (req) => {
    const started = Date.now();
    const { method } = req;
    const path = req.path.replace(/\/+$/, '') || '/';
    try {
      if (method === 'GET' && path === '/health/liveliness') return text(200, "I'm alive!");
      if (!(await authorized(req.authorization))) {
        return error(401, 'invalid or missing key: send Authorization: Bearer <master key>', 'authentication_error', 'invalid_api_key');
      }
      if (method === 'GET' && path === '/health/readiness') return json(200, { status: 'healthy' });
      if (method === 'GET' && path === '/health') return json(200, healthReport(await router()));
      if (method === 'GET' && path === '/metrics' && metrics) {
        return { status: 200, headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }, body: metrics() };
      }
      if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
        const data = (await groups()).map((id) => ({ id, object: 'model', created: 0, owned_by: 'switchyard' }));
        return json(200, { object: 'list', data });
      }
      const chat = path === '/v1/chat/completions' || path === '/chat/completions';
      const embeddings = path === '/v1/embeddings' || path === '/embeddings';
      if (method === 'POST' && (chat || embeddings)) {
        const { body, text } = await readJson(req, maxBodyBytes);
        const r = await router();
        const done = (status, route) => logLine(log, method, path, status, started, route);
        try {
          beforeRoute?.(body);
          // The client's own text goes to the core, which parses it again
          // anyway, and the upstream's answer comes back as its text (raw):
          // parsing and printing it again was 4-5 µs a request.
          const answer = await (chat ? r.completion(text, RAW) : r.embedding(text, RAW));
          if (answer instanceof ChunkStream) return streamReply(answer, done);
          done(200, answer.switchyard);
          return jsonText(200, answer.text, routeHeaders(answer.switchyard));
        } catch (err) {
          if (!(err instanceof SwitchyardError)) throw err;
          const headers = routeHeaders(err.route);
          if (err.retryAfterMs) headers['retry-after'] = String(Math.max(1, Math.ceil(err.retryAfterMs / 1000)));
          done(err.status, err.route);
          return error(err.status, err.message, err.type, err.code, headers);
        }
      }
      return error(404, `no route ${method} ${path}`, 'invalid_request_error', 'not_found');
    } catch (err) {
      if (err instanceof HttpError) return error(err.status, err.message, 'invalid_request_error', err.code);
      log(JSON.stringify({ level: 'error', msg: 'gateway error', error: String(err?.message ?? err) }));
      return error(500, 'internal error in the gateway', 'api_error', 'internal_error');
    }
  };
}

/**
 * A master-key check: the bearer token's SHA-256 compared with the key's in
 * constant time (equal-length digests, every byte looked at), so the answer
 * time tells nothing about the key. |sha256| is the runtime's: Node's is
 * synchronous, WebCrypto's (Workers) a promise.
 * @param {string | undefined} masterKey none: every request is authorized
 * @param {(text: string) => Uint8Array | Promise<Uint8Array>} sha256
 * @returns {(authorization: string | undefined) => boolean | Promise<boolean>}
 */
export function keyCheck(masterKey, sha256) {
  if (!masterKey) return () => true;
  const key = sha256(String(masterKey));
  return async (authorization) => {
    const m = /^Bearer\s+(.+)$/i.exec(authorization ?? '');
    if (!m) return false;
    const [a, b] = await Promise.all([sha256(m[1]), key]);
    let diff = a.length ^ b.length;
    for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  };
}

const decoder = new TextDecoder();

/**
 * The request body parsed and as text, refused with 413 past |limit| bytes
 * and 400 when not a JSON object.
 * @returns {Promise<{ body: object, text: string }>}
 */
async function readJson(req, limit) {
  const tooLarge = () => new HttpError(413, `request body over ${limit} bytes`, 'body_too_large');
  if (req.contentLength > limit) throw tooLarge();
  const chunks = [];
  let size = 0;
  for await (const chunk of req.body()) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  let bytes = chunks[0] ?? new Uint8Array(0); // a small body is one chunk: no copy
  if (chunks.length > 1) {
    bytes = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      bytes.set(c, at);
      at += c.length;
    }
  }
  const text = decoder.decode(bytes);
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON', 'invalid_json');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'request body must be a JSON object', 'invalid_json');
  return { body, text };
}

/**
 * A committed stream as Server-Sent Events in OpenAI's chunk format.
 * Failures before the first token never get here: they were retried or
 * answered as ordinary HTTP errors. A failure after it ends the stream with
 * an OpenAI error event. The host calls cancel() when the client goes away,
 * which aborts the upstream attempt.
 * @param {import('./router.js').ChunkStream} stream
 * @returns {Reply}
 */
function streamReply(stream, done) {
  async function* frames() {
    try {
      for await (const chunk of stream) yield `data: ${JSON.stringify(chunk)}\n\n`;
      yield 'data: [DONE]\n\n';
      done(200, stream.switchyard);
    } catch (err) {
      const e = err instanceof SwitchyardError ? err : { message: 'internal error', type: 'api_error', code: 'internal_error' };
      done(e.status ?? 500, e.route);
      yield `data: ${JSON.stringify({ error: { message: e.message, type: e.type, code: e.code } })}\n\n`;
    }
  }
  return {
    status: 200,
    headers: { ...routeHeaders(stream.switchyard), 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' },
    body: null,
    stream: frames(),
    cancel: () => stream.cancel(),
  };
}

/** Each deployment's state and why it is not healthy: cooling (until when), its breaker open (ejected until when) or half-open (a probe decides). */
function state(d, now) {
  if (d.cooling_until > now) return 'cooling';
  if (d.breaker === 'open') return 'ejected';
  return d.breaker === 'half_open' ? 'half_open' : 'healthy';
}

function healthReport(router) {
  const now = Date.now();
  const deployments = router.health().map((d) => ({
    id: d.id,
    model_group: d.model_group,
    model: d.model,
    state: state(d, now),
    ...(d.cooling_until > now
      ? { cooling_until: new Date(d.cooling_until).toISOString(), cooling_ms_left: Math.round(d.cooling_until - now), reason: d.reason }
      : {}),
    ...(d.breaker === 'open' ? { ejected_until: new Date(d.breaker_until).toISOString(), ejected_ms_left: Math.round(d.breaker_until - now) } : {}),
    recent_failures: d.failures,
    requests_this_minute: d.rpm,
    tokens_this_minute: d.tpm,
    in_flight: d.inflight,
  }));
  const healthy = deployments.filter((d) => d.state === 'healthy').length;
  const store = router.store.status?.() ?? { kind: 'memory', entries: router.store.size };
  return { healthy_count: healthy, unhealthy_count: deployments.length - healthy, deployments, store };
}

/** The route taken, as x-switchyard-* headers. */
function routeHeaders(route) {
  /** @type {Record<string, string>} */
  const h = {};
  if (!route) return h;
  if (route.deployment) h['x-switchyard-deployment'] = route.deployment;
  if (route.model_group) h['x-switchyard-model-group'] = route.model_group;
  h['x-switchyard-attempts'] = String(route.attempts ?? 0);
  if (route.cost > 0) h['x-switchyard-response-cost'] = String(route.cost);
  return h;
}

/** @param {Record<string, string>} [headers] a fresh object, taken over @returns {Reply} */
function json(status, value, headers = {}) {
  return jsonText(status, JSON.stringify(value), headers);
}

/** JSON already written, such as an upstream's answer as it came. @returns {Reply} */
function jsonText(status, text, headers = {}) {
  headers['content-type'] = 'application/json';
  return { status, headers, body: text };
}

/** @returns {Reply} */
function text(status, value) {
  return { status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: value };
}

/** OpenAI's error shape. @returns {Reply} */
function error(status, message, type, code, headers) {
  return json(status, { error: { message, type, code } }, headers);
}

/** One structured line per request with its route; no secret is ever in a route. */
function logLine(log, method, path, status, started, route) {
  // Written out by hand rather than JSON.stringify of an object: half the
  // cost (2.7 -> 1.4 µs measured), paid on every request. Strings go
  // through JSON.stringify; a field the route lacks is left out, as
  // JSON.stringify leaves out undefined.
  const now = Date.now();
  let line = `{"ts":"${isoTime(now)}","method":${JSON.stringify(method)},"path":${JSON.stringify(path)},"status":${status},"ms":${now - started}`;
  if (route?.model_group !== undefined) line += `,"model_group":${JSON.stringify(route.model_group)}`;
  if (route?.deployment !== undefined) line += `,"deployment":${JSON.stringify(route.deployment)}`;
  if (route?.attempts !== undefined) line += `,"attempts":${route.attempts}`;
  if (route?.tries) {
    line += ',"tries":[';
    route.tries.forEach((t, i) => {
      line += `${i ? ',' : ''}${JSON.stringify(`${t.deployment}:${t.status}:${t.class}:${Math.round(t.latency_ms)}ms`)}`;
    });
    line += ']';
  }
  log(line + '}');
}

// The last millisecond's ISO time: requests ending in the same one share it.
let isoMs = NaN;
let isoText = '';
function isoTime(ms) {
  if (ms !== isoMs) { isoMs = ms; isoText = new Date(ms).toISOString(); }
  return isoText;
}
