// Cloudflare Workers entry: workerd refuses to compile wasm from bytes, so
// the module is imported, which gives a WebAssembly.Module.
import wasm from '../wasm/switchyard.wasm';
import { setModuleLoader } from './router.js';

setModuleLoader(async (kind) => {
  if (kind !== 'emscripten') throw new Error('switchyard: the Worker entry ships the default (emscripten) module only');
  return wasm;
});

export { Router, SwitchyardError, ChunkStream } from './router.js';
export { ManualClock, systemClock } from './clock.js';
export { MemoryStore } from './store/memory.js';
