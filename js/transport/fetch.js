// The default transport: the core's fetch_start over a WHATWG fetch
// function (Node's, a Worker's, a browser's, or the mock's in-process one).

/**
 * @param {typeof fetch} fetchFn
 * @param {import('../core/binding.js').Core} core
 */
export function createFetchTransport(fetchFn, core) {
  // A cell per attempt in flight, which lets go of its controller when the
  // attempt ends: a Map's deleted entry can stay reachable for the scavenger
  // until a full GC (js/transport/node.js says what that costs).
  /** @type {Map<number, { ctl: AbortController | null }>} ctl null: ended */
  const live = new Map();

  function close(attempt, cell) {
    live.delete(attempt);
    cell.ctl = null;
  }

  async function run(attempt, cell, head, body) {
    // An aborted attempt reports nothing more: the core has moved on. One
    // aborted before this task ran (a hedge lost, the request cancelled in
    // the same entry point) is never sent at all.
    if (!cell.ctl) return;
    const fail = (err) => {
      if (!cell.ctl) return;
      close(attempt, cell);
      core.onError(attempt, describe(err, head));
    };
    let res;
    try {
      res = await fetchFn(head.url, { method: head.method, headers: head.headers, body, signal: cell.ctl.signal });
    } catch (err) {
      fail(err);
      return;
    }
    if (!cell.ctl) return;
    let lines = '';
    for (const [name, value] of res.headers) lines += `${name}:${value}\n`;
    core.onResponse(attempt, res.status, lines);
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          if (!cell.ctl) return;
          core.onBody(attempt, chunk);
        }
      }
    } catch (err) {
      fail(err);
      return;
    }
    if (!cell.ctl) return;
    close(attempt, cell);
    core.onEnd(attempt);
  }

  return {
    /** @param {number} attempt @param {string} headText @param {Uint8Array} body */
    start(attempt, headText, body) {
      const cell = { ctl: new AbortController() };
      live.set(attempt, cell);
      // Started from a task of its own: the core is still inside fetch_start.
      queueMicrotask(() => run(attempt, cell, JSON.parse(headText), body));
    },
    abort(attempt) {
      const cell = live.get(attempt);
      if (!cell) return;
      const { ctl } = cell;
      close(attempt, cell);
      ctl?.abort();
    },
    abortAll() {
      for (const [attempt, cell] of live) {
        const { ctl } = cell;
        close(attempt, cell);
        ctl?.abort();
      }
    },
  };
}

/**
 * A transport failure as text for the core: kind and code, never a secret.
 * fetch's own messages can quote what it was given ("Headers.append: \"Bearer
 * sk-...\" is an invalid header value", "...a URL that includes credentials:
 * http://user:pass@..."), so every header value and the URL's user and
 * password are cut out of the text before it leaves the host.
 * @param {unknown} err
 * @param {{url?: string, headers?: Record<string, string>}} [head] the request that failed
 */
export function describe(err, head) {
  const e = /** @type {any} */ (err);
  const cause = e?.cause;
  // Node's codes are strings (ECONNREFUSED); a DOMException's legacy number is not one.
  const code = [cause?.code, e?.code].find((c) => typeof c === 'string' && c);
  let what = e?.name === 'AbortError' ? 'aborted' : e?.message || String(err);
  // undici's "fetch failed" says why only in its cause ("bad port", "invalid method").
  if (!code && typeof cause?.message === 'string' && cause.message && e?.name !== 'AbortError') what += `: ${cause.message}`;
  for (const secret of secretsOf(head)) what = what.split(secret).join('[redacted]');
  return code ? `${what} (${code})` : what;
}

/** Strings of |head| that must not appear in a message, longest first. */
function secretsOf(head) {
  const out = new Set();
  const add = (v) => {
    if (typeof v !== 'string') return;
    const t = v.trim();
    // Short values (a "1", "true") would only shred the message; a key is long.
    if (t.length >= 6) out.add(t);
    // "Bearer sk-..." may be quoted without its scheme.
    const sp = t.indexOf(' ');
    if (sp > 0 && t.length - sp - 1 >= 6) out.add(t.slice(sp + 1));
  };
  for (const v of Object.values(head?.headers ?? {})) add(v);
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(head?.url ?? '');
  if (m) {
    const [user, pass] = m[1].split(':');
    for (const v of [m[1], pass, user]) if (v && v.length >= 3) out.add(v);
    for (const v of [m[1], pass, user]) if (v) try { const d = decodeURIComponent(v); if (d.length >= 3) out.add(d); } catch {}
  }
  return [...out].sort((a, b) => b.length - a.length);
}
