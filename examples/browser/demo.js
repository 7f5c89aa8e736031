// The in-browser demo: the package's browser build (js/browser.js, which
// streams ../wasm/switchyard.wasm from beside itself) runs a Router in this
// page, and its transport is the mock provider's in-process fetch, also in
// this page: no server beyond static files. Each deployment's controls
// reconfigure the mock; the live picture is drawn from the core's events
// (js/ui/tracker.js + js/ui/view.js, shared with the gateway's /ui).
import { Router } from '../../js/browser.js';
import { createMockProvider } from '../../js/mock/index.js';
import { Tracker } from '../../js/ui/tracker.js';
import { createView, h } from '../../js/ui/view.js';

/** The mock deployments (mock deployment name = the config's model_info.id) and how they answer when healthy. */
const DEPLOYMENTS = [
  { id: 'gpt-4o-east', group: 'gpt-4o', kind: 'openai', model: 'openai/gpt-4o', latencyMs: 180 },
  { id: 'gpt-4o-azure', group: 'gpt-4o', kind: 'azure', model: 'azure/gpt-4o', latencyMs: 260 },
  { id: 'gpt-4o-west', group: 'gpt-4o', kind: 'openai', model: 'openai/gpt-4o', latencyMs: 140 },
  { id: 'claude-sonnet', group: 'claude', kind: 'anthropic', model: 'anthropic/claude-sonnet-4-5', latencyMs: 320 },
];

/** Each mode of a deployment, with its choices and the mock behaviour a choice gives. */
const MODES = {
  healthy: { label: 'healthy', params: null, behaviour: (d) => ({ latencyMs: d.latencyMs }) },
  failing: {
    label: 'failing',
    params: [['503', '503 unavailable'], ['500', '500 server error'], ['502', '502 bad gateway'], ['529', '529 overloaded'], ['429', '429 rate limited'], ['401', '401 bad key'], ['400', '400 bad request']],
    behaviour: (d, p) => ({ latencyMs: Math.round(d.latencyMs / 3), statuses: [Number(p)], repeat: true }),
  },
  'rate-limited': {
    label: 'rate limited',
    params: [['2', '2 requests/min'], ['5', '5 requests/min'], ['20', '20 requests/min']],
    behaviour: (d, p) => ({ latencyMs: d.latencyMs, rateLimit: { rpm: Number(p) } }),
  },
  slow: {
    label: 'slow',
    params: [['1200', '1.2 s'], ['3000', '3 s (past the 2 s timeout)']],
    behaviour: (d, p) => ({ latencyMs: Number(p) }),
  },
  down: { label: 'down (refuses connections)', params: null, behaviour: () => ({ down: true }) },
};

const config = (strategy) => ({
  model_list: DEPLOYMENTS.map((d) => ({
    model_name: d.group,
    litellm_params: {
      model: d.model,
      api_base: mock.baseUrl(d.id, d.kind),
      api_key: 'demo-key',
      timeout: 2,
      ...(d.kind === 'azure' ? { api_version: '2024-10-21' } : {}),
    },
    model_info: { id: d.id },
  })),
  router_settings: {
    routing_strategy: strategy,
    num_retries: 2,
    allowed_fails: 1,
    cooldown_time: 10,
    fallbacks: [{ claude: ['gpt-4o'] }],
  },
});

const $ = (sel) => document.querySelector(sel);
const status = $('#status');
const mock = createMockProvider({ seed: 7 });
const modes = new Map(); // deployment id -> { mode, param }
let router = null;
let tracker = null;
let view = null;
let seq = 0;

function applyMode(id) {
  const d = DEPLOYMENTS.find((x) => x.id === id);
  const { mode, param } = modes.get(id);
  mock.configure(id, MODES[mode].behaviour(d, param));
}

/** The controls of one card: a mode and, for some modes, its parameter. */
function controls(slot, dep) {
  if (!modes.has(dep.id)) modes.set(dep.id, { mode: 'healthy', param: null });
  const state = modes.get(dep.id);
  const param = h('select', { class: 'param', 'data-control': 'param', 'aria-label': `${dep.id}: detail` });
  const mode = h('select', { 'data-control': 'mode', 'data-mode': state.mode, 'aria-label': `${dep.id}: behaviour` },
    Object.entries(MODES).map(([k, m]) => h('option', { value: k, selected: k === state.mode }, m.label)));
  const fillParams = () => {
    const choices = MODES[state.mode].params;
    param.hidden = !choices;
    param.replaceChildren(...(choices ?? []).map(([v, label]) => h('option', { value: v, selected: v === state.param }, label)));
    if (choices && !choices.some(([v]) => v === state.param)) state.param = choices[0][0];
  };
  mode.addEventListener('change', () => {
    state.mode = mode.value;
    mode.dataset.mode = state.mode;
    fillParams();
    applyMode(dep.id);
  });
  param.addEventListener('change', () => {
    state.param = param.value;
    applyMode(dep.id);
  });
  fillParams();
  slot.append(h('div', { class: 'controls' }, mode, param));
}

async function start(strategy) {
  const old = router;
  router = null;
  await old?.close();
  tracker ??= new Tracker({ maxRequests: 60 });
  router = await Router.create(config(strategy), {
    fetch: mock.fetch,
    onEvent: (ev) => {
      tracker.observe(ev);
      // The core must not be called back from inside its own event: read
      // the health once the entry point has returned.
      if ((ev.type === 'cooldown' || ev.type === 'deliver') && !healthDue) {
        healthDue = true;
        queueMicrotask(refreshHealth);
      }
      view?.schedule();
    },
  });
  refreshHealth();
  view ??= createView($('#app'), tracker, { onCard: controls });
  view.schedule();
}

let healthDue = false;
function refreshHealth() {
  healthDue = false;
  if (router && tracker) tracker.setHealth(router.health());
  view?.schedule();
}
setInterval(refreshHealth, 1000); // requests and failures this minute move on their own

async function send() {
  const model = $('#model').value;
  const r = router;
  if (!r) return;
  const n = ++seq;
  tracker.asking(model);
  try {
    await r.completion({ model, messages: [{ role: 'user', content: `Hello #${n}` }] });
  } catch {
    // A failed request is drawn from its deliver event.
  }
}

function burst(count = 10) {
  return Promise.all(Array.from({ length: count }, () => send()));
}

async function main() {
  for (const d of DEPLOYMENTS) {
    modes.set(d.id, { mode: 'healthy', param: null });
    applyMode(d.id);
  }
  try {
    await start($('#strategy').value);
  } catch (err) {
    status.dataset.state = 'down';
    status.textContent = `could not start: ${err.message}`;
    throw err;
  }
  status.dataset.state = 'live';
  status.textContent = 'core running in this page';
  $('#send').disabled = false;
  $('#burst').disabled = false;
  $('#send').addEventListener('click', () => send());
  $('#burst').addEventListener('click', () => burst());
  $('#strategy').addEventListener('change', () => start($('#strategy').value));
  $('#reset').addEventListener('click', () => {
    for (const d of DEPLOYMENTS) {
      modes.set(d.id, { mode: 'healthy', param: null });
      applyMode(d.id);
    }
    for (const sel of document.querySelectorAll('select[data-control=mode]')) {
      sel.value = 'healthy';
      sel.dispatchEvent(new Event('change'));
    }
    tracker = new Tracker({ maxRequests: 60 });
    view?.stop();
    view = null;
    for (const slot of document.querySelectorAll('[data-slot=deployments], [data-slot=requests]')) slot.replaceChildren();
    return start($('#strategy').value);
  });
  // For the curious (and the browser tests' diagnostics): the live objects.
  globalThis.switchyardDemo = { get router() { return router; }, mock, get tracker() { return tracker; }, send, burst };
}

main();
