/* core_bench.c: what one routing decision costs in the native core.
 *
 * For each routing strategy and each group size N, a router is built from a
 * config with one model group of N openai/ deployments (distinct
 * model_info ids, rpm/tpm and per-token costs on every one, so each
 * strategy has data to decide on), driven through a minimal host of this
 * file's own:
 *   - a virtual clock, moved only by the bench;
 *   - an in-memory kv store (open addressing, TTLs checked on read);
 *   - fetch_start queues the attempt; once the entry point has returned,
 *     the bench answers it with a canned OpenAI chat.completion (200, with
 *     usage) through sy_router_on_response / on_body / on_end, after moving
 *     the clock by that deployment's fixed virtual latency (1-7 ms), so
 *     latency-aware strategies see differences. Nothing is called from
 *     inside a callback.
 * One routed request = sy_router_begin -> deliver, answered work included
 * (building the upstream call, parsing the canned answer, usage counters,
 * events). A strategy whose config the parser rejects is skipped and said
 * so, which lets this run before and after the strategies exist.
 *
 * Usage:
 *   core_bench [--out FILE] [--strategies a,b,..] [--sizes 1,10,..]
 *              [--requests K] [--requests-large K] [--warmup W] [--repeat R]
 *              [--budget SECONDS]
 *     times K requests (K for N <= 100, --requests-large for larger N),
 *     R times after W warm-up requests (default K/10, cut at 0.1 s); K is
 *     lowered so that one repetition takes about --budget s (default 0.25,
 *     at least 20 requests). Prints a Markdown table, writes a JSON document
 *     to FILE.
 *   core_bench --one STRATEGY N --requests K [--warmup W] [--decisions D]
 *     builds one router, runs W + K requests, then D decisions alone
 *     (sy_router_route), prints one JSON line; for callgrind
 *     (bench/callgrind.sh subtracts a run with K = 0).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host.h"
#include "request.h"
#include "sy.h"

/* ---- the minimal host ---- */

typedef struct kv_entry {
  char *key; /* NULL: empty slot */
  size_t klen;
  uint64_t hash;
  sy_ms expires; /* 0 = never */
  int is_num;
  double num;
  char *val; /* when !is_num */
  size_t vlen;
} kv_entry;

typedef struct job {
  int32_t attempt;
  int dep; /* the deployment index from the URL, for its latency */
  int aborted;
} job;

typedef struct btimer {
  int32_t id;
  sy_ms due;
} btimer;

typedef struct bench_host {
  sy_host host;
  sy_router *router;
  sy_ms now;
  kv_entry *kv;
  size_t kv_cap, kv_used; /* used counts occupied slots, live or expired */
  job *jobs;
  size_t njobs, jobs_cap, jobs_head;
  btimer *timers;
  size_t ntimers, timers_cap;
  uint64_t delivered, delivered_ok, events;
  char last_error[256];
} bench_host;

static void oom(void) {
  fprintf(stderr, "core_bench: out of memory\n");
  exit(2);
}

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n);
  if (!p) oom();
  return p;
}

static uint64_t fnv(const char *s, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static kv_entry *kv_slot(bench_host *b, const char *key, size_t kl, uint64_t h) {
  size_t mask = b->kv_cap - 1;
  for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
    kv_entry *e = &b->kv[i];
    if (!e->key) return e;
    if (e->hash == h && e->klen == kl && memcmp(e->key, key, kl) == 0) return e;
  }
}

static void kv_grow(bench_host *b) {
  kv_entry *old = b->kv;
  size_t n = b->kv_cap;
  b->kv_cap = n ? n * 2 : 1024;
  b->kv = calloc(b->kv_cap, sizeof *b->kv);
  if (!b->kv) oom();
  for (size_t i = 0; i < n; i++)
    if (old[i].key) *kv_slot(b, old[i].key, old[i].klen, old[i].hash) = old[i];
  free(old);
}

/* The live entry for |key|, or NULL (an expired one reads as absent; its
 * slot is reused by the next write of that key). */
static kv_entry *kv_live(bench_host *b, const char *key, size_t kl) {
  kv_entry *e = kv_slot(b, key, kl, fnv(key, kl));
  if (!e->key || (e->expires && e->expires <= b->now)) return NULL;
  return e;
}

/* The slot for |key|, created when absent; |*fresh| set when it held no
 * live value. */
static kv_entry *kv_claim(bench_host *b, const char *key, size_t kl, int *fresh) {
  if ((b->kv_used + 1) * 2 > b->kv_cap) kv_grow(b);
  uint64_t h = fnv(key, kl);
  kv_entry *e = kv_slot(b, key, kl, h);
  *fresh = !e->key || (e->expires && e->expires <= b->now);
  if (!e->key) {
    e->key = xrealloc(NULL, kl ? kl : 1);
    memcpy(e->key, key, kl);
    e->klen = kl;
    e->hash = h;
    b->kv_used++;
  }
  return e;
}

static sy_ms h_now(void *u) { return ((bench_host *)u)->now; }

static void h_fetch_start(void *u, int32_t attempt, const char *head, size_t hl, const char *body,
                          size_t bl) {
  bench_host *b = u;
  (void)body;
  (void)bl;
  /* api_base is http://127.0.0.1:1/v<index>: the index picks the latency. */
  int dep = 0;
  const char *p = memchr(head, '/', hl);
  for (; p && p + 3 < head + hl; p++) {
    if (p[0] == ':' && p[1] == '1' && p[2] == '/' && p[3] == 'v') {
      dep = atoi(p + 4);
      break;
    }
  }
  if (b->njobs == b->jobs_cap) {
    b->jobs_cap = b->jobs_cap ? b->jobs_cap * 2 : 16;
    b->jobs = xrealloc(b->jobs, b->jobs_cap * sizeof *b->jobs);
  }
  b->jobs[b->njobs++] = (job){.attempt = attempt, .dep = dep, .aborted = 0};
}

static void h_fetch_abort(void *u, int32_t attempt) {
  bench_host *b = u;
  for (size_t i = b->jobs_head; i < b->njobs; i++)
    if (b->jobs[i].attempt == attempt) b->jobs[i].aborted = 1;
}

static void h_timer_start(void *u, int32_t timer, sy_ms delay) {
  bench_host *b = u;
  if (b->ntimers == b->timers_cap) {
    b->timers_cap = b->timers_cap ? b->timers_cap * 2 : 16;
    b->timers = xrealloc(b->timers, b->timers_cap * sizeof *b->timers);
  }
  b->timers[b->ntimers++] = (btimer){.id = timer, .due = b->now + (delay > 0 ? delay : 0)};
}

static void h_timer_cancel(void *u, int32_t timer) {
  bench_host *b = u;
  for (size_t i = 0; i < b->ntimers; i++) {
    if (b->timers[i].id == timer) {
      b->timers[i] = b->timers[--b->ntimers];
      return;
    }
  }
}

static void h_deliver(void *u, int32_t request, const char *json, size_t len) {
  bench_host *b = u;
  (void)request;
  b->delivered++;
  /* {"id":N,"status":200,... : the status is near the front. */
  size_t scan = len < 40 ? len : 40;
  const char *s = NULL;
  for (size_t i = 0; i + 13 <= scan; i++) {
    if (memcmp(json + i, "\"status\":200,", 13) == 0) {
      s = json + i;
      break;
    }
  }
  if (s) {
    b->delivered_ok++;
  } else {
    size_t n = len < sizeof b->last_error - 1 ? len : sizeof b->last_error - 1;
    memcpy(b->last_error, json, n);
    b->last_error[n] = '\0';
  }
}

static void h_chunk(void *u, int32_t request, const char *frames, size_t len) {
  (void)u;
  (void)request;
  (void)frames;
  (void)len;
}

static void h_emit(void *u, const char *json, size_t len) {
  (void)json;
  (void)len;
  ((bench_host *)u)->events++;
}

static int32_t h_kv_get(void *u, const char *key, size_t kl, char *out, size_t cap) {
  kv_entry *e = kv_live(u, key, kl);
  if (!e) return -1;
  if (e->is_num) {
    char txt[32];
    int n = snprintf(txt, sizeof txt, "%.17g", e->num);
    if ((size_t)n <= cap) memcpy(out, txt, (size_t)n);
    return n;
  }
  if (e->vlen <= cap) memcpy(out, e->val, e->vlen);
  return (int32_t)e->vlen;
}

static void h_kv_put(void *u, const char *key, size_t kl, const char *val, size_t vl, sy_ms ttl) {
  bench_host *b = u;
  int fresh;
  kv_entry *e = kv_claim(b, key, kl, &fresh);
  e->val = xrealloc(e->val, vl ? vl : 1);
  memcpy(e->val, val, vl);
  e->vlen = vl;
  e->is_num = 0;
  e->expires = ttl > 0 ? b->now + ttl : 0;
}

static double h_kv_add(void *u, const char *key, size_t kl, double delta, sy_ms ttl) {
  bench_host *b = u;
  int fresh;
  kv_entry *e = kv_claim(b, key, kl, &fresh);
  double base = 0;
  if (!fresh) base = e->is_num ? e->num : (e->val ? strtod(e->val, NULL) : 0);
  /* A fixed window: the TTL is set when the value is created only. */
  if (fresh) e->expires = ttl > 0 ? b->now + ttl : 0;
  e->is_num = 1;
  e->num = base + delta;
  return e->num;
}

static void host_init(bench_host *b) {
  memset(b, 0, sizeof *b);
  b->now = 1.7e12; /* a Unix-epoch-like start, as the real hosts have */
  kv_grow(b);
  b->host = (sy_host){.user = b,
                      .now_ms = h_now,
                      .fetch_start = h_fetch_start,
                      .fetch_abort = h_fetch_abort,
                      .timer_start = h_timer_start,
                      .timer_cancel = h_timer_cancel,
                      .deliver = h_deliver,
                      .chunk = h_chunk,
                      .emit = h_emit,
                      .kv_get = h_kv_get,
                      .kv_put = h_kv_put,
                      .kv_add = h_kv_add};
}

static void host_free(bench_host *b) {
  sy_router_free(b->router);
  for (size_t i = 0; i < b->kv_cap; i++)
    free(b->kv[i].key), free(b->kv[i].val);
  free(b->kv);
  free(b->jobs);
  free(b->timers);
  memset(b, 0, sizeof *b);
}

/* ---- one request ---- */

static const char REQ_BODY[] =
    "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":\"Say hello.\"}]}";
static const char RESP_HEADERS[] = "content-type:application/json\n";
static const char RESP_BODY[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"created\":1700000000,"
    "\"model\":\"m\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
    "\"content\":\"Hello.\"},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"total_tokens\":11}}";

/* Fires timers that are due (none, normally: the answers come first). */
static void fire_timers(bench_host *b) {
  for (size_t i = 0; i < b->ntimers;) {
    if (b->timers[i].due <= b->now) {
      int32_t id = b->timers[i].id;
      b->timers[i] = b->timers[--b->ntimers];
      sy_router_on_timer(b->router, id, b->now);
      i = 0;
    } else {
      i++;
    }
  }
}

/* Runs one request to its delivery. */
static void one_request(bench_host *b) {
  sy_router_begin(b->router, REQ_BODY, sizeof REQ_BODY - 1, b->now);
  while (b->jobs_head < b->njobs) {
    job j = b->jobs[b->jobs_head++];
    if (j.aborted) continue;
    b->now += 1 + j.dep % 7; /* the deployment's virtual latency */
    fire_timers(b);
    sy_router_on_response(b->router, j.attempt, 200, RESP_HEADERS, sizeof RESP_HEADERS - 1, b->now);
    sy_router_on_body(b->router, j.attempt, RESP_BODY, sizeof RESP_BODY - 1, b->now);
    sy_router_on_end(b->router, j.attempt, b->now);
  }
  b->njobs = b->jobs_head = 0;
  fire_timers(b);
}

/* ---- configs ---- */

static void cfg_append(char **s, size_t *len, size_t *cap, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cfg_append(char **s, size_t *len, size_t *cap, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(*s ? *s + *len : NULL, *s ? *cap - *len : 0, fmt, ap);
    va_end(ap);
    if (*s && (size_t)n < *cap - *len) {
      *len += (size_t)n;
      return;
    }
    *cap = (*cap + (size_t)n + 1) * 2;
    *s = xrealloc(*s, *cap);
  }
}

/* One group "bench" of |n| deployments under |strategy|. rpm/tpm are far
 * above what a run sends (so no deployment runs out of headroom), varied
 * so weighted picks have something to weigh; costs vary so cost-based
 * routing has a cheapest. */
static char *make_config(const char *strategy, int n) {
  char *s = NULL;
  size_t len = 0, cap = 0;
  cfg_append(&s, &len, &cap, "{\"model_list\":[");
  for (int i = 0; i < n; i++) {
    cfg_append(&s, &len, &cap,
               "%s{\"model_name\":\"bench\",\"litellm_params\":{\"model\":\"openai/m%d\","
               "\"api_base\":\"http://127.0.0.1:1/v%d\",\"api_key\":\"sk-bench\","
               "\"rpm\":%d,\"tpm\":%d},\"model_info\":{\"id\":\"dep-%d\","
               "\"input_cost_per_token\":%.8f,\"output_cost_per_token\":%.8f}}",
               i ? "," : "", i, i, 1000000 + 1000 * (i % 10), 100000000 + 100000 * (i % 10), i,
               1e-6 * (1 + i % 13), 2e-6 * (1 + i % 13));
  }
  cfg_append(&s, &len, &cap, "],\"router_settings\":{\"routing_strategy\":\"%s\"}}", strategy);
  return s;
}

/* ---- measuring ---- */

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static const char *const DEFAULT_STRATEGIES[] = {
    "simple-shuffle",        "usage-based-routing", "usage-based-routing-v2", "least-busy",
    "latency-based-routing", "cost-based-routing",  "p2c-peak-ewma"};
#define NDEFAULT_STRATEGIES (sizeof DEFAULT_STRATEGIES / sizeof *DEFAULT_STRATEGIES)

/* Builds the router for |strategy| x |n| into |b|; 0, or the error text in
 * |why| and a nonzero return when the config is rejected. */
static int build(bench_host *b, const char *strategy, int n, char *why, size_t why_cap,
                 double *build_ms) {
  host_init(b);
  char *cfg = make_config(strategy, n);
  sy_buf err;
  sy_buf_init(&err);
  double t0 = now_ns();
  int rc = sy_router_new(cfg, strlen(cfg), 1, &b->host, &b->router, &err);
  if (build_ms) *build_ms = (now_ns() - t0) / 1e6;
  /* Only the core writes this kv, so it may keep its copy (health.h), as
   * the Router does over its default MemoryStore. */
  if (rc == 0) sy_router_store_watched(b->router);
  free(cfg);
  if (rc != 0) {
    snprintf(why, why_cap, "%s: %s", sy_strerror(rc), err.len ? sy_buf_cstr(&err) : "");
    sy_buf_free(&err);
    host_free(b);
    return 1;
  }
  sy_buf_free(&err);
  return 0;
}

static void json_str(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", (unsigned char)*s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static int parse_list(char *s, char **out, int max) {
  int n = 0;
  for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ","))
    out[n++] = tok;
  return n;
}

/* --one: |warmup| + |requests| routed requests, then |decisions| calls of
 * sy_router_route over the state they left (callgrind.sh counts those
 * apart, by the function's inclusive instructions). */
static int run_one(const char *strategy, int n, long requests, long warmup, long decisions) {
  bench_host b;
  char why[512];
  if (build(&b, strategy, n, why, sizeof why, NULL)) {
    printf("{\"strategy\":");
    json_str(stdout, strategy);
    printf(",\"n\":%d,\"skipped\":", n);
    json_str(stdout, why);
    printf("}\n");
    return 0;
  }
  for (long i = 0; i < warmup + requests; i++)
    one_request(&b);
  long picked = 0;
  for (long i = 0; i < decisions; i++)
    picked += sy_router_route(b.router, "bench", b.now) != NULL;
  printf("{\"strategy\":\"%s\",\"n\":%d,\"warmup\":%ld,\"requests\":%ld,\"ok\":%llu,"
         "\"decisions\":%ld,\"picked\":%ld}\n",
         strategy, n, warmup, requests, (unsigned long long)b.delivered_ok, decisions, picked);
  host_free(&b);
  return 0;
}

int main(int argc, char **argv) {
  const char *out_path = NULL;
  char *strategies[32];
  int nstrategies = (int)NDEFAULT_STRATEGIES;
  for (size_t i = 0; i < NDEFAULT_STRATEGIES; i++)
    strategies[i] = (char *)DEFAULT_STRATEGIES[i];
  char *size_txt[16];
  int sizes[16] = {1, 10, 100, 1000}, nsizes = 4;
  long requests = 20000, requests_large = 2000, warmup = -1, repeat = 3, decisions = 0;
  double budget_s = 0.25;
  const char *one_strategy = NULL;
  int one_n = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--out") && v) {
      out_path = v, i++;
    } else if (!strcmp(a, "--strategies") && v) {
      nstrategies = parse_list(argv[++i], strategies, 32);
    } else if (!strcmp(a, "--sizes") && v) {
      nsizes = parse_list(argv[++i], size_txt, 16);
      for (int k = 0; k < nsizes; k++)
        sizes[k] = atoi(size_txt[k]);
    } else if (!strcmp(a, "--requests") && v) {
      requests = atol(v), i++;
    } else if (!strcmp(a, "--requests-large") && v) {
      requests_large = atol(v), i++;
    } else if (!strcmp(a, "--warmup") && v) {
      warmup = atol(v), i++;
    } else if (!strcmp(a, "--decisions") && v) {
      decisions = atol(v), i++;
    } else if (!strcmp(a, "--budget") && v) {
      budget_s = atof(v), i++;
    } else if (!strcmp(a, "--repeat") && v) {
      repeat = atol(v), i++;
    } else if (!strcmp(a, "--one") && v && i + 2 < argc) {
      one_strategy = argv[++i];
      one_n = atoi(argv[++i]);
    } else {
      fprintf(stderr,
              "usage: core_bench [--out FILE] [--strategies a,b] [--sizes 1,10] [--requests K]\n"
              "                  [--requests-large K] [--warmup W] [--repeat R] [--budget S]\n"
              "       core_bench --one STRATEGY N --requests K [--warmup W] [--decisions D]\n");
      return 2;
    }
  }
  if (one_strategy)
    return run_one(one_strategy, one_n, requests, warmup < 0 ? 20 : warmup, decisions);
  if (repeat < 1) repeat = 1;

  FILE *out = out_path ? fopen(out_path, "w") : NULL;
  if (out_path && !out) {
    perror(out_path);
    return 1;
  }
  if (out)
    fprintf(out, "{\"bench\":\"core-native\",\"unit\":\"ns per routed request (begin -> deliver)\","
                 "\"results\":[\n");
  int first = 1;
  printf(
      "| strategy | N | ns/request (median of %ld) | min | requests/s | build ms | ns/decision |\n",
      repeat);
  printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (int si = 0; si < nstrategies; si++) {
    for (int ni = 0; ni < nsizes; ni++) {
      const char *st = strategies[si];
      int n = sizes[ni];
      long k = n <= 100 ? requests : requests_large;
      long w = warmup >= 0 ? warmup : (k / 10 > 0 ? k / 10 : 1);
      bench_host b;
      char why[512];
      double build_ms = 0;
      if (build(&b, st, n, why, sizeof why, &build_ms)) {
        printf("| %s | %d | skipped: config rejected | | | | |\n", st, n);
        fprintf(stderr, "core_bench: skipped %s (N=%d): %s\n", st, n, why);
        if (out) {
          fprintf(out, "%s{\"strategy\":", first ? "" : ",\n");
          first = 0;
          json_str(out, st);
          fprintf(out, ",\"n\":%d,\"skipped\":", n);
          json_str(out, why);
          fprintf(out, "}");
        }
        continue;
      }
      /* Warm up for w requests or 0.1 s, whichever ends first; then time at
       * most |budget_s| per repetition (at least 20 requests), so that a
       * strategy costing milliseconds per request keeps the run short. */
      double tw = now_ns(), elapsed = 0;
      long done = 0;
      while (done < w && elapsed < 1e8) {
        one_request(&b);
        done++;
        elapsed = now_ns() - tw;
      }
      double est = elapsed / (double)done;
      if (k * est > budget_s * 1e9) k = (long)(budget_s * 1e9 / est);
      if (k < 20) k = 20;
      w = done;
      double *ns = xrealloc(NULL, (size_t)repeat * sizeof *ns);
      uint64_t ok0 = b.delivered_ok, del0 = b.delivered, ev0 = b.events;
      for (long r = 0; r < repeat; r++) {
        double t0 = now_ns();
        for (long i = 0; i < k; i++)
          one_request(&b);
        ns[r] = (now_ns() - t0) / (double)k;
      }
      uint64_t delivered = b.delivered - del0, ok = b.delivered_ok - ok0;
      double events_per_req = (double)(b.events - ev0) / (double)(k * repeat);
      qsort(ns, (size_t)repeat, sizeof *ns, cmp_double);
      double med = ns[repeat / 2], min = ns[0];
      /* The decision alone (sy_router_route: the pick a request would get
       * now, over the health and usage the requests above left), as many
       * times as there were requests; the median of the repetitions. */
      double *pick_ns = xrealloc(NULL, (size_t)repeat * sizeof *pick_ns);
      long picked = 0;
      for (long r = 0; r < repeat; r++) {
        double t0 = now_ns();
        for (long i = 0; i < k; i++)
          picked += sy_router_route(b.router, "bench", b.now) != NULL;
        pick_ns[r] = (now_ns() - t0) / (double)k;
      }
      qsort(pick_ns, (size_t)repeat, sizeof *pick_ns, cmp_double);
      double pick_med = pick_ns[repeat / 2];
      free(pick_ns);
      if (picked != k * repeat)
        fprintf(stderr, "core_bench: %s N=%d: a decision found nothing\n", st, n);
      printf("| %s | %d | %.0f | %.0f | %.0f | %.1f | %.0f |\n", st, n, med, min, 1e9 / med,
             build_ms, pick_med);
      if (ok != delivered)
        fprintf(stderr, "core_bench: %s N=%d: %llu of %llu answers were not 200; last: %s\n", st, n,
                (unsigned long long)(delivered - ok), (unsigned long long)delivered, b.last_error);
      if (out) {
        fprintf(out,
                "%s{\"strategy\":\"%s\",\"n\":%d,\"requests\":%ld,"
                "\"repeat\":%ld,\"warmup\":%ld,\"ns_per_request\":%.1f,\"ns_min\":%.1f,"
                "\"requests_per_s\":%.0f,\"runs_ns\":[",
                first ? "" : ",\n", st, n, k, repeat, w, med, min, 1e9 / med);
        first = 0;
        for (long r = 0; r < repeat; r++)
          fprintf(out, "%s%.1f", r ? "," : "", ns[r]);
        fprintf(out,
                "],\"delivered\":%llu,\"ok\":%llu,\"events_per_request\":%.2f,"
                "\"build_ms\":%.2f,\"heap_bytes\":%zu,\"ns_per_decision\":%.1f}",
                (unsigned long long)delivered, (unsigned long long)ok, events_per_req, build_ms,
                sy_heap_bytes(), pick_med);
      }
      fflush(stdout);
      free(ns);
      host_free(&b);
    }
  }
  if (out) {
    fprintf(out, "\n]}\n");
    fclose(out);
  }
  return 0;
}
