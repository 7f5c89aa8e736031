#!/usr/bin/env node
// size-memory.mjs - sizes and the core's memory (issue 8), as JSON.
//   node bench/size-memory.mjs [--out bench/results/size-memory.json] [--requests 100000] [--inflight 1000]
//
//   wasm       both builds in wasm/, raw, gzip -9 and brotli
//   package    `npm pack --dry-run --json` from the repo root: packed and unpacked bytes, files
//   steady     a Router in this process (the package's own, the shipped Emscripten
//              build) serving --requests non-streamed completions through a fetch
//              that answers a fixed 200 at once, 64 in flight at a time: the core's
//              heap (router.heapBytes) and its wasm memory (bytes of the instance's
//              Memory) before, after the first 1,000, and at the end. No growth is
//              expected: every request's state is freed at its deliver. The clock is
//              held still: with time moving, the store's copy in the core keeps the
//              keys of each new time window (a retry-budget bucket every 10 s, rpm
//              and tpm counters every minute) until it restarts at three quarters of
//              its table, so marks taken on the wall clock see how many windows went
//              by, not what the requests left behind.
//   windows    the same with the clock moving 10 ms per request over 60,000 requests
//              (10 minutes): the heap's peak and end, which show the copy's bound.
//   inflight   the same Router with N requests whose fetch never answers (it only
//              rejects when aborted): (heapBytes with N in flight - heapBytes idle) / N
//              is the core's state per request in flight; for N = 10, 100, 1000 (--inflight).
// The gateway's resident memory (idle, under load) is measured by bench/gateway/bench.mjs.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const opt = { out: join(ROOT, 'bench/results/size-memory.json'), requests: 100000, inflight: 1000 };
for (let i = 2; i < process.argv.length; i++) {
  const k = process.argv[i].replace(/^--/, '');
  if (k in opt) opt[k] = typeof opt[k] === 'number' ? Number(process.argv[++i]) : process.argv[++i];
}
const log = (...s) => console.error('[size-memory]', ...s);
const guard = setTimeout(() => { log('time limit (180 s) reached'); process.exit(3); }, 180_000);
guard.unref();

// ---- sizes
const wasm = {};
for (const [build, file] of [['emscripten', 'wasm/switchyard.wasm'], ['clang (wasi-sdk)', 'wasm/switchyard.wasi.wasm']]) {
  const b = readFileSync(join(ROOT, file));
  wasm[build] = {
    file, bytes: b.length, gzip_bytes: gzipSync(b, { level: 9 }).length,
    brotli_bytes: brotliCompressSync(b, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}
let pack = null;
try {
  const j = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] }).toString())[0];
  pack = { name: `${j.name}@${j.version}`, packed_bytes: j.size, unpacked_bytes: j.unpackedSize, files: j.entryCount,
    largest: j.files.sort((a, b) => b.size - a.size).slice(0, 5).map((f) => ({ path: f.path, bytes: f.size })) };
} catch (e) { log(`npm pack --dry-run failed: ${e.message}`); }
log(`wasm ${wasm.emscripten.bytes} B (${wasm.emscripten.gzip_bytes} gzipped); package ${pack?.packed_bytes} B packed`);

// ---- the core's memory, through the package's Router
// The Router keeps its wasm instance private; to read the size of its Memory
// this bench (only) notes the instance WebAssembly.instantiate returns.
const instances = [];
const origInstantiate = WebAssembly.instantiate;
WebAssembly.instantiate = async function (...a) {
  const r = await origInstantiate.apply(this, a);
  const inst = r instanceof WebAssembly.Instance ? r : r.instance;
  if (inst.exports.sy_heap_bytes) instances.push(inst); // the core's, not another module's (undici's llhttp)
  return r;
};
const { Router } = await import(join(ROOT, 'js/index.js'));
const memBytes = () => instances.at(-1).exports.memory.buffer.byteLength;

const CONFIG = {
  model_list: [
    { model_name: 'bench-model', litellm_params: { model: 'openai/bench-model', api_base: 'http://127.0.0.1:9/v1', api_key: 'sk-bench-a' }, model_info: { id: 'bench-a' } },
    { model_name: 'bench-model', litellm_params: { model: 'openai/bench-model', api_base: 'http://127.0.0.1:9/v1', api_key: 'sk-bench-b' }, model_info: { id: 'bench-b' } },
    { model_name: 'bench-fallback', litellm_params: { model: 'openai/bench-model', api_base: 'http://127.0.0.1:9/v1', api_key: 'sk-bench-c' }, model_info: { id: 'bench-c' } },
  ],
  router_settings: { num_retries: 2, fallbacks: [{ 'bench-model': ['bench-fallback'] }] },
};
const ANSWER = new TextEncoder().encode(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1700000000, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench mock.' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
}));
const BODY = { model: 'bench-model', messages: [{ role: 'user', content: 'hi' }] };
const okFetch = async () => new Response(ANSWER, { status: 200, headers: { 'content-type': 'application/json' } });

// A clock that moves only when the bench moves it; timers are the real ones
// (an attempt's timeout, cleared when its answer comes at once).
let virtualNow = Date.UTC(2026, 0, 1);
const benchClock = { now: () => virtualNow, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h) };

/** |count| completions, 64 in flight at a time, each sent after |before()|; resolves once none is in flight. */
async function serve(router, count, before = () => {}) {
  let sent = 0, ok = 0, failed = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      before();
      try { await router.completion(BODY); ok++; } catch { failed++; }
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { ok, failed };
}

const steady = {};
{
  const router = await Router.create(CONFIG, { fetch: okFetch, seed: 1, onEvent: () => {}, clock: benchClock });
  steady.heap_bytes_idle = router.heapBytes;
  steady.wasm_memory_bytes_idle = memBytes();
  // In phases, each waited out, so the marks are taken with nothing in flight.
  let ok = 0, failed = 0;
  const marks = [];
  const phase = async (count) => {
    const r = await serve(router, count);
    ok += r.ok;
    failed += r.failed;
    marks.push({ after_requests: ok + failed, heap_bytes: router.heapBytes, wasm_memory_bytes: memBytes(), in_flight: router.inflight });
  };
  const t0 = performance.now();
  const first = Math.min(1000, opt.requests);
  await phase(first);
  await phase(Math.floor((opt.requests - first) / 2));
  await phase(opt.requests - ok - failed);
  steady.seconds = (performance.now() - t0) / 1000;
  steady.requests = opt.requests;
  steady.ok = ok;
  steady.failed = failed;
  steady.concurrency = 64;
  steady.marks = marks;
  steady.heap_bytes_end = router.heapBytes;
  steady.wasm_memory_bytes_end = memBytes();
  steady.inflight_end = router.inflight;
  steady.heap_growth_after_first_1000_bytes = steady.heap_bytes_end - marks[0].heap_bytes;
  steady.wasm_memory_growth_bytes = steady.wasm_memory_bytes_end - steady.wasm_memory_bytes_idle;
  await router.close();
  log(`${ok} requests in ${steady.seconds.toFixed(1)} s: heap ${steady.heap_bytes_idle} -> ${marks.map((m) => `${m.heap_bytes} (${m.after_requests})`).join(' -> ')} B, wasm memory ${steady.wasm_memory_bytes_idle} -> ${steady.wasm_memory_bytes_end} B`);
}

// ---- the same with time moving: the copy's windows come and go
const windows = { requests: 60000, ms_per_request: 10 };
{
  const router = await Router.create(CONFIG, { fetch: okFetch, seed: 1, onEvent: () => {}, clock: benchClock });
  const heaps = []; // after each 1,000 (10 virtual seconds), nothing in flight
  for (let done = 0; done < windows.requests; done += 1000) {
    await serve(router, 1000, () => { virtualNow += windows.ms_per_request; });
    heaps.push(router.heapBytes);
  }
  windows.heap_bytes_first_minute_peak = Math.max(...heaps.slice(0, 6));
  windows.heap_bytes_peak = Math.max(...heaps);
  windows.heap_bytes_end = router.heapBytes;
  windows.wasm_memory_bytes_end = memBytes();
  await router.close();
  log(`time moving, ${windows.requests} requests over ${(windows.requests * windows.ms_per_request) / 60000} virtual minutes: heap peak ${windows.heap_bytes_peak} B (first minute ${windows.heap_bytes_first_minute_peak}), end ${windows.heap_bytes_end} B`);
}

// ---- bytes per request in flight
const inflight = [];
for (const n of [10, 100, opt.inflight].filter((v, i, a) => a.indexOf(v) === i)) {
  // The first requests are answered (so lazily built state is in the baseline); the rest never are.
  let hangNow = false;
  const fetchFn = (url, init) => (hangNow ? new Promise((_, reject) => {
    init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')), { once: true });
  }) : okFetch());
  const router = await Router.create(CONFIG, { fetch: fetchFn, seed: 1, onEvent: () => {} });
  for (let i = 0; i < 100; i++) await router.completion(BODY);
  hangNow = true;
  const base = router.heapBytes;
  const baseMem = memBytes();
  const pending = [];
  for (let i = 0; i < n; i++) pending.push(router.completion(BODY).catch(() => {}));
  await new Promise((r) => setTimeout(r, 50)); // the transport starts each fetch from a microtask
  const row = { n, in_flight: router.inflight, heap_bytes_idle: base, heap_bytes_with_n: router.heapBytes,
    bytes_per_request: (router.heapBytes - base) / n, wasm_memory_bytes_idle: baseMem, wasm_memory_bytes_with_n: memBytes() };
  await router.close();
  await Promise.all(pending);
  inflight.push(row);
  log(`${n} in flight: ${row.bytes_per_request.toFixed(0)} B of core heap each`);
}

const out = {
  bench: 'size-memory', date: new Date().toISOString(), node: process.version,
  wasm, package: pack, steady, windows, inflight,
  notes: {
    heap_bytes: 'router.heapBytes: bytes live in the core\'s allocator (sy_heap_bytes)',
    wasm_memory_bytes: 'the byte length of the wasm instance\'s Memory (pages reserved; it only ever grows)',
    budget: 'issue 8: the shipped .wasm (emscripten) at most 96 kB raw',
  },
};
mkdirSync(dirname(opt.out), { recursive: true });
writeFileSync(opt.out, JSON.stringify(out, null, 1) + '\n');
log(`wrote ${opt.out}`);
process.exit(0);
