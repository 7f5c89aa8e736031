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

function randomSeed() {
  const a = new Uint32Array(2);
  globalThis.crypto.getRandomValues(a);
  return (BigInt(a[1]) << 32n) | BigInt(a[0]);
}

export class Router {
  /** @type {Core} */ #core;
  #clock;
  #store;
  #transport;
  #onEvent;
  #pending = new Map();
  #early = new Map();
  #timers = new Map();
  #closed = false;

  /**
   * @param {object | string} config LiteLLM proxy config: object or YAML text
   * @param {import('./index.d.ts').RouterOptions} [options]
   */
  static async create(config, options = {}) {
    const env = options.env ?? globalThis.process?.env ?? {};
    const { json } = resolveConfig(config, env);
    const r = new Router();
    r.#clock = options.clock ?? systemClock;
    r.#store = options.store ?? new MemoryStore({ clock: r.#clock });
    r.#onEvent = options.onEvent ?? defaultOnEvent;
    let source = options.wasm ?? 'emscripten';
    if (typeof source === 'string') source = await defaultLoader(source);
    r.#core = await Core.instantiate(source, r.#host());
    r.#transport = createFetchTransport(options.fetch ?? globalThis.fetch.bind(globalThis), r.#core);
    const seed = options.seed === undefined ? randomSeed() : BigInt.asUintN(64, BigInt(options.seed));
    r.#core.createRouter(json, seed);
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
      deliver: (id, json) => this.#deliver(id, JSON.parse(json)),
      emit: (json) => this.#onEvent(JSON.parse(json)),
      kvGet: (k) => this.#store.get(k),
      kvPut: (k, v, ttl) => this.#store.put(k, v, ttl),
      kvAdd: (k, d, ttl) => this.#store.add(k, d, ttl),
    };
  }

  #deliver(id, answer) {
    const p = this.#pending.get(id);
    if (!p) {
      this.#early.set(id, answer); // delivered inside begin(), before its id was known
      return;
    }
    this.#pending.delete(id);
    settle(p, answer);
  }

  /**
   * Serves one OpenAI chat-completion request.
   * @param {object} body
   * @returns {Promise<any>} the chat.completion, with a non-enumerable `switchyard` route
   */
  completion(body) {
    if (this.#closed) return Promise.reject(new Error('switchyard: router is closed'));
    return new Promise((resolve, reject) => {
      const id = this.#core.begin(JSON.stringify(body));
      const p = { resolve, reject };
      const early = this.#early.get(id);
      if (early) {
        this.#early.delete(id);
        settle(p, early);
      } else {
        this.#pending.set(id, p);
      }
    });
  }

  /** Requests in flight in the core. */
  get inflight() { return this.#core.inflight(); }

  /** Bytes live in the core's heap. */
  get heapBytes() { return this.#core.heapBytes(); }

  /** Cancels what is in flight (each rejects with status 499), stops timers, frees the core. */
  async close() {
    if (this.#closed) return;
    for (const id of [...this.#pending.keys()]) this.#core.cancel(id);
    this.#closed = true;
    this.#transport.abortAll();
    for (const h of this.#timers.values()) this.#clock.clearTimeout(h);
    this.#timers.clear();
    this.#core.free();
  }
}

function settle(p, answer) {
  if (answer.status === 200) {
    const res = answer.response;
    Object.defineProperty(res, 'switchyard', { value: answer.route, enumerable: false });
    p.resolve(res);
  } else {
    const e = answer.error ?? {};
    p.reject(new SwitchyardError(e.message, {
      status: answer.status, type: e.type, code: e.code, route: answer.route,
      retryAfterMs: answer.retry_after_ms,
    }));
  }
}

const warned = new Set();
function defaultOnEvent(ev) {
  if (ev.type !== 'config_warning' || warned.has(ev.path)) return;
  warned.add(ev.path);
  console.warn(`switchyard: config ${ev.path}: ${ev.message}`);
}
