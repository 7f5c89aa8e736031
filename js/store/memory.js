// The default key-value store: one process's memory, with TTLs read off the
// injected clock. The core owns the keys (src/health.h); this stores bytes.

export class MemoryStore {
  /** @type {Map<string, {value: string, expires: number}>} */
  #map = new Map();
  #clock;
  #max;

  /** @param {{clock?: {now(): number}, maxEntries?: number}} [options] */
  constructor({ clock = { now: () => Date.now() }, maxEntries = 100_000 } = {}) {
    this.#clock = clock;
    this.#max = maxEntries;
  }

  /** The live entry for |key|, dropping it when expired. */
  #live(key) {
    const e = this.#map.get(key);
    if (e && e.expires && e.expires <= this.#clock.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return e;
  }

  /** @type {Set<(key: string | null) => void>} */
  #watchers = new Set();

  /** @returns {string | undefined} */
  get(key) { return this.#live(key)?.value; }

  /** @param {number} ttlMs 0 = never expires */
  put(key, value, ttlMs) {
    this.#map.delete(key); // re-insert: Map order is then age order for eviction
    this.#bound();
    this.#map.set(key, { value, expires: ttlMs > 0 ? this.#clock.now() + ttlMs : 0 });
    this.#changed(key);
  }

  /** Adds to a counter; the TTL is set when it is created and not renewed (a fixed window). */
  add(key, delta, ttlMs) {
    const e = this.#live(key);
    const value = (e ? Number(e.value) || 0 : 0) + delta;
    if (!e) {
      this.put(key, String(value), ttlMs);
    } else {
      e.value = String(value);
      this.#changed(key);
    }
    return value;
  }

  /**
   * Calls |listener| with the key of every write (put, add) at once, and with
   * null when entries were evicted to bound memory; expiry is not reported.
   * A Router watching its store keeps a copy of the keys it reads and asks
   * again only after a change (src/health.h). Returns a function that stops it.
   * @param {(key: string | null) => void} listener
   */
  watch(listener) {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  #changed(key) {
    for (const w of this.#watchers) w(key);
  }

  get size() { return this.#map.size; }

  /** Keeps memory bounded: expired entries go first, then the oldest. */
  #bound() {
    if (this.#map.size < this.#max) return;
    const now = this.#clock.now();
    for (const [k, e] of this.#map) if (e.expires && e.expires <= now) this.#map.delete(k);
    if (this.#map.size < this.#max) return;
    while (this.#map.size >= this.#max) this.#map.delete(this.#map.keys().next().value);
    this.#changed(null); // live entries went: a copy of any key may be wrong now
  }
}
