#!/usr/bin/env node
// passthrough-http.mjs - passthrough.mjs with node:http.request on a keep-alive
// Agent instead of fetch() out: no WHATWG Request/Response/Headers, web
// streams or AbortSignal per call. A lower floor than the fetch-based one,
// for comparison (bench.mjs target "passthrough-http"). The goals of issue 8
// are stated against the fetch-based floor (passthrough.mjs).
//
//   node passthrough-http.mjs --port=9303 --upstream=http://127.0.0.1:9301/passthrough-http/v1/chat/completions [--ttl=SECONDS]
import http from 'node:http';

const args = Object.fromEntries(process.argv.slice(2).map((a) => {
  const m = /^--([^=]+)=(.*)$/.exec(a);
  return m ? [m[1], m[2]] : [a, 'true'];
}));
const PORT = Number(args.port ?? 9303);
const UPSTREAM = new URL(args.upstream ?? '');
const TTL_S = Number(args.ttl ?? 900);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks);
    const up = http.request({
      host: UPSTREAM.hostname, port: UPSTREAM.port, path: UPSTREAM.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? 'Bearer sk-bench', 'content-length': body.length },
    }, (r) => {
      const out = [];
      r.on('data', (c) => out.push(c));
      r.on('end', () => {
        const b = Buffer.concat(out);
        res.writeHead(r.statusCode, { 'content-type': 'application/json', 'content-length': b.length });
        res.end(b);
      });
    });
    up.on('error', (e) => {
      const b = JSON.stringify({ error: { message: String(e?.message ?? e), type: 'proxy_error' } });
      res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
      res.end(b);
    });
    up.end(body);
  });
});
server.listen(PORT, '127.0.0.1', () => process.stdout.write(`passthrough-http on http://127.0.0.1:${PORT} -> ${UPSTREAM} (pid ${process.pid})\n`));
if (TTL_S > 0) setTimeout(() => process.exit(0), TTL_S * 1000).unref();
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => { server.close(); process.exit(0); });
