// The one binding between JS and the core's wasm ABI (src/host.h): imports,
// exports, and the byte copying between them. Every host adapter and every
// runtime goes through this file.
const enc = new TextEncoder();
const dec = new TextDecoder();
// Store keys are interned up to this length (src/health.c's keys are
// shorter), and at most this many at once.
const KEY_INTERN_MAX = 128;
const KEY_INTERN_SLOTS = 4096;
// Upstream bodies up to SLAB_BYTES / 8 are copied into slabs of this size.
const SLAB_BYTES = 64 * 1024;

/**
 * @typedef {object} CoreHost What the core asks of its host; every member is required.
 * @property {() => number} now
 * @property {(attempt: number, head: string, body: Uint8Array) => void} fetchStart
 * @property {(attempt: number) => void} fetchAbort
 * @property {(timer: number, delayMs: number) => void} timerStart
 * @property {(timer: number) => void} timerCancel
 * @property {(request: number, json: string) => void} deliver
 * @property {(request: number, frames: string) => void} chunk
 * @property {(json: string) => void} emit
 * @property {(key: string) => string | undefined} kvGet
 * @property {(key: string, value: string, ttlMs: number) => void} kvPut
 * @property {(key: string, delta: number, ttlMs: number) => number} kvAdd
 * @property {(err: unknown, name: string) => void} [onHostError] a callback threw
 *   (|name| is the import): the core carried on as if it had not. Default: a
 *   store's failure is warned about once (health degrades to local state), any
 *   other is rethrown from a microtask of its own.
 */

/**
 * One instance of the core's module, holding one router.
 *
 * Nothing re-enters the core. While it runs (|busy|), a CoreHost callback
 * that reports something (cancel, onResponse, onBody, onEnd, onError,
 * onTimer, free) has the call queued, and the queue runs in order as soon
 * as the outermost call returns; begin, createRouter and describe, which
 * must answer, throw instead. A callback that throws never unwinds through
 * the core's frames: the import returns a neutral answer and the error goes
 * to onHostError.
 */
export class Core {
  /**
   * @param {WebAssembly.Module | BufferSource} source
   * @param {CoreHost} host
   */
  static async instantiate(source, host) {
    const core = new Core();
    core.#host = host;
    const imports = {
      sy_host: core.#imports(host),
      // The clang build imports none of these and Emscripten's only the
      // last; stubs keep other builds of the same C loadable.
      wasi_snapshot_preview1: { fd_write: () => 52, fd_seek: () => 52, fd_close: () => 52 },
      env: { emscripten_notify_memory_growth: () => {} },
    };
    const result = await WebAssembly.instantiate(source, imports);
    const instance = result instanceof WebAssembly.Instance ? result : result.instance;
    core.#x = instance.exports;
    if (core.#x._initialize) core.#x._initialize(); // WASI reactor: constructors first
    return core;
  }

  /** @type {any} */ #x;
  #router = 0;
  #host;
  #depth = 0; // calls into the core now running (more than 1 only if a callback broke the rule)
  /** @type {Array<() => void>} */
  #queued = [];
  #storeWarned = false;
  /** @type {Uint8Array | null} a view of the memory, remade only when it grew */
  #mem = null;
  /** @type {Map<number, string>} interned store keys by hash (#key) */
  #keys = new Map();
  #slab = new Uint8Array(0);
  #slabUsed = SLAB_BYTES; // full: the first body makes the first slab

  /** True while the core runs, that is inside a CoreHost callback. */
  get busy() { return this.#depth > 0; }

  /** Runs |fn| as the core's one entry point now; queued reports follow it. */
  #enter(fn) {
    this.#depth++;
    try {
      return fn();
    } finally {
      if (--this.#depth === 0) {
        while (this.#queued.length) this.#enter(this.#queued.shift());
      }
    }
  }

  /** A call that returns nothing: queued when it comes from inside the core. */
  #report(fn) {
    if (this.#depth > 0) this.#queued.push(() => this.#router && fn());
    else if (this.#router) this.#enter(fn);
  }

  /** A call that must answer now: refused from inside the core. */
  #ask(what, fn) {
    if (this.#depth > 0)
      throw new Error(`switchyard core: ${what} called from inside a host callback; the core does not re-enter (defer it with queueMicrotask)`);
    if (!this.#router && what !== 'createRouter') throw new Error('switchyard core: the router is freed');
    return this.#enter(fn);
  }

  // Memory can grow during any call, detaching the old buffer, and a view
  // of a detached buffer has length 0: that check is all a crossing pays.
  // Reading memory.buffer instead was 6 % of a routed attempt.
  #u8() {
    const m = this.#mem;
    if (m !== null && m.length !== 0) return m;
    return (this.#mem = new Uint8Array(this.#x.memory.buffer));
  }
  #str(ptr, len) { return dec.decode(this.#u8().subarray(ptr, ptr + len)); }

  /**
   * A store key's text. The core names the same few keys over and over
   * (a deployment's counters of this minute), and TextDecoder costs about
   * 250 ns for one, most of a kv crossing: ASCII keys are interned by a
   * hash of their bytes, checked byte for byte against the kept text.
   * Bounded: the table starts over when full (keys of past minutes go).
   */
  #key(ptr, len) {
    if (len > KEY_INTERN_MAX) return this.#str(ptr, len);
    const u8 = this.#u8();
    const end = ptr + len;
    let h = len;
    for (let i = ptr; i < end; i++) h = (Math.imul(h, 31) + u8[i]) | 0;
    const kept = this.#keys.get(h);
    if (kept !== undefined && kept.length === len) {
      let i = 0;
      while (i < len && kept.charCodeAt(i) === u8[ptr + i]) i++;
      if (i === len) return kept;
    }
    const text = this.#str(ptr, len);
    if (text.length === len) { // ASCII: one byte per character, as the check reads it
      if (this.#keys.size >= KEY_INTERN_SLOTS) this.#keys.clear();
      this.#keys.set(h, text);
    }
    return text;
  }

  /**
   * A copy of |len| bytes at |ptr| that the host may keep (an upstream
   * body, written after the crossing returns). Carved from a shared slab:
   * a Uint8Array of its own above 64 bytes is an ArrayBuffer with an
   * off-heap store, several hundred ns to make and to collect. A slab
   * lives while any of its bodies does, at most SLAB_BYTES each.
   */
  #copyOut(ptr, len) {
    if (len > SLAB_BYTES / 8) return this.#u8().slice(ptr, ptr + len);
    if (this.#slabUsed + len > SLAB_BYTES) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const out = this.#slab.subarray(this.#slabUsed, this.#slabUsed + len);
    this.#slabUsed = (this.#slabUsed + len + 7) & ~7;
    out.set(this.#u8().subarray(ptr, ptr + len));
    return out;
  }
  #cstr(ptr) {
    const u8 = this.#u8();
    let end = ptr;
    while (u8[end] !== 0) end++;
    return this.#str(ptr, end - ptr);
  }

  /** A host callback threw: keep the core's frames intact and say so elsewhere. */
  #hostError(name, err) {
    const h = this.#host.onHostError;
    if (h) {
      try { h(err, name); return; } catch (e) { err = e; }
    }
    if (name.startsWith('kv_')) {
      if (!this.#storeWarned) console.warn(`switchyard: the store failed (${name}: ${err?.message ?? err}); until it answers, its keys read as absent and counters restart`);
      this.#storeWarned = true;
      return;
    }
    queueMicrotask(() => { throw err; });
  }

  /** @param {CoreHost} host */
  #imports(host) {
    const guarded = {};
    for (const [name, fn] of Object.entries(this.#rawImports(host))) {
      const neutral = name === 'kv_get' ? -1 : name === 'kv_add' ? (_kp, _kl, delta) => delta : name === 'now_ms' ? Date.now : undefined;
      // Five parameters, the widest import's: no rest array per call.
      guarded[name] = (a, b, c, d, e) => {
        try {
          return fn(a, b, c, d, e);
        } catch (err) {
          this.#hostError(name, err);
          return typeof neutral === 'function' ? neutral(a, b, c, d, e) : neutral;
        }
      };
    }
    return guarded;
  }

  #rawImports(host) {
    return {
      now_ms: () => host.now(),
      fetch_start: (a, hp, hl, bp, bl) =>
        host.fetchStart(a, this.#str(hp, hl), this.#copyOut(bp, bl)),
      fetch_abort: (a) => host.fetchAbort(a),
      timer_start: (t, ms) => host.timerStart(t, ms),
      timer_cancel: (t) => host.timerCancel(t),
      deliver: (id, p, l) => host.deliver(id, this.#str(p, l)),
      chunk: (id, p, l) => host.chunk(id, this.#str(p, l)),
      emit: (p, l) => host.emit(this.#str(p, l)),
      kv_get: (kp, kl, out, cap) => {
        const v = host.kvGet(this.#key(kp, kl));
        if (v === undefined) return -1;
        // Straight into the core's buffer; its length is all a value too long for it needs.
        const { read, written } = enc.encodeInto(v, this.#u8().subarray(out, out + cap));
        return read === v.length ? written : enc.encode(v).length;
      },
      kv_put: (kp, kl, vp, vl, ttl) => host.kvPut(this.#key(kp, kl), this.#str(vp, vl), ttl),
      kv_add: (kp, kl, delta, ttl) => host.kvAdd(this.#key(kp, kl), delta, ttl),
    };
  }

  /** Copies |bytes| into the core's memory for the length of |fn|. */
  #withBytes(bytes, fn) {
    const ptr = this.#x.sy_alloc(bytes.length);
    if (ptr === 0) throw new RangeError(`switchyard core: cannot allocate ${bytes.length} bytes`);
    this.#u8().set(bytes, ptr);
    try {
      return fn(ptr, bytes.length);
    } finally {
      this.#x.sy_free(ptr);
    }
  }

  /**
   * Copies |text| as UTF-8 into the core's memory for the length of |fn|.
   * ASCII, which JSON, headers and keys nearly always are, is encoded in
   * place, without a Uint8Array of its own; other text is encoded first.
   */
  #withText(text, fn) {
    const ptr = this.#x.sy_alloc(text.length);
    if (ptr === 0) return this.#withBytes(enc.encode(text), fn); // refused (or empty): that path says so
    const { read, written } = enc.encodeInto(text, this.#u8().subarray(ptr, ptr + text.length));
    if (read < text.length) {
      this.#x.sy_free(ptr);
      return this.#withBytes(enc.encode(text), fn);
    }
    try {
      return fn(ptr, written);
    } finally {
      this.#x.sy_free(ptr);
    }
  }

  /**
   * Creates the router; throws an Error naming the bad key when the config is rejected.
   * @param {string} configJson
   * @param {bigint} seed
   */
  createRouter(configJson, seed) {
    const lo = Number(seed & 0xffffffffn) | 0;
    const hi = Number((seed >> 32n) & 0xffffffffn) | 0;
    if (this.#router) throw new Error('switchyard core: this instance already holds a router');
    const r = this.#ask('createRouter', () => this.#withText(configJson, (p, n) => this.#x.sy_router_new(p, n, lo, hi)));
    if (r === 0) throw new RangeError('switchyard core: out of memory creating the router');
    const errPtr = this.#x.sy_router_error(r);
    if (errPtr !== 0) {
      const message = this.#cstr(errPtr);
      this.#x.sy_router_free(r);
      throw new Error(`invalid config: ${message}`);
    }
    this.#router = r;
  }

  /** @param {string} body the client's JSON body; returns the request id. */
  begin(body) {
    const id = this.#ask('begin', () => this.#withText(body, (p, n) => this.#x.sy_request_begin(this.#router, p, n)));
    if (id < 0) throw new RangeError('switchyard core: out of memory');
    return id;
  }

  /** @param {string} body an embeddings body; returns the request id. */
  beginEmbeddings(body) {
    const id = this.#ask('beginEmbeddings', () => this.#withText(body, (p, n) => this.#x.sy_request_embeddings(this.#router, p, n)));
    if (id < 0) throw new RangeError('switchyard core: out of memory');
    return id;
  }

  cancel(id) { this.#report(() => this.#x.sy_request_cancel(this.#router, id)); }

  /** @param {string} headers "name:value\n" lines, names lower-case */
  onResponse(attempt, status, headers) {
    this.#report(() => this.#withText(headers, (p, n) => this.#x.sy_on_response(this.#router, attempt, status, p, n)));
  }

  /** @param {Uint8Array} chunk */
  onBody(attempt, chunk) {
    if (this.busy) chunk = chunk.slice(); // a queued call must not see the caller reuse its buffer
    this.#report(() => this.#withBytes(chunk, (p, n) => this.#x.sy_on_body(this.#router, attempt, p, n)));
  }

  onEnd(attempt) { this.#report(() => this.#x.sy_on_end(this.#router, attempt)); }

  onError(attempt, message) {
    this.#report(() => this.#withText(message, (p, n) => this.#x.sy_on_error(this.#router, attempt, p, n)));
  }

  onTimer(timer) { this.#report(() => this.#x.sy_on_timer(this.#router, timer)); }

  /**
   * The host reports every store change the core's own kv calls did not
   * make (storeChanged); the core may then answer reads from its copy.
   */
  watchStore() { this.#report(() => this.#x.sy_store_watched(this.#router)); }

  /** @param {string | null} key changed in the store; null: any may have */
  storeChanged(key) {
    this.#report(() => key === null
      ? this.#x.sy_store_changed(this.#router, 0, 0)
      : this.#withText(key, (p, n) => this.#x.sy_store_changed(this.#router, p, n)));
  }

  /**
   * The routing decision alone (a dry run, src/request.h): the id of the
   * deployment a request for |group| would be sent to now, or null.
   * @param {string} group
   */
  route(group) {
    const p = this.#ask('route', () => this.#withText(group + '\0', (ptr) => this.#x.sy_router_route(this.#router, ptr)));
    return p === 0 ? null : this.#cstr(p);
  }

  /** The deployments and their health now, as the core sees them. */
  describe() {
    const p = this.#ask('describe', () => this.#x.sy_router_describe(this.#router));
    if (p === 0) throw new RangeError('switchyard core: out of memory');
    return JSON.parse(this.#cstr(p));
  }

  /** Requests begun and not yet delivered. */
  inflight() { return this.#router ? this.#x.sy_router_inflight(this.#router) : 0; }

  /** Live bytes of the core's heap. */
  heapBytes() { return this.#x.sy_heap_bytes() >>> 0; }

  /** Frees the router; requests in flight are abandoned without delivery. */
  free() {
    const release = () => {
      const r = this.#router;
      this.#router = 0;
      this.#queued.length = 0; // reports for a freed router mean nothing
      if (r) this.#x.sy_router_free(r);
    };
    if (this.#depth > 0) this.#queued.push(release);
    else this.#enter(release);
  }
}
