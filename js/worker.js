// The Cloudflare Worker: the same OpenAI-compatible endpoints as the Node
// gateway (the handler of js/http.js), over fetch, with health shared
// through a Durable Object.
//
//   import { createWorker, SwitchyardState } from 'switchyard/worker';
//   export { SwitchyardState };
//   export default createWorker(config);
//
// One Router per isolate, made on the first request from the config and the
// Worker's env (os.environ/NAME reads a secret binding) and kept while the
// isolate lives. Its store is a SharedStore: the core reads and writes a
// local view synchronously, and the view is synced with the Durable Object
// in at most one round trip per request, inside that request's waitUntil,
// once its answer is ready (a stream's at its first token). Routing never
// waits for it. workerd ties I/O to the request that started it, so no sync
// outlives its request or runs in another's; the price is that writes made
// while another request's sync is in flight go out with the next request's.
import { Router } from './workerd.js';
import { resolveConfig } from './config.js';
import { createHandler, keyCheck } from './http.js';
import { SharedStore } from './store/shared.js';
import { DurableObjectBackend, SwitchyardState } from './store/durable.js';

export { SwitchyardState };

const encoder = new TextEncoder();

/**
 * @param {object | string} config LiteLLM proxy config, object or YAML text
 * @param {import('./worker.d.ts').WorkerOptions} [options]
 * @returns {{ fetch(request: Request, env: Record<string, any>, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<Response> }}
 */
export function createWorker(config, options = {}) {
  const binding = options.binding ?? 'SWITCHYARD_STATE';
  const syncAfterMs = options.syncIntervalMs ?? 100;
  /** @type {Promise<Isolate> | null} */
  let isolate = null;

  return {
    async fetch(request, env, ctx) {
      isolate ??= boot(config, env, binding, options);
      let it;
      try {
        it = await isolate;
      } catch (err) {
        // A bad config or a missing secret: every request says why (the
        // messages name keys and variables, never a secret's value).
        return Response.json({ error: { message: String(err?.message ?? err), type: 'api_error', code: 'invalid_config' } }, { status: 500 });
      }
      const reply = await it.handle({
        method: request.method,
        path: new URL(request.url).pathname,
        authorization: request.headers.get('authorization') ?? undefined,
        contentLength: Number(request.headers.get('content-length') ?? 0),
        body: () => request.body ?? [],
      });
      // This request's one sync, if there is a reason: writes waiting, or a
      // view older than syncAfterMs (then it is a poll). Never awaited here.
      if (it.store && !it.syncing && (it.store.pending > 0 || Date.now() - it.syncedAt > syncAfterMs)) {
        it.syncing = it.store.sync().finally(() => {
          it.syncing = null;
          it.syncedAt = Date.now();
        });
        ctx.waitUntil(it.syncing);
      }
      if (!reply.stream) return new Response(reply.body, { status: reply.status, headers: reply.headers });
      const frames = reply.stream[Symbol.asyncIterator]();
      const body = new ReadableStream({
        async pull(controller) {
          const { value, done } = await frames.next();
          if (done) controller.close();
          else controller.enqueue(encoder.encode(value));
        },
        // The client went away. workerd cancels the request's subrequests by
        // itself, but the core would never hear of it (the reads just stop):
        // cancelling ends the core's request and its timers now.
        cancel: () => reply.cancel(),
      });
      return new Response(body, { status: reply.status, headers: reply.headers });
    },
  };
}

/**
 * @typedef {{ handle: ReturnType<typeof createHandler>, store: SharedStore | null,
 *   syncing: Promise<void> | null, syncedAt: number }} Isolate
 */

/** The isolate's Router and handler, from the config and the first request's env. */
async function boot(config, env, binding, options) {
  const resolved = resolveConfig(config, env).config;
  const namespace = env[binding];
  let store = null;
  if (namespace) {
    // One object for the whole fleet: every isolate must meet in the same one.
    const id = namespace.idFromName(options.objectName ?? 'switchyard');
    store = new SharedStore({ autoPush: false });
    store.attach(new DurableObjectBackend(() => namespace.get(id)));
  } else {
    console.warn(`switchyard: no Durable Object binding ${binding}: health is kept per isolate`);
  }
  const router = await Router.create(resolved, { env, store: store ?? undefined, fetch: options.fetch });
  const groups = [...new Set((resolved?.model_list ?? []).map((d) => d.model_name))];
  const handle = createHandler({
    router: async () => router,
    groups: async () => groups,
    authorized: keyCheck(resolved?.general_settings?.master_key,
      async (text) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text)))),
    log: options.log ?? ((line) => console.log(line)),
    maxBodyBytes: options.maxBodyBytes,
  });
  return { handle, store, syncing: null, syncedAt: 0 };
}
