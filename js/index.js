// Node entry: loads the wasm from the package's files.
import { readFile } from 'node:fs/promises';
import { setModuleLoader, setStoreFactory, setDefaultTransport } from './router.js';
import { createNodeTransport } from './transport/node.js';
import { redisOptionsFrom } from './config.js';

const FILES = { emscripten: 'switchyard.wasm', clang: 'switchyard.wasi.wasm' };
const cache = new Map();

setModuleLoader((kind) => {
  const file = FILES[kind];
  if (!file) return Promise.reject(new Error(`switchyard: unknown wasm build "${kind}" (emscripten or clang)`));
  if (!cache.has(kind))
    cache.set(kind, readFile(new URL(`../wasm/${file}`, import.meta.url)).then((b) => WebAssembly.compile(b)));
  return cache.get(kind);
});

setDefaultTransport(createNodeTransport);

// router_settings.redis_url / redis_host (LiteLLM's keys) share health
// through Redis; the client is loaded only then (switchyard/redis in code).
setStoreFactory(async (config, clock) => {
  const options = redisOptionsFrom(config?.router_settings);
  if (!options) return null;
  const { RedisStore } = await import('./store/redis.js');
  const store = new RedisStore({ ...options, clock });
  await store.connect();
  return store;
});

export { Router, SwitchyardError, ChunkStream } from './router.js';
export { ManualClock, systemClock } from './clock.js';
export { MemoryStore } from './store/memory.js';
export { SharedStore } from './store/shared.js';
