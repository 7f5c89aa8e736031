// A store shared by a fleet, seen by the core through a local view.
//
// The core's kv_* imports are synchronous, and a request's hot path must
// never wait on the network, so every get is answered from local memory and
// every write applies locally at once. Writes are then pushed to a backend
// (Redis, a Durable Object) in batches: one batch in flight at a time, the
// next made of whatever was written meanwhile, coalesced per key. Writes by
// other instances arrive through applyRemote (pub/sub, or the answer to a
// push). What it costs: one push per burst of writes, never per read.
//
// Semantics, per kind of key the core writes (src/health.h):
// - put (cooldown deadlines): last write wins, in the fleet as locally. The
//   core itself only ever extends a cooldown it can see, and remote
//   cooldowns are seen within a push's round trip, so two instances cooling
//   the same deployment at once differ by milliseconds at most.
// - add (failure windows, usage counters): the backend sums every
//   instance's deltas; the TTL is set when the counter is created and not
//   renewed (a fixed window). The local value is the fleet's last known sum
//   plus this instance's deltas not yet confirmed, so a limit counts the
//   whole fleet and never forgets local traffic while a push is in flight.
//
// When the backend is unreachable, requests go on against the local view;
// the outbox keeps at most maxPending keys (the oldest are dropped and
// counted), so memory stays bounded however long the outage; on reconnect
// the outbox is pushed and the backend's state is read back in.
import { MemoryStore } from './memory.js';

/**
 * @typedef {{ kind: 'put', key: string, value: string, expiresAt: number } |
 *   { kind: 'add', key: string, delta: number, ttlMs: number }} Change
 *   expiresAt: absolute ms on this instance's clock, 0 = never.
 * @typedef {{ key: string, value: string, ttlMs: number, counter?: boolean }} RemoteEntry
 *   ttlMs: what is left of its life, <= 0 = never expires; counter: a sum
 *   kept by kv_add, whose value is the fleet's total.
 * @typedef {{ kind: 'put', key: string, value: string, ttlMs: number } |
 *   { kind: 'add', key: string, delta: number, ttlMs: number }} BackendChange
 *   what a push carries; a put's ttlMs is what is left of its life, 0 = never.
 * @typedef {{
 *   push(changes: BackendChange[]): Promise<{ totals?: Map<string, {value: number, ttlMs: number}>, remote?: RemoteEntry[] } | void>,
 * }} Backend
 *   push: applies the changes in the shared store, resolving with each
 *   counter's new fleet total (and any remote entries it learnt of); it
 *   rejects when the store cannot be reached.
 */

export class SharedStore {
  #view;
  #clock;
  /** @type {Backend | null} */
  #backend = null;
  /** @type {Map<string, Change>} written locally, not yet pushed; Map order = age */
  #outbox = new Map();
  /** @type {Map<string, number>} counter deltas pushed or queued but not yet confirmed */
  #unconfirmed = new Map();
  #maxPending;
  #pushing = null;
  #scheduled = false;
  #urgent = false;
  #counterTimer = null;
  #counterDelayMs;
  #online = true;
  #autoPush;
  #idle = [];
  stats = { pushes: 0, pushedChanges: 0, failedPushes: 0, dropped: 0, remoteApplied: 0 };

  /**
   * @param {{ clock?: {now(): number}, maxEntries?: number, maxPending?: number, autoPush?: boolean,
   *   counterDelayMs?: number }} [options]
   *   maxEntries bounds the local view, maxPending the writes kept while the
   *   backend is away. A put (a cooldown) is pushed right after the entry
   *   point that wrote it; counters alone wait up to counterDelayMs, so that
   *   under load one push carries many requests' usage (at most about
   *   1000 / counterDelayMs pushes a second) while a cooldown still crosses
   *   the fleet in one round trip. autoPush false: nothing is pushed but by sync(), for a
   *   host whose I/O must run inside a given request's lifetime (a Worker's
   *   waitUntil); a push started from another context could hang forever.
   */
  constructor({ clock = { now: () => Date.now() }, maxEntries = 100_000, maxPending = 10_000, autoPush = true,
    counterDelayMs = 10 } = {}) {
    this.#clock = clock;
    this.#counterDelayMs = counterDelayMs;
    this.#view = new MemoryStore({ clock, maxEntries });
    this.#maxPending = maxPending;
    this.#autoPush = autoPush;
  }

  /** Attaches the backend writes go to; what was written before it is pushed now. */
  attach(backend) {
    this.#backend = backend;
    this.#schedule();
  }

  get(key) { return this.#view.get(key); }

  /**
   * Every change of the local view, local or remote, as MemoryStore.watch
   * reports it: a Router watching this store keeps a copy of what it reads.
   * @param {(key: string | null) => void} listener
   */
  watch(listener) { return this.#view.watch(listener); }

  put(key, value, ttlMs) {
    this.#view.put(key, value, ttlMs);
    this.#urgent = true;
    this.#queue({ kind: 'put', key, value, expiresAt: ttlMs > 0 ? this.#clock.now() + ttlMs : 0 });
  }

  add(key, delta, ttlMs) {
    const sum = this.#view.add(key, delta, ttlMs);
    const prior = this.#outbox.get(key);
    this.#unconfirmed.set(key, (this.#unconfirmed.get(key) ?? 0) + delta);
    if (prior?.kind === 'add') prior.delta += delta;
    else this.#queue({ kind: 'add', key, delta, ttlMs });
    return sum;
  }

  /** Entries in the local view. */
  get size() { return this.#view.size; }

  /** Writes waiting for the backend. */
  get pending() { return this.#outbox.size; }

  /** Whether the last push reached the backend. */
  get online() { return this.#online; }

  /** For /health: reachability, what waits, and the push counts. */
  status() {
    return { kind: 'shared', online: this.#online, entries: this.size, pending: this.pending, ...this.stats };
  }

  /**
   * Entries another instance wrote (or the backend's state read back after a
   * reconnect). A key with a local write still queued keeps the local value:
   * that write is newer and will reach the backend after this one.
   * @param {RemoteEntry[]} entries
   */
  applyRemote(entries) {
    for (const e of entries) {
      if (e.counter) {
        this.#settleCounter(e.key, Number(e.value), e.ttlMs);
      } else if (this.#outbox.get(e.key)?.kind !== 'put') {
        this.#view.put(e.key, e.value, e.ttlMs > 0 ? e.ttlMs : 0);
      }
      this.stats.remoteApplied++;
    }
  }

  /** Resolves when every write made so far has been pushed, or a push failed (offline: at once). */
  flushed() {
    if (!this.#pushing && (this.#outbox.size === 0 || !this.#backend || !this.#online)) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /**
   * Pushes now what is queued (even nothing, for a backend whose answer
   * carries remote entries: a poll). Resolves once the push is over.
   */
  async sync() {
    if (this.#pushing) await this.#pushing;
    await this.#push(true);
  }

  /** The backend is reachable again: push what waited for it. */
  reconnected() {
    this.#online = true;
    this.#schedule();
  }

  /** The fleet's total for a counter is |total|: this instance's unconfirmed deltas go on top. */
  #settleCounter(key, total, ttlMs) {
    const local = Number(this.#view.get(key) ?? 0);
    const unconfirmed = this.#unconfirmed.get(key) ?? 0;
    const confirmed = Math.max(total, local - unconfirmed);
    this.#view.put(key, String(confirmed + unconfirmed), ttlMs > 0 ? ttlMs : 0);
  }

  #queue(change) {
    this.#outbox.delete(change.key); // re-insert: Map order stays age order
    this.#outbox.set(change.key, change);
    this.#trim();
    this.#schedule();
  }

  /**
   * Pushes after the current task (the writes of one entry point go in one
   * batch), or after counterDelayMs when only counters wait.
   */
  #schedule() {
    if (!this.#autoPush || this.#scheduled || this.#pushing || !this.#backend || !this.#online) return;
    if (!this.#urgent && this.#counterDelayMs > 0) {
      if (this.#counterTimer) return;
      this.#counterTimer = setTimeout(() => {
        this.#counterTimer = null;
        this.#push(false);
      }, this.#counterDelayMs);
      this.#counterTimer.unref?.(); // a process may exit with counters unpushed: they are a minute's usage
      return;
    }
    clearTimeout(this.#counterTimer);
    this.#counterTimer = null;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#push(false);
    });
  }

  async #push(evenEmpty) {
    if (this.#pushing || !this.#backend || (!evenEmpty && this.#outbox.size === 0)) {
      if (!this.#pushing) this.#wakeIdle();
      return;
    }
    const batch = [...this.#outbox.values()];
    this.#outbox.clear();
    this.#urgent = false;
    const now = this.#clock.now();
    const live = batch.filter((c) => c.kind === 'add' || !c.expiresAt || c.expiresAt > now);
    /** @type {BackendChange[]} */
    const changes = live.map((c) => (c.kind === 'add' ? c
      : { kind: 'put', key: c.key, value: c.value, ttlMs: c.expiresAt ? Math.max(1, Math.round(c.expiresAt - now)) : 0 }));
    let done;
    this.#pushing = new Promise((resolve) => (done = resolve));
    try {
      const answer = await this.#backend.push(changes);
      this.#online = true;
      this.stats.pushes++;
      this.stats.pushedChanges += changes.length;
      for (const c of live) if (c.kind === 'add') this.#confirm(c.key, c.delta, answer?.totals?.get(c.key));
      if (answer?.remote) this.applyRemote(answer.remote);
    } catch {
      this.#online = false;
      this.stats.failedPushes++;
      this.#requeue(live);
    } finally {
      this.#pushing = null;
      done();
    }
    if (this.#autoPush && this.#online && this.#outbox.size) this.#schedule();
    else this.#wakeIdle();
  }

  #confirm(key, delta, total) {
    const left = (this.#unconfirmed.get(key) ?? 0) - delta;
    if (left) this.#unconfirmed.set(key, left);
    else this.#unconfirmed.delete(key);
    if (total) this.#settleCounter(key, total.value, total.ttlMs);
  }

  /** A batch that did not get through goes back under what was written since. */
  #requeue(batch) {
    const newer = this.#outbox;
    this.#outbox = new Map();
    for (const c of batch) this.#outbox.set(c.key, c);
    if (batch.some((c) => c.kind === 'put')) this.#urgent = true;
    for (const [key, c] of newer) {
      const old = this.#outbox.get(key);
      if (c.kind === 'add' && old?.kind === 'add') old.delta += c.delta;
      else this.#outbox.set(key, c);
    }
    this.#trim();
  }

  /** Drops the oldest queued writes past maxPending: an outage costs bounded memory. */
  #trim() {
    while (this.#outbox.size > this.#maxPending) {
      const oldest = this.#outbox.keys().next().value;
      this.#outbox.delete(oldest);
      this.#unconfirmed.delete(oldest);
      this.stats.dropped++;
    }
  }

  #wakeIdle() {
    const waiters = this.#idle;
    this.#idle = [];
    for (const w of waiters) w();
  }
}
