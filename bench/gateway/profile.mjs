#!/usr/bin/env node
// profile.mjs - where a gateway's CPU goes, from a V8 .cpuprofile
// (node --cpu-prof). Used by bench.mjs; also a CLI:
//   node bench/gateway/profile.mjs FILE.cpuprofile [--us-per-req 480] [--root /path/to/repo]
//
// Every sample is one stack. Idle samples are dropped; the rest are the
// process's busy time, and each figure is a share of it (and, given the
// process's CPU per request measured without the profiler, µs per request).
//   categories: the sample's leaf frame, grouped (the core's wasm, Switchyard's
//     js/ files, undici, node's http, streams, GC, builtins, ...)
//   self: the leaf functions
//   inclusive: each function of the repo's js/ (and the core's wasm as a whole)
//     with everything it called, each sample counted once per function
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve, dirname } from 'node:path';

const DEFAULT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function category(cf, root) {
  const u = cf.url || '';
  const f = cf.functionName || '';
  if (f === '(garbage collector)') return 'GC';
  if (f === '(program)') return '(program): V8/native, not attributed';
  if (u.startsWith('wasm://') || /^\$?(sy_|wasm-function)/.test(f)) return 'core (wasm)';
  const local = u.startsWith('file://') ? fileURLToPath(u) : u;
  if (local.startsWith(root + '/js/')) return `switchyard ${local.slice(root.length + 1)}`;
  if (local.startsWith(root + '/bench/')) return `bench ${local.slice(root.length + 1)}`;
  if (local.includes('/node_modules/')) return `dependency ${local.split('/node_modules/').pop().split('/').slice(0, local.includes('/node_modules/@') ? 2 : 1).join('/')}`;
  if (u.startsWith('node:internal/deps/undici')) return 'undici (fetch)';
  if (/^node:(_http_|http$|internal\/http)/.test(u)) return 'node http';
  if (/^node:(net$|internal\/stream_base_commons|internal\/net)/.test(u)) return 'node net/socket';
  if (u.startsWith('node:internal/webstreams')) return 'web streams';
  if (/^node:internal\/(abort_controller|worker\/js_transferable)/.test(u) || f === 'JSTransferable') return 'node AbortSignal/transferable';
  if (/^node:(internal\/streams|stream)/.test(u)) return 'node streams';
  if (/^node:internal\/(process\/task_queues|timers|async_hooks)|^node:timers/.test(u)) return 'node tasks/timers';
  if (u.startsWith('node:internal/util/debuglog') || u.startsWith('node:events') || u.startsWith('node:internal/event_target')) return 'node events';
  if (u.startsWith('node:internal/encoding') || u.startsWith('node:buffer') || u.startsWith('node:internal/buffer')) return 'node buffer/encoding';
  if (u.startsWith('node:')) return 'node other';
  if (!u) return `builtin ${f || '(anonymous)'}`; // JSON.parse, writev, ...: native code entered from JS
  return `other ${u}`;
}

function label(cf, root) {
  const u = cf.url || '';
  const local = u.startsWith('file://') ? fileURLToPath(u) : u;
  const where = local.startsWith(root + '/') ? local.slice(root.length + 1) : local.replace(/^.*\/node_modules\//, '');
  return `${cf.functionName || '(anonymous)'}${where ? ` ${where}:${cf.lineNumber + 1}` : ''}`;
}

/**
 * @param {any} prof a parsed .cpuprofile
 * @param {{ root?: string, usPerReq?: number, top?: number }} [o]
 */
export function analyzeProfile(prof, o = {}) {
  const root = o.root ?? DEFAULT_ROOT;
  const top = o.top ?? 25;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const weight = new Map(); // node id -> µs
  const d = prof.timeDeltas ?? [];
  for (let i = 0; i < prof.samples.length; i++) {
    const w = d[i + 1] ?? d[i] ?? 0; // a sample lasts until the next one
    weight.set(prof.samples[i], (weight.get(prof.samples[i]) ?? 0) + Math.max(0, w));
  }
  let busy = 0, idle = 0;
  const cats = new Map(), self = new Map(), incl = new Map();
  const add = (m, k, w) => m.set(k, (m.get(k) ?? 0) + w);
  // A wasm frame is the core's unless it runs under undici (whose HTTP parser, llhttp, is wasm too).
  const catOf = (id) => {
    const c = category(byId.get(id).callFrame, root);
    if (c !== 'core (wasm)') return c;
    for (let x = parent.get(id); x !== undefined; x = parent.get(x)) {
      const cx = category(byId.get(x).callFrame, root);
      if (cx === 'undici (fetch)') return 'undici llhttp (wasm)';
      if (cx !== 'core (wasm)') return c;
    }
    return c;
  };
  for (const [id, w] of weight) {
    const n = byId.get(id);
    if (n.callFrame.functionName === '(idle)') { idle += w; continue; }
    busy += w;
    add(cats, catOf(id), w);
    add(self, label(n.callFrame, root), w);
    const seen = new Set();
    for (let x = id; x !== undefined; x = parent.get(x)) {
      const cf = byId.get(x).callFrame;
      const c = catOf(x);
      const k = c === 'core (wasm)' ? 'core (wasm) with the host callbacks it calls' : c.startsWith('switchyard ') ? label(cf, root)
        : c === 'undici (fetch)' ? 'undici (fetch), all of it' : null;
      if (k && !seen.has(k)) { seen.add(k); add(incl, k, w); }
    }
  }
  const rows = (m, n = Infinity) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([name, w]) => ({
    name, share: w / busy, ...(o.usPerReq ? { us_per_req: (w / busy) * o.usPerReq } : {}),
  }));
  return {
    profiled_ms: (prof.endTime - prof.startTime) / 1000, busy_ms: busy / 1000, idle_ms: idle / 1000,
    categories: rows(cats), self: rows(self, top), inclusive: rows(incl, top),
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2);
  const file = a.find((x) => !x.startsWith('--'));
  const get = (k) => { const i = a.indexOf(k); return i >= 0 ? a[i + 1] : undefined; };
  if (!file) { console.error('usage: node profile.mjs FILE.cpuprofile [--us-per-req N] [--root DIR]'); process.exit(2); }
  const r = analyzeProfile(JSON.parse(readFileSync(file, 'utf8')), { root: get('--root'), usPerReq: get('--us-per-req') ? Number(get('--us-per-req')) : undefined });
  const show = (title, list) => {
    console.log(`\n${title}`);
    for (const x of list) console.log(`  ${(x.share * 100).toFixed(1).padStart(5)} %${x.us_per_req !== undefined ? ` ${x.us_per_req.toFixed(1).padStart(6)} µs/req` : ''}  ${x.name}`);
  };
  console.log(`profiled ${r.profiled_ms.toFixed(0)} ms, busy ${r.busy_ms.toFixed(0)} ms, idle ${r.idle_ms.toFixed(0)} ms`);
  show('by category (leaf frame)', r.categories);
  show('self (leaf functions)', r.self);
  show('inclusive (repo js/ functions, wasm, undici)', r.inclusive);
}
