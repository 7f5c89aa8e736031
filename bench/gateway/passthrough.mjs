#!/usr/bin/env node
// passthrough.mjs - the floor of a Node-hosted gateway: node:http in, the
// global fetch() (undici, as Switchyard's gateway uses) out to one upstream,
// status and body relayed. No parsing, routing, retries, metrics or logging.
//
//   node passthrough.mjs --port=9302 --upstream=http://127.0.0.1:9301/passthrough/v1/chat/completions [--ttl=SECONDS]
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  return m ? [m[1], m[2]] : [a, 'true'];
}));
const PORT = Number(args.port ?? 9302);
const UPSTREAM = args.upstream;
const TTL_S = Number(args.ttl ?? 900);
if (!UPSTREAM) { console.error('passthrough: --upstream=URL is required'); process.exit(2); }

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const r = await fetch(UPSTREAM, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? 'Bearer sk-bench' },
      body: Buffer.concat(chunks),
    });
    const body = Buffer.from(await r.arrayBuffer());
    res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  } catch (e) {
    const body = JSON.stringify({ error: { message: String(e?.message ?? e), type: 'proxy_error' } });
    res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }
});
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`passthrough on http://127.0.0.1:${PORT} -> ${UPSTREAM} (pid ${process.pid})\n`));
if (TTL_S > 0) setTimeout(() => process.exit(0), TTL_S * 1000).unref();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
