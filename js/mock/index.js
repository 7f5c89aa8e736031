// switchyard/mock: a scriptable mock LLM provider that speaks the providers'
// real wire formats (OpenAI-compatible, Azure OpenAI, Anthropic): bodies,
// errors, headers and Server-Sent Event streams.
//
// This file is the whole logic and imports nothing, so a browser page can use
// it as is. The Node HTTP server is in ./server.js; `provider.listen()` loads
// it on demand.
//
// Shape: `handle(request)` turns one request into a *plan* (refuse the
// connection, hang, or answer a status, headers and a body or a list of
// timed SSE frames) and books it in `calls`; `play(plan, sink)` carries a plan
// out through the injected clock. The in-process `fetch` below and the HTTP
// server are two sinks for the same plans, so both transports behave alike.
//
// Routing: deployment N lives at base `<origin>/N`:
//   POST /N/v1/chat/completions, /N/chat/completions           OpenAI chat
//   POST /N/v1/embeddings, /N/embeddings                       OpenAI embeddings
//   GET  /N/v1/models, /N/models                               OpenAI model list
//   POST /N/openai/deployments/D/chat/completions?api-version  Azure chat
//   POST /N/openai/deployments/D/embeddings?api-version        Azure embeddings
//   POST /N/v1/messages                                        Anthropic messages
// The host part of the URL is ignored by the in-process fetch, so LiteLLM
// style bases like `http://mock/N/v1` work as they are.
//
// Order of checks for one request (the first that applies answers):
//   down / scripted `net` / `hang`  -> connection refused / no answer
//   unknown path or (strict) unknown deployment -> 404
//   apiKey mismatch -> 401; anthropic-version or api-version missing
//   unparseable JSON, missing required fields -> 400
//   quotaExhausted -> 429 insufficient_quota (Anthropic: 400 credit balance)
//   rateLimit exceeded -> 429 with retry headers (admitted requests count)
//   next `statuses` entry (other than a plain 200) -> that status
//   failRate draw -> failStatus
//   overloaded -> 529 (Anthropic) / 503
//   contextWindow exceeded -> 400 context_length_exceeded / prompt is too long
//   contentFilter word in the prompt -> 400 or finish_reason content_filter
//   malformed -> 200 with a broken JSON body
//   otherwise 200 with the reply
// Requests rejected by the path, key, version or validation checks neither
// consume a `statuses` entry nor count against the rate limit.

/**
 * @typedef {{ now(): number, setTimeout(fn: () => void, ms: number): any, clearTimeout(handle: any): void }} MockClock
 * @typedef {'openai' | 'azure' | 'anthropic'} ProviderKind
 * @typedef {'chat' | 'embeddings' | 'models' | 'messages' | 'unknown'} Endpoint
 *
 * @typedef {object} ScriptedAnswer
 * @property {number | 'net' | 'hang'} status
 * @property {string} [variant] context | filter | quota | overloaded | malformed | html
 * @property {number} [latencyMs] overrides the deployment's latencyMs for this answer
 * @property {Record<string, string>} [headers] extra response headers
 *
 * @typedef {object} MockBehaviour
 * @property {Array<number | string | ScriptedAnswer>} [statuses] answers consumed one per
 *   call, then healthy (or cycled with `repeat`). A string is `STATUS[@MS][:VARIANT]`,
 *   `net` (connection refused) or `hang` (no answer until aborted).
 * @property {boolean} [repeat] cycle `statuses` forever
 * @property {number} [failRate] probability in [0, 1] that a call fails with `failStatus`
 * @property {number} [failStatus] status of failRate failures (default 503)
 * @property {number} [latencyMs] delay before the response head
 * @property {number} [firstTokenMs] stream: delay from the head to the first content chunk
 * @property {number} [tokenIntervalMs] stream: delay between content chunks
 * @property {number} [cutAfterChunks] stream: drop the connection after n content chunks
 * @property {number} [errorAfterChunks] stream: send a mid-stream error after n content chunks
 * @property {boolean} [down] every connection is refused
 * @property {boolean} [hang] no call is ever answered (until the client aborts)
 * @property {{ rpm?: number, tpm?: number }} [rateLimit] per-minute limits (sliding 60 s window)
 * @property {number} [contextWindow] maximum prompt tokens (estimate: ceil(chars / 4))
 * @property {string[]} [contentFilter] words (case-insensitive) that trip the content filter
 * @property {'error' | 'finish_reason'} [contentFilterMode] default 'error'
 * @property {string} [apiKey] the only key accepted
 * @property {boolean} [quotaExhausted]
 * @property {boolean} [overloaded]
 * @property {boolean} [malformed]
 * @property {string | ((req: MockRequestInfo) => string | Promise<string>)} [reply]
 * @property {Record<string, string>} [headers] extra headers on every response
 * @property {number} [embeddingDimensions] default 16
 * @property {string[]} [models] ids listed by GET /v1/models
 *
 * @typedef {object} MockRequestInfo
 * @property {string} deployment
 * @property {ProviderKind} kind
 * @property {Endpoint} endpoint
 * @property {string | null} model
 * @property {any} body
 * @property {string} prompt the last user message's text
 * @property {Record<string, string>} headers redacted
 *
 * @typedef {object} MockCall
 * @property {number} seq
 * @property {string | null} deployment
 * @property {string | null} name alias of deployment
 * @property {ProviderKind} kind
 * @property {ProviderKind} provider alias of kind
 * @property {Endpoint} endpoint
 * @property {string} method
 * @property {string} path path and query
 * @property {string | null} model
 * @property {boolean} stream
 * @property {Record<string, string>} headers lower-case names, keys redacted
 * @property {any} body parsed JSON body, or null
 * @property {'ok' | 'missing' | 'invalid' | 'unchecked'} auth
 * @property {number} time clock time at arrival
 * @property {number | null} end clock time when the answer ended
 * @property {number} status 0 when no HTTP answer was given
 * @property {string} outcome pending | ok | error | refused | hang | aborted | cut |
 *   stream_error | malformed | content_filter | cancelled
 * @property {string | null} reason why it failed: not_found, auth, version, bad_request,
 *   quota, rate_limit, scripted, fail_rate, overloaded, context_window, content_filter,
 *   malformed, down
 *
 * @typedef {{ delay: number, text: string, content?: boolean, tail?: boolean }} Frame
 * @typedef {{ type: 'refuse', call: MockCall } |
 *   { type: 'hang', delayMs: number, call: MockCall } |
 *   { type: 'http', delayMs: number, status: number, headers: Record<string, string>,
 *     body?: string, frames?: Frame[], cut?: boolean, outcome: string, call: MockCall }} Plan
 *
 * @typedef {object} PlanSink
 * @property {() => void} refuse
 * @property {(status: number, headers: Record<string, string>) => void} head
 * @property {(text: string) => void} write
 * @property {() => void} end
 * @property {() => void} cut
 */

const MINUTE = 60_000;

/** @type {MockClock} */
export const systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (h) => globalThis.clearTimeout(h),
};

// ---------------------------------------------------------------- helpers

/** FNV-1a, 32 bits: seeds per-deployment random streams from names. */
function fnv1a(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * A small deterministic generator: a Weyl sequence passed through the
 * murmur3 32-bit finaliser. Good enough for ids and fault draws.
 * @param {number} seed
 * @returns {() => number} uniform in [0, 1)
 */
export function makeRng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    z ^= z >>> 16;
    return (z >>> 0) / 4294967296;
  };
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
function randomString(rng, n, alphabet = ALNUM) {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(rng() * alphabet.length)];
  return s;
}
function uuid(rng) {
  const h = randomString(rng, 32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

/** Text of one message content: a string or an array of parts. */
function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content.map((p) => (typeof p === 'string' ? p : typeof p?.text === 'string' ? p.text : '')).join('');
  return '';
}

/**
 * Prompt token estimate used everywhere: ceil(chars / 4) over the message
 * contents (and Anthropic's top-level `system`).
 * @param {any} body
 */
export function estimatePromptTokens(body) {
  let chars = 0;
  if (body && Array.isArray(body.messages)) for (const m of body.messages) chars += contentText(m?.content).length;
  if (body && body.system !== undefined) chars += contentText(body.system).length;
  if (body && body.input !== undefined) {
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    for (const x of inputs) chars += typeof x === 'string' ? x.length : 0;
  }
  return Math.ceil(chars / 4);
}

/** @param {string} text */
export function estimateTokens(text) {
  return Math.ceil(text.length / 4);
}

function promptText(body) {
  const parts = [];
  if (body && body.system !== undefined) parts.push(contentText(body.system));
  if (body && Array.isArray(body.messages)) for (const m of body.messages) parts.push(contentText(m?.content));
  return parts.join('\n');
}

function lastUserText(body) {
  const msgs = body && Array.isArray(body.messages) ? body.messages : [];
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i]?.role === 'user') return contentText(msgs[i].content);
  return '';
}

/** Splits a reply into stream tokens: words with their leading blanks. */
function splitTokens(text) {
  const parts = text.match(/\s*\S+/g) ?? [];
  const joined = parts.join('');
  if (joined.length < text.length) {
    if (parts.length) parts[parts.length - 1] += text.slice(joined.length);
    else parts.push(text);
  }
  return parts;
}

/**
 * Masks a key the way OpenAI's 401 does: a short prefix, stars, the last
 * four characters; short keys are all stars. Never the whole key.
 * @param {string} key
 */
export function maskKey(key) {
  if (key.length < 12) return '*'.repeat(key.length);
  return key.slice(0, 3) + '*'.repeat(key.length - 7) + key.slice(-4);
}

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'api-key', 'x-api-key', 'cookie', 'x-goog-api-key']);

/** @param {Headers} headers */
function redactHeaders(headers) {
  /** @type {Record<string, string>} */
  const out = {};
  headers.forEach((value, name) => {
    if (!SECRET_HEADERS.has(name)) out[name] = value;
    else if (/^bearer\s/i.test(value)) out[name] = 'Bearer [REDACTED]';
    else out[name] = '[REDACTED]';
  });
  return out;
}

/**
 * Go's time.Duration text, as OpenAI's x-ratelimit-reset-* headers use it:
 * "20ms", "1s", "1.5s", "6m0s".
 * @param {number} ms
 */
export function formatDuration(ms) {
  ms = Math.max(0, Math.ceil(ms));
  if (ms < 1000) return `${ms}ms`;
  const secs = (n) => `${Number((n / 1000).toFixed(3))}s`;
  if (ms < MINUTE) return secs(ms);
  const m = Math.floor(ms / MINUTE);
  return `${m}m${secs(ms - m * MINUTE)}`;
}

/** RFC 3339 at whole seconds, rounded up, as Anthropic's reset headers. */
function rfc3339(ms) {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * Reads a scripted answer: a status number, an object, or a string
 * `STATUS[@LATENCY][:VARIANT]`, `net`, `hang`.
 * @param {number | string | ScriptedAnswer} entry
 * @returns {ScriptedAnswer}
 */
export function parseScripted(entry) {
  if (typeof entry === 'number') return { status: entry };
  if (typeof entry === 'object' && entry !== null) return entry;
  const m = /^(\d{3}|net|hang)(?:@(\d+))?(?::([a-z_]+))?$/.exec(String(entry).trim());
  if (!m) throw new Error(`switchyard/mock: bad scripted answer ${JSON.stringify(entry)}`);
  /** @type {ScriptedAnswer} */
  const a = { status: m[1] === 'net' || m[1] === 'hang' ? m[1] : Number(m[1]) };
  if (m[2] !== undefined) a.latencyMs = Number(m[2]);
  if (m[3] !== undefined) a.variant = m[3];
  return a;
}

// ---------------------------------------------------------------- routing

/**
 * @param {string} pathname
 * @returns {{ deployment: string | null, kind: ProviderKind, endpoint: Endpoint, azureDeployment?: string }}
 */
function parseRoute(pathname) {
  const m = /^\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!m) return { deployment: null, kind: 'openai', endpoint: 'unknown' };
  let deployment;
  try {
    deployment = decodeURIComponent(m[1]);
  } catch {
    deployment = m[1];
  }
  const rest = (m[2] ?? '').replace(/\/+$/, '');
  if (rest === '/v1/chat/completions' || rest === '/chat/completions') return { deployment, kind: 'openai', endpoint: 'chat' };
  if (rest === '/v1/embeddings' || rest === '/embeddings') return { deployment, kind: 'openai', endpoint: 'embeddings' };
  if (rest === '/v1/models' || rest === '/models') return { deployment, kind: 'openai', endpoint: 'models' };
  if (rest === '/v1/messages') return { deployment, kind: 'anthropic', endpoint: 'messages' };
  const az = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(rest);
  if (az)
    return { deployment, kind: 'azure', endpoint: az[2] === 'embeddings' ? 'embeddings' : 'chat', azureDeployment: decodeURIComponent(az[1]) };
  if (rest.startsWith('/openai/')) return { deployment, kind: 'azure', endpoint: 'unknown' };
  if (rest.startsWith('/v1/messages')) return { deployment, kind: 'anthropic', endpoint: 'unknown' };
  return { deployment, kind: 'openai', endpoint: 'unknown' };
}

// ---------------------------------------------------------------- error bodies

const OPENAI_DOCS = 'https://platform.openai.com/docs/guides/error-codes/api-errors';

function oaError(message, type, param = null, code = null) {
  return { error: { message, type, param, code } };
}

const AZURE_FILTER_OK = () => ({
  hate: { filtered: false, severity: 'safe' },
  self_harm: { filtered: false, severity: 'safe' },
  sexual: { filtered: false, severity: 'safe' },
  violence: { filtered: false, severity: 'safe' },
});

/**
 * The error body, extra headers and content type a provider answers for a
 * status, optionally refined by a variant. Pure: the spec runner and tests
 * may call it to get the exact bytes the mock would send.
 *
 * Variants: `context` (context window exceeded), `filter` (alias `policy`:
 * content filter), `quota` (exhausted quota or credit), `overloaded`, `auth`
 * (wrong key, shown masked), `html` (a proxy's HTML error page).
 *
 * @param {ProviderKind} kind
 * @param {number} status
 * @param {{ variant?: string, model?: string | null, key?: string | null, deployment?: string,
 *   contextWindow?: number, promptTokens?: number, limit?: number, tokens?: number,
 *   requestId?: string, apiVersion?: string, message?: string, type?: string,
 *   param?: string | null, code?: string | null, azureCode?: string }} [ctx]
 * @returns {{ status: number, headers: Record<string, string>, body: string, contentType: string }}
 */
export function errorBody(kind, status, ctx = {}) {
  const model = ctx.model ?? 'unknown';
  let v = ctx.variant ?? '';
  if (v === 'policy') v = 'filter';
  if (v === 'auth') status = 401;
  ctx = { ...ctx, contextWindow: ctx.contextWindow ?? ctx.limit, promptTokens: ctx.promptTokens ?? ctx.tokens };
  const typed = (contentType, body) => ({ status, headers: { 'content-type': contentType }, body, contentType });
  const json = (obj) => typed('application/json', JSON.stringify(obj));

  if (v === 'html') {
    const title = `${status} ${STATUS_TEXT[status] ?? 'Error'}`;
    return typed(
      'text/html',
      `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n`,
    );
  }

  if (v === 'context') {
    const n = ctx.contextWindow ?? 4096;
    const m = Math.max(ctx.promptTokens ?? 0, n + 1);
    if (kind === 'anthropic') return json(anError('invalid_request_error', `prompt is too long: ${m} tokens > ${n} maximum`, ctx));
    return json(
      oaError(
        `This model's maximum context length is ${n} tokens. However, your messages resulted in ${m} tokens. Please reduce the length of the messages.`,
        'invalid_request_error',
        'messages',
        'context_length_exceeded',
      ),
    );
  }

  if (v === 'filter') {
    if (kind === 'anthropic') return json(anError('invalid_request_error', 'Output blocked by content filtering policy', ctx));
    if (kind === 'azure')
      return json({
        error: {
          message:
            "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: {
            code: 'ResponsibleAIPolicyViolation',
            content_filter_result: {
              ...AZURE_FILTER_OK(),
              jailbreak: { filtered: false, detected: false },
              violence: { filtered: true, severity: 'medium' },
            },
          },
        },
      });
    return json(
      oaError(
        'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
        'invalid_request_error',
        null,
        'content_policy_violation',
      ),
    );
  }

  if (v === 'quota') {
    if (kind === 'anthropic')
      return json(
        anError(
          'invalid_request_error',
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
          ctx,
        ),
      );
    return json(
      oaError(
        `You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: ${OPENAI_DOCS}.`,
        'insufficient_quota',
        null,
        'insufficient_quota',
      ),
    );
  }

  if (v === 'overloaded' || (status === 529 && !v)) {
    if (kind === 'anthropic') return json(anError('overloaded_error', 'Overloaded', ctx));
    return json(oaError('The engine is currently overloaded, please try again later', 'server_error'));
  }

  if (ctx.message !== undefined) {
    if (kind === 'anthropic') return json(anError(ctx.type ?? ANTHROPIC_TYPES[status] ?? 'api_error', ctx.message, ctx));
    if (kind === 'azure' && ctx.azureCode) return json({ error: { code: ctx.azureCode, message: ctx.message } });
    return json(oaError(ctx.message, ctx.type ?? 'invalid_request_error', ctx.param ?? null, ctx.code ?? null));
  }

  if (kind === 'anthropic') {
    const type = ANTHROPIC_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
    const message = {
      400: 'Invalid request',
      401: 'invalid x-api-key',
      403: 'Your API key does not have permission to use the specified resource.',
      404: `model: ${model}`,
      408: 'Request timed out',
      413: 'Request exceeds the maximum allowed number of bytes.',
      429: 'Number of request tokens has exceeded your per-minute rate limit (https://docs.anthropic.com/en/api/rate-limits); see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.',
      500: 'Internal server error',
      504: 'Request timeout',
    }[status] ?? (STATUS_TEXT[status] ?? 'Error');
    return json(anError(type, message, ctx));
  }

  if (kind === 'azure') {
    const az = {
      401: ['401', 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.'],
      404: ['DeploymentNotFound', 'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.'],
      408: ['Timeout', 'The operation was timeout.'],
      429: ['429', `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${ctx.apiVersion ?? '2024-02-01'} have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 1 second. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`],
      500: ['InternalServerError', 'Backend returned unexpected response. Please contact Microsoft for help.'],
      503: ['ServiceUnavailable', 'The service is temporarily unable to process your request. Please try again later.'],
    }[status];
    if (az) return json({ error: { code: az[0], message: az[1] } });
  }

  switch (status) {
    case 400:
      return json(oaError('Invalid request.', 'invalid_request_error'));
    case 401:
      return json(
        ctx.key
          ? oaError(
              `Incorrect API key provided: ${maskKey(ctx.key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
              'invalid_request_error',
              null,
              'invalid_api_key',
            )
          : oaError(
              "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
              'invalid_request_error',
            ),
      );
    case 403:
      return json(oaError('You are not allowed to sample from this model', 'invalid_request_error', null, 'model_not_found'));
    case 404:
      return json(oaError(`The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', null, 'model_not_found'));
    case 408:
      return json(oaError('Request timed out.', 'timeout', null, 'timeout'));
    case 409:
      return json(oaError('The server is currently processing a conflicting request. Please try again.', 'server_error', null, 'conflict'));
    case 422:
      return json(oaError('Unprocessable entity: the request was well-formed but could not be processed.', 'invalid_request_error'));
    case 429:
      return json(oaError(`Rate limit reached for ${model} on requests per min (RPM). Please try again later.`, 'requests', null, 'rate_limit_exceeded'));
    case 500:
      return json(oaError('The server had an error while processing your request. Sorry about that!', 'server_error'));
    case 502:
      return json({ error: { code: 502, message: 'Bad gateway.', param: null, type: 'cf_bad_gateway' } });
    case 503:
      return json(oaError('The server is overloaded or not ready yet.', 'server_error'));
    case 504:
      return json({ error: { code: 504, message: 'Gateway timeout.', param: null, type: 'cf_gateway_timeout' } });
    default:
      return json(oaError(STATUS_TEXT[status] ?? `HTTP ${status}`, status >= 500 ? 'server_error' : 'invalid_request_error'));
  }
}

function anError(type, message, ctx) {
  /** @type {any} */
  const body = { type: 'error', error: { type, message } };
  if (ctx?.requestId) body.request_id = ctx.requestId;
  return body;
}

const ANTHROPIC_TYPES = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  408: 'timeout_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

const STATUS_TEXT = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  529: 'Overloaded',
};

// ---------------------------------------------------------------- the provider

/**
 * Creates a mock provider.
 *
 * @param {object} [options]
 * @param {number} [options.seed] seeds ids and failRate draws (default 1)
 * @param {MockClock} [options.clock] every delay and timestamp goes through it
 * @param {boolean} [options.strict] unknown deployment names answer 404 instead of a healthy default
 * @param {Record<string, MockBehaviour>} [options.deployments] initial behaviours by name
 * @param {MockBehaviour} [options.defaults] behaviour merged under every deployment's own
 * @param {string} [options.origin] base for relative URLs given to fetch (default http://mock)
 * @param {number} [options.maxCalls] `calls` keeps at most about this many entries, dropping
 *   the oldest (default 100000), so long benchmarks do not grow without bound
 */
export function createMockProvider(options = {}) {
  const seed = options.seed ?? 1;
  const clock = options.clock ?? systemClock;
  const origin = options.origin ?? 'http://mock';
  const defaults = options.defaults ?? {};
  const maxCalls = options.maxCalls ?? 100_000;

  /** @type {Map<string, MockBehaviour>} */
  const behaviours = new Map();
  /** @type {Map<string, any>} */
  const states = new Map();
  /** @type {MockCall[]} */
  const calls = [];
  let seq = 0;

  function freshState(name) {
    return {
      next: 0, // index into statuses
      window: /** @type {{t: number, tokens: number}[]} */ ([]),
      failRng: makeRng(fnv1a(`${seed}:fail:${name}`)),
      idRng: makeRng(fnv1a(`${seed}:id:${name}`)),
    };
  }
  function stateOf(name) {
    let s = states.get(name);
    if (!s) states.set(name, (s = freshState(name)));
    return s;
  }

  function configure(name, behaviour) {
    if (typeof name === 'object' && name !== null) {
      for (const [n, b] of Object.entries(name)) configure(n, b);
      return api;
    }
    if (behaviour?.statuses) behaviour.statuses.forEach(parseScripted); // fail early on typos
    behaviours.set(name, { ...(behaviour ?? {}) });
    states.delete(name);
    return api;
  }

  function reset() {
    behaviours.clear();
    states.clear();
    calls.length = 0;
    seq = 0;
    for (const [n, b] of Object.entries(options.deployments ?? {})) configure(n, b);
    return api;
  }

  /** @returns {MockBehaviour | null} */
  function behaviourOf(name) {
    const own = behaviours.get(name);
    if (!own && options.strict) return null;
    return { ...defaults, ...(own ?? {}) };
  }

  /**
   * Turns one request into a plan and books it in `calls`.
   * @param {{ method?: string, url: string | URL, headers?: HeadersInit, body?: string }} request
   * @returns {Promise<Plan>}
   */
  async function handle(request) {
    const url = new URL(String(request.url), origin);
    const method = (request.method ?? 'POST').toUpperCase();
    const headers = new Headers(request.headers ?? {});
    const route = parseRoute(url.pathname);
    const kind = route.kind;
    const now = clock.now();

    let body = null;
    let bodyOk = true;
    const raw = request.body ?? '';
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        bodyOk = false;
      }
    }
    const isObj = body !== null && typeof body === 'object' && !Array.isArray(body);
    const model = isObj && typeof body.model === 'string' ? body.model : route.azureDeployment ?? null;

    /** @type {MockCall} */
    const call = {
      seq: ++seq,
      deployment: route.deployment,
      name: route.deployment,
      kind,
      provider: kind,
      endpoint: route.endpoint,
      method,
      path: url.pathname + url.search,
      model,
      stream: isObj && body.stream === true,
      headers: redactHeaders(headers),
      body,
      auth: 'unchecked',
      time: now,
      end: null,
      status: 0,
      outcome: 'pending',
      reason: null,
    };
    calls.push(call);
    // Trimmed in batches so that each request stays O(1) amortised.
    if (calls.length > maxCalls + Math.max(16, maxCalls >> 4)) calls.splice(0, calls.length - maxCalls);

    const b = route.deployment !== null ? behaviourOf(route.deployment) : null;
    const st = route.deployment !== null ? stateOf(route.deployment) : freshState('');
    const requestId =
      kind === 'anthropic' ? `req_011C${randomString(st.idRng, 20)}` : kind === 'azure' ? uuid(st.idRng) : `req_${randomString(st.idRng, 32, HEX)}`;

    /** @type {Record<string, string>} */
    const baseHeaders = {};
    if (kind === 'anthropic') baseHeaders['request-id'] = requestId;
    else if (kind === 'azure') {
      baseHeaders['apim-request-id'] = requestId;
      baseHeaders['x-request-id'] = requestId;
    } else {
      baseHeaders['x-request-id'] = requestId;
      baseHeaders['openai-version'] = '2020-10-01';
    }
    Object.assign(baseHeaders, b?.headers ?? {});

    const latency = b?.latencyMs ?? 0;
    const ctx = { model, deployment: route.deployment ?? '', requestId, apiVersion: url.searchParams.get('api-version') ?? undefined };

    /** @returns {Plan} */
    const fail = (status, reason, extra = {}, extraHeaders = {}, delayMs = latency) => {
      const e = errorBody(kind, status, { ...ctx, ...extra });
      call.status = status;
      call.reason = reason;
      return {
        type: 'http',
        delayMs,
        status,
        headers: { ...e.headers, ...baseHeaders, ...extraHeaders },
        body: e.body,
        outcome: 'error',
        call,
      };
    };

    if (b?.down) {
      call.reason = 'down';
      return { type: 'refuse', call };
    }
    if (b?.hang) {
      call.reason = 'hang';
      return { type: 'hang', delayMs: 0, call };
    }
    if (!b || route.endpoint === 'unknown' || route.deployment === null) {
      if (b === null && route.deployment !== null && route.endpoint !== 'unknown')
        return fail(404, 'not_found', kind === 'azure' ? {} : { message: `Unknown deployment '${route.deployment}' on the mock provider.`, code: 'not_found' }, {}, 0);
      if (kind === 'anthropic') return fail(404, 'not_found', { message: 'Not Found' }, {}, 0);
      if (kind === 'azure') return fail(404, 'not_found', {}, {}, 0);
      return fail(404, 'not_found', { message: `Invalid URL (${method} ${url.pathname})` }, {}, 0);
    }
    const wantMethod = route.endpoint === 'models' ? 'GET' : 'POST';
    if (method !== wantMethod) {
      if (kind === 'anthropic') return fail(405, 'not_found', { message: `Method Not Allowed` }, {}, 0);
      return fail(404, 'not_found', { message: `Invalid URL (${method} ${url.pathname})` }, {}, 0);
    }

    // Keys.
    let presented = null;
    if (kind === 'anthropic') presented = headers.get('x-api-key');
    else if (kind === 'azure') presented = headers.get('api-key');
    else {
      const m = /^Bearer\s+(.+)$/i.exec(headers.get('authorization') ?? '');
      presented = m ? m[1].trim() : null;
    }
    if (b.apiKey !== undefined) {
      call.auth = presented === null || presented === '' ? 'missing' : presented === b.apiKey ? 'ok' : 'invalid';
      if (call.auth !== 'ok') {
        if (kind === 'anthropic')
          return fail(401, 'auth', { message: call.auth === 'missing' ? 'x-api-key header is required' : 'invalid x-api-key' });
        return fail(401, 'auth', { key: presented || null });
      }
    }

    // Versions.
    if (kind === 'anthropic' && !headers.get('anthropic-version'))
      return fail(400, 'version', { message: 'anthropic-version: header is required' });
    if (kind === 'azure' && !url.searchParams.get('api-version'))
      return { ...fail(404, 'version'), body: JSON.stringify({ error: { code: '404', message: 'Resource not found' } }) };

    // Body.
    if (route.endpoint !== 'models') {
      const bad = validate(kind, route.endpoint, bodyOk, isObj ? body : null, raw);
      if (bad) return fail(400, 'bad_request', bad);
    }

    if (route.endpoint === 'models') return success(kind, route, b, st, call, body, baseHeaders, latency, {});

    // Quota.
    if (b.quotaExhausted) return fail(kind === 'anthropic' ? 400 : 429, 'quota', { variant: 'quota' });

    // Rate limits.
    const promptTokens = estimatePromptTokens(body);
    const rl = b.rateLimit;
    /** @type {Record<string, string>} */
    let rlHeaders = {};
    if (rl && (rl.rpm || rl.tpm)) {
      while (st.window.length && st.window[0].t <= now - MINUTE) st.window.shift();
      const usedReq = st.window.length;
      const usedTok = st.window.reduce((a, e) => a + e.tokens, 0);
      const overReq = rl.rpm !== undefined && usedReq + 1 > rl.rpm;
      const tooBig = rl.tpm !== undefined && promptTokens > rl.tpm;
      const overTok = rl.tpm !== undefined && !tooBig && usedTok + promptTokens > rl.tpm;
      if (overReq || overTok || tooBig) {
        // When does enough of the window expire?
        let waitMs = 0;
        if (overReq) {
          const freeing = st.window[usedReq - rl.rpm];
          waitMs = freeing ? freeing.t + MINUTE - now : MINUTE;
        }
        if (overTok) {
          let free = rl.tpm - usedTok;
          for (const e of st.window) {
            free += e.tokens;
            if (free >= promptTokens) {
              waitMs = Math.max(waitMs, e.t + MINUTE - now);
              break;
            }
          }
        }
        const headersOut = rateHeaders(kind, rl, st, now);
        if (!tooBig) {
          headersOut['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
          if (kind !== 'anthropic') headersOut['retry-after-ms'] = String(Math.max(0, Math.ceil(waitMs)));
        }
        return fail(429, 'rate_limit', rateLimitError(kind, rl, { overReq, tooBig, usedReq, usedTok, promptTokens, waitMs, model, apiVersion: ctx.apiVersion }), headersOut);
      }
      st.window.push({ t: now, tokens: promptTokens });
      rlHeaders = rateHeaders(kind, rl, st, now);
    }

    // Scripted answers.
    let scripted = null;
    if (b.statuses && b.statuses.length) {
      if (st.next < b.statuses.length || b.repeat) {
        scripted = parseScripted(b.statuses[st.next % b.statuses.length]);
        st.next++;
      }
    }
    const delay = scripted?.latencyMs ?? latency;
    const scriptedHeaders = { ...rlHeaders, ...(scripted?.headers ?? {}) };
    if (scripted) {
      if (scripted.status === 'net') {
        call.reason = 'scripted';
        return { type: 'refuse', call };
      }
      if (scripted.status === 'hang') {
        call.reason = 'scripted';
        return { type: 'hang', delayMs: delay, call };
      }
      if (scripted.status !== 200) {
        const extra = { variant: scripted.variant, key: presented, promptTokens, contextWindow: b.contextWindow };
        return fail(scripted.status, 'scripted', extra, scriptedHeaders, delay);
      }
    }

    if (b.failRate && st.failRng() < b.failRate)
      return fail(b.failStatus ?? (kind === 'anthropic' ? 529 : 503), 'fail_rate', {}, rlHeaders, delay);
    if (b.overloaded) return fail(kind === 'anthropic' ? 529 : 503, 'overloaded', { variant: 'overloaded' }, rlHeaders, delay);

    const variant = scripted?.variant;
    if (variant === 'context' || (b.contextWindow !== undefined && promptTokens > b.contextWindow))
      return fail(400, 'context_window', { variant: 'context', promptTokens, contextWindow: b.contextWindow }, scriptedHeaders, delay);

    let filtered = variant === 'filter';
    if (!filtered && b.contentFilter?.length) {
      const text = (promptText(body) + '\n' + (Array.isArray(body.input) ? body.input.join('\n') : String(body.input ?? ''))).toLowerCase();
      filtered = b.contentFilter.some((w) => text.includes(String(w).toLowerCase()));
    }
    if (filtered && b.contentFilterMode !== 'finish_reason' && variant !== 'filter')
      return fail(400, 'content_filter', { variant: 'filter' }, scriptedHeaders, delay);

    return success(kind, route, b, st, call, body, { ...baseHeaders, ...scriptedHeaders }, delay, {
      filtered,
      malformed: b.malformed || variant === 'malformed',
      promptTokens,
    });
  }

  /** 400 for a body the provider would refuse, or null. */
  function validate(kind, endpoint, bodyOk, body, raw) {
    if (!bodyOk || (raw !== '' && body === null) || raw === '') {
      if (kind === 'anthropic') return { message: raw === '' ? 'messages: Field required' : 'There was an error parsing the body.' };
      return {
        message:
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
      };
    }
    if (endpoint === 'embeddings') {
      if (kind === 'openai' && typeof body.model !== 'string') return { message: 'you must provide a model parameter' };
      if (body.input === undefined) return { message: "Missing required parameter: 'input'.", param: 'input', code: 'missing_required_parameter' };
      return null;
    }
    if (kind === 'anthropic') {
      if (typeof body.model !== 'string') return { message: 'model: Field required' };
      if (!Array.isArray(body.messages)) return { message: 'messages: Field required' };
      if (typeof body.max_tokens !== 'number') return { message: 'max_tokens: Field required' };
      const i = body.messages.findIndex((m) => m?.role !== 'user' && m?.role !== 'assistant');
      if (i >= 0)
        return {
          message:
            body.messages[i]?.role === 'system'
              ? 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.'
              : `messages.${i}.role: Input should be 'user' or 'assistant'`,
        };
      if (body.messages.length === 0) return { message: 'messages: at least one message is required' };
      return null;
    }
    if (kind === 'openai' && typeof body.model !== 'string') return { message: 'you must provide a model parameter' };
    if (body.messages === undefined) return { message: "Missing required parameter: 'messages'.", param: 'messages', code: 'missing_required_parameter' };
    if (!Array.isArray(body.messages)) return { message: "Invalid type for 'messages': expected an array.", param: 'messages', code: 'invalid_type' };
    if (body.messages.length === 0)
      return { message: "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", param: 'messages', code: 'empty_array' };
    return null;
  }

  /** Rate-limit headers as the provider sends them, for the current window. */
  function rateHeaders(kind, rl, st, now) {
    const usedReq = st.window.length;
    const usedTok = st.window.reduce((a, e) => a + e.tokens, 0);
    const newest = st.window.length ? st.window[st.window.length - 1].t : now;
    const resetMs = st.window.length ? newest + MINUTE - now : 0;
    /** @type {Record<string, string>} */
    const h = {};
    if (kind === 'anthropic') {
      if (rl.rpm !== undefined) {
        h['anthropic-ratelimit-requests-limit'] = String(rl.rpm);
        h['anthropic-ratelimit-requests-remaining'] = String(Math.max(0, rl.rpm - usedReq));
        h['anthropic-ratelimit-requests-reset'] = rfc3339(now + resetMs);
      }
      if (rl.tpm !== undefined) {
        h['anthropic-ratelimit-tokens-limit'] = String(rl.tpm);
        h['anthropic-ratelimit-tokens-remaining'] = String(Math.max(0, rl.tpm - usedTok));
        h['anthropic-ratelimit-tokens-reset'] = rfc3339(now + resetMs);
      }
      return h;
    }
    if (rl.rpm !== undefined) {
      h['x-ratelimit-limit-requests'] = String(rl.rpm);
      h['x-ratelimit-remaining-requests'] = String(Math.max(0, rl.rpm - usedReq));
      h['x-ratelimit-reset-requests'] = formatDuration(resetMs);
    }
    if (rl.tpm !== undefined) {
      h['x-ratelimit-limit-tokens'] = String(rl.tpm);
      h['x-ratelimit-remaining-tokens'] = String(Math.max(0, rl.tpm - usedTok));
      h['x-ratelimit-reset-tokens'] = formatDuration(resetMs);
    }
    return h;
  }

  function rateLimitError(kind, rl, r) {
    const wait = formatDuration(r.waitMs);
    if (kind === 'anthropic') {
      const what = r.overReq ? `${rl.rpm} requests per minute` : `${rl.tpm} input tokens per minute`;
      return {
        message: `This request would exceed the rate limit for your organization of ${what}. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.`,
      };
    }
    if (kind === 'azure' && !r.tooBig) {
      return {
        azureCode: '429',
        message: `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${r.apiVersion ?? '2024-02-01'} have exceeded ${r.overReq ? 'call' : 'token'} rate limit of your current OpenAI S0 pricing tier. Please retry after ${Math.max(1, Math.ceil(r.waitMs / 1000))} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
      };
    }
    const org = 'org-switchyardmock';
    if (r.tooBig)
      return {
        type: 'tokens',
        code: 'rate_limit_exceeded',
        message: `Request too large for ${r.model} in organization ${org} on tokens per min (TPM): Limit ${rl.tpm}, Requested ${r.promptTokens}. The input or output tokens must be reduced in order to run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      };
    if (r.overReq)
      return {
        type: 'requests',
        code: 'rate_limit_exceeded',
        message: `Rate limit reached for ${r.model} in organization ${org} on requests per min (RPM): Limit ${rl.rpm}, Used ${r.usedReq}, Requested 1. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
      };
    return {
      type: 'tokens',
      code: 'rate_limit_exceeded',
      message: `Rate limit reached for ${r.model} in organization ${org} on tokens per min (TPM): Limit ${rl.tpm}, Used ${r.usedTok}, Requested ${r.promptTokens}. Please try again in ${wait}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
    };
  }

  /** The 200 answer: a body or a list of SSE frames. */
  async function success(kind, route, b, st, call, body, headers, delayMs, flags) {
    const model = call.model ?? route.deployment;
    const created = Math.floor(clock.now() / 1000);
    call.status = 200;

    if (route.endpoint === 'models') {
      const ids = b.models ?? ['mock-model'];
      return {
        type: 'http', delayMs, status: 200, outcome: 'ok', call,
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ object: 'list', data: ids.map((id) => ({ id, object: 'model', created, owned_by: 'switchyard-mock' })) }),
      };
    }

    if (route.endpoint === 'embeddings') {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      const dims = body.dimensions ?? b.embeddingDimensions ?? 16;
      const data = inputs.map((x, index) => {
        const vec = embed(typeof x === 'string' ? x : JSON.stringify(x), dims);
        return { object: 'embedding', index, embedding: body.encoding_format === 'base64' ? toBase64(vec) : Array.from(vec) };
      });
      const tokens = flags.promptTokens;
      return {
        type: 'http', delayMs, status: 200, outcome: flags.malformed ? 'malformed' : 'ok', call,
        headers: { 'content-type': 'application/json', ...headers },
        body: maybeBreak(JSON.stringify({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }), flags.malformed),
      };
    }

    const info = {
      deployment: route.deployment,
      kind,
      endpoint: route.endpoint,
      model: call.model,
      body,
      prompt: lastUserText(body),
      headers: call.headers,
    };
    let text;
    if (flags.filtered) text = '';
    else if (typeof b.reply === 'function') text = String(await b.reply(info));
    else if (typeof b.reply === 'string') text = b.reply;
    else text = defaultReply(info);

    const promptTokens = flags.promptTokens;
    const completionTokens = estimateTokens(text);
    const finish = kind === 'anthropic' ? (flags.filtered ? 'refusal' : 'end_turn') : flags.filtered ? 'content_filter' : 'stop';
    const outcome = flags.malformed ? 'malformed' : flags.filtered ? 'content_filter' : 'ok';
    if (flags.malformed) call.reason = 'malformed';
    else if (flags.filtered) call.reason = 'content_filter';

    const id = kind === 'anthropic' ? `msg_01${randomString(st.idRng, 22)}` : `chatcmpl-${randomString(st.idRng, 29)}`;

    if (call.stream) {
      const frames = kind === 'anthropic'
        ? anthropicFrames({ id, model, text, finish, promptTokens, completionTokens, b, malformed: flags.malformed })
        : openaiFrames({ kind, id, created, model, text, finish, promptTokens, completionTokens, b, filtered: flags.filtered, malformed: flags.malformed,
            includeUsage: body.stream_options?.include_usage === true });
      let cut = false;
      let out = frames;
      let streamOutcome = outcome;
      if (b.cutAfterChunks !== undefined) {
        out = truncateAfterContent(frames, b.cutAfterChunks);
        cut = true;
        streamOutcome = 'cut';
        call.reason = 'cut';
      } else if (b.errorAfterChunks !== undefined) {
        out = truncateAfterContent(frames, b.errorAfterChunks);
        out.push({ delay: 0, text: kind === 'anthropic'
          ? `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`
          : `data: ${JSON.stringify(oaError('The server had an error while processing your request. Sorry about that!', 'server_error'))}\n\n` });
        streamOutcome = 'stream_error';
        call.reason = 'stream_error';
      }
      return {
        type: 'http', delayMs, status: 200, outcome: streamOutcome, call, cut,
        headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers },
        frames: out,
      };
    }

    const json =
      kind === 'anthropic'
        ? anthropicMessage({ id, model, content: text, inputTokens: promptTokens, outputTokens: completionTokens, stopReason: finish })
        : openaiCompletion({ id, created, model, content: text, promptTokens, completionTokens, finishReason: finish, azure: kind === 'azure' });
    return {
      type: 'http', delayMs, status: 200, outcome, call,
      headers: { 'content-type': 'application/json', ...(kind === 'openai' ? { 'openai-processing-ms': String(delayMs) } : {}), ...headers },
      body: maybeBreak(json, flags.malformed),
    };
  }

  function defaultReply(info) {
    const said = info.prompt.length > 80 ? info.prompt.slice(0, 80) + '...' : info.prompt;
    return `Hello from ${info.deployment} (${info.model ?? 'unknown'}). You said: ${said}`;
  }

  /**
   * Carries a plan out through the clock. Zero delays run synchronously, so a
   * test's manual clock need not be advanced for them. Returns `cancel()`.
   * @param {Plan} plan
   * @param {PlanSink} sink
   */
  function play(plan, sink) {
    const call = plan.call;
    let timer = null;
    let done = false;
    const settle = (outcome) => {
      if (done) return;
      done = true;
      if (call.outcome === 'pending' || outcome === 'aborted' || outcome === 'cancelled') call.outcome = outcome;
      call.end = clock.now();
    };
    const later = (ms, fn) => {
      if (ms > 0)
        timer = clock.setTimeout(() => {
          timer = null;
          if (!done) fn();
        }, ms);
      else fn();
    };

    if (plan.type === 'refuse') {
      settle('refused');
      sink.refuse();
      return () => {};
    }
    if (plan.type === 'hang') {
      call.outcome = 'hang';
      return (why = 'aborted') => {
        if (timer !== null) clock.clearTimeout(timer);
        settle(why);
      };
    }
    const frames = plan.frames;
    const run = (i) => {
      while (!done) {
        if (i === frames.length) {
          settle(plan.outcome);
          if (plan.cut) sink.cut();
          else sink.end();
          return;
        }
        sink.write(frames[i].text);
        i++;
        if (i < frames.length && frames[i].delay > 0) return later(frames[i].delay, () => run(i));
      }
    };
    later(plan.delayMs, () => {
      sink.head(plan.status, plan.headers);
      if (!frames) {
        settle(plan.outcome);
        sink.write(plan.body ?? '');
        sink.end();
      } else if (frames.length && frames[0].delay > 0) later(frames[0].delay, () => run(0));
      else run(0);
    });
    return (why = 'aborted') => {
      if (done) return;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      settle(why);
    };
  }

  /**
   * WHATWG fetch over the mock, in process: resolves to a real Response,
   * honours `init.signal`, rejects like undici (`TypeError('fetch failed')`
   * with an ECONNREFUSED cause) when the deployment is down, and errors the
   * body stream like undici (`TypeError('terminated')`) when a stream is cut.
   * @param {string | URL | Request} input
   * @param {RequestInit} [init]
   * @returns {Promise<Response>}
   */
  async function fetch(input, init) {
    init = init ?? {};
    const isReq = typeof Request !== 'undefined' && input instanceof Request;
    const href = isReq ? input.url : new URL(String(input), origin).href;
    const signal = init.signal ?? (isReq ? input.signal : undefined) ?? null;
    if (signal?.aborted) throw signal.reason;
    const req = isReq ? new Request(input, init) : new Request(href, init);
    const text = req.body ? await req.text() : '';
    if (signal?.aborted) throw signal.reason;
    const plan = await handle({ method: req.method, url: href, headers: req.headers, body: text });
    if (signal?.aborted) {
      plan.call.outcome = 'aborted';
      plan.call.end = clock.now();
      throw signal.reason;
    }

    return new Promise((resolve, reject) => {
      const enc = new TextEncoder();
      /** @type {ReadableStreamDefaultController<Uint8Array> | null} */
      let controller = null;
      const early = []; // frames written before the stream's start() ran
      let ended = false;
      let settled = false;
      /** @type {any} a cut waiting for the reader to drain what came before it */
      let pendingError = null;
      let cancel = () => {};
      const onAbort = () => {
        cancel('aborted');
        const reason = signal?.reason;
        if (!settled) {
          settled = true;
          reject(reason);
        } else if (controller && !ended) {
          ended = true;
          try {
            controller.error(reason);
          } catch {}
        }
      };
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      signal?.addEventListener('abort', onAbort, { once: true });

      cancel = play(plan, {
        refuse() {
          cleanup();
          settled = true;
          const port = Number(new URL(href).port) || 80;
          const cause = Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), {
            errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address: '127.0.0.1', port,
          });
          reject(new TypeError('fetch failed', { cause }));
        },
        head(status, headers) {
          settled = true;
          const stream = new ReadableStream({
            start(c) {
              controller = c;
              for (const t of early) c.enqueue(enc.encode(t));
              early.length = 0;
            },
            pull(c) {
              if (pendingError) c.error(pendingError);
            },
            cancel() {
              ended = true;
              cleanup();
              cancel('cancelled');
            },
          });
          const res = new Response(stream, { status, statusText: STATUS_TEXT[status] ?? (status === 200 ? 'OK' : ''), headers });
          Object.defineProperty(res, 'url', { value: href });
          resolve(res);
        },
        write(text) {
          if (ended || text === '') return;
          if (controller) controller.enqueue(enc.encode(text));
          else early.push(text);
        },
        end() {
          if (ended) return;
          ended = true;
          cleanup();
          if (controller) controller.close();
          else queueMicrotask(() => controller?.close());
        },
        cut() {
          if (ended) return;
          ended = true;
          cleanup();
          const cause = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
          const err = new TypeError('terminated', { cause });
          // error() would drop the chunks still queued: a reader of a real
          // socket gets the bytes that arrived before the connection broke.
          if (controller && (controller.desiredSize ?? 0) > 0) controller.error(err);
          else pendingError = err;
        },
      });
    });
  }

  const api = {
    fetch,
    configure,
    reset,
    handle,
    play,
    calls,
    clock,
    /**
     * Number of calls received by deployment `name`.
     * @param {string} name
     */
    callsTo(name) {
      return calls.filter((c) => c.deployment === name).length;
    },
    /**
     * Base URL of a deployment for the in-process fetch, in LiteLLM's terms:
     * `openai` -> `<origin>/N/v1`, `azure` and `anthropic` -> `<origin>/N`.
     * @param {string} name
     * @param {ProviderKind} [kind]
     */
    baseUrl(name, kind = 'openai') {
      return `${origin}/${encodeURIComponent(name)}${kind === 'openai' ? '/v1' : ''}`;
    },
    /**
     * Serves this provider over HTTP on 127.0.0.1 (Node only; loads ./server.js).
     * @param {{ host?: string, port?: number }} [opts]
     */
    listen(opts) {
      return import('./server.js').then((m) => m.startMockServer(api, opts));
    },
  };
  reset();
  return api;
}

// ---------------------------------------------------------------- streams and bodies

/**
 * OpenAI's `chat.completion` body (JSON text). With `azure`, Azure's
 * `prompt_filter_results` and per-choice `content_filter_results` are added.
 * @param {{ id?: string, created?: number, model: string, content: string, promptTokens?: number,
 *   completionTokens?: number, finishReason?: string, azure?: boolean }} o
 * @returns {string}
 */
export function openaiCompletion(o) {
  const pt = o.promptTokens ?? 10;
  const ct = o.completionTokens ?? estimateTokens(o.content);
  const finish = o.finishReason ?? 'stop';
  /** @type {any} */
  const choice = { index: 0, message: { role: 'assistant', content: o.content, refusal: null }, logprobs: null, finish_reason: finish };
  /** @type {any} */
  const json = {
    id: o.id ?? 'chatcmpl-mock',
    object: 'chat.completion',
    created: o.created ?? 0,
    model: o.model,
    choices: [choice],
    usage: { prompt_tokens: pt, completion_tokens: ct, total_tokens: pt + ct },
    system_fingerprint: 'fp_switchyard_mock',
  };
  if (o.azure) {
    json.prompt_filter_results = [{ prompt_index: 0, content_filter_results: AZURE_FILTER_OK() }];
    choice.content_filter_results =
      finish === 'content_filter' ? { ...AZURE_FILTER_OK(), violence: { filtered: true, severity: 'medium' } } : AZURE_FILTER_OK();
  }
  return JSON.stringify(json);
}

/**
 * Anthropic's `message` body (JSON text).
 * @param {{ id?: string, model: string, content: string, inputTokens?: number, outputTokens?: number,
 *   stopReason?: string }} o
 * @returns {string}
 */
export function anthropicMessage(o) {
  return JSON.stringify({
    id: o.id ?? 'msg_mock',
    type: 'message',
    role: 'assistant',
    model: o.model,
    content: o.content ? [{ type: 'text', text: o.content }] : [],
    stop_reason: o.stopReason ?? 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: o.inputTokens ?? 10, output_tokens: o.outputTokens ?? estimateTokens(o.content) },
  });
}

function maybeBreak(json, malformed) {
  // A body cut short in the middle of a string, as a proxy that gives up does.
  return malformed ? json.slice(0, Math.max(1, Math.floor(json.length * 0.6))) : json;
}

/**
 * The frames sent before a stream breaks after `n` content chunks: the
 * opening frames and the first `n` content frames, never the closing ones
 * (a stream with fewer chunks breaks right after its last content chunk).
 */
function truncateAfterContent(frames, n) {
  let seen = 0;
  return frames.filter((f) => !f.tail && (!f.content || seen++ < n));
}

function openaiFrames(o) {
  const { kind, id, created, model, text, finish, promptTokens, completionTokens, b, includeUsage } = o;
  const usageField = includeUsage ? { usage: null } : {};
  const chunk = (choices, extra = {}) => ({
    id, object: 'chat.completion.chunk', created, model, system_fingerprint: 'fp_switchyard_mock', choices, ...usageField, ...extra,
  });
  const data = (obj) => `data: ${JSON.stringify(obj)}\n\n`;
  /** @type {Frame[]} */
  const frames = [];
  if (kind === 'azure')
    frames.push({ delay: 0, text: data({ choices: [], created: 0, id: '', model: '', object: '', prompt_filter_results: [{ prompt_index: 0, content_filter_results: AZURE_FILTER_OK() }] }) });
  frames.push({ delay: 0, text: data(chunk([{ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null }])) });
  splitTokens(text).forEach((tok, i) => {
    const c = { index: 0, delta: { content: tok }, logprobs: null, finish_reason: null };
    const t = o.malformed && i === 0 ? data(chunk([c])).slice(0, 60) + '\n\n' : data(chunk([c]));
    frames.push({ delay: i === 0 ? b.firstTokenMs ?? 0 : b.tokenIntervalMs ?? 0, text: t, content: true });
  });
  frames.push({ delay: 0, tail: true, text: data(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }])) });
  if (includeUsage)
    frames.push({ delay: 0, tail: true, text: data(chunk([], { usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens } })) });
  frames.push({ delay: 0, tail: true, text: 'data: [DONE]\n\n' });
  return frames;
}

function anthropicFrames(o) {
  const { id, model, text, finish, promptTokens, completionTokens, b } = o;
  const ev = (type, obj) => `event: ${type}\ndata: ${JSON.stringify(obj)}\n\n`;
  /** @type {Frame[]} */
  const frames = [
    { delay: 0, text: ev('message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: promptTokens, output_tokens: 1 } } }) },
    { delay: 0, text: ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) },
    { delay: 0, text: ev('ping', { type: 'ping' }) },
  ];
  splitTokens(text).forEach((tok, i) => {
    let t = ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: tok } });
    if (o.malformed && i === 0) t = t.slice(0, 70) + '\n\n';
    frames.push({ delay: i === 0 ? b.firstTokenMs ?? 0 : b.tokenIntervalMs ?? 0, text: t, content: true });
  });
  frames.push({ delay: 0, tail: true, text: ev('content_block_stop', { type: 'content_block_stop', index: 0 }) });
  frames.push({ delay: 0, tail: true, text: ev('message_delta', { type: 'message_delta', delta: { stop_reason: finish, stop_sequence: null }, usage: { output_tokens: completionTokens } }) });
  frames.push({ delay: 0, tail: true, text: ev('message_stop', { type: 'message_stop' }) });
  return frames;
}

/** A deterministic unit vector for a text. */
function embed(text, dims) {
  const rng = makeRng(fnv1a(text));
  const v = new Float32Array(dims);
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    v[i] = rng() * 2 - 1;
    norm += v[i] * v[i];
  }
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dims; i++) v[i] /= norm;
  return v;
}

function toBase64(vec) {
  const bytes = new Uint8Array(vec.buffer, vec.byteOffset, vec.byteLength);
  let bin = '';
  for (const x of bytes) bin += String.fromCharCode(x);
  return btoa(bin);
}

/**
 * Parses a Server-Sent Events text into `{event, data}` records (`event`
 * is 'message' when absent). A helper for tests and demos.
 * @param {string} text
 * @returns {{ event: string, data: string }[]}
 */
export function parseSSE(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    if (!block.trim()) continue;
    let event = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const value = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    out.push({ event, data: data.join('\n') });
  }
  return out;
}

/**
 * A manual clock for tests and simulations: time moves only when `advance`
 * is called; due timers fire in order, with promise jobs flushed between them.
 * @param {number} [start]
 */
export function createManualClock(start = 0) {
  let t = start;
  let nextId = 1;
  /** @type {Map<number, { at: number, fn: () => void }>} */
  const timers = new Map();
  const flush = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  };
  return {
    now: () => t,
    setTimeout(fn, ms) {
      const id = nextId++;
      timers.set(id, { at: t + Math.max(0, ms || 0), fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id);
    },
    /** Number of pending timers. */
    get pending() {
      return timers.size;
    },
    /** Moves time forward by `ms`, firing due timers in time order. */
    async advance(ms) {
      const target = t + ms;
      await flush();
      for (;;) {
        let best = null;
        for (const [id, x] of timers) if (x.at <= target && (!best || x.at < best[1].at || (x.at === best[1].at && id < best[0]))) best = [id, x];
        if (!best) break;
        timers.delete(best[0]);
        t = best[1].at;
        best[1].fn();
        await flush();
      }
      t = target;
      await flush();
    },
  };
}
