// The JS host parts on their own (config resolution, the memory store, the
// manual clock, the fetch transport over a fake core), then the binding's
// rules against the built core: nothing re-enters it, and a host callback
// that throws never unwinds through it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Router, ManualClock, MemoryStore, SwitchyardError, systemClock } from 'switchyard';
import { createMockProvider } from 'switchyard/mock';
import { resolveConfig } from '../../js/config.js';
import { createFetchTransport, describe as describeFailure } from '../../js/transport/fetch.js';
import { createNodeTransport } from '../../js/transport/node.js';
import { Core } from '../../js/core/binding.js';

const hi = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello' }], ...extra });

describe('config', () => {
  test('os.environ/NAME resolves anywhere; a missing variable names its path', () => {
    const cfg = {
      model_list: [
        { model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'os.environ/KEY_A' } },
        { model_name: 'g', litellm_params: { model: 'openai/m', api_base: 'os.environ/BASE_B', api_key: 'os.environ/KEY_B' } },
      ],
      router_settings: { fallbacks: [{ g: ['os.environ/FALLBACK'] }] },
    };
    const env = { KEY_A: 'sk-a', BASE_B: 'http://b/v1', KEY_B: 'sk-b', FALLBACK: 'h' };
    const { json, config } = resolveConfig(cfg, env);
    assert.equal(config.model_list[1].litellm_params.api_base, 'http://b/v1');
    assert.equal(config.router_settings.fallbacks[0].g[0], 'h');
    assert.deepEqual(JSON.parse(json), config);
    assert.equal(cfg.model_list[0].litellm_params.api_key, 'os.environ/KEY_A', "the caller's object is left alone");
    assert.throws(() => resolveConfig(cfg, { ...env, KEY_B: undefined }),
      (e) => e.message.includes('model_list[1].litellm_params.api_key') && e.message.includes('KEY_B'));
    assert.throws(() => resolveConfig(cfg, { ...env, FALLBACK: undefined }), /router_settings\.fallbacks\[0\]\.g\[0\].*FALLBACK/);
  });

  test('YAML text (and JSON text) give the same config as the object', () => {
    const yaml = `
model_list:
  - model_name: g
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/K
      rpm: 60
router_settings: {num_retries: 3}
`;
    const fromYaml = resolveConfig(yaml, { K: 'sk-k' }).config;
    assert.deepEqual(fromYaml, {
      model_list: [{ model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_key: 'sk-k', rpm: 60 } }],
      router_settings: { num_retries: 3 },
    });
    assert.deepEqual(resolveConfig(JSON.stringify(fromYaml), {}).config, fromYaml);
    assert.deepEqual(resolveConfig('', {}).config, {}, 'an empty file is an empty config');
    assert.throws(() => resolveConfig('model_list: [\n  - a: b\n   c', {}), /not valid YAML/);
  });

  test('provider_env carries the usual provider variables that are set, and only those', () => {
    const env = { OPENAI_API_KEY: 'sk-o', OPENAI_BASE_URL: 'http://o/v1', ANTHROPIC_API_KEY: 'sk-an', AZURE_API_VERSION: '2024-06-01', HOME: '/root' };
    assert.deepEqual(resolveConfig({}, env).config.provider_env,
      { OPENAI_API_KEY: 'sk-o', OPENAI_API_BASE: 'http://o/v1', ANTHROPIC_API_KEY: 'sk-an', AZURE_API_VERSION: '2024-06-01' });
    assert.equal(resolveConfig({}, { ...env, OPENAI_API_BASE: 'http://first/v1' }).config.provider_env.OPENAI_API_BASE, 'http://first/v1',
      'OPENAI_API_BASE wins over OPENAI_BASE_URL');
    assert.equal(resolveConfig({}, { HOME: '/root' }).config.provider_env, undefined);
  });
});

describe('MemoryStore', () => {
  test('a put expires exactly at its TTL; TTL 0 never does', () => {
    const clock = new ManualClock(1000);
    const s = new MemoryStore({ clock });
    s.put('k', 'v', 500);
    s.put('forever', 'x', 0);
    clock.setTimeout(() => {}, 0);
    assert.equal(s.get('k'), 'v');
    // ManualClock moves only through advance; a plain object clock steps exactly.
    const t = { now: 1000 };
    const s2 = new MemoryStore({ clock: { now: () => t.now } });
    s2.put('k', 'v', 500);
    s2.put('forever', 'x', 0);
    t.now = 1499;
    assert.equal(s2.get('k'), 'v', 'alive at t-1');
    t.now = 1500;
    assert.equal(s2.get('k'), undefined, 'gone at t');
    t.now = 1e15;
    assert.equal(s2.get('forever'), 'x');
    assert.equal(s2.get('never-set'), undefined);
  });

  test('add is a fixed window: the TTL is set at creation, later adds do not renew it', () => {
    const t = { now: 0 };
    const s = new MemoryStore({ clock: { now: () => t.now } });
    assert.equal(s.add('fails', 1, 60_000), 1);
    t.now = 59_000;
    assert.equal(s.add('fails', 1, 60_000), 2);
    assert.equal(s.add('fails', 2.5, 60_000), 4.5);
    assert.equal(s.get('fails'), '4.5');
    t.now = 59_999;
    assert.equal(s.add('fails', 0, 60_000), 4.5);
    t.now = 60_000;
    assert.equal(s.get('fails'), undefined, 'the window ends 60 s after the first add');
    assert.equal(s.add('fails', 1, 60_000), 1, 'a new window starts');
    t.now = 119_999;
    assert.equal(s.get('fails'), '1');
    t.now = 120_000;
    assert.equal(s.get('fails'), undefined);
    assert.equal(s.add('n', -3, 0), -3);
    assert.equal(s.add('n', 1, 5), -2, 'no expiry when created without one');
  });

  test('bounded: expired entries are evicted first, then the oldest', () => {
    const t = { now: 0 };
    const s = new MemoryStore({ clock: { now: () => t.now }, maxEntries: 3 });
    s.put('old', '1', 0);
    s.put('short', '2', 10);
    s.put('mid', '3', 0);
    t.now = 10;
    s.put('new', '4', 0);
    assert.equal(s.size, 3);
    assert.deepEqual(['old', 'short', 'mid', 'new'].map((k) => s.get(k)), ['1', undefined, '3', '4']);
    s.put('newer', '5', 0);
    assert.equal(s.size, 3);
    assert.deepEqual(['old', 'mid', 'new', 'newer'].map((k) => s.get(k)), [undefined, '3', '4', '5']);
    s.put('mid', '6', 0); // a rewrite is fresh again
    s.put('newest', '7', 0);
    assert.deepEqual(['mid', 'new', 'newer', 'newest'].map((k) => s.get(k)), ['6', undefined, '5', '7']);
  });
});

describe('ManualClock', () => {
  test('timers fire in due order, ties in start order, including ones set while firing', async () => {
    const clock = new ManualClock(100);
    const log = [];
    clock.setTimeout(() => log.push(['c', clock.now()]), 30);
    clock.setTimeout(() => {
      log.push(['a', clock.now()]);
      clock.setTimeout(() => log.push(['a0', clock.now()]), 0);
      clock.setTimeout(() => log.push(['a5', clock.now()]), 5);
    }, 10);
    clock.setTimeout(() => log.push(['b', clock.now()]), 10);
    const gone = clock.setTimeout(() => log.push(['cancelled']), 20);
    clock.clearTimeout(gone);
    clock.setTimeout(() => log.push(['neg', clock.now()]), -5);
    assert.equal(clock.pending, 4);
    await clock.advance(15);
    assert.equal(clock.now(), 115);
    assert.deepEqual(log, [['neg', 100], ['a', 110], ['b', 110], ['a0', 110], ['a5', 115]]);
    await clock.advance(14);
    assert.equal(log.length, 5, 'not yet at t-1');
    await clock.advance(1);
    assert.deepEqual(log.at(-1), ['c', 130]);
    assert.equal(clock.pending, 0);
  });

  test('runAll fires everything and stops at the last timer; async work settles between timers', async () => {
    const clock = new ManualClock(0);
    const log = [];
    clock.setTimeout(async () => {
      await Promise.resolve();
      await new Promise((r) => setImmediate(r));
      log.push('async done');
      clock.setTimeout(() => log.push('chained'), 1000);
    }, 50);
    clock.setTimeout(() => log.push('far'), 5_000_000);
    await clock.runAll();
    assert.deepEqual(log, ['async done', 'chained']);
    assert.equal(clock.now(), 1050);
    assert.equal(clock.pending, 1, 'beyond the default hour');
    await clock.runAll(10_000_000);
    assert.deepEqual(log.at(-1), 'far');
  });

  test('systemClock is the real clock', () => {
    assert.ok(Math.abs(systemClock.now() - Date.now()) < 1000);
    const h = systemClock.setTimeout(() => assert.fail('cleared'), 0);
    systemClock.clearTimeout(h);
  });
});

/** A stand-in for the binding: records what the transport reports. */
function fakeCore() {
  const log = [];
  return {
    log,
    onResponse: (a, status, headers) => log.push(['response', a, status, headers]),
    onBody: (a, bytes) => log.push(['body', a, new TextDecoder().decode(bytes)]),
    onEnd: (a) => log.push(['end', a]),
    onError: (a, msg) => log.push(['error', a, msg]),
  };
}

const flush = () => new Promise((r) => setTimeout(r, 0));
const HEAD = (extra = {}) => JSON.stringify({
  method: 'POST', url: 'http://up.example/v1/chat/completions', stream: false,
  headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live-secret-1234' }, ...extra,
});

/** Polls until |core| logged |n| entries (real sockets), for at most a second. */
async function logged(core, n) {
  for (let i = 0; i < 100 && core.log.length < n; i++) await new Promise((r) => setTimeout(r, 10));
}

describe('node transport (the default on Node)', () => {
  test('sends the head and body; reports lower-case headers (repeats kept), the body, then the end', async () => {
    const got = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        got.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(201, [['Content-Type', 'application/json'], ['X-Multi', 'a'], ['X-Multi', 'b']]);
        res.write('{"a":');
        setTimeout(() => res.end('1}'), 5);
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    try {
      const core = fakeCore();
      const t = createNodeTransport(core);
      t.start(7, HEAD({ url: `http://127.0.0.1:${server.address().port}/v1/chat/completions` }), new TextEncoder().encode('{"x":1}'));
      assert.equal(got.length, 0, 'nothing is sent inside fetch_start (the core is still running)');
      await logged(core, 4);
      assert.deepEqual(got, [{ method: 'POST', url: '/v1/chat/completions', auth: 'Bearer sk-live-secret-1234', body: '{"x":1}' }]);
      const [response, ...rest] = core.log;
      assert.deepEqual(response.slice(0, 3), ['response', 7, 201]);
      assert.match(response[3], /^content-type:application\/json\nx-multi:a\nx-multi:b\n/);
      assert.deepEqual(rest, [['body', 7, '{"a":'], ['body', 7, '1}'], ['end', 7]]);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('a refused connection and a body cut short are errors; an aborted attempt reports nothing', async () => {
    const server = createServer((req, res) => {
      req.resume();
      if (req.url === '/cut') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('{"partial":');
        setTimeout(() => res.destroy(), 5);
      } // '/hang' never answers
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    const closed = createServer();
    await new Promise((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = closed.address().port;
    await new Promise((r) => closed.close(r));
    try {
      const core = fakeCore();
      const t = createNodeTransport(core);
      t.start(1, HEAD({ url: `http://127.0.0.1:${deadPort}/v1` }), new Uint8Array(0));
      t.start(2, HEAD({ url: `http://127.0.0.1:${port}/cut` }), new Uint8Array(0));
      t.start(3, HEAD({ url: `http://127.0.0.1:${port}/hang` }), new Uint8Array(0));
      t.start(4, HEAD({ url: 'ftp://127.0.0.1/x' }), new Uint8Array(0));
      t.start(5, HEAD(), new Uint8Array(0));
      t.abort(5); // before it was sent: never sent
      await logged(core, 5);
      t.abort(3);
      await new Promise((r) => setTimeout(r, 50));
      const byAttempt = (a) => core.log.filter((e) => e[1] === a).map((e) => e[0]);
      assert.deepEqual(byAttempt(1), ['error']);
      assert.match(core.log.find((e) => e[1] === 1)[2], /ECONNREFUSED/);
      assert.deepEqual(byAttempt(2), ['response', 'body', 'error'], 'a cut body is an error, not an end');
      assert.deepEqual(byAttempt(3), [], 'an aborted attempt reports nothing');
      assert.deepEqual(byAttempt(4), ['error']);
      assert.deepEqual(byAttempt(5), []);
      for (const e of core.log) assert.ok(!String(e[2] ?? '').includes('sk-live'), 'no key in a message');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('fetch transport', () => {
  test('sends the head, reports "name:value\\n" lower-case headers, the body in chunks, then the end', async () => {
    const core = fakeCore();
    const calls = [];
    const fetchFn = async (url, init) => {
      calls.push({ url, init });
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"a":'));
          c.enqueue(new TextEncoder().encode('1}'));
          c.close();
        },
      });
      return new Response(body, { status: 201, headers: { 'Content-Type': 'application/json', 'Retry-After-Ms': '250', 'X-Multi': 'a' } });
    };
    const t = createFetchTransport(fetchFn, core);
    t.start(7, HEAD(), new TextEncoder().encode('{"x":1}'));
    assert.equal(calls.length, 0, 'fetch is not called inside fetch_start (the core is still running)');
    await flush();
    assert.equal(calls[0].url, 'http://up.example/v1/chat/completions');
    assert.equal(calls[0].init.method, 'POST');
    assert.equal(calls[0].init.headers.authorization, 'Bearer sk-live-secret-1234');
    assert.equal(new TextDecoder().decode(calls[0].init.body), '{"x":1}');
    assert.ok(calls[0].init.signal instanceof AbortSignal);
    assert.deepEqual(core.log, [
      ['response', 7, 201, 'content-type:application/json\nretry-after-ms:250\nx-multi:a\n'],
      ['body', 7, '{"a":'], ['body', 7, '1}'], ['end', 7],
    ]);
  });

  test('network failures carry the kind and code, never a header value or URL credentials', async () => {
    // A port that just closed: connection refused.
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const port = server.address().port;
    await new Promise((r) => server.close(r));
    const cases = [
      // Node's fetch, connection refused: "fetch failed" with a cause code.
      [HEAD({ url: `http://127.0.0.1:${port}/v1/chat/completions` }), undefined, /^fetch failed \(ECONNREFUSED\)$/],
      [HEAD({ url: 'http://127.0.0.1:1/v1/chat/completions' }), undefined, /^fetch failed: bad port$/],
      // fetch quotes a bad header value in its message.
      [HEAD({ headers: { authorization: 'Bearer sk-live\u0000secret-1234' } }), undefined, /invalid header value/],
      [HEAD({ headers: { 'api-key': 'azure-key-\rSECRET' } }), undefined, /invalid header value/],
      // ... and a URL with credentials.
      [HEAD({ url: 'http://admin:hunter2-pass@127.0.0.1:1/v1' }), undefined, /credentials/],
      // A fetch of one's own that echoes everything it was given.
      [HEAD(), async (url, init) => { throw new Error(`refused ${url} with ${JSON.stringify(init.headers)}`); }, /^refused http:\/\/up\.example/],
    ];
    for (const [head, fetchFn, pattern] of cases) {
      const core = fakeCore();
      const t = createFetchTransport(fetchFn ?? globalThis.fetch, core);
      t.start(1, head, new Uint8Array(0));
      for (let i = 0; i < 50 && !core.log.length; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(core.log.length, 1);
      const [kind, attempt, msg] = core.log[0];
      assert.equal(kind, 'error');
      assert.equal(attempt, 1);
      assert.match(msg, pattern);
      for (const secret of ['sk-live', 'SECRET', 'secret-1234', 'hunter2', 'admin:'])
        assert.ok(!msg.includes(secret), `${JSON.stringify(msg)} holds ${secret}`);
    }
  });

  test('an abort stops everything: nothing more is reported, and an attempt aborted before it ran is never sent', async () => {
    const core = fakeCore();
    let calls = 0;
    /** @type {ReadableStreamDefaultController} */ let ctl;
    const fetchFn = async (_url, init) => {
      calls++;
      const body = new ReadableStream({ start(c) { ctl = c; } });
      init.signal.addEventListener('abort', () => ctl.error(new DOMException('aborted', 'AbortError')));
      return new Response(body, { status: 200 });
    };
    const t = createFetchTransport(fetchFn, core);
    t.start(1, HEAD(), new Uint8Array(0));
    t.abort(1); // inside the same entry point of the core
    await flush();
    assert.equal(calls, 0);
    t.start(2, HEAD(), new Uint8Array(0));
    await flush();
    ctl.enqueue(new TextEncoder().encode('part'));
    await flush();
    t.abort(2);
    await flush();
    assert.deepEqual(core.log, [['response', 2, 200, ''], ['body', 2, 'part']]);
    t.abort(99); // unknown: harmless
  });

  test('a body that breaks mid-way is an error, not an end; abortAll silences every attempt', async () => {
    const core = fakeCore();
    const fetchFn = async () => new Response(new ReadableStream({
      start(c) { c.enqueue(new TextEncoder().encode('x')); },
      pull(c) { c.error(Object.assign(new TypeError('terminated'), { cause: { code: 'UND_ERR_SOCKET' } })); },
    }), { status: 200 });
    const t = createFetchTransport(fetchFn, core);
    t.start(3, HEAD(), new Uint8Array(0));
    await flush();
    assert.deepEqual(core.log.at(-1), ['error', 3, 'terminated (UND_ERR_SOCKET)']);
    assert.ok(!core.log.some((e) => e[0] === 'end'));

    const core2 = fakeCore();
    const hang = (_u, init) => new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('x', 'AbortError'))));
    const t2 = createFetchTransport(hang, core2);
    t2.start(1, HEAD(), new Uint8Array(0));
    t2.start(2, HEAD(), new Uint8Array(0));
    await flush();
    t2.abortAll();
    await flush();
    assert.deepEqual(core2.log, []);
  });

  test('describe() names aborts and codes', () => {
    assert.equal(describeFailure(new DOMException('The operation was aborted', 'AbortError')), 'aborted');
    assert.equal(describeFailure(Object.assign(new Error('connect failed'), { code: 'ECONNRESET' })), 'connect failed (ECONNRESET)');
    assert.equal(describeFailure('plain'), 'plain');
    assert.equal(describeFailure(new Error('echo Bearer sk-abcdef123'), { headers: { authorization: 'Bearer sk-abcdef123' } }), 'echo [redacted]');
    assert.equal(describeFailure(new Error('key sk-abcdef123 alone'), { headers: { authorization: 'Bearer sk-abcdef123' } }), 'key [redacted] alone');
  });
});

// ---- against the built core ----

const PAIR = {
  model_list: [
    { model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_base: 'http://mock/a/v1', api_key: 'sk-a-secret-key', order: 1 }, model_info: { id: 'a' } },
    { model_name: 'g', litellm_params: { model: 'openai/gpt-4o', api_base: 'http://mock/b/v1', api_key: 'sk-b-secret-key', order: 2 }, model_info: { id: 'b' } },
  ],
};

async function setup(wasm, config = PAIR, behaviours = {}, options = {}) {
  const clock = new ManualClock(1_700_000_000_000);
  const mock = createMockProvider({ clock, seed: 5 });
  for (const [name, b] of Object.entries(behaviours)) mock.configure(name, b);
  const events = [];
  const router = await Router.create(config, { fetch: mock.fetch, clock, seed: 9, env: {}, wasm, onEvent: (e) => events.push(e), ...options });
  return { clock, mock, router, events };
}

async function run(clock, promise) {
  let out;
  promise.then((v) => (out = [v, null]), (e) => (out = [null, e]));
  await clock.runAll();
  assert.ok(out, 'the request was answered');
  return out;
}

for (const wasm of ['emscripten', 'clang']) {
  describe(`binding on the ${wasm} build`, () => {
    test('loads from a name, a WebAssembly.Module and bytes; the route is a non-enumerable property', async () => {
      const file = wasm === 'clang' ? 'switchyard.wasi.wasm' : 'switchyard.wasm';
      const bytes = await readFile(new URL(import.meta.resolve(`switchyard/wasm/${file}`)));
      for (const source of [wasm, await WebAssembly.compile(bytes), bytes]) {
        const { clock, router } = await setup(source, PAIR, { a: { statuses: [500] } });
        const [res] = await run(clock, router.completion(hi('g')));
        assert.equal(res.object, 'chat.completion');
        assert.deepEqual(Object.keys(res.switchyard).sort(), ['attempts', 'deployment', 'fallbacks', 'model', 'model_group', 'tries']);
        assert.equal(res.switchyard.deployment, 'b');
        assert.equal(Object.getOwnPropertyDescriptor(res, 'switchyard').enumerable, false);
        await router.close();
      }
    });

    test('config errors throw the core text naming the path; warnings go to onEvent, or once to console.warn', async () => {
      await assert.rejects(
        Router.create({ model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', rpm: 'lots' } }] }, { wasm, env: {} }),
        (e) => e instanceof Error && e.message.includes('model_list[0].litellm_params.rpm'));
      const cfg = { model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'sk-x' } }], router_settings: { colour: 'blue' } };
      const events = [];
      await (await Router.create(cfg, { wasm, env: {}, onEvent: (e) => events.push(e) })).close();
      assert.deepEqual(events.map((e) => [e.type, e.path]), [['config_warning', 'router_settings.colour']]);
      const warned = [];
      const orig = console.warn;
      console.warn = (m) => warned.push(m);
      try {
        const odd = { ...cfg, router_settings: { [`shade_of_${wasm}`]: 1 } }; // once per process: a path no other test warns about
        for (let i = 0; i < 2; i++) await (await Router.create(odd, { wasm, env: {} })).close();
      } finally {
        console.warn = orig;
      }
      assert.equal(warned.filter((m) => m.includes(`shade_of_${wasm}`)).length, 1, 'each warning once');
    });

    test('a failure rejects with a SwitchyardError carrying status, type, code and route, and no key', async () => {
      const { clock, router } = await setup(wasm, PAIR, { a: { statuses: [400] } });
      const [, err] = await run(clock, router.completion(hi('g')));
      assert.ok(err instanceof SwitchyardError);
      assert.equal(err.status, 400);
      assert.equal(typeof err.type, 'string');
      assert.equal(err.route.attempts, 1);
      assert.ok(!err.message.includes('secret-key') && !JSON.stringify(err.route).includes('secret-key'));
      await router.close();
    });

    test('an event callback may start a request, close the router, or read health: nothing re-enters the core', async () => {
      // completion() from inside onEvent begins once the core has returned.
      let inner;
      const { clock, router } = await setup(wasm, PAIR, {}, {
        onEvent(e) {
          if (e.type === 'attempt_start' && !inner) {
            inner = router.completion(hi('g'));
            assert.throws(() => router.health(), /does not re-enter/);
          }
        },
      });
      const [res] = await run(clock, router.completion(hi('g')));
      assert.equal(res.object, 'chat.completion');
      const [res2] = await run(clock, inner);
      assert.equal(res2.object, 'chat.completion');
      assert.equal(router.inflight, 0);
      assert.ok(router.health().length === 2);
      await router.close();

      // close() from inside onEvent: what is in flight is answered with 499.
      const s = await setup(wasm, PAIR, { a: { hang: true }, b: { hang: true } }, {
        onEvent(e) { if (e.type === 'attempt_start') s2.router.close(); },
      });
      const s2 = s;
      const [, err] = await run(s.clock, s.router.completion(hi('g')));
      assert.equal(err.status, 499);
      assert.equal(s.router.inflight, 0);
      await assert.rejects(s.router.completion(hi('g')), /closed/);
    });

    test('a throwing onEvent or store never unwinds through the core; requests still finish', async () => {
      const thrown = [];
      const onUncaught = (err) => thrown.push(err);
      // The binding rethrows a callback's error from a microtask of its own.
      const listeners = process.listeners('uncaughtException');
      process.removeAllListeners('uncaughtException');
      process.on('uncaughtException', onUncaught);
      try {
        let n = 0;
        const { clock, router } = await setup(wasm, PAIR, { a: { statuses: [503] } }, {
          onEvent(e) { if (e.type === 'attempt_start' && n++ === 0) throw new Error('bug in a listener'); },
        });
        const [res, err] = await run(clock, router.completion(hi('g')));
        assert.equal(err, null);
        assert.equal(res.switchyard.deployment, 'b');
        assert.equal(router.inflight, 0);
        await router.close();
        await flush();
      } finally {
        process.removeListener('uncaughtException', onUncaught);
        for (const l of listeners) process.on('uncaughtException', l);
      }
      assert.deepEqual(thrown.map((e) => e.message), ['bug in a listener']);

      const broken = { get() { throw new Error('store down'); }, put() { throw new Error('store down'); }, add() { throw new Error('store down'); } };
      const warned = [];
      const orig = console.warn;
      console.warn = (m) => warned.push(String(m));
      try {
        const { clock, router } = await setup(wasm, PAIR, { a: { statuses: [429, 429] } }, { store: broken });
        for (let i = 0; i < 3; i++) {
          const [res, err] = await run(clock, router.completion(hi('g')));
          assert.equal(err, null);
          assert.equal(res.object, 'chat.completion');
        }
        await router.close();
      } finally {
        console.warn = orig;
      }
      assert.equal(warned.filter((m) => m.includes('store failed')).length, 1);
    });

    test('store keys that hash alike stay apart, and every upstream body arrives whole', async () => {
      // The binding interns store keys by a hash of their bytes: "Aa" and
      // "BB" hash alike under it (31 * 65 + 97 = 31 * 66 + 66), so their
      // counters' keys collide there. It copies bodies out into shared
      // slabs: all of them are read only after every request has begun,
      // past several slabs, a body too large for one, and a memory growth.
      const bytes = await readFile(new URL(import.meta.resolve(`switchyard/wasm/${wasm === 'clang' ? 'switchyard.wasi.wasm' : 'switchyard.wasm'}`)));
      const kv = new Map();
      const sent = [];
      const host = {
        now: () => 1000,
        fetchStart: (a, head, body) => sent.push({ a, url: JSON.parse(head).url, body }),
        fetchAbort() {}, timerStart() {}, timerCancel() {},
        deliver() {}, chunk() {}, emit() {},
        kvGet: (k) => kv.get(k),
        kvPut: (k, v) => kv.set(k, v),
        kvAdd: (k, d) => { const v = Number(kv.get(k) ?? 0) + d; kv.set(k, String(v)); return v; },
        onHostError: (err) => assert.fail(err),
      };
      // The instance's memory, which the binding keeps private: noted as it is made.
      let memory;
      const instantiate = WebAssembly.instantiate;
      WebAssembly.instantiate = async (...a) => {
        const r = await instantiate(...a);
        memory = (r instanceof WebAssembly.Instance ? r : r.instance).exports.memory;
        return r;
      };
      let core;
      try {
        core = await Core.instantiate(bytes, host);
      } finally {
        WebAssembly.instantiate = instantiate;
      }
      core.createRouter(JSON.stringify({ model_list: [
        { model_name: 'g', litellm_params: { model: 'openai/m', api_base: 'http://aa/v1', api_key: 'sk-1' }, model_info: { id: 'Aa' } },
        { model_name: 'g', litellm_params: { model: 'openai/m', api_base: 'http://bb/v1', api_key: 'sk-2' }, model_info: { id: 'BB' } },
      ] }), 7n);
      const memory0 = memory.buffer.byteLength;
      const contents = [];
      for (let i = 0; i < 80; i++) {
        const size = i === 40 ? 1 << 20 : i % 20 === 5 ? 20_000 : 1500; // slabs of 64 KiB; bodies past 8 KiB are copies of their own
        const content = `request ${i} `.padEnd(size, String.fromCharCode(97 + (i % 26)));
        contents.push(content);
        core.begin(JSON.stringify({ model: 'g', messages: [{ role: 'user', content }] }));
      }
      assert.ok(memory.buffer.byteLength > memory0, 'the 1 MiB request grew the memory');
      assert.equal(sent.length, 80);
      sent.forEach((s, i) => assert.equal(JSON.parse(new TextDecoder().decode(s.body)).messages[0].content, contents[i], `body ${i}`));
      const to = (host) => sent.filter((s) => s.url.startsWith(`http://${host}/`)).length;
      assert.ok(to('aa') > 0 && to('bb') > 0, 'both deployments were picked');
      const inflight = (id) => Number(kv.get([...kv.keys()].find((k) => k.startsWith('sy:if:') && k.endsWith(id))));
      assert.equal(inflight('Aa'), to('aa'), "Aa's in-flight count is its own");
      assert.equal(inflight('BB'), to('bb'), "BB's in-flight count is its own");
      core.free();
    });

    test('reports from inside a callback are queued until the core returns', async () => {
      const bytes = await readFile(new URL(import.meta.resolve(`switchyard/wasm/${wasm === 'clang' ? 'switchyard.wasi.wasm' : 'switchyard.wasm'}`)));
      const delivered = [];
      let core;
      let depthSeen = false;
      const host = {
        now: () => 0,
        // A transport that fails at once, synchronously, from inside fetch_start.
        fetchStart: (a) => { depthSeen ||= core.busy; core.onError(a, 'connect ECONNREFUSED'); },
        fetchAbort() {}, timerStart() {}, timerCancel() {},
        deliver: (id, json) => delivered.push([id, JSON.parse(json)]),
        chunk() {}, emit() {},
        kvGet: () => undefined, kvPut() {}, kvAdd: (_k, d) => d,
        onHostError: (err) => assert.fail(err),
      };
      core = await Core.instantiate(bytes, host);
      core.createRouter(JSON.stringify({ ...PAIR, router_settings: { num_retries: 1 } }), 1n);
      const id = core.begin(JSON.stringify(hi('g')));
      assert.ok(depthSeen);
      assert.equal(delivered.length, 1, 'answered within begin(), after the queued reports ran');
      assert.equal(delivered[0][0], id);
      assert.equal(delivered[0][1].status, 502);
      assert.equal(delivered[0][1].route.attempts, 2);
      assert.equal(core.inflight(), 0);
      assert.equal(core.busy, false);
      core.free();
      assert.equal(core.inflight(), 0);
      core.onEnd(1); // after free: ignored
      assert.throws(() => core.begin('{}'), /freed/);
    });
  });
}

test('the browser entry fetches and compiles the module next to it, with or without application/wasm', async () => {
  // In a process of its own: an entry sets the loader for the whole package.
  const script = `
    import { readFile } from 'node:fs/promises';
    let type = 'application/wasm', fetched = [];
    globalThis.fetch = async (url) => {
      fetched.push(String(url));
      return new Response(await readFile(new URL(url)), { headers: { 'content-type': type } });
    };
    const { Router } = await import(${JSON.stringify(new URL('../../js/browser.js', import.meta.url).href)});
    const cfg = { model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'sk-x' } }] };
    await (await Router.create(cfg, { env: {} })).close();
    type = 'application/octet-stream';
    await (await Router.create(cfg, { env: {}, wasm: 'clang' })).close();
    await (await Router.create(cfg, { env: {}, wasm: 'clang' })).close();
    const bad = await Router.create(cfg, { env: {}, wasm: 'gcc' }).catch((e) => e.message);
    console.log(JSON.stringify({ fetched: fetched.map((u) => u.split('/').pop()), bad }));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
  const out = JSON.parse(stdout);
  assert.deepEqual(out.fetched, ['switchyard.wasm', 'switchyard.wasi.wasm'], 'each module fetched once');
  assert.match(out.bad, /unknown wasm build "gcc"/);
});

test('raw answers: the upstream text byte for byte with its route, whatever it holds; errors still reject', async () => {
  // A body with odd spacing, escapes and a decoy of the core's own route member:
  // the answer is split at the route the core wrote after it, not at the decoy.
  const body = '{ "id":"c1","object":"chat.completion","created":1,"model":"m",\n'
    + ' "choices":[{"index":0,"message":{"role":"assistant","content":"a \\"quote\\" and ,\\"route\\":{"},"finish_reason":"stop"}],'
    + '"route":{"model_group":"decoy","deployment":"nope"},"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5} }';
  let status = 200;
  const fetchFn = async () => new Response(status === 200 ? body : '{"error":{"message":"bad key","type":"invalid_request_error"}}', { status });
  const cfg = { model_list: [{ model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'sk-x' }, model_info: { id: 'd1' } }] };
  const router = await Router.create(cfg, { env: {}, fetch: fetchFn, seed: 1 });
  try {
    const raw = await router.completion(hi('g'), { raw: true });
    assert.equal(raw.text, body);
    assert.equal(raw.switchyard.deployment, 'd1');
    assert.equal(raw.switchyard.model_group, 'g');
    assert.equal(raw.switchyard.attempts, 1);
    const parsed = await router.completion(JSON.stringify(hi('g')));
    assert.deepEqual({ ...parsed }, JSON.parse(body));
    assert.deepEqual([parsed.switchyard.deployment, parsed.switchyard.attempts, parsed.switchyard.tries.length], ['d1', 1, 1]);
    status = 401;
    await assert.rejects(router.completion(hi('g'), { raw: true }),
      (e) => e instanceof SwitchyardError && e.status === 401 && e.message.startsWith('bad key') && e.route.deployment === 'd1');
    // Refused inside begin (its answer comes before its id is known): rejects as without raw.
    await assert.rejects(router.completion({ model: 'g', messages: [] }, { raw: true }), (e) => e.status === 400);
  } finally {
    await router.close();
  }
});

test('a 200 whose body JSON.parse refuses is a bad response, retried elsewhere, never a throw in the host', async () => {
  // cJSON reads each of these; the core forwards bodies as they came, so it
  // must refuse them as JSON.parse does (trailing bytes, a raw tab, 01, 1., a bad escape).
  const bad = ['{"choices":[]} trailing', '{"choices":[]}{"x":1}', '{"choices":[],"created":01}',
    '{"choices":[],"created":1.}', '{"choices":[],"a":"\\x"}', '{"choices":[{"message":{"content":"a\tb"}}]}'];
  const good = '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}';
  for (const body of bad) {
    assert.throws(() => JSON.parse(body));
    const calls = [];
    const fetchFn = async (url) => {
      calls.push(String(url));
      return new Response(String(url).includes('//bad') ? body : good, { status: 200 });
    };
    const cfg = {
      model_list: [
        { model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'sk-x', api_base: 'http://bad/v1', order: 1 }, model_info: { id: 'bad' } },
        { model_name: 'g', litellm_params: { model: 'openai/m', api_key: 'sk-x', api_base: 'http://good/v1', order: 2 }, model_info: { id: 'good' } },
      ],
      router_settings: { num_retries: 1, retry_after: 0 },
    };
    const router = await Router.create(cfg, { env: {}, fetch: fetchFn, seed: 1 });
    try {
      const res = await router.completion(hi('g'), { raw: true });
      assert.equal(res.text, good, body);
      assert.deepEqual(res.switchyard.tries.map((t) => [t.deployment, t.class]), [['bad', 'bad_response'], ['good', 'ok']], body);
    } finally {
      await router.close();
    }
  }
});
