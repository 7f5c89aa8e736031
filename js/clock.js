// Clocks: the system's, and a manual one for tests and simulations, whose
// time moves only when told, so nothing sleeps on the real clock.

/** @typedef {{ now(): number, setTimeout(fn: () => void, ms: number): any, clearTimeout(handle: any): void }} Clock */

/** @type {Clock} */
export const systemClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};

/** Yields to queued promise jobs and I/O callbacks, so async work due "now" runs. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

export class ManualClock {
  #now;
  #seq = 0;
  /** @type {Map<number, {due: number, seq: number, fn: () => void}>} */
  #timers = new Map();

  constructor(start = 0) { this.#now = start; }

  now() { return this.#now; }

  setTimeout(fn, ms) {
    const id = ++this.#seq;
    this.#timers.set(id, { due: this.#now + Math.max(0, ms), seq: id, fn });
    return id;
  }

  clearTimeout(id) { this.#timers.delete(id); }

  /** Timers not yet fired. */
  get pending() { return this.#timers.size; }

  #next(until) {
    let best;
    for (const [id, t] of this.#timers)
      if (t.due <= until && (!best || t.due < best[1].due || (t.due === best[1].due && t.seq < best[1].seq)))
        best = [id, t];
    return best;
  }

  /** Fires timers due by |until| in (time, start order), letting async work settle after each. */
  async #fireUntil(until) {
    await settle();
    for (let next = this.#next(until); next; next = this.#next(until)) {
      this.#timers.delete(next[0]);
      this.#now = Math.max(this.#now, next[1].due);
      next[1].fn();
      await settle();
    }
  }

  /** Moves time forward by |ms|, firing what falls due on the way. */
  async advance(ms) {
    const until = this.#now + ms;
    await this.#fireUntil(until);
    this.#now = until;
  }

  /** Fires everything, up to |limitMs| ahead; time stops at the last timer fired. */
  async runAll(limitMs = 3_600_000) {
    await this.#fireUntil(this.#now + limitMs);
  }
}
