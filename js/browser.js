// Browser entry: streams the wasm from next to this package's files.
import { setModuleLoader } from './router.js';

const FILES = { emscripten: 'switchyard.wasm', clang: 'switchyard.wasi.wasm' };
const cache = new Map();

setModuleLoader((kind) => {
  if (!cache.has(kind))
    cache.set(kind, WebAssembly.compileStreaming(fetch(new URL(`../wasm/${FILES[kind]}`, import.meta.url))));
  return cache.get(kind);
});

export { Router, SwitchyardError, ChunkStream } from './router.js';
export { ManualClock, systemClock } from './clock.js';
export { MemoryStore } from './store/memory.js';
