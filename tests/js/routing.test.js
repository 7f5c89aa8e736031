// Routing strategies, chosen by router_settings.routing_strategy, through
// the package as users import it, on both wasm builds, against the mock
// provider on a manual clock: each strategy's preference, limits, tags,
// pre-call checks, named chains, provider rate-limit headers and cost.
// (Distributions over 10,000 seeded picks are in tests/c/unit_select.c.)
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Router, ManualClock } from 'switchyard';
import { createMockProvider } from 'switchyard/mock';
import { startGateway } from '../../js/gateway.js';

const hi = (model, extra = {}) => ({ model, messages: [{ role: 'user', content: 'hello there' }], ...extra });

/** A group |g| of deployments named by |ids|, each with extra litellm_params. */
function group(g, deps) {
  return Object.entries(deps).map(([id, params]) => ({
    model_name: g,
    litellm_params: { model: 'openai/gpt-4o', api_base: `http://mock/${id}/v1`, api_key: 'sk-test', ...params },
    model_info: { id },
  }));
}

async function setup(config, behaviours = {}, build = 'emscripten') {
  const clock = new ManualClock(1_700_000_000_000);
  const mock = createMockProvider({ clock, seed: 5 });
  for (const [name, b] of Object.entries(behaviours)) mock.configure(name, b);
  const router = await Router.create(config, { fetch: mock.fetch, clock, seed: 9, env: {}, wasm: build });
  return { clock, mock, router };
}

/** Answers |n| requests one after the other; the deployments that served, in order. */
async function serve(t, n, body = hi('g')) {
  const served = [];
  for (let i = 0; i < n; i++) {
    const p = t.router.completion(typeof body === 'function' ? body(i) : body);
    await t.clock.runAll(120_000);
    served.push((await p).switchyard.deployment);
  }
  return served;
}

const count = (list) => list.reduce((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {});

for (const build of ['emscripten', 'clang']) {
  describe(`routing strategies (${build} build)`, () => {
    test('cost-based-routing: the cheapest healthy deployment', async () => {
      const t = await setup({
        model_list: group('g', {
          dear: { input_cost_per_token: 5e-6, output_cost_per_token: 15e-6 },
          cheap: { input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 },
          unpriced: {},
        }),
        router_settings: { routing_strategy: 'cost-based-routing' },
      }, {}, build);
      assert.deepEqual(count(await serve(t, 5)), { cheap: 5 });
      t.mock.configure('cheap', { statuses: [503], repeat: true });
      // cheap fails, is cooled after allowed_fails, and the next cheapest serves
      const after = await serve(t, 6);
      assert.equal(after.at(-1), 'dear');
      await t.router.close();
    });

    test('least-busy: the deployment with the fewest attempts in flight', async () => {
      const t = await setup({
        model_list: group('g', { a: {}, b: {} }),
        router_settings: { routing_strategy: 'least-busy' },
      }, { a: { latencyMs: 1000 }, b: { latencyMs: 1000 } }, build);
      // Four at once: two each, since each start makes its deployment busier.
      const all = Array.from({ length: 4 }, () => t.router.completion(hi('g')));
      await t.clock.runAll(60_000);
      const served = (await Promise.all(all)).map((r) => r.switchyard.deployment);
      assert.deepEqual(count(served), { a: 2, b: 2 });
      await t.router.close();
    });

    test('usage-based-routing-v2: the fewest tokens this minute, within rpm and tpm', async () => {
      const t = await setup({
        model_list: group('g', { a: { rpm: 3 }, b: { rpm: 3 } }),
        router_settings: { routing_strategy: 'usage-based-routing-v2' },
      }, {}, build);
      const served = await serve(t, 6);
      assert.deepEqual(count(served), { a: 3, b: 3 }, 'tokens spread the load, rpm caps it');
      const refused = assert.rejects(t.router.completion(hi('g')),
        (e) => e.status === 429 && /rpm or tpm limit/.test(e.message) && e.retryAfterMs > 0);
      await t.clock.runAll(1000);
      await refused;
      assert.equal(t.mock.calls.length, 6, 'the limit held without a call');
      await t.router.close();
    });

    test('latency-based-routing and p2c-peak-ewma move to the fast deployment', async () => {
      for (const strategy of ['latency-based-routing', 'p2c-peak-ewma']) {
        const t = await setup({
          model_list: group('g', { slow: {}, fast: {}, quick: {} }),
          router_settings: { routing_strategy: strategy },
        }, { slow: { latencyMs: 3000 }, fast: { latencyMs: 50 }, quick: { latencyMs: 60 } }, build);
        const served = await serve(t, 30);
        const later = count(served.slice(10));
        assert.equal(later.slow ?? 0, 0, `${strategy}: nothing to the slow one once measured (${JSON.stringify(later)})`);
        await t.router.close();
      }
    });

    test('simple-shuffle: weights 1:3', async () => {
      const t = await setup({
        model_list: group('g', { a: { weight: 1 }, b: { weight: 3 } }),
      }, {}, build);
      const c = count(await serve(t, 400));
      // 100:300 expected; the binomial sd is ~8.7, so 40 is over 4 sd.
      assert.ok(Math.abs(c.a - 100) < 40, JSON.stringify(c));
      await t.router.close();
    });

    test('rate-limit headers steer away before the provider answers 429', async () => {
      const t = await setup({
        model_list: group('g', { limited: { order: 1 }, spare: { order: 2 } }),
      }, { limited: { rateLimit: { rpm: 3 } } }, build);
      const served = await serve(t, 8);
      assert.deepEqual(served.slice(0, 3), ['limited', 'limited', 'limited']);
      assert.deepEqual(count(served.slice(3)), { spare: 5 }, 'its x-ratelimit-remaining-requests: 0 was believed');
      assert.equal(t.mock.calls.filter((c) => c.status === 429).length, 0, 'no 429 was ever answered');
      await t.clock.advance(61_000); // its window reset: order 1 again
      assert.deepEqual(await serve(t, 1), ['limited']);
      await t.router.close();
    });

    test('pre-call checks: a prompt over every max_input_tokens goes to context_window_fallbacks without a call', async () => {
      const t = await setup({
        model_list: [...group('small', { s: { max_input_tokens: 100 } }), ...group('large', { l: { max_input_tokens: 100000 } })],
        router_settings: { enable_pre_call_checks: true, context_window_fallbacks: [{ small: ['large'] }] },
      }, {}, build);
      const long = { model: 'small', messages: [{ role: 'user', content: 'x'.repeat(2000) }] };
      assert.deepEqual(await serve(t, 1, long), ['l']);
      assert.equal(t.mock.callsTo('s'), 0);
      assert.deepEqual(await serve(t, 1, hi('small')), ['s'], 'a short prompt still fits');
      await t.router.close();
    });

    test('tags choose deployments, applied to fallbacks too; named chains choose fallbacks', async () => {
      const t = await setup({
        model_list: [
          ...group('g', { eu: { tags: ['eu'] }, us: { tags: ['us', 'default'] } }),
          ...group('backup', { 'backup-eu': { tags: ['eu'] }, 'backup-us': { tags: ['us'] } }),
          ...group('premium', { p: {} }),
        ],
        router_settings: {
          enable_tag_filtering: true,
          fallbacks: [{ g: ['backup'] }],
          fallback_chains: { high_quality: ['premium', 'backup'] },
        },
      }, {}, build);
      const eu = hi('g', { metadata: { tags: ['eu'] } });
      assert.deepEqual(count(await serve(t, 4, eu)), { eu: 4 });
      assert.deepEqual(count(await serve(t, 3)), { us: 3 }, 'untagged: the default');
      t.mock.configure('eu', { statuses: [400] });
      assert.deepEqual(await serve(t, 1, eu), ['backup-eu'], 'the fallback group is filtered by the same tags');
      t.mock.configure('p', { statuses: [503], repeat: true });
      const chained = await serve(t, 1, hi('g', { metadata: { fallback_chain: 'high_quality' }, num_retries: 0 }));
      assert.equal(chained.length, 1);
      const viaModel = await serve(t, 1, hi('high_quality', { num_retries: 0 }));
      assert.match(viaModel[0], /^backup-/, 'a model naming a chain: its first group, then the rest');
      await t.router.close();
    });

    test('each answer carries its cost', async () => {
      const t = await setup({
        model_list: group('g', { a: { input_cost_per_token: 0.001, output_cost_per_token: 0.002 } }),
      }, {}, build);
      const p = t.router.completion(hi('g'));
      await t.clock.runAll(60_000);
      const res = await p;
      const want = res.usage.prompt_tokens * 0.001 + res.usage.completion_tokens * 0.002;
      assert.ok(want > 0);
      assert.ok(Math.abs(res.switchyard.cost - want) < 1e-9, `${res.switchyard.cost} vs ${want}`);
      await t.router.close();
    });
  });
}

test('gateway: x-switchyard-response-cost and the cost counter in /metrics', async () => {
  const mock = createMockProvider({ seed: 1 });
  const gw = await startGateway({
    model_list: group('g', { a: { input_cost_per_token: 0.5, output_cost_per_token: 1 } }),
  }, { port: 0, fetch: mock.fetch, env: {}, log: () => {} });
  try {
    const res = await fetch(`${gw.url}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hi('g')),
    });
    const body = await res.json();
    const want = body.usage.prompt_tokens * 0.5 + body.usage.completion_tokens;
    assert.equal(Number(res.headers.get('x-switchyard-response-cost')), want);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    assert.match(metrics, new RegExp(`switchyard_response_cost_total\\{model_group="g",deployment="a"\\} ${want}\\b`));
  } finally {
    await gw.close();
  }
});

test('gateway /health: a deployment whose breaker opened is "ejected" until it is half-open', async () => {
  const mock = createMockProvider({ seed: 2 });
  mock.configure('bad', { statuses: [503], repeat: true });
  const gw = await startGateway({
    model_list: group('g', { bad: { order: 1 }, good: { order: 2 } }),
    router_settings: { disable_cooldowns: true, circuit_breaker: { consecutive_failures: 2, open_time: 60 } },
  }, { port: 0, fetch: mock.fetch, env: {}, log: () => {} });
  try {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(hi('g')),
      });
      assert.equal(res.headers.get('x-switchyard-deployment'), 'good');
      await res.arrayBuffer();
    }
    assert.equal(mock.callsTo('bad'), 2, 'after two failures in a row it is no longer called');
    const health = await (await fetch(`${gw.url}/health`)).json();
    const bad = health.deployments.find((d) => d.id === 'bad');
    assert.equal(bad.state, 'ejected');
    assert.ok(bad.ejected_ms_left > 55_000 && bad.ejected_ms_left <= 60_000, String(bad.ejected_ms_left));
    assert.equal(health.deployments.find((d) => d.id === 'good').state, 'healthy');
  } finally {
    await gw.close();
  }
});
