// Node entry: loads the wasm from the package's files.
import { readFile } from 'node:fs/promises';
import { setModuleLoader } from './router.js';

const FILES = { emscripten: 'switchyard.wasm', clang: 'switchyard.wasi.wasm' };
const cache = new Map();

setModuleLoader((kind) => {
  const file = FILES[kind];
  if (!file) return Promise.reject(new Error(`switchyard: unknown wasm build "${kind}" (emscripten or clang)`));
  if (!cache.has(kind))
    cache.set(kind, readFile(new URL(`../wasm/${file}`, import.meta.url)).then((b) => WebAssembly.compile(b)));
  return cache.get(kind);
});

export { Router, SwitchyardError, ChunkStream } from './router.js';
export { ManualClock, systemClock } from './clock.js';
export { MemoryStore } from './store/memory.js';
