#!/usr/bin/env node
// mock-upstream.mjs - the gateway bench's upstream: a minimal OpenAI-compatible
// chat.completions server on 127.0.0.1. Every POST gets the same prebuilt
// 200 chat.completion (with usage), whatever the path; nothing is parsed, so
// the upstream costs as little as node:http allows and is not the bottleneck.
// Calls are counted per first path segment (/direct/..., /switchyard/v1/...),
// which tells how many upstream calls each target made.
//
//   node mock-upstream.mjs --port=9301 [--ttl=SECONDS]
//   GET /health -> ok; GET /__count -> {"direct": n, ...}; POST /__reset
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  return m ? [m[1], m[2]] : [a, 'true'];
}));
const PORT = Number(args.port ?? 9301);
const TTL_S = Number(args.ttl ?? 900);

const BODY = Buffer.from(JSON.stringify({
  id: 'chatcmpl-bench', object: 'chat.completion', created: 1700000000, model: 'bench-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench mock.' }, logprobs: null, finish_reason: 'stop' }],
  usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
  system_fingerprint: 'fp_bench',
}));
const HEAD = { 'content-type': 'application/json', 'content-length': BODY.length };
const counts = Object.create(null);

const server = http.createServer((req, res) => {
  if (req.method === 'POST') {
    const seg = req.url.split('/', 2)[1] || '';
    counts[seg] = (counts[seg] ?? 0) + 1;
    req.resume(); // drain the body unread
    req.on('end', () => { res.writeHead(200, HEAD); res.end(BODY); });
    return;
  }
  if (req.url === '/__count') {
    const b = JSON.stringify(counts);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
    return res.end(b);
  }
  if (req.url === '/__reset') for (const k of Object.keys(counts)) delete counts[k];
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
});
server.keepAliveTimeout = 60_000;
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`mock-upstream on http://127.0.0.1:${PORT} (pid ${process.pid})\n`));
if (TTL_S > 0) setTimeout(() => process.exit(0), TTL_S * 1000).unref();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
