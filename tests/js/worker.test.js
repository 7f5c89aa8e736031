// The Worker in the real workerd runtime (Miniflare): two workers, A and B,
// each its own isolate with its own Router, bound to one Durable Object
// class; beside them examples/worker and a worker missing a secret. The
// mock provider serves the upstreams over HTTP on 127.0.0.1. The workers
// are the package's own files, loaded unbundled as ES modules. Last, the
// object's table on its own, in Node.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { createMockProvider } from 'switchyard/mock';
import { SwitchyardState } from '../../js/store/durable.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const MASTER = 'sk-master-worker-0001';
const UPSTREAM_KEY = 'sk-upstream-worker-0002';

/** Where a bundler would resolve the bare imports (package exports, browser builds). */
const BARE = { yaml: 'node_modules/yaml/browser/index.js', 'switchyard/worker': 'js/worker.js' };

/**
 * Every module the entry reaches, named by its path from the repository
 * root, as workerd resolves them: relative imports from the files' own
 * text, the wasm as a compiled module, and each bare import by a module of
 * the name workerd looks up, re-exporting what BARE says. workerd resolves
 * a bare specifier like a relative one ("yaml" from js/config.js is the
 * module js/yaml); wrangler's bundler does the resolving in a deployment.
 */
function modulesFrom(entryPath, entryText) {
  const out = [{ type: 'ESModule', path: entryPath, contents: entryText }];
  const seen = new Set([entryPath]);
  const visit = (file, text) => {
    // Static imports and re-exports start their line in these files; comments do not.
    for (const [, from, bare] of text.matchAll(/^(?:import|export)\s[^;]*?\sfrom\s+['"]([^'"]+)['"]|^import\s+['"]([^'"]+)['"]/gm)) {
      const spec = from ?? bare;
      if (!spec.startsWith('.')) {
        assert.ok(BARE[spec], `${file}: a bare import workerd cannot resolve: ${spec}`);
        const shim = join(dirname(file), spec);
        if (!seen.has(shim)) {
          seen.add(shim);
          const target = join(ROOT, BARE[spec]);
          out.push({ type: 'ESModule', path: shim, contents: `export * from './${relative(dirname(shim), target)}';\n` });
          add(target);
        }
        continue;
      }
      add(join(dirname(file), spec));
    }
  };
  const add = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (file.endsWith('.wasm')) return out.push({ type: 'CompiledWasm', path: file });
    const text = readFileSync(file, 'utf8');
    out.push({ type: 'ESModule', path: file });
    visit(file, text);
  };
  visit(entryPath, entryText);
  return out;
}

let mock, upstream, mf;

before(async () => {
  mock = createMockProvider();
  upstream = await mock.listen({ port: 0 });
  const u = upstream.url;
  const deployment = (group, name, extra = '') =>
    `  - {model_name: ${group}, litellm_params: {model: openai/m, api_base: ${u}/${name}/v1, api_key: os.environ/OPENAI_API_KEY${extra}}, model_info: {id: ${name}}}\n`;
  // 'flaky' (order 1) before 'steady' (order 2) in group g: while flaky is
  // not cooling, every request goes to it first.
  const config = 'model_list:\n'
    + deployment('primary', 'down503')
    + deployment('backup', 'backup-ok')
    + deployment('g', 'flaky', ', order: 1')
    + deployment('g', 'steady', ', order: 2')
    + deployment('s', 'streamer')
    + deployment('t', 'trickle')
    + 'router_settings: {fallbacks: [{primary: [backup]}], cooldown_time: 60}\n'
    + 'general_settings: {master_key: os.environ/MASTER_KEY}\n';
  const entry = join(ROOT, 'tests/js/worker-entry.js');
  // The entry re-exports the object class under a subclass that counts its
  // syncs, readable at /test/syncs of worker A (the object lives in A).
  const text = `import { createWorker, SwitchyardState } from '../../js/worker.js';
let syncs = 0;
export class CountedState extends SwitchyardState {
  fetch(request) { syncs++; return super.fetch(request); }
}
const worker = createWorker(${JSON.stringify(config)}, { log: () => {} });
export default {
  fetch: (request, env, ctx) => new URL(request.url).pathname === '/test/syncs' ? Response.json(syncs) : worker.fetch(request, env, ctx),
};
`;
  const common = {
    modules: modulesFrom(entry, text),
    modulesRoot: ROOT,
    compatibilityDate: '2025-01-01',
    bindings: { OPENAI_API_KEY: UPSTREAM_KEY, MASTER_KEY: MASTER },
  };
  mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    workers: [
      { ...common, name: 'a', durableObjects: { SWITCHYARD_STATE: 'CountedState' } },
      { ...common, name: 'b', durableObjects: { SWITCHYARD_STATE: { className: 'CountedState', scriptName: 'a' } } },
      exampleWorker(),
      // The master key's secret was never put.
      { ...common, name: 'nosecret', bindings: { OPENAI_API_KEY: UPSTREAM_KEY } },
    ],
  });
  await mf.ready;
});

/** examples/worker as wrangler.toml describes it: its main, date and Durable Object binding. */
function exampleWorker() {
  const dir = join(ROOT, 'examples/worker');
  const toml = readFileSync(join(dir, 'wrangler.toml'), 'utf8');
  const field = (name, text = toml) => new RegExp(`^${name}\\s*=\\s*"([^"]+)"`, 'm').exec(text)?.[1];
  const main = join(dir, field('main'));
  return {
    name: 'example',
    modules: modulesFrom(main, readFileSync(main, 'utf8')),
    modulesRoot: ROOT,
    compatibilityDate: field('compatibility_date'),
    durableObjects: { [field('name', toml.split('[[durable_objects.bindings]]')[1])]: field('class_name') },
    bindings: { OPENAI_API_KEY: 'sk-ex-1', ANTHROPIC_API_KEY: 'sk-ex-2', SWITCHYARD_MASTER_KEY: MASTER },
  };
}

after(async () => {
  await mf?.dispose();
  await upstream?.close();
});

const auth = { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' };
const msg = [{ role: 'user', content: 'hello' }];

/** A request through worker |name| (its own isolate). */
async function call(name, path, body, headers = auth) {
  const worker = await mf.getWorker(name);
  return worker.fetch(`http://worker${path}`, body === undefined ? { headers } : { method: 'POST', headers, body: JSON.stringify(body) });
}

test('a 503 falls back to the fallback group, with the route in headers and the key from a secret', async () => {
  mock.configure('down503', { statuses: [503], repeat: true, apiKey: UPSTREAM_KEY });
  mock.configure('backup-ok', { apiKey: UPSTREAM_KEY });
  const res = await call('a', '/v1/chat/completions', { model: 'primary', messages: msg });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.object, 'chat.completion');
  assert.equal(res.headers.get('x-switchyard-model-group'), 'backup');
  assert.equal(res.headers.get('x-switchyard-deployment'), 'backup-ok');
  assert.equal(res.headers.get('x-switchyard-attempts'), '2');
  assert.equal(mock.callsTo('down503'), 1);
  assert.deepEqual(mock.calls.filter((c) => c.deployment).map((c) => [c.deployment, c.auth]), [['down503', 'ok'], ['backup-ok', 'ok']]);
});

test('a cooldown set through worker A is honoured by worker B, through the Durable Object', async (t) => {
  mock.configure('flaky', { statuses: [429], repeat: true });
  mock.configure('steady', {});
  const first = await call('a', '/v1/chat/completions', { model: 'g', messages: msg });
  assert.equal(first.headers.get('x-switchyard-deployment'), 'steady');
  await first.text();
  assert.equal(mock.callsTo('flaky'), 1, 'A tried flaky, which cooled');
  const answered = Date.now();
  // A's sync runs in its waitUntil after the answer: wait for the Durable
  // Object to hold the cooldown (B's /health reads its own view, which B's
  // sync fills), bounded.
  const cooledInB = async () => {
    const r = await call('b', '/health');
    const h = await r.json();
    return h.deployments.find((d) => d.id === 'flaky').state === 'cooling';
  };
  const deadline = Date.now() + 5_000;
  while (!(await cooledInB())) {
    assert.ok(Date.now() < deadline, 'B never saw the cooldown');
    await new Promise((r) => setTimeout(r, 20));
  }
  t.diagnostic(`B saw the cooldown ${Date.now() - answered} ms after A answered`);
  const second = await call('b', '/v1/chat/completions', { model: 'g', messages: msg });
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-switchyard-deployment'), 'steady');
  assert.equal(second.headers.get('x-switchyard-attempts'), '1');
  assert.equal(mock.callsTo('flaky'), 1, 'B did not call the cooled deployment');
});

test('a streamed answer: SSE chunks, [DONE], route headers', async () => {
  mock.configure('streamer', {});
  const res = await call('b', '/v1/chat/completions', { model: 's', messages: msg, stream: true });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  assert.equal(res.headers.get('x-switchyard-deployment'), 'streamer');
  const frames = (await res.text()).split('\n\n').filter(Boolean);
  assert.equal(frames.at(-1), 'data: [DONE]');
  const chunks = frames.slice(0, -1).map((f) => JSON.parse(f.replace(/^data: /, '')));
  assert.ok(chunks.length >= 2, `several chunks, got ${chunks.length}`);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
  assert.match(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), /streamer/);
});

// workerd cancels a gone client's subrequests itself; the worker also ends the core's request.
test('a client that goes away mid-stream aborts the upstream attempt', async () => {
  mock.configure('trickle', { tokenIntervalMs: 200 });
  const res = await call('a', '/v1/chat/completions', { model: 't', messages: [{ role: 'user', content: 'one two three four five six' }], stream: true });
  const reader = res.body.getReader();
  await reader.read();
  await reader.cancel();
  const last = () => mock.calls.filter((c) => c.deployment === 'trickle').at(-1);
  for (const deadline = Date.now() + 3_000; last().outcome === 'pending' && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 20));
  assert.equal(last().outcome, 'aborted', 'the upstream stream was aborted, not finished');
});

test('the master key: required everywhere but liveliness, a wrong one refused', async () => {
  assert.equal((await call('a', '/health/liveliness', undefined, {})).status, 200);
  const none = await call('a', '/v1/models', undefined, {});
  assert.equal(none.status, 401);
  assert.equal((await none.json()).error.type, 'authentication_error');
  const wrong = await call('a', '/v1/chat/completions', { model: 'backup', messages: msg }, { authorization: 'Bearer sk-wrong' });
  assert.equal(wrong.status, 401);
  const models = await (await call('a', '/v1/models')).json();
  assert.deepEqual(models.data.map((m) => m.id), ['primary', 'backup', 'g', 's', 't']);
});

test('malformed JSON is 400, a body over the limit 413, an unknown path 404', async () => {
  const worker = await mf.getWorker('a');
  const bad = await worker.fetch('http://worker/v1/chat/completions', { method: 'POST', headers: auth, body: '{"model": ' });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.code, 'invalid_json');
  const huge = await call('a', '/v1/chat/completions', { model: 'backup', messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] });
  assert.equal(huge.status, 413);
  assert.equal((await huge.json()).error.code, 'body_too_large');
  assert.equal((await call('a', '/v2/nothing')).status, 404);
});

test('examples/worker boots from its wrangler.toml settings, its secrets as bindings', async () => {
  assert.equal((await call('example', '/health/liveliness', undefined, {})).status, 200);
  assert.equal((await call('example', '/v1/models', undefined, {})).status, 401);
  const models = await (await call('example', '/v1/models')).json();
  assert.deepEqual(models.data.map((m) => m.id), ['gpt-4o', 'claude']);
  const health = await (await call('example', '/health')).json();
  assert.equal(health.healthy_count, 2);
});

test('each request makes at most one round trip to the Durable Object, after its answer', async (t) => {
  const syncs = async () => (await call('a', '/test/syncs')).json();
  mock.configure('down503', { statuses: [503], repeat: true });
  const before = await syncs();
  const n = 10;
  for (let i = 0; i < n; i++) {
    const res = await call(i % 2 ? 'a' : 'b', '/v1/chat/completions', { model: 'primary', messages: msg });
    assert.equal(res.headers.get('x-switchyard-deployment'), 'backup-ok'); // a failure and a fallback: writes at two entry points
    await res.text();
  }
  // The last waitUntil may still be running: wait for the count to settle.
  let last = -1;
  let now = await syncs();
  for (const deadline = Date.now() + 2_000; now !== last && Date.now() < deadline; now = await syncs()) {
    last = now;
    await new Promise((r) => setTimeout(r, 50));
  }
  const made = now - before;
  t.diagnostic(`${made} round trips to the object for ${n} requests`);
  assert.ok(made >= 1, 'the writes reached the object');
  assert.ok(made <= n, `${made} round trips for ${n} requests`);
});

test('a secret that was never put: every request answers 500 naming it', async () => {
  const res = await call('nosecret', '/v1/models');
  assert.equal(res.status, 500);
  const { error } = await res.json();
  assert.equal(error.code, 'invalid_config');
  assert.match(error.message, /general_settings\.master_key: environment variable MASTER_KEY is not set/);
});

// The object's table on its own (its sync is plain code; Node runs it).
test('the state object: puts last-write-wins with expiry, adds summed in a fixed window, changes since a version', () => {
  const state = new SwitchyardState();
  const first = state.sync([
    { kind: 'put', key: 'cool:x', value: '100', ttlMs: 1000 },
    { kind: 'add', key: 'fails:x', delta: 2, ttlMs: 500 },
  ], 0, 0);
  assert.deepEqual(first.totals, { 'fails:x': { value: 2, ttlMs: 500 } });
  assert.deepEqual(first.remote, [], 'what a push wrote is not sent back to it');
  // Another isolate: its add joins the sum, the window is not renewed; it learns the put.
  const second = state.sync([{ kind: 'add', key: 'fails:x', delta: 3, ttlMs: 500 }, { kind: 'put', key: 'cool:x', value: '200', ttlMs: 1000 }], 0, 100);
  assert.deepEqual(second.totals, { 'fails:x': { value: 5, ttlMs: 400 } });
  assert.deepEqual(second.remote, []);
  // The first isolate polls from its version: the newer put and the counter's total come back.
  const poll = state.sync([], first.version, 200);
  assert.deepEqual(poll.remote, [
    { key: 'fails:x', value: '5', ttlMs: 300, counter: true },
    { key: 'cool:x', value: '200', ttlMs: 900 },
  ]);
  assert.deepEqual(state.sync([], poll.version, 300).remote, [], 'nothing new since');
  // Past the window the counter starts again; past its expiry the put is gone.
  assert.deepEqual(state.sync([{ kind: 'add', key: 'fails:x', delta: 1, ttlMs: 500 }], 0, 600).totals, { 'fails:x': { value: 1, ttlMs: 500 } });
  assert.deepEqual(state.sync([], 0, 1200).remote, [], 'expired entries are dropped');
});

test('the state object over fetch: an isolate that knew another epoch (an evicted object) reads everything', async () => {
  const state = new SwitchyardState();
  const sync = async (msg) => (await state.fetch(new Request('http://state/sync', { method: 'POST', body: JSON.stringify(msg) }))).json();
  const a = await sync({ epoch: '', since: 0, changes: [{ kind: 'put', key: 'k', value: 'v', ttlMs: 0 }] });
  assert.deepEqual((await sync({ epoch: a.epoch, since: a.version, changes: [] })).remote, []);
  assert.deepEqual((await sync({ epoch: 'an-older-object', since: a.version, changes: [] })).remote, [{ key: 'k', value: 'v', ttlMs: 0 }]);
  assert.equal((await state.fetch(new Request('http://state/sync', { method: 'POST', body: '{' }))).status, 400);
});
