// The gateway end to end with the official openai client: answers, route
// headers, errors as the client's typed errors, auth, limits, bad input,
// and the CLI's refusal of a bad config. The mock provider runs as a
// separate HTTP server on 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { createMockProvider } from 'switchyard/mock';
import { startGateway } from '../../js/gateway.js';

let mock, upstream, gateway, client;
const MASTER = 'sk-master-test-0001';
const logs = [];

before(async () => {
  mock = createMockProvider();
  mock.configure('down', { down: true });
  mock.configure('limited', { statuses: [{ status: 429, headers: { 'retry-after': '7' } }], repeat: true });
  upstream = await mock.listen({ port: 0 });
  const u = upstream.url;
  gateway = await startGateway(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet, api_base: ${u}/down, api_key: sk-up-1}}
  - {model_name: mini, litellm_params: {model: openai/gpt-4o-mini, api_base: ${u}/mini/v1, api_key: sk-up-2}, model_info: {id: mini}}
  - {model_name: busy, litellm_params: {model: openai/gpt-4o, api_base: ${u}/limited/v1, api_key: sk-up-3}, model_info: {id: busy-1}}
  - {model_name: busy, litellm_params: {model: openai/gpt-4o, api_base: ${u}/limited/v1, api_key: sk-up-4}, model_info: {id: busy-2}}
router_settings:
  fallbacks: [{claude: [mini]}]
general_settings:
  master_key: os.environ/TEST_MASTER_KEY
`, { port: 0, env: { TEST_MASTER_KEY: MASTER }, log: (l) => logs.push(l), maxBodyBytes: 64 * 1024 });
  client = new OpenAI({ apiKey: MASTER, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
});

after(async () => {
  await gateway.close();
  await upstream.close();
});

const msg = [{ role: 'user', content: 'hello' }];

test('a fallback seen from the client, with the route in headers', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'claude', messages: msg }).withResponse();
  assert.equal(data.object, 'chat.completion');
  assert.equal(response.headers.get('x-switchyard-model-group'), 'mini');
  assert.equal(response.headers.get('x-switchyard-deployment'), 'mini');
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  const line = JSON.parse(logs.at(-1));
  assert.deepEqual(line.tries.map((t) => t.split(':').slice(1, 3).join(':')), ['0:network', '200:ok']);
  assert.equal(logs.join('\n').includes('sk-up-'), false, 'no upstream key in the log');
});

test('every deployment rate limited: 429 with retry-after, as RateLimitError', async () => {
  const err = await client.chat.completions.create({ model: 'busy', messages: msg }).catch((e) => e);
  assert.ok(err instanceof OpenAI.RateLimitError);
  assert.equal(err.status, 429);
  assert.equal(err.headers['retry-after'], '7');
  assert.equal(err.error.code, 'rate_limit_exceeded');
});

test('/health shows each deployment, the rate-limited ones cooling with their reason', async () => {
  const r = await fetch(`${gateway.url}/health`, { headers: { authorization: `Bearer ${MASTER}` } });
  const h = await r.json();
  // The 429 test above re-cooled the deployment of its last attempt for the
  // provider's 7 s retry-after (the other's cooldown may have run out during
  // that request's own 7 s wait).
  const cooling = h.deployments.filter((d) => d.model_group === 'busy' && d.state === 'cooling');
  assert.ok(cooling.length >= 1);
  assert.equal(cooling[0].reason, 'rate_limit');
  assert.ok(cooling[0].cooling_ms_left > 0 && cooling[0].cooling_ms_left <= 7000);
  assert.equal(h.deployments.find((d) => d.id === 'mini').state, 'healthy');
  assert.equal(h.healthy_count + h.unhealthy_count, 4);
  assert.equal(JSON.stringify(h).includes('sk-up-'), false);
});

test('unknown model: 404 NotFoundError; bad request: 400 BadRequestError', async () => {
  const nf = await client.chat.completions.create({ model: 'nope', messages: msg }).catch((e) => e);
  assert.ok(nf instanceof OpenAI.NotFoundError);
  assert.match(nf.message, /'nope' is not served/);
  const bad = await client.chat.completions.create({ model: 'mini', messages: [] }).catch((e) => e);
  assert.ok(bad instanceof OpenAI.BadRequestError);
  assert.match(bad.message, /messages: expected a non-empty list/);
});

test('the master key is required everywhere but liveliness, and never accepted wrong', async () => {
  const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${gateway.url}/v1`, maxRetries: 0 });
  const err = await wrong.chat.completions.create({ model: 'mini', messages: msg }).catch((e) => e);
  assert.ok(err instanceof OpenAI.AuthenticationError);
  assert.equal((await fetch(`${gateway.url}/health/liveliness`)).status, 200);
  assert.equal((await fetch(`${gateway.url}/health/readiness`)).status, 401);
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['claude', 'mini', 'busy']);
});

test('malformed JSON is 400, a huge body 413, an unknown path 404; the gateway stays up', async () => {
  const post = (body) => fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' }, body,
  });
  const r1 = await post('{"model": ');
  assert.equal(r1.status, 400);
  assert.equal((await r1.json()).error.code, 'invalid_json');
  const r2 = await post(JSON.stringify({ model: 'mini', messages: [{ role: 'user', content: 'x'.repeat(100_000) }] }));
  assert.equal(r2.status, 413);
  const r3 = await fetch(`${gateway.url}/v2/nothing`, { headers: { authorization: `Bearer ${MASTER}` } });
  assert.equal(r3.status, 404);
  const ok = await client.chat.completions.create({ model: 'mini', messages: msg });
  assert.equal(ok.choices[0].message.role, 'assistant');
});

test('a client still sending long past its 413 is cut off, not read without end', async () => {
  const { request } = await import('node:http');
  const total = 32 * 1024 * 1024, piece = Buffer.alloc(64 * 1024, 0x61);
  let status = 0, sent = 0, closed = false;
  const req = request(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
  }, (res) => { status = res.statusCode; res.resume(); });
  req.on('error', () => {}); // the reset that cuts it off
  const gone = new Promise((resolve) => req.on('close', () => { closed = true; resolve(); }));
  while (sent < total && !closed) {
    sent += piece.length;
    if (!req.write(piece)) await Promise.race([new Promise((r) => req.once('drain', r)), gone]);
  }
  if (!closed) req.end();
  await gone;
  assert.equal(status, 413);
  assert.ok(sent < total, `the gateway read all ${sent} bytes`);
});

test('the CLI refuses an invalid config, naming the key, with a non-zero exit', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sy-cli-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, 'model_list:\n  - model_name: g\n    litellm_params: {model: openai/m, rpm: lots}\n');
  const r = spawnSync(process.execPath, ['js/cli.js', 'serve', '--config', file, '--port', '0'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /model_list\[0\]\.litellm_params\.rpm: expected a number/);
});

test('/metrics: Prometheus text fed by the core events, parsed', async () => {
  const r = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } });
  assert.equal(r.status, 200);
  const samples = new Map();
  for (const line of (await r.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{.*\})? (\S+)$/.exec(line);
    assert.ok(m, `a valid sample line: ${line}`);
    samples.set(m[1] + (m[2] ?? ''), Number(m[3]));
  }
  // the fallback test above: claude -> mini after a refused connection
  assert.ok(samples.get('switchyard_fallbacks_total{from="claude",to="mini",reason="network"}') >= 1);
  assert.ok(samples.get('switchyard_upstream_attempts_total{deployment="mini",class="ok"}') >= 1);
  assert.ok(samples.get('switchyard_requests_total{model_group="busy",status="429",class="rate_limit"}') >= 1);
  assert.ok(samples.get('switchyard_cooldowns_total{model_group="busy",deployment="busy-1",reason="rate_limit"}') >= 1);
  const count = samples.get('switchyard_request_duration_seconds_count{model_group="claude"}');
  assert.equal(samples.get('switchyard_request_duration_seconds_bucket{model_group="claude",le="+Inf"}'), count);
  // a stream through the main gateway, then its time to first token is there
  const s = await client.chat.completions.create({ model: 'mini', messages: msg, stream: true });
  for await (const _ of s);
  const again = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${MASTER}` } })).text();
  assert.match(again, /^switchyard_time_to_first_token_seconds_count\{model_group="mini",deployment="mini"\} 1$/m);
  const unauth = await fetch(`${gateway.url}/metrics`);
  assert.equal(unauth.status, 401);
});

test('shutdown drains: a request in flight is answered, new connections are refused', async () => {
  const slow = createMockProvider();
  slow.configure('slow', { latencyMs: 300 });
  const up = await slow.listen({ port: 0 });
  const gw = await startGateway({ model_list: [{ model_name: 's', litellm_params: { model: 'openai/m', api_base: `${up.url}/slow/v1` } }] },
    { port: 0, env: {}, log: () => {} });
  const inflight = fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', body: JSON.stringify({ model: 's', messages: msg }) });
  await new Promise((r) => setTimeout(r, 100));
  const closing = gw.close(5000);
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(fetch(`${gw.url}/health/liveliness`));
  const res = await inflight;
  assert.equal(res.status, 200);
  await closing;
  await up.close();
});

// Streaming through the gateway, with the openai client's own SSE parser.
test('streams: failure before the first token falls back invisibly', async () => {
  mock.configure('an-over', { overloaded: true });
  const gw = await startGateway(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude, api_base: ${upstream.url}/an-over, api_key: k}}
  - {model_name: gpt, litellm_params: {model: openai/gpt-4o, api_base: ${upstream.url}/gpt-ok/v1, api_key: k}, model_info: {id: gpt-ok}}
router_settings: {fallbacks: [{claude: [gpt]}]}
`, { port: 0, env: {}, log: () => {} });
  const c = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const { data: stream, response } = await c.chat.completions.create({ model: 'claude', messages: msg, stream: true }).withResponse();
  assert.equal(response.headers.get('x-switchyard-deployment'), 'gpt-ok');
  assert.equal(response.headers.get('x-switchyard-attempts'), '2');
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.match(text, /Hello from gpt-ok/);
  await gw.close();
});

test('streams: a slow first token triggers stream_timeout; a cut after it ends with an error event', async () => {
  mock.configure('slowtok', { firstTokenMs: 2000 });
  mock.configure('fast', {});
  mock.configure('cutting', { cutAfterChunks: 2, tokenIntervalMs: 50 });
  const gw = await startGateway(`
model_list:
  - {model_name: g, litellm_params: {model: openai/m, api_base: ${upstream.url}/slowtok/v1, order: 1}, model_info: {id: slowtok}}
  - {model_name: g, litellm_params: {model: openai/m, api_base: ${upstream.url}/fast/v1, order: 2}, model_info: {id: fast}}
  - {model_name: cut, litellm_params: {model: openai/m, api_base: ${upstream.url}/cutting/v1}}
router_settings: {stream_timeout: 0.3}
`, { port: 0, env: {}, log: () => {} });
  const c = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const t0 = Date.now();
  const { data: s1, response } = await c.chat.completions.create({ model: 'g', messages: msg, stream: true }).withResponse();
  assert.equal(response.headers.get('x-switchyard-deployment'), 'fast');
  for await (const _ of s1); // drains
  assert.ok(Date.now() - t0 < 1500, 'did not wait for the slow first token');
  const s2 = await c.chat.completions.create({ model: 'cut', messages: [{ role: 'user', content: 'a long answer please, many words' }], stream: true });
  let got = '';
  const err = await (async () => { for await (const ch of s2) got += ch.choices[0]?.delta?.content ?? ''; })().catch((e) => e);
  assert.ok(got.length > 0, 'content arrived before the cut');
  assert.ok(err instanceof OpenAI.APIError, `the client sees an error event, got ${err}`);
  assert.match(err.message, /cut/);
  await gw.close();
});

test('streams: a client that disconnects aborts the upstream attempt', async () => {
  mock.configure('trickle', { tokenIntervalMs: 200 });
  const gw = await startGateway(`
model_list:
  - {model_name: t, litellm_params: {model: openai/m, api_base: ${upstream.url}/trickle/v1}}
`, { port: 0, env: {}, log: () => {} });
  const ac = new AbortController();
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST', signal: ac.signal,
    body: JSON.stringify({ model: 't', stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] }),
  });
  const reader = res.body.getReader();
  await reader.read();
  ac.abort();
  for (let i = 0; i < 50 && gw.router.inflight > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(gw.router.inflight, 0, 'nothing stays in flight');
  for (let i = 0; i < 50 && mock.calls.filter((x) => x.deployment === 'trickle').at(-1)?.outcome === 'pending'; i++)
    await new Promise((r) => setTimeout(r, 20));
  assert.notEqual(mock.calls.filter((x) => x.deployment === 'trickle').at(-1).outcome, 'ok', 'the upstream stream was aborted, not finished');
  await gw.close();
});

test('npm start: the embedded demo shows a retry and a fallback, logs each request on stdout, then SIGTERM stops it cleanly', async () => {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['js/cli.js', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stderr.on('data', (d) => (err += d));
  child.stdout.on('data', (d) => (out += d));
  for (let i = 0; i < 200 && (err.match(/switchyard demo: (gpt-4o|claude)/g) ?? []).length < 2; i++)
    await new Promise((r) => setTimeout(r, 25));
  assert.match(err, /gpt-4o .*answered by deployment gpt-4o-steady of group gpt-4o after 2 attempt/);
  assert.match(err, /claude .*answered by deployment gpt-4o-mini of group gpt-4o-mini after 2 attempt/);
  const exit = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  // The access log is written in batches: by exit, every line is out, whole.
  const lines = out.trim().split('\n').map((l) => JSON.parse(l));
  const chats = lines.filter((l) => l.path === '/v1/chat/completions');
  assert.deepEqual(chats.map((l) => [l.method, l.status, l.model_group, l.deployment, l.attempts]),
    [['POST', 200, 'gpt-4o', 'gpt-4o-steady', 2], ['POST', 200, 'gpt-4o-mini', 'gpt-4o-mini', 2]]);
  assert.match(chats[0].tries[0], /^gpt-4o-flaky:503:\w+:\d+ms$/);
  assert.ok(chats.every((l) => !Number.isNaN(Date.parse(l.ts)) && l.ms >= 0), 'each line has its time and duration');
});

test('alerts: a webhook POST when a deployment cools, once per deployment per window', async () => {
  const { createServer } = await import('node:http');
  const received = [];
  const hook = createServer((req, res) => {
    let b = '';
    req.on('data', (d) => (b += d)).on('end', () => { received.push(JSON.parse(b)); res.end('ok'); });
  });
  await new Promise((r) => hook.listen(0, '127.0.0.1', r));
  mock.configure('al-a', { statuses: [429, 429, 429] });
  const gw = await startGateway(`
model_list:
  - {model_name: g, litellm_params: {model: openai/m, api_base: ${upstream.url}/al-a/v1, order: 1}, model_info: {id: al-a}}
  - {model_name: g, litellm_params: {model: openai/m, api_base: ${upstream.url}/al-b/v1, order: 2}, model_info: {id: al-b}}
router_settings:
  cooldown_time: 0.05
  alerting: {webhook_url: "http://127.0.0.1:${hook.address().port}/hook", window: 60}
`, { port: 0, env: {}, log: () => {} });
  const c = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  for (let i = 0; i < 3; i++) {
    await c.chat.completions.create({ model: 'g', messages: msg });
    await new Promise((r) => setTimeout(r, 60)); // past the 50 ms cooldown: al-a is tried again
  }
  for (let i = 0; i < 50 && received.length < 1; i++) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(received.length, 1, 'three cooldowns of al-a, one alert in the window');
  assert.equal(received[0].alert, 'cooldown');
  assert.equal(received[0].deployment, 'al-a');
  assert.equal(received[0].reason, 'rate_limit');
  await gw.close();
  await new Promise((r) => hook.close(r));
});

test('embeddings through the gateway: an Anthropic group falls back to one that has embeddings', async () => {
  const gw = await startGateway(`
model_list:
  - {model_name: emb, litellm_params: {model: anthropic/claude, api_base: ${upstream.url}/emb-an, api_key: k}}
  - {model_name: emb-oa, litellm_params: {model: openai/text-embedding-3-small, api_base: ${upstream.url}/emb-oa/v1, api_key: k}, model_info: {id: emb-oa}}
router_settings: {fallbacks: [{emb: [emb-oa]}]}
`, { port: 0, env: {}, log: () => {} });
  const c = new OpenAI({ apiKey: 'x', baseURL: `${gw.url}/v1`, maxRetries: 0 });
  const { data, response } = await c.embeddings.create({ model: 'emb', input: ['one', 'two'] }).withResponse();
  assert.equal(data.data.length, 2);
  assert.ok(data.data[0].embedding.length > 0);
  assert.equal(response.headers.get('x-switchyard-deployment'), 'emb-oa');
  const bad = await c.embeddings.create({ model: 'emb-oa', input: [] }).catch((e) => e);
  assert.ok(bad instanceof OpenAI.BadRequestError);
  await gw.close();
});
