// Alerts, as the seeds' failure monitor asks: a webhook POST when a
// deployment is cooled down or its failure rate crosses a threshold, at most
// once per deployment per window. Fed by the core's events like the metrics.
//
// router_settings.alerting:
//   webhook_url: http://127.0.0.1:9000/hook   where to POST (JSON)
//   window: 300           seconds; also the failure-rate window (default 300)
//   failure_rate: 0.5     share of failed attempts that alerts (default 0.5)
//   min_requests: 10      attempts in the window before the rate counts (default 10)

export class Alerts {
  #url;
  #windowMs;
  #rate;
  #min;
  #post;
  #log;
  #now;
  /** @type {Map<string, {start: number, total: number, failed: number, alertedAt: number}>} */
  #stats = new Map();

  /**
   * @param {{webhook_url: string, window?: number, failure_rate?: number, min_requests?: number}} settings
   * @param {{fetch?: typeof fetch, log?: (line: string) => void, now?: () => number}} [options]
   */
  constructor(settings, { fetch: f = globalThis.fetch, log = () => {}, now = Date.now } = {}) {
    if (!settings?.webhook_url || typeof settings.webhook_url !== 'string')
      throw new Error('invalid config: router_settings.alerting.webhook_url: expected a URL');
    this.#url = settings.webhook_url;
    this.#windowMs = (settings.window ?? 300) * 1000;
    this.#rate = settings.failure_rate ?? 0.5;
    this.#min = settings.min_requests ?? 10;
    this.#post = f;
    this.#log = log;
    this.#now = now;
  }

  #state(id, now) {
    let s = this.#stats.get(id);
    if (!s || now - s.start >= this.#windowMs) {
      s = { start: now, total: 0, failed: 0, alertedAt: s?.alertedAt ?? -Infinity };
      this.#stats.set(id, s);
    }
    return s;
  }

  /** Feeds one core event; may send one alert. */
  observe(ev) {
    const now = this.#now();
    if (ev.type === 'cooldown') {
      this.#send(ev.deployment, now, { alert: 'cooldown', deployment: ev.deployment, model_group: ev.group,
        reason: ev.reason, cooling_until: new Date(ev.until).toISOString() });
    } else if (ev.type === 'attempt_end') {
      const s = this.#state(ev.deployment, now);
      s.total++;
      if (ev.class !== 'ok') s.failed++;
      if (s.total >= this.#min && s.failed / s.total >= this.#rate)
        this.#send(ev.deployment, now, { alert: 'failure_rate', deployment: ev.deployment,
          failure_rate: Number((s.failed / s.total).toFixed(3)), attempts: s.total, window_s: this.#windowMs / 1000 });
    }
  }

  #send(id, now, body) {
    const s = this.#state(id, now);
    if (now - s.alertedAt < this.#windowMs) return; // once per deployment per window
    s.alertedAt = now;
    this.#post(this.#url, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: 'switchyard', time: new Date(now).toISOString(), ...body }) })
      .then((r) => r.body?.cancel())
      .catch((err) => this.#log(JSON.stringify({ level: 'warn', msg: 'alert webhook failed', error: String(err?.message ?? err) })));
  }
}
