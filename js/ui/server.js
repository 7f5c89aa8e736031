// The gateway's browser pages (Node; js/gateway.js routes /ui and /demo here):
//
//   GET /ui              the live dashboard (js/ui/dashboard.html); /ui -> /ui/
//   GET /ui/assets/F     its modules and stylesheet (a fixed list from js/ui/)
//   GET /ui/events       Server-Sent Events: a snapshot, then the core's events
//                        in batches every 100 ms and the deployments' health every second
//   GET /ui/state        the same snapshot as JSON
//   GET /demo            the in-browser demo (examples/browser/), with the package
//                        files it imports: /demo/js/**.js|.css and /demo/wasm/switchyard.wasm
//
// With general_settings.master_key, these need the key like every other
// endpoint. A browser cannot send a bearer header when it navigates, so the
// key is also taken as `?key=<master key>` (answered with a cookie holding a
// digest of the key, never the key itself, and a redirect to the same page
// without it) or as that cookie. The cookie is honoured only here, for GETs
// that change nothing; the API paths still want the header.
//
// Cost: the gateway hands every core event to observe(), which returns at
// once unless a dashboard page is connected (or left less than a minute
// ago). Only then does it keep state, and that state is bounded: a ring of
// the last 100 requests, per-deployment one-second buckets over a minute and
// the last 64 latencies, and at most 2,000 events waiting for the next
// batch (past that the pages get a fresh snapshot instead). A page that does
// not read its stream (over 1 MiB unsent) is disconnected.
import { readFile } from 'node:fs/promises';
import { createHash, timingSafeEqual } from 'node:crypto';
import { Tracker } from './tracker.js';

const ROOT = new URL('../../', import.meta.url); // the package's root
const UI_ASSETS = new Set(['tracker.js', 'view.js', 'dashboard.js', 'style.css']);
const TYPES = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', wasm: 'application/wasm' };
const COOKIE = 'switchyard_ui';
const MAX_QUEUED = 2000;
const MAX_UNSENT = 1 << 20;
const LINGER_MS = 60_000;
const FLUSH_MS = 100;
const HEALTH_MS = 1000;
const MAX_REQUESTS = 100;

/** Is |path| (a URL pathname) one of this module's? */
export function isPagePath(path) {
  return path === '/ui' || path.startsWith('/ui/') || path === '/demo' || path.startsWith('/demo/');
}

export class Dashboard {
  #router;
  #keyCheck;
  #token; // the cookie's value: a digest of the master key; null without one
  #clients = new Set();
  #tracker = null;
  #active = false;
  #queue = [];
  #resync = false;
  #flushTimer = null;
  #healthTimer = null;
  #lingerTimer = null;

  /**
   * @param {{ router: import('../router.js').Router,
   *   keyCheck: (authorization: string | undefined) => boolean | Promise<boolean>,
   *   masterKey?: string }} options keyCheck: the gateway's bearer check
   */
  constructor({ router, keyCheck, masterKey }) {
    this.#router = router;
    this.#keyCheck = keyCheck;
    this.#token = masterKey ? createHash('sha256').update(`switchyard-ui\0${masterKey}`).digest('hex') : null;
  }

  /** The model the next request asks for (see Tracker.asking); free when no page is connected. */
  asking(model) {
    if (this.#active) this.#tracker.asking(model);
  }

  /** One core event. Returns at once while no page is connected. */
  observe(ev) {
    if (!this.#active) return;
    this.#tracker.observe(ev);
    if (this.#clients.size === 0) return;
    if (this.#queue.length >= MAX_QUEUED) {
      this.#queue.length = 0;
      this.#resync = true;
    }
    if (!this.#resync) this.#queue.push(ev);
  }

  /** Answers a request for one of isPagePath's paths. */
  async serve(req, res) {
    const url = new URL(req.url, 'http://gateway');
    const path = url.pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'GET only\n', { allow: 'GET, HEAD' });

    // The key: header, ?key= (then a cookie and a redirect without it), or the cookie.
    const key = url.searchParams.get('key');
    if (key !== null) {
      if (this.#token && !(await this.#keyCheck(`Bearer ${key}`))) return this.#refuse(res, path);
      url.searchParams.delete('key');
      const headers = { location: `${path === '/ui' ? '/ui/' : path}${url.search}` };
      if (this.#token) headers['set-cookie'] = `${COOKIE}=${this.#token}; Path=/; HttpOnly; SameSite=Strict`;
      return send(res, 303, 'text/plain; charset=utf-8', 'see the page without the key\n', headers);
    }
    if (this.#token && !this.#hasCookie(req.headers.cookie) && !(await this.#keyCheck(req.headers.authorization)))
      return this.#refuse(res, path);

    if (path === '/ui') return redirect(res, '/ui/');
    if (path === '/ui/') return this.#file(res, 'js/ui/dashboard.html');
    if (path === '/ui/events') return this.#events(req, res);
    if (path === '/ui/state') return send(res, 200, 'application/json', JSON.stringify(this.#snapshot()));
    if (path.startsWith('/ui/assets/')) {
      const name = path.slice('/ui/assets/'.length);
      if (UI_ASSETS.has(name)) return this.#file(res, `js/ui/${name}`);
    }
    if (path === '/demo' || path === '/demo/') return redirect(res, '/demo/examples/browser/');
    if (path.startsWith('/demo/')) {
      const file = demoFile(path.slice('/demo/'.length));
      if (file) return this.#file(res, file);
    }
    return send(res, 404, 'text/plain; charset=utf-8', `no page ${path}\n`);
  }

  #hasCookie(header) {
    if (!header) return false;
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0 || part.slice(0, eq).trim() !== COOKIE) continue;
      const a = Buffer.from(part.slice(eq + 1).trim());
      const b = Buffer.from(this.#token);
      if (a.length === b.length && timingSafeEqual(a, b)) return true;
    }
    return false;
  }

  #refuse(res, path) {
    if (path === '/ui/events' || path === '/ui/state') {
      return send(res, 401, 'application/json', JSON.stringify({
        error: { message: 'invalid or missing key: open /ui?key=<master key>, or send Authorization: Bearer <master key>', type: 'authentication_error', code: 'invalid_api_key' },
      }));
    }
    return send(res, 401, 'text/html; charset=utf-8',
      '<!doctype html><meta charset="utf-8"><title>Switchyard: key needed</title>' +
      '<body style="font-family:system-ui,sans-serif;margin:3em;color:#1c2333">' +
      '<h1>This gateway wants its master key</h1><p>Open <code>' + esc(path) + '?key=&lt;master key&gt;</code> once; ' +
      'the page then keeps a cookie (a digest of the key, not the key) and drops the key from the address.</p>');
  }

  async #file(res, rel) {
    let bytes;
    try {
      bytes = await readFile(new URL(rel, ROOT));
    } catch {
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    const ext = rel.slice(rel.lastIndexOf('.') + 1);
    return send(res, 200, TYPES[ext], bytes, { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  }

  #snapshot() {
    this.#activate(); // a page asking for the state is about to watch
    return {
      now: Date.now(),
      windowMs: this.#tracker.windowMs,
      maxRequests: MAX_REQUESTS,
      tracker: this.#tracker.snapshot(),
      health: this.#router.health(),
      store: this.#router.store.status?.() ?? { kind: 'memory' },
    };
  }

  #events(req, res) {
    res.writeHead(200, {
      'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    this.#clients.add(res);
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = null;
    res.write(`retry: 2000\n\nevent: snapshot\ndata: ${JSON.stringify(this.#snapshot())}\n\n`);
    this.#flushTimer ??= setInterval(() => this.#flush(), FLUSH_MS);
    this.#healthTimer ??= setInterval(() => this.#broadcast(`event: health\ndata: ${JSON.stringify({ now: Date.now(), health: this.#router.health() })}\n\n`), HEALTH_MS);
    this.#flushTimer.unref?.();
    this.#healthTimer.unref?.();
    res.on('close', () => this.#drop(res));
  }

  #activate() {
    if (!this.#active) {
      this.#tracker = new Tracker({ maxRequests: MAX_REQUESTS });
      this.#tracker.setHealth(this.#router.health());
      this.#active = true;
    }
    if (!this.#clients.size) this.#linger(); // asked for /ui/state only: record a minute, then stop
  }

  /** Keeps recording a little while with no page connected (a reload then shows a continuous past), then stops. */
  #linger() {
    clearTimeout(this.#lingerTimer);
    this.#lingerTimer = setTimeout(() => {
      this.#lingerTimer = null;
      if (this.#clients.size) return;
      this.#active = false;
      this.#tracker = null;
    }, LINGER_MS);
    this.#lingerTimer.unref?.();
  }

  #drop(res) {
    if (!this.#clients.delete(res) || this.#clients.size) return;
    clearInterval(this.#flushTimer);
    clearInterval(this.#healthTimer);
    this.#flushTimer = this.#healthTimer = null;
    this.#queue.length = 0;
    this.#resync = false;
    this.#linger();
  }

  #flush() {
    if (this.#resync) {
      this.#resync = false;
      this.#broadcast(`event: snapshot\ndata: ${JSON.stringify(this.#snapshot())}\n\n`);
      return;
    }
    if (!this.#queue.length) return;
    const frame = `event: events\ndata: ${JSON.stringify(this.#queue)}\n\n`;
    this.#queue.length = 0;
    this.#broadcast(frame);
  }

  #broadcast(frame) {
    for (const res of this.#clients) {
      if (res.writableLength > MAX_UNSENT) {
        res.destroy(); // a page that does not read is cut, not buffered for
        continue;
      }
      res.write(frame);
    }
  }

  /** Pages connected now. */
  get clients() { return this.#clients.size; }

  /** Whether events are being recorded (a page is connected, or left less than a minute ago). */
  get recording() { return this.#active; }

  /** Ends every event stream (the gateway is closing) and stops recording. */
  close() {
    for (const res of [...this.#clients]) res.end();
    this.#clients.clear();
    clearInterval(this.#flushTimer);
    clearInterval(this.#healthTimer);
    clearTimeout(this.#lingerTimer);
    this.#flushTimer = this.#healthTimer = this.#lingerTimer = null;
    this.#active = false;
    this.#tracker = null;
  }
}

/**
 * The file of the package a /demo/<rest> URL names, or null: the demo's own
 * directory, js/**.js|.css and wasm/switchyard.wasm, nothing else. Each
 * segment is a plain name (no dot first, no escapes), so nothing climbs out.
 */
function demoFile(rest) {
  if (rest === 'wasm/switchyard.wasm') return rest;
  if (rest === 'examples/browser/') return 'examples/browser/index.html';
  const segs = rest.split('/');
  if (!segs.every((s) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(s))) return null;
  if (segs[0] === 'examples' && segs[1] === 'browser' && segs.length === 3 && /\.(html|js|css)$/.test(segs[2])) return rest;
  if (segs[0] === 'js' && segs.length >= 2 && /\.(js|css)$/.test(segs.at(-1))) return rest;
  return null;
}

function redirect(res, location) {
  return send(res, 302, 'text/plain; charset=utf-8', `see ${location}\n`, { location });
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { ...headers, 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(res.req?.method === 'HEAD' ? undefined : body);
}

function esc(s) {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
