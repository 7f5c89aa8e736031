// Shared health for Cloudflare Workers: one Durable Object holds the fleet's
// entries, and each isolate's SharedStore (js/store/shared.js) pushes its
// writes to it and reads the others' back in the same round trip.
//
// Why a Durable Object: it is one single-threaded instance that every
// isolate reaches in milliseconds, so a cooldown set in one is seen by the
// others at their next sync. Workers KV allows one write per second per key
// and takes up to 60 s to propagate: a cooldown of 5 s would be over before
// another isolate saw it, and counters cannot be summed at all.
//
// The object keeps its table in memory, not in its storage: what it holds
// lives seconds to a minute (cooldowns, failure windows, per-minute usage),
// so losing it when the object is evicted after being idle, or moved,
// costs at most one window of shared state, where persisting would cost a
// storage write per push. A new instance has a new epoch, and an isolate
// that knew another epoch reads the whole table again.

/**
 * @typedef {import('./shared.js').RemoteEntry} RemoteEntry
 * @typedef {{ kind: 'put', key: string, value: string, ttlMs: number } |
 *   { kind: 'add', key: string, delta: number, ttlMs: number }} Change what a push carries
 * @typedef {{ epoch: string, version: number, totals: Record<string, {value: number, ttlMs: number}>,
 *   remote: RemoteEntry[] }} SyncAnswer
 */

/** A push that takes longer than this is counted as failed: its writes are queued again. */
const PUSH_TIMEOUT_MS = 5_000;

/**
 * The isolate's side: a SharedStore Backend whose push is one fetch to the
 * Durable Object, carrying the batch and the version this isolate last saw,
 * and whose answer carries every entry changed since (so a push is a poll).
 *
 * The stub is made anew by |stub| at each push: workerd ties I/O objects to
 * the request that made them, and a push runs inside the waitUntil of the
 * request that asked for it.
 */
export class DurableObjectBackend {
  #stub;
  #epoch = '';
  #since = 0;

  /** @param {() => { fetch(url: string, init: RequestInit): Promise<Response> }} stub */
  constructor(stub) { this.#stub = stub; }

  /** @param {Change[]} changes */
  async push(changes) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error('switchyard: state object did not answer in time')), PUSH_TIMEOUT_MS);
    });
    try {
      const res = await Promise.race([timeout, this.#stub().fetch('https://switchyard-state/sync', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ epoch: this.#epoch, since: this.#since, changes }),
      })]);
      if (!res.ok) throw new Error(`switchyard: state object answered ${res.status}`);
      /** @type {SyncAnswer} */
      const answer = await res.json();
      this.#epoch = answer.epoch;
      this.#since = answer.version;
      return { totals: new Map(Object.entries(answer.totals)), remote: answer.remote };
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * The Durable Object: the fleet's table. Puts: last write wins, with their
 * expiry. Adds: summed, the TTL set when the counter is created and not
 * renewed (a fixed window), as MemoryStore does locally. Each change gets
 * the next version number, so "what changed since v" is one scan.
 *
 * Users re-export this class from their Worker's main module and bind it
 * (wrangler.toml: durable_objects.bindings, name SWITCHYARD_STATE by default).
 */
export class SwitchyardState {
  /** @type {Map<string, { value: string, expiresAt: number, counter: boolean, version: number }>} */
  #table = new Map();
  #version = 0;
  #epoch = crypto.randomUUID();
  #maxEntries;

  /** @param {unknown} [state] @param {unknown} [env] @param {{ maxEntries?: number }} [options] */
  constructor(state, env, { maxEntries = 100_000 } = {}) {
    this.#maxEntries = maxEntries;
  }

  /** @param {Request} request a POST of {epoch, since, changes} */
  async fetch(request) {
    if (request.method !== 'POST') return new Response('switchyard state: POST a sync', { status: 405 });
    let msg;
    try {
      msg = await request.json();
    } catch {
      return new Response('switchyard state: not JSON', { status: 400 });
    }
    if (!Array.isArray(msg?.changes)) return new Response('switchyard state: no changes', { status: 400 });
    const since = msg.epoch === this.#epoch ? Number(msg.since) || 0 : 0;
    return Response.json(this.sync(msg.changes, since, Date.now()));
  }

  /**
   * Applies |changes| at time |now|, then answers the counters' totals and
   * every live entry changed after version |since| that the batch did not
   * write itself. Expired entries are dropped on the way, so the table holds
   * live entries only (and at most maxEntries, the oldest going first).
   * @param {Change[]} changes @param {number} since @param {number} now
   * @returns {SyncAnswer}
   */
  sync(changes, since, now) {
    /** @type {SyncAnswer['totals']} */
    const totals = {};
    const written = new Set();
    for (const c of changes) {
      written.add(c.key);
      const ttl = Number(c.ttlMs) > 0 ? Number(c.ttlMs) : 0;
      const old = this.#table.get(c.key);
      const live = old && (!old.expiresAt || old.expiresAt > now) ? old : null;
      if (c.kind === 'add') {
        const value = (live?.counter ? Number(live.value) : 0) + Number(c.delta);
        const expiresAt = live?.counter ? live.expiresAt : ttl ? now + ttl : 0;
        this.#set(c.key, String(value), expiresAt, true);
        totals[c.key] = { value, ttlMs: expiresAt ? expiresAt - now : 0 };
      } else {
        this.#set(c.key, String(c.value), ttl ? now + ttl : 0, false);
      }
    }
    /** @type {RemoteEntry[]} */
    const remote = [];
    for (const [key, e] of this.#table) {
      if (e.expiresAt && e.expiresAt <= now) this.#table.delete(key);
      else if (e.version > since && !written.has(key))
        remote.push({ key, value: e.value, ttlMs: e.expiresAt ? e.expiresAt - now : 0, ...(e.counter ? { counter: true } : {}) });
    }
    return { epoch: this.#epoch, version: this.#version, totals, remote };
  }

  #set(key, value, expiresAt, counter) {
    this.#table.delete(key); // re-insert: Map order is version order, oldest first
    while (this.#table.size >= this.#maxEntries) this.#table.delete(this.#table.keys().next().value);
    this.#table.set(key, { value, expiresAt, counter, version: ++this.#version });
  }
}
