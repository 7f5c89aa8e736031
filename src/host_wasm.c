/* host_wasm.c: the wasm import/export boundary (host.h describes the ABI).
 * Built only into the .wasm modules. Every export reads the clock once and
 * passes it down. */
#include <stdint.h>
#include <string.h>

#include "host.h"
#include "request.h"
#include "sy.h"

#define IMPORT(name) __attribute__((import_module("sy_host"), import_name(name)))
#define EXPORT(name) __attribute__((export_name(name), visibility("default"), used))

IMPORT("now_ms") double imp_now_ms(void);
IMPORT("fetch_start")
void imp_fetch_start(int32_t attempt, const char *head, int32_t head_len, const char *body,
                     int32_t body_len);
IMPORT("fetch_abort") void imp_fetch_abort(int32_t attempt);
IMPORT("timer_start") void imp_timer_start(int32_t timer, double delay_ms);
IMPORT("timer_cancel") void imp_timer_cancel(int32_t timer);
IMPORT("deliver") void imp_deliver(int32_t request, const char *json, int32_t len);
IMPORT("emit") void imp_emit(const char *json, int32_t len);
IMPORT("chunk") void imp_chunk(int32_t request, const char *frames, int32_t len);
IMPORT("kv_get") int32_t imp_kv_get(const char *key, int32_t key_len, char *out, int32_t cap);
IMPORT("kv_put")
void imp_kv_put(const char *key, int32_t key_len, const char *val, int32_t val_len, double ttl);
IMPORT("kv_add") double imp_kv_add(const char *key, int32_t key_len, double delta, double ttl);

static sy_ms w_now(void *u) { return (void)u, imp_now_ms(); }
static void w_fetch_start(void *u, int32_t a, const char *h, size_t hl, const char *b, size_t bl) {
  (void)u;
  imp_fetch_start(a, h, (int32_t)hl, b, (int32_t)bl);
}
static void w_fetch_abort(void *u, int32_t a) { (void)u, imp_fetch_abort(a); }
static void w_timer_start(void *u, int32_t t, sy_ms d) { (void)u, imp_timer_start(t, d); }
static void w_timer_cancel(void *u, int32_t t) { (void)u, imp_timer_cancel(t); }
static void w_deliver(void *u, int32_t q, const char *j, size_t n) {
  (void)u;
  imp_deliver(q, j, (int32_t)n);
}
static void w_emit(void *u, const char *j, size_t n) { (void)u, imp_emit(j, (int32_t)n); }
static void w_chunk(void *u, int32_t q, const char *f, size_t n) {
  (void)u;
  imp_chunk(q, f, (int32_t)n);
}
static int32_t w_kv_get(void *u, const char *k, size_t kl, char *o, size_t cap) {
  (void)u;
  return imp_kv_get(k, (int32_t)kl, o, (int32_t)cap);
}
static void w_kv_put(void *u, const char *k, size_t kl, const char *v, size_t vl, sy_ms ttl) {
  (void)u;
  imp_kv_put(k, (int32_t)kl, v, (int32_t)vl, ttl);
}
static double w_kv_add(void *u, const char *k, size_t kl, double d, sy_ms ttl) {
  (void)u;
  return imp_kv_add(k, (int32_t)kl, d, ttl);
}

static const sy_host wasm_host = {.now_ms = w_now,
                                  .fetch_start = w_fetch_start,
                                  .fetch_abort = w_fetch_abort,
                                  .timer_start = w_timer_start,
                                  .timer_cancel = w_timer_cancel,
                                  .deliver = w_deliver,
                                  .chunk = w_chunk,
                                  .emit = w_emit,
                                  .kv_get = w_kv_get,
                                  .kv_put = w_kv_put,
                                  .kv_add = w_kv_add};

/* What the host holds: the router, or the reason there is none. */
typedef struct handle {
  sy_router *router;
  sy_buf error;
  sy_buf describe; /* the last sy_router_describe answer */
} handle;

EXPORT("sy_alloc") void *x_alloc(int32_t n) { return sy_malloc(n > 0 ? (size_t)n : 1); }
EXPORT("sy_free") void x_free(void *p) { sy_free(p); }
EXPORT("sy_heap_bytes") int32_t x_heap_bytes(void) { return (int32_t)sy_heap_bytes(); }

/* Returns a handle even when the config is rejected, so the host can read
 * the reason; 0 only when even that cannot be allocated. */
EXPORT("sy_router_new")
handle *x_router_new(const char *cfg, int32_t len, uint32_t seed_lo, uint32_t seed_hi) {
  handle *h = sy_calloc(1, sizeof *h);
  if (!h) return NULL;
  sy_buf_init(&h->error);
  uint64_t seed = (uint64_t)seed_hi << 32 | seed_lo;
  int rc = sy_router_new(cfg, (size_t)len, seed, &wasm_host, &h->router, &h->error);
  if (rc < 0 && h->error.len == 0) sy_buf_puts(&h->error, sy_strerror(rc));
  return h;
}

EXPORT("sy_router_error") const char *x_router_error(handle *h) {
  return h->router ? NULL : sy_buf_cstr(&h->error);
}

EXPORT("sy_router_free") void x_router_free(handle *h) {
  if (!h) return;
  sy_router_free(h->router);
  sy_buf_free(&h->error);
  sy_buf_free(&h->describe);
  sy_free(h);
}

EXPORT("sy_request_begin") int32_t x_begin(handle *h, const char *body, int32_t len) {
  if (!h->router) return SY_ERR_STATE;
  return sy_router_begin(h->router, body, (size_t)len, imp_now_ms());
}

EXPORT("sy_request_embeddings") int32_t x_embeddings(handle *h, const char *body, int32_t len) {
  if (!h->router) return SY_ERR_STATE;
  return sy_router_begin_embeddings(h->router, body, (size_t)len, imp_now_ms());
}

EXPORT("sy_request_cancel") void x_cancel(handle *h, int32_t id) {
  if (h->router) sy_router_cancel(h->router, id, imp_now_ms());
}

EXPORT("sy_on_response")
void x_on_response(handle *h, int32_t a, int32_t status, const char *hd, int32_t len) {
  if (h->router) sy_router_on_response(h->router, a, status, hd, (size_t)len, imp_now_ms());
}

EXPORT("sy_on_body") void x_on_body(handle *h, int32_t a, const char *p, int32_t len) {
  if (h->router) sy_router_on_body(h->router, a, p, (size_t)len, imp_now_ms());
}

EXPORT("sy_on_end") void x_on_end(handle *h, int32_t a) {
  if (h->router) sy_router_on_end(h->router, a, imp_now_ms());
}

EXPORT("sy_on_error") void x_on_error(handle *h, int32_t a, const char *msg, int32_t len) {
  if (h->router) sy_router_on_error(h->router, a, msg, (size_t)len, imp_now_ms());
}

EXPORT("sy_on_timer") void x_on_timer(handle *h, int32_t timer) {
  if (h->router) sy_router_on_timer(h->router, timer, imp_now_ms());
}

/* The deployments and their health as NUL-terminated JSON, valid until the
 * next call; 0 when out of memory. */
EXPORT("sy_router_describe") const char *x_describe(handle *h) {
  if (!h->router) return NULL;
  sy_buf_reset(&h->describe);
  if (sy_router_describe(h->router, imp_now_ms(), &h->describe) < 0) return NULL;
  return sy_buf_cstr(&h->describe);
}

EXPORT("sy_router_inflight") int32_t x_inflight(handle *h) {
  return h->router ? (int32_t)sy_router_inflight(h->router) : 0;
}

EXPORT("sy_store_watched") void x_store_watched(handle *h) {
  if (h->router) sy_router_store_watched(h->router);
}

/* |key| 0: any key may have changed. */
EXPORT("sy_store_changed") void x_store_changed(handle *h, const char *key, int32_t len) {
  if (h->router) sy_router_store_changed(h->router, key, key ? (size_t)len : 0);
}

/* The id of the deployment a request for |group| (NUL-terminated) would go
 * to now, NUL-terminated; 0 when none. */
EXPORT("sy_router_route") const char *x_route(handle *h, const char *group) {
  return h->router ? sy_router_route(h->router, group, imp_now_ms()) : NULL;
}
