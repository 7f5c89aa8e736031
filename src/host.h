/* host.h: the boundary between the core and its host.
 *
 * The core never blocks and never does I/O. The host (JS in the wasm builds,
 * a scripted C host in the native tests) calls the core's entry points; the
 * core asks for work through the callbacks of sy_host; the host reports
 * completions back through further entry points. Nothing re-enters: a
 * callback must not call any sy_router_* function. The JS binding queues the
 * reports (responses, bodies, timers, cancel) made from inside a callback
 * until the entry point returns, and refuses a begin there (it must return
 * an id; the Router defers it to a microtask). An import that throws must
 * not unwind through the core: the binding catches it, answers as if the
 * store had nothing (kv_get absent, kv_add returns the delta), and rethrows
 * it from a microtask.
 *
 * ---- The wasm ABI (module "sy_host" imports, explicit exports) ----
 * All pointers are offsets into the module's memory; strings are UTF-8 with
 * a length (no NUL). Bytes handed to an import are valid only during it.
 *
 * Imports (module "sy_host"):
 *   now_ms() -> f64                       clock; read once per entry point
 *   fetch_start(attempt i32, head i32, head_len i32, body i32, body_len i32)
 *       head: JSON {"method","url","headers":{name:value},"stream":bool}.
 *       The host sends it and later calls sy_on_response, sy_on_body*,
 *       sy_on_end, or sy_on_error for this attempt id.
 *   fetch_abort(attempt i32)              stop it; report nothing more for it
 *   timer_start(timer i32, delay_ms f64)  call sy_on_timer(timer) after delay
 *   timer_cancel(timer i32)               that call is no longer wanted
 *   deliver(request i32, json i32, len i32)  the request's one answer (below)
 *   chunk(request i32, frames i32, len i32)  a streamed request's bytes: one
 *       or more OpenAI SSE frames ("data: {...}\n\n"), sent only once the
 *       stream committed at its first content token; its deliver follows
 *   emit(json i32, len i32)               one event (below)
 *   kv_get(key i32, key_len i32, out i32, cap i32) -> i32
 *       -1: absent or expired; else the value's length n, copied to out
 *       when n <= cap (the core asks again with a larger buffer otherwise)
 *   kv_put(key i32, key_len i32, val i32, val_len i32, ttl_ms f64)
 *       ttl_ms <= 0 = no expiry. Keys and values are UTF-8 text: the core
 *       writes only numbers, class names and deployment ids
 *   kv_add(key i32, key_len i32, delta f64, ttl_ms f64) -> f64
 *       adds to a numeric value, creating it (with the TTL, which is not
 *       renewed by later adds: a fixed window) when absent; returns the sum
 *
 * Exports:
 *   sy_alloc(n i32) -> i32, sy_free(p i32)   for the bytes the host passes in
 *   sy_heap_bytes() -> i32                    live bytes of the core's heap
 *   sy_router_new(cfg i32, len i32, seed_lo i32, seed_hi i32) -> i32 router
 *       0 only when out of memory. Check sy_router_error before use.
 *   sy_router_error(router i32) -> i32        NUL-terminated text, 0 if none
 *   sy_router_free(router i32)
 *   sy_request_begin(router, body i32, len i32) -> i32 request id (> 0), or
 *       a negative sy_status when out of memory. Every id that is returned
 *       gets exactly one deliver, possibly before sy_request_begin returns.
 *   sy_request_embeddings(router, body i32, len i32) -> i32   the same for
 *       an embeddings body; its answer's "response" is the embeddings list
 *   sy_request_cancel(router, request i32)   the client went away: aborts
 *       its attempts and delivers status 499
 *   sy_on_response(router, attempt i32, status i32, headers i32, len i32)
 *       headers: "name:value\n" lines, names lower-case
 *   sy_on_body(router, attempt i32, bytes i32, len i32)   any split
 *   sy_on_end(router, attempt i32)
 *   sy_on_error(router, attempt i32, msg i32, len i32)    transport failure
 *   sy_on_timer(router, timer i32)
 *   sy_router_inflight(router) -> i32         requests not yet delivered
 *   sy_store_watched(router)                  the host reports every store
 *       change this router's kv calls did not make (another instance's
 *       writes, a resync) through sy_store_changed; from then on the router
 *       keeps a copy of the keys it reads (health.h: what that costs)
 *   sy_store_changed(router, key i32, len i32)   that key changed; key 0:
 *       any may have. Calls no import, so it may come from inside another
 *       router's import
 *   sy_router_route(router, group i32) -> i32   the routing decision alone
 *       (request.h): the NUL-terminated id of the deployment a request for
 *       the NUL-terminated model group would go to now, 0 when none
 *   sy_router_describe(router) -> i32         NUL-terminated JSON of the
 *       deployments and their health (request.h), valid until the next call
 * The wasi build also exports _initialize (call it once first).
 *
 * deliver JSON:
 *   {"id":N,"status":200,"response":{chat.completion},"route":ROUTE}
 *   {"id":N,"status":200,"stream":true,"route":ROUTE}   a stream that ended well
 *   {"id":N,"status":S,"error":{"message","type","code"},"route":ROUTE,
 *    "retry_after_ms":M?}
 *   ROUTE = {"model_group","deployment","model","attempts","fallbacks",
 *            "tries":[{"deployment","group","status","class","latency_ms"}]}
 * event JSON: {"t":ms,"type":...,"req":N,...}, types: config_warning,
 *   request, attempt_start, attempt_end, first_token (a stream commits:
 *   from then on a failure ends it with an {"error":...} chunk and an error
 *   deliver), backoff, cooldown, fallback,
 *   deliver; and of the mechanisms beyond LiteLLM's (README): breaker_open
 *   (deployment, group, reason, until, times), breaker_close, probe,
 *   retry_denied, hedge. Neither ever holds an API key.
 */
#ifndef SY_HOST_H
#define SY_HOST_H

#include <stdint.h>

#include "sy.h"

/* The host's services. Every member is required. */
typedef struct sy_host {
  void *user;
  sy_ms (*now_ms)(void *user);
  void (*fetch_start)(void *user, int32_t attempt, const char *head, size_t head_len,
                      const char *body, size_t body_len);
  void (*fetch_abort)(void *user, int32_t attempt);
  void (*timer_start)(void *user, int32_t timer, sy_ms delay_ms);
  void (*timer_cancel)(void *user, int32_t timer);
  void (*deliver)(void *user, int32_t request, const char *json, size_t len);
  void (*chunk)(void *user, int32_t request, const char *frames, size_t len);
  void (*emit)(void *user, const char *json, size_t len);
  int32_t (*kv_get)(void *user, const char *key, size_t key_len, char *out, size_t cap);
  void (*kv_put)(void *user, const char *key, size_t key_len, const char *val, size_t val_len,
                 sy_ms ttl_ms);
  double (*kv_add)(void *user, const char *key, size_t key_len, double delta, sy_ms ttl_ms);
} sy_host;

#endif /* SY_HOST_H */
