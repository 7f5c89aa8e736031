#!/usr/bin/env node
// bench/chaos/run.mjs - the chaos benchmark of issue 6: Switchyard, Switchyard
// with its mechanisms beyond the peers off, and Portkey's gateway, side by side
// in one run, on the same mock provider and the same fault schedules.
//
//   node bench/chaos/run.mjs [--duration 20] [--rate 60] [--timeout 10]
//     [--scenarios down,storm,brownout,flap] [--systems switchyard,switchyard-off,portkey,portkey-fallback,switchyard-p2c]
//     [--out bench/results/chaos.json] [--md bench/results/chaos.md] [--budget 1500]
//   node bench/chaos/run.mjs --report [--out F] [--md F]   the table again from the JSON
//
// One mock provider process (bench/chaos/mock.mjs: js/mock over HTTP on
// 127.0.0.1, deployments d1, d2, d3, OpenAI-compatible, 100 ms per answer)
// serves every run. Each (scenario, system) run gets a fresh gateway process
// and a freshly reset mock, is warmed with a few requests while everything is
// healthy, then has its fault schedule applied and receives an open-loop
// constant rate of non-streamed chat completions (fixed arrival times, so a
// slow system gets the same load), each with a client timeout. Every request
// carries a tag in its message, so the mock's calls are attributed to it
// exactly: "upstream calls per request" is tagged mock calls / requests sent.
// Everything listens on 127.0.0.1; every process started here is stopped by
// PID at the end, on failure, on SIGINT/SIGTERM, and by its own TTL
// (bench/gateway/ttl.mjs) if this process is SIGKILLed.
import { mkdirSync, openSync, writeFileSync, readFileSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { startNode, stop, stopAll, stopOnExit } from '../children.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '../..');
const GW = join(ROOT, 'bench/gateway'); // the gateway bench's pinned tools and preloads, reused
const WORK = join(ROOT, 'build/bench/chaos');

// ---- options ------------------------------------------------------------------
const opt = {
  duration: 20, rate: 60, timeout: 10, warmup: 20,
  scenarios: 'down,storm,brownout,flap',
  systems: 'switchyard,switchyard-off,portkey,portkey-fallback,switchyard-p2c',
  out: join(ROOT, 'bench/results/chaos.json'), md: join(ROOT, 'bench/results/chaos.md'),
  budget: 1500, report: false,
};
{
  const a = process.argv.slice(2);
  for (let i = 0; i < a.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a[i]);
    if (!m) { console.error(`chaos: unexpected argument ${a[i]}`); process.exit(2); }
    const k = m[1];
    if (!(k in opt)) { console.error(`chaos: unknown option --${k}`); process.exit(2); }
    if (typeof opt[k] === 'boolean') { opt[k] = true; continue; }
    const v = m[2] ?? a[++i];
    opt[k] = typeof opt[k] === 'number' ? Number(v) : v;
  }
}
const log = (...s) => console.error('[chaos]', ...s);

// ---- scenarios ------------------------------------------------------------------
const BASE_MS = 100; // every healthy answer
const healthy = { latencyMs: BASE_MS };
const all = (b) => ({ d1: { ...b }, d2: { ...b }, d3: { ...b } });
// Capacity in the storm: 12 req/s per deployment (rpm 720), 36 req/s in all.
const STORM_RPM = 720;

/**
 * A scenario: the behaviours at t = 0 and later changes at fractions of the
 * duration (applied by the bench at those times), and what it promises.
 */
const SCENARIOS = {
  down: {
    title: '1. d3 down (connection refused) from the start',
    at0: { d1: healthy, d2: healthy, d3: { down: true } },
    changes: [],
  },
  storm: {
    title: `2. 429 storm: every deployment at capacity (rpm ${STORM_RPM} = ${STORM_RPM / 60} req/s each)`,
    at0: all({ ...healthy, rateLimit: { rpm: STORM_RPM } }),
    prefill: { n: STORM_RPM, spanMs: 60_000 }, // each window as after a minute at capacity
    changes: [],
    capacityPerS: (3 * STORM_RPM) / 60,
  },
  brownout: {
    title: `2b. brownout: d2 answers in 3 s instead of ${BASE_MS} ms in the middle third`,
    at0: all(healthy),
    changes: [
      { frac: 1 / 3, behaviours: { d2: { latencyMs: 3000 } } },
      { frac: 2 / 3, behaviours: { d2: healthy } },
    ],
    faulty: (t, D) => t >= D / 3 && t < (2 * D) / 3,
  },
  flap: {
    title: '4. flapping: d3 down 5 s, up 5 s',
    at0: { d1: healthy, d2: healthy, d3: { down: true } },
    changes: 'flap',
    faulty: (t) => Math.floor(t / 5000) % 2 === 0,
  },
};
SCENARIOS.brownout.title = SCENARIOS.brownout.title.replace('2b.', '3.');

// ---- systems ------------------------------------------------------------------
const API_KEY = 'sk-chaos';
function switchyardConfig(mockUrl, off, strategy) {
  return {
    model_list: ['d1', 'd2', 'd3'].map((d) => ({
      model_name: 'chaos',
      litellm_params: { model: 'openai/mock-model', api_base: `${mockUrl}/${d}/v1`, api_key: API_KEY },
      model_info: { id: d },
    })),
    router_settings: off
      ? { num_retries: 2, retry_budget: false, circuit_breaker: false, adaptive_throttling: false, slow_start: false }
      : { num_retries: 2, ...(strategy ? { routing_strategy: strategy } : {}) },
  };
}
const target = (mockUrl, d) => ({ provider: 'openai', api_key: API_KEY, custom_host: `${mockUrl}/${d}/v1` });
const RETRY_ON = [429, 500, 502, 503, 504];
function portkeyConfig(mockUrl, variant) {
  if (variant === 'retry')
    // The literal reading: a loadbalance over the three, each request retried
    // (on its target: that is where Portkey's retry goes) up to 2 more times.
    return { strategy: { mode: 'loadbalance' }, retry: { attempts: 2, on_status_codes: RETRY_ON }, targets: ['d1', 'd2', 'd3'].map((d) => target(mockUrl, d)) };
  // How Portkey expresses "retry on another deployment": a loadbalance over
  // three fallback chains (each deployment first once), at most 3 calls, like
  // num_retries 2 over a group of 3.
  const chain = (i) => ({ strategy: { mode: 'fallback', on_status_codes: RETRY_ON }, targets: [0, 1, 2].map((k) => target(mockUrl, `d${((i + k) % 3) + 1}`)) });
  return { strategy: { mode: 'loadbalance' }, targets: [chain(0), chain(1), chain(2)] };
}

const SYSTEMS = {
  switchyard: { title: 'Switchyard (defaults)', kind: 'switchyard', off: false },
  'switchyard-off': { title: 'Switchyard, mechanisms off', kind: 'switchyard', off: true },
  // Not one of the issue's three: the defaults plus the README's recommended strategy.
  'switchyard-p2c': { title: 'Switchyard, p2c-peak-ewma', kind: 'switchyard', off: false, strategy: 'p2c-peak-ewma' },
  portkey: { title: 'Portkey 1.15.2 loadbalance + retry', kind: 'portkey', variant: 'retry' },
  'portkey-fallback': { title: 'Portkey 1.15.2 loadbalance of fallbacks', kind: 'portkey', variant: 'fallback' },
};

// ---- processes ------------------------------------------------------------------
const TTL = String(Math.ceil(opt.budget + 60));
function start(name, args, { ipc = false } = {}) {
  mkdirSync(WORK, { recursive: true });
  const logFile = join(WORK, `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = startNode(args, {
    cwd: ROOT,
    stdio: ipc ? ['ignore', fd, fd, 'ipc'] : ['ignore', fd, fd],
    env: { BENCH_TTL_S: TTL, NODE_ENV: 'production' },
  });
  closeSync(fd);
  child.logFile = logFile;
  return child;
}
stopOnExit(log);

async function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The mock, over IPC.
let mock, mockUrl, nextId = 0;
const pending = new Map();
async function startMock() {
  mock = start('mock', [join(HERE, 'mock.mjs')], { ipc: true });
  mock.on('message', (m) => {
    if (m.ready) { mockUrl = m.url; pending.get('ready')?.(m); return; }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    m.ok ? p.resolve(m) : p.reject(new Error(`mock: ${m.error}`));
  });
  await Promise.race([
    new Promise((r) => pending.set('ready', r)),
    mock.exited.then(() => { throw new Error(`mock exited at start; see ${mock.logFile}`); }),
    sleep(10_000).then(() => { throw new Error('mock did not start in 10 s'); }),
  ]);
  pending.delete('ready');
}
function mockOp(op, args = {}) {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject });
    mock.send({ id, op, ...args });
    setTimeout(() => { if (pending.delete(id)) reject(new Error(`mock ${op}: no answer in 30 s`)); }, 30_000).unref();
  });
}

async function waitFor(url, ok, ms, child) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${url}: the process exited (${child.exitCode}); see ${child.logFile}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (ok(r.status, await r.text())) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`${url} did not answer in ${ms} ms`);
}

/** Starts a system's gateway; returns how to call it. */
async function startSystem(name, run) {
  const sys = SYSTEMS[name];
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  if (sys.kind === 'switchyard') {
    const cfgFile = join(WORK, `${name}.json`);
    writeFileSync(cfgFile, JSON.stringify(switchyardConfig(mockUrl, sys.off, sys.strategy), null, 2));
    const child = start(`${run}-${name}`, ['--import', join(GW, 'ttl.mjs'), 'js/cli.js', 'serve', '--config', cfgFile, '--port', String(port), '--host', '127.0.0.1']);
    await waitFor(`${url}/health`, (s) => s === 200, 15_000, child);
    return {
      child, url: `${url}/v1/chat/completions`, base: url,
      headers: { 'content-type': 'application/json' },
      body: (tag) => JSON.stringify({ model: 'chaos', messages: [{ role: 'user', content: `hello chaos:${tag}` }] }),
      config: switchyardConfig('<mock>', sys.off, sys.strategy),
    };
  }
  const require = createRequire(join(GW, 'package.json'));
  let entry;
  try {
    entry = require.resolve('@portkey-ai/gateway/build/start-server.js');
  } catch {
    throw new Error('Portkey is not installed: run (cd bench/gateway && npm ci --ignore-scripts), as bench/run.sh does');
  }
  const child = start(`${run}-${name}`, ['--import', join(GW, 'loopback-only.mjs'), '--import', join(GW, 'ttl.mjs'), entry, `--port=${port}`, '--headless']);
  await waitFor(`${url}/`, (s, t) => s === 200 && /says hey/.test(t), 15_000, child);
  const config = portkeyConfig(mockUrl, sys.variant);
  return {
    child, url: `${url}/v1/chat/completions`, base: url,
    headers: { 'content-type': 'application/json', 'x-portkey-config': JSON.stringify(config) },
    body: (tag) => JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: `hello chaos:${tag}` }] }),
    config: portkeyConfig('<mock>', sys.variant),
  };
}

// ---- Switchyard's core events, from the gateway's /ui/events stream ------------------
function watchEvents(base) {
  const ac = new AbortController();
  const out = { types: {}, cooldown: {}, breaker_open: {}, retry_denied: {}, probe: {}, fallback: {}, connected: false, error: null, first: {} };
  const bump = (o, k) => { o[k] = (o[k] ?? 0) + 1; };
  const done = (async () => {
    try {
      const r = await fetch(`${base}/ui/events`, { signal: ac.signal });
      out.connected = r.ok;
      const dec = new TextDecoder();
      let buf = '';
      for await (const chunk of r.body) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(frame)?.[1];
          const data = /^data: (.*)$/m.exec(frame)?.[1];
          if (ev !== 'events' || !data) continue;
          for (const e of JSON.parse(data)) {
            bump(out.types, e.type);
            const t = out.t0 ? Math.round(Date.now() - out.t0) : null;
            if (e.type === 'cooldown') bump(out.cooldown, `${e.deployment}:${e.reason}`);
            if (e.type === 'breaker_open') bump(out.breaker_open, `${e.deployment}:${e.reason}:x${e.times}`);
            if (e.type === 'retry_denied') bump(out.retry_denied, `${e.reason}`);
            if (e.type === 'probe') bump(out.probe, `${e.deployment}`);
            if (e.type === 'fallback') bump(out.fallback, `${e.from}->${e.to}:${e.reason}`);
            if (['cooldown', 'breaker_open', 'breaker_close', 'retry_denied'].includes(e.type) && !(e.type in out.first)) out.first[e.type] = t;
          }
        }
      }
    } catch (err) {
      if (!ac.signal.aborted) out.error = String(err?.message ?? err);
    }
  })();
  return { out, stop: async () => { ac.abort(); await done; return out; } };
}

// ---- the load: open loop -------------------------------------------------------
async function one(sys, tag, timeoutMs) {
  const t = performance.now();
  try {
    const r = await fetch(sys.url, { method: 'POST', headers: sys.headers, body: sys.body(tag), signal: AbortSignal.timeout(timeoutMs) });
    const text = await r.text();
    const ms = performance.now() - t;
    let ok = false;
    if (r.status === 200) {
      try { ok = JSON.parse(text)?.choices?.[0]?.message?.content !== undefined; } catch {}
    }
    return {
      ms, status: r.status, ok,
      attempts: r.headers.get('x-switchyard-attempts') ?? r.headers.get('x-portkey-retry-attempt-count'),
      err: ok ? null : (r.status === 200 ? 'bad-body' : `http-${r.status}`),
    };
  } catch (err) {
    const ms = performance.now() - t;
    const name = err?.name === 'TimeoutError' ? 'client-timeout' : `net:${err?.cause?.code ?? err?.message ?? err}`;
    return { ms, status: 0, ok: false, attempts: null, err: name };
  }
}

async function runOne(scenarioName, systemName, idx) {
  const sc = SCENARIOS[scenarioName];
  const run = `${scenarioName}-${idx}`;
  log(`${scenarioName} / ${systemName}: starting`);
  await mockOp('reset');
  await mockOp('configure', { behaviours: all(healthy) });
  const sys = await startSystem(systemName, scenarioName);
  const result = { scenario: scenarioName, system: systemName };
  let events = null;
  try {
    // Warm-up: everything healthy, a few serial requests (JIT, connections).
    let warm = 0;
    for (let i = 0; i < opt.warmup; i++) if ((await one(sys, `warm-${i}`, 5000)).ok) warm++;
    result.warmup_ok = `${warm}/${opt.warmup}`;
    await sleep(200);
    await mockOp('reset');
    await mockOp('configure', { behaviours: sc.at0 });
    if (sys.child && SYSTEMS[systemName].kind === 'switchyard') {
      events = watchEvents(sys.base);
      await sleep(300); // the stream's snapshot is sent; events from here on
    }
    if (sc.prefill) await mockOp('prefill', { names: ['d1', 'd2', 'd3'], ...sc.prefill });

    const D = opt.duration * 1000;
    const n = Math.round(opt.duration * opt.rate);
    const gap = 1000 / opt.rate;
    const reqs = new Array(n);
    const inflight = [];
    const t0 = performance.now();
    const wall0 = Date.now();
    if (events) events.out.t0 = wall0;
    // The fault schedule, on the same clock as the arrivals.
    const changes = sc.changes === 'flap'
      ? [5, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55].filter((s) => s * 1000 < D).map((s) => ({ at: s * 1000, behaviours: { d3: (s / 5) % 2 === 1 ? healthy : { down: true } } }))
      : sc.changes.map((c) => ({ at: c.frac * D, behaviours: c.behaviours }));
    const timers = changes.map((c) => setTimeout(() => { mockOp('configure', { behaviours: c.behaviours }).catch((e) => log(String(e))); }, c.at));
    let late = 0;
    for (let i = 0; i < n; i++) {
      const due = t0 + i * gap;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      else if (wait < -50) late++;
      const sentAt = performance.now() - t0;
      const tag = `${scenarioName}.${systemName}.${i}`;
      inflight.push(one(sys, tag, opt.timeout * 1000).then((r) => { reqs[i] = { i, sentAt, ...r }; }));
    }
    await Promise.all(inflight);
    for (const t of timers) clearTimeout(t);
    result.late_arrivals = late;
    result.elapsed_s = (performance.now() - t0) / 1000;
    await sleep(1500); // calls made after a client gave up (Portkey keeps retrying) still count
    const { calls } = await mockOp('calls', { since: 0 });
    const prefix = `${scenarioName}.${systemName}.`;
    const byReq = new Map();
    const perDep = {};
    const perDepStatus = {};
    const timeline = {}; // second -> deployment -> calls
    let untagged = 0, upstream200 = 0, upstream200InWindow = 0;
    for (const [, dep, time, status, outcome, tag] of calls) {
      if (!tag || !tag.startsWith(prefix)) { untagged++; continue; }
      const i = Number(tag.slice(prefix.length));
      byReq.set(i, (byReq.get(i) ?? 0) + 1);
      perDep[dep] = (perDep[dep] ?? 0) + 1;
      const k = `${dep}:${status || outcome}`;
      perDepStatus[k] = (perDepStatus[k] ?? 0) + 1;
      if (status === 200) upstream200++;
      if (status === 200 && time - wall0 < D) upstream200InWindow++;
      const s = Math.floor((time - wall0) / 1000);
      (timeline[s] ??= {})[dep] = (timeline[s]?.[dep] ?? 0) + 1;
    }
    result.requests = n;
    Object.assign(result, summarize(reqs, byReq, () => true));
    result.after_1s = summarize(reqs, byReq, (r) => r.sentAt >= 1000);
    if (sc.faulty) result.during_fault = summarize(reqs, byReq, (r) => sc.faulty(r.sentAt, D));
    result.upstream_calls_by_deployment = perDep;
    result.upstream_calls_by_deployment_status = perDepStatus;
    result.upstream_200 = upstream200;
    result.untagged_calls = untagged; // prefill and warm-up never count (reset before the run)
    result.timeline = timeline;
    if (sc.capacityPerS) {
      result.capacity_allowed_success = Math.min(1, sc.capacityPerS / opt.rate);
      result.upstream_200_per_request = upstream200 / n;
      // Admitted while the load was offered: a system that waits (backoff) also
      // uses capacity after the last arrival, which in a storm that goes on
      // would belong to later requests.
      result.upstream_200_in_window_per_request = upstream200InWindow / n;
    }
    if (events) {
      result.switchyard_events = await events.stop();
      delete result.switchyard_events.t0;
      events = null;
      try {
        const m = await (await fetch(`${sys.base}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
        result.switchyard_metrics = m.split('\n').filter((l) => /^switchyard_(cooldowns|retries|backoffs|fallbacks|requests|upstream_attempts)_total/.test(l));
      } catch (err) { result.switchyard_metrics = [`error: ${err.message}`]; }
    }
    result.config = sys.config;
  } finally {
    if (events) await events.stop();
    await stop(sys.child);
  }
  const f = (x) => (x === null ? '-' : x);
  log(`${scenarioName} / ${systemName}: success ${(100 * result.success_rate).toFixed(2)} %, p50 ${f(result.p50_ms)} ms, p99 ${f(result.p99_ms)} ms, ` +
    `${result.calls_per_request.toFixed(3)} calls/req (after 1 s: ${(100 * result.after_1s.success_rate).toFixed(2)} %, ${result.after_1s.calls_per_request.toFixed(3)})`);
  return result;
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
function summarize(reqs, byReq, keep) {
  const rs = reqs.filter(keep);
  const okMs = rs.filter((r) => r.ok).map((r) => r.ms).sort((a, b) => a - b);
  const errors = {};
  for (const r of rs) if (!r.ok) errors[r.err] = (errors[r.err] ?? 0) + 1;
  const calls = rs.reduce((a, r) => a + (byReq.get(r.i) ?? 0), 0);
  const hist = {};
  for (const r of rs) { const c = byReq.get(r.i) ?? 0; hist[c] = (hist[c] ?? 0) + 1; }
  const round = (x) => (x === null ? null : Math.round(x * 10) / 10);
  return {
    sent: rs.length, ok: okMs.length, success_rate: rs.length ? okMs.length / rs.length : 0,
    p50_ms: round(quantile(okMs, 0.5)), p99_ms: round(quantile(okMs, 0.99)), max_ms: round(okMs.at(-1) ?? null),
    calls_per_request: rs.length ? calls / rs.length : 0, upstream_calls: calls,
    calls_per_request_histogram: hist, errors,
  };
}

// ---- the report ----------------------------------------------------------------
const pct = (x) => `${(100 * x).toFixed(x >= 0.9995 || x === 0 ? 1 : 2)} %`;
const ms = (x) => (x === null || x === undefined ? '-' : x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`);
function renderMd(doc) {
  const out = [];
  out.push(`# Chaos benchmark (issue 6)`, '');
  out.push(`${doc.meta.date}; switchyard at ${doc.meta.commit}${doc.meta.dirty ? ` (${doc.meta.dirty})` : ''}; ${doc.meta.cpus} CPUs (${doc.meta.cpu}); node ${doc.meta.node}; @portkey-ai/gateway ${doc.meta.portkey}` +
    (doc.meta.loadavg_start ? `; load average ${doc.meta.loadavg_start} at the start, ${doc.meta.loadavg_end} at the end (a shared machine).` : '.'));
  out.push(`Each run: ${doc.settings.duration} s at ${doc.settings.rate} req/s open loop (${doc.settings.duration * doc.settings.rate} non-streamed chat completions), client timeout ${doc.settings.timeout} s, mock answers in ${BASE_MS} ms; a fresh gateway per run. \`node bench/chaos/run.mjs${doc.settings.args ? ' ' + doc.settings.args : ''}\`.`, '');
  const goals = [];
  for (const sc of Object.keys(SCENARIOS)) {
    const rows = doc.results.filter((r) => r.scenario === sc);
    if (!rows.length) continue;
    out.push(`## ${SCENARIOS[sc].title}`, '');
    const extra = sc === 'down' ? ' | success after 1 s | calls/req after 1 s' : sc === 'storm' ? ' | upstream 200s / req (while offered)' : sc === 'brownout' || sc === 'flap' ? ' | success / p99 while faulty' : '';
    out.push(`| system | success | p50 | p99 | upstream calls/req${extra} | errors |`);
    out.push(`|---|---:|---:|---:|---:|${extra ? extra.split('|').slice(1).map(() => '---:|').join('') : ''}---|`);
    for (const r of rows) {
      if (r.failed) { out.push(`| ${SYSTEMS[r.system].title} | failed: ${r.failed} |`); continue; }
      let x = '';
      if (sc === 'down') x = ` | ${pct(r.after_1s.success_rate)} | ${r.after_1s.calls_per_request.toFixed(3)}`;
      if (sc === 'storm') x = ` | ${r.upstream_200_per_request.toFixed(3)} (${r.upstream_200_in_window_per_request.toFixed(3)})`;
      if (sc === 'brownout' || sc === 'flap') x = ` | ${pct(r.during_fault.success_rate)} / ${ms(r.during_fault.p99_ms)}`;
      const errs = Object.entries(r.errors).map(([k, v]) => `${k} ×${v}`).join(', ') || '-';
      out.push(`| ${SYSTEMS[r.system].title} | ${pct(r.success_rate)} | ${ms(r.p50_ms)} | ${ms(r.p99_ms)} | ${r.calls_per_request.toFixed(3)}${x} | ${errs} |`);
      if (r.system === 'switchyard' && sc === 'down') {
        goals.push(['1: success after 1 s ≥ 99.9 %', pct(r.after_1s.success_rate), r.after_1s.success_rate >= 0.999]);
        goals.push(['1: upstream calls/req after 1 s ≤ 1.05', r.after_1s.calls_per_request.toFixed(3), r.after_1s.calls_per_request <= 1.05]);
      }
      if (r.system === 'switchyard' && sc === 'storm') {
        goals.push(['2: upstream calls/req ≤ 1.2', r.calls_per_request.toFixed(3), r.calls_per_request <= 1.2]);
        goals.push([`2: success at the capacity-allowed rate (${pct(r.capacity_allowed_success)})`, pct(r.success_rate), r.success_rate >= r.capacity_allowed_success * 0.98]);
      }
    }
    if (sc === 'storm' && rows[0]?.capacity_allowed_success) out.push('', `Capacity allows ${pct(rows[0].capacity_allowed_success)} (${SCENARIOS.storm.capacityPerS} of ${doc.settings.rate} req/s). ` +
      `"Upstream 200s / req" is what the mock admitted per request sent, and in brackets what it admitted while the load was offered: a system that backs off also uses capacity after the last arrival, which in a storm that went on would belong to later requests.`);
    out.push('');
  }
  if (goals.length) {
    out.push('## Issue 6 goals, Switchyard with its defaults', '', '| goal | measured | met |', '|---|---:|---|');
    for (const [g, v, m] of goals) out.push(`| ${g} | ${v} | ${m ? 'yes' : '**no**'} |`);
    out.push('', 'The storm\'s success goal counts as met within 2 % of the capacity-allowed rate.', '');
  }
  out.push('## Configs', '');
  for (const [k, c] of Object.entries(doc.configs)) out.push(`- ${SYSTEMS[k].title} (\`${k}\`): \`${JSON.stringify(c)}\``);
  out.push('');
  return out.join('\n');
}

// ---- main ----------------------------------------------------------------------
async function main() {
  if (opt.report) {
    const doc = JSON.parse(readFileSync(opt.out, 'utf8'));
    const md = renderMd(doc);
    writeFileSync(opt.md, md);
    console.log(md);
    return 0;
  }
  const budget = setTimeout(async () => { log(`budget of ${opt.budget} s exceeded: stopping everything`); await stopAll(); process.exit(3); }, opt.budget * 1000);
  budget.unref();
  const scenarios = opt.scenarios.split(',').filter(Boolean);
  const systems = opt.systems.split(',').filter(Boolean);
  for (const s of scenarios) if (!SCENARIOS[s]) throw new Error(`unknown scenario ${s} (${Object.keys(SCENARIOS)})`);
  for (const s of systems) if (!SYSTEMS[s]) throw new Error(`unknown system ${s} (${Object.keys(SYSTEMS)})`);
  await startMock();
  log(`mock at ${mockUrl}; scenarios ${scenarios}; systems ${systems}`);
  const git = (...a) => { try { return execFileSync('git', a, { cwd: ROOT, encoding: 'utf8' }).trim(); } catch { return '?'; } };
  const dirtyN = git('status', '--porcelain', '--', 'js', 'wasm').split('\n').filter(Boolean).length;
  let portkeyVersion = null;
  try { portkeyVersion = createRequire(join(GW, 'package.json'))('@portkey-ai/gateway/package.json').version; } catch {}
  const doc = {
    meta: {
      date: new Date().toISOString().replace(/:\d\d\.\d+Z$/, ' UTC').replace('T', ' '), commit: git('rev-parse', '--short', 'HEAD'),
      dirty: dirtyN ? `${dirtyN} uncommitted change(s) in js/ or wasm/` : '', cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? '?',
      node: process.version, portkey: portkeyVersion, loadavg_start: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    },
    settings: { duration: opt.duration, rate: opt.rate, timeout: opt.timeout, warmup: opt.warmup, args: process.argv.slice(2).join(' ') },
    configs: {},
    results: [],
  };
  let failed = 0;
  let idx = 0;
  for (const sc of scenarios) {
    for (const s of systems) {
      try {
        const r = await runOne(sc, s, idx++);
        doc.configs[s] = r.config;
        delete r.config;
        doc.results.push(r);
      } catch (err) {
        failed++;
        log(`${sc} / ${s} failed: ${err.stack ?? err}`);
        doc.results.push({ scenario: sc, system: s, failed: String(err.message ?? err) });
      }
    }
  }
  doc.meta.loadavg_end = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  mkdirSync(dirname(opt.out), { recursive: true });
  writeFileSync(opt.out, JSON.stringify(doc, null, 1) + '\n');
  const md = renderMd(doc);
  writeFileSync(opt.md, md);
  console.log(md);
  log(`wrote ${relative(ROOT, opt.out)} and ${relative(ROOT, opt.md)}; logs in ${relative(ROOT, WORK)}/`);
  return failed ? 1 : 0;
}

let code = 1;
try {
  code = await main();
} catch (err) {
  log(String(err?.stack ?? err));
} finally {
  if (mock) await mockOp('close').catch(() => {});
  await stopAll();
}
process.exit(code);
