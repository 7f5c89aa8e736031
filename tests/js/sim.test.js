// The deterministic simulation (tests/sim/sim.c) replayed on both wasm
// builds through the JS binding. The native sy_sim generates each seed's
// scenario and runs it (checking its invariants), then prints it as JSON:
// the config, the client's steps (begin, cancel, wipe the store), the
// store's outages and every answer each upstream gave, in fetch order,
// with the digests of the native run's events, deliveries and chunks. This
// file replays the steps on the wasm core with the same virtual clock and
// (due time, start order) firing, answers each upstream's fetches from its
// list, and requires the same digests: the same decisions everywhere, as
// the spec cases do. No generator is duplicated here.
//   SY_SIM_BIN (default build/native/sy_sim), SY_SIM_JS_SEEDS (default 0:100)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Core } from '../../js/core/binding.js';
import { takeDue } from './spec-host.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const simBin = process.env.SY_SIM_BIN ?? `${root}build/native/sy_sim`;
const seeds = process.env.SY_SIM_JS_SEEDS ?? '0:100';
const modules = {
  clang: new WebAssembly.Module(readFileSync(`${root}wasm/switchyard.wasi.wasm`)),
  emscripten: new WebAssembly.Module(readFileSync(`${root}wasm/switchyard.wasm`)),
};
const enc = new TextEncoder();

// FNV-1a over the characters (the core's output is ASCII), as sy_sim hashes bytes.
const FNV = 2166136261;
const fnv = (h, s) => {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
};

/** Replays scenario |sc| on |module|; returns what sy_sim's "expect" holds. */
async function replay(module, sc) {
  let now = sc.start, seq = 0;
  const timers = []; // {part, id, kind, status, text, due, seq}
  const kv = new Map();
  const up = () => !sc.outages.some(([a, b]) => now >= a && now < b);
  const queues = new Map(Object.entries(sc.upstreams).map(([name, list]) => [name, { list, next: 0 }]));
  const got = { events: 0, events_hash: FNV, deliveries: 0, deliveries_hash: FNV, chunks_hash: FNV };
  const counts = new Map();
  const schedule = (t, delay) => timers.push({ ...t, due: now + (delay > 0 ? delay : 0), seq: seq++ });
  const live = (k) => {
    const e = kv.get(k);
    return e && !(e.expires && e.expires <= now) ? e : undefined;
  };
  const host = {
    now: () => now,
    fetchStart(attempt, head) {
      const name = JSON.parse(head).url.split('://')[1].split('/')[1].split(/[/?"]/)[0];
      const q = queues.get(name);
      const answer = q && q.next < q.list.length ? q.list[q.next++] : []; // none left: a hang
      for (const [at, kind, status, text] of answer)
        schedule({ part: true, id: attempt, kind, status, text: text >= 0 ? sc.texts[text] : '' }, at);
    },
    fetchAbort(attempt) {
      for (let i = timers.length - 1; i >= 0; i--) if (timers[i].part && timers[i].id === attempt) timers.splice(i, 1);
    },
    timerStart: (timer, ms) => schedule({ part: false, id: timer }, ms),
    timerCancel(timer) {
      let best = -1;
      timers.forEach((t, i) => {
        if (!t.part && t.id === timer && (best < 0 || t.seq < timers[best].seq)) best = i;
      });
      if (best >= 0) timers.splice(best, 1);
    },
    deliver(id, json) {
      got.deliveries++;
      got.deliveries_hash = fnv(fnv(got.deliveries_hash, json), '\n');
      counts.set(id, (counts.get(id) ?? 0) + 1);
    },
    chunk(_id, frames) { got.chunks_hash = fnv(got.chunks_hash, frames); },
    emit(json) {
      got.events++;
      got.events_hash = fnv(fnv(got.events_hash, json), '\n');
    },
    kvGet: (k) => (up() ? live(k)?.value : undefined),
    kvPut(k, v, ttl) {
      if (up()) kv.set(k, { value: v, expires: ttl > 0 ? now + ttl : 0 });
    },
    kvAdd(k, d, ttl) {
      if (!up()) return d;
      const e = live(k);
      const v = (e ? parseFloat(e.value) || 0 : 0) + d; // strtod's reading
      kv.set(k, { value: String(v), expires: e ? e.expires : ttl > 0 ? now + ttl : 0 });
      return v;
    },
  };
  const core = await Core.instantiate(module, host);
  const heap0 = core.heapBytes();
  core.createRouter(sc.config, BigInt(sc.core_seed));
  if (sc.watched) core.watchStore();
  // As sy_sim's report_store_back: before each entry point, a store back
  // from an outage is reported to a core keeping its copy.
  let storeWasDown = false;
  const reportStoreBack = () => {
    if (sc.watched && up() && storeWasDown) core.storeChanged(null);
    storeWasDown = !up();
  };
  const fire = (until) => {
    const t = takeDue(timers, until);
    if (!t) return false;
    if (t.due > now) now = t.due;
    reportStoreBack();
    if (!t.part) core.onTimer(t.id);
    else if (t.kind === 0) core.onResponse(t.id, t.status, t.text);
    else if (t.kind === 1) core.onBody(t.id, enc.encode(t.text));
    else if (t.kind === 2) core.onEnd(t.id);
    else core.onError(t.id, t.text);
    return true;
  };
  const ids = [];
  let baseline = 0;
  sc.steps.forEach((st, i) => {
    while (fire(st.at));
    if (st.at > now) now = st.at;
    if (!st.wipe) reportStoreBack();
    if (st.begin !== undefined) ids[i] = core.begin(st.begin);
    else if (st.embeddings !== undefined) ids[i] = core.beginEmbeddings(st.embeddings);
    else if (st.cancel !== undefined) core.cancel(ids[st.cancel]);
    else if (st.wipe) {
      kv.clear();
      if (sc.watched) core.storeChanged(null);
      baseline = core.heapBytes();
    }
  });
  const limit = now + 4 * 3600e3;
  while (timers.length && fire(limit));
  if (sc.watched) core.storeChanged(null); // as sy_sim does: the copy's entries are not the requests'
  const once = ids.filter((id) => id !== undefined).every((id) => counts.get(id) === 1);
  const result = { got, once, pending: timers.length, inflight: core.inflight(), heap: core.heapBytes() - baseline };
  core.free();
  result.leaked = core.heapBytes() - heap0;
  return result;
}

function scenarios() {
  assert.ok(existsSync(simBin), `the native simulator is missing at ${simBin}: build with scripts/test.sh`);
  const r = spawnSync(simBin, ['--seeds', seeds, '--json'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  assert.equal(r.status, 0, `sy_sim --json failed: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

test(`simulation seeds ${seeds}: the wasm builds take the native decisions`, async () => {
  const all = scenarios();
  assert.ok(all.length > 0);
  const failures = [];
  for (const sc of all) {
    const replay_ = `build/native/sy_sim --seed ${sc.seed} --verbose`;
    if (!sc.expect.ok) failures.push(`seed ${sc.seed}: an invariant failed natively (${replay_})`);
    for (const [name, module] of Object.entries(modules)) {
      const r = await replay(module, sc);
      const want = { ...sc.expect };
      delete want.ok;
      delete want.heap_exact;
      const same = JSON.stringify(r.got) === JSON.stringify(want);
      if (!same) failures.push(`seed ${sc.seed} on ${name}: logs differ from native: ${JSON.stringify(r.got)} vs ${JSON.stringify(want)} (${replay_})`);
      if (!r.once) failures.push(`seed ${sc.seed} on ${name}: a request not answered exactly once`);
      if (r.pending || r.inflight) failures.push(`seed ${sc.seed} on ${name}: ${r.pending} timers and ${r.inflight} requests left`);
      if (sc.expect.heap_exact && r.heap !== 0) failures.push(`seed ${sc.seed} on ${name}: heap ${r.heap} bytes off its baseline at quiescence`);
      if (r.leaked !== 0) failures.push(`seed ${sc.seed} on ${name}: ${r.leaked} bytes left after free`);
    }
  }
  assert.deepEqual(failures, []);
});
