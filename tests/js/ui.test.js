// The pages' state without a browser: the Tracker (js/ui/tracker.js) stays
// bounded and reads the core's events right; the gateway's dashboard
// (js/ui/server.js) records nothing while no page is connected, streams
// the core's events over SSE to one that is, and ends its streams when the
// gateway closes. (The pages themselves: tests/js/browser.test.js.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMockProvider } from 'switchyard/mock';
import { Tracker } from '../../js/ui/tracker.js';
import { startGateway } from '../../js/gateway.js';

test('tracker: a bounded ring of requests, each with its route', () => {
  const t = new Tracker({ maxRequests: 5 });
  for (let id = 1; id <= 50; id++) {
    t.observe({ t: id, type: 'request', req: id });
    t.observe({ t: id, type: 'attempt_start', req: id, attempt: 1000 + id, n: 1, group: 'g', deployment: 'a', model: 'm' });
  }
  assert.equal(t.requests.length, 5);
  assert.deepEqual(t.requests.map((r) => r.id), [46, 47, 48, 49, 50]);
  t.observe({ t: 60, type: 'attempt_end', req: 3, attempt: 1003, deployment: 'a', status: 200, class: 'ok', latency_ms: 5 });
  t.observe({ t: 60, type: 'deliver', req: 3, status: 200, deployment: 'a', attempts: 1, fallbacks: 0, latency_ms: 5 });
  assert.equal(t.requests.length, 5, 'an evicted request is not brought back');
  t.observe({ t: 61, type: 'attempt_end', req: 50, attempt: 1050, deployment: 'a', status: 503, class: 'server', latency_ms: 9 });
  t.observe({ t: 61, type: 'backoff', req: 50, ms: 40, retry: 1, reason: 'server' });
  t.observe({ t: 61, type: 'cooldown', req: 50, deployment: 'a', group: 'g', reason: 'server', until: 5061 });
  t.observe({ t: 61, type: 'fallback', req: 50, from: 'g', to: 'h', reason: 'server' });
  t.observe({ t: 62, type: 'attempt_start', req: 50, attempt: 2000, n: 2, group: 'h', deployment: 'b', model: 'm' });
  t.observe({ t: 70, type: 'attempt_end', req: 50, attempt: 2000, deployment: 'b', status: 200, class: 'ok', latency_ms: 8 });
  t.observe({ t: 70, type: 'deliver', req: 50, status: 200, deployment: 'b', attempts: 2, fallbacks: 1, latency_ms: 69 });
  const r = t.requests.at(-1);
  assert.equal(r.state, 'ok');
  assert.equal(r.deployment, 'b');
  assert.deepEqual(r.steps.map((s) => s.kind), ['attempt', 'backoff', 'cooldown', 'fallback', 'attempt']);
  assert.deepEqual(t.stateOf('a', 100), { state: 'cooling', msLeft: 4961, reason: 'server' });
  assert.equal(t.stateOf('a', 5061).state, 'healthy');
  assert.equal(t.counts.fallbacks, 1);
  assert.equal(t.counts.cooldowns, 1);
});

test('tracker: per-deployment stats over a rolling window of fixed size', () => {
  const t = new Tracker({ windowMs: 10_000 });
  const end = (at, cls, ms) => t.observe({ t: at, type: 'attempt_end', req: 0, attempt: 0, deployment: 'a', status: cls === 'ok' ? 200 : 503, class: cls, latency_ms: ms });
  for (let i = 0; i < 1000; i++) end(i * 10, i % 4 === 0 ? 'server' : 'ok', 100 + (i % 10));
  const s = t.stats('a', 9999);
  assert.equal(s.attempts, 1000);
  assert.equal(s.errors, 250);
  assert.equal(s.perMinute, 6000);
  assert.equal(t.deployments.get('a').buckets.length, 10);
  assert.equal(t.deployments.get('a').latencies.length, 64);
  assert.equal(t.stats('a', 15_000).attempts, 400, 'seconds 0 to 5 have left the window (6 to 15 are in it)');
  assert.equal(t.stats('a', 25_000).attempts, 0);
  const copy = new Tracker({ windowMs: 10_000 });
  copy.load(JSON.parse(JSON.stringify(t.snapshot())));
  assert.deepEqual(copy.stats('a', 15_000), t.stats('a', 15_000));
});

test('tracker: a breaker opening ejects, then half-open until it closes', () => {
  const t = new Tracker();
  t.observe({ t: 0, type: 'request', req: 1 });
  t.observe({ t: 0, type: 'attempt_start', req: 1, attempt: 2, n: 1, group: 'g', deployment: 'a', model: 'm' });
  t.observe({ t: 5, type: 'attempt_end', req: 1, attempt: 2, deployment: 'a', status: 503, class: 'server', latency_ms: 5 });
  t.observe({ t: 5, type: 'breaker_open', req: 1, deployment: 'a', group: 'g', reason: 'server', until: 30_005, times: 1 });
  assert.deepEqual(t.stateOf('a', 10), { state: 'ejected', msLeft: 29_995, reason: 'server' });
  t.setHealth([{ id: 'a', model_group: 'g', model: 'm', cooling_until: 0, reason: null, failures: 1, rpm: 1, tpm: 0, inflight: 0 }]);
  assert.equal(t.stateOf('a', 10).state, 'ejected', 'a health report without breaker fields keeps it');
  t.setHealth([{ id: 'a', model_group: 'g', model: 'm', cooling_until: 0, failures: 1, breaker: 'open', breaker_until: 40_000 }]);
  assert.deepEqual(t.stateOf('a', 10), { state: 'ejected', msLeft: 39_990, reason: null }, 'or the report\'s, when it has them');
  t.setHealth([{ id: 'a', model_group: 'g', model: 'm', cooling_until: 0, failures: 1, breaker: 'open', breaker_until: 30_005 }]);
  assert.equal(t.stateOf('a', 30_005).state, 'half-open');
  t.observe({ t: 30_010, type: 'request', req: 3 });
  t.observe({ t: 30_010, type: 'attempt_start', req: 3, attempt: 4, n: 1, group: 'g', deployment: 'a', model: 'm' });
  t.observe({ t: 30_010, type: 'probe', req: 3, deployment: 'a', group: 'g' });
  t.observe({ t: 30_020, type: 'breaker_close', req: 3, deployment: 'a' });
  assert.equal(t.stateOf('a', 30_020).state, 'healthy');
  assert.equal(t.requests[1].steps[0].probe, true);
  assert.equal(t.requests[0].steps.at(-1).kind, 'eject');
  assert.equal(t.counts.ejections, 1);
});

/** Reads SSE frames from a fetch body until |want| returns true for one. */
async function readUntil(reader, want, seen = []) {
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return null;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      seen.push(event);
      if (data && want(event, JSON.parse(data))) return { event, data: JSON.parse(data) };
    }
  }
}

test('dashboard: no recording without a page; a page gets a snapshot, then the events; close ends its stream', async () => {
  const mock = createMockProvider();
  const gateway = await startGateway({
    model_list: [{ model_name: 'm', litellm_params: { model: 'openai/m', api_base: mock.baseUrl('a'), api_key: 'sk-up-a' }, model_info: { id: 'a' } }],
  }, { port: 0, fetch: mock.fetch, log: () => {} });
  const ask = () => fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }),
  }).then((r) => r.json());
  try {
    await ask();
    assert.equal(gateway.dashboard.recording, false, 'nothing is kept per request while no page is connected');

    const res = await fetch(`${gateway.url}/ui/events`);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const reader = res.body.getReader();
    const snap = await readUntil(reader, (e) => e === 'snapshot');
    assert.equal(snap.data.tracker.requests.length, 0, 'the request before the page is not in it');
    assert.deepEqual(snap.data.health.map((d) => d.id), ['a']);
    assert.equal(gateway.dashboard.recording, true);
    assert.equal(gateway.dashboard.clients, 1);
    await ask();
    const batch = await readUntil(reader, (e, d) => e === 'events' && d.some((ev) => ev.type === 'deliver'));
    assert.deepEqual(batch.data.map((ev) => ev.type), ['request', 'attempt_start', 'attempt_end', 'deliver']);
    await readUntil(reader, (e) => e === 'health');
    const state = await (await fetch(`${gateway.url}/ui/state`)).json();
    assert.equal(state.tracker.requests[0].asked, 'm', 'the model asked for, from the gateway');
    assert.equal(JSON.stringify(state).includes('sk-up-'), false);

    const closing = gateway.close(60_000); // a grace far longer than the test: the stream must end by itself
    assert.equal(await readUntil(reader, () => false), null, 'the stream ends when the gateway closes');
    await closing;
    assert.equal(gateway.dashboard.recording, false);
  } finally {
    await gateway.close(100).catch(() => {});
  }
});
