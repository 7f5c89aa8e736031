// core-wasm.mjs: what one routing decision costs in the wasm core under Node,
// for the same configs as bench/core_bench.c (one group of N openai/
// deployments with rpm/tpm/costs; each strategy of router_settings.routing_strategy).
//
// Two figures per strategy and N:
//   router  the package as a user has it: `Router.create(config, { fetch, seed: 1 })`
//           from 'switchyard' and `await router.completion(body)`, one request at a
//           time. `fetch` is a minimal function of this file returning a new Response
//           over prebuilt bytes (a canned chat.completion 200 with usage) at once: the
//           mock provider (switchyard/mock) parses the request, books the call and
//           schedules the answer through its clock, which would cost more than the
//           core itself. Includes the Router's promises, the fetch transport (Response
//           headers and body stream), JSON.parse of each event and of the answer.
//   core    the core alone through the package's one binding (js/core/binding.js,
//           the class Router uses) with a synchronous host like the native bench's:
//           a Map kv with TTLs, a virtual clock moved by each deployment's fixed
//           latency (1-7 ms), fetch_start queued and answered with on_response /
//           on_body / on_end once begin has returned. The closest figure to native.
//           The binding is told the store is watched (nothing but the core writes
//           it), so the core keeps its copy of the keys it reads, as a Router with
//           its default MemoryStore does (src/health.h). Also timed: begin() alone,
//           the routed attempt (the body read, the pick, the upstream call built),
//           and route() alone, the decision (sy_router_route: the pick a request
//           would get now), each call's crossing from JS included.
//   core-uncopied  the same without the copy: every kv read crosses into JS
//           (a custom store without watch()); not in the default modes.
// A strategy whose config is rejected (not implemented yet) is skipped and said so.
//
//   node bench/core-wasm.mjs [--out FILE] [--modes router,core] [--strategies a,b]
//        [--sizes 1,10,100,1000] [--requests 20000] [--requests-large 2000] [--repeat 3]
//        [--budget S]    one repetition lasts about S s (default 0.4): fewer requests for
//                        the costly ones, at least 20 (warm-up: K/10, cut at 0.2 s)
//        [--wasm FILE]   default wasm/switchyard.wasm, the committed Emscripten build: a
//                        core changed since it was built is not what this measures
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Router } from 'switchyard';
import { Core } from '../js/core/binding.js';

const STRATEGIES = ['simple-shuffle', 'usage-based-routing', 'usage-based-routing-v2', 'least-busy',
  'latency-based-routing', 'cost-based-routing', 'p2c-peak-ewma'];

function args() {
  const o = { out: null, modes: ['router', 'core'], strategies: STRATEGIES, sizes: [1, 10, 100, 1000],
    requests: 20000, requestsLarge: 2000, repeat: 3, budget: 0.4,
    wasm: new URL('../wasm/switchyard.wasm', import.meta.url).pathname };
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const v = a[i + 1];
    switch (a[i]) {
      case '--out': o.out = v; i++; break;
      case '--modes': o.modes = v.split(','); i++; break;
      case '--strategies': o.strategies = v.split(','); i++; break;
      case '--sizes': o.sizes = v.split(',').map(Number); i++; break;
      case '--requests': o.requests = Number(v); i++; break;
      case '--requests-large': o.requestsLarge = Number(v); i++; break;
      case '--wasm': o.wasm = v; i++; break;
      case '--budget': o.budget = Number(v); i++; break;
      case '--repeat': o.repeat = Math.max(1, Number(v)); i++; break;
      default: throw new Error(`core-wasm: unknown argument ${a[i]}`);
    }
  }
  return o;
}

/** The same config as core_bench.c's make_config. */
function config(strategy, n) {
  const model_list = [];
  for (let i = 0; i < n; i++) {
    model_list.push({
      model_name: 'bench',
      litellm_params: { model: `openai/m${i}`, api_base: `http://127.0.0.1:1/v${i}`, api_key: 'sk-bench',
        rpm: 1000000 + 1000 * (i % 10), tpm: 100000000 + 100000 * (i % 10) },
      model_info: { id: `dep-${i}`, input_cost_per_token: 1e-6 * (1 + (i % 13)),
        output_cost_per_token: 2e-6 * (1 + (i % 13)) },
    });
  }
  return { model_list, router_settings: { routing_strategy: strategy } };
}

const BODY = { model: 'bench', messages: [{ role: 'user', content: 'Say hello.' }] };
const BODY_TEXT = JSON.stringify(BODY);
const RESP_TEXT = '{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,'
  + '"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"Hello."},'
  + '"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}';
const RESP_BYTES = new TextEncoder().encode(RESP_TEXT);
const RESP_INIT = { status: 200, headers: { 'content-type': 'application/json' } };
const RESP_HEADERS = 'content-type:application/json\n';

const isRejected = (err) => /invalid config/.test(String(err?.message ?? err));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Warm-up (|warmup| requests or 0.2 s), then |repeat| timed runs of |k| requests, |k|
 * lowered so one run lasts about |budget| s (at least 20). |one| runs one request.
 */
async function measure(one, k, warmup, repeat, budget) {
  const t = () => Number(process.hrtime.bigint()) / 1e3; // µs
  const tw = t();
  let done = 0;
  while (done < warmup && t() - tw < 2e5) {
    await one();
    done++;
  }
  const est = (t() - tw) / done;
  k = Math.max(20, Math.min(k, Math.floor((budget * 1e6) / est)));
  const runs = [];
  for (let r = 0; r < repeat; r++) {
    const t0 = t();
    for (let i = 0; i < k; i++) await one();
    runs.push((t() - t0) / k);
  }
  return { runs, k, warmup: done, count: done + k * repeat };
}

// ---- router: the package's Router with a minimal fetch ----
async function benchRouter(module, strategy, n, k, warmup, repeat, budget) {
  const fetch = async () => new Response(RESP_BYTES, RESP_INIT);
  let router;
  try {
    router = await Router.create(config(strategy, n), { fetch, seed: 1, wasm: module, onEvent: () => {} });
  } catch (err) {
    if (isRejected(err)) return { skipped: err.message };
    throw err;
  }
  let ok = 0;
  const m = await measure(async () => {
    const res = await router.completion(BODY);
    if (res.choices) ok++;
  }, k, warmup, repeat, budget);
  const heap = router.heapBytes;
  await router.close();
  return { ...m, ok, heap };
}

// ---- core: the binding with a synchronous host ----
function makeHost() {
  const h = { now: 1.7e12, kv: new Map(), jobs: [], timers: new Map(), ok: 0, delivered: 0 };
  const live = (k) => {
    const e = h.kv.get(k);
    if (!e || (e.exp && e.exp <= h.now)) return undefined;
    return e;
  };
  h.host = {
    now: () => h.now,
    fetchStart: (a, head) => {
      const m = /:1\/v(\d+)/.exec(head);
      h.jobs.push({ a, dep: m ? Number(m[1]) : 0, aborted: false });
    },
    fetchAbort: (a) => { for (const j of h.jobs) if (j.a === a) j.aborted = true; },
    timerStart: (t, ms) => h.timers.set(t, h.now + Math.max(0, ms)),
    timerCancel: (t) => h.timers.delete(t),
    deliver: (_id, json) => { h.delivered++; if (json.startsWith('"status":200,', json.indexOf('"status"'))) h.ok++; },
    chunk: () => {},
    emit: () => {},
    kvGet: (k) => { const e = live(k); return e === undefined ? undefined : String(e.v); },
    kvPut: (k, v, ttl) => h.kv.set(k, { v, exp: ttl > 0 ? h.now + ttl : 0 }),
    kvAdd: (k, d, ttl) => {
      const e = live(k);
      if (!e) {
        h.kv.set(k, { v: d, exp: ttl > 0 ? h.now + ttl : 0 });
        return d;
      }
      e.v = Number(e.v) + d;
      return e.v;
    },
  };
  return h;
}

async function benchCore(module, strategy, n, k, warmup, repeat, budget, copy = true) {
  const h = makeHost();
  const core = await Core.instantiate(module, h.host);
  try {
    core.createRouter(JSON.stringify(config(strategy, n)), 1n);
  } catch (err) {
    if (isRejected(err)) return { skipped: err.message };
    throw err;
  }
  const fireTimers = () => {
    for (const [t, due] of h.timers) {
      if (due <= h.now) {
        h.timers.delete(t);
        core.onTimer(t);
      }
    }
  };
  if (copy) core.watchStore(); // its kv is written by the core alone: nothing to report
  const answer = () => {
    while (h.jobs.length) {
      const j = h.jobs.shift();
      if (j.aborted) continue;
      h.now += 1 + (j.dep % 7);
      fireTimers();
      core.onResponse(j.a, 200, RESP_HEADERS);
      core.onBody(j.a, RESP_BYTES);
      core.onEnd(j.a);
    }
    fireTimers();
  };
  const one = () => {
    core.begin(BODY_TEXT);
    answer();
  };
  const m = await measure(one, k, warmup, repeat, budget);
  const ok = h.ok;
  // The routed attempt alone: begin() returns once the core has read the
  // body, picked a deployment and built the upstream call (fetch_start).
  // Timed call by call (hrtime's own ~0.1 µs included); the answers untimed.
  const attemptRuns = [];
  for (let r = 0; r < repeat; r++) {
    let ns = 0n;
    for (let i = 0; i < m.k; i++) {
      const t0 = process.hrtime.bigint();
      core.begin(BODY_TEXT);
      ns += process.hrtime.bigint() - t0;
      answer();
    }
    attemptRuns.push(Number(ns) / 1e3 / m.k);
  }
  // The decision alone: route() (src/request.h, sy_router_route), the pick a
  // request would get now over the state the requests left, called from JS
  // as often as there were requests; the call's crossing included.
  const decisionRuns = [];
  let found = 0;
  for (let r = 0; r < repeat; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < m.k; i++) found += core.route('bench') !== null;
    decisionRuns.push(Number(process.hrtime.bigint() - t0) / 1e3 / m.k);
  }
  if (found !== m.k * repeat) console.error(`core-wasm: ${strategy} N=${n}: a decision found nothing`);
  const heap = core.heapBytes();
  core.free();
  return { ...m, attemptRuns, decisionRuns, ok, heap };
}

async function main() {
  const o = args();
  const wasmBytes = await readFile(o.wasm);
  const module = await WebAssembly.compile(wasmBytes);
  // JIT warm-up of the JS side (binding, Router, transport), so the first cell
  // measured is not the one paying for it; discarded.
  for (const mode of o.modes) {
    const bench = mode === 'router' ? benchRouter : benchCore;
    await bench(module, 'simple-shuffle', 10, 1e9, 1e9, 1, 0.3, mode !== 'core-uncopied');
  }
  const results = [];
  console.log(`| mode | strategy | N | µs/request (median of ${o.repeat}) | min | requests/s | µs/routed attempt | µs/decision |`);
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const mode of o.modes) {
    for (const strategy of o.strategies) {
      for (const n of o.sizes) {
        const k = n <= 100 ? o.requests : o.requestsLarge;
        const warmup = Math.max(1, Math.floor(k / 10));
        const r = mode === 'router'
          ? await benchRouter(module, strategy, n, k, warmup, o.repeat, o.budget)
          : await benchCore(module, strategy, n, k, warmup, o.repeat, o.budget, mode !== 'core-uncopied');
        if (r.skipped) {
          console.error(`core-wasm: skipped ${strategy} (N=${n}, ${mode}): ${r.skipped}`);
          console.log(`| ${mode} | ${strategy} | ${n} | skipped: config rejected | | |`);
          results.push({ mode, strategy, n, skipped: r.skipped });
          continue;
        }
        const us = median(r.runs);
        const min = Math.min(...r.runs);
        const attempt = r.attemptRuns ? median(r.attemptRuns) : undefined;
        const decision = r.decisionRuns ? median(r.decisionRuns) : undefined;
        console.log(`| ${mode} | ${strategy} | ${n} | ${us.toFixed(2)} | ${min.toFixed(2)} | ${Math.round(1e6 / us)} | ${attempt?.toFixed(2) ?? ''} | ${decision?.toFixed(2) ?? ''} |`);
        results.push({ mode, strategy, n, requests: r.k, repeat: o.repeat, warmup: r.warmup,
          us_per_request: +us.toFixed(3), us_min: +min.toFixed(3), requests_per_s: Math.round(1e6 / us),
          ...(attempt === undefined ? {} : { us_per_attempt: +attempt.toFixed(3), attempt_runs_us: r.attemptRuns.map((x) => +x.toFixed(3)),
            us_per_decision: +decision.toFixed(3), decision_runs_us: r.decisionRuns.map((x) => +x.toFixed(3)) }),
          runs_us: r.runs.map((x) => +x.toFixed(3)), answered: r.count, ok: r.ok, heap_bytes: r.heap });
        if (r.ok !== r.count)
          console.error(`core-wasm: ${strategy} N=${n} (${mode}): ${r.count - r.ok} of ${r.count} answers were not 200`);
      }
    }
  }
  if (o.out) {
    await mkdir(dirname(o.out), { recursive: true });
    await writeFile(o.out, JSON.stringify({
      bench: 'core-wasm', unit: 'µs per routed request (begin -> deliver)', node: process.version,
      wasm: o.wasm.replace(/^.*\/(?=wasm\/|build\/)/, ''), wasm_bytes: wasmBytes.length,
      fetch: 'router mode: a minimal fetch returning new Response(prebuilt bytes) at once; core mode: none (synchronous host)',
      results,
    }, null, 1) + '\n');
    console.error(`core-wasm: wrote ${o.out}`);
  }
}

await main();
