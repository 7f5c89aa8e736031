// Tests of the mock provider (switchyard/mock): every behaviour through the
// in-process fetch with a manual clock (no sleeping), the main ones again over
// real HTTP on 127.0.0.1.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  createMockProvider,
  createManualClock,
  parseSSE,
  errorBody,
  maskKey,
  formatDuration,
  openaiCompletion,
  anthropicMessage,
} from '../../js/mock/index.js';
import { startMockServer, createMockServer } from '../../js/mock/server.js';

const MSG = [{ role: 'user', content: 'hi' }];
const START = 1_700_000_000_000;

function setup(options = {}) {
  const clock = createManualClock(START);
  const p = createMockProvider({ clock, seed: 7, ...options });
  return { clock, p };
}

/** OpenAI-compatible chat call against base `${origin}/${name}`. */
function chat(f, base, body = {}, headers = {}) {
  return f(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-0000000000001234', ...headers },
    body: JSON.stringify({ model: 'gpt-4o', messages: MSG, ...body }),
  });
}
function messages(f, base, body = {}, headers = {}) {
  return f(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'sk-ant-test-00000001234', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model: 'claude-sonnet', max_tokens: 256, messages: MSG, ...body }),
  });
}
function azure(f, base, body = {}, headers = {}, query = '?api-version=2024-02-01') {
  return f(`${base}/openai/deployments/gpt4o-prod/chat/completions${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'api-key': 'az-key-000000000001234', ...headers },
    body: JSON.stringify({ messages: MSG, ...body }),
  });
}
const M = (name) => `http://mock/${name}`;

/** Reads a whole response body as SSE records. */
async function sse(res) {
  return parseSSE(await res.text());
}

/** Settles a promise into {value} or {error}. */
async function settle(promise) {
  try {
    return { value: await promise };
  } catch (error) {
    return { error };
  }
}

/** Whether a promise is still pending after pending jobs ran. */
async function isPending(promise) {
  const marker = Symbol('pending');
  const r = await Promise.race([promise.then(() => 'settled', () => 'settled'), new Promise((r) => setImmediate(() => r(marker)))]);
  return r === marker;
}

describe('success bodies and routing (in process)', () => {
  test('OpenAI chat.completion: shape, requested model, usage, deterministic ids and created', async () => {
    const { p } = setup();
    const res = await chat(p.fetch, M('a'), { messages: [{ role: 'user', content: 'abcdefgh' }] });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.match(res.headers.get('x-request-id'), /^req_[0-9a-f]{32}$/);
    assert.equal(res.url, 'http://mock/a/v1/chat/completions');
    const body = await res.json();
    assert.match(body.id, /^chatcmpl-[A-Za-z0-9]{29}$/);
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.created, Math.floor(START / 1000));
    assert.equal(body.model, 'gpt-4o');
    assert.equal(body.choices.length, 1);
    assert.equal(body.choices[0].index, 0);
    assert.equal(body.choices[0].message.role, 'assistant');
    assert.equal(body.choices[0].message.content, 'Hello from a (gpt-4o). You said: abcdefgh');
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.equal(body.usage.prompt_tokens, 2); // ceil(8 / 4)
    assert.equal(body.usage.completion_tokens, Math.ceil(body.choices[0].message.content.length / 4));
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);

    // Same seed and clock: same ids. Another seed: others.
    const again = await (await chat(setup().p.fetch, M('a'))).json();
    const first = await (await chat(setup().p.fetch, M('a'))).json();
    assert.equal(again.id, first.id);
    const other = await (await chat(setup({ seed: 8 }).p.fetch, M('a'))).json();
    assert.notEqual(other.id, first.id);
  });

  test('the /N/chat/completions path (LiteLLM api_base without /v1) and a relative URL', async () => {
    const { p } = setup();
    const res = await p.fetch('/base/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).model, 'm');
    assert.equal(p.calls[0].deployment, 'base');
    assert.equal(p.calls[0].kind, 'openai');
  });

  test('a Request object as input', async () => {
    const { p } = setup();
    const req = new Request('http://mock/r/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }) });
    const res = await p.fetch(req);
    assert.equal(res.status, 200);
    assert.equal(p.calls[0].deployment, 'r');
  });

  test('Anthropic message: shape, stop_reason, usage, request-id', async () => {
    const { p } = setup();
    const res = await messages(p.fetch, M('an'), { system: 'be brief', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }] });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('request-id'), /^req_/);
    const body = await res.json();
    assert.match(body.id, /^msg_01[A-Za-z0-9]{22}$/);
    assert.equal(body.type, 'message');
    assert.equal(body.role, 'assistant');
    assert.equal(body.model, 'claude-sonnet');
    assert.deepEqual(body.content, [{ type: 'text', text: 'Hello from an (claude-sonnet). You said: hello' }]);
    assert.equal(body.stop_reason, 'end_turn');
    assert.equal(body.stop_sequence, null);
    assert.equal(body.usage.input_tokens, Math.ceil('be briefhello'.length / 4));
    assert.equal(body.usage.output_tokens, Math.ceil(body.content[0].text.length / 4));
    assert.equal(p.calls[0].kind, 'anthropic');
  });

  test('Azure chat: deployment from the URL, api-version required, content filter results', async () => {
    const { p } = setup();
    const res = await azure(p.fetch, M('az'));
    assert.equal(res.status, 200);
    assert.ok(res.headers.get('apim-request-id'));
    const body = await res.json();
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.model, 'gpt4o-prod');
    assert.equal(body.prompt_filter_results[0].content_filter_results.hate.filtered, false);
    assert.equal(body.choices[0].content_filter_results.violence.severity, 'safe');
    assert.equal(p.calls[0].kind, 'azure');
    assert.equal(p.calls[0].path, '/az/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-02-01');

    const missing = await azure(p.fetch, M('az'), {}, {}, '');
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), { error: { code: '404', message: 'Resource not found' } });
  });

  test('Anthropic requires anthropic-version and max_tokens, and refuses a system role message', async () => {
    const { p } = setup();
    let res = await messages(p.fetch, M('an'), {}, { 'anthropic-version': '' });
    assert.equal(res.status, 400);
    let body = await res.json();
    assert.equal(body.type, 'error');
    assert.deepEqual(body.error, { type: 'invalid_request_error', message: 'anthropic-version: header is required' });
    assert.match(body.request_id, /^req_/);

    res = await messages(p.fetch, M('an'), { max_tokens: undefined });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.message, 'max_tokens: Field required');

    res = await messages(p.fetch, M('an'), { messages: [{ role: 'system', content: 's' }, ...MSG] });
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /Unexpected role "system"/);
    assert.equal(p.calls.every((c) => c.reason === 'version' || c.reason === 'bad_request'), true);
  });

  test('OpenAI request validation: bad JSON, missing model, missing messages', async () => {
    const { p } = setup();
    let res = await p.fetch(`${M('a')}/v1/chat/completions`, { method: 'POST', body: '{not json' });
    assert.equal(res.status, 400);
    let body = await res.json();
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /We could not parse the JSON body/);

    res = await p.fetch(`${M('a')}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ messages: MSG }) });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.message, 'you must provide a model parameter');

    res = await p.fetch(`${M('a')}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm' }) });
    body = await res.json();
    assert.equal(res.status, 400);
    assert.deepEqual(body.error, { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' });
  });

  test('unknown paths answer 404 in the provider style; strict mode refuses unknown deployments', async () => {
    const { p } = setup();
    let res = await p.fetch(`${M('a')}/v1/completions/nope`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 404);
    assert.deepEqual((await res.json()).error, { message: 'Invalid URL (POST /a/v1/completions/nope)', type: 'invalid_request_error', param: null, code: null });
    res = await p.fetch(`${M('a')}/v1/chat/completions`, { method: 'GET' });
    assert.equal(res.status, 404);

    const strict = setup({ strict: true, deployments: { known: {} } }).p;
    res = await chat(strict.fetch, M('unknown'));
    assert.equal(res.status, 404);
    assert.equal((await res.json()).error.code, 'not_found');
    res = await chat(strict.fetch, M('known'));
    assert.equal(res.status, 200);
  });

  test('embeddings: floats and base64, deterministic per text, dimensions', async () => {
    const { p } = setup();
    const call = (body) =>
      p.fetch(`${M('e')}/v1/embeddings`, { method: 'POST', body: JSON.stringify({ model: 'text-embedding-3-small', ...body }) });
    let res = await call({ input: ['one', 'two'], dimensions: 8 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.object, 'list');
    assert.equal(body.model, 'text-embedding-3-small');
    assert.equal(body.data.length, 2);
    assert.equal(body.data[1].index, 1);
    assert.equal(body.data[0].object, 'embedding');
    assert.equal(body.data[0].embedding.length, 8);
    const norm = Math.hypot(...body.data[0].embedding);
    assert.ok(Math.abs(norm - 1) < 1e-5);
    assert.deepEqual(body.usage, { prompt_tokens: 2, total_tokens: 2 });

    res = await call({ input: 'one', dimensions: 8, encoding_format: 'base64' });
    const b64 = (await res.json()).data[0].embedding;
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const floats = Array.from(new Float32Array(bytes.buffer));
    assert.deepEqual(floats, body.data[0].embedding);

    res = await call({});
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'missing_required_parameter');
  });

  test('GET /v1/models lists the configured ids', async () => {
    const { p } = setup({ deployments: { a: { models: ['gpt-4o', 'gpt-4o-mini'] } } });
    const res = await p.fetch(`${M('a')}/v1/models`);
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.data.map((m) => m.id), ['gpt-4o', 'gpt-4o-mini']);
    assert.equal(body.object, 'list');
  });

  test('reply as a string and as a function of the request', async () => {
    const { p } = setup();
    p.configure('s', { reply: 'fixed' });
    p.configure('f', { reply: (req) => `${req.deployment}/${req.kind}/${req.model}/${req.prompt.toUpperCase()}` });
    assert.equal((await (await chat(p.fetch, M('s'))).json()).choices[0].message.content, 'fixed');
    assert.equal((await (await chat(p.fetch, M('f'))).json()).choices[0].message.content, 'f/openai/gpt-4o/HI');
    assert.equal((await (await messages(p.fetch, M('f'))).json()).content[0].text, 'f/anthropic/claude-sonnet/HI');
  });
});

describe('keys', () => {
  test('OpenAI: a wrong key is a 401 invalid_api_key that shows the key masked, never whole', async () => {
    const { p } = setup({ deployments: { a: { apiKey: 'sk-right-000000000000' } } });
    const wrong = 'sk-wrong-secret-value-abcd';
    let res = await chat(p.fetch, M('a'), {}, { authorization: `Bearer ${wrong}` });
    assert.equal(res.status, 401);
    const text = await res.text();
    assert.ok(!text.includes(wrong));
    assert.ok(!text.includes('secret'));
    const body = JSON.parse(text);
    assert.equal(body.error.code, 'invalid_api_key');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.message, `Incorrect API key provided: ${maskKey(wrong)}. You can find your API key at https://platform.openai.com/account/api-keys.`);
    assert.match(maskKey(wrong), /^sk-\*+abcd$/);
    assert.equal(maskKey('short'), '*****');

    res = await chat(p.fetch, M('a'), {}, { authorization: '' });
    assert.equal(res.status, 401);
    assert.match((await res.json()).error.message, /^You didn't provide an API key/);

    res = await chat(p.fetch, M('a'), {}, { authorization: 'Bearer sk-right-000000000000' });
    assert.equal(res.status, 200);

    assert.deepEqual(p.calls.map((c) => c.auth), ['invalid', 'missing', 'ok']);
    assert.equal(p.calls[0].headers.authorization, 'Bearer [REDACTED]');
    assert.ok(!JSON.stringify(p.calls).includes('sk-right'));
    assert.ok(!JSON.stringify(p.calls).includes(wrong));
  });

  test('Anthropic and Azure keys', async () => {
    const { p } = setup({ deployments: { an: { apiKey: 'sk-ant-right' }, az: { apiKey: 'az-right' } } });
    let res = await messages(p.fetch, M('an'), {}, { 'x-api-key': 'sk-ant-wrong' });
    assert.equal(res.status, 401);
    assert.deepEqual((await res.json()).error, { type: 'authentication_error', message: 'invalid x-api-key' });
    res = await messages(p.fetch, M('an'), {}, { 'x-api-key': '' });
    assert.deepEqual((await res.json()).error, { type: 'authentication_error', message: 'x-api-key header is required' });
    res = await messages(p.fetch, M('an'), {}, { 'x-api-key': 'sk-ant-right' });
    assert.equal(res.status, 200);

    res = await azure(p.fetch, M('az'), {}, { 'api-key': 'nope' });
    assert.equal(res.status, 401);
    assert.equal((await res.json()).error.code, '401');
    res = await azure(p.fetch, M('az'), {}, { 'api-key': 'az-right' });
    assert.equal(res.status, 200);
    assert.equal(p.calls[3].headers['api-key'], '[REDACTED]');
    assert.equal(p.calls[0].headers['x-api-key'], '[REDACTED]');
  });
});

describe('scripted statuses and faults', () => {
  test('a status sequence is consumed per call, then healthy', async () => {
    const { p } = setup({ deployments: { a: { statuses: [503, 429, 200, 500] } } });
    const got = [];
    for (let i = 0; i < 6; i++) got.push((await chat(p.fetch, M('a'))).status);
    assert.deepEqual(got, [503, 429, 200, 500, 200, 200]);
    assert.deepEqual(p.calls.map((c) => c.outcome), ['error', 'error', 'ok', 'error', 'ok', 'ok']);
    assert.equal(p.calls[0].reason, 'scripted');
    assert.equal(p.callsTo('a'), 6);
  });

  test('repeat cycles the sequence', async () => {
    const { p } = setup({ deployments: { a: { statuses: [503, 200], repeat: true } } });
    const got = [];
    for (let i = 0; i < 5; i++) got.push((await chat(p.fetch, M('a'))).status);
    assert.deepEqual(got, [503, 200, 503, 200, 503]);
  });

  test('requests refused for their key or body do not consume the script', async () => {
    const { p } = setup({ deployments: { a: { statuses: [503], apiKey: 'sk-k' } } });
    assert.equal((await chat(p.fetch, M('a'), {}, { authorization: 'Bearer bad' })).status, 401);
    assert.equal((await chat(p.fetch, M('a'), {}, { authorization: 'Bearer sk-k' })).status, 503);
    assert.equal((await chat(p.fetch, M('a'), {}, { authorization: 'Bearer sk-k' })).status, 200);
  });

  test('each scripted status gets the provider-real error body', async () => {
    const statuses = [400, 404, 408, 409, 422, 500, 502, 503, 529];
    const { p } = setup({ deployments: { o: { statuses }, an: { statuses } } });
    const oa = {};
    const an = {};
    for (const s of statuses) {
      const r1 = await chat(p.fetch, M('o'));
      assert.equal(r1.status, s);
      oa[s] = await r1.json();
      const r2 = await messages(p.fetch, M('an'));
      assert.equal(r2.status, s);
      an[s] = await r2.json();
    }
    assert.deepEqual(oa[404].error, {
      message: 'The model `gpt-4o` does not exist or you do not have access to it.',
      type: 'invalid_request_error',
      param: null,
      code: 'model_not_found',
    });
    assert.deepEqual(oa[500].error, {
      message: 'The server had an error while processing your request. Sorry about that!',
      type: 'server_error',
      param: null,
      code: null,
    });
    assert.deepEqual(oa[502], { error: { code: 502, message: 'Bad gateway.', param: null, type: 'cf_bad_gateway' } });
    assert.equal(oa[400].error.type, 'invalid_request_error');
    assert.equal(oa[503].error.type, 'server_error');
    assert.equal(oa[408].error.type, 'timeout');
    for (const s of statuses) assert.equal(typeof oa[s].error.message, 'string');

    assert.equal(an[529].error.type, 'overloaded_error');
    assert.equal(an[529].error.message, 'Overloaded');
    assert.equal(an[404].error.type, 'not_found_error');
    assert.equal(an[404].error.message, 'model: claude-sonnet');
    assert.equal(an[500].error.type, 'api_error');
    assert.equal(an[400].error.type, 'invalid_request_error');
    for (const s of statuses) assert.equal(an[s].type, 'error');
  });

  test('scripted strings: variants, latency, net; object entries with headers', async () => {
    const { clock, p } = setup({
      deployments: {
        a: { statuses: ['400:context', '429:quota', '200:malformed', '200:filter', 'net', { status: 429, headers: { 'retry-after-ms': '1500' } }, '503@20'] },
      },
    });
    let res = await chat(p.fetch, M('a'));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'context_length_exceeded');
    res = await chat(p.fetch, M('a'));
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, 'insufficient_quota');
    res = await chat(p.fetch, M('a'));
    assert.equal(res.status, 200);
    await assert.rejects(res.json(), SyntaxError);
    res = await chat(p.fetch, M('a'));
    assert.equal((await res.json()).choices[0].finish_reason, 'content_filter');
    const net = await settle(chat(p.fetch, M('a')));
    assert.equal(net.error?.cause?.code, 'ECONNREFUSED');
    res = await chat(p.fetch, M('a'));
    assert.equal(res.headers.get('retry-after-ms'), '1500');
    const slow = chat(p.fetch, M('a'));
    await clock.advance(19);
    assert.equal(await isPending(slow), true);
    await clock.advance(1);
    assert.equal((await slow).status, 503);
    assert.throws(() => p.configure('x', { statuses: ['5o3'] }), /bad scripted answer/);
  });

  test('failRate draws from a seeded PRNG: same seed, same faults', async () => {
    const run = async (seed) => {
      const { p } = setup({ seed, deployments: { a: { failRate: 0.5 }, an: { failRate: 0.5 } } });
      const out = [];
      for (let i = 0; i < 200; i++) out.push((await chat(p.fetch, M('a'))).status);
      out.push((await messages(p.fetch, M('an'))).status);
      return out;
    };
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    const fails = a.slice(0, 200).filter((s) => s === 503).length;
    assert.ok(fails > 70 && fails < 130, `fails=${fails}`);
    assert.ok(a.every((s) => s === 200 || s === 503 || s === 529));
  });

  test('down: fetch rejects like undici with an ECONNREFUSED cause', async () => {
    const { p } = setup({ deployments: { d: { down: true } } });
    const { error } = await settle(chat(p.fetch, M('d')));
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'fetch failed');
    assert.equal(error.cause.code, 'ECONNREFUSED');
    assert.equal(error.cause.syscall, 'connect');
    assert.equal(p.calls[0].outcome, 'refused');
    assert.equal(p.calls[0].status, 0);
  });

  test('latencyMs: the answer arrives at t, not at t-1 (manual clock)', async () => {
    const { clock, p } = setup({ deployments: { a: { latencyMs: 250 } } });
    const pending = chat(p.fetch, M('a'));
    await clock.advance(249);
    assert.equal(await isPending(pending), true);
    await clock.advance(1);
    const res = await pending;
    assert.equal(res.status, 200);
    assert.equal(p.calls[0].time, START);
    assert.equal(p.calls[0].end, START + 250);
    assert.equal(clock.pending, 0);
  });

  test('overloaded: Anthropic 529 overloaded_error, OpenAI 503', async () => {
    const { p } = setup({ defaults: { overloaded: true } });
    let res = await messages(p.fetch, M('an'));
    assert.equal(res.status, 529);
    assert.deepEqual((await res.json()).error, { type: 'overloaded_error', message: 'Overloaded' });
    res = await chat(p.fetch, M('o'));
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.type, 'server_error');
  });

  test('quotaExhausted: OpenAI 429 insufficient_quota, Anthropic 400 credit balance', async () => {
    const { p } = setup({ defaults: { quotaExhausted: true } });
    let res = await chat(p.fetch, M('o'));
    assert.equal(res.status, 429);
    const body = await res.json();
    assert.equal(body.error.code, 'insufficient_quota');
    assert.equal(body.error.type, 'insufficient_quota');
    assert.match(body.error.message, /^You exceeded your current quota/);
    res = await messages(p.fetch, M('an'));
    assert.equal(res.status, 400);
    assert.match((await res.json()).error.message, /^Your credit balance is too low/);
  });

  test('malformed: a 200 whose JSON body is broken', async () => {
    const { p } = setup({ defaults: { malformed: true } });
    const res = await chat(p.fetch, M('o'));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.startsWith('{"id":"chatcmpl-'));
    assert.throws(() => JSON.parse(text), SyntaxError);
    assert.equal(p.calls[0].outcome, 'malformed');
  });
});

describe('rate limits', () => {
  test('OpenAI rpm: remaining headers, then 429 with retry headers and the real body; the window slides', async () => {
    const { clock, p } = setup({ deployments: { a: { rateLimit: { rpm: 2 } } } });
    let res = await chat(p.fetch, M('a'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-limit-requests'), '2');
    assert.equal(res.headers.get('x-ratelimit-remaining-requests'), '1');
    assert.equal(res.headers.get('x-ratelimit-reset-requests'), '1m0s');
    await clock.advance(20_000);
    res = await chat(p.fetch, M('a'));
    assert.equal(res.headers.get('x-ratelimit-remaining-requests'), '0');
    await clock.advance(500);

    res = await chat(p.fetch, M('a'));
    assert.equal(res.status, 429);
    // The first request leaves the window at START + 60 s: 39.5 s from now.
    assert.equal(res.headers.get('retry-after'), '40');
    assert.equal(res.headers.get('retry-after-ms'), '39500');
    assert.equal(res.headers.get('x-ratelimit-remaining-requests'), '0');
    assert.equal(res.headers.get('x-ratelimit-reset-requests'), '59.5s');
    const body = await res.json();
    assert.equal(body.error.type, 'requests');
    assert.equal(body.error.code, 'rate_limit_exceeded');
    assert.equal(body.error.param, null);
    assert.equal(
      body.error.message,
      'Rate limit reached for gpt-4o in organization org-switchyardmock on requests per min (RPM): Limit 2, Used 2, Requested 1. Please try again in 39.5s. Visit https://platform.openai.com/account/rate-limits to learn more.',
    );
    assert.equal(p.calls[2].reason, 'rate_limit');

    await clock.advance(39_499);
    assert.equal((await chat(p.fetch, M('a'))).status, 429);
    await clock.advance(1);
    assert.equal((await chat(p.fetch, M('a'))).status, 200);
  });

  test('OpenAI tpm counts prompt tokens', async () => {
    const { p } = setup({ deployments: { a: { rateLimit: { tpm: 10 } } } });
    const long = [{ role: 'user', content: 'x'.repeat(24) }]; // 6 tokens
    let res = await chat(p.fetch, M('a'), { messages: long });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-ratelimit-remaining-tokens'), '4');
    res = await chat(p.fetch, M('a'), { messages: long });
    assert.equal(res.status, 429);
    const body = await res.json();
    assert.equal(body.error.type, 'tokens');
    assert.match(body.error.message, /on tokens per min \(TPM\): Limit 10, Used 6, Requested 6/);
    res = await chat(p.fetch, M('a'), { messages: [{ role: 'user', content: 'x'.repeat(80) }] });
    assert.match((await res.json()).error.message, /^Request too large for gpt-4o/);
  });

  test('Anthropic: retry-after, anthropic-ratelimit-* headers with RFC 3339 resets, rate_limit_error', async () => {
    const { clock, p } = setup({ deployments: { an: { rateLimit: { rpm: 1 } } } });
    let res = await messages(p.fetch, M('an'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    await clock.advance(1_000);
    res = await messages(p.fetch, M('an'));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '59');
    assert.equal(res.headers.get('anthropic-ratelimit-requests-limit'), '1');
    assert.equal(res.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    assert.equal(res.headers.get('anthropic-ratelimit-requests-reset'), new Date(START + 60_000).toISOString().replace('.000Z', 'Z'));
    assert.match(res.headers.get('anthropic-ratelimit-requests-reset'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const body = await res.json();
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.match(body.error.message, /rate limit for your organization of 1 requests per minute/);
  });

  test('Azure rate limit body and headers', async () => {
    const { p } = setup({ deployments: { az: { rateLimit: { rpm: 1 } } } });
    await azure(p.fetch, M('az'));
    const res = await azure(p.fetch, M('az'));
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '60');
    assert.equal(res.headers.get('retry-after-ms'), '60000');
    const body = await res.json();
    assert.equal(body.error.code, '429');
    assert.match(body.error.message, /exceeded call rate limit .* Please retry after 60 seconds/);
  });

  test('formatDuration speaks Go durations', () => {
    assert.equal(formatDuration(20), '20ms');
    assert.equal(formatDuration(1000), '1s');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(360_000), '6m0s');
  });
});

describe('context windows and content filters', () => {
  const long = [{ role: 'user', content: 'x'.repeat(401) }]; // 101 tokens

  test('OpenAI context_length_exceeded, the real message', async () => {
    const { p } = setup({ defaults: { contextWindow: 100 } });
    const res = await chat(p.fetch, M('a'), { messages: long });
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error, {
      message: "This model's maximum context length is 100 tokens. However, your messages resulted in 101 tokens. Please reduce the length of the messages.",
      type: 'invalid_request_error',
      param: 'messages',
      code: 'context_length_exceeded',
    });
    assert.equal((await chat(p.fetch, M('a'), { messages: [{ role: 'user', content: 'x'.repeat(400) }] })).status, 200);
    assert.equal(p.calls[0].reason, 'context_window');
  });

  test('Anthropic prompt is too long', async () => {
    const { p } = setup({ defaults: { contextWindow: 100 } });
    const res = await messages(p.fetch, M('an'), { messages: long });
    assert.equal(res.status, 400);
    assert.deepEqual((await res.json()).error, { type: 'invalid_request_error', message: 'prompt is too long: 101 tokens > 100 maximum' });
  });

  test('content filter: OpenAI content_policy_violation, Azure content_filter with innererror, Anthropic 400', async () => {
    const { p } = setup({ defaults: { contentFilter: ['forbidden'] } });
    const bad = [{ role: 'user', content: 'something FORBIDDEN here' }];
    let res = await chat(p.fetch, M('o'), { messages: bad });
    assert.equal(res.status, 400);
    let body = await res.json();
    assert.equal(body.error.code, 'content_policy_violation');
    assert.equal(body.error.type, 'invalid_request_error');

    res = await azure(p.fetch, M('az'), { messages: bad });
    assert.equal(res.status, 400);
    body = await res.json();
    assert.equal(body.error.code, 'content_filter');
    assert.equal(body.error.innererror.code, 'ResponsibleAIPolicyViolation');
    assert.equal(body.error.innererror.content_filter_result.violence.filtered, true);

    res = await messages(p.fetch, M('an'), { messages: bad });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.message, 'Output blocked by content filtering policy');

    assert.equal((await chat(p.fetch, M('o'))).status, 200);
  });

  test("contentFilterMode 'finish_reason': 200 with content_filter (Anthropic: refusal)", async () => {
    const { p } = setup({ defaults: { contentFilter: ['forbidden'], contentFilterMode: 'finish_reason' } });
    const bad = [{ role: 'user', content: 'forbidden' }];
    let res = await chat(p.fetch, M('o'), { messages: bad });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).choices[0].finish_reason, 'content_filter');
    res = await azure(p.fetch, M('az'), { messages: bad });
    const az = await res.json();
    assert.equal(az.choices[0].finish_reason, 'content_filter');
    assert.equal(az.choices[0].content_filter_results.violence.filtered, true);
    res = await messages(p.fetch, M('an'), { messages: bad });
    assert.equal((await res.json()).stop_reason, 'refusal');
    res = await chat(p.fetch, M('o'), { messages: bad, stream: true });
    const chunks = (await sse(res)).filter((e) => e.data !== '[DONE]').map((e) => JSON.parse(e.data));
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'content_filter');
    assert.equal(p.calls[0].outcome, 'content_filter');
  });
});

describe('streams (in process)', () => {
  test('OpenAI SSE: role chunk, content deltas, finish chunk, usage chunk, [DONE]', async () => {
    const { p } = setup({ deployments: { a: { reply: 'one two three' } } });
    const res = await chat(p.fetch, M('a'), { stream: true, stream_options: { include_usage: true } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events = await sse(res);
    assert.equal(events.at(-1).data, '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    for (const c of chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.id, chunks[0].id);
      assert.equal(c.model, 'gpt-4o');
    }
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '', refusal: null });
    const content = chunks.slice(1, -2).map((c) => c.choices[0].delta.content);
    assert.deepEqual(content, ['one', ' two', ' three']);
    assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-2).choices[0].delta, {});
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.deepEqual(chunks.at(-1).usage, { prompt_tokens: 1, completion_tokens: 4, total_tokens: 5 });
    assert.equal(chunks[1].usage, null);
    assert.equal(p.calls[0].stream, true);
    assert.equal(p.calls[0].outcome, 'ok');
  });

  test('OpenAI SSE without include_usage has no usage chunk', async () => {
    const { p } = setup({ deployments: { a: { reply: 'x y' } } });
    const events = await sse(await chat(p.fetch, M('a'), { stream: true }));
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data));
    assert.equal(chunks.length, 4);
    assert.ok(chunks.every((c) => !('usage' in c)));
  });

  test('Azure streams open with a prompt_filter_results chunk with empty choices', async () => {
    const { p } = setup({ deployments: { az: { reply: 'hi' } } });
    const events = await sse(await azure(p.fetch, M('az'), { stream: true }));
    const first = JSON.parse(events[0].data);
    assert.deepEqual(first.choices, []);
    assert.equal(first.id, '');
    assert.ok(first.prompt_filter_results);
    assert.equal(JSON.parse(events[2].data).choices[0].delta.content, 'hi');
  });

  test('Anthropic SSE: message_start, content_block_start, ping, text deltas, stop, message_delta, message_stop', async () => {
    const { p } = setup({ deployments: { an: { reply: 'alpha beta' } } });
    const res = await messages(p.fetch, M('an'), { stream: true });
    const events = await sse(res);
    assert.deepEqual(events.map((e) => e.event), [
      'message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta',
      'content_block_stop', 'message_delta', 'message_stop',
    ]);
    const data = events.map((e) => JSON.parse(e.data));
    for (let i = 0; i < events.length; i++) assert.equal(data[i].type, events[i].event);
    assert.match(data[0].message.id, /^msg_01/);
    assert.equal(data[0].message.usage.input_tokens, 1);
    assert.deepEqual(data[3].delta, { type: 'text_delta', text: 'alpha' });
    assert.deepEqual(data[4].delta, { type: 'text_delta', text: ' beta' });
    assert.equal(data[6].delta.stop_reason, 'end_turn');
    assert.equal(data[6].usage.output_tokens, 3);
  });

  test('firstTokenMs and tokenIntervalMs pace the chunks on the injected clock', async () => {
    const { clock, p } = setup({ deployments: { a: { reply: 'a b c', latencyMs: 100, firstTokenMs: 300, tokenIntervalMs: 50 } } });
    const pending = chat(p.fetch, M('a'), { stream: true });
    await clock.advance(99);
    assert.equal(await isPending(pending), true);
    await clock.advance(1);
    const res = await pending;
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    const role = dec.decode((await reader.read()).value);
    assert.match(role, /"role":"assistant"/);
    let next = reader.read();
    await clock.advance(299);
    assert.equal(await isPending(next), true);
    await clock.advance(1);
    assert.match(dec.decode((await next).value), /"content":"a"/);
    next = reader.read();
    await clock.advance(49);
    assert.equal(await isPending(next), true);
    await clock.advance(1);
    assert.match(dec.decode((await next).value), /"content":" b"/);
    await clock.advance(50);
    let rest = '';
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      rest += dec.decode(r.value);
    }
    assert.match(rest, /"content":" c"/);
    assert.match(rest, /data: \[DONE\]/);
    assert.equal(p.calls[0].end, START + 100 + 300 + 50 + 50);
    assert.equal(clock.pending, 0);
  });

  test('cutAfterChunks: the body stream errors like undici after n content chunks', async () => {
    const { p } = setup({ deployments: { a: { reply: 'one two three four', cutAfterChunks: 2 }, an: { reply: 'x y z', cutAfterChunks: 0 } } });
    const res = await chat(p.fetch, M('a'), { stream: true });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const dec = new TextDecoder();
    let text = '';
    const { error } = await settle(
      (async () => {
        for (;;) {
          const r = await reader.read();
          if (r.done) return;
          text += dec.decode(r.value);
        }
      })(),
    );
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'terminated');
    assert.equal(error.cause.code, 'UND_ERR_SOCKET');
    const chunks = parseSSE(text).map((e) => JSON.parse(e.data));
    assert.deepEqual(chunks.map((c) => c.choices[0].delta.content), ['', 'one', ' two']);
    assert.ok(!text.includes('[DONE]'));
    assert.equal(p.calls[0].outcome, 'cut');

    const an = await messages(p.fetch, M('an'), { stream: true });
    const r = await settle(an.text());
    assert.equal(r.error?.message, 'terminated');
  });

  test('errorAfterChunks: Anthropic mid-stream error event; OpenAI error data line and no [DONE]', async () => {
    const { p } = setup({ defaults: { reply: 'a b c d', errorAfterChunks: 1 } });
    const events = await sse(await messages(p.fetch, M('an'), { stream: true }));
    assert.deepEqual(events.map((e) => e.event), ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'error']);
    assert.deepEqual(JSON.parse(events.at(-1).data), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    assert.equal(p.calls[0].outcome, 'stream_error');

    const oa = await sse(await chat(p.fetch, M('o'), { stream: true }));
    const last = JSON.parse(oa.at(-1).data);
    assert.equal(last.error.type, 'server_error');
    assert.ok(oa.every((e) => e.data !== '[DONE]'));
  });

  test('an error status on a stream request answers JSON, not SSE', async () => {
    const { p } = setup({ deployments: { a: { statuses: [429] } } });
    const res = await chat(p.fetch, M('a'), { stream: true });
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal((await res.json()).error.code, 'rate_limit_exceeded');
  });
});

describe('aborts (in process)', () => {
  test('an already-aborted signal rejects at once with its reason', async () => {
    const { p } = setup();
    const ac = new AbortController();
    ac.abort();
    const { error } = await settle(chat(p.fetch, M('a'), {}, {}));
    assert.equal(error, undefined);
    const r = await settle(p.fetch(`${M('a')}/v1/chat/completions`, { method: 'POST', body: '{}', signal: ac.signal }));
    assert.equal(r.error.name, 'AbortError');
  });

  test('abort during the latency rejects with AbortError and clears the timer', async () => {
    const { clock, p } = setup({ deployments: { a: { latencyMs: 1000 } } });
    const ac = new AbortController();
    const pending = p.fetch(`${M('a')}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }), signal: ac.signal });
    await clock.advance(10);
    assert.equal(clock.pending, 1);
    ac.abort();
    const { error } = await settle(pending);
    assert.equal(error.name, 'AbortError');
    assert.equal(clock.pending, 0);
    assert.equal(p.calls[0].outcome, 'aborted');
    assert.equal(p.calls[0].end, START + 10);
  });

  test('abort a hanging call, and a custom reason', async () => {
    const { p } = setup({ deployments: { h: { hang: true }, s: { statuses: ['hang'] } } });
    const ac = new AbortController();
    const pending = p.fetch(`${M('h')}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }), signal: ac.signal });
    assert.equal(await isPending(pending), true);
    assert.equal(p.calls[0].outcome, 'hang');
    const reason = new Error('attempt timeout');
    ac.abort(reason);
    assert.equal((await settle(pending)).error, reason);
    assert.equal(p.calls[0].outcome, 'aborted');

    const ac2 = new AbortController();
    const p2 = p.fetch(`${M('s')}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }), signal: ac2.signal });
    assert.equal(await isPending(p2), true);
    ac2.abort();
    assert.equal((await settle(p2)).error.name, 'AbortError');
  });

  test('abort mid-stream errors the body with AbortError and stops the timers', async () => {
    const { clock, p } = setup({ deployments: { a: { reply: 'a b c d', tokenIntervalMs: 100 } } });
    const ac = new AbortController();
    const res = await p.fetch(`${M('a')}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: MSG, stream: true }),
      signal: ac.signal,
    });
    const reader = res.body.getReader();
    await reader.read(); // role
    await reader.read(); // "a"
    const next = reader.read();
    assert.equal(clock.pending, 1);
    ac.abort();
    const { error } = await settle(next);
    assert.equal(error.name, 'AbortError');
    assert.equal(clock.pending, 0);
    assert.equal(p.calls[0].outcome, 'aborted');
  });

  test('cancelling the body stops the stream', async () => {
    const { clock, p } = setup({ deployments: { a: { reply: 'a b c d', tokenIntervalMs: 100 } } });
    const res = await chat(p.fetch, M('a'), { stream: true });
    const reader = res.body.getReader();
    await reader.read();
    await reader.cancel();
    assert.equal(clock.pending, 0);
    assert.equal(p.calls[0].outcome, 'cancelled');
  });
});

describe('configure, reset, calls', () => {
  test('configure replaces a behaviour and restarts its script; reset restores the initial state', async () => {
    const { p } = setup({ deployments: { a: { statuses: [500] } } });
    assert.equal((await chat(p.fetch, M('a'))).status, 500);
    p.configure('a', { statuses: [502, 503] });
    assert.equal((await chat(p.fetch, M('a'))).status, 502);
    p.configure({ a: { statuses: [401] }, b: { down: true } });
    assert.equal((await chat(p.fetch, M('a'))).status, 401);
    await assert.rejects(chat(p.fetch, M('b')), TypeError);
    const calls = p.calls;
    assert.equal(calls.length, 4);
    p.reset();
    assert.equal(calls.length, 0);
    assert.equal(p.calls, calls);
    assert.equal((await chat(p.fetch, M('a'))).status, 500);
    assert.equal((await chat(p.fetch, M('b'))).status, 200);
  });

  test('calls record deployment, kind, model, redacted headers, time and outcome', async () => {
    const { clock, p } = setup();
    await chat(p.fetch, M('a'), {}, { 'x-custom': 'v' });
    await clock.advance(5);
    await messages(p.fetch, M('c'));
    const [a, c] = p.calls;
    assert.equal(a.deployment, 'a');
    assert.equal(a.kind, 'openai');
    assert.equal(a.endpoint, 'chat');
    assert.equal(a.model, 'gpt-4o');
    assert.equal(a.headers['x-custom'], 'v');
    assert.equal(a.headers.authorization, 'Bearer [REDACTED]');
    assert.equal(a.time, START);
    assert.equal(a.status, 200);
    assert.equal(a.outcome, 'ok');
    assert.equal(c.deployment, 'c');
    assert.equal(c.kind, 'anthropic');
    assert.equal(c.time, START + 5);
    assert.equal(c.body.max_tokens, 256);
  });

  test('maxCalls bounds the log, keeping the newest calls', async () => {
    const { p } = setup({ maxCalls: 10 });
    for (let i = 0; i < 100; i++) await chat(p.fetch, M('a'));
    assert.ok(p.calls.length >= 10 && p.calls.length <= 26, String(p.calls.length));
    assert.equal(p.calls.at(-1).seq, 100);
  });

  test('errorBody, openaiCompletion and anthropicMessage give the bytes the mock sends', () => {
    const e = errorBody('openai', 400, { variant: 'context', limit: 10, tokens: 12 });
    assert.equal(e.headers['content-type'], 'application/json');
    assert.match(JSON.parse(e.body).error.message, /maximum context length is 10 tokens\. However, your messages resulted in 12 tokens/);
    assert.equal(JSON.parse(errorBody('azure', 400, { variant: 'policy' }).body).error.code, 'content_filter');
    assert.equal(JSON.parse(errorBody('anthropic', 529).body).error.type, 'overloaded_error');
    assert.equal(errorBody('openai', 502, { variant: 'html' }).headers['content-type'], 'text/html');
    assert.equal(JSON.parse(openaiCompletion({ model: 'm', content: 'x', finishReason: 'content_filter' })).choices[0].finish_reason, 'content_filter');
    assert.equal(JSON.parse(anthropicMessage({ model: 'm', content: 'x' })).stop_reason, 'end_turn');
  });
});

describe('over real HTTP on 127.0.0.1', () => {
  /** @type {Awaited<ReturnType<typeof startMockServer>>} */
  let server;
  const p = createMockProvider({ seed: 3 });
  const base = (name) => `${server.url}/${name}`;

  before(async () => {
    server = await startMockServer(p, { port: 0 });
  });
  after(async () => {
    await server.close();
  });

  test('listens on 127.0.0.1 only', async () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    await assert.rejects(startMockServer(p, { host: '0.0.0.0' }), /loopback/);
  });

  test('OpenAI, Azure and Anthropic successes with Node fetch', async () => {
    p.reset();
    let res = await chat(fetch, base('a'));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).object, 'chat.completion');
    res = await azure(fetch, base('az'));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).model, 'gpt4o-prod');
    res = await messages(fetch, base('an'));
    assert.equal(res.status, 200);
    assert.equal((await res.json()).type, 'message');
    assert.deepEqual(p.calls.map((c) => [c.deployment, c.kind, c.status]), [['a', 'openai', 200], ['az', 'azure', 200], ['an', 'anthropic', 200]]);
  });

  test('status sequence with real error bodies, including 529', async () => {
    p.reset();
    p.configure('s', { statuses: [503, 429, 200] });
    p.configure('an', { statuses: [529] });
    const got = [];
    for (let i = 0; i < 3; i++) {
      const res = await chat(fetch, base('s'));
      got.push(res.status);
      if (res.status === 429) assert.equal((await res.json()).error.code, 'rate_limit_exceeded');
      else await res.arrayBuffer();
    }
    assert.deepEqual(got, [503, 429, 200]);
    const res = await messages(fetch, base('an'));
    assert.equal(res.status, 529);
    assert.equal((await res.json()).error.type, 'overloaded_error');
  });

  test('rate limit headers over HTTP', async () => {
    p.reset();
    p.configure('rl', { rateLimit: { rpm: 1 } });
    let res = await chat(fetch, base('rl'));
    assert.equal(res.headers.get('x-ratelimit-remaining-requests'), '0');
    await res.arrayBuffer();
    res = await chat(fetch, base('rl'));
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 59);
    assert.ok(Number(res.headers.get('retry-after-ms')) > 59_000);
    assert.match(res.headers.get('x-ratelimit-reset-requests'), /^(\d+(\.\d+)?s|1m0s)$/);
    assert.equal((await res.json()).error.type, 'requests');
  });

  test('context window, content filter and key checks over HTTP', async () => {
    p.reset();
    p.configure('k', { apiKey: 'sk-live-key-000000009999', contextWindow: 5, contentFilter: ['bomb'] });
    let res = await chat(fetch, base('k'), {}, { authorization: 'Bearer sk-wrong-key-0000005555' });
    assert.equal(res.status, 401);
    const text = await res.text();
    assert.ok(!text.includes('sk-wrong-key-0000005555'));
    assert.equal(JSON.parse(text).error.code, 'invalid_api_key');
    const auth = { authorization: 'Bearer sk-live-key-000000009999' };
    res = await chat(fetch, base('k'), { messages: [{ role: 'user', content: 'x'.repeat(40) }] }, auth);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'context_length_exceeded');
    res = await chat(fetch, base('k'), { messages: [{ role: 'user', content: 'bomb' }] }, auth);
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 'content_policy_violation');
    assert.equal(p.calls[0].headers.authorization, 'Bearer [REDACTED]');
  });

  test('down: the socket is destroyed and fetch fails', async () => {
    p.reset();
    p.configure('d', { down: true });
    const { error } = await settle(chat(fetch, base('d')));
    assert.ok(error instanceof TypeError);
    assert.equal(error.message, 'fetch failed');
    assert.equal(p.calls[0].outcome, 'refused');
    // The server still serves others afterwards.
    assert.equal((await chat(fetch, base('ok'))).status, 200);
  });

  test('OpenAI and Anthropic streams over HTTP', async () => {
    p.reset();
    p.configure({ s: { reply: 'red green blue' }, an: { reply: 'red green blue' } });
    let res = await chat(fetch, base('s'), { stream: true });
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const events = await sse(res);
    assert.equal(events.at(-1).data, '[DONE]');
    const text = events.slice(1, -2).map((e) => JSON.parse(e.data).choices[0].delta.content).join('');
    assert.equal(text, 'red green blue');
    res = await messages(fetch, base('an'), { stream: true });
    const an = await sse(res);
    assert.equal(an[0].event, 'message_start');
    assert.equal(an.at(-1).event, 'message_stop');
    assert.equal(an.filter((e) => e.event === 'content_block_delta').map((e) => JSON.parse(e.data).delta.text).join(''), 'red green blue');
  });

  test('cutAfterChunks over HTTP: the body breaks mid-stream', async () => {
    p.reset();
    p.configure('cut', { reply: 'a b c d e', cutAfterChunks: 2, tokenIntervalMs: 5 });
    const res = await chat(fetch, base('cut'), { stream: true });
    assert.equal(res.status, 200);
    const { error } = await settle(res.text());
    assert.ok(error instanceof TypeError, String(error));
    assert.equal(p.calls[0].outcome, 'cut');
  });

  test('a client abort on a hanging call ends it on the server', async () => {
    p.reset();
    p.configure('h', { hang: true });
    const ac = new AbortController();
    const pending = fetch(`${base('h')}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', messages: MSG }),
      signal: ac.signal,
    });
    for (let i = 0; i < 100 && p.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(p.calls[0].outcome, 'hang');
    ac.abort();
    assert.equal((await settle(pending)).error.name, 'AbortError');
    for (let i = 0; i < 100 && p.calls[0].outcome !== 'aborted'; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(p.calls[0].outcome, 'aborted');
  });

  test('provider.listen() and createMockServer() serve too, and close() ends hung requests', async () => {
    const q = createMockProvider({ deployments: { h: { hang: true } } });
    const s = await q.listen();
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const hung = settle(fetch(`${s.url}/h/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 'm', messages: MSG }) }));
    for (let i = 0; i < 100 && q.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await s.close();
    assert.ok((await hung).error instanceof TypeError);
    assert.equal(q.calls[0].outcome, 'aborted');

    const both = await createMockServer({ seed: 1 });
    const res = await chat(fetch, `${both.url}/x`);
    assert.equal(res.status, 200);
    assert.equal(both.provider.calls.length, 1);
    await both.close();
  });
});
