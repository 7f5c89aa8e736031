// Prometheus metrics fed by the core's events, the single source of truth
// about routing: nothing here observes HTTP or upstreams directly.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const esc = (v) => String(v ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labels = (o) => `{${Object.entries(o).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}`;

export class Metrics {
  #counters = new Map(); // name -> Map(labelText -> value)
  #hist = new Map(); // metric name -> Map(labelText -> {buckets[], sum, count})
  #groupOf = new Map(); // request id -> the model group it asked for

  #inc(name, l, by = 1) {
    if (!this.#counters.has(name)) this.#counters.set(name, new Map());
    const m = this.#counters.get(name);
    const key = labels(l);
    m.set(key, (m.get(key) ?? 0) + by);
  }

  #observe(name, l, seconds) {
    if (!this.#hist.has(name)) this.#hist.set(name, new Map());
    const m = this.#hist.get(name);
    const key = labels(l);
    let h = m.get(key);
    if (!h) m.set(key, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => { if (seconds <= b) h.buckets[i]++; });
    h.sum += seconds;
    h.count++;
  }

  /** Feeds one core event. */
  observe(ev) {
    switch (ev.type) {
      case 'attempt_start':
        if (!this.#groupOf.has(ev.req)) this.#groupOf.set(ev.req, ev.group);
        break;
      case 'first_token':
        this.#observe('switchyard_time_to_first_token_seconds', { model_group: ev.group, deployment: ev.deployment }, ev.latency_ms / 1000);
        break;
      case 'attempt_end':
        this.#inc('switchyard_upstream_attempts_total', { deployment: ev.deployment, class: ev.class });
        break;
      case 'backoff':
        this.#inc('switchyard_backoffs_total', { reason: ev.reason });
        break;
      case 'cooldown':
        this.#inc('switchyard_cooldowns_total', { model_group: ev.group, deployment: ev.deployment, reason: ev.reason });
        break;
      case 'fallback':
        this.#inc('switchyard_fallbacks_total', { from: ev.from, to: ev.to, reason: ev.reason });
        break;
      case 'deliver': {
        const group = this.#groupOf.get(ev.req) ?? '';
        this.#groupOf.delete(ev.req);
        this.#inc('switchyard_requests_total', { model_group: group, status: ev.status, class: ev.class ?? 'ok' });
        if (ev.attempts > 1) this.#inc('switchyard_retries_total', { model_group: group }, ev.attempts - 1 - ev.fallbacks);
        this.#observe('switchyard_request_duration_seconds', { model_group: group }, ev.latency_ms / 1000);
        if (ev.cost > 0) this.#inc('switchyard_response_cost_total', { model_group: group, deployment: ev.deployment }, ev.cost);
        break;
      }
    }
  }

  /** The Prometheus text exposition. */
  render() {
    const out = [];
    const help = {
      switchyard_requests_total: 'Requests answered, by model group asked for, status and failure class.',
      switchyard_upstream_attempts_total: 'Upstream attempts, by deployment and outcome class.',
      switchyard_retries_total: 'Retries within groups (attempts beyond the first that were not fallback hops).',
      switchyard_backoffs_total: 'Waits before a retry, by the failure class that caused them.',
      switchyard_cooldowns_total: 'Deployments cooled down, by reason.',
      switchyard_fallbacks_total: 'Fallback hops, by from/to group and reason.',
      switchyard_response_cost_total: 'Cost of the answers (usage times the deployment\'s per-token prices), by group and deployment.',
    };
    for (const [name, text] of Object.entries(help)) {
      out.push(`# HELP ${name} ${text}`, `# TYPE ${name} counter`);
      for (const [l, v] of this.#counters.get(name) ?? []) out.push(`${name}${l} ${v}`);
    }
    const histograms = {
      switchyard_request_duration_seconds: 'Time from request to answer, retries and fallbacks included.',
      switchyard_time_to_first_token_seconds: 'Streams: from the committed attempt\'s start to its first content token.',
    };
    for (const [name, text] of Object.entries(histograms)) {
      out.push(`# HELP ${name} ${text}`, `# TYPE ${name} histogram`);
      for (const [l, h] of this.#hist.get(name) ?? []) {
        const inner = l.slice(1, -1);
        BUCKETS.forEach((b, i) => out.push(`${name}_bucket{${inner},le="${b}"} ${h.buckets[i]}`));
        out.push(`${name}_bucket{${inner},le="+Inf"} ${h.count}`);
        out.push(`${name}_sum${l} ${h.sum}`);
        out.push(`${name}_count${l} ${h.count}`);
      }
    }
    return out.join('\n') + '\n';
  }
}
