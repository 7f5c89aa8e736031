// Which routing strategy serves fastest when a deployment slows down?
// A deterministic simulation: the package's Router (wasm) against the mock
// provider, on one virtual clock, so a run takes seconds and replays exactly.
//
// Three deployments answer in 200, 250 and 300 ms (+-20 % jitter), slower
// under load: each request already in flight at the same deployment adds
// 15 %, up to 4x (a provider's queueing, which makes herding onto the fastest one
// costly). Requests arrive at random (Poisson, 30 per second) for 6 virtual
// minutes; from minute 2 to minute 4 the fastest one browns out (3 s per
// answer). A request has 30 s (router timeout). Reported per strategy: failures, mean, p50 and p99 latency, and the share
// of requests the browned-out deployment served while it was slow.
//
//   node bench/strategies.mjs [--json bench/results/strategies.json]
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Router, ManualClock } from 'switchyard';
import { createMockProvider } from 'switchyard/mock';

const STRATEGIES = ['simple-shuffle', 'least-busy', 'usage-based-routing-v2', 'latency-based-routing', 'p2c-peak-ewma'];
const RATE = 30; // requests per virtual second
const MINUTES = 6;
const BROWNOUT = [2 * 60_000, 4 * 60_000];
const LOAD_COST = 0.15; // latency added per request in flight at the deployment
const BASE = { a: 200, b: 250, c: 300 };

/** A seeded PRNG (mulberry32), so arrivals and jitter are the same for every strategy. */
function prng(seed) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

async function run(strategy) {
  const start = 1_700_000_000_000;
  const clock = new ManualClock(start);
  const mock = createMockProvider({ clock, seed: 11 });
  const rand = prng(7);
  const inflight = Object.fromEntries(Object.keys(BASE).map((n) => [n, 0]));
  const latencyOf = (name) => () => {
    const t = clock.now() - start;
    const base = name === 'a' && t >= BROWNOUT[0] && t < BROWNOUT[1] ? 3000 : BASE[name];
    return base * (0.8 + 0.4 * rand()) * Math.min(4, 1 + LOAD_COST * inflight[name]);
  };
  const config = {
    model_list: Object.keys(BASE).map((id) => ({
      model_name: 'g',
      litellm_params: { model: 'openai/gpt-4o', api_base: `http://mock/${id}/v1`, api_key: 'sk-bench' },
      model_info: { id },
    })),
    router_settings: { routing_strategy: strategy, num_retries: 0, timeout: 30 },
  };
  const latency = Object.fromEntries(Object.keys(BASE).map((n) => [n, latencyOf(n)]));
  // The mock answers each call after the latency it is configured with, so
  // each call sets it first; the count in flight is what the load costs.
  const fetch = async (url, init) => {
    const name = new URL(url).pathname.split('/')[1];
    mock.configure(name, { latencyMs: latency[name]() });
    inflight[name]++;
    try {
      const res = await mock.fetch(url, init);
      await res.clone().arrayBuffer();
      return res;
    } finally {
      inflight[name]--;
    }
  };
  const router = await Router.create(config, { fetch, clock, seed: 3, env: {} });
  const done = [];
  const body = { model: 'g', messages: [{ role: 'user', content: 'hello' }] };
  let t = 0;
  const end = MINUTES * 60_000;
  while (t < end) {
    const gap = -Math.log(1 - rand()) * (1000 / RATE);
    await clock.advance(gap);
    t += gap;
    const sent = clock.now() - start;
    router.completion(body).then(
      (res) => done.push({ sent, ms: clock.now() - start - sent, dep: res.switchyard.deployment }),
      (err) => done.push({ sent, ms: clock.now() - start - sent, dep: err.route?.deployment, failed: true }));
  }
  await clock.runAll(120_000);
  await router.close();
  const ms = done.map((d) => d.ms).sort((x, y) => x - y);
  const during = done.filter((d) => d.sent >= BROWNOUT[0] && d.sent < BROWNOUT[1]);
  return {
    strategy,
    requests: done.length,
    mean_ms: Math.round(ms.reduce((s, x) => s + x, 0) / ms.length),
    p50_ms: Math.round(quantile(ms, 0.5)),
    p99_ms: Math.round(quantile(ms, 0.99)),
    failed: done.filter((d) => d.failed).length,
    slow_share_during_brownout: +(during.filter((d) => d.dep === 'a').length / during.length).toFixed(3),
  };
}

const results = [];
for (const s of STRATEGIES) results.push(await run(s));
console.log(`| strategy | requests | failed | mean ms | p50 ms | p99 ms | share to the slow one (brownout) |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const r of results)
  console.log(`| ${r.strategy} | ${r.requests} | ${r.failed} | ${r.mean_ms} | ${r.p50_ms} | ${r.p99_ms} | ${(100 * r.slow_share_during_brownout).toFixed(1)} % |`);
const i = process.argv.indexOf('--json');
if (i > 0) {
  const file = process.argv[i + 1];
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify({ date: new Date().toISOString(), rate_per_s: RATE, minutes: MINUTES, results }, null, 2) + '\n');
}
