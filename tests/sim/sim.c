/* sim.c: the deterministic simulation of the whole core (issue 6, "Proof").
 *
 * From a seed it generates a config (1-4 model groups of 1-8 deployments,
 * fallbacks, random retries, cooldowns, timeouts, orders, weights, rpm
 * limits, a routing strategy), a workload (tens to hundreds of requests over
 * virtual minutes: streamed or not, embeddings, with their own num_retries,
 * timeout, fallbacks, some cancelled by the client) and a fault schedule per
 * deployment over virtual time (outages, brownouts, 429 storms with
 * Retry-After, 5xx, hangs, malformed bodies, streams cut before and after
 * their first token), plus periods where the kv store is gone (kv_get
 * absent, kv_put dropped, kv_add returns the delta). Odd seeds run with
 * the router keeping its copy of the store (health.h; the host reports its
 * wipe), even seeds without, so both read paths meet every fault. It drives the core
 * through its public entry points only, never from inside a callback, on a
 * virtual clock whose timers and upstream answers fire in (due time, start
 * order) order, so a seed replays exactly. After every run it checks:
 *   - every id begin returned is delivered exactly once, nothing else is;
 *   - no upstream attempt goes to a deployment while a cooldown the core
 *     announced (a "cooldown" event's "until") is in force, the store being
 *     up (a "probe" event for the deployment exempts its next attempt: the
 *     hook for half-open breakers);
 *   - attempts per request <= 1 + R + F (README "Bounds"; R the largest
 *     retry count any class could get, F max_fallbacks), and the route's
 *     "attempts" equals the attempts the host saw;
 *   - no attempt after a stream's first token; chunks only for a committed
 *     stream, ending in [DONE] (success) or an error frame (failure);
 *   - each request delivered no later than its deadline;
 *   - with rpm limits in force (usage-based routing or pre-call checks), no
 *     deployment gets more than its rpm in a calendar minute the store was
 *     up for;
 *   - the API key appears in the upstream request only in its auth header,
 *     and never in an event, an answer or a chunk;
 *   - every event carries the current time; timers have finite delays;
 *   - the core's heap back to its baseline at quiescence (the baseline is
 *     taken after a warm-up that grows the router's capacity: id map,
 *     scratch and buffers), no timer left pending after the run, and the
 *     heap back to its level before sy_router_new once the router is freed.
 *
 *   sy_sim --seeds 0:2000 [--jobs 2]   many seeds; prints "N passed, M failed"
 *   sy_sim --seed S --verbose          one seed, with the scenario and event log
 *   sy_sim --seeds A:B --json          one scenario per line as JSON (config,
 *                                      steps, the answers each upstream gave,
 *                                      the log's digest), which
 *                                      tests/js/sim.test.js replays on wasm
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cJSON.h"
#include "request.h"
#include "sy.h"

/* ------------------------------------------------------------ strings */
/* Plain malloc: the simulator's memory never counts in the core's heap. */
typedef struct sb {
  char *p;
  size_t n, cap;
} sb;

static void sb_put(sb *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = realloc(b->p, b->cap);
    if (!b->p) abort();
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
}
static void sb_puts(sb *b, const char *s) { sb_put(b, s, strlen(s)); }
static void sb_printf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sb *b, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  if (n < (int)sizeof tmp) {
    sb_put(b, tmp, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  va_start(ap, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, ap);
  va_end(ap);
  sb_put(b, big, (size_t)n);
  free(big);
}
static void sb_json(sb *b, const char *s, size_t n) {
  sb_puts(b, "\"");
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      sb_put(b, e, 2);
    } else if (c < 0x20) {
      sb_printf(b, "\\u%04x", c);
    } else {
      sb_put(b, (const char *)&c, 1);
    }
  }
  sb_puts(b, "\"");
}
/* A double that JSON (and JS) reads back exactly. */
static void sb_num(sb *b, double v) {
  if (v == floor(v) && fabs(v) < 1e15)
    sb_printf(b, "%.0f", v);
  else
    sb_printf(b, "%.17g", v);
}
static void sb_free(sb *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}
static const char *sb_str(const sb *b) { return b->p ? b->p : ""; }

static uint32_t fnv32(uint32_t h, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)p[i];
    h *= 16777619u;
  }
  return h;
}
#define FNV32_INIT 2166136261u

/* ------------------------------------------------------------ randomness */
typedef struct rng {
  uint64_t s;
} rng;
static uint64_t rnext(rng *r) { /* splitmix64 */
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static double runit(rng *r) { return (double)(rnext(r) >> 11) / 9007199254740992.0; }
static int rint_(rng *r, int lo, int hi) { return lo + (int)(rnext(r) % (uint64_t)(hi - lo + 1)); }
static double rrange(rng *r, double lo, double hi) { return lo + (hi - lo) * runit(r); }
static int chance(rng *r, double p) { return runit(r) < p; }
/* Whole milliseconds, so most virtual times stay integers. */
static double rms(rng *r, double lo, double hi) { return floor(rrange(r, lo, hi)); }

/* ------------------------------------------------------------ the scenario */
enum { K_OPENAI, K_AZURE, K_ANTHROPIC };
enum {
  M_HEALTHY,
  M_OUTAGE,
  M_BROWNOUT,
  M_STORM,
  M_5XX,
  M_HANG,
  M_MALFORMED,
  M_CUT_BEFORE,
  M_CUT_AFTER,
  M_REFUSE, /* 401 echoing the key, 400s, 404, content filter */
  M_COUNT
};
static const char *const mode_names[M_COUNT] = {"healthy",   "outage",  "brownout",  "429-storm",
                                                "5xx",       "hang",    "malformed", "cut-before",
                                                "cut-after", "refusals"};

#define MAXW 6
#define MAXDEP 40
#define START_MS 1700000000000.0

typedef struct window {
  double from, to;
  int mode;
  double p;
} window;

enum { P_RESPONSE, P_BODY, P_END, P_ERROR };
typedef struct part {
  double at;
  int kind, status;
  int text; /* index into the scenario's texts */
} part;
#define MAXPARTS 8
typedef struct answer {
  part parts[MAXPARTS];
  int nparts;
} answer;

typedef struct dep {
  char id[24]; /* also the upstream's name: http://mock/<id>/... */
  int group;   /* -1: not in the config (warm-up, ad hoc) */
  int kind;
  char key[64];
  double rpm;
  double base_lat;
  window w[MAXW];
  int nw;
  answer *ans; /* the answers given, in fetch order */
  size_t nans, capans;
  double cd_until; /* cooldown deadline per the core's events */
  int probe;       /* a "probe" event allows the next attempt */
  double ej_until; /* breaker open until (breaker_open events); 0: closed */
} dep;

enum { S_BEGIN, S_EMBED, S_CANCEL, S_WIPE };
typedef struct step {
  double at;
  int kind;
  char *body;
  int target; /* S_CANCEL: the step whose request it cancels */
  int warm;   /* a warm-up request: its upstreams hang */
  /* for the invariants */
  int has_retries, retries, stream;
  double timeout_ms;
  /* what happened */
  int32_t id;
  double begun;
} step;

typedef struct scenario {
  uint64_t seed, core_seed;
  int watched; /* odd seeds: the router keeps its copy of the store (health.h) */
  sb config;
  dep deps[MAXDEP];
  int ndeps, ngroups;
  int group_size[4];
  double outages[2][2];
  int noutages;
  step *steps;
  int nsteps, capsteps;
  int wipe_step;
  /* what the config says, for the bounds */
  int R_cfg, F;
  double timeout_ms;
  int limits; /* rpm checks in force */
  /* the mechanisms of README "Beyond the peers", as configured */
  int budget;
  double budget_pct, budget_min_ps, budget_window_ms;
  int breaker;
  double max_open_ms, max_ej_pct, panic_pct;
  double end;
  char **texts;
  int ntexts, captexts;
  int *text_slots;
  int text_cap;
} scenario;

static int intern(scenario *sc, const char *s) {
  if (!sc->text_slots) {
    sc->text_cap = 1024;
    sc->text_slots = calloc((size_t)sc->text_cap, sizeof(int));
  }
  if (sc->ntexts * 2 >= sc->text_cap) {
    int ncap = sc->text_cap * 2;
    int *ns = calloc((size_t)ncap, sizeof(int));
    for (int i = 0; i < sc->ntexts; i++) {
      uint32_t h = fnv32(FNV32_INIT, sc->texts[i], strlen(sc->texts[i])) & (uint32_t)(ncap - 1);
      while (ns[h])
        h = (h + 1) & (uint32_t)(ncap - 1);
      ns[h] = i + 1;
    }
    free(sc->text_slots);
    sc->text_slots = ns;
    sc->text_cap = ncap;
  }
  uint32_t h = fnv32(FNV32_INIT, s, strlen(s)) & (uint32_t)(sc->text_cap - 1);
  while (sc->text_slots[h]) {
    if (!strcmp(sc->texts[sc->text_slots[h] - 1], s)) return sc->text_slots[h] - 1;
    h = (h + 1) & (uint32_t)(sc->text_cap - 1);
  }
  if (sc->ntexts == sc->captexts) {
    sc->captexts = sc->captexts ? sc->captexts * 2 : 64;
    sc->texts = realloc(sc->texts, (size_t)sc->captexts * sizeof *sc->texts);
  }
  sc->texts[sc->ntexts] = strdup(s);
  sc->text_slots[h] = sc->ntexts + 1;
  return sc->ntexts++;
}

static step *add_step(scenario *sc, double at, int kind) {
  if (sc->nsteps == sc->capsteps) {
    sc->capsteps = sc->capsteps ? sc->capsteps * 2 : 64;
    sc->steps = realloc(sc->steps, (size_t)sc->capsteps * sizeof *sc->steps);
  }
  step *s = &sc->steps[sc->nsteps++];
  memset(s, 0, sizeof *s);
  s->at = at;
  s->kind = kind;
  s->target = -1;
  return s;
}

static void scenario_free(scenario *sc) {
  sb_free(&sc->config);
  for (int i = 0; i < sc->ndeps; i++)
    free(sc->deps[i].ans);
  for (int i = 0; i < sc->nsteps; i++)
    free(sc->steps[i].body);
  free(sc->steps);
  for (int i = 0; i < sc->ntexts; i++)
    free(sc->texts[i]);
  free(sc->texts);
  free(sc->text_slots);
  memset(sc, 0, sizeof *sc);
}

/* ------------------------------------------------------------ generation */
static const char *const strategies[] = {"simple-shuffle",         "least-busy",
                                         "usage-based-routing-v2", "latency-based-routing",
                                         "cost-based-routing",     "p2c-peak-ewma"};

static void gen_dep(scenario *sc, rng *r, dep *d, int g, int i, sb *c, int *first) {
  snprintf(d->id, sizeof d->id, "d%d_%d", g, i);
  d->group = g;
  d->kind = chance(r, 0.6) ? K_OPENAI : chance(r, 0.5) ? K_AZURE : K_ANTHROPIC;
  snprintf(d->key, sizeof d->key, "sk-sim-%llx-%s-SECRET-%llx",
           (unsigned long long)(sc->seed & 0xffff), d->id, (unsigned long long)(rnext(r) >> 40));
  d->base_lat = rms(r, 20, 600);
  sb_puts(c, *first ? "" : ",");
  *first = 0;
  sb_printf(c, "{\"model_name\":\"g%d\",\"litellm_params\":{", g);
  if (d->kind == K_OPENAI)
    sb_printf(c, "\"model\":\"openai/m%d\",\"api_base\":\"http://mock/%s/v1\"", g, d->id);
  else if (d->kind == K_AZURE)
    sb_printf(c,
              "\"model\":\"azure/dep%d\",\"api_base\":\"http://mock/%s\","
              "\"api_version\":\"2024-10-21\"",
              g, d->id);
  else
    sb_printf(c, "\"model\":\"anthropic/claude-%d\",\"api_base\":\"http://mock/%s\"", g, d->id);
  sb_printf(c, ",\"api_key\":\"%s\"", d->key);
  if (chance(r, 0.25)) {
    d->rpm = rint_(r, 3, 60);
    sb_printf(c, ",\"rpm\":%.0f", d->rpm);
  }
  if (chance(r, 0.2)) sb_printf(c, ",\"tpm\":%d", rint_(r, 2000, 200000));
  if (chance(r, 0.3)) sb_printf(c, ",\"weight\":%d", rint_(r, 1, 5));
  if (chance(r, 0.25)) sb_printf(c, ",\"order\":%d", rint_(r, 1, 3));
  if (chance(r, 0.3)) sb_printf(c, ",\"timeout\":%g", rrange(r, 0.5, 20));
  if (chance(r, 0.25)) sb_printf(c, ",\"stream_timeout\":%g", rrange(r, 0.3, 5));
  if (chance(r, 0.15)) {
    int n = rint_(r, 0, 4);
    if (n > sc->R_cfg) sc->R_cfg = n;
    sb_printf(c, ",\"num_retries\":%d", n);
  }
  if (chance(r, 0.2))
    sb_printf(c, ",\"cooldown_time\":%g", chance(r, 0.2) ? 0 : rrange(r, 0.5, 20));
  if (chance(r, 0.2)) sb_printf(c, ",\"max_input_tokens\":%d", rint_(r, 200, 8000));
  if (chance(r, 0.4))
    sb_printf(c, ",\"input_cost_per_token\":%g,\"output_cost_per_token\":%g", rrange(r, 1e-7, 1e-5),
              rrange(r, 1e-7, 3e-5));
  sb_printf(c, "},\"model_info\":{\"id\":\"%s\"}}", d->id);
}

static void gen_windows(scenario *sc, rng *r, dep *d) {
  d->nw = 0;
  int n = rint_(r, 0, 4);
  for (int k = 0; k < n && d->nw < MAXW; k++) {
    window *w = &d->w[d->nw++];
    w->from = START_MS + rms(r, 0, sc->end - START_MS);
    w->to = w->from + (chance(r, 0.7) ? rms(r, 500, 30000) : rms(r, 30000, 180000));
    w->mode = rint_(r, 1, M_COUNT - 1);
    w->p = chance(r, 0.5) ? 1 : rrange(r, 0.2, 1);
  }
}

/* A whole group or every deployment in the same trouble at once. */
static void gen_correlated(scenario *sc, rng *r) {
  if (!chance(r, 0.35)) return;
  int g = chance(r, 0.3) ? -1 : rint_(r, 0, sc->ngroups - 1);
  window w;
  w.from = START_MS + rms(r, 0, sc->end - START_MS);
  w.to = w.from + rms(r, 2000, 90000);
  static const int modes[] = {M_OUTAGE, M_STORM, M_5XX, M_BROWNOUT, M_HANG};
  w.mode = modes[rint_(r, 0, 4)];
  w.p = chance(r, 0.6) ? 1 : rrange(r, 0.5, 1);
  for (int i = 0; i < sc->ndeps; i++) {
    dep *d = &sc->deps[i];
    if ((g < 0 ? d->group >= 0 : d->group == g) && d->nw < MAXW) d->w[d->nw++] = w;
  }
}

static void fallback_list(sb *c, rng *r, int ngroups, const char *key) {
  sb_printf(c, ",\"%s\":[", key);
  int first = 1;
  for (int g = 0; g < ngroups; g++) {
    if (!chance(r, 0.6)) continue;
    sb_printf(c, "%s{\"g%d\":[", first ? "" : ",", g);
    first = 0;
    int n = 0;
    for (int h = 0; h < ngroups + 1; h++) {
      if (h == g || !chance(r, 0.5)) continue;
      /* g<ngroups> does not exist: LiteLLM skips unknown groups too */
      sb_printf(c, "%s\"g%d\"", n++ ? "," : "", h);
    }
    sb_puts(c, "]}");
  }
  sb_puts(c, "]");
}

static void gen_config(scenario *sc, rng *r) {
  sb *c = &sc->config;
  sc->ngroups = rint_(r, 1, 4);
  sc->R_cfg = 2;
  sc->F = 5;
  sc->timeout_ms = 600000;
  sb_puts(c, "{\"model_list\":[");
  int first = 1;
  for (int g = 0; g < sc->ngroups; g++) {
    int n = chance(r, 0.3) ? 1 : rint_(r, 1, 8);
    sc->group_size[g] = n;
    for (int i = 0; i < n; i++)
      gen_dep(sc, r, &sc->deps[sc->ndeps++], g, i, c, &first);
  }
  sb_puts(c, "],\"router_settings\":{");
  int strategy = rint_(r, 0, 5);
  sb_printf(c, "\"routing_strategy\":\"%s\"", strategies[strategy]);
  if (strategy == 3 && chance(r, 0.5))
    sb_printf(c, ",\"routing_strategy_args\":{\"lowest_latency_buffer\":%g}", rrange(r, 0, 1));
  if (chance(r, 0.5)) {
    int n = rint_(r, 0, 4);
    sc->R_cfg = n > sc->R_cfg ? n : sc->R_cfg;
    /* (kept at least the default 2: a conservative bound) */
    sb_printf(c, ",\"num_retries\":%d", n);
  }
  if (chance(r, 0.4)) sb_printf(c, ",\"allowed_fails\":%d", rint_(r, 0, 5));
  if (chance(r, 0.4)) sb_printf(c, ",\"cooldown_time\":%g", rrange(r, 0.5, 30));
  if (chance(r, 0.4)) {
    sc->timeout_ms = rms(r, 2000, 120000);
    sb_printf(c, ",\"%s\":%g", chance(r, 0.5) ? "timeout" : "request_timeout",
              sc->timeout_ms / 1000);
  }
  if (chance(r, 0.3)) sb_printf(c, ",\"attempt_timeout\":%g", rrange(r, 0.5, 30));
  if (chance(r, 0.3)) sb_printf(c, ",\"stream_timeout\":%g", rrange(r, 0.3, 5));
  if (chance(r, 0.4)) {
    sc->F = rint_(r, 0, 3);
    sb_printf(c, ",\"max_fallbacks\":%d", sc->F);
  }
  if (sc->ngroups > 1 && chance(r, 0.7)) fallback_list(c, r, sc->ngroups, "fallbacks");
  if (sc->ngroups > 1 && chance(r, 0.2))
    sb_printf(c, ",\"default_fallbacks\":[\"g%d\"]", rint_(r, 0, sc->ngroups - 1));
  if (sc->ngroups > 1 && chance(r, 0.3))
    fallback_list(c, r, sc->ngroups, "context_window_fallbacks");
  if (sc->ngroups > 1 && chance(r, 0.15))
    fallback_list(c, r, sc->ngroups, "content_policy_fallbacks");
  int pre = chance(r, 0.35);
  if (pre) sb_puts(c, ",\"enable_pre_call_checks\":true");
  sc->limits = pre || strategy == 2;
  if (chance(r, 0.2)) sb_printf(c, ",\"retry_after\":%g", rrange(r, 0, 1));
  if (chance(r, 0.3))
    sb_printf(c, ",\"backoff_initial\":%g,\"backoff_max\":%g", rrange(r, 0.05, 1),
              rrange(r, 1, 10));
  if (chance(r, 0.25)) sb_printf(c, ",\"retry_after_max\":%g", rrange(r, 0.5, 10));
  if (chance(r, 0.2)) {
    int a = rint_(r, 0, 5), b = rint_(r, 0, 5), d = rint_(r, 0, 3);
    int m = a > b ? a : b;
    m = m > d ? m : d;
    if (m > sc->R_cfg) sc->R_cfg = m;
    sb_printf(c,
              ",\"retry_policy\":{\"RateLimitErrorRetries\":%d,\"InternalServerErrorRetries\":%d,"
              "\"TimeoutErrorRetries\":%d}",
              a, b, d);
  }
  if (chance(r, 0.15))
    sb_printf(c,
              ",\"allowed_fails_policy\":{\"RateLimitErrorAllowedFails\":%d,"
              "\"InternalServerErrorAllowedFails\":%d}",
              rint_(r, 0, 4), rint_(r, 0, 4));
  if (chance(r, 0.05)) sb_puts(c, ",\"disable_cooldowns\":true");
  /* Beyond the peers: each block off, default, or drawn. */
  sc->budget = 1, sc->budget_pct = 20, sc->budget_min_ps = 10, sc->budget_window_ms = 10000;
  double u = runit(r);
  if (u < 0.2) {
    sc->budget = 0;
    sb_puts(c, ",\"retry_budget\":false");
  } else if (u < 0.6) {
    sc->budget_pct = rint_(r, 0, 50);
    sc->budget_min_ps = chance(r, 0.5) ? 0 : rrange(r, 0, 3);
    sc->budget_window_ms = rms(r, 1000, 20000);
    sb_printf(c, ",\"retry_budget\":{\"percent\":%g,\"min_per_second\":%.17g,\"window\":%g}",
              sc->budget_pct, sc->budget_min_ps, sc->budget_window_ms / 1000);
  }
  sc->breaker = 1, sc->max_open_ms = 300000, sc->max_ej_pct = 10, sc->panic_pct = 50;
  u = runit(r);
  if (u < 0.2) {
    sc->breaker = 0;
    sb_puts(c, ",\"circuit_breaker\":false");
  } else if (u < 0.65) {
    double open = rms(r, 200, 30000);
    sc->max_open_ms = open + rms(r, 0, 60000);
    sc->max_ej_pct = rint_(r, 0, 100);
    sc->panic_pct = rint_(r, 0, 80);
    sb_printf(c,
              ",\"circuit_breaker\":{\"consecutive_failures\":%d,\"failure_rate\":%g,"
              "\"min_requests\":%d,\"open_time\":%g,\"max_open_time\":%g,"
              "\"half_open_requests\":%d,\"max_ejection_percent\":%g,\"panic_threshold\":%g}",
              rint_(r, 0, 6), rrange(r, 0.2, 1), rint_(r, 1, 50), open / 1000,
              sc->max_open_ms / 1000, rint_(r, 1, 3), sc->max_ej_pct, sc->panic_pct);
  }
  u = runit(r);
  if (u < 0.2)
    sb_puts(c, ",\"adaptive_throttling\":false");
  else if (u < 0.45)
    sb_printf(c, ",\"adaptive_throttling\":{\"k\":%g,\"min_requests\":%d}", rrange(r, 1, 3),
              rint_(r, 1, 30));
  u = runit(r);
  if (u < 0.15)
    sb_printf(c, ",\"hedging\":{\"delay\":%g}", rrange(r, 0.05, 3));
  else if (u < 0.25)
    sb_printf(c, ",\"hedging\":{\"percentile\":%d}", rint_(r, 50, 99));
  else if (u < 0.3)
    sb_printf(c, ",\"hedging\":{\"delay\":%g,\"percentile\":%d}", rrange(r, 0.05, 3),
              rint_(r, 50, 99));
  u = runit(r);
  if (u < 0.2)
    sb_puts(c, ",\"slow_start\":false");
  else if (u < 0.4)
    sb_printf(c, ",\"slow_start\":{\"window\":%g,\"min_weight\":%g}", rrange(r, 1, 60),
              rrange(r, 0.01, 1));
  sb_puts(c, "}}");
}

/* A prompt of |n| characters. */
static void prompt(sb *b, rng *r, int n) {
  static const char words[] = "the quick brown fox jumps over a lazy dog and then ";
  size_t k = sizeof words - 1, off = (size_t)(rnext(r) % k);
  while (n > 0) {
    size_t m = k - off < (size_t)n ? k - off : (size_t)n;
    sb_put(b, words + off, m);
    n -= (int)m;
    off = 0;
  }
}

static void gen_workload(scenario *sc, rng *r) {
  int n = rint_(r, 20, chance(r, 0.2) ? 400 : 150);
  double span = sc->end - START_MS;
  /* Warm-up at the start: one request per group (its pick scratch), then
   * ad hoc ones, a quarter of the workload's requests (the id map), the
   * first with long names and a long prompt (the event, head and body
   * buffers). Their upstreams hang; all are cancelled, the store wiped,
   * and the heap's baseline taken after that. */
  for (int g = 0; g < sc->ngroups; g++) {
    step *s = add_step(sc, START_MS, S_BEGIN);
    s->warm = 1;
    sb b = {0};
    sb_printf(&b, "{\"model\":\"g%d\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}", g);
    s->body = b.p;
  }
  for (int i = 0; i < n / 4 + 8; i++) {
    step *s = add_step(sc, START_MS, S_BEGIN);
    s->warm = 1;
    sb b = {0};
    sb_puts(&b, "{\"model\":\"openai/warm");
    if (i == 0)
      for (int k = 0; k < 300; k++)
        sb_puts(&b, "wwwwwwwwww");
    sb_puts(&b, "\",\"api_base\":\"http://mock/warm/v1");
    if (i == 0)
      for (int k = 0; k < 300; k++)
        sb_puts(&b, "wwwwwwwwww");
    sb_printf(&b,
              "\",\"api_key\":\"sk-sim-warm-SECRET-%d\",\"messages\":[{\"role\":\"user\","
              "\"content\":\"",
              i);
    prompt(&b, r, i == 0 ? 25000 : 2);
    sb_puts(&b, "\"}]}");
    s->body = b.p;
  }
  int nwarm = sc->nsteps;
  for (int i = 0; i < nwarm; i++)
    add_step(sc, START_MS, S_CANCEL)->target = i;
  sc->wipe_step = sc->nsteps;
  add_step(sc, START_MS, S_WIPE);

  /* Arrivals: uniform, with bursts. */
  double *at = malloc((size_t)n * sizeof *at);
  for (int i = 0; i < n; i++) {
    at[i] = START_MS + 1 + rms(r, 0, span);
    if (i && chance(r, 0.15)) at[i] = at[i - 1] + rms(r, 0, 50);
  }
  for (int i = 1; i < n; i++) /* insertion sort: n is small */
    for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
      double t = at[j];
      at[j] = at[j - 1];
      at[j - 1] = t;
    }
  for (int i = 0; i < n; i++) {
    int kind = chance(r, 0.04) ? S_EMBED : S_BEGIN;
    step *s = add_step(sc, at[i], kind);
    sb b = {0};
    double u = runit(r);
    int g = rint_(r, 0, sc->ngroups - 1);
    if (u < 0.01) {
      sb_puts(&b, chance(r, 0.5) ? "not json" : "{\"model\":\"g0\",\"messages\":[]}");
      s->body = b.p;
      continue;
    }
    if (u < 0.03)
      sb_puts(&b, "{\"model\":\"nope\"");
    else if (u < 0.07)
      sb_printf(&b,
                "{\"model\":\"openai/adhoc\",\"api_base\":\"http://mock/adhoc/v1\","
                "\"api_key\":\"sk-sim-adhoc-SECRET-%d\"",
                rint_(r, 0, 2));
    else
      sb_printf(&b, "{\"model\":\"g%d\"", g);
    if (kind == S_BEGIN && chance(r, 0.35)) {
      s->stream = 1;
      sb_puts(&b, ",\"stream\":true");
    }
    if (chance(r, 0.2)) {
      s->has_retries = 1;
      s->retries = rint_(r, 0, 4);
      sb_printf(&b, ",\"num_retries\":%d", s->retries);
    }
    if (chance(r, 0.25)) {
      s->timeout_ms = rms(r, 300, 30000);
      sb_printf(&b, ",\"timeout\":%g", s->timeout_ms / 1000);
    }
    if (chance(r, 0.1)) {
      sb_puts(&b, ",\"fallbacks\":[");
      int k = rint_(r, 1, 2);
      for (int j = 0; j < k; j++) {
        int h = rint_(r, 0, sc->ngroups);
        if (chance(r, 0.2))
          sb_printf(&b, "%s{\"model\":\"g%d\"}", j ? "," : "", h);
        else
          sb_printf(&b, "%s\"g%d\"", j ? "," : "", h);
      }
      sb_puts(&b, "]");
    }
    if (chance(r, 0.05)) sb_puts(&b, ",\"disable_fallbacks\":true");
    if (chance(r, 0.1)) sb_printf(&b, ",\"max_tokens\":%d", rint_(r, 1, 512));
    int len = chance(r, 0.05) ? rint_(r, 2000, 20000) : rint_(r, 1, 200);
    if (kind == S_EMBED) {
      sb_puts(&b, ",\"input\":\"");
      prompt(&b, r, len);
      sb_puts(&b, "\"}");
    } else {
      sb_puts(&b, ",\"messages\":[{\"role\":\"user\",\"content\":\"");
      prompt(&b, r, len);
      sb_puts(&b, "\"}]}");
    }
    s->body = b.p;
  }
  free(at);
}

/* Client cancellations, some at once, merged into the steps' time order. */
static void gen_cancels(scenario *sc, rng *r) {
  int n = sc->nsteps;
  int first_req = sc->wipe_step + 1;
  for (int i = first_req; i < n; i++) {
    if (sc->steps[i].kind == S_CANCEL || !chance(r, 0.08)) continue;
    double after = chance(r, 0.15) ? 0 : rms(r, 1, 20000);
    add_step(sc, sc->steps[i].at + after, S_CANCEL)->target = i;
  }
  /* Stable insertion of the new cancels into time order (after every step
   * at the same time, so after their request). */
  for (int i = n; i < sc->nsteps; i++) {
    step t = sc->steps[i];
    int j = i;
    while (j > first_req && sc->steps[j - 1].at > t.at) {
      sc->steps[j] = sc->steps[j - 1];
      j--;
    }
    sc->steps[j] = t;
  }
}

static void gen_scenario(scenario *sc, uint64_t seed) {
  memset(sc, 0, sizeof *sc);
  sc->seed = seed;
  rng r = {seed * 0x2545f4914f6cdd1dull + 0x1234567ull};
  sc->core_seed = rnext(&r);
  sc->watched = (int)(seed & 1); /* not drawn: every other choice stays as it was */
  sc->end = START_MS + rms(&r, 20000, chance(&r, 0.3) ? 400000 : 120000);
  gen_config(sc, &r);
  for (int i = 0; i < sc->ndeps; i++)
    gen_windows(sc, &r, &sc->deps[i]);
  /* The pseudo-upstreams: warm-up (hangs) and ad hoc provider models. */
  dep *w = &sc->deps[sc->ndeps++];
  snprintf(w->id, sizeof w->id, "warm");
  w->group = -1;
  dep *a = &sc->deps[sc->ndeps++];
  snprintf(a->id, sizeof a->id, "adhoc");
  a->group = -1;
  a->kind = K_OPENAI;
  a->base_lat = rms(&r, 20, 400);
  gen_windows(sc, &r, a);
  gen_correlated(sc, &r);
  gen_correlated(sc, &r);
  if (chance(&r, 0.3)) {
    sc->noutages = rint_(&r, 1, 2);
    for (int i = 0; i < sc->noutages; i++) {
      sc->outages[i][0] = START_MS + rms(&r, 0, sc->end - START_MS);
      sc->outages[i][1] = sc->outages[i][0] + rms(&r, 500, 60000);
    }
  }
  gen_workload(sc, &r);
  gen_cancels(sc, &r);
}

/* ------------------------------------------------------------ the world */
typedef struct tmr {
  int is_part;
  int32_t id; /* the core's timer id, or the attempt id of an answer part */
  int dep, ans, part;
  double due;
  uint64_t seq;
} tmr;

typedef struct kvent {
  char *key;
  char *val;
  size_t len;
  double expires;
} kvent;

typedef struct reqinfo { /* per core id (requests and attempts share ids) */
  int step;              /* the step that began it, -1 for an attempt */
  int req;               /* an attempt: its request's id */
  int dep;               /* an attempt: its upstream */
  int delivered;
  int fetches;  /* fetch_starts */
  int attempts; /* attempt_start events (an attempt the provider cannot
                   express, embeddings on Anthropic say, is never sent) */
  int committed;
  int chunks;
  char last_chunk[40];
  size_t chunk_len;
  double deadline;
  uint64_t tried;                              /* a request: the upstreams it sent attempts to */
  int pend_fallback, pend_backoff, pend_hedge; /* what its next attempt_start is */
  int ended, aborted; /* an attempt: attempt_end seen / fetch_abort called */
} reqinfo;

typedef struct window_count {
  double window;
  int requests, takes;
} window_count;

typedef struct minute_count {
  int dep;
  double minute;
  int n;
} minute_count;

typedef struct world {
  scenario *sc;
  sy_router *r;
  sy_host host;
  double now;
  uint64_t seq;
  tmr *t;
  size_t nt, capt;
  kvent *kv;
  size_t capkv, nkv;
  rng fr;
  int warm, wiped, in_core, verbose;
  int store_was_down; /* at the last entry point (report_store_back) */
  int cur_step;       /* the step being run, -1 between steps */
  reqinfo *ids;
  size_t capids;
  minute_count *mc;
  size_t nmc, capmc;
  window_count *wc; /* retry budget windows */
  size_t nwc, capwc;
  int32_t *ended; /* attempts that ended in the entry point now running */
  size_t nended, capended;
  int steps_open; /* requests begun and not delivered (peak below) */
  int heap_exact; /* the warm-up held more ids than the run could: the
                     heap must be exactly at its baseline at the end */
  int peak_open, warm_peak;
  uint32_t h_events, h_deliveries, h_chunks;
  unsigned long nevents, ndeliveries, nfetches;
  sb fail;
  int nfail;
} world;

static void violation(world *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void violation(world *w, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  w->nfail++;
  if (w->nfail <= 5)
    sb_printf(&w->fail, "%s  t=+%.3f: %s\n", w->nfail > 1 ? "" : "", w->now - START_MS, msg);
  if (w->verbose) printf("!! VIOLATION t=+%.3f: %s\n", w->now - START_MS, msg);
}

static reqinfo *info(world *w, int32_t id) {
  if (id <= 0) return NULL;
  if ((size_t)id >= w->capids) {
    size_t ncap = (size_t)id * 2 + 64;
    w->ids = realloc(w->ids, ncap * sizeof *w->ids);
    for (size_t i = w->capids; i < ncap; i++) {
      memset(&w->ids[i], 0, sizeof *w->ids);
      w->ids[i].step = -1;
      w->ids[i].dep = -1;
    }
    w->capids = ncap;
  }
  return &w->ids[id];
}

static int store_up(const world *w) {
  for (int i = 0; i < w->sc->noutages; i++)
    if (w->now >= w->sc->outages[i][0] && w->now < w->sc->outages[i][1]) return 0;
  return 1;
}

static void schedule(world *w, int is_part, int32_t id, int d, int a, int p, double delay) {
  if (w->nt == w->capt) {
    w->capt = w->capt ? w->capt * 2 : 256;
    w->t = realloc(w->t, w->capt * sizeof *w->t);
  }
  tmr *t = &w->t[w->nt++];
  t->is_part = is_part;
  t->id = id;
  t->dep = d;
  t->ans = a;
  t->part = p;
  t->due = w->now + (delay > 0 ? delay : 0);
  t->seq = w->seq++;
}

/* ---- kv: open addressing; expired entries read as absent ---- */
static uint32_t kv_hash(const char *k, size_t n) { return fnv32(FNV32_INIT, k, n); }

static kvent *kv_slot(world *w, const char *k, size_t n, int create) {
  if (create && (w->nkv + 1) * 2 > w->capkv) {
    size_t ocap = w->capkv;
    kvent *old = w->kv;
    w->capkv = ocap ? ocap * 2 : 1024;
    w->kv = calloc(w->capkv, sizeof *w->kv);
    for (size_t i = 0; i < ocap; i++) {
      if (!old[i].key) continue;
      uint32_t h = kv_hash(old[i].key, strlen(old[i].key)) & (uint32_t)(w->capkv - 1);
      while (w->kv[h].key)
        h = (h + 1) & (uint32_t)(w->capkv - 1);
      w->kv[h] = old[i];
    }
    free(old);
  }
  if (!w->capkv) return NULL;
  uint32_t h = kv_hash(k, n) & (uint32_t)(w->capkv - 1);
  while (w->kv[h].key) {
    if (strlen(w->kv[h].key) == n && !memcmp(w->kv[h].key, k, n)) return &w->kv[h];
    h = (h + 1) & (uint32_t)(w->capkv - 1);
  }
  if (!create) return NULL;
  w->kv[h].key = strndup(k, n);
  w->kv[h].val = NULL;
  w->nkv++;
  return &w->kv[h];
}

static kvent *kv_live(world *w, const char *k, size_t n) {
  kvent *e = kv_slot(w, k, n, 0);
  if (!e || !e->val) return NULL;
  if (e->expires && e->expires <= w->now) return NULL;
  return e;
}

static void kv_set(world *w, const char *k, size_t kl, const char *v, size_t vl, double expires) {
  kvent *e = kv_slot(w, k, kl, 1);
  free(e->val);
  e->val = strndup(v, vl);
  e->len = vl;
  e->expires = expires;
}

static void kv_wipe(world *w) {
  for (size_t i = 0; i < w->capkv; i++) {
    free(w->kv[i].key);
    free(w->kv[i].val);
  }
  free(w->kv);
  w->kv = NULL;
  w->capkv = w->nkv = 0;
}

/* ---- answers: what an upstream in its current fault mode sends ---- */
static const char *const sse_role =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n";
static const char *const sse_content =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"content\":\"Hello there\"}}]}\n\n";
static const char *const sse_tail =
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":"
    "{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\ndata: [DONE]\n\n";
static const char *const an_head =
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"type\":"
    "\"message\",\"role\":\"assistant\",\"model\":\"c\",\"content\":[],\"usage\":{\"input_tokens\":"
    "5,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":"
    "\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"
    "event: ping\ndata: {\"type\":\"ping\"}\n\n";
static const char *const an_content =
    "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"text_delta\",\"text\":\"Hello there\"}}\n\n";
static const char *const an_tail =
    "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
    "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n"
    "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";

typedef struct build {
  world *w;
  answer *a;
  int kind;
} build;

static void add_part(build *b, double at, int kind, int status, const char *text) {
  if (b->a->nparts >= MAXPARTS) abort();
  part *p = &b->a->parts[b->a->nparts++];
  p->at = at;
  p->kind = kind;
  p->status = status;
  p->text = text ? intern(b->w->sc, text) : -1;
}

/* |text| as the body, in one to three pieces at |at|..|end|. */
static void add_body(build *b, double at, double end, const char *text) {
  rng *r = &b->w->fr;
  size_t n = strlen(text);
  int pieces = n > 8 && chance(r, 0.4) ? rint_(r, 2, 3) : 1;
  size_t off = 0;
  for (int i = 0; i < pieces; i++) {
    size_t len =
        i == pieces - 1 || n - off < 4 ? n - off : (size_t)rint_(r, 1, (int)((n - off) / 2));
    char *piece = strndup(text + off, len);
    add_part(b, i == 0 ? at : floor(at + (end - at) * i / pieces), P_BODY, 0, piece);
    free(piece);
    off += len;
    if (off == n) break;
  }
}

static void json_answer(build *b, double lat, int status, const char *headers, const char *body) {
  add_part(b, lat, P_RESPONSE, status, headers);
  add_body(b, lat, lat, body);
  add_part(b, lat, P_END, 0, NULL);
}

static void ok_body(sb *o, rng *r, int kind, int embeddings) {
  int p = rint_(r, 1, 3000), c = rint_(r, 1, 600);
  if (embeddings)
    sb_printf(o,
              "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
              "\"embedding\":[0.1,0.2,0.3]}],\"model\":\"e\",\"usage\":{\"prompt_tokens\":%d,"
              "\"total_tokens\":%d}}",
              p, p);
  else if (kind == K_ANTHROPIC)
    sb_printf(o,
              "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"c\","
              "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\","
              "\"usage\":{\"input_tokens\":%d,\"output_tokens\":%d}}",
              p, c);
  else
    sb_printf(o,
              "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
              "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"ok\"},"
              "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":%d,\"completion_tokens\":"
              "%d,\"total_tokens\":%d}}",
              p, c, p + c);
}

static void error_body(sb *o, int kind, int status, const char *msg) {
  if (kind == K_ANTHROPIC) {
    const char *type = status == 429   ? "rate_limit_error"
                       : status == 529 ? "overloaded_error"
                       : status == 401 ? "authentication_error"
                       : status == 404 ? "not_found_error"
                       : status >= 500 ? "api_error"
                                       : "invalid_request_error";
    sb_printf(o, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":", type);
  } else {
    sb_puts(o, "{\"error\":{\"message\":");
  }
  sb_json(o, msg, strlen(msg));
  if (kind == K_ANTHROPIC)
    sb_puts(o, "}}");
  else
    sb_printf(o, ",\"type\":\"%s\",\"param\":null,\"code\":%s}}",
              status == 429   ? "requests"
              : status >= 500 ? "server_error"
                              : "invalid_request_error",
              status == 429 ? "\"rate_limit_exceeded\"" : "null");
}

static void stream_ok(build *b, double head, double first, double end) {
  int an = b->kind == K_ANTHROPIC;
  add_part(b, head, P_RESPONSE, 200, "content-type:text/event-stream\n");
  sb all = {0};
  sb_puts(&all, an ? an_head : sse_role);
  size_t before = all.n;
  sb_puts(&all, an ? an_content : sse_content);
  sb_puts(&all, an ? an_tail : sse_tail);
  /* The first piece ends before the content (or inside it), the rest
   * comes at |first| and after. */
  rng *r = &b->w->fr;
  size_t cut = (size_t)rint_(r, 1, (int)before);
  char *p1 = strndup(all.p, cut);
  add_part(b, head, P_BODY, 0, p1);
  free(p1);
  size_t mid = cut + (size_t)rint_(r, 1, (int)(all.n - cut - 1));
  char *p2 = strndup(all.p + cut, mid - cut);
  add_part(b, first, P_BODY, 0, p2);
  free(p2);
  add_part(b, floor((first + end) / 2), P_BODY, 0, all.p + mid);
  add_part(b, end, P_END, 0, NULL);
  sb_free(&all);
}

static void stream_cut(build *b, double head, double at, int after_first) {
  int an = b->kind == K_ANTHROPIC;
  rng *r = &b->w->fr;
  add_part(b, head, P_RESPONSE, 200, "content-type:text/event-stream\n");
  sb s = {0};
  sb_puts(&s, an ? an_head : sse_role);
  if (after_first) sb_puts(&s, an ? an_content : sse_content);
  add_part(b, head, P_BODY, 0, s.p);
  if (chance(r, 0.5))
    add_part(b, at, P_ERROR, 0, "socket hang up");
  else
    add_part(b, at, P_END, 0, NULL);
  sb_free(&s);
}

static void retry_after_headers(sb *h, world *w) {
  rng *r = &w->fr;
  int k = rint_(r, 0, 6);
  if (k == 1) sb_printf(h, "retry-after:%d\n", rint_(r, 1, 10));
  if (k == 2) sb_printf(h, "retry-after-ms:%d\n", rint_(r, 50, 5000));
  if (k == 3) sb_printf(h, "retry-after:%d\n", rint_(r, 61, 300)); /* above retry_after_max */
  if (k == 4) {
    time_t t = (time_t)(w->now / 1000) + rint_(r, 1, 20);
    struct tm tm;
    gmtime_r(&t, &tm);
    char date[64];
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    sb_printf(h, "retry-after:%s\n", date);
  }
  if (k == 5) sb_printf(h, "retry-after:%g\n", rrange(r, 0.1, 3));
  if (chance(r, 0.3))
    sb_printf(h,
              "x-ratelimit-limit-requests:100\nx-ratelimit-remaining-requests:0\n"
              "x-ratelimit-reset-requests:%ds\n",
              rint_(r, 1, 30));
}

static int mode_at(const dep *d, double now, double *p) {
  for (int i = d->nw - 1; i >= 0; i--)
    if (now >= d->w[i].from && now < d->w[i].to) {
      *p = d->w[i].p;
      return d->w[i].mode;
    }
  return M_HEALTHY;
}

static void make_answer(world *w, dep *d, int stream, int embeddings, answer *a) {
  rng *r = &w->fr;
  memset(a, 0, sizeof *a);
  build b = {w, a, d->kind};
  if (!strcmp(d->id, "warm") || w->warm) return; /* hangs */
  double p = 1;
  int mode = mode_at(d, w->now, &p);
  if (mode != M_HEALTHY && !chance(r, p)) mode = M_HEALTHY;
  double lat = floor(d->base_lat * rrange(r, 0.5, 1.5)) + 1;
  sb body = {0}, hdr = {0};
  switch (mode) {
  case M_HEALTHY:
  case M_BROWNOUT:
    if (mode == M_BROWNOUT) lat = rms(r, 2000, 40000);
    if (mode == M_HEALTHY && chance(r, 0.02)) {
      error_body(&body, d->kind, 500, "The server had an error");
      json_answer(&b, lat, 500, "content-type:application/json\n", body.p);
      break;
    }
    if (chance(r, 0.1))
      sb_printf(&hdr,
                "x-ratelimit-limit-requests:100\nx-ratelimit-remaining-requests:%d\n"
                "x-ratelimit-reset-requests:%ds\n",
                rint_(r, 0, 5), rint_(r, 1, 20));
    if (stream && !embeddings) {
      double head = floor(lat * 0.2) + 1;
      stream_ok(&b, head, mode == M_BROWNOUT ? lat : floor(lat * 0.6) + 1, lat + rms(r, 1, 500));
    } else {
      sb_puts(&hdr, "content-type:application/json\n");
      ok_body(&body, r, d->kind, embeddings);
      json_answer(&b, lat, 200, hdr.p, body.p);
    }
    break;
  case M_OUTAGE: {
    static const char *const msgs[] = {"connect ECONNREFUSED 10.0.0.1:443",
                                       "getaddrinfo ENOTFOUND mock", "read ECONNRESET"};
    add_part(&b, rms(r, 0, 30), P_ERROR, 0, msgs[rint_(r, 0, 2)]);
    break;
  }
  case M_STORM: {
    int quota = chance(r, 0.05);
    sb_puts(&hdr, "content-type:application/json\n");
    retry_after_headers(&hdr, w);
    if (quota && d->kind != K_ANTHROPIC)
      sb_puts(&body, "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":"
                     "\"insufficient_quota\",\"param\":null,\"code\":\"insufficient_quota\"}}");
    else
      error_body(&body, d->kind, 429, "Rate limit reached for requests");
    json_answer(&b, rms(r, 1, 60), 429, hdr.p, body.p);
    break;
  }
  case M_5XX: {
    static const int st[] = {500, 502, 503, 504, 529};
    int s = st[rint_(r, 0, d->kind == K_ANTHROPIC ? 4 : 3)];
    error_body(&body, d->kind, s, s == 529 ? "Overloaded" : "upstream failure");
    json_answer(&b, rms(r, 1, 800), s, "content-type:application/json\n", body.p);
    break;
  }
  case M_HANG:
    if (stream && chance(r, 0.5))
      add_part(&b, rms(r, 1, 200), P_RESPONSE, 200, "content-type:text/event-stream\n");
    break;
  case M_MALFORMED:
    if (stream && !embeddings) {
      add_part(&b, lat, P_RESPONSE, 200, "content-type:text/event-stream\n");
      add_part(&b, lat, P_BODY, 0, "data: {\"choices\":[{\"delta\":{\"cont\n\n");
      add_part(&b, lat, P_END, 0, NULL);
    } else {
      json_answer(&b, lat, 200, "content-type:application/json\n",
                  chance(r, 0.5) ? "{\"id\":\"chatcmpl-broken\",\"choices\":[{\"ind"
                                 : "<html>502 Bad Gateway</html>");
    }
    break;
  case M_CUT_BEFORE:
  case M_CUT_AFTER:
    if (stream && !embeddings) {
      stream_cut(&b, floor(lat * 0.3) + 1, lat, mode == M_CUT_AFTER);
    } else {
      ok_body(&body, r, d->kind, embeddings);
      body.p[body.n / 2] = '\0';
      add_part(&b, lat, P_RESPONSE, 200, "content-type:application/json\n");
      add_part(&b, lat, P_BODY, 0, body.p);
      add_part(&b, lat, P_ERROR, 0, "socket hang up");
    }
    break;
  case M_REFUSE: {
    int k = rint_(r, 0, 4);
    if (k == 0) {
      sb msg = {0};
      sb_printf(&msg, "Incorrect API key provided: %s", d->key);
      error_body(&body, d->kind, 401, msg.p);
      sb_free(&msg);
      json_answer(&b, rms(r, 1, 50), 401, "content-type:application/json\n", body.p);
    } else if (k == 1) {
      if (d->kind == K_ANTHROPIC)
        error_body(&body, d->kind, 400, "prompt is too long: 210000 tokens > 200000 maximum");
      else
        sb_puts(&body, "{\"error\":{\"message\":\"This model's maximum context length is 8192 "
                       "tokens.\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
                       "\"code\":\"context_length_exceeded\"}}");
      json_answer(&b, rms(r, 1, 50), 400, "content-type:application/json\n", body.p);
    } else if (k == 2) {
      error_body(&body, d->kind, 404, "The model does not exist");
      json_answer(&b, rms(r, 1, 50), 404, "content-type:application/json\n", body.p);
    } else if (k == 3 && !stream && !embeddings && d->kind != K_ANTHROPIC) {
      json_answer(&b, lat, 200, "content-type:application/json\n",
                  "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
                  "\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":"
                  "\"content_filter\"}]}");
    } else {
      static const int st[] = {408, 409, 422};
      int s = st[rint_(r, 0, 2)];
      error_body(&body, d->kind, s, "try again");
      json_answer(&b, rms(r, 1, 100), s, "content-type:application/json\n", body.p);
    }
    break;
  }
  }
  sb_free(&body);
  sb_free(&hdr);
}

/* ---- the sy_host callbacks ---- */
static void enter_check(world *w, const char *what) {
  if (!w->in_core) violation(w, "%s called outside an entry point", what);
}

static sy_ms h_now(void *u) { return ((world *)u)->now; }

static int dep_of_url(world *w, const char *head) {
  const char *url = strstr(head, "\"url\":\"");
  if (!url) return -1;
  url += 7;
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  if (!p) return -1;
  p++;
  size_t n = strcspn(p, "/?\"");
  for (int i = 0; i < w->sc->ndeps; i++)
    if (strlen(w->sc->deps[i].id) == n && !strncmp(w->sc->deps[i].id, p, n)) return i;
  return -1;
}

static int count_str(const char *hay, size_t n, const char *needle) {
  int c = 0;
  size_t k = strlen(needle);
  const char *p = hay, *end = hay + n;
  while ((size_t)(end - p) >= k &&
         (p = memchr(p, needle[0], (size_t)(end - p - (ptrdiff_t)k + 1)))) {
    if (!memcmp(p, needle, k)) c++;
    p++;
  }
  return c;
}

static void check_key_in_head(world *w, const dep *d, const char *head, size_t hl, int32_t att,
                              const char *req_key) {
  int secrets = count_str(head, hl, "SECRET");
  const char *key = req_key ? req_key : d->key;
  if (!key[0]) {
    if (secrets) violation(w, "attempt %d: a key in the head of a keyless upstream", att);
    return;
  }
  static const char *const prefixes[] = {"\"authorization\":\"Bearer ", "\"api-key\":\"",
                                         "\"x-api-key\":\""};
  const char *want = prefixes[d->kind];
  sb needle = {0};
  sb_printf(&needle, "%s%s\"", want, key);
  int in_auth = count_str(head, hl, needle.p);
  sb_free(&needle);
  if (secrets != 1 || in_auth != 1)
    violation(w, "attempt %d to %s: the key appears %d time(s) in the head, %d in its auth header",
              att, d->id, secrets, in_auth);
}

static window_count *budget_window(world *w) {
  double win = floor(w->now / w->sc->budget_window_ms);
  for (size_t i = 0; i < w->nwc; i++)
    if (w->wc[i].window == win) return &w->wc[i];
  if (w->nwc == w->capwc) {
    w->capwc = w->capwc ? w->capwc * 2 : 32;
    w->wc = realloc(w->wc, w->capwc * sizeof *w->wc);
  }
  w->wc[w->nwc] = (window_count){win, 0, 0};
  return &w->wc[w->nwc++];
}

/* One retry or hedge taken from the budget now. */
static void budget_take(world *w) {
  if (w->wiped && w->sc->budget) budget_window(w)->takes++;
}

/* The breaker model: health.c stores deadlines exactly as the events carry them. */
static int ej_open(const world *w, const dep *d) { return d->ej_until > 0 && w->now < d->ej_until; }
static int ej_any(const world *w, const dep *d) { /* open or half-open */
  return d->ej_until > 0 && w->now < d->ej_until + w->sc->max_open_ms;
}

/* Whether the panic of select.c (with fewer than panic_threshold % of a
 * group available, open breakers are ignored) could be why request |rid|
 * went to |di|, whose breaker is open: the group's least availability for
 * this request (its tried deployments excluded) against the most open. */
static int panic_possible(world *w, int di, const reqinfo *ri) {
  const dep *d = &w->sc->deps[di];
  double p = w->sc->panic_pct / 100;
  int avail = 0, open = 0;
  for (int i = 0; i < w->sc->ndeps; i++) {
    const dep *e = &w->sc->deps[i];
    if (e->group != d->group) continue;
    if (ej_open(w, e)) open++;
    if (i == di || (ri && (ri->tried >> i & 1))) continue;
    if (w->now < e->cd_until || ej_any(w, e)) continue;
    avail++;
  }
  return !(avail * (1 - p) >= p * open);
}

static void h_fetch_start(void *u, int32_t att, const char *head, size_t hl, const char *body,
                          size_t bl) {
  world *w = u;
  enter_check(w, "fetch_start");
  w->nfetches++;
  char *h = strndup(head, hl);
  int di = dep_of_url(w, h);
  reqinfo *ai = info(w, att);
  int32_t rid = ai ? ai->req : 0;
  reqinfo *ri = rid > 0 ? info(w, rid) : NULL;
  if (di < 0) {
    violation(w, "attempt %d: fetch to an unknown upstream: %.200s", att, h);
    free(h);
    return;
  }
  dep *d = &w->sc->deps[di];
  if (ai) ai->dep = di;
  if (!ri || ri->step < 0) {
    violation(w, "attempt %d: fetch_start without an attempt_start naming its request", att);
  } else {
    ri->fetches++;
    if (ri->delivered) violation(w, "req %d: attempt %d started after its deliver", rid, att);
    if (ri->committed)
      violation(w, "req %d: attempt %d started after the stream's first token", rid, att);
  }
  /* The cooldown the core announced is honoured, while the store holds it. */
  if (d->probe) {
    d->probe = 0; /* hook: a probe event lets one attempt through */
  } else if (store_up(w) && w->now < d->cd_until) {
    violation(w, "attempt %d went to %s, cooling until +%.3f", att, d->id, d->cd_until - START_MS);
  } else if (store_up(w) && ej_open(w, d)) {
    if (!panic_possible(w, di, ri))
      violation(w, "attempt %d went to %s, its breaker open until +%.3f, with no panic", att, d->id,
                d->ej_until - START_MS);
  } else if (store_up(w) && !ej_open(w, d) && ej_any(w, d)) {
    violation(w, "attempt %d went to %s, half-open since +%.3f, without a probe event", att, d->id,
              d->ej_until - START_MS);
  }
  if (ri && di < 64) ri->tried |= 1ull << di;
  /* rpm: counted per calendar minute, judged at the end. */
  if (w->sc->limits && d->rpm > 0 && w->wiped) {
    double m = floor(w->now / 60000);
    size_t i = 0;
    while (i < w->nmc && !(w->mc[i].dep == di && w->mc[i].minute == m))
      i++;
    if (i == w->nmc) {
      if (w->nmc == w->capmc) {
        w->capmc = w->capmc ? w->capmc * 2 : 32;
        w->mc = realloc(w->mc, w->capmc * sizeof *w->mc);
      }
      w->mc[w->nmc++] = (minute_count){di, m, 0};
    }
    w->mc[i].n++;
  }
  /* Secrets: the key only in its auth header, never in the body. */
  const char *req_key = NULL;
  char keybuf[64];
  if (!strcmp(d->id, "warm") || !strcmp(d->id, "adhoc")) {
    /* the request's own key: sk-sim-<warm|adhoc>-SECRET-<n> */
    const char *k = strstr(h, "sk-sim-");
    size_t kl = k ? strcspn(k, "\"") : 0;
    snprintf(keybuf, sizeof keybuf, "%.*s", (int)(kl < 60 ? kl : 60), k ? k : "");
    req_key = keybuf;
  }
  check_key_in_head(w, d, h, hl, att, req_key);
  if (body && count_str(body, bl, "SECRET"))
    violation(w, "attempt %d: an API key in the upstream body", att);
  /* The answer, recorded so the wasm replay gives the same one. */
  int stream = strstr(h, ",\"stream\":true}") != NULL;
  int emb = strstr(h, "/embeddings") != NULL;
  if (d->nans == d->capans) {
    d->capans = d->capans ? d->capans * 2 : 16;
    d->ans = realloc(d->ans, d->capans * sizeof *d->ans);
  }
  answer *a = &d->ans[d->nans++];
  make_answer(w, d, stream, emb, a);
  if (w->verbose) {
    double pr;
    int mode = w->warm ? M_HANG : mode_at(d, w->now, &pr);
    printf("host t=+%.3f fetch attempt=%d upstream=%s mode=%s parts=", w->now - START_MS, att,
           d->id, mode_names[mode]);
    for (int i = 0; i < a->nparts; i++)
      printf("%s%s@%g", i ? "," : "",
             (const char *[]){"response", "body", "end", "error"}[a->parts[i].kind],
             a->parts[i].at);
    printf("%s\n", a->nparts ? "" : "(hang)");
  }
  for (int i = 0; i < a->nparts; i++)
    schedule(w, 1, att, di, (int)(a - d->ans), i, a->parts[i].at);
  free(h);
}

static void h_fetch_abort(void *u, int32_t att) {
  world *w = u;
  enter_check(w, "fetch_abort");
  reqinfo *ai = info(w, att);
  if (ai) ai->aborted = 1;
  size_t k = 0;
  for (size_t i = 0; i < w->nt; i++)
    if (!(w->t[i].is_part && w->t[i].id == att)) w->t[k++] = w->t[i];
  w->nt = k;
  if (w->verbose) printf("host t=+%.3f abort attempt=%d\n", w->now - START_MS, att);
}

static void h_timer_start(void *u, int32_t timer, sy_ms delay) {
  world *w = u;
  enter_check(w, "timer_start");
  if (!isfinite(delay) || delay < 0) violation(w, "timer %d started with delay %g", timer, delay);
  schedule(w, 0, timer, -1, -1, -1, delay);
}

static void h_timer_cancel(void *u, int32_t timer) {
  world *w = u;
  enter_check(w, "timer_cancel");
  size_t best = w->nt;
  for (size_t i = 0; i < w->nt; i++)
    if (!w->t[i].is_part && w->t[i].id == timer && (best == w->nt || w->t[i].seq < w->t[best].seq))
      best = i;
  if (best < w->nt) w->t[best] = w->t[--w->nt];
}

static double num_after(const char *s, const char *key) {
  const char *p = strstr(s, key);
  return p ? strtod(p + strlen(key), NULL) : NAN;
}

static void h_deliver(void *u, int32_t id, const char *json, size_t len) {
  world *w = u;
  enter_check(w, "deliver");
  w->ndeliveries++;
  w->h_deliveries = fnv32(fnv32(w->h_deliveries, json, len), "\n", 1);
  reqinfo *ri = info(w, id);
  if (w->verbose) printf("host t=+%.3f deliver %.*s\n", w->now - START_MS, (int)len, json);
  if (!ri || ri->step < 0) {
    violation(w, "deliver for id %d, which no begin returned", id);
    return;
  }
  if (++ri->delivered > 1) violation(w, "req %d delivered %d times", id, ri->delivered);
  w->steps_open--;
  if (count_str(json, len, "SECRET")) violation(w, "req %d: an API key in its answer", id);
  if (w->now > ri->deadline + 1)
    violation(w, "req %d delivered at +%.3f, after its deadline +%.3f", id, w->now - START_MS,
              ri->deadline - START_MS);
  cJSON *doc = cJSON_ParseWithLength(json, len);
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "status");
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(doc, "id");
  const cJSON *route = cJSON_GetObjectItemCaseSensitive(doc, "route");
  const cJSON *att = cJSON_GetObjectItemCaseSensitive(route, "attempts");
  int status = cJSON_IsNumber(st) ? st->valueint : -1;
  if (!doc || !cJSON_IsNumber(jid) || jid->valueint != id || status < 200 || status > 599)
    violation(w, "req %d: a malformed answer: %.300s", id, json);
  else if (status != 200 && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(
                                cJSON_GetObjectItemCaseSensitive(doc, "error"), "message")))
    violation(w, "req %d: an error answer without error.message", id);
  else if (cJSON_IsNumber(att) && (att->valueint != ri->attempts || ri->fetches > ri->attempts))
    violation(w, "req %d: route says %d attempts; %d attempt_start events, %d fetches", id,
              att->valueint, ri->attempts, ri->fetches);
  const step *s = &w->sc->steps[ri->step];
  if (s->stream && status == 200 && ri->committed) {
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(doc, "stream")))
      violation(w, "req %d: a stream's success without \"stream\":true", id);
    static const char done[] = "data: [DONE]\n\n";
    size_t dl = sizeof done - 1, n = strlen(ri->last_chunk);
    if (n < dl || strcmp(ri->last_chunk + n - dl, done))
      violation(w, "req %d: a stream that succeeded without a final [DONE]", id);
  }
  if (ri->committed && status != 200 && strncmp(ri->last_chunk, "data: {\"error\"", 14) &&
      !strstr(ri->last_chunk, "\ndata: {\"error\""))
    violation(w, "req %d: a committed stream failed without an error frame", id);
  cJSON_Delete(doc);
}

static void h_chunk(void *u, int32_t id, const char *frames, size_t len) {
  world *w = u;
  enter_check(w, "chunk");
  w->h_chunks = fnv32(w->h_chunks, frames, len);
  reqinfo *ri = info(w, id);
  if (!ri || ri->step < 0) {
    violation(w, "chunk for id %d, which no begin returned", id);
    return;
  }
  if (!ri->committed) violation(w, "req %d: a chunk before its first_token event", id);
  if (ri->delivered) violation(w, "req %d: a chunk after its deliver", id);
  if (count_str(frames, len, "SECRET")) violation(w, "req %d: an API key in a chunk", id);
  ri->chunks++;
  /* keep the start of the last frame and the end of the bytes */
  size_t keep = sizeof ri->last_chunk - 1;
  const char *last = frames;
  for (const char *p = frames; p + 1 < frames + len; p++)
    if (p[0] == '\n' && p[1] == '\n' && p + 2 < frames + len) last = p + 2;
  if (strncmp(last, "data: [DONE]", 12) == 0 || (size_t)(frames + len - last) <= keep) {
    snprintf(ri->last_chunk, sizeof ri->last_chunk, "%.*s", (int)(frames + len - last), last);
  } else {
    snprintf(ri->last_chunk, sizeof ri->last_chunk, "%.*s", (int)keep, last);
  }
  if (w->verbose) printf("host t=+%.3f chunk req=%d %zu bytes\n", w->now - START_MS, id, len);
}

static int dep_named(world *w, const char *json, const char *key) {
  const char *p = strstr(json, key);
  if (!p) return -1;
  p += strlen(key);
  size_t n = strcspn(p, "\"");
  for (int i = 0; i < w->sc->ndeps; i++)
    if (strlen(w->sc->deps[i].id) == n && !strncmp(w->sc->deps[i].id, p, n)) return i;
  return -1;
}

static void h_emit(void *u, const char *json, size_t len) {
  world *w = u;
  enter_check(w, "emit");
  w->nevents++;
  w->h_events = fnv32(fnv32(w->h_events, json, len), "\n", 1);
  char *e = strndup(json, len);
  if (w->verbose) printf("%s\n", e);
  if (count_str(e, len, "SECRET")) violation(w, "an API key in an event: %.200s", e);
  double t = num_after(e, "{\"t\":");
  if (!(t == w->now))
    violation(w, "event time %.17g is not the clock's %.17g: %.200s", t, w->now, e);
  double req = num_after(e, "\"req\":");
  if (strstr(e, "\"type\":\"request\"")) {
    reqinfo *ri = info(w, (int32_t)req);
    const step *s = w->cur_step >= 0 ? &w->sc->steps[w->cur_step] : NULL;
    if (!ri || !s || (s->kind != S_BEGIN && s->kind != S_EMBED)) {
      violation(w, "a request event outside a begin: %s", e);
    } else {
      ri->step = w->cur_step;
      ri->deadline = w->now + (s->timeout_ms > 0 ? s->timeout_ms : w->sc->timeout_ms);
      /* every request counts (the core counts those it routes: fewer) */
      if (w->wiped && w->sc->budget) budget_window(w)->requests++;
    }
  } else if (strstr(e, "\"type\":\"attempt_start\"")) {
    double att = num_after(e, "\"attempt\":");
    reqinfo *ai = info(w, (int32_t)att);
    if (ai) ai->req = (int)req;
    reqinfo *ri = info(w, (int32_t)req);
    if (ri && ri->step >= 0) {
      ri->attempts++;
      /* A retry takes from the budget here, unless its take was its
       * backoff's or hedge's, or it is a fallback's first attempt. */
      if (ri->attempts > 1 && !ri->pend_fallback && !ri->pend_backoff && !ri->pend_hedge)
        budget_take(w);
      ri->pend_fallback = ri->pend_backoff = ri->pend_hedge = 0;
      const step *s = &w->sc->steps[ri->step];
      int R = s->has_retries ? s->retries : w->sc->R_cfg;
      if (ri->attempts > 1 + R + w->sc->F)
        violation(w, "req %d: %d attempts, above 1 + R(%d) + F(%d)", (int)req, ri->attempts, R,
                  w->sc->F);
    }
  } else if (strstr(e, "\"type\":\"cooldown\"")) {
    int di = dep_named(w, e, "\"deployment\":\"");
    double until = num_after(e, "\"until\":");
    if (!isfinite(until) || !strstr(e, "\"deployment\":\""))
      violation(w, "a cooldown event without deployment/until: %s", e);
    /* (ad hoc deployments, adhoc-<hash>, are not modelled) */
    /* Written to the store only while it is up (kv_put is dropped else). */
    else if (di >= 0 && store_up(w) && until > w->sc->deps[di].cd_until)
      w->sc->deps[di].cd_until = until;
  } else if (strstr(e, "\"type\":\"attempt_end\"")) {
    int32_t att = (int32_t)num_after(e, "\"attempt\":");
    reqinfo *ai = info(w, att);
    if (ai) ai->ended = 1;
    /* A finished stream ([DONE], message_stop) may still wait for the
     * connection's end: only failures are judged. */
    if (strstr(e, "\"class\":\"ok\"")) {
    } else if (w->nended == w->capended) {
      w->capended = w->capended ? w->capended * 2 : 16;
      w->ended = realloc(w->ended, w->capended * sizeof *w->ended);
      w->ended[w->nended++] = att;
    } else {
      w->ended[w->nended++] = att;
    }
  } else if (strstr(e, "\"type\":\"backoff\"") || strstr(e, "\"type\":\"hedge\"") ||
             strstr(e, "\"type\":\"fallback\"")) {
    reqinfo *ri = info(w, (int32_t)req);
    if (!ri) {
    } else if (strstr(e, "\"type\":\"fallback\"")) {
      if (!strstr(e, "\"skipped\":")) ri->pend_fallback = 1;
    } else {
      budget_take(w);
      if (strstr(e, "\"type\":\"backoff\""))
        ri->pend_backoff = 1;
      else
        ri->pend_hedge = 1;
    }
  } else if (strstr(e, "\"type\":\"breaker_open\"") || strstr(e, "\"type\":\"breaker_close\"")) {
    int di = dep_named(w, e, "\"deployment\":\"");
    dep *d = di >= 0 ? &w->sc->deps[di] : NULL;
    if (d && d->group >= 0 && store_up(w)) {
      if (strstr(e, "\"type\":\"breaker_close\"")) {
        d->ej_until = 0;
      } else {
        double until = num_after(e, "\"until\":");
        /* never more than max_ejection_percent of a group open (one may) */
        int open = 0, n = 0;
        for (int i = 0; i < w->sc->ndeps; i++) {
          const dep *o = &w->sc->deps[i];
          if (o->group != d->group) continue;
          n++;
          open += i != di && ej_open(w, o);
        }
        if (open > 0 && open + 1 > w->sc->max_ej_pct / 100 * n + 1e-9)
          violation(w, "breaker of %s opened with %d of %d already open (max_ejection_percent %g)",
                    d->id, open, n, w->sc->max_ej_pct);
        if (!isfinite(until) || until <= w->now)
          violation(w, "breaker_open of %s without a future until: %s", d->id, e);
        else
          d->ej_until = until;
      }
    }
  } else if (strstr(e, "\"type\":\"first_token\"")) {
    reqinfo *ri = info(w, (int32_t)req);
    if (ri) ri->committed = 1;
  } else if (strstr(e, "\"type\":\"probe\"")) {
    /* Hook for half-open circuit breakers: an event of type "probe" naming
     * a deployment lets its next attempt through a cooldown. */
    int di = dep_named(w, e, "\"deployment\":\"");
    if (di >= 0) w->sc->deps[di].probe = 1;
  }
  free(e);
}

static int32_t h_kv_get(void *u, const char *key, size_t kl, char *out, size_t cap) {
  world *w = u;
  enter_check(w, "kv_get");
  if (!store_up(w)) return -1;
  kvent *e = kv_live(w, key, kl);
  if (!e) return -1;
  if (e->len <= cap) memcpy(out, e->val, e->len);
  return (int32_t)e->len;
}

static void h_kv_put(void *u, const char *key, size_t kl, const char *val, size_t vl, sy_ms ttl) {
  world *w = u;
  enter_check(w, "kv_put");
  if (!store_up(w)) return;
  kv_set(w, key, kl, val, vl, ttl > 0 ? w->now + ttl : 0);
}

static double h_kv_add(void *u, const char *key, size_t kl, double delta, sy_ms ttl) {
  world *w = u;
  enter_check(w, "kv_add");
  if (!store_up(w)) return delta;
  kvent *e = kv_live(w, key, kl);
  double v = (e ? strtod(e->val, NULL) : 0) + delta;
  double expires = e ? e->expires : ttl > 0 ? w->now + ttl : 0;
  char txt[64];
  int n = snprintf(txt, sizeof txt, "%.17g", v);
  kv_set(w, key, kl, txt, (size_t)n, expires);
  return v;
}

/* ---- driving ---- */
static const char *text_of(const world *w, int i) { return i >= 0 ? w->sc->texts[i] : ""; }

/* After an entry point: the attempts of a delivered request must have been
 * aborted or ended, and an attempt the core ended on a failure while its
 * upstream was still sending (a malformed stream, say) must have been
 * aborted, else the host keeps the connection and reads it to its end. */
static void after_entry(world *w) {
  for (size_t k = 0; k < w->nended; k++) {
    reqinfo *ai = info(w, w->ended[k]);
    if (!ai || ai->aborted) continue;
    for (size_t i = 0; i < w->nt; i++)
      if (w->t[i].is_part && w->t[i].id == w->ended[k]) {
        violation(w,
                  "attempt %d ended by the core (req %d) while its upstream was still sending, "
                  "never aborted",
                  w->ended[k], ai->req);
        ai->aborted = 1; /* once */
        break;
      }
  }
  w->nended = 0;
  for (size_t i = 0; i < w->nt; i++) {
    if (!w->t[i].is_part) continue;
    reqinfo *ai = info(w, w->t[i].id);
    reqinfo *ri = ai && ai->req > 0 ? info(w, ai->req) : NULL;
    if (ri && ri->delivered && !ai->aborted && !ai->ended) {
      violation(w, "attempt %d of delivered req %d was never aborted", w->t[i].id, ai->req);
      ai->aborted = 1;
    }
  }
}

/* Before each entry point: a store back from an outage is reported to a
 * router keeping its copy, as a real store's reconnect is (it may have
 * kept "absent" answers from the outage). */
static void report_store_back(world *w) {
  int up = store_up(w);
  if (w->sc->watched && up && w->store_was_down) sy_router_store_changed(w->r, NULL, 0);
  w->store_was_down = !up;
}

static int fire_next(world *w, double until) {
  size_t best = w->nt;
  for (size_t i = 0; i < w->nt; i++) {
    const tmr *t = &w->t[i];
    if (t->due > until) continue;
    if (best == w->nt || t->due < w->t[best].due ||
        (t->due == w->t[best].due && t->seq < w->t[best].seq))
      best = i;
  }
  if (best == w->nt) return 0;
  tmr t = w->t[best];
  w->t[best] = w->t[--w->nt];
  if (t.due > w->now) w->now = t.due;
  report_store_back(w);
  w->in_core = 1;
  if (!t.is_part) {
    sy_router_on_timer(w->r, t.id, w->now);
  } else {
    const part *p = &w->sc->deps[t.dep].ans[t.ans].parts[t.part];
    const char *s = text_of(w, p->text);
    switch (p->kind) {
    case P_RESPONSE: sy_router_on_response(w->r, t.id, p->status, s, strlen(s), w->now); break;
    case P_BODY: sy_router_on_body(w->r, t.id, s, strlen(s), w->now); break;
    case P_END: sy_router_on_end(w->r, t.id, w->now); break;
    default: sy_router_on_error(w->r, t.id, s, strlen(s), w->now);
    }
  }
  w->in_core = 0;
  after_entry(w);
  return 1;
}

static void advance_to(world *w, double at) {
  while (fire_next(w, at)) {
  }
  if (at > w->now) w->now = at;
}

typedef struct result {
  int ok;
  sb msg;
  unsigned long requests, events, fetches;
  int heap_exact;
} result;

static void json_scenario(world *w, FILE *out);

static result run(uint64_t seed, int verbose, FILE *json_out) {
  scenario sc;
  gen_scenario(&sc, seed);
  world w;
  memset(&w, 0, sizeof w);
  w.sc = &sc;
  w.verbose = verbose;
  w.now = START_MS;
  w.fr.s = seed ^ 0xfeedfacecafebeefull;
  w.h_events = w.h_deliveries = w.h_chunks = FNV32_INIT;
  w.cur_step = -1;
  w.host = (sy_host){.user = &w,
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
  if (verbose) {
    printf("== seed %llu (core seed %llu)\nconfig: %s\n", (unsigned long long)seed,
           (unsigned long long)sc.core_seed, sb_str(&sc.config));
    printf("bounds: R=%d F=%d router timeout %.0f ms, rpm limits %s; budget %s (%g %%, %g/s, "
           "%.0f ms); breaker %s (max open %.0f ms, max ejection %g %%, panic %g %%)\n",
           sc.R_cfg, sc.F, sc.timeout_ms, sc.limits ? "on" : "off", sc.budget ? "on" : "off",
           sc.budget_pct, sc.budget_min_ps, sc.budget_window_ms, sc.breaker ? "on" : "off",
           sc.max_open_ms, sc.max_ej_pct, sc.panic_pct);
    for (int i = 0; i < sc.noutages; i++)
      printf("store outage: +%.0f .. +%.0f\n", sc.outages[i][0] - START_MS,
             sc.outages[i][1] - START_MS);
    for (int i = 0; i < sc.ndeps; i++) {
      const dep *d = &sc.deps[i];
      printf("upstream %s (%s, ~%.0f ms%s):", d->id,
             (const char *[]){"openai", "azure", "anthropic"}[d->kind], d->base_lat,
             d->rpm > 0 ? ", rpm" : "");
      for (int k = 0; k < d->nw; k++)
        printf(" [%s p=%.2f +%.0f..+%.0f]", mode_names[d->w[k].mode], d->w[k].p,
               d->w[k].from - START_MS, d->w[k].to - START_MS);
      printf("\n");
    }
  }
  size_t heap0 = sy_heap_bytes();
  size_t baseline = 0;
  w.in_core = 1;
  sy_buf err;
  sy_buf_init(&err);
  int rc = sy_router_new(sb_str(&sc.config), sc.config.n, sc.core_seed, &w.host, &w.r, &err);
  w.in_core = 0;
  if (rc != 0) violation(&w, "config rejected (%d): %s", rc, sy_buf_cstr(&err));
  /* The store is written by this router alone; the host reports its wipe. */
  if (rc == 0 && sc.watched) sy_router_store_watched(w.r);
  sy_buf_free(&err);
  for (int i = 0; rc == 0 && i < sc.nsteps; i++) {
    step *s = &sc.steps[i];
    w.cur_step = -1;
    advance_to(&w, s->at);
    w.cur_step = i;
    if (verbose && s->kind != S_CANCEL && !s->warm)
      printf("client t=+%.3f step %d %s %.300s\n", w.now - START_MS, i,
             s->kind == S_WIPE    ? "wipe"
             : s->kind == S_EMBED ? "embeddings"
                                  : "begin",
             s->body ? s->body : "");
    switch (s->kind) {
    case S_BEGIN:
    case S_EMBED: {
      w.warm = s->warm;
      w.in_core = 1;
      /* the id is known only after begin returns: its info is filled in
       * from the "request" event, which comes first */
      s->begun = w.now;
      report_store_back(&w);
      int32_t id = (s->kind == S_EMBED ? sy_router_begin_embeddings
                                       : sy_router_begin)(w.r, s->body, strlen(s->body), w.now);
      w.in_core = 0;
      w.warm = 0;
      after_entry(&w);
      s->id = id;
      if (id <= 0) violation(&w, "step %d: begin returned %d", i, id);
      w.steps_open++;
      if (w.steps_open > w.peak_open) w.peak_open = w.steps_open;
      break;
    }
    case S_CANCEL: {
      const step *t = &sc.steps[s->target];
      if (verbose && !t->warm) printf("client t=+%.3f cancel req=%d\n", w.now - START_MS, t->id);
      report_store_back(&w);
      w.in_core = 1;
      sy_router_cancel(w.r, t->id, w.now);
      w.in_core = 0;
      after_entry(&w);
      break;
    }
    case S_WIPE:
      kv_wipe(&w);
      if (sc.watched) sy_router_store_changed(w.r, NULL, 0);
      for (int d = 0; d < sc.ndeps; d++)
        sc.deps[d].cd_until = sc.deps[d].ej_until = 0;
      w.wiped = 1;
      w.warm_peak = w.peak_open;
      w.peak_open = w.steps_open;
      baseline = sy_heap_bytes();
      if (w.steps_open != 0) violation(&w, "warm-up requests still open after their cancel");
      break;
    }
  }
  w.cur_step = -1;
  /* Quiescence: everything scheduled runs out (stale timers included). */
  double limit = w.now + 4 * 3600e3;
  while (rc == 0 && w.nt && fire_next(&w, limit)) {
  }
  if (rc == 0) {
    if (w.nt) violation(&w, "%zu timers or answers still pending 4 h after the last step", w.nt);
    for (int i = 0; i < sc.nsteps; i++) {
      const step *s = &sc.steps[i];
      if (s->kind != S_BEGIN && s->kind != S_EMBED) continue;
      reqinfo *ri = info(&w, s->id);
      if (ri && ri->delivered != 1)
        violation(&w, "req %d (step %d) delivered %d times", s->id, i, ri->delivered);
    }
    if (sy_router_inflight(w.r))
      violation(&w, "%zu requests in flight at the end", sy_router_inflight(w.r));
    /* The copy's entries are not the requests': dropped, as at the wipe
     * before the baseline, so the heap compares exactly. */
    if (sc.watched) sy_router_store_changed(w.r, NULL, 0);
    size_t heap = sy_heap_bytes();
    /* Exact when the warm-up held more requests open than the run did. */
    w.heap_exact = w.peak_open * 3 <= w.warm_peak * 2;
    if (heap != baseline && w.heap_exact)
      violation(&w, "core heap %zu bytes at quiescence, baseline %zu (%+ld)", heap, baseline,
                (long)heap - (long)baseline);
    /* The budget, as any window-based one must hold it (fixed windows, or
     * a sliding one over this and the last): the retries and hedges of a
     * window are at most percent x the requests of it and the one before,
     * or the floor, whichever is more. Judged where the store was up for
     * both windows (an absent count reads 0). */
    for (size_t i = 0; i < w.nwc; i++) {
      const window_count *c = &w.wc[i];
      double from = (c->window - 1) * sc.budget_window_ms, to = from + 2 * sc.budget_window_ms;
      int down = 0;
      for (int k = 0; k < sc.noutages; k++)
        down |= sc.outages[k][0] < to && sc.outages[k][1] > from;
      int requests = c->requests;
      for (size_t j = 0; j < w.nwc; j++)
        if (w.wc[j].window == c->window - 1) requests += w.wc[j].requests;
      double share = sc.budget_pct / 100 * requests;
      double floor_ = sc.budget_min_ps * sc.budget_window_ms / 1000;
      double most = ceil((share > floor_ ? share : floor_) - 1e-9);
      if (!down && c->takes > most)
        violation(&w,
                  "retry budget: %d retries and hedges in the window at +%.0f, for %d "
                  "requests in it and the one before (at most %.0f)",
                  c->takes, from + sc.budget_window_ms - START_MS, requests, most);
    }
    for (size_t i = 0; i < w.nmc; i++) {
      const minute_count *m = &w.mc[i];
      const dep *d = &sc.deps[m->dep];
      double from = m->minute * 60000, to = from + 60000;
      int down = 0;
      for (int k = 0; k < sc.noutages; k++)
        down |= sc.outages[k][0] < to && sc.outages[k][1] > from;
      if (!down && m->n > d->rpm)
        violation(&w, "%s got %d attempts in minute %.0f, above its rpm %.0f", d->id, m->n,
                  m->minute - floor(START_MS / 60000), d->rpm);
    }
  }
  if (json_out) json_scenario(&w, json_out);
  w.in_core = 1;
  sy_router_free(w.r);
  w.in_core = 0;
  if (sy_heap_bytes() != heap0)
    violation(&w, "core heap %zu bytes after sy_router_free, %zu before sy_router_new",
              sy_heap_bytes(), heap0);
  if (verbose)
    printf("== seed %llu: %lu events, %lu fetches, %lu deliveries, peak open %d (warm-up %d): "
           "%s\n",
           (unsigned long long)seed, w.nevents, w.nfetches, w.ndeliveries, w.peak_open, w.warm_peak,
           w.nfail ? "FAILED" : "ok");
  result res = {w.nfail == 0, w.fail, 0, w.nevents, w.nfetches, w.heap_exact};
  for (int i = sc.wipe_step; i < sc.nsteps; i++)
    res.requests += sc.steps[i].kind == S_BEGIN || sc.steps[i].kind == S_EMBED;
  kv_wipe(&w);
  free(w.t);
  free(w.ids);
  free(w.mc);
  free(w.wc);
  free(w.ended);
  scenario_free(&sc);
  return res;
}

/* One line of JSON: everything tests/js/sim.test.js needs to replay the run
 * on wasm, and the digests its logs must match. */
static void json_scenario(world *w, FILE *out) {
  scenario *sc = w->sc;
  sb o = {0};
  sb_printf(&o, "{\"seed\":%llu,\"core_seed\":\"%llu\",\"watched\":%s,\"start\":",
            (unsigned long long)sc->seed, (unsigned long long)sc->core_seed,
            sc->watched ? "true" : "false");
  sb_num(&o, START_MS);
  sb_puts(&o, ",\"config\":");
  sb_json(&o, sc->config.p, sc->config.n);
  sb_puts(&o, ",\"outages\":[");
  for (int i = 0; i < sc->noutages; i++) {
    sb_puts(&o, i ? ",[" : "[");
    sb_num(&o, sc->outages[i][0]);
    sb_puts(&o, ",");
    sb_num(&o, sc->outages[i][1]);
    sb_puts(&o, "]");
  }
  sb_puts(&o, "],\"texts\":[");
  for (int i = 0; i < sc->ntexts; i++) {
    if (i) sb_puts(&o, ",");
    sb_json(&o, sc->texts[i], strlen(sc->texts[i]));
  }
  /* answers: [[at, kind, status, text], ...] per fetch */
  sb_puts(&o, "],\"upstreams\":{");
  int firstu = 1;
  for (int i = 0; i < sc->ndeps; i++) {
    const dep *d = &sc->deps[i];
    if (!d->nans) continue;
    sb_printf(&o, "%s\"%s\":[", firstu ? "" : ",", d->id);
    firstu = 0;
    for (size_t a = 0; a < d->nans; a++) {
      sb_puts(&o, a ? ",[" : "[");
      for (int p = 0; p < d->ans[a].nparts; p++) {
        const part *pt = &d->ans[a].parts[p];
        sb_puts(&o, p ? ",[" : "[");
        sb_num(&o, pt->at);
        sb_printf(&o, ",%d,%d,%d]", pt->kind, pt->status, pt->text);
      }
      sb_puts(&o, "]");
    }
    sb_puts(&o, "]");
  }
  sb_puts(&o, "},\"steps\":[");
  for (int i = 0; i < sc->nsteps; i++) {
    const step *s = &sc->steps[i];
    sb_puts(&o, i ? ",{\"at\":" : "{\"at\":");
    sb_num(&o, s->at);
    if (s->kind == S_BEGIN || s->kind == S_EMBED) {
      sb_puts(&o, s->kind == S_EMBED ? ",\"embeddings\":" : ",\"begin\":");
      sb_json(&o, s->body, strlen(s->body));
    } else if (s->kind == S_CANCEL) {
      sb_printf(&o, ",\"cancel\":%d", s->target);
    } else {
      sb_puts(&o, ",\"wipe\":true");
    }
    sb_puts(&o, "}");
  }
  sb_printf(&o,
            "],\"expect\":{\"events\":%lu,\"events_hash\":%u,\"deliveries\":%lu,"
            "\"deliveries_hash\":%u,\"chunks_hash\":%u,\"heap_exact\":%s,\"ok\":%s}}\n",
            w->nevents, w->h_events, w->ndeliveries, w->h_deliveries, w->h_chunks,
            w->heap_exact ? "true" : "false", w->nfail ? "false" : "true");
  fwrite(o.p, 1, o.n, out);
  sb_free(&o);
}

/* ------------------------------------------------------------ main */
/* Seeds run in chunks, each in a child process (|jobs| at a time) that
 * logs "start S" and "done S ..." lines to a file of its own: a seed that
 * crashes the child (a sanitizer report, an abort) is named, and the rest
 * of its chunk runs in a new child. */
typedef struct chunk {
  uint64_t a, b;
  pid_t pid;
  char path[64];
} chunk;

static void worker(uint64_t a, uint64_t b, const char *path) {
  FILE *f = fopen(path, "w");
  if (!f) _exit(3);
  for (uint64_t s = a; s < b; s++) {
    fprintf(f, "start %llu\n", (unsigned long long)s);
    fflush(f);
    result r = run(s, 0, NULL);
    if (!r.ok) {
      printf("seed %llu FAILED:\n%s  replay: sy_sim --seed %llu --verbose\n", (unsigned long long)s,
             sb_str(&r.msg), (unsigned long long)s);
      fflush(stdout);
    }
    fprintf(f, "done %llu %d %lu %lu %d\n", (unsigned long long)s, r.ok, r.requests, r.events,
            r.heap_exact);
    fflush(f);
    sb_free(&r.msg);
  }
  fclose(f);
  _exit(0);
}

static int run_range(uint64_t a, uint64_t b, int jobs, int json) {
  unsigned long passed = 0, failed = 0, requests = 0, events = 0, exact = 0;
  if (json) {
    for (uint64_t s = a; s < b; s++) {
      result r = run(s, 0, stdout);
      if (!r.ok) fprintf(stderr, "seed %llu FAILED:\n%s", (unsigned long long)s, sb_str(&r.msg));
      sb_free(&r.msg);
    }
    return 0;
  }
  if (jobs < 1) jobs = 1;
  uint64_t per = (b - a) / (uint64_t)(jobs * 4) + 1;
  size_t cap = (size_t)jobs * 4 + 16, nq = 0, nrun = 0;
  chunk *q = malloc(cap * sizeof *q);
  for (uint64_t s = a; s < b; s += per)
    q[nq++] = (chunk){s, s + per < b ? s + per : b, 0, ""};
  chunk *running = calloc((size_t)jobs, sizeof *running);
  static int serial;
  while (nq || nrun) {
    while (nq && nrun < (size_t)jobs) {
      chunk c = q[0];
      memmove(q, q + 1, --nq * sizeof *q);
      snprintf(c.path, sizeof c.path, "/tmp/sy_sim.%d.%d", (int)getpid(), serial++);
      fflush(stdout);
      c.pid = fork();
      if (c.pid == 0) worker(c.a, c.b, c.path);
      size_t k = 0;
      while (running[k].pid)
        k++;
      running[k] = c;
      nrun++;
    }
    int status;
    pid_t pid = wait(&status);
    if (pid < 0) break;
    size_t k = 0;
    while (k < (size_t)jobs && running[k].pid != pid)
      k++;
    if (k == (size_t)jobs) continue;
    chunk c = running[k];
    running[k].pid = 0;
    nrun--;
    FILE *f = fopen(c.path, "r");
    char line[256];
    unsigned long long started = 0;
    int any_start = 0, open_start = 0;
    while (f && fgets(line, sizeof line, f)) {
      unsigned long long sd;
      int ok, ex;
      unsigned long rq, ev;
      if (sscanf(line, "start %llu", &sd) == 1) {
        started = sd, any_start = 1, open_start = 1;
      } else if (sscanf(line, "done %llu %d %lu %lu %d", &sd, &ok, &rq, &ev, &ex) == 5) {
        open_start = 0;
        passed += ok != 0, failed += ok == 0, requests += rq, events += ev,
            exact += (unsigned long)ex;
      }
    }
    if (f) fclose(f);
    remove(c.path);
    if (open_start || !any_start || !WIFEXITED(status) || WEXITSTATUS(status)) {
      uint64_t crashed = any_start ? started : c.a;
      failed++;
      printf("seed %llu CRASHED (the sanitizer's report is above):\n  replay: sy_sim --seed %llu "
             "--verbose\n",
             (unsigned long long)crashed, (unsigned long long)crashed);
      if (crashed + 1 < c.b) {
        if (nq == cap) q = realloc(q, (cap *= 2) * sizeof *q);
        q[nq++] = (chunk){crashed + 1, c.b, 0, ""};
      }
    }
  }
  free(q);
  free(running);
  printf("%lu passed, %lu failed (seeds %llu..%llu: %lu requests, %lu events; heap exact in %lu "
         "runs)\n",
         passed, failed, (unsigned long long)a, (unsigned long long)(b - 1), requests, events,
         exact);
  return failed ? 1 : 0;
}

static void usage(void) {
  fprintf(stderr,
          "usage: sy_sim --seeds A:B [--jobs N] [--json] | --seed S [--verbose] [--json]\n");
}

int main(int argc, char **argv) {
  /* cJSON's allocations are the core's (sy_router_new installs the same
   * hooks): the harness's parses go through them too. */
  cJSON_Hooks hooks = {sy_malloc, sy_free};
  cJSON_InitHooks(&hooks);
  uint64_t a = 0, b = 0;
  int single = 0, verbose = 0, json = 0, jobs = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seeds") && i + 1 < argc) {
      unsigned long long x, y;
      if (sscanf(argv[++i], "%llu:%llu", &x, &y) != 2 || y <= x) return usage(), 2;
      a = x, b = y;
    } else if (!strcmp(argv[i], "--seed") && i + 1 < argc) {
      a = strtoull(argv[++i], NULL, 10);
      b = a + 1;
      single = 1;
    } else if (!strcmp(argv[i], "--verbose")) {
      verbose = 1;
    } else if (!strcmp(argv[i], "--json")) {
      json = 1;
    } else if (!strcmp(argv[i], "--jobs") && i + 1 < argc) {
      jobs = atoi(argv[++i]);
    } else {
      return usage(), 2;
    }
  }
  if (b <= a) return usage(), 2;
  if (single && !json) {
    result r = run(a, verbose, NULL);
    if (!r.ok)
      printf("seed %llu FAILED:\n%s", (unsigned long long)a, sb_str(&r.msg));
    else
      printf("seed %llu passed (%lu requests, %lu events, %lu fetches)\n", (unsigned long long)a,
             r.requests, r.events, r.fetches);
    sb_free(&r.msg);
    return r.ok ? 0 : 1;
  }
  return run_range(a, b, jobs, json);
}
