/* request.h: the router, and the state machine of each request it serves.
 *
 * A request moves through attempts: pick a deployment of its model group
 * (select), build the upstream call (providers), send it (host), classify
 * the answer (providers), then decide (policy): deliver, retry at once on
 * another healthy deployment, fall back to the next group, wait and retry,
 * or fail. Health (cooldowns, failure windows) is updated from every
 * outcome before the decision, so the decision sees it.
 *
 * Bounds, so retries never multiply across fallbacks: a request makes at
 * most 1 + R + F upstream attempts, where R is its retry limit (policy.h)
 * and F is max_fallbacks: every attempt after the first is either a retry
 * (counted against R, whichever group it is in) or the first attempt in a
 * fallback group (counted against F). One deadline (the request's
 * `timeout`, else the router's) covers all of them; the per-attempt
 * timeout is separate and never outlives the deadline.
 *
 * Every entry point takes |now|, the host clock read once by the caller.
 */
#ifndef SY_REQUEST_H
#define SY_REQUEST_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"
#include "sy.h"

typedef struct sy_router sy_router;

/* sy_router_new builds a router from the config JSON at |cfg| (|len|
 * bytes), seeding its PRNG with |seed|. |host| is copied; its callbacks
 * must stay valid until sy_router_free. Config warnings are emitted as
 * config_warning events during the call. On SY_ERR_CONFIG or SY_ERR_PARSE,
 * |err| (may be NULL) gets the path and what was expected. The caller owns
 * |*prouter|. Returns 0, SY_ERR_PARSE, SY_ERR_CONFIG or SY_ERR_NOMEM. */
int sy_router_new(const char *cfg, size_t len, uint64_t seed, const sy_host *host,
                  sy_router **prouter, sy_buf *err);

/* Frees |r|. Requests still in flight are abandoned without delivery and
 * their attempts aborted. NULL is allowed. */
void sy_router_free(sy_router *r);

/* sy_router_begin starts a request from the client body at |body| (an
 * OpenAI chat-completion object with Switchyard's per-request keys:
 * num_retries, timeout (s), fallbacks, disable_fallbacks, metadata,
 * api_key, api_base, api_version). The body is copied. Returns the request
 * id (> 0), which receives exactly one deliver, possibly before this
 * returns (bad input is answered at once), or SY_ERR_NOMEM with nothing
 * started. */
int32_t sy_router_begin(sy_router *r, const char *body, size_t len, sy_ms now);

/* sy_router_begin_embeddings is sy_router_begin for an OpenAI embeddings
 * body ({"model","input",...}): the same routing, retries, fallbacks and
 * cooldowns; the answer is the provider's embeddings list. */
int32_t sy_router_begin_embeddings(sy_router *r, const char *body, size_t len, sy_ms now);

/* The client went away: aborts request |id|'s attempt and delivers 499.
 * Unknown ids are ignored. */
void sy_router_cancel(sy_router *r, int32_t id, sy_ms now);

/* Completion reports for attempt |attempt|, as host.h describes them.
 * Reports for unknown or finished attempts are ignored. Bytes are copied. */
void sy_router_on_response(sy_router *r, int32_t attempt, int status, const char *headers,
                           size_t len, sy_ms now);
void sy_router_on_body(sy_router *r, int32_t attempt, const char *bytes, size_t len, sy_ms now);
void sy_router_on_end(sy_router *r, int32_t attempt, sy_ms now);
void sy_router_on_error(sy_router *r, int32_t attempt, const char *msg, size_t len, sy_ms now);

/* Timer |timer| (from a timer_start call) fired. Stale timers are ignored. */
void sy_router_on_timer(sy_router *r, int32_t timer, sy_ms now);

/* sy_router_describe appends to |out| the router's deployments and their
 * health at |now|, as JSON: {"deployments":[{"id","model_group","model",
 * "cooling_until" (ms, 0 when healthy),"reason","failures","rpm","tpm",
 * "inflight" (usage as health.h counts it),"breaker" (null, "open" or
 * "half_open"),"breaker_until" (ms, 0 unless open)}]}. API keys
 * are never part of it. Returns 0 or SY_ERR_NOMEM. */
int sy_router_describe(sy_router *r, sy_ms now, sy_buf *out);

/* The host watches its store: from now on it calls sy_router_store_changed
 * for every change this router's kv calls did not make (another instance's
 * writes, a resync), and the router keeps a copy of the keys it reads
 * (health.h says what that costs). Without this call every read goes to
 * the store. */
void sy_router_store_watched(sy_router *r);

/* |key| (|len| bytes) changed in the store; NULL: any key may have. Only
 * invalidates: emits nothing and calls no callback, so a host may call it
 * from another router's callback. */
void sy_router_store_changed(sy_router *r, const char *key, size_t len);

/* The decision alone, as a dry run: the id of the deployment a request
 * for model group |group| (NUL-terminated) would be sent to at |now|, with
 * no tags, no prompt size and not streamed; NULL when the group is unknown
 * or none of it is available (or out of memory). Nothing is sent or
 * counted, but the pick draws from the router's random numbers as a
 * request's would. The id is the config's, valid until sy_router_free.
 * What bench/ times as the routing decision. */
const char *sy_router_route(sy_router *r, const char *group, sy_ms now);

/* Requests begun and not yet delivered. */
size_t sy_router_inflight(const sy_router *r);

#endif /* SY_REQUEST_H */
