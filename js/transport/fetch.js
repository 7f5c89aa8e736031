// The default transport: the core's fetch_start over a WHATWG fetch
// function (Node's, a Worker's, a browser's, or the mock's in-process one).

/**
 * @param {typeof fetch} fetchFn
 * @param {import('../core/binding.js').Core} core
 */
export function createFetchTransport(fetchFn, core) {
  /** @type {Map<number, AbortController>} */
  const live = new Map();

  async function run(attempt, head, body, ctl) {
    // An aborted attempt reports nothing more: the core has moved on.
    const fail = (err) => {
      if (live.get(attempt) !== ctl) return;
      live.delete(attempt);
      core.onError(attempt, describe(err));
    };
    let res;
    try {
      res = await fetchFn(head.url, { method: head.method, headers: head.headers, body, signal: ctl.signal });
    } catch (err) {
      fail(err);
      return;
    }
    if (live.get(attempt) !== ctl) return;
    let lines = '';
    for (const [name, value] of res.headers) lines += `${name}:${value}\n`;
    core.onResponse(attempt, res.status, lines);
    try {
      if (res.body) {
        for await (const chunk of res.body) {
          if (live.get(attempt) !== ctl) return;
          core.onBody(attempt, chunk);
        }
      }
    } catch (err) {
      fail(err);
      return;
    }
    if (live.get(attempt) !== ctl) return;
    live.delete(attempt);
    core.onEnd(attempt);
  }

  return {
    /** @param {number} attempt @param {string} headText @param {Uint8Array} body */
    start(attempt, headText, body) {
      const ctl = new AbortController();
      live.set(attempt, ctl);
      // Started from a task of its own: the core is still inside fetch_start.
      queueMicrotask(() => run(attempt, JSON.parse(headText), body, ctl));
    },
    abort(attempt) {
      const ctl = live.get(attempt);
      live.delete(attempt);
      ctl?.abort();
    },
    abortAll() {
      for (const ctl of live.values()) ctl.abort();
      live.clear();
    },
  };
}

/** A transport failure as text for the core: kind and code, never headers (they hold keys). */
export function describe(err) {
  const cause = err?.cause;
  const code = cause?.code || err?.code;
  const what = err?.name === 'AbortError' ? 'aborted' : err?.message || String(err);
  return code ? `${what} (${code})` : what;
}
