/* fuzz_router.c: the whole state machine on fuzzed events, with failing
 * allocations.
 *
 * The input's first bytes pick a config template and the numbers put into
 * it (retries, allowed fails, cooldowns, timeouts, the mechanisms' knobs),
 * and whether the router's own creation runs out of memory; the rest is a
 * sequence of operations, as a host could report them in any order: begin
 * (a templated body with fuzzed keys, or raw bytes), embeddings,
 * on_response with a fuzzed status and header block, on_body with a canned
 * piece (JSON, SSE, errors) or raw bytes, on_end, on_error, a pending timer
 * fired (never before its time), the clock moved, cancel, the store gone or
 * back (with the router's copy of the store on for half the inputs, a
 * return reported whole or as one fuzzed key), and a failing allocation
 * (the n-th from now, once or from then on) for the next operation. Reports may name attempts the
 * core already finished or never had.
 *
 * Checked: no deliver ever twice; none for a begin that returned
 * SY_ERR_NOMEM; timers with finite delays >= 0; nothing re-entered. At the
 * end, with allocations working again, every request still in flight is
 * cancelled: then every id begin returned has had exactly one deliver,
 * nothing is in flight, stale timers fire harmlessly (no fetch, no
 * deliver), and once the router is freed the core's heap is back where it
 * was before it. ASan and UBSan watch everything else. */
#define _GNU_SOURCE /* memmem */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "fuzz_cjson.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXN 256 /* attempts, timers, requests, kv entries tracked */

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz_router: %s\n", what);
    __builtin_trap();
  }
}

/* ---- input ---- */
typedef struct in {
  const uint8_t *p;
  size_t n;
} in;
static unsigned u8(in *s) {
  if (!s->n) return 0;
  s->n--;
  return *s->p++;
}
static unsigned u16(in *s) { return u8(s) | u8(s) << 8; }
static const char *bytes(in *s, size_t *len) {
  size_t want = u8(s);
  if (want > s->n) want = s->n;
  const char *p = (const char *)s->p;
  s->p += want;
  s->n -= want;
  *len = want;
  return p;
}

/* ---- the host ---- */
typedef struct kvent {
  char key[200];
  char val[200];
  size_t len;
  double expires;
} kvent;

typedef struct fz {
  sy_ms now;
  int in_core, down, done;
  int32_t attempts[MAXN];
  size_t nattempts;
  struct {
    int32_t id;
    sy_ms due;
  } timers[MAXN];
  size_t ntimers;
  kvent kv[64];
  size_t nkv;
  /* deliveries by request id (ids are small here) */
  uint8_t delivered[65536];
  int32_t begun[MAXN];
  size_t nbegun;
  int delivers_in_call;
  int fetches_after_done;
} fz;

static fz F;
static int tracing = -1; /* SY_FUZZ_TRACE=1: each operation on stderr, for replays */
static void trace(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void trace(const char *fmt, ...) {
  if (tracing < 0) tracing = getenv("SY_FUZZ_TRACE") != NULL;
  if (!tracing) return;
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "t=%.0f ", F.now - 1.7e12);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static sy_ms h_now(void *u) {
  (void)u;
  return F.now;
}
static void h_fetch_start(void *u, int32_t att, const char *h, size_t hl, const char *b,
                          size_t bl) {
  (void)u, (void)h, (void)hl, (void)b, (void)bl;
  check(F.in_core, "fetch_start outside an entry point");
  trace("  fetch_start %d %.*s", att, (int)(hl < 160 ? hl : 160), h);
  check(!F.done, "an upstream call after every request was answered");
  if (F.nattempts < MAXN) F.attempts[F.nattempts++] = att;
}
static void h_fetch_abort(void *u, int32_t att) {
  (void)u;
  trace("  fetch_abort %d", att);
  for (size_t i = 0; i < F.nattempts; i++)
    if (F.attempts[i] == att) F.attempts[i] = F.attempts[--F.nattempts];
}
static void h_timer_start(void *u, int32_t t, sy_ms delay) {
  (void)u;
  check(F.in_core, "timer_start outside an entry point");
  check(isfinite(delay) && delay >= 0, "a timer with a delay that is not finite and >= 0");
  if (F.ntimers < MAXN) {
    F.timers[F.ntimers].id = t;
    F.timers[F.ntimers].due = F.now + delay;
    F.ntimers++;
  }
}
static void h_timer_cancel(void *u, int32_t t) {
  (void)u;
  for (size_t i = 0; i < F.ntimers; i++)
    if (F.timers[i].id == t) {
      F.timers[i] = F.timers[--F.ntimers];
      return;
    }
}
static void h_deliver(void *u, int32_t id, const char *json, size_t len) {
  (void)u;
  check(F.in_core, "deliver outside an entry point");
  check(!F.done, "a deliver after every request was answered");
  check(id > 0 && id < 65536, "deliver for an id out of range");
  check(len > 0 && json[0] == '{' && json[len - 1] == '}', "a deliver that is not an object");
  check(F.delivered[id] == 0, "a request delivered twice");
  F.delivered[id] = 1;
  trace("  deliver %.*s", (int)(len < 200 ? len : 200), json);
  F.delivers_in_call++;
}
static void h_chunk(void *u, int32_t id, const char *f, size_t len) {
  (void)u, (void)f;
  check(F.in_core, "chunk outside an entry point");
  check(id > 0 && id < 65536 && !F.delivered[id], "a chunk for a delivered request");
  check(len > 0, "an empty chunk");
}
static void h_emit(void *u, const char *json, size_t len) {
  (void)u;
  trace("  event %.*s", (int)len, json);
  check(len > 1 && json[0] == '{' && json[len - 1] == '}', "an event that is not an object");
  check(!memmem(json, len, "sk-fz-", 6), "an API key in an event");
}
static kvent *kv_find(const char *k, size_t kl) {
  for (size_t i = 0; i < F.nkv; i++)
    if (strlen(F.kv[i].key) == kl && !memcmp(F.kv[i].key, k, kl)) {
      if (F.kv[i].expires && F.kv[i].expires <= F.now) {
        F.kv[i] = F.kv[--F.nkv];
        return NULL;
      }
      return &F.kv[i];
    }
  return NULL;
}
static kvent *kv_set(const char *k, size_t kl, const char *v, size_t vl, sy_ms ttl) {
  if (kl >= sizeof F.kv[0].key || vl >= sizeof F.kv[0].val) return NULL;
  kvent *e = kv_find(k, kl);
  if (!e) {
    if (F.nkv == sizeof F.kv / sizeof *F.kv) return NULL; /* full: forgets, as a store may */
    e = &F.kv[F.nkv++];
    memcpy(e->key, k, kl);
    e->key[kl] = '\0';
  }
  memcpy(e->val, v, vl);
  e->val[vl] = '\0';
  e->len = vl;
  e->expires = ttl > 0 ? F.now + ttl : 0;
  return e;
}
static int32_t h_kv_get(void *u, const char *k, size_t kl, char *out, size_t cap) {
  (void)u;
  kvent *e = F.down ? NULL : kv_find(k, kl);
  if (!e) return -1;
  if (e->len <= cap) memcpy(out, e->val, e->len);
  return (int32_t)e->len;
}
static void h_kv_put(void *u, const char *k, size_t kl, const char *v, size_t vl, sy_ms ttl) {
  (void)u;
  if (!F.down) kv_set(k, kl, v, vl, ttl);
}
static double h_kv_add(void *u, const char *k, size_t kl, double d, sy_ms ttl) {
  (void)u;
  if (F.down) return d;
  kvent *e = kv_find(k, kl);
  double v = (e ? strtod(e->val, NULL) : 0) + d;
  sy_ms expires = e ? e->expires : 0;
  char txt[64];
  int n = snprintf(txt, sizeof txt, "%.17g", v);
  e = kv_set(k, kl, txt, (size_t)n, ttl);
  if (e && expires) e->expires = expires;
  return v;
}

static const sy_host HOST = {NULL,          h_now,          h_fetch_start, h_fetch_abort,
                             h_timer_start, h_timer_cancel, h_deliver,     h_chunk,
                             h_emit,        h_kv_get,       h_kv_put,      h_kv_add};

/* ---- configs ---- */
#define DEP(group, id, model, extra)                                                               \
  "{\"model_name\":\"" group "\",\"litellm_params\":{\"model\":\"" model "\","                     \
  "\"api_base\":\"http://mock/" id "\",\"api_key\":\"sk-fz-" id "\"" extra "},"                    \
  "\"model_info\":{\"id\":\"" id "\"}}"

/* The templates are laid out by hand: clang-format would split the macros. */
// clang-format off
static int config(in *s, char *out, size_t cap) {
  unsigned t = u8(s) % 4;
  unsigned a = u8(s), b = u8(s), c = u8(s), d = u8(s), e = u8(s);
  switch (t) {
  case 0:
    return snprintf(out, cap,
                    "{\"model_list\":[" DEP("g", "a", "openai/m", ",\"order\":1") "," DEP(
                        "g", "b", "openai/m", "") "," DEP("h", "c", "anthropic/c", "") "],"
                                                  "\"router_settings\":{\"num_retries\":%u,"
                                                  "\"allowed_fails\":%u,\"cooldown_time\":%g,"
                                                  "\"timeout\":%g,\"stream_timeout\":%g,"
                                                  "\"hedging\":{\"delay\":%g},"
                                                  "\"fallbacks\":[{\"g\":[\"h\"]}]}}",
                    a % 5, b % 4, c / 10.0, 0.5 + d, 0.1 + e / 20.0, 0.05 + a / 50.0);
  case 1:
    return snprintf(out, cap,
                    "{\"model_list\":[" DEP("g", "a", "azure/dep",
                                            ",\"api_version\":\"2024-10-21\",\"rpm\":%u") "," DEP(
                        "g", "b", "openai/m",
                        ",\"max_input_tokens\":%u") "," DEP("big", "c", "openai/m", "") "],"
                                                    "\"router_settings\":{\"routing_strategy\":"
                                                    "\"usage-based-routing-v2\","
                                                    "\"enable_pre_call_checks\":true,"
                                                    "\"context_window_fallbacks\":[{\"g\":[\"big\"]}"
                                                    "],\"retry_after_max\":%g,\"attempt_timeout\":%g,"
                                                    "\"max_fallbacks\":%u}}",
                    1 + a % 5, 10 + b * 4, 0.1 + c / 20.0, 0.2 + d / 10.0, e % 3);
  case 2:
    return snprintf(out, cap,
                    "{\"model_list\":[" DEP("g", "a", "openai/m", "") "," DEP(
                        "g", "b", "openai/m", ",\"weight\":3") "," DEP("g", "c", "anthropic/c",
                                                                       "") "],"
                                                                           "\"router_settings\":{"
                                                                           "\"routing_strategy\":"
                                                                           "\"p2c-peak-ewma\","
                                                                           "\"circuit_breaker\":{"
                                                                           "\"consecutive_"
                                                                           "failures\":%u,"
                                                                           "\"open_time\":%g,"
                                                                           "\"half_open_requests\":"
                                                                           "%u,\"max_ejection_"
                                                                           "percent\":%u,"
                                                                           "\"panic_threshold\":%"
                                                                           "u},\"retry_budget\":{"
                                                                           "\"percent\":%u,\"min_"
                                                                           "per_second\":%g},"
                                                                           "\"adaptive_throttling\":"
                                                                           "{\"min_requests\":%u},"
                                                                           "\"hedging\":{"
                                                                           "\"percentile\":90}}}",
                    a % 4, 0.1 + b / 10.0, 1 + c % 3, d % 101, e % 101, a % 60, b / 100.0, c % 5);
  default:
    return snprintf(out, cap,
                    "{\"model_list\":[" DEP("g", "a", "openai/m",
                                            ",\"num_retries\":%u,\"timeout\":%g") "],"
                                                                                  "\"router_settings"
                                                                                  "\":{\"circuit_"
                                                                                  "breaker\":false,"
                                                                                  "\"retry_policy\":"
                                                                                  "{\"RateLimitError"
                                                                                  "Retries\":%u},"
                                                                                  "\"backoff_initial"
                                                                                  "\":%g,\"backoff_"
                                                                                  "max\":%g}}",
                    a % 4, 0.1 + b / 10.0, c % 4, 0.01 + d / 100.0, 0.1 + e / 10.0);
  }
}
// clang-format on

/* ---- bodies ---- */
static const char *const pieces[] = {
    "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
    "3,\"completion_tokens\":1,\"total_tokens\":4}}",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: "
    "[DONE]\n\n",
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n",
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{"
    "\"type\":\"text_delta\",\"text\":\"Hi\"}}\n\nevent: message_stop\ndata: {\"type\":"
    "\"message_stop\"}\n\n",
    "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"code\":"
    "\"rate_limit_exceeded\"}}",
    "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}",
    "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens\",\"type\":"
    "\"invalid_request_error\",\"code\":\"context_length_exceeded\"}}",
    "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":[0.1]}]}",
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[{\"type\":\"text\","
    "\"text\":\"hi\"}],\"stop_reason\":\"end_turn\",\"usage\":{\"input_tokens\":1,"
    "\"output_tokens\":2}}",
    "{\"id\":\"chatcmpl-broken\",\"choices\":[{\"ind",
};
static const char *const headers[] = {
    "content-type:application/json\n",
    "content-type:text/event-stream\n",
    "retry-after-ms:1500\n",
    "retry-after:2\n",
    "x-ratelimit-remaining-requests:0\nx-ratelimit-reset-requests:20s\n",
    "anthropic-ratelimit-requests-remaining:0\nretry-after:120\n",
};
static const int statuses[] = {200, 200, 200, 429, 500, 503, 529, 400, 401, 404, 408, 409, 0, 302};

static int body(in *s, char *out, size_t cap, int *embeddings) {
  unsigned k = u8(s);
  *embeddings = (k & 7) == 7;
  if ((k & 7) == 6) { /* raw bytes */
    size_t n;
    const char *p = bytes(s, &n);
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    return (int)n;
  }
  static const char *const models[] = {"g", "h", "big", "nope", "openai/x", "fast"};
  const char *model = models[(k >> 3) % 6];
  unsigned f = u8(s);
  int n = snprintf(out, cap, "{\"model\":\"%s\"", model);
  if (f & 1) n += snprintf(out + n, cap - (size_t)n, ",\"stream\":true");
  if (f & 2) n += snprintf(out + n, cap - (size_t)n, ",\"num_retries\":%u", u8(s) % 6);
  if (f & 4) n += snprintf(out + n, cap - (size_t)n, ",\"timeout\":%g", 0.05 + u8(s) / 10.0);
  if (f & 8)
    n += snprintf(out + n, cap - (size_t)n, ",\"fallbacks\":[\"h\",{\"api_key\":\"sk-fz-x\"}]");
  if (f & 16) n += snprintf(out + n, cap - (size_t)n, ",\"disable_fallbacks\":true");
  if (f & 32)
    n += snprintf(out + n, cap - (size_t)n,
                  ",\"api_base\":\"http://mock/x\",\"api_key\":\"sk-fz-y\"");
  if (*embeddings)
    n += snprintf(out + n, cap - (size_t)n, ",\"input\":\"%s\"}", f & 64 ? "hello" : "");
  else if (f & 128) { /* a long prompt, for the window checks */
    n += snprintf(out + n, cap - (size_t)n, ",\"messages\":[{\"role\":\"user\",\"content\":\"");
    for (int i = 0; i < 400 && (size_t)n + 16 < cap; i++)
      out[n++] = 'x';
    n += snprintf(out + n, cap - (size_t)n, "\"}]}");
  } else
    n += snprintf(out + n, cap - (size_t)n,
                  ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  return n < (int)cap ? n : (int)cap - 1;
}

static int32_t pick_attempt(in *s) {
  unsigned k = u8(s);
  if (k >= 250 || !F.nattempts) return (int32_t)u8(s); /* possibly unknown or finished */
  return F.attempts[k % F.nattempts];
}

static void fire_timer(sy_router *r, size_t i) {
  int32_t id = F.timers[i].id;
  if (F.timers[i].due > F.now) F.now = F.timers[i].due;
  F.timers[i] = F.timers[--F.ntimers];
  trace("on_timer %d", id);
  F.in_core = 1;
  sy_router_on_timer(r, id, F.now);
  F.in_core = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cjson_hooks();
  memset(&F, 0, sizeof F);
  F.now = 1.7e12;
  in s = {data, size};
  char cfg[2048], buf[1024];
  unsigned flags = u8(&s);
  int n = config(&s, cfg, sizeof cfg);
  size_t base = sy_heap_bytes();
  sy_router *r = NULL;
  if (flags & 1) sy_alloc_fail_at(1 + u8(&s), flags & 2);
  F.in_core = 1;
  trace("config %.*s", n, cfg);
  int rc = sy_router_new(cfg, (size_t)n, flags, &HOST, &r, NULL);
  F.in_core = 0;
  sy_alloc_fail_at(0, 0);
  if (rc != 0) {
    check(r == NULL, "a router returned with an error");
    check(sy_heap_bytes() == base, "a leak from a failed sy_router_new");
    return 0;
  }
  /* Half the inputs run with the router's copy of the store (health.h). */
  int watched = (flags & 4) != 0;
  if (watched) sy_router_store_watched(r);
  for (int ops = 0; ops < 200 && s.n; ops++) {
    unsigned op = u8(&s);
    int fail = 0;
    if ((op & 0xc0) == 0xc0) { /* this operation runs out of memory */
      unsigned at = 1 + u8(&s) % 64;
      sy_alloc_fail_at(at, op & 0x20);
      trace("allocation %u from now fails%s", at, op & 0x20 ? ", and all after it" : "");
      fail = 1;
    }
    switch (op % 12) {
    case 0:
    case 1: {
      int emb;
      int len = body(&s, buf, sizeof buf, &emb);
      F.delivers_in_call = 0;
      trace("%s %.*s", emb ? "embeddings" : "begin", len, buf);
      F.in_core = 1;
      int32_t id = (emb ? sy_router_begin_embeddings : sy_router_begin)(r, buf, (size_t)len, F.now);
      F.in_core = 0;
      if (id == SY_ERR_NOMEM) {
        check(F.delivers_in_call == 0, "a deliver for a begin that ran out of memory");
      } else {
        check(id > 0 && id < 65536, "begin returned an id out of range");
        if (F.nbegun < MAXN) F.begun[F.nbegun++] = id;
      }
      break;
    }
    case 2: {
      int32_t a = pick_attempt(&s);
      unsigned k = u8(&s);
      int status =
          k < 240 ? statuses[k % (sizeof statuses / sizeof *statuses)] : (int)u16(&s) - 100;
      size_t hl;
      const char *h;
      if (k & 1) {
        h = bytes(&s, &hl);
      } else {
        h = headers[(k >> 1) % (sizeof headers / sizeof *headers)];
        hl = strlen(h);
      }
      trace("on_response %d %d", a, status);
      F.in_core = 1;
      sy_router_on_response(r, a, status, h, hl, F.now);
      F.in_core = 0;
      break;
    }
    case 3: {
      int32_t a = pick_attempt(&s);
      unsigned k = u8(&s);
      size_t bl;
      const char *b;
      if (k & 1) {
        b = bytes(&s, &bl);
      } else {
        b = pieces[(k >> 1) % (sizeof pieces / sizeof *pieces)];
        bl = strlen(b);
        if (k & 0x80) bl = bl * (k & 0x7f) / 128; /* a piece of it */
      }
      trace("on_body %d %.*s", a, (int)bl, b);
      F.in_core = 1;
      sy_router_on_body(r, a, b, bl, F.now);
      F.in_core = 0;
      break;
    }
    case 4: {
      int32_t a = pick_attempt(&s);
      trace("on_end %d", a);
      F.in_core = 1;
      sy_router_on_end(r, a, F.now);
      F.in_core = 0;
      break;
    }
    case 5: {
      int32_t a = pick_attempt(&s);
      trace("on_error %d", a);
      F.in_core = 1;
      sy_router_on_error(r, a, "socket hang up", 14, F.now);
      F.in_core = 0;
      break;
    }
    case 6:
      if (F.ntimers) fire_timer(r, u8(&s) % F.ntimers);
      break;
    case 7: { /* the earliest */
      size_t best = 0;
      for (size_t i = 1; i < F.ntimers; i++)
        if (F.timers[i].due < F.timers[best].due) best = i;
      if (F.ntimers) fire_timer(r, best);
      break;
    }
    case 8:
      if (F.nbegun) {
        trace("cancel");
        F.in_core = 1;
        sy_router_cancel(r, F.begun[u8(&s) % F.nbegun], F.now);
        F.in_core = 0;
      }
      break;
    case 9: F.now += u16(&s); break;
    case 10:
      F.down = !F.down;
      trace("store %s", F.down ? "down" : "up");
      if (watched && !F.down) { /* back: reported whole, or as one (fuzzed) key */
        size_t kl;
        const char *key = u8(&s) & 1 ? bytes(&s, &kl) : NULL;
        trace("store changed: %.*s", key ? (int)kl : 3, key ? key : "all");
        sy_router_store_changed(r, key, key ? kl : 0);
      }
      break;
    default: { /* a mix: the answer to the last attempt, whole */
      if (!F.nattempts) break;
      int32_t a = F.attempts[F.nattempts - 1];
      const char *b = pieces[u8(&s) % (sizeof pieces / sizeof *pieces)];
      F.in_core = 1;
      sy_router_on_response(r, a, 200, headers[0], strlen(headers[0]), F.now);
      sy_router_on_body(r, a, b, strlen(b), F.now);
      sy_router_on_end(r, a, F.now);
      F.in_core = 0;
    }
    }
    if (fail) sy_alloc_fail_at(0, 0);
  }
  /* The end: memory works again; whatever is in flight is cancelled. */
  sy_alloc_fail_at(0, 0);
  for (size_t i = 0; i < F.nbegun; i++) {
    F.in_core = 1;
    sy_router_cancel(r, F.begun[i], F.now);
    F.in_core = 0;
  }
  for (size_t i = 0; i < F.nbegun; i++)
    check(F.delivered[F.begun[i]] == 1, "a request never delivered");
  check(sy_router_inflight(r) == 0, "requests in flight after every one was cancelled");
  F.done = 1; /* stale timers may fire; nothing may come of them */
  while (F.ntimers)
    fire_timer(r, 0);
  sy_router_free(r);
  if (sy_heap_bytes() != base)
    fprintf(stderr, "fuzz_router: %zu bytes left\n", sy_heap_bytes() - base);
  check(sy_heap_bytes() == base, "the core's heap is not back to its level before the router");
  return 0;
}
