// Node's transport: the core's fetch_start over node:http and node:https
// with keep-alive agents. It is the default on Node, where WHATWG fetch
// costs most of a gateway's CPU: an AbortController with its listeners per
// attempt, a web ReadableStream per body and a Headers object to iterate
// (bench/gateway measured 418 µs of CPU per proxied request with fetch
// against 76 with http.request). `options.fetch` still selects fetch.
import http from 'node:http';
import https from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { describe } from './fetch.js';

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};
const modules = { 'http:': http, 'https:': https };

/** Parsed upstream URLs: a deployment posts to the same few, so each is parsed once, not per attempt. */
const targets = new Map();
const MAX_TARGETS = 1024; // past this (URLs that vary per request) the cache starts over

/** @param {string} url */
function target(url) {
  let t = targets.get(url);
  if (t) return t;
  const u = new URL(url);
  const mod = modules[u.protocol];
  if (!mod) throw new TypeError(`unsupported protocol ${u.protocol}`);
  const o = urlToHttpOptions(u);
  t = { mod, agent: agents[u.protocol], protocol: o.protocol, hostname: o.hostname, port: o.port, path: o.path, auth: o.auth };
  if (targets.size >= MAX_TARGETS) targets.clear();
  targets.set(url, t);
  return t;
}

/** @param {import('../core/binding.js').Core} core */
export function createNodeTransport(core) {
  // An attempt in flight has a cell, which lets go of its request when the
  // attempt ends. An entry deleted from a Map can stay reachable for the
  // scavenger (from the Map's table once that is in the old generation)
  // until the next full GC, and everything it points to is then copied and
  // promoted with it: measured, 3.2 KB a request promoted and scavenges
  // three times as long with the requests in the Map, 0.3 KB with cells.
  /** @type {Map<number, { open: boolean, req: import('node:http').ClientRequest | null }>} req null: not sent yet */
  const live = new Map();

  function close(attempt, cell) {
    live.delete(attempt);
    cell.open = false;
    cell.req = null;
  }

  function run(attempt, cell, head, body) {
    // Aborted before this task ran (a hedge lost, the request cancelled in
    // the same entry point): never sent at all.
    if (!cell.open) return;
    const fail = (err) => {
      if (!cell.open) return;
      close(attempt, cell);
      core.onError(attempt, describe(err, head));
    };
    /** @type {import('node:http').ClientRequest} */
    let req;
    try {
      const t = target(head.url);
      // No content-length: end(body) before anything is sent sets it from the body.
      req = t.mod.request({
        protocol: t.protocol, hostname: t.hostname, port: t.port, path: t.path, auth: t.auth,
        method: head.method, headers: head.headers, agent: t.agent,
      });
    } catch (err) { // a URL or header the request cannot carry
      fail(err);
      return;
    }
    cell.req = req;
    req.on('error', fail);
    req.on('response', (res) => {
      if (!cell.open) return res.resume();
      // rawHeaders keeps repeated headers apart; the core reads the first.
      const raw = res.rawHeaders;
      let lines = '';
      for (let i = 0; i < raw.length; i += 2) lines += `${raw[i].toLowerCase()}:${raw[i + 1]}\n`;
      core.onResponse(attempt, res.statusCode ?? 0, lines);
      res.on('data', (chunk) => { if (cell.open) core.onBody(attempt, chunk); });
      res.on('error', fail);
      res.on('end', () => {
        // An upstream that cut the connection mid-body ends without complete.
        if (!res.complete) return fail(new Error('the connection was closed before the body ended'));
        if (!cell.open) return;
        close(attempt, cell);
        core.onEnd(attempt);
      });
    });
    req.end(body);
  }

  return {
    /** @param {number} attempt @param {string} headText @param {Uint8Array} body */
    start(attempt, headText, body) {
      const cell = { open: true, req: null };
      live.set(attempt, cell);
      // Started from a task of its own: the core is still inside fetch_start.
      queueMicrotask(() => run(attempt, cell, JSON.parse(headText), body));
    },
    abort(attempt) {
      const cell = live.get(attempt);
      if (!cell) return;
      const { req } = cell;
      close(attempt, cell);
      req?.destroy();
    },
    abortAll() {
      for (const [attempt, cell] of live) {
        const { req } = cell;
        close(attempt, cell);
        req?.destroy();
      }
    },
  };
}
