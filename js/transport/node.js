// Node's transport: the core's fetch_start over node:http and node:https
// with keep-alive agents. It is the default on Node, where WHATWG fetch
// costs most of a gateway's CPU: an AbortController with its listeners per
// attempt, a web ReadableStream per body and a Headers object to iterate
// (bench/gateway measured 418 µs of CPU per proxied request with fetch
// against 76 with http.request). `options.fetch` still selects fetch.
import http from 'node:http';
import https from 'node:https';
import { describe } from './fetch.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};
const modules = { 'http:': http, 'https:': https };

/** @param {import('../core/binding.js').Core} core */
export function createNodeTransport(core) {
  /** @type {Map<number, import('node:http').ClientRequest | null>} null: not sent yet */
  const live = new Map();

  function run(attempt, head, body) {
    // Aborted before this task ran (a hedge lost, the request cancelled in
    // the same entry point): never sent at all.
    if (!live.has(attempt)) return;
    /** @type {import('node:http').ClientRequest} */
    let req;
    const fail = (err) => {
      if (live.get(attempt) !== req) return;
      live.delete(attempt);
      core.onError(attempt, describe(err, head));
    };
    try {
      const url = new URL(head.url);
      if (!modules[url.protocol]) throw new TypeError(`unsupported protocol ${url.protocol}`);
      req = modules[url.protocol].request(url, {
        method: head.method,
        headers: { ...head.headers, 'content-length': String(body.length) },
        agent: agents[url.protocol],
      });
    } catch (err) { // a URL or header the request cannot carry
      live.delete(attempt);
      core.onError(attempt, describe(err, head));
      return;
    }
    live.set(attempt, req);
    req.on('error', fail);
    req.on('response', (res) => {
      if (live.get(attempt) !== req) return res.resume();
      // rawHeaders keeps repeated headers apart; the core reads the first.
      const raw = res.rawHeaders;
      let lines = '';
      for (let i = 0; i < raw.length; i += 2) lines += `${raw[i].toLowerCase()}:${raw[i + 1]}\n`;
      core.onResponse(attempt, res.statusCode ?? 0, lines);
      res.on('data', (chunk) => { if (live.get(attempt) === req) core.onBody(attempt, chunk); });
      res.on('error', fail);
      res.on('end', () => {
        // An upstream that cut the connection mid-body ends without complete.
        if (!res.complete) return fail(new Error('the connection was closed before the body ended'));
        if (live.get(attempt) !== req) return;
        live.delete(attempt);
        core.onEnd(attempt);
      });
    });
    req.end(body);
  }

  return {
    /** @param {number} attempt @param {string} headText @param {Uint8Array} body */
    start(attempt, headText, body) {
      live.set(attempt, null);
      // Started from a task of its own: the core is still inside fetch_start.
      queueMicrotask(() => run(attempt, JSON.parse(headText), body));
    },
    abort(attempt) {
      const req = live.get(attempt);
      live.delete(attempt);
      req?.destroy();
    },
    abortAll() {
      for (const req of live.values()) req?.destroy();
      live.clear();
    },
  };
}
