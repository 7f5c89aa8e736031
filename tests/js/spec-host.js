// The spec cases' host on the wasm builds: the JS twin of tests/c/host_sim.c.
// Same virtual clock, same (due time, start order) firing, same scripted
// upstreams, so native and wasm runs of a case give the same event log.
import { Core } from '../../js/core/binding.js';
import { createMockProvider, errorBody } from '../../js/mock/index.js';

// Success bodies come from the mock provider itself, so the spec cases see
// exactly the bytes the mock sends everywhere else.
const mock = createMockProvider({ seed: 1, clock: { now: () => 0, setTimeout: (f) => (f(), 0), clearTimeout() {} } });
const CHAT = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

async function successBody(kind, stream = false) {
  const anthropic = kind === 'anthropic';
  const res = await mock.fetch(`http://mock/spec/${anthropic ? 'v1/messages' : 'v1/chat/completions'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(anthropic ? { 'anthropic-version': '2023-06-01' } : {}) },
    body: JSON.stringify({ ...CHAT, ...(anthropic ? { max_tokens: 16 } : {}), stream }),
  });
  return res.text();
}

/** The wire bytes of one scripted answer. */
/**
 * Takes out of |timers| the one due first by |until| ({due, seq}: ties go
 * to the one started first), as a host's clock fires them; undefined when
 * none is due.
 */
export function takeDue(timers, until) {
  let best = -1;
  timers.forEach((t, i) => {
    if (t.due <= until && (best < 0 || t.due < timers[best].due || (t.due === timers[best].due && t.seq < timers[best].seq))) best = i;
  });
  return best < 0 ? undefined : timers.splice(best, 1)[0];
}

export async function answerBytes(kind, a) {
  const lines = (h) => Object.entries(h).map(([k, v]) => `${k}:${v}\n`).join('');
  if (a.status <= 0) return { status: a.status, latency: a.latency, headers: '', body: '' };
  let contentType = 'application/json';
  let body;
  if (a.status === 200 && a.variant === 'malformed') {
    body = '{"id":"chatcmpl-broken","choices":[{"ind';
  } else if (a.status === 200 && (a.variant === 'stream' || a.variant === 'cut')) {
    body = await successBody(kind, true);
    contentType = 'text/event-stream';
    // cut: the connection drops after the first content event
    if (a.variant === 'cut') body = body.split('\n\n').slice(0, kind === 'anthropic' ? 4 : 2).join('\n\n') + '\n\n';
  } else if (a.status === 200) {
    const doc = JSON.parse(await successBody(kind));
    if (a.variant === 'filter' && kind === 'anthropic') doc.stop_reason = 'refusal';
    else if (a.variant === 'filter') doc.choices[0].finish_reason = 'content_filter';
    body = JSON.stringify(doc);
  } else {
    const variant = { policy: 'filter' }[a.variant] ?? a.variant;
    ({ body, contentType } = errorBody(kind, a.status, { variant, model: 'm' }));
  }
  return { status: a.status, latency: a.latency, headers: lines({ 'content-type': contentType, ...a.headers }), body };
}

/** A parsed case (spec-cases.js) as the JSON both runners take. */
export async function caseInput(c) {
  const upstreams = {};
  for (const [name, u] of Object.entries(c.upstreams)) {
    const answers = [];
    for (const a of u.answers) answers.push(await answerBytes(u.kind, a));
    upstreams[name] = { answers, default: await answerBytes(u.kind, u.default) };
  }
  return { config: c.config, seed: 7, start: 0, limit: 3_600_000, upstreams, steps: c.steps };
}

/**
 * Runs one case on a wasm build. Returns the event lines and a summary in
 * the shape sy_spec prints.
 * @param {WebAssembly.Module} module
 * @param {ReturnType<typeof caseInput>} input
 */
export async function runOnWasm(module, input) {
  let now = input.start, seq = 0;
  const timers = []; // {id, answer?, due, seq}
  const kv = new Map();
  const events = [];
  const deliveries = [];
  const queues = new Map(Object.entries(input.upstreams).map(([n, u]) => [n, { ...u, next: 0 }]));
  let core;
  const schedule = (id, answer, delay) => timers.push({ id, answer, due: now + Math.max(0, delay), seq: seq++ });
  const unschedule = (id, isAnswer) => {
    const i = timers.findIndex((t) => t.id === id && !!t.answer === isAnswer);
    if (i >= 0) timers[i] = timers[timers.length - 1], timers.pop();
  };
  const live = (k) => {
    const e = kv.get(k);
    if (e && e.expires && e.expires <= now) { kv.delete(k); return undefined; }
    return e;
  };
  const host = {
    now: () => now,
    fetchStart(attempt, head) {
      const url = JSON.parse(head).url;
      const name = url.split('://')[1]?.split('/')[1]?.split('?')[0];
      const q = queues.get(name);
      if (!q) return;
      const a = q.next < q.answers.length ? q.answers[q.next++] : q.default;
      if (a.status !== -1) schedule(attempt, a, a.latency);
    },
    fetchAbort: (attempt) => unschedule(attempt, true),
    timerStart: (t, ms) => schedule(t, null, ms),
    timerCancel: (t) => unschedule(t, false),
    deliver: (id, json) => deliveries.push({ id, answer: JSON.parse(json) }),
    chunk: () => {},
    emit: (json) => events.push(json),
    kvGet: (k) => live(k)?.value,
    kvPut: (k, v, ttl) => kv.set(k, { value: v, expires: ttl > 0 ? now + ttl : 0 }),
    kvAdd(k, d, ttl) {
      const e = live(k);
      const v = (e ? Number(e.value) : 0) + d;
      kv.set(k, { value: String(v), expires: e ? e.expires : ttl > 0 ? now + ttl : 0 });
      return v;
    },
  };
  core = await Core.instantiate(module, host);
  try {
    core.createRouter(JSON.stringify(input.config), BigInt(input.seed));
  } catch (err) {
    return { events: [], summary: { config_error: err.message } };
  }
  const fire = (until) => {
    const t = takeDue(timers, until);
    if (!t) return false;
    if (t.due > now) now = t.due;
    if (!t.answer) core.onTimer(t.id);
    else if (t.answer.status === 0) core.onError(t.id, 'connect ECONNREFUSED');
    else {
      core.onResponse(t.id, t.answer.status, t.answer.headers);
      core.onBody(t.id, new TextEncoder().encode(t.answer.body));
      core.onEnd(t.id);
    }
    return true;
  };
  for (const st of input.steps) {
    const at = st.at ?? now;
    if (at > now) { while (fire(at)); now = at; }
    if (st.request) core.begin(typeof st.request === 'string' ? st.request : JSON.stringify(st.request));
    if (st.cancel !== undefined) core.cancel(st.cancel);
  }
  const until = now + input.limit;
  while (fire(until));
  const counts = {}, statuses = {};
  for (const d of deliveries) {
    counts[d.id] = (counts[d.id] ?? 0) + 1;
    statuses[d.id] = d.answer.status;
  }
  const summary = { deliveries: counts, statuses, inflight: core.inflight() };
  core.free();
  return { events, summary };
}
