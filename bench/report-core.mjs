// report-core.mjs: one Markdown table from bench/results/core-{native,callgrind,wasm}.json
// (written by bench/run-core.sh), on stdout and in bench/results/core.md.
//   node bench/report-core.mjs [RESULTS_DIR] [--meta "text line"]...
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const argv = process.argv.slice(2);
const meta = [];
let dir = new URL('./results/', import.meta.url).pathname;
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--meta') meta.push(argv[++i]);
  else dir = argv[i];
}
const load = async (f) => {
  try { return JSON.parse(await readFile(join(dir, f), 'utf8')).results; } catch { return []; }
};
const native = await load('core-native.json');
const cg = await load('core-callgrind.json');
const wasm = await load('core-wasm.json');

const key = (s, n) => `${s}\u0000${n}`;
const by = (rows, field, filter = () => true) => {
  const m = new Map();
  for (const r of rows) if (filter(r)) m.set(key(r.strategy, r.n), r.skipped ? 'skipped' : r[field]);
  return m;
};
const int = (v) => Math.round(v).toLocaleString('en-US');
const core = (r) => r.mode === 'core';
const cols = [
  ['native ns/req', by(native, 'ns_per_request'), int],
  ['callgrind Ir/req', by(cg, 'ir_per_request'), int],
  ['callgrind Ir/decision', by(cg, 'ir_per_decision'), int],
  ['wasm core µs/req', by(wasm, 'us_per_request', core), (v) => v.toFixed(2)],
  ['wasm Router µs/req', by(wasm, 'us_per_request', (r) => r.mode === 'router'), (v) => v.toFixed(2)],
  ['wasm core µs/attempt', by(wasm, 'us_per_attempt', core), (v) => v.toFixed(2)],
  ['native ns/decision', by(native, 'ns_per_decision'), int],
  ['wasm core µs/decision', by(wasm, 'us_per_decision', core), (v) => v.toFixed(2)],
];
const strategies = [...new Set([...native, ...cg, ...wasm].map((r) => r.strategy))];
const sizes = [...new Set([...native, ...cg, ...wasm].map((r) => r.n))].sort((a, b) => a - b);
const cell = (m, fmt, s, n) => {
  const v = m.get(key(s, n));
  return v === undefined ? '' : v === 'skipped' ? 'skipped' : fmt(v);
};

const out = [];
out.push(...meta.map((l) => `${l}  `));
if (meta.length) out.push('');
out.push(`| strategy | N | ${cols.map((c) => c[0]).join(' | ')} |`);
out.push(`|---|---:|${cols.map(() => '---:').join('|')}|`);
for (const s of strategies)
  for (const n of sizes) out.push(`| ${s} | ${n} | ${cols.map(([, m, f]) => cell(m, f, s, n)).join(' | ')} |`);

// Growth from 10 to 1000 deployments: the ratio, and for the stable count
// the instructions each extra deployment adds.
out.push('');
out.push(`| strategy | ${cols.map((c) => `${c[0]} ×(10→1000)`).join(' | ')} | Ir per extra deployment |`);
out.push(`|---|${cols.map(() => '---:').join('|')}|---:|`);
for (const s of strategies) {
  const ratios = cols.map(([, m]) => {
    const a = m.get(key(s, 10)), b = m.get(key(s, 1000));
    return typeof a === 'number' && typeof b === 'number' ? `${(b / a).toFixed(1)}×` : a === 'skipped' ? 'skipped' : '';
  });
  const a = cols[1][1].get(key(s, 10)), b = cols[1][1].get(key(s, 1000));
  const slope = typeof a === 'number' && typeof b === 'number' ? Math.round((b - a) / 990).toLocaleString('en-US') : '';
  out.push(`| ${s} | ${ratios.join(' | ')} | ${slope} |`);
}
const text = out.join('\n') + '\n';
process.stdout.write(text);
await writeFile(join(dir, 'core.md'), text);
