// bench/chaos/mock.mjs - the chaos bench's upstream: Switchyard's own mock
// provider (js/mock, real OpenAI wire format, real 429s with retry-after and
// x-ratelimit-* headers, `down` destroys the socket) served over HTTP on
// 127.0.0.1 by js/mock/server.js, in its own process, driven by run.mjs over
// IPC (process.send). Deployments d1, d2, d3 are at <url>/dN/v1.
//
// Messages from the parent (each answered with {id, ok, ...}):
//   {op: 'reset'}                            provider.reset(): no calls, fresh state
//   {op: 'configure', behaviours: {d1: {...}, ...}}
//   {op: 'prefill', names, n, spanMs}        fill each deployment's 60 s rate-limit window with
//                                            n admitted requests spread evenly over the last spanMs,
//                                            as if it had served at capacity for that long (see below)
//   {op: 'calls', since}                     calls with seq > since, compacted
//   {op: 'close'}
//
// Why `prefill`: the mock's rateLimit is a sliding 60 s window of admitted
// requests (js/mock/index.js), so a fresh deployment with rpm 720 admits its
// first 720 requests at once, whatever the rate: a 20 s scenario would never
// see a 429. A provider that has been at capacity for the last minute has its
// window full of requests spread over that minute, and then frees one slot
// every 60/rpm s: exactly "capacity rpm/60 req/s". The mock reads its clock
// once per request (`handle`), so the window is filled by running a few
// hundred in-process `handle` calls against a clock shifted back by spanMs ...
// 0; the clock is the real one again before any HTTP request arrives. These
// calls are booked in `calls` but carry no tag, and the parent counts only
// tagged calls.
import { createMockProvider } from '../../js/mock/index.js';
import { startMockServer } from '../../js/mock/server.js';

let offset = 0; // ms; non-zero only inside prefill
const clock = {
  now: () => Date.now() + offset,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h),
};
const provider = createMockProvider({ seed: 7, clock, strict: true, maxCalls: 400_000 });
const server = await startMockServer(provider, { host: '127.0.0.1', port: 0 });

const TAG = /\bchaos:(\S+)/;
function compact(c) {
  const content = c.body?.messages?.[c.body.messages.length - 1]?.content;
  const m = typeof content === 'string' ? TAG.exec(content) : null;
  return [c.seq, c.deployment, c.time, c.status, c.outcome, m ? m[1] : null];
}

async function prefill({ names, n, spanMs }) {
  const body = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'prefill' }] });
  try {
    for (const name of names) {
      for (let i = 0; i < n; i++) {
        offset = -spanMs + Math.round(((i + 0.5) * spanMs) / n);
        const plan = await provider.handle({ method: 'POST', url: `/${name}/v1/chat/completions`, headers: { 'content-type': 'application/json' }, body });
        if (plan.type !== 'http' || plan.status !== 200) throw new Error(`prefill of ${name}: call ${i} answered ${plan.status ?? plan.type}`);
      }
    }
  } finally {
    offset = 0;
  }
}

process.on('message', async (msg) => {
  const reply = (extra) => process.send({ id: msg.id, ok: true, ...extra });
  try {
    switch (msg.op) {
      case 'reset': provider.reset(); return reply();
      case 'configure': provider.configure(msg.behaviours); return reply();
      case 'prefill': await prefill(msg); return reply();
      case 'calls': return reply({ calls: provider.calls.filter((c) => c.seq > (msg.since ?? 0)).map(compact) });
      case 'close': await server.close(); reply(); return process.exit(0);
      default: throw new Error(`unknown op ${msg.op}`);
    }
  } catch (err) {
    process.send({ id: msg.id, ok: false, error: String(err?.stack ?? err) });
  }
});
process.on('disconnect', () => process.exit(0)); // the parent is gone: never outlive it
process.send({ ready: true, url: server.url });
