// The live picture of a Router, built from the core's events alone: recent
// requests with their routes (attempts, backoffs, fallbacks, cooldowns, the
// deployment that answered), each deployment's rolling stats (attempt rate,
// latency, error rate) and running counts, merged with router.health()
// snapshots for cooldown deadlines. Runs unchanged in a browser page (the
// demo, the dashboard) and in Node (the gateway's /ui keeps one to hand a
// newly connected page the recent past). Everything it holds is bounded: a
// ring of the last |maxRequests| requests and, per deployment, a fixed
// window of one-second buckets and a ring of recent latencies; deployments
// are the config's.

const LATENCIES = 64; // recent attempt latencies kept per deployment, for p50/p95

/**
 * @typedef {{ kind: 'attempt', n: number, attempt: number, group: string, deployment: string,
 *   status?: number, class?: string, latency_ms?: number, done: boolean, t: number }
 *   | { kind: 'backoff', ms: number, retry: number, reason: string, t: number }
 *   | { kind: 'fallback', from: string, to: string, reason: string, t: number }
 *   | { kind: 'cooldown', deployment: string, reason: string, until: number, t: number }
 *   | { kind: 'eject', deployment: string, reason: string, until: number, times: number, t: number }
 *   | { kind: 'hedge', deployment: string, after: string, ms: number, t: number }
 *   | { kind: 'denied', reason: string, t: number }} Step
 * @typedef {{ id: number, t: number, group: string | null, asked: string | null,
 *   state: 'pending' | 'ok' | 'error', status?: number, class?: string, deployment?: string | null,
 *   attempts?: number, fallbacks?: number, latency_ms?: number, steps: Step[], v: number }} RequestRecord
 */

export class Tracker {
  /** @type {RequestRecord[]} oldest first */
  requests = [];
  /** @type {Map<number, RequestRecord>} */
  #byId = new Map();
  /** @type {Map<string, any>} */
  deployments = new Map();
  counts = { requests: 0, ok: 0, failed: 0, attempts: 0, retries: 0, fallbacks: 0, cooldowns: 0, ejections: 0, hedges: 0 };
  /** Bumped on every change: a view redraws only when it moved. */
  version = 0;
  #maxRequests;
  #windowS;
  #now;
  #asked = null;

  /**
   * @param {{ maxRequests?: number, windowMs?: number, now?: () => number }} [options]
   *   windowMs: the span of the rolling stats (default 60 s, whole seconds)
   */
  constructor({ maxRequests = 50, windowMs = 60_000, now = () => Date.now() } = {}) {
    this.#maxRequests = maxRequests;
    this.#windowS = Math.max(1, Math.round(windowMs / 1000));
    this.#now = now;
  }

  get windowMs() { return this.#windowS * 1000; }

  /**
   * The model the next request event asks for. A host that knows it (the
   * demo page) says so just before calling completion(); the core's request
   * event carries only the id, and a request refused before any attempt
   * would otherwise show no group.
   */
  asking(model) { this.#asked = model ?? null; }

  /** A deployment's record, created on first sight. */
  deployment(id, group = null, model = null) {
    let d = this.deployments.get(id);
    if (!d) {
      d = {
        id, group, model, cooling_until: 0, reason: null, failures: 0, rpm: 0, tpm: 0, inflight: 0,
        breaker: null, ejected_until: 0,
        active: 0, // attempts in flight seen in the events
        buckets: Array.from({ length: this.#windowS }, () => ({ s: -1, attempts: 0, errors: 0, latency: 0 })),
        latencies: [], // ring of the last LATENCIES latencies (ms)
        latAt: 0,
        last: null, // { status, class, t } of the last attempt that ended
      };
      this.deployments.set(id, d);
    }
    if (group && !d.group) d.group = group;
    if (model && !d.model) d.model = model;
    return d;
  }

  /** router.health() entries (or the gateway's copy of them). */
  setHealth(list) {
    for (const h of list ?? []) {
      const d = this.deployment(h.id, h.model_group, h.model);
      d.group = h.model_group ?? d.group;
      d.cooling_until = h.cooling_until ?? 0;
      d.reason = h.reason ?? null;
      d.failures = h.failures ?? 0;
      d.rpm = h.rpm ?? 0;
      d.tpm = h.tpm ?? 0;
      d.inflight = h.inflight ?? 0;
      // The breaker: from its events, and from a health report that
      // carries it (breaker: null, "open" or "half_open"; breaker_until).
      if ('breaker' in h) d.breaker = h.breaker;
      if ('breaker_until' in h) d.ejected_until = h.breaker_until;
    }
    this.version++;
  }

  #bucket(d, t) {
    const s = Math.floor(t / 1000);
    const b = d.buckets[s % this.#windowS];
    if (b.s !== s) {
      b.s = s;
      b.attempts = b.errors = b.latency = 0;
    }
    return b;
  }

  #record(id) { return this.#byId.get(id); }

  /** Feeds one core event (as emitted: {t, type, req, ...}). */
  observe(ev) {
    const t = ev.t ?? this.#now();
    switch (ev.type) {
      case 'request': {
        const rec = { id: ev.req, t, group: this.#asked, asked: this.#asked, state: 'pending', steps: [], v: 0 };
        this.#asked = null;
        this.requests.push(rec);
        this.#byId.set(rec.id, rec);
        while (this.requests.length > this.#maxRequests) this.#byId.delete(this.requests.shift().id);
        this.counts.requests++;
        break;
      }
      case 'attempt_start': {
        const d = this.deployment(ev.deployment, ev.group, ev.model);
        d.active++;
        this.counts.attempts++;
        const rec = this.#record(ev.req);
        if (rec) {
          rec.group ??= ev.group;
          rec.steps.push({ kind: 'attempt', n: ev.n, attempt: ev.attempt, group: ev.group, deployment: ev.deployment, done: false, t });
        }
        break;
      }
      case 'attempt_end': {
        const d = this.deployment(ev.deployment);
        d.active = Math.max(0, d.active - 1);
        const b = this.#bucket(d, t);
        b.attempts++;
        const failed = ev.class !== 'ok';
        if (failed) b.errors++;
        if (ev.class !== 'cancelled') {
          b.latency += ev.latency_ms ?? 0;
          d.latencies[d.latAt] = ev.latency_ms ?? 0;
          d.latAt = (d.latAt + 1) % LATENCIES;
        }
        d.last = { status: ev.status, class: ev.class, t };
        const step = this.#record(ev.req)?.steps.findLast((s) => s.kind === 'attempt' && s.attempt === ev.attempt);
        if (step) Object.assign(step, { done: true, status: ev.status, class: ev.class, latency_ms: ev.latency_ms });
        break;
      }
      case 'first_token': {
        const step = this.#record(ev.req)?.steps.findLast((s) => s.kind === 'attempt' && s.attempt === ev.attempt);
        if (step) step.first_token_ms = ev.latency_ms;
        break;
      }
      case 'backoff':
        this.#record(ev.req)?.steps.push({ kind: 'backoff', ms: ev.ms, retry: ev.retry, reason: ev.reason, t });
        break;
      case 'fallback':
        this.counts.fallbacks++;
        this.#record(ev.req)?.steps.push({ kind: 'fallback', from: ev.from, to: ev.to, reason: ev.reason, t });
        break;
      case 'cooldown': {
        const d = this.deployment(ev.deployment, ev.group);
        d.cooling_until = Math.max(d.cooling_until, ev.until ?? 0);
        d.reason = ev.reason ?? d.reason;
        this.counts.cooldowns++;
        this.#record(ev.req)?.steps.push({ kind: 'cooldown', deployment: ev.deployment, reason: ev.reason, until: ev.until, t });
        break;
      }
      case 'breaker_open': {
        // Outlier ejection: out of rotation until |until|, then half-open
        // (probes decide) until breaker_close.
        const d = this.deployment(ev.deployment, ev.group);
        d.breaker = 'open';
        d.ejected_until = ev.until ?? 0;
        d.reason = ev.reason ?? d.reason;
        this.counts.ejections++;
        this.#record(ev.req)?.steps.push({ kind: 'eject', deployment: ev.deployment, reason: ev.reason, until: ev.until, times: ev.times, t });
        break;
      }
      case 'breaker_close': {
        const d = this.deployment(ev.deployment);
        d.breaker = null;
        d.ejected_until = 0;
        break;
      }
      case 'probe': {
        const step = this.#record(ev.req)?.steps.findLast((s) => s.kind === 'attempt' && s.deployment === ev.deployment);
        if (step) step.probe = true;
        break;
      }
      case 'hedge':
        this.counts.hedges++;
        this.#record(ev.req)?.steps.push({ kind: 'hedge', deployment: ev.deployment, after: ev.after, ms: ev.ms, t });
        break;
      case 'retry_denied':
        this.#record(ev.req)?.steps.push({ kind: 'denied', reason: ev.reason, t });
        break;
      case 'deliver': {
        if (ev.status === 200) this.counts.ok++;
        else this.counts.failed++;
        if (ev.attempts > 1) this.counts.retries += Math.max(0, ev.attempts - 1 - (ev.fallbacks ?? 0));
        const rec = this.#record(ev.req);
        if (rec) {
          Object.assign(rec, {
            state: ev.status === 200 ? 'ok' : 'error', status: ev.status, class: ev.class ?? 'ok',
            deployment: ev.deployment ?? null, attempts: ev.attempts, fallbacks: ev.fallbacks, latency_ms: ev.latency_ms,
          });
        }
        break;
      }
      default:
        return; // config_warning and anything newer: not part of the picture
    }
    const rec = ev.req && this.#record(ev.req);
    if (rec) rec.v++;
    this.version++;
  }

  /**
   * A deployment's rolling stats over the window ending at |now|.
   * @returns {{ attempts: number, perMinute: number, errors: number, errorRate: number,
   *   avgMs: number | null, p50: number | null, p95: number | null }}
   */
  stats(id, now = this.#now()) {
    const d = this.deployments.get(id);
    const out = { attempts: 0, perMinute: 0, errors: 0, errorRate: 0, avgMs: null, p50: null, p95: null };
    if (!d) return out;
    const s = Math.floor(now / 1000);
    let latency = 0;
    for (const b of d.buckets) {
      if (b.s < 0 || s - b.s >= this.#windowS || b.s > s) continue;
      out.attempts += b.attempts;
      out.errors += b.errors;
      latency += b.latency;
    }
    out.perMinute = (out.attempts * 60) / this.#windowS;
    out.errorRate = out.attempts ? out.errors / out.attempts : 0;
    if (out.attempts) out.avgMs = latency / out.attempts;
    if (d.latencies.length) {
      const sorted = [...d.latencies].sort((a, b) => a - b);
      const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
      out.p50 = q(0.5);
      out.p95 = q(0.95);
    }
    return out;
  }

  /** The state of one deployment at |now|: cooling, ejected (its breaker open), half-open (probes decide) or healthy. */
  stateOf(id, now = this.#now()) {
    const d = this.deployments.get(id);
    if (!d) return { state: 'unknown' };
    // In /health's order: a cooldown first, then the breaker.
    if (d.cooling_until > now) return { state: 'cooling', msLeft: d.cooling_until - now, reason: d.reason };
    if (d.breaker === 'open' && d.ejected_until > now) return { state: 'ejected', msLeft: d.ejected_until - now, reason: d.reason };
    if (d.breaker === 'open' || d.breaker === 'half_open') return { state: 'half-open', reason: d.reason };
    return { state: 'healthy' };
  }

  /** Plain data for a page that connects later (the gateway's /ui/events). */
  snapshot() {
    return {
      requests: this.requests,
      counts: this.counts,
      deployments: [...this.deployments.values()].map(({ id, group, model, cooling_until, reason, failures, rpm, tpm, inflight, breaker, ejected_until, active, buckets, latencies, latAt, last }) => ({
        id, group, model, cooling_until, reason, failures, rpm, tpm, inflight, breaker, ejected_until, active, buckets, latencies, latAt, last,
      })),
    };
  }

  /** Takes over a snapshot() of another tracker (same window). */
  load(snap) {
    this.requests = (snap.requests ?? []).slice(-this.#maxRequests);
    this.#byId = new Map(this.requests.map((r) => [r.id, r]));
    Object.assign(this.counts, snap.counts ?? {});
    for (const s of snap.deployments ?? []) {
      const d = this.deployment(s.id, s.group, s.model);
      Object.assign(d, s);
      if (d.buckets.length !== this.#windowS)
        d.buckets = Array.from({ length: this.#windowS }, () => ({ s: -1, attempts: 0, errors: 0, latency: 0 }));
    }
    this.version++;
  }
}
