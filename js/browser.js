// Browser entry: streams the wasm from next to this package's files. (A page
// that has the module or its bytes already passes them as options.wasm.)
import { setModuleLoader } from './router.js';

const FILES = { emscripten: 'switchyard.wasm', clang: 'switchyard.wasi.wasm' };
const cache = new Map();

/** Compiles while downloading; a server that does not say application/wasm gets the slower path. */
async function compile(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`switchyard: cannot load ${url}: HTTP ${res.status}`);
  if (WebAssembly.compileStreaming && /^application\/wasm\b/.test(res.headers.get('content-type') ?? ''))
    return WebAssembly.compileStreaming(res);
  return WebAssembly.compile(await res.arrayBuffer());
}

setModuleLoader((kind) => {
  const file = FILES[kind];
  if (!file) return Promise.reject(new Error(`switchyard: unknown wasm build "${kind}" (emscripten or clang)`));
  if (!cache.has(kind)) {
    const p = compile(new URL(`../wasm/${file}`, import.meta.url));
    p.catch(() => cache.delete(kind)); // a failed download may be retried
    cache.set(kind, p);
  }
  return cache.get(kind);
});

export { Router, SwitchyardError, ChunkStream } from './router.js';
export { ManualClock, systemClock } from './clock.js';
export { MemoryStore } from './store/memory.js';
