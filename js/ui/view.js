// The live picture, drawn in the DOM from a Tracker (./tracker.js): running
// counts, deployments by model group with their state (healthy, cooling
// with a countdown, ejected by its breaker with a countdown, half-open; the
// state is a data attribute and a class) and rolling stats, and the recent
// requests, newest first, each drawn as its route: attempts (in flight,
// answered, failed with status and class; probes of a half-open breaker),
// backoffs, cooldowns, ejections, hedges, retries the budget denied,
// fallback hops and the deployment that answered. Shared by the in-browser demo
// (examples/browser/) and the gateway's dashboard (/ui). Elements are keyed
// and updated in place, so a control placed in a card (the demo's) keeps
// its state; a request's row is rebuilt only when its record changed.
// Tests read the data-* attributes.

/** Tiny element builder: h('div', { class: 'x', dataset: { a: 1 } }, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

const fmtMs = (ms) => (ms == null ? '–' : ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const fmtPct = (x) => `${Math.round(x * 100)}%`;
const fmtRate = (x) => (x >= 10 ? x.toFixed(0) : x.toFixed(1));

const STATE_LABEL = { healthy: 'healthy', cooling: 'cooling', ejected: 'ejected', 'half-open': 'half-open', unknown: '?' };

/**
 * @param {HTMLElement} root holds [data-slot=counts], [data-slot=deployments], [data-slot=requests]
 * @param {import('./tracker.js').Tracker} tracker
 * @param {{ now?: () => number, onCard?: (slot: HTMLElement, deployment: any) => void,
 *   maxRows?: number }} [options] onCard: called once per new card with its controls slot
 */
export function createView(root, tracker, { now = () => Date.now(), onCard, maxRows = 40 } = {}) {
  const slots = {
    counts: root.querySelector('[data-slot=counts]'),
    deployments: root.querySelector('[data-slot=deployments]'),
    requests: root.querySelector('[data-slot=requests]'),
  };
  const groups = new Map(); // group -> { el, cards }
  const cards = new Map(); // deployment id -> { el, parts, total, until }
  const rows = new Map(); // request id -> { el, v }
  let drawn = -1;
  let frame = 0;

  // ---- counts ----
  const COUNTS = [
    ['requests', 'requests'], ['ok', 'answered'], ['failed', 'failed'],
    ['retries', 'retries'], ['fallbacks', 'fallbacks'], ['cooldowns', 'cooldowns'], ['ejections', 'ejections'],
  ];
  const countEls = {};
  if (slots.counts) {
    slots.counts.replaceChildren(...COUNTS.map(([k, label]) => {
      countEls[k] = h('b', {}, '0');
      return h('div', { class: `count count-${k}`, dataset: { count: k } }, countEls[k], h('span', {}, label));
    }));
  }

  // ---- deployments ----
  function card(d) {
    let c = cards.get(d.id);
    if (c) return c;
    const group = d.group ?? '';
    let g = groups.get(group);
    if (!g) {
      const list = h('div', { class: 'cards' });
      g = { el: h('section', { class: 'group', dataset: { group } }, h('h3', {}, h('span', { class: 'group-label' }, 'model group'), ' ', group), list), list };
      groups.set(group, g);
      slots.deployments.append(g.el);
    }
    const parts = {
      badge: h('span', { class: 'badge' }),
      model: h('div', { class: 'model' }, d.model ?? ''),
      bar: h('div', { class: 'bar' }, h('i')),
      note: h('div', { class: 'note' }),
      rate: h('b'), p50: h('b'), err: h('b'), busy: h('b'),
      last: h('span', { class: 'last' }),
      slot: h('div', { class: 'slot' }),
    };
    const stat = (label, el, title) => h('div', { class: 'stat', title }, el, h('span', {}, label));
    const el = h('article', { class: 'card', dataset: { deployment: d.id } },
      h('header', {}, h('span', { class: 'dot' }), h('h4', {}, d.id), parts.badge),
      parts.model,
      parts.bar,
      parts.note,
      h('div', { class: 'stats' },
        stat('attempts/min', parts.rate, 'upstream attempts per minute over the window'),
        stat('p50', parts.p50, 'median attempt latency (recent attempts)'),
        stat('errors', parts.err, 'share of failed attempts over the window'),
        stat('in flight', parts.busy, 'attempts in flight')),
      parts.last,
      parts.slot);
    g.list.append(el);
    c = { el, parts, total: 0, until: 0 };
    cards.set(d.id, c);
    onCard?.(parts.slot, d);
    return c;
  }

  function drawCard(d, t) {
    const c = card(d);
    const st = tracker.stateOf(d.id, t);
    const s = tracker.stats(d.id, t);
    c.el.dataset.state = st.state;
    c.el.className = `card state-${st.state}`;
    c.parts.badge.textContent = STATE_LABEL[st.state] ?? st.state;
    if (st.state === 'ejected') {
      if (c.until !== d.ejected_until) {
        c.until = d.ejected_until;
        c.total = Math.max(st.msLeft, 1);
      }
      c.parts.badge.textContent = `ejected ${(st.msLeft / 1000).toFixed(1)} s`;
      c.parts.bar.firstChild.style.width = `${Math.min(100, (100 * st.msLeft) / c.total)}%`;
      c.parts.note.textContent = `breaker open until ${new Date(d.ejected_until).toLocaleTimeString()}${st.reason ? ` · ${st.reason}` : ''}`;
    } else if (st.state === 'half-open') {
      c.parts.bar.firstChild.style.width = '0%';
      c.parts.note.textContent = 'half-open: probes decide';
    } else if (st.state === 'cooling') {
      if (c.until !== d.cooling_until) {
        c.until = d.cooling_until;
        c.total = Math.max(st.msLeft, 1);
      }
      c.parts.badge.textContent = `cooling ${(st.msLeft / 1000).toFixed(1)} s`;
      c.parts.bar.firstChild.style.width = `${Math.min(100, (100 * st.msLeft) / c.total)}%`;
      c.parts.note.textContent = `skipped until ${new Date(d.cooling_until).toLocaleTimeString()}${st.reason ? ` · ${st.reason}` : ''}`;
    } else {
      c.parts.bar.firstChild.style.width = '0%';
      c.parts.note.textContent = d.failures ? `${d.failures} recent failure${d.failures > 1 ? 's' : ''}` : '\u00a0';
    }
    c.parts.rate.textContent = fmtRate(s.perMinute);
    c.parts.p50.textContent = fmtMs(s.p50);
    c.parts.err.textContent = s.attempts ? fmtPct(s.errorRate) : '–';
    c.parts.err.className = s.errorRate >= 0.5 ? 'bad' : s.errorRate > 0 ? 'warn' : '';
    c.parts.busy.textContent = String(Math.max(d.active ?? 0, d.inflight ?? 0));
    const last = d.last;
    c.parts.last.textContent = last ? `last: ${last.class === 'ok' ? `${last.status} ok` : `${last.status || '—'} ${last.class}`}` : 'no attempts yet';
    c.parts.last.className = `last ${last && last.class !== 'ok' ? 'bad' : ''}`;
  }

  // ---- requests ----
  function chip(step) {
    switch (step.kind) {
      case 'attempt': {
        const state = !step.done ? 'running' : step.class === 'ok' ? 'ok' : 'fail';
        const what = !step.done ? '…' : step.class === 'ok' ? `${step.status}` : `${step.status || '✕'} ${step.class}`;
        return h('span', {
          class: `chip attempt ${state}${step.probe ? ' probe' : ''}`, dataset: { deployment: step.deployment, state },
          title: `attempt ${step.n} on ${step.deployment} (${step.group})${step.done ? `: ${step.status} ${step.class}, ${fmtMs(step.latency_ms)}` : ': in flight'}`,
        }, h('b', {}, step.deployment), h('em', {}, what), step.done && step.latency_ms != null ? h('small', {}, fmtMs(step.latency_ms)) : null);
      }
      case 'backoff':
        return h('span', { class: 'chip backoff', title: `retry ${step.retry} after ${step.reason}` }, `⏱ wait ${fmtMs(step.ms)}`);
      case 'fallback':
        return h('span', { class: 'chip fallback', title: `fallback after ${step.reason}` }, `↪ ${step.from} → ${step.to}`);
      case 'eject':
        return h('span', { class: 'chip eject', title: `${step.deployment}'s breaker opened (${step.reason}, time ${step.times})` }, `⊘ ${step.deployment} ejected ${fmtMs(step.until - step.t)}`);
      case 'hedge':
        return h('span', { class: 'chip hedge', title: `${step.after} slow after ${fmtMs(step.ms)}: a second attempt races it` }, `⇉ hedge on ${step.deployment}`);
      case 'denied':
        return h('span', { class: 'chip denied', title: 'no retry: the fleet-wide retry budget is spent' }, `no retry: ${step.reason}`);
      case 'cooldown':
        return h('span', { class: 'chip cooldown', title: `${step.deployment} cooled down (${step.reason}) for ${fmtMs(step.until - step.t)}` }, `❄ ${step.deployment} ${fmtMs(step.until - step.t)}`);
      default:
        return null;
    }
  }

  function rowContent(rec) {
    const route = [];
    rec.steps.forEach((s, i) => {
      if (i > 0) route.push(h('span', { class: 'arrow' }, '→'));
      route.push(chip(s));
    });
    if (!rec.steps.length && rec.state === 'pending') route.push(h('span', { class: 'chip running' }, '…'));
    if (!rec.steps.length && rec.state !== 'pending') route.push(h('span', { class: 'chip none' }, 'no attempt'));
    const result = rec.state === 'pending'
      ? h('span', { class: 'result pending' }, 'in flight')
      : rec.state === 'ok'
        ? h('span', { class: 'result ok' }, h('b', {}, '200'), ` by ${rec.deployment}`, h('small', {}, fmtMs(rec.latency_ms)))
        : h('span', { class: 'result error' }, h('b', {}, String(rec.status)), ` ${rec.class}`, h('small', {}, fmtMs(rec.latency_ms)));
    return [
      h('span', { class: 'req-id' }, `#${rec.id}`),
      h('span', { class: 'req-group' }, rec.asked ?? rec.group ?? '—'),
      h('span', { class: 'route' }, route),
      result,
    ];
  }

  function drawRequests() {
    const keep = tracker.requests.slice(-maxRows);
    const ids = new Set(keep.map((r) => r.id));
    for (const [id, r] of rows) if (!ids.has(id)) { r.el.remove(); rows.delete(id); }
    let prev = null; // newest first: each row goes after the newer one
    for (let i = keep.length - 1; i >= 0; i--) {
      const rec = keep[i];
      let r = rows.get(rec.id);
      if (!r) {
        r = { el: h('li', { class: 'req new' }), v: -1 };
        rows.set(rec.id, r);
        setTimeout(() => r.el.classList.remove('new'), 600);
      }
      if (r.v !== rec.v) {
        r.v = rec.v;
        r.el.replaceChildren(...rowContent(rec));
        Object.assign(r.el.dataset, {
          id: rec.id, state: rec.state, status: rec.status ?? '', deployment: rec.deployment ?? '',
          attempts: rec.steps.filter((s) => s.kind === 'attempt').map((s) => `${s.deployment}:${s.done ? s.status : 'pending'}`).join(' '),
        });
        r.el.classList.toggle('is-ok', rec.state === 'ok');
        r.el.classList.toggle('is-error', rec.state === 'error');
      }
      const want = prev ? prev.nextSibling : slots.requests.firstChild;
      if (r.el !== want) slots.requests.insertBefore(r.el, want);
      prev = r.el;
    }
    slots.requests.dataset.empty = String(keep.length === 0);
  }

  function render() {
    frame = 0;
    const t = now();
    for (const [k, el] of Object.entries(countEls)) el.textContent = String(tracker.counts[k] ?? 0);
    for (const d of tracker.deployments.values()) drawCard(d, t);
    if (drawn !== tracker.version) {
      drawn = tracker.version;
      drawRequests();
    }
  }

  /** Asks for a redraw at the next frame (many events in one frame draw once). */
  function schedule() {
    if (!frame) frame = requestAnimationFrame(render);
  }

  // Countdowns and rolling stats move with time, not only with events.
  const tick = setInterval(schedule, 200);
  render();
  return { render, schedule, stop: () => clearInterval(tick) };
}
