// The Router: LiteLLM-like API over the core. The core decides everything;
// this file carries bytes, time and stored values between it and the host.
import { Core } from './core/binding.js';
import { systemClock } from './clock.js';
import { resolveConfig } from './config.js';
import { MemoryStore } from './store/memory.js';
import { createFetchTransport } from './transport/fetch.js';

/** @type {(kind: string) => Promise<WebAssembly.Module>} */
let defaultLoader = async () => {
  throw new Error('switchyard: no wasm loader for this runtime; pass options.wasm');
};

/** Set by each runtime's entry (js/index.js, js/browser.js, js/workerd.js). */
export function setModuleLoader(loader) { defaultLoader = loader; }

/** @type {(core: Core) => ReturnType<typeof createFetchTransport>} */
let defaultTransport = (core) => createFetchTransport(globalThis.fetch.bind(globalThis), core);

/** Set by a runtime's entry with a transport better than its fetch (js/index.js: node:http). */
export function setDefaultTransport(factory) { defaultTransport = factory; }

/**
 * @type {(config: any, clock: import('./clock.js').Clock) => Promise<import('./index.d.ts').KeyValueStore | null>}
 */
let storeFromConfig = async () => null;

/**
 * Set by a runtime's entry that can build a shared store from the config's
 * own keys (js/index.js: Redis from router_settings.redis_*). Null: memory.
 */
export function setStoreFactory(factory) { storeFromConfig = factory; }

/** A failed request: |status| is what a gateway answers with. */
export class SwitchyardError extends Error {
  constructor(message, { status, type, code, route, retryAfterMs } = {}) {
    super(message);
    this.name = 'SwitchyardError';
    this.status = status;
    this.type = type;
    this.code = code;
    this.route = route;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * A streamed answer: an async iterable of chat.completion.chunk objects,
 * handed out when the stream committed at its first content token (a
 * failure before that rejects the completion instead). A failure after it
 * throws from the iteration.
 */
export class ChunkStream {
  #queue = [];
  #wake = null;
  #end = null; // { error } once over
  #cancel;

  /** @param {object} route the route so far: model_group, deployment, attempts */
  constructor(route, cancel) {
    /** @type {object} */
    this.switchyard = route;
    this.#cancel = cancel;
  }

  /** @param {string} frames "data: ...\n\n" frames from the core */
  push(frames) {
    for (const frame of frames.split('\n\n')) {
      if (!frame.startsWith('data: ')) continue;
      const data = frame.slice(6);
      if (data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (!chunk.error) this.#queue.push(chunk); // an error frame is followed by the error deliver
    }
    this.#notify();
  }

  finish(route, error) {
    if (route) this.switchyard = route;
    this.#end = { error };
    this.#notify();
  }

  #notify() {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Stops the stream: the core aborts the upstream attempt. */
  cancel() { this.#cancel(); }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      while (this.#queue.length) yield this.#queue.shift();
      if (this.#end) {
        if (this.#end.error) throw this.#end.error;
        return;
      }
      await new Promise((resolve) => (this.#wake = resolve));
    }
  }
}

function randomSeed() {
  const a = new Uint32Array(2);
  globalThis.crypto.getRandomValues(a);
  return (BigInt(a[1]) << 32n) | BigInt(a[0]);
}

export class Router {
  /** @type {Core} */ #core;
  #clock;
  #store;
  #ownsStore = false;
  #transport;
  #onEvent;
  #pending = new Map();
  #early = new Map();
  #timers = new Map();
  #closed = false;
  #writing = false; // inside the core's own kv write: its change is no news to it
  /** @type {(() => void) | undefined} */
  #unwatch;

  /**
   * @param {object | string} config LiteLLM proxy config: object or YAML text
   * @param {import('./index.d.ts').RouterOptions} [options]
   */
  static async create(config, options = {}) {
    const env = options.env ?? globalThis.process?.env ?? {};
    const { json, config: resolved } = resolveConfig(config, env);
    const r = new Router();
    r.#clock = options.clock ?? systemClock;
    r.#store = options.store ?? (await storeFromConfig(resolved, r.#clock));
    r.#ownsStore = !options.store && !!r.#store;
    r.#store ??= new MemoryStore({ clock: r.#clock });
    r.#onEvent = options.onEvent ?? defaultOnEvent;
    let source = options.wasm ?? 'emscripten';
    if (typeof source === 'string') source = await defaultLoader(source);
    try {
      r.#core = await Core.instantiate(source, r.#host());
      r.#transport = options.fetch ? createFetchTransport(options.fetch, r.#core) : defaultTransport(r.#core);
      const seed = options.seed === undefined ? randomSeed() : BigInt.asUintN(64, BigInt(options.seed));
      r.#core.createRouter(json, seed);
      if (typeof r.#store.watch === 'function') {
        r.#unwatch = r.#store.watch((key) => { if (!r.#writing) r.#core.storeChanged(key); });
        r.#core.watchStore();
      }
    } catch (err) {
      if (r.#ownsStore) await r.#store.close?.(); // a bad config leaves no connection open
      throw err;
    }
    return r;
  }

  #host() {
    return {
      now: () => this.#clock.now(),
      fetchStart: (a, head, body) => this.#transport.start(a, head, body),
      fetchAbort: (a) => this.#transport.abort(a),
      timerStart: (t, ms) => {
        this.#timers.set(t, this.#clock.setTimeout(() => {
          this.#timers.delete(t);
          if (!this.#closed) this.#core.onTimer(t);
        }, ms));
      },
      timerCancel: (t) => {
        this.#clock.clearTimeout(this.#timers.get(t));
        this.#timers.delete(t);
      },
      deliver: (id, text) => this.#deliver(id, text),
      chunk: (id, frames) => this.#pending.get(id)?.stream?.push(frames),
      emit: (json) => {
        const ev = JSON.parse(json);
        if (ev.type === 'first_token') this.#commit(ev);
        this.#onEvent(ev);
      },
      kvGet: (k) => this.#store.get(k),
      kvPut: (k, v, ttl) => {
        this.#writing = true;
        try { this.#store.put(k, v, ttl); } finally { this.#writing = false; }
      },
      kvAdd: (k, d, ttl) => {
        this.#writing = true;
        try { return this.#store.add(k, d, ttl); } finally { this.#writing = false; }
      },
    };
  }

  /** A stream committed: its completion resolves to the chunk stream. */
  #commit(ev) {
    const p = this.#pending.get(ev.req);
    if (!p || p.stream) return;
    p.stream = new ChunkStream({ model_group: ev.group, deployment: ev.deployment, attempts: ev.attempts },
      () => { if (this.#pending.has(ev.req) && !this.#closed) this.#core.cancel(ev.req); });
    p.resolve(p.stream);
  }

  /** @param {string} text the core's answer, JSON */
  #deliver(id, text) {
    const p = this.#pending.get(id);
    if (!p) {
      this.#early.set(id, text); // delivered inside begin(), before its id was known
      return;
    }
    this.#pending.delete(id);
    if (p.stream) {
      const answer = JSON.parse(text);
      p.stream.finish(answer.route, answer.status === 200 ? undefined : toError(answer));
    } else {
      settle(p, text);
    }
    // Let go of the promise and what it resolved to: the Map's table may
    // keep |p| reachable for the scavenger (js/transport/node.js says why).
    p.resolve = p.reject = p.stream = null;
  }

  /**
   * Serves one OpenAI chat-completion request. With `stream: true` it
   * resolves, at the first content token, to a ChunkStream.
   * @param {object | string} body the request, or its JSON text (handed to the core as it is: a gateway that has the client's text saves a JSON.stringify)
   * @param {{ raw?: boolean }} [options] raw: a non-streamed answer comes as
   *   `{ text, switchyard }`, the upstream's chat.completion as the text it
   *   came in: a proxy that forwards it saves parsing and printing it again
   * @returns {Promise<any>} the chat.completion (with a non-enumerable `switchyard` route), or a ChunkStream
   */
  completion(body, options) { return this.#request(body, false, options?.raw === true); }

  /**
   * Serves one OpenAI embeddings request ({model, input}) with the same
   * routing, retries, fallbacks and cooldowns.
   * @param {object | string} body the request, or its JSON text
   * @param {{ raw?: boolean }} [options] raw: the list comes as `{ text, switchyard }`, as completion's does
   * @returns {Promise<any>} the embeddings list, with a non-enumerable `switchyard` route
   */
  embedding(body, options) { return this.#request(body, true, options?.raw === true); }

  #request(body, embeddings, raw) {
    if (this.#closed) return Promise.reject(new Error('switchyard: router is closed'));
    return new Promise((resolve, reject) => {
      const start = () => {
        if (this.#closed) return reject(new Error('switchyard: router is closed'));
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        const id = embeddings ? this.#core.beginEmbeddings(text) : this.#core.begin(text);
        const p = { resolve, reject, stream: null, raw };
        const early = this.#early.get(id);
        if (early) {
          this.#early.delete(id);
          settle(p, early);
        } else {
          this.#pending.set(id, p);
        }
      };
      // Called from inside an event callback: the core is running and does
      // not re-enter, so the request begins once it has returned.
      if (!this.#core.busy) return start();
      queueMicrotask(() => { try { start(); } catch (err) { reject(err); } });
    });
  }

  /**
   * Every deployment with its health now: `cooling_until` (ms, 0 when
   * healthy), the cooldown's `reason`, and `failures` in the current window.
   */
  health() { return this.#core.describe().deployments; }

  /**
   * The routing decision alone, as a dry run: the id of the deployment a
   * request for model group |model| would be sent to now (no tags, not
   * streamed), or null when the group is unknown or nothing in it is
   * available. Nothing is sent or counted.
   * @param {string} model
   */
  route(model) { return this.#core.route(model); }

  /** The key-value store health is kept in (shared by a fleet when it is a RedisStore). */
  get store() { return this.#store; }

  /** Requests in flight in the core. */
  get inflight() { return this.#core.inflight(); }

  /** Bytes live in the core's heap. */
  get heapBytes() { return this.#core.heapBytes(); }

  /** Cancels what is in flight (each rejects with status 499), stops timers, frees the core. */
  async close() {
    // From inside an event callback the core is running (and a request may
    // be inside begin()): close once it has returned.
    if (this.#core.busy) await new Promise((resolve) => queueMicrotask(resolve));
    if (this.#closed) return;
    for (const id of [...this.#pending.keys()]) this.#core.cancel(id);
    this.#closed = true;
    this.#transport.abortAll();
    for (const h of this.#timers.values()) this.#clock.clearTimeout(h);
    this.#timers.clear();
    this.#unwatch?.();
    this.#core.free();
    if (this.#ownsStore) await this.#store.close?.(); // pushes what is queued, then disconnects
  }
}

function toError(answer) {
  const e = answer.error ?? {};
  return new SwitchyardError(e.message, {
    status: answer.status, type: e.type, code: e.code, route: answer.route,
    retryAfterMs: answer.retry_after_ms,
  });
}

// The core writes a success as {"id":N,"status":200,"response":BODY,"route":{...}}
// (src/request.c, finish), BODY the upstream's text. The route is the last
// member, and its opening cannot occur inside it (its strings escape every
// quote), so its last occurrence is it, whatever BODY holds.
const SUCCESS = ',"status":200,"response":';
const ROUTE = ',"route":{"model_group":';
const ROUTE_VALUE = ROUTE.indexOf('{');

/** A success's response text and route, without parsing the response; null for anything else. */
function splitSuccess(text) {
  const at = text.indexOf(SUCCESS);
  if (at < 0 || at > 24) return null; // after {"id":N only
  const end = text.lastIndexOf(ROUTE);
  if (end < at) return null;
  return { text: text.slice(at + SUCCESS.length, end), route: JSON.parse(text.slice(end + ROUTE_VALUE, -1)) };
}

/** Resolves or rejects |p| with the core's answer |text|. */
function settle(p, text) {
  const ok = splitSuccess(text);
  if (ok) {
    if (p.raw) return p.resolve({ text: ok.text, switchyard: ok.route });
    const res = JSON.parse(ok.text);
    Object.defineProperty(res, 'switchyard', { value: ok.route, enumerable: false });
    return p.resolve(res);
  }
  // An error: a 200 always has a response here (a stream's goes to its ChunkStream).
  p.reject(toError(JSON.parse(text)));
}

const warned = new Set();
function defaultOnEvent(ev) {
  if (ev.type !== 'config_warning' || warned.has(ev.path)) return;
  warned.add(ev.path);
  console.warn(`switchyard: config ${ev.path}: ${ev.message}`);
}
