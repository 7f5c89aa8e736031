// Checks a built switchyard module against the ABI:
//   node cmake/check-module.mjs <module.wasm> <wasm/exports.txt>
// - every import is from module "sy_host" (Emscripten's memory-growth
//   notification, env.emscripten_notify_memory_growth, is the one exception);
// - the exports are exactly the names in exports.txt, plus memory and
//   _initialize, plus the few runtime exports Emscripten always adds.
// CMake runs it after every wasm link, so a module that drifts from the list
// fails its build. (The link line cannot carry the list as --export=NAME:
// wasm-ld and emcc take C symbol names there, and src/host_wasm.c names its
// exports with export_name attributes on differently named C functions.)
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

const [file, listFile] = process.argv.slice(2);
if (!file || !listFile) {
  console.error('usage: node cmake/check-module.mjs <module.wasm> <exports.txt>');
  process.exit(2);
}
const bytes = readFileSync(file);
const mod = new WebAssembly.Module(bytes);
const name = basename(file);
const problems = [];

const allowedImports = new Set(['env.emscripten_notify_memory_growth']);
for (const i of WebAssembly.Module.imports(mod)) {
  if (i.module !== 'sy_host' && !allowedImports.has(`${i.module}.${i.name}`)) {
    problems.push(`imports ${i.module}.${i.name} (${i.kind}): only sy_host.* may be imported`);
  }
}

const abi = readFileSync(listFile, 'utf8')
  .split('\n')
  .map((l) => l.replace(/#.*/, '').trim())
  .filter(Boolean);
const required = ['memory', '_initialize', ...abi];
const runtime = new Set([
  '__indirect_function_table',
  '__errno_location',
  'stackSave',
  'stackRestore',
  'stackAlloc',
]);
const have = WebAssembly.Module.exports(mod).map((e) => e.name);
for (const n of required) if (!have.includes(n)) problems.push(`does not export ${n}`);
for (const n of have) {
  if (!required.includes(n) && !runtime.has(n)) {
    problems.push(`exports ${n}, which is not in ${listFile}`);
  }
}

if (problems.length) {
  for (const p of problems) console.error(`check-module: ${name} ${p}`);
  process.exit(1);
}
