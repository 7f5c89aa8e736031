// The mock LLM provider: OpenAI-, Azure- and Anthropic-compatible, in the
// providers' real wire formats (bodies, errors, headers, streams), as an
// in-process fetch. js/mock/server.js serves the same over HTTP. No Node-only
// imports here, so a browser page can run it too.
//
// A deployment named N lives at base URL <origin>/N:
//   OpenAI     POST /N/v1/chat/completions (or /N/chat/completions)
//   Azure      POST /N/openai/deployments/<dep>/chat/completions?api-version=...
//   Anthropic  POST /N/v1/messages

/**
 * @typedef {object} Behaviour How one mock deployment answers. All optional.
 * @property {number[]} [statuses] statuses answered in turn (with the provider's real error body), then healthy
 * @property {number} [latencyMs] delay before the answer (or the first stream chunk)
 * @property {number} [tokenIntervalMs] delay between stream chunks
 * @property {boolean} [down] the connection is refused
 * @property {boolean} [hang] never answers (until aborted)
 * @property {{rpm: number}} [rateLimit] requests per minute, then 429 with retry headers
 * @property {number} [contextWindow] tokens (ceil(chars/4)); longer prompts get the real context error
 * @property {string[]} [contentFilter] words that trigger the provider's content-filter error
 * @property {'error'|'finish_reason'} [contentFilterMode] 400 error, or 200 with finish_reason content_filter
 * @property {string} [apiKey] the only key accepted; others get a 401
 * @property {boolean} [quotaExhausted] the account is out of credit
 * @property {boolean} [malformed] 200 with a broken body
 * @property {number} [cutAfterChunks] a stream drops after this many chunks
 * @property {string | ((req: any) => string)} [reply] the answer's text
 */

const enc = new TextEncoder();

const OPENAI_ERRORS = {
  400: ['invalid_request_error', null, 'Invalid request: the request body is not valid.'],
  401: ['invalid_request_error', 'invalid_api_key', null],
  403: ['invalid_request_error', 'unsupported_country_region_territory', 'Country, region, or territory not supported'],
  404: ['invalid_request_error', 'model_not_found', null],
  408: ['timeout', null, 'Request timed out.'],
  409: ['invalid_request_error', 'conflict', 'Conflict: the request conflicts with another request.'],
  422: ['invalid_request_error', null, 'Unprocessable entity.'],
  429: ['requests', 'rate_limit_exceeded', null],
  500: ['server_error', null, 'The server had an error while processing your request. Sorry about that!'],
  502: ['server_error', null, 'Bad gateway.'],
  503: ['server_error', null, 'The engine is currently overloaded, please try again later.'],
  504: ['server_error', null, 'Gateway timeout.'],
};

const ANTHROPIC_ERRORS = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'The requested resource could not be found.'],
  408: ['timeout_error', 'Request timed out.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error.'],
  529: ['overloaded_error', 'Overloaded'],
};

/** Masks a key as OpenAI does in its 401 message: never the whole key. */
function maskKey(key) {
  if (!key) return '';
  return key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : '***';
}

/**
 * The exact error a provider sends for |status| (and a variant).
 * @param {'openai'|'azure'|'anthropic'} provider
 * @param {number} status
 * @param {{variant?: ''|'context'|'policy'|'quota'|'auth', model?: string, key?: string, limit?: number, tokens?: number}} [opts]
 * @returns {{status: number, headers: Record<string,string>, body: string}}
 */
export function errorBody(provider, status, opts = {}) {
  const { variant = '', model = 'model', key = '', limit = 8192, tokens = 9000 } = opts;
  const headers = { 'content-type': 'application/json' };
  if (provider === 'anthropic') {
    let [type, message] = ANTHROPIC_ERRORS[status] ?? ['api_error', `Error ${status}`];
    if (variant === 'context') message = `prompt is too long: ${tokens} tokens > ${limit} maximum`;
    if (variant === 'quota') message = 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.';
    if (variant === 'policy') message = 'Output blocked by content filtering policy';
    return { status, headers, body: JSON.stringify({ type: 'error', error: { type, message } }) };
  }
  let [type, code, message] = OPENAI_ERRORS[status] ?? ['server_error', null, `Error ${status}`];
  let param = null;
  if (status === 401 || variant === 'auth')
    message = `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
  if (status === 404) message = `The model \`${model}\` does not exist or you do not have access to it.`;
  if (status === 429) message = `Rate limit reached for ${model} in organization org-mock on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.`;
  if (variant === 'quota') {
    type = 'insufficient_quota';
    code = 'insufficient_quota';
    message = 'You exceeded your current quota, please check your plan and billing details.';
  }
  if (variant === 'context') {
    code = 'context_length_exceeded';
    param = 'messages';
    message = `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${tokens} tokens. Please reduce the length of the messages.`;
  }
  if (variant === 'policy') {
    if (provider === 'azure') {
      return { status, headers, body: JSON.stringify({ error: {
        code: 'content_filter', status: 400, param: 'prompt',
        message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
        innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true, severity: 'high' } } },
      } }) };
    }
    code = 'content_policy_violation';
    message = 'Your request was rejected as a result of our safety system.';
  }
  return { status, headers, body: JSON.stringify({ error: { message, type, param, code } }) };
}

/**
 * OpenAI's chat.completion.
 * @param {{id?: string, created?: number, model: string, content: string, promptTokens?: number, completionTokens?: number, finishReason?: string}} o
 */
export function openaiCompletion(o) {
  const pt = o.promptTokens ?? 10, ct = o.completionTokens ?? Math.max(1, Math.ceil(o.content.length / 4));
  return JSON.stringify({
    id: o.id ?? 'chatcmpl-mock', object: 'chat.completion', created: o.created ?? 0, model: o.model,
    choices: [{ index: 0, message: { role: 'assistant', content: o.content, refusal: null }, logprobs: null,
      finish_reason: o.finishReason ?? 'stop' }],
    usage: { prompt_tokens: pt, completion_tokens: ct, total_tokens: pt + ct },
    system_fingerprint: 'fp_mock',
  });
}

/**
 * Anthropic's message.
 * @param {{id?: string, model: string, content: string, inputTokens?: number, outputTokens?: number, stopReason?: string}} o
 */
export function anthropicMessage(o) {
  return JSON.stringify({
    id: o.id ?? 'msg_mock', type: 'message', role: 'assistant', model: o.model,
    content: [{ type: 'text', text: o.content }], stop_reason: o.stopReason ?? 'end_turn', stop_sequence: null,
    usage: { input_tokens: o.inputTokens ?? 10, output_tokens: o.outputTokens ?? Math.max(1, Math.ceil(o.content.length / 4)) },
  });
}

function promptTokens(req) {
  let chars = 0;
  for (const m of req.messages ?? []) {
    if (typeof m.content === 'string') chars += m.content.length;
    else for (const p of m.content ?? []) chars += (p.text ?? '').length;
  }
  if (typeof req.system === 'string') chars += req.system.length;
  return Math.ceil(chars / 4);
}

function lastUserText(req) {
  const m = [...(req.messages ?? [])].reverse().find((x) => x.role === 'user');
  if (!m) return '';
  return typeof m.content === 'string' ? m.content : (m.content ?? []).map((p) => p.text ?? '').join('');
}

/** OpenAI's stream events for |text|, as SSE frames. */
function openaiStream(id, created, model, text, includeUsage, pt) {
  const words = text.match(/\S+\s*/g) ?? [''];
  const chunk = (delta, finish) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  const frames = [chunk({ role: 'assistant', content: '' }, null), ...words.map((w) => chunk({ content: w }, null)), chunk({}, 'stop')];
  if (includeUsage)
    frames.push(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [],
      usage: { prompt_tokens: pt, completion_tokens: words.length, total_tokens: pt + words.length } })}\n\n`);
  frames.push('data: [DONE]\n\n');
  return frames;
}

/** Anthropic's stream events for |text|. */
function anthropicStream(id, model, text, pt) {
  const words = text.match(/\S+\s*/g) ?? [''];
  const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  return [
    ev('message_start', { message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null,
      stop_sequence: null, usage: { input_tokens: pt, output_tokens: 1 } } }),
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', {}),
    ...words.map((w) => ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: w } })),
    ev('content_block_stop', { index: 0 }),
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: words.length } }),
    ev('message_stop', {}),
  ];
}

/** Deterministic PRNG (mulberry32) for failRate. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const systemClock = { now: () => Date.now(), setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h) };

/**
 * @param {{seed?: number, clock?: {now(): number, setTimeout(fn: () => void, ms: number): any, clearTimeout(h: any): void}, strict?: boolean}} [options]
 */
export function createMockProvider(options = {}) {
  const clock = options.clock ?? systemClock;
  const random = rng(options.seed ?? 1);
  /** @type {Map<string, Behaviour & {calls: number, window: {start: number, count: number}}>} */
  const deployments = new Map();
  /** @type {any[]} */
  const calls = [];
  let serial = 0;

  const state = (name) => {
    if (!deployments.has(name)) deployments.set(name, { calls: 0, window: { start: 0, count: 0 } });
    return deployments.get(name);
  };

  const sleep = (ms, signal) => new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    if (!ms) return resolve();
    const h = clock.setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clock.clearTimeout(h); reject(abortError()); }, { once: true });
  });

  /** Decides the answer: {status, headers, body} or a stream of frames, or 'down'/'hang'. */
  function answer(name, provider, req, headers, url) {
    const d = state(name);
    if (options.strict && !deployments.has(name)) return errorBody(provider, 404, { model: req.model });
    d.calls++;
    const model = req.model ?? url.split('/deployments/')[1]?.split('/')[0] ?? 'model';
    if (d.down) return 'down';
    if (d.hang) return 'hang';
    const key = provider === 'anthropic' ? headers['x-api-key'] : provider === 'azure' ? headers['api-key']
      : (headers.authorization ?? '').replace(/^Bearer\s+/i, '');
    if (d.apiKey !== undefined && key !== d.apiKey) return errorBody(provider, 401, { key, model });
    if (provider === 'anthropic' && !headers['anthropic-version'])
      return errorBody(provider, 400, { model });
    if (provider === 'azure' && !url.includes('api-version=')) return errorBody(provider, 404, { model });
    const scripted = d.statuses?.length ? d.statuses.shift() : undefined;
    if (scripted !== undefined && scripted !== 200) return errorBody(provider, scripted, { model, key });
    if (d.failRate && random() < d.failRate) return errorBody(provider, provider === 'anthropic' ? 529 : 503, { model });
    if (d.quotaExhausted) return errorBody(provider, provider === 'anthropic' ? 400 : 429, { variant: 'quota', model });
    if (d.overloaded) return errorBody(provider, provider === 'anthropic' ? 529 : 503, { model });
    const rl = {};
    if (d.rateLimit) {
      const now = clock.now();
      if (now - d.window.start >= 60000) d.window = { start: now, count: 0 };
      const resetMs = d.window.start + 60000 - now;
      if (d.window.count >= d.rateLimit.rpm) {
        const e = errorBody(provider, 429, { model });
        if (provider === 'anthropic') {
          e.headers['retry-after'] = String(Math.ceil(resetMs / 1000));
          e.headers['anthropic-ratelimit-requests-remaining'] = '0';
          e.headers['anthropic-ratelimit-requests-reset'] = new Date(now + resetMs).toISOString();
        } else {
          Object.assign(e.headers, { 'x-ratelimit-limit-requests': String(d.rateLimit.rpm), 'x-ratelimit-remaining-requests': '0',
            'x-ratelimit-reset-requests': `${Math.ceil(resetMs / 1000)}s`, 'retry-after': String(Math.ceil(resetMs / 1000)),
            'retry-after-ms': String(resetMs) });
        }
        return e;
      }
      d.window.count++;
      const remaining = String(d.rateLimit.rpm - d.window.count);
      if (provider === 'anthropic') rl['anthropic-ratelimit-requests-remaining'] = remaining;
      else Object.assign(rl, { 'x-ratelimit-limit-requests': String(d.rateLimit.rpm), 'x-ratelimit-remaining-requests': remaining });
    }
    const pt = promptTokens(req);
    if (d.contextWindow && pt > d.contextWindow)
      return errorBody(provider, 400, { variant: 'context', limit: d.contextWindow, tokens: pt, model });
    const text = lastUserText(req);
    let filtered = false;
    if (d.contentFilter?.some((w) => text.toLowerCase().includes(w.toLowerCase()))) {
      if (d.contentFilterMode !== 'finish_reason') return errorBody(provider, 400, { variant: 'policy', model });
      filtered = true;
    }
    const reply = filtered ? '' : typeof d.reply === 'function' ? d.reply(req) : d.reply ?? `Mock answer from ${name}: ${text.slice(0, 64)}`;
    const id = `${provider === 'anthropic' ? 'msg' : 'chatcmpl'}-mock${++serial}`;
    const created = Math.floor(clock.now() / 1000);
    const hdrs = { 'content-type': 'application/json', ...rl };
    if (d.malformed) return { status: 200, headers: hdrs, body: '{"id":"chatcmpl-broken","choices":[{"ind' };
    if (req.stream) {
      const frames = provider === 'anthropic' ? anthropicStream(id, model, reply, pt)
        : openaiStream(id, created, model, reply, req.stream_options?.include_usage, pt);
      return { status: 200, headers: { ...hdrs, 'content-type': 'text/event-stream' }, frames };
    }
    const body = provider === 'anthropic'
      ? anthropicMessage({ id, model, content: reply, inputTokens: pt, stopReason: filtered ? 'refusal' : 'end_turn' })
      : openaiCompletion({ id, created, model, content: reply, promptTokens: pt, finishReason: filtered ? 'content_filter' : 'stop' });
    return { status: 200, headers: hdrs, body };
  }

  /**
   * Routes and answers one request. Used by fetch below and by server.js.
   * @returns {Promise<'down' | {status: number, headers: Record<string,string>, body?: string, frames?: string[], behaviour: any}>}
   */
  async function handle(method, url, headers, bodyText, signal) {
    const path = new URL(url, 'http://mock').pathname;
    const parts = path.split('/').filter(Boolean);
    const name = parts[0] ?? '';
    const rest = '/' + parts.slice(1).join('/');
    const provider = rest === '/v1/messages' ? 'anthropic' : rest.startsWith('/openai/deployments/') ? 'azure' : 'openai';
    const d = state(name);
    let req = {};
    try { req = JSON.parse(bodyText || '{}'); } catch { /* answered as a bad request below */ }
    const known = ['/v1/chat/completions', '/chat/completions', '/v1/messages', '/v1/embeddings', '/embeddings'];
    let out;
    if (method !== 'POST' || (!known.includes(rest) && provider !== 'azure')) out = errorBody(provider, 404, { model: req.model });
    else if (!bodyText || !req || typeof req !== 'object' || !Array.isArray(req.messages) && !rest.endsWith('embeddings'))
      out = errorBody(provider, 400, {});
    else if (rest.endsWith('embeddings')) {
      const inputs = Array.isArray(req.input) ? req.input : [req.input];
      out = { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ object: 'list', model: req.model,
        data: inputs.map((s, i) => ({ object: 'embedding', index: i, embedding: [String(s).length / 100, 0.5, -0.25] })),
        usage: { prompt_tokens: inputs.length, total_tokens: inputs.length } }) };
    } else out = answer(name, provider, req, headers, url);
    calls.push({ name, provider, model: req.model, path: rest, time: clock.now(),
      status: out === 'down' ? 0 : out === 'hang' ? -1 : out.status, stream: !!req.stream });
    if (out === 'down') return out;
    if (out === 'hang') {
      await new Promise((_, reject) => signal?.addEventListener('abort', () => reject(abortError()), { once: true }));
    }
    await sleep(d.latencyMs ?? 0, signal);
    return { ...out, behaviour: d };
  }

  /** @type {typeof fetch} */
  async function mockFetch(input, init = {}) {
    const url = typeof input === 'string' ? input : input.url;
    const headers = {};
    for (const [k, v] of new Headers(init.headers ?? {})) headers[k] = v;
    const bodyText = init.body === undefined || init.body === null ? ''
      : typeof init.body === 'string' ? init.body : new TextDecoder().decode(init.body);
    const out = await handle(init.method ?? 'GET', url, headers, bodyText, init.signal);
    if (out === 'down') throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } });
    if (!out.frames) return new Response(out.body, { status: out.status, headers: out.headers });
    const { frames, behaviour } = out;
    const signal = init.signal;
    const stream = new ReadableStream({
      async pull(ctl) {
        const i = stream.sent ?? 0;
        if (behaviour.cutAfterChunks !== undefined && i >= behaviour.cutAfterChunks) {
          ctl.error(Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } }));
          return;
        }
        if (i >= frames.length) return ctl.close();
        if (i > 0) {
          try { await sleep(behaviour.tokenIntervalMs ?? 0, signal); } catch (e) { return ctl.error(e); }
        }
        stream.sent = i + 1;
        ctl.enqueue(enc.encode(frames[i]));
      },
    });
    return new Response(stream, { status: out.status, headers: out.headers });
  }

  return {
    fetch: mockFetch,
    handle,
    calls,
    /** @param {string} name @param {Behaviour} behaviour replaces what |name| had */
    configure(name, behaviour) {
      deployments.set(name, { ...behaviour, statuses: [...(behaviour.statuses ?? [])], calls: 0, window: { start: 0, count: 0 } });
    },
    /** Calls received by deployment |name|. */
    callsTo(name) { return calls.filter((c) => c.name === name).length; },
    reset() { deployments.clear(); calls.length = 0; },
  };
}

function abortError() {
  return typeof DOMException === 'function' ? new DOMException('This operation was aborted', 'AbortError')
    : Object.assign(new Error('This operation was aborted'), { name: 'AbortError' });
}
