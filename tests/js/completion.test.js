// Router.completion against the mock provider: one test at least for each
// rule of the foundation issue, through the package as users import it.
// Time is a ManualClock shared by router and mock, so nothing sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, ManualClock, MemoryStore, SwitchyardError } from 'switchyard';
import { createMockProvider } from 'switchyard/mock';

const hi = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

/** The wasm build the current describe block runs on. */
let build = 'emscripten';

/** A router and a mock sharing one manual clock. */
/** |options.store| may be a function of the clock. */
async function setup(config, behaviours = {}, options = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const mock = createMockProvider({ clock, seed: 3 });
  for (const [name, b] of Object.entries(behaviours)) mock.configure(name, b);
  const events = [];
  const store = typeof options.store === 'function' ? options.store(clock) : options.store;
  const router = await Router.create(config, {
    fetch: mock.fetch, clock, seed: 42, env: {}, wasm: build, onEvent: (e) => events.push(e), ...options, store,
  });
  return { clock, mock, router, events };
}

/** Settles |promise| while the clock runs; returns [value, error]. */
async function run(clock, promise, ms = 3_600_000) {
  let out;
  promise.then((v) => (out = [v, null]), (e) => (out = [null, e]));
  await clock.runAll(ms);
  assert.ok(out, 'the request was answered');
  return out;
}

const PAIR = `
model_list:
  - model_name: g
    litellm_params: {model: openai/gpt-4o, api_base: http://mock/a/v1, api_key: sk-a-secret-key, order: 1}
    model_info: {id: a}
  - model_name: g
    litellm_params: {model: openai/gpt-4o, api_base: http://mock/b/v1, api_key: sk-b-secret-key, order: 2}
    model_info: {id: b}
`;

function suite() {
  test('a 503 is retried at once on the other deployment', async () => {
      const { clock, router } = await setup(PAIR, { a: { statuses: [503] } });
      const [res] = await run(clock, router.completion(hi('g')));
      assert.equal(res.object, 'chat.completion');
      assert.equal(res.switchyard.deployment, 'b');
      assert.equal(res.switchyard.attempts, 2);
      assert.deepEqual(res.switchyard.tries.map((t) => [t.deployment, t.status, t.class]), [['a', 503, 'server'], ['b', 200, 'ok']]);
      assert.equal(Object.keys(res).includes('switchyard'), false, 'the route is not part of the JSON');
      assert.equal(JSON.parse(JSON.stringify(res)).switchyard, undefined);
      await router.close();
  });

  test('a fallback group answers, in OpenAI shape even from Anthropic', async () => {
    const { clock, router, events } = await setup(`
  model_list:
    - {model_name: primary, litellm_params: {model: openai/gpt-4o, api_base: http://mock/p/v1}, model_info: {id: p}}
    - {model_name: backup, litellm_params: {model: anthropic/claude-sonnet, api_base: http://mock/c, api_key: k}, model_info: {id: c}}
  router_settings:
    fallbacks: [{primary: [backup]}]
  `, { p: { down: true } });
    const [res] = await run(clock, router.completion(hi('primary')));
    assert.equal(res.switchyard.model_group, 'backup');
    assert.equal(res.switchyard.fallbacks, 1);
    assert.equal(res.switchyard.tries[0].class, 'network');
    assert.equal(res.choices[0].message.role, 'assistant');
    assert.ok(res.usage.total_tokens > 0);
    assert.ok(events.some((e) => e.type === 'fallback' && e.from === 'primary' && e.to === 'backup'));
    await router.close();
  });

  test("the provider's retry-after-ms is waited for exactly, not less", async () => {
    const { clock, router } = await setup(`
  model_list:
    - {model_name: g, litellm_params: {model: openai/m, api_base: http://mock/a/v1}, model_info: {id: a}}
  `, { a: { statuses: [{ status: 429, headers: { 'retry-after-ms': '1500' } }] } });
    let done = false;
    const p = router.completion(hi('g')).then((r) => (done = true, r));
    await clock.advance(1499);
    assert.equal(done, false, 'still waiting at t-1');
    await clock.advance(1);
    await clock.advance(0);
    assert.equal(done, true, 'retried and answered at t');
    assert.equal((await p).switchyard.attempts, 2);
    await router.close();
  });

  test('a 429 cools the deployment: the next request goes elsewhere until the cooldown ends', async () => {
    const { clock, mock, router } = await setup(PAIR, { a: { statuses: [429] } });
    await run(clock, router.completion(hi('g')), 10);
    assert.equal(mock.callsTo('a'), 1);
    await run(clock, router.completion(hi('g')), 10);
    assert.equal(mock.callsTo('a'), 1, 'a is cooling');
    await clock.advance(5000);
    const [res] = await run(clock, router.completion(hi('g')), 10);
    assert.equal(res.switchyard.deployment, 'a', 'back after cooldown_time (5 s)');
    await router.close();
  });

  test('two routers on one store: a cooldown one makes is honoured by the other at once, whose copy had that key', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const mock = createMockProvider({ clock, seed: 3 });
    const store = new MemoryStore({ clock });
    const make = () => Router.create(PAIR, { fetch: mock.fetch, clock, store, seed: 1, env: {}, wasm: build, onEvent: () => {} });
    const [a, b] = [await make(), await make()];
    for (const r of [a, b]) {
      const [res] = await run(clock, r.completion(hi('g')), 10);
      assert.equal(res.switchyard.deployment, 'a', 'both read a\'s cooldown key: absent');
    }
    mock.configure('a', { statuses: [429] });
    const [first] = await run(clock, a.completion(hi('g')), 10);
    assert.deepEqual([first.switchyard.deployment, first.switchyard.attempts], ['b', 2]);
    const [second] = await run(clock, b.completion(hi('g')), 10);
    assert.deepEqual([second.switchyard.deployment, second.switchyard.attempts], ['b', 1], 'b saw a cooling');
    assert.equal(mock.callsTo('a'), 3);
    await a.close();
    await b.close();
  });

  test('context-window errors go to context_window_fallbacks without retries', async () => {
    const { clock, mock, router } = await setup(`
  model_list:
    - {model_name: small, litellm_params: {model: openai/m, api_base: http://mock/s1/v1}, model_info: {id: s1}}
    - {model_name: small, litellm_params: {model: openai/m, api_base: http://mock/s2/v1}, model_info: {id: s2}}
    - {model_name: large, litellm_params: {model: openai/m, api_base: http://mock/l/v1}, model_info: {id: l}}
  router_settings:
    context_window_fallbacks: [{small: [large]}]
  `, { s1: { contextWindow: 5 }, s2: { contextWindow: 5 } });
    const [res] = await run(clock, router.completion(hi('small', { messages: [{ role: 'user', content: 'x'.repeat(400) }] })));
    assert.equal(res.switchyard.model_group, 'large');
    assert.equal(mock.callsTo('s1') + mock.callsTo('s2'), 1, 'not retried on the sibling');
    await router.close();
  });

  test('a 200 with finish_reason content_filter falls back to content_policy_fallbacks', async () => {
    const { clock, router } = await setup(`
  model_list:
    - {model_name: strict, litellm_params: {model: azure/gpt4, api_base: http://mock/az, api_key: k}, model_info: {id: az}}
    - {model_name: lenient, litellm_params: {model: openai/m, api_base: http://mock/o/v1}, model_info: {id: o}}
  litellm_settings:
    content_policy_fallbacks: [{strict: [lenient]}]
  `, { az: { contentFilter: ['hello'], contentFilterMode: 'finish_reason' } });
    const [res] = await run(clock, router.completion(hi('strict')));
    assert.equal(res.switchyard.tries[0].class, 'content_policy');
    assert.equal(res.switchyard.deployment, 'o');
    await router.close();
  });

  test('a 400 is not retried and rejects with status 400', async () => {
    const { clock, mock, router } = await setup(PAIR, { a: { statuses: [400] } });
    const [, err] = await run(clock, router.completion(hi('g')));
    assert.ok(err instanceof SwitchyardError);
    assert.equal(err.status, 400);
    assert.equal(err.type, 'invalid_request_error');
    assert.equal(mock.callsTo('b'), 0);
    assert.match(err.message, /1 attempt/);
    await router.close();
  });

  test('401 and exhausted quota move on to another key; the error never shows a key', async () => {
    const { clock, router } = await setup(PAIR, { a: { apiKey: 'the-right-key' }, b: { quotaExhausted: true } });
    const [, err] = await run(clock, router.completion(hi('g')));
    assert.equal(err.status, 429);
    assert.equal(err.code, 'insufficient_quota');
    assert.deepEqual(err.route.tries.map((t) => t.class), ['auth', 'quota_exhausted']);
    assert.match(err.message, /2 attempts/);
    for (const secret of ['sk-a-secret-key', 'sk-b-secret-key', 'secret-key'])
      assert.equal(err.message.includes(secret) || JSON.stringify(err.route).includes(secret), false);
    await router.close();
  });

  test('one deadline covers every attempt: a hung upstream ends in 504 at the timeout', async () => {
    const { clock, router } = await setup(PAIR, { a: { hang: true }, b: { hang: true } });
    const start = clock.now();
    let err;
    const p = router.completion(hi('g', { timeout: 2 })).catch((e) => (err = e));
    await clock.advance(1999);
    assert.equal(err, undefined);
    await clock.advance(1);
    await p;
    assert.equal(err.status, 504);
    assert.equal(clock.now() - start, 2000);
    assert.equal(router.inflight, 0);
    await router.close();
  });

  test('retries do not multiply across fallbacks', async () => {
    const { clock, mock, router } = await setup(`
  model_list:
    - {model_name: g1, litellm_params: {model: openai/m, api_base: http://mock/a/v1}}
    - {model_name: g2, litellm_params: {model: openai/m, api_base: http://mock/b/v1}}
    - {model_name: g3, litellm_params: {model: openai/m, api_base: http://mock/c/v1}}
  router_settings: {num_retries: 2, max_fallbacks: 2, fallbacks: [{g1: [g2, g3]}]}
  `, { a: { failRate: 1 }, b: { failRate: 1 }, c: { failRate: 1 } });
    const [, err] = await run(clock, router.completion(hi('g1')));
    assert.equal(err.status, 502);
    assert.equal(mock.calls.length, 5, '1 + 2 retries + 2 fallbacks');
    await router.close();
  });

  test('a provider model without config is served with the environment keys', async () => {
    const { clock, mock, router } = await setup('model_list: []', {}, {
      env: { OPENAI_API_KEY: 'sk-env-key-1234', OPENAI_API_BASE: 'http://mock/envdep/v1' },
    });
    const [res] = await run(clock, router.completion(hi('openai/gpt-4o-mini')));
    assert.equal(res.switchyard.model, 'openai/gpt-4o-mini');
    assert.equal(mock.callsTo('envdep'), 1);
    assert.equal(mock.calls[0].model, 'gpt-4o-mini');
    await router.close();
  });

  test('config errors name the path; os.environ values resolve; unknown keys warn', async () => {
    await assert.rejects(Router.create('model_list:\n  - model_name: g\n    litellm_params: {model: openai/m, rpm: lots}\n'),
      /model_list\[0\]\.litellm_params\.rpm: expected a number/);
    await assert.rejects(Router.create({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'os.environ/NOPE_KEY' } }] }, { env: {} }),
      /model_list\[0\]\.litellm_params\.api_key: environment variable NOPE_KEY is not set/);
    const events = [];
    const r = await Router.create({ model_list: [], router_settings: { bogus: 1 } }, { env: {}, wasm: build, onEvent: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => [e.type, e.path]), [['config_warning', 'router_settings.bogus']]);
    await r.close();
  });

  /** Rounds of 300 concurrent requests, half failing on one deployment; the heap after each. */
  async function rounds(router, clock, n, mostSucceed = true) {
    const heaps = [];
    for (let round = 0; round < n; round++) {
      let answered = 0;
      const all = Array.from({ length: 300 }, (_, i) =>
        router.completion(hi('g', { user: `u${i}` })).then(() => 'ok', (e) => e.status).finally(() => answered++));
      await clock.runAll();
      const outcomes = await Promise.all(all);
      assert.equal(answered, 300, 'each answered once');
      if (mostSucceed) assert.ok(outcomes.filter((o) => o === 'ok').length > 200, 'most succeed despite the failures');
      assert.equal(router.inflight, 0);
      heaps.push(router.heapBytes);
      // The next round gets a retry budget of its own (a 10 s window), as
      // traffic spread over time would.
      await clock.advance(10_000);
    }
    return heaps;
  }
  const FLAKY = { a: { failRate: 0.5, latencyMs: 30 }, b: { failRate: 0.2, latencyMs: 20 } };
  // A store without watch(): the core keeps no copy of its keys, so what its heap holds between rounds is the requests' state alone.
  const unwatched = (clock) => {
    const m = new MemoryStore({ clock });
    return { get: (k) => m.get(k), put: (k, v, t) => m.put(k, v, t), add: (k, d, t) => m.add(k, d, t) };
  };

  test('many requests in flight: each answered once, and core memory returns to its level', async () => {
    const { clock, router } = await setup(PAIR, FLAKY, { store: unwatched });
    const heaps = await rounds(router, clock, 2);
    assert.equal(heaps[1], heaps[0], 'the first round sized the core\'s buffers; the second left nothing behind');
    await router.close();
  });

  test('a watched store: the core\'s copy of its keys stays within its bound', async () => {
    const watched = await setup(PAIR, FLAKY);
    const plain = await setup(PAIR, FLAKY, { store: unwatched });
    // 12 rounds: two minutes of windows, so the copy meets new keys all along.
    const copy = await rounds(watched.router, watched.clock, 12, false);
    const none = await rounds(plain.router, plain.clock, 12, false);
    // src/health.h: 64 slots of 32 bytes for a 2-deployment config, at most 3/4 of them kept, each under 250 bytes (and the counted allocator's 8-byte header).
    const bound = 64 * 32 + 48 * (250 + 8);
    // The copy changes no decision: the same seeds make the same events.
    assert.ok(watched.events.length > 3000);
    assert.deepEqual(watched.events, plain.events);
    for (let i = 0; i < copy.length; i++) {
      assert.ok(copy[i] - none[i] > 0, `round ${i}: the copy holds keys`);
      assert.ok(copy[i] - none[i] <= bound, `round ${i}: the copy holds ${copy[i] - none[i]} B, over ${bound}`);
    }
    await watched.router.close();
    await plain.router.close();
  });

  test('close() answers what is in flight with 499', async () => {
    const { router } = await setup(PAIR, { a: { hang: true } });
    const p = router.completion(hi('g'));
    await new Promise((r) => setTimeout(r, 5));
    await router.close();
    await assert.rejects(p, (e) => e.status === 499);
  });

  test('over real HTTP: the mock server on 127.0.0.1 and Node fetch', async () => {
    const mock = createMockProvider();
    mock.configure('a', { statuses: [503] });
    const server = await mock.listen({ port: 0 });
    try {
      const router = await Router.create({
        model_list: [
          { model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_base: `${server.url}/a/v1`, api_key: 'k', order: 1 } },
          { model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_base: `${server.url}/b/v1`, api_key: 'k', order: 2 } },
        ],
      }, { env: {}, wasm: build });
      const res = await router.completion(hi('g'));
      assert.equal(res.switchyard.attempts, 2);
      assert.equal(res.choices[0].finish_reason, 'stop');
      await router.close();
    } finally {
      await server.close();
    }
  });
}

// The whole suite on each build of the core.
for (const wasm of ['emscripten', 'clang']) {
  describe(`${wasm} build`, () => {
    before(() => { build = wasm; });
    suite();
  });
}

// The rules that need no waiting, again over real HTTP: Node's fetch, the
// mock server on 127.0.0.1 and the system clock. (Waits and deadlines are
// tested above on the manual clock, where they cost no real time.)
describe('over real HTTP', () => {
  let mock, server;
  before(async () => {
    mock = createMockProvider();
    server = await mock.listen({ port: 0 });
  });
  after(() => server.close());
  const config = (entries, settings = {}) => ({
    model_list: entries.map(([group, name, model = 'openai/gpt-4o', extra = {}]) => ({
      model_name: group,
      litellm_params: { model, api_base: `${server.url}/${name}${model.startsWith('openai/') ? '/v1' : ''}`, api_key: 'sk-http-secret-1', api_version: '2024-10-21', ...extra },
      model_info: { id: name },
    })),
    router_settings: settings,
  });

  test('connection refused falls back to an Anthropic group', async () => {
    mock.configure('h-down', { down: true });
    const router = await Router.create(config([['p', 'h-down'], ['q', 'h-claude', 'anthropic/claude']], { fallbacks: [{ p: ['q'] }] }), { env: {} });
    const res = await router.completion(hi('p'));
    assert.equal(res.switchyard.tries[0].class, 'network');
    assert.equal(res.switchyard.deployment, 'h-claude');
    assert.equal(res.object, 'chat.completion');
    await router.close();
  });

  test('a 429 cools the deployment for the next request', async () => {
    mock.configure('h-limited', { statuses: [429] });
    const router = await Router.create(config([['g', 'h-limited', 'openai/gpt-4o', { order: 1 }], ['g', 'h-ok', 'openai/gpt-4o', { order: 2 }]]), { env: {} });
    const first = await router.completion(hi('g'));
    const second = await router.completion(hi('g'));
    assert.deepEqual([first.switchyard.attempts, second.switchyard.deployment], [2, 'h-ok']);
    assert.equal(mock.callsTo('h-limited'), 1);
    await router.close();
  });

  test('context-window and content-filter failures take their own fallbacks', async () => {
    mock.configure('h-small', { contextWindow: 3 });
    mock.configure('h-azure', { contentFilter: ['forbidden'] });
    const router = await Router.create(config(
      [['small', 'h-small'], ['large', 'h-large'], ['strict', 'h-azure', 'azure/gpt4'], ['lenient', 'h-len']],
      { context_window_fallbacks: [{ small: ['large'] }], content_policy_fallbacks: [{ strict: ['lenient'] }] }), { env: {} });
    const long = await router.completion(hi('small', { messages: [{ role: 'user', content: 'x'.repeat(100) }] }));
    assert.equal(long.switchyard.model_group, 'large');
    const filtered = await router.completion(hi('strict', { messages: [{ role: 'user', content: 'something forbidden' }] }));
    assert.equal(filtered.switchyard.tries[0].class, 'content_policy');
    assert.equal(filtered.switchyard.model_group, 'lenient');
    await router.close();
  });

  test('a wrong key: 401, one attempt, and the key is in no message', async () => {
    mock.configure('h-auth', { apiKey: 'the-real-key' });
    const router = await Router.create(config([['g', 'h-auth']]), { env: {} });
    const err = await router.completion(hi('g')).catch((e) => e);
    assert.equal(err.status, 401);
    assert.equal(err.route.attempts, 1);
    assert.equal(`${err.message} ${JSON.stringify(err.route)}`.includes('sk-http-secret-1'), false);
    await router.close();
  });
});
