// Prometheus metrics fed by the core's events, the single source of truth
// about routing: nothing here observes HTTP or upstreams directly.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const esc = (v) => String(v ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/**
 * One metric's series. A series is made, with its label text, the first
 * time its label values are seen, and found again through nested Maps keyed
 * by the raw values: no label text is built per event. Values that escape to
 * the same text (200 and "200", undefined and "") share one series.
 */
class Family {
  #names;
  #make;
  #root = new Map();
  #byText = new Map();
  /** @type {Array<{ labels: string }>} in the order first seen */
  series = [];

  /** @param {string[]} names 1 to 3 label names @param {(labels: string) => { labels: string }} make */
  constructor(names, make) {
    this.#names = names;
    this.#make = make;
  }

  /** The series of the label values (one per name, in order). */
  at(a, b, c) {
    const n = this.#names.length;
    let m = this.#root, k = a;
    if (n > 1) { m = child(m, a); k = b; }
    if (n > 2) { m = child(m, b); k = c; }
    let s = m.get(k);
    if (!s) {
      const v = [a, b, c];
      const text = `{${this.#names.map((name, i) => `${name}="${esc(v[i])}"`).join(',')}}`;
      s = this.#byText.get(text);
      if (!s) {
        s = this.#make(text);
        this.#byText.set(text, s);
        this.series.push(s);
      }
      m.set(k, s);
    }
    return s;
  }
}

function child(m, k) {
  let c = m.get(k);
  if (!c) m.set(k, (c = new Map()));
  return c;
}

const counter = (names) => new Family(names, (labels) => ({ labels, value: 0 }));
const histogram = (names) => new Family(names, (labels) => ({ labels, buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));

function sample(h, seconds) {
  for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.buckets[i]++;
  h.sum += seconds;
  h.count++;
}

export class Metrics {
  #counters = {
    switchyard_requests_total: counter(['model_group', 'status', 'class']),
    switchyard_upstream_attempts_total: counter(['deployment', 'class']),
    switchyard_retries_total: counter(['model_group']),
    switchyard_backoffs_total: counter(['reason']),
    switchyard_cooldowns_total: counter(['model_group', 'deployment', 'reason']),
    switchyard_fallbacks_total: counter(['from', 'to', 'reason']),
    switchyard_response_cost_total: counter(['model_group', 'deployment']),
  };
  #hist = {
    switchyard_request_duration_seconds: histogram(['model_group']),
    switchyard_time_to_first_token_seconds: histogram(['model_group', 'deployment']),
  };
  #groupOf = new Map(); // request id -> the model group it asked for

  /** Feeds one core event. */
  observe(ev) {
    const c = this.#counters;
    switch (ev.type) {
      case 'attempt_start':
        if (!this.#groupOf.has(ev.req)) this.#groupOf.set(ev.req, ev.group);
        break;
      case 'first_token':
        sample(this.#hist.switchyard_time_to_first_token_seconds.at(ev.group, ev.deployment), ev.latency_ms / 1000);
        break;
      case 'attempt_end':
        c.switchyard_upstream_attempts_total.at(ev.deployment, ev.class).value++;
        break;
      case 'backoff':
        c.switchyard_backoffs_total.at(ev.reason).value++;
        break;
      case 'cooldown':
        c.switchyard_cooldowns_total.at(ev.group, ev.deployment, ev.reason).value++;
        break;
      case 'fallback':
        c.switchyard_fallbacks_total.at(ev.from, ev.to, ev.reason).value++;
        break;
      case 'deliver': {
        const group = this.#groupOf.get(ev.req) ?? '';
        this.#groupOf.delete(ev.req);
        c.switchyard_requests_total.at(group, ev.status, ev.class ?? 'ok').value++;
        if (ev.attempts > 1) c.switchyard_retries_total.at(group).value += ev.attempts - 1 - ev.fallbacks;
        sample(this.#hist.switchyard_request_duration_seconds.at(group), ev.latency_ms / 1000);
        if (ev.cost > 0) c.switchyard_response_cost_total.at(group, ev.deployment).value += ev.cost;
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
      for (const { labels: l, value } of this.#counters[name].series) out.push(`${name}${l} ${value}`);
    }
    const histograms = {
      switchyard_request_duration_seconds: 'Time from request to answer, retries and fallbacks included.',
      switchyard_time_to_first_token_seconds: 'Streams: from the committed attempt\'s start to its first content token.',
    };
    for (const [name, text] of Object.entries(histograms)) {
      out.push(`# HELP ${name} ${text}`, `# TYPE ${name} histogram`);
      for (const h of this.#hist[name].series) {
        const l = h.labels;
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
