/* health.c: cooldowns and failure windows over the host's kv store. */
#include "health.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys are built in a fixed buffer: ids longer than this are truncated in
 * the key, which only merges their health with another id of the same long
 * prefix; config ids are short hashes unless users choose otherwise. */
#define KEY_MAX 192

/* Appends |s| to the key being built at |key| + |*n|, truncating at
 * KEY_MAX - 1. One copy, not a loop per byte: every attempt builds a
 * handful of keys. */
static void key_put(char *key, size_t *n, const char *s) {
  size_t len = strlen(s), room = KEY_MAX - 1 - *n;
  if (len > room) len = room;
  memcpy(key + *n, s, len);
  *n += len;
  key[*n] = '\0';
}

/* Keys are built by hand, not with snprintf: a pick builds one to three per
 * deployment, and printf's machinery (a %.0f above all) was most of a
 * usage-based pick's cost (bench/: ~22k instructions per deployment). */
static size_t make_key(char *key, const char *prefix, const char *id, const char *suffix) {
  size_t n = 0;
  key_put(key, &n, prefix);
  key_put(key, &n, id);
  if (suffix) {
    key_put(key, &n, ":");
    key_put(key, &n, suffix);
  }
  return n;
}

/* The number stored at |key|, 0 when absent or not a number. */
static double read_num(const sy_host *h, const char *key, size_t kl) {
  char val[64];
  int32_t n = h->kv_get(h->user, key, kl, val, sizeof val - 1);
  if (n < 0 || (size_t)n >= sizeof val) return 0;
  val[n] = '\0';
  return strtod(val, NULL);
}

/* The number of the |window| (ms) that |now| falls in, as decimal text in
 * |buf| (24 bytes), written backwards from its end; returns its start. */
static const char *window_text(char *buf, sy_ms now, sy_ms window) {
  char *p = buf + 23;
  *p = '\0';
  double w = floor(now / window);
  uint64_t v = w > 0 && w < 1e18 ? (uint64_t)w : 0;
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) && p > buf);
  return p;
}

/* The key of |id|'s usage counter |kind| ("sy:rpm:" or "sy:tpm:") for the
 * minute of |now|. */
static size_t usage_key(char *key, const char *kind, const char *id, sy_ms now) {
  char minute[24];
  return make_key(key, kind, id, window_text(minute, now, SY_USAGE_WINDOW_MS));
}

sy_ms sy_health_cooling_until(const sy_host *h, const char *id, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:cd:", id, NULL);
  sy_ms until = read_num(h, key, kl); /* "<deadline> <class>": the number leads */
  return until > now ? until : 0;
}

sy_ms sy_health_cool(const sy_host *h, const char *id, sy_ms now, sy_ms duration_ms, sy_class c) {
  sy_ms until = now + duration_ms;
  sy_ms current = sy_health_cooling_until(h, id, now);
  if (current >= until) return current;
  char key[KEY_MAX], val[96];
  size_t kl = make_key(key, "sy:cd:", id, NULL);
  int vl = snprintf(val, sizeof val, "%.17g %s", until, sy_class_name(c));
  h->kv_put(h->user, key, kl, val, (size_t)vl, duration_ms);
  return until;
}

void sy_health_describe(const sy_host *h, const char *id, sy_ms now, sy_ms *until, char *reason,
                        size_t cap, double *failures) {
  char key[KEY_MAX], val[96];
  *until = 0;
  if (cap) reason[0] = '\0';
  size_t kl = make_key(key, "sy:cd:", id, NULL);
  int32_t n = h->kv_get(h->user, key, kl, val, sizeof val - 1);
  if (n >= 0 && (size_t)n < sizeof val) {
    val[n] = '\0';
    char *rest;
    sy_ms t = strtod(val, &rest);
    if (t > now) {
      *until = t;
      while (*rest == ' ')
        rest++;
      snprintf(reason, cap, "%s", rest);
    }
  }
  kl = make_key(key, "sy:f:", id, NULL);
  *failures = read_num(h, key, kl);
}

double sy_health_count_failure(const sy_host *h, const char *id, sy_class c, bool per_class) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:f:", id, per_class ? sy_class_name(c) : NULL);
  return h->kv_add(h->user, key, kl, 1, SY_FAIL_WINDOW_MS);
}

void sy_health_attempt_sent(const sy_host *h, const char *id, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = usage_key(key, "sy:rpm:", id, now);
  h->kv_add(h->user, key, kl, 1, SY_USAGE_TTL_MS);
  kl = make_key(key, "sy:if:", id, NULL);
  h->kv_add(h->user, key, kl, 1, SY_INFLIGHT_TTL_MS);
}

void sy_health_attempt_over(const sy_host *h, const char *id, sy_ms now, double tokens) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:if:", id, NULL);
  h->kv_add(h->user, key, kl, -1, SY_INFLIGHT_TTL_MS);
  if (tokens > 0) {
    kl = usage_key(key, "sy:tpm:", id, now);
    h->kv_add(h->user, key, kl, tokens, SY_USAGE_TTL_MS);
  }
}

/* The key of |id|'s usage count |kind| at |now|. */
static size_t usage_key_of(char *key, const char *id, sy_usage_kind kind, sy_ms now) {
  return kind == SY_USAGE_INFLIGHT
             ? make_key(key, "sy:if:", id, NULL)
             : usage_key(key, kind == SY_USAGE_RPM ? "sy:rpm:" : "sy:tpm:", id, now);
}

double sy_health_usage_of(const sy_host *h, const char *id, sy_usage_kind kind, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = usage_key_of(key, id, kind, now);
  double n = read_num(h, key, kl);
  return n > 0 ? n : 0; /* an in-flight count restarted mid-flight dips below 0 */
}

void sy_health_usage(const sy_host *h, const char *id, sy_ms now, sy_usage *out) {
  out->rpm = sy_health_usage_of(h, id, SY_USAGE_RPM, now);
  out->tpm = sy_health_usage_of(h, id, SY_USAGE_TPM, now);
  out->inflight = sy_health_usage_of(h, id, SY_USAGE_INFLIGHT, now);
}

void sy_observed_init(sy_observed *o) {
  memset(o, 0, sizeof *o);
  o->rl_requests = o->rl_tokens = -1;
}

/* exp(-dt / SY_EWMA_DECAY_MS), the weight of the past after |dt| ms: a
 * few terms of the series on dt halved until small, squared back. Not
 * libm's exp(), which would cost the wasm module ~3 kB; within 1e-6. */
static double decay(sy_ms dt) {
  double x = dt / SY_EWMA_DECAY_MS;
  if (!(x < 60)) return 0; /* past e^-60, and NaN */
  int halvings = 0;
  while (x > 0.125) {
    x /= 2;
    halvings++;
  }
  double y = 1 - x * (1 - x / 2 * (1 - x / 3 * (1 - x / 4)));
  while (halvings--)
    y *= y;
  return y;
}

void sy_observe_latency(sy_observed *o, double ms, sy_ms now, bool ttft) {
  if (!(ms >= 0)) return;
  double *ring = ttft ? o->ttft : o->lat;
  unsigned *n = ttft ? &o->nttft : &o->nlat, *next = ttft ? &o->ttft_next : &o->lat_next;
  ring[*next] = ms; /* the oldest sample goes: LiteLLM replaces its newest */
  *next = (*next + 1) % SY_LATENCY_SAMPLES;
  if (*n < SY_LATENCY_SAMPLES) (*n)++;
  double sum = 0;
  for (unsigned i = 0; i < *n; i++)
    sum += ring[i];
  *(ttft ? &o->ttft_mean : &o->lat_mean) = sum / *n;
  if (ttft) return;
  if (o->ewma_at == 0 && o->ewma_ms == 0) {
    o->ewma_ms = ms;
  } else if (ms > o->ewma_ms) {
    o->ewma_ms = ms; /* peak: a slowdown counts at once */
  } else {
    double w = decay(now > o->ewma_at ? now - o->ewma_at : 0);
    o->ewma_ms = o->ewma_ms * w + ms * (1 - w);
  }
  o->ewma_at = now;
}

double sy_observed_mean(const sy_observed *o, bool ttft) {
  if (!(ttft ? o->nttft : o->nlat)) return -1;
  return ttft ? o->ttft_mean : o->lat_mean;
}

double sy_observed_ewma(const sy_observed *o, sy_ms now) {
  return o->ewma_ms * decay(now > o->ewma_at ? now - o->ewma_at : 0);
}

bool sy_observed_exhausted(const sy_observed *o, double tokens, sy_ms now) {
  if (o->rl_requests >= 0 && o->rl_requests < 1 && o->rl_requests_reset > now) return true;
  return o->rl_tokens >= 0 && o->rl_tokens < tokens && o->rl_tokens_reset > now;
}

/* ---- breaker, budget, throttle ---- */

/* The key of |id|'s per-minute counter |kind| for the minute |minute|
 * minutes from now's (0 = this one, -1 = the last). */
static size_t minute_key(char *key, const char *kind, const char *id, sy_ms now, int minute) {
  return usage_key(key, kind, id, now + minute * SY_USAGE_WINDOW_MS);
}

/* |id|'s breaker record "<deadline ms> <times opened>": the deadline (0
 * when absent or closed) into |t|, the openings into |times|. */
static void breaker_record(const sy_host *h, const char *id, sy_ms *t, int *times) {
  char key[KEY_MAX], val[64];
  size_t kl = make_key(key, "sy:ej:", id, NULL);
  int32_t n = h->kv_get(h->user, key, kl, val, sizeof val - 1);
  *t = 0;
  *times = 0;
  if (n < 0 || (size_t)n >= sizeof val) return;
  val[n] = '\0';
  char *rest;
  *t = strtod(val, &rest);
  double c = strtod(rest, NULL);
  *times = c > 0 && c < 1e6 ? (int)c : 0;
  if (!(*t > 0)) *t = 0;
}

/* The state a breaker record of deadline |t| means at |now|. */
static sy_breaker_state breaker_at(sy_ms t, sy_ms now, sy_ms *until) {
  *until = t > now ? t : 0;
  return t <= 0 ? SY_BREAKER_CLOSED : t > now ? SY_BREAKER_OPEN : SY_BREAKER_HALF_OPEN;
}

sy_breaker_state sy_breaker_state_of(const sy_host *h, const char *id, sy_ms now, sy_ms *until,
                                     int *times) {
  sy_ms t;
  breaker_record(h, id, &t, times);
  return breaker_at(t, now, until);
}

double sy_breaker_probes(const sy_host *h, const char *id) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:pr:", id, NULL);
  double n = read_num(h, key, kl);
  return n > 0 ? n : 0;
}

void sy_breaker_probe(const sy_host *h, const char *id, double delta, sy_ms ttl_ms) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:pr:", id, NULL);
  h->kv_add(h->user, key, kl, delta, ttl_ms);
}

sy_ms sy_breaker_failure(const sy_host *h, const sy_reliability *rel, const char *id, sy_ms now,
                         double attempts, bool probe, bool may_open, int *times) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:cf:", id, NULL);
  double run = h->kv_add(h->user, key, kl, 1, 0);
  kl = minute_key(key, "sy:fm:", id, now, 0);
  double failed = h->kv_add(h->user, key, kl, 1, SY_USAGE_TTL_MS);
  sy_ms until;
  sy_breaker_state st = sy_breaker_state_of(h, id, now, &until, times);
  if (st == SY_BREAKER_OPEN) return 0;
  int trips = probe || (rel->breaker_consecutive > 0 && run >= rel->breaker_consecutive) ||
              (attempts >= rel->breaker_min_requests && attempts > 0 &&
               failed / attempts >= rel->breaker_failure_rate);
  if (!trips || (!probe && !may_open)) return 0;
  /* Each opening lasts longer, up to the cap (Envoy: base x times). */
  (*times)++;
  sy_ms open = rel->breaker_open_ms * *times;
  if (open > rel->breaker_max_open_ms) open = rel->breaker_max_open_ms;
  until = now + open;
  char val[64];
  int vl = snprintf(val, sizeof val, "%.17g %d", until, *times);
  kl = make_key(key, "sy:ej:", id, NULL);
  h->kv_put(h->user, key, kl, val, (size_t)vl, open + rel->breaker_max_open_ms);
  return until;
}

bool sy_breaker_success(const sy_host *h, const char *id, bool probe) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:cf:", id, NULL);
  /* Written only when there was a run: a success costs a read, not a
   * write (a shared store pushes every put). */
  if (read_num(h, key, kl) != 0) h->kv_put(h->user, key, kl, "0", 1, 0);
  if (!probe) return false;
  kl = make_key(key, "sy:ej:", id, NULL);
  h->kv_put(h->user, key, kl, "0 0", 3, SY_USAGE_WINDOW_MS);
  return true;
}

/* The budget window's keys: requests (q) and retries (r). */
static size_t budget_key(char *key, const char *kind, const sy_reliability *rel, sy_ms now) {
  char win[24];
  return make_key(key, kind, window_text(win, now, rel->budget_window_ms), NULL);
}

void sy_budget_request(const sy_host *h, const sy_reliability *rel, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = budget_key(key, "sy:rb:q:", rel, now);
  h->kv_add(h->user, key, kl, 1, 2 * rel->budget_window_ms);
}

/* The requests or retries (|kind|) of the last window's length before
 * |now|: this window's count and the share of the previous one that the
 * sliding window still covers. Fixed windows alone would hand out a fresh
 * floor at every boundary, a burst of retries all at once (bench/chaos). */
static double budget_count(const sy_host *h, const char *kind, const sy_reliability *rel,
                           sy_ms now) {
  char key[KEY_MAX];
  sy_ms w = rel->budget_window_ms;
  double into = (now - floor(now / w) * w) / w;
  size_t kl = budget_key(key, kind, rel, now);
  double n = read_num(h, key, kl);
  if (now < w) return n;
  kl = budget_key(key, kind, rel, now - w);
  return n + read_num(h, key, kl) * (1 - into);
}

bool sy_budget_take(const sy_host *h, const sy_reliability *rel, sy_ms now) {
  char key[KEY_MAX];
  double requests = budget_count(h, "sy:rb:q:", rel, now);
  double retries = budget_count(h, "sy:rb:r:", rel, now);
  size_t kl = budget_key(key, "sy:rb:r:", rel, now);
  double floor_ = rel->budget_min_per_second * rel->budget_window_ms / 1000;
  double share = rel->budget_percent / 100 * requests;
  if (retries >= (share > floor_ ? share : floor_)) return false;
  h->kv_add(h->user, key, kl, 1, 2 * rel->budget_window_ms);
  return true;
}

void sy_throttle_accept(const sy_host *h, const char *id, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = minute_key(key, "sy:acc:", id, now, 0);
  h->kv_add(h->user, key, kl, 1, SY_USAGE_TTL_MS);
}

double sy_throttle_p(const sy_host *h, const char *id, double k, double min_requests, sy_ms now) {
  char key[KEY_MAX];
  double requests = 0, accepts = 0;
  for (int m = now >= SY_USAGE_WINDOW_MS ? -1 : 0; m <= 0; m++) { /* no minute before 0 */
    size_t kl = minute_key(key, "sy:rpm:", id, now, m);
    requests += read_num(h, key, kl);
    kl = minute_key(key, "sy:acc:", id, now, m);
    accepts += read_num(h, key, kl);
  }
  if (requests < min_requests) return 0;
  double p = (requests - k * accepts) / (requests + 1);
  return p > 0 ? p : 0;
}

/* ---- the copy of the store ---- */

/* Values longer than this are not kept: the core writes numbers, a class
 * name after a deadline, and deployment ids. */
#define CACHED_VALUE_MAX 64

typedef struct kv_copy {
  uint64_t hash; /* 0: empty slot */
  char *bytes;   /* the key, then the value: one allocation */
  uint16_t klen;
  int16_t vlen;      /* -1: absent in the store */
  uint32_t version;  /* counts the keys the slot held: a ref to an old one fails */
  sy_ms fresh_until; /* the entry answers reads before this */
  double num;        /* the value as a number (0: absent or none), for refs */
} kv_copy;

struct sy_kv_cache {
  sy_host host; /* handed out: kv_* come here */
  const sy_host *store;
  kv_copy *slots; /* allocated at the first entry */
  size_t cap, used;
  sy_ms now;
  int watched;
  uint32_t epoch;      /* restarts of the copy (sy_kv_ref); never 0 */
  uint32_t generation; /* changes of cooldown and breaker keys (sy_health_memo); never 0 */
};

static uint64_t key_hash(const char *key, size_t kl) {
  uint64_t h = sy_hash64(key, kl, 0);
  return h ? h : 1;
}

/* The slot holding |key|, or the empty one where it would go. */
static kv_copy *copy_slot(sy_kv_cache *c, const char *key, size_t kl, uint64_t h) {
  size_t i = (size_t)h & (c->cap - 1);
  for (;; i = (i + 1) & (c->cap - 1)) {
    kv_copy *s = &c->slots[i];
    if (!s->hash || (s->hash == h && s->klen == kl && !memcmp(s->bytes, key, kl))) return s;
  }
}

/* A cooldown or breaker key changed (NULL: any may have): every memo of
 * them is out of date. */
static void note_change(sy_kv_cache *c, const char *key, size_t kl) {
  if (!key || (kl > 6 && (!memcmp(key, "sy:cd:", 6) || !memcmp(key, "sy:ej:", 6))))
    if (!++c->generation) c->generation = 1; /* 0 means never read */
}

static void copies_clear(sy_kv_cache *c) {
  note_change(c, NULL, 0);
  if (!++c->epoch) c->epoch = 1; /* every ref was to the old slots */
  if (!c->slots) return;
  for (size_t i = 0; i < c->cap; i++)
    sy_free(c->slots[i].bytes);
  memset(c->slots, 0, c->cap * sizeof *c->slots);
  c->used = 0;
}

/* The fresh copy of |key| (its key_hash |h|), or NULL. Callers hash a key
 * once for this and copy_keep: a hash is about 100 instructions. */
static kv_copy *copy_of(sy_kv_cache *c, const char *key, size_t kl, uint64_t h) {
  if (!c->watched || !c->slots) return NULL;
  kv_copy *s = copy_slot(c, key, kl, h);
  return s->hash && s->fresh_until > c->now ? s : NULL;
}

/* The number |val| (|vl| bytes, -1: absent) spells, 0 when none. */
static double text_num(const char *val, int32_t vl) {
  if (vl <= 0 || vl > CACHED_VALUE_MAX) return 0;
  char text[CACHED_VALUE_MAX + 1];
  memcpy(text, val, (size_t)vl);
  text[vl] = '\0';
  return strtod(text, NULL);
}

/* Keeps |val| (|vl| bytes, -1: absent), the number |num|, as the value of
 * |key| (its key_hash |h|) until |fresh_until|. Out of memory or too long,
 * the key is only marked stale: reads go to the store, which is always right. */
static void copy_keep(sy_kv_cache *c, const char *key, size_t kl, uint64_t h, const char *val,
                      int32_t vl, double num, sy_ms fresh_until) {
  if (!c->watched || kl >= KEY_MAX) return;
  if (!c->slots && !(c->slots = sy_calloc(c->cap, sizeof *c->slots))) return;
  kv_copy *s = copy_slot(c, key, kl, h);
  if (!s->hash) {
    if (c->used + 1 > c->cap / 4 * 3) {
      copies_clear(c);
      s = copy_slot(c, key, kl, h);
    }
    c->used++;
    s->hash = h;
    s->klen = (uint16_t)kl;
    s->version++;
  }
  /* Room in steps of 16 bytes: a counter gaining a digit keeps its block,
   * so the heap stays flat over a long run (bench/size-memory.mjs), and
   * most updates (a counter's next value) need no allocation at all. */
  size_t n = vl > 0 ? (size_t)vl : 0, room = (n + 15) & ~(size_t)15;
  size_t had = s->bytes ? ((size_t)(s->vlen > 0 ? s->vlen : 0) + 15) & ~(size_t)15 : 0;
  char *bytes = vl > CACHED_VALUE_MAX     ? NULL
                : s->bytes && had == room ? s->bytes
                                          : sy_realloc(s->bytes, kl + room);
  if (!bytes) {
    s->fresh_until = 0;
    if (s->bytes) return;
    s->hash = 0; /* never kept: the slot goes back */
    c->used--;
    return;
  }
  if (!s->bytes) memcpy(bytes, key, kl); /* a realloc keeps it */
  if (n) memcpy(bytes + kl, val, n);
  s->bytes = bytes;
  s->vlen = (int16_t)vl;
  s->fresh_until = fresh_until;
  s->num = num;
}

/* How long an entry written or read now may answer: its TTL when the
 * router knows it, capped by the age the copy trusts. */
static sy_ms fresh_for(const sy_kv_cache *c, sy_ms ttl_ms) {
  sy_ms age = ttl_ms > 0 && ttl_ms < SY_KV_CACHE_MAX_AGE_MS ? ttl_ms : SY_KV_CACHE_MAX_AGE_MS;
  return c->now + age;
}

/* copy_get with the key's hash |h| known. */
static int32_t copy_read(sy_kv_cache *c, const char *key, size_t kl, uint64_t h, char *out,
                         size_t cap) {
  kv_copy *s = copy_of(c, key, kl, h);
  if (s) {
    if (s->vlen > 0 && (size_t)s->vlen <= cap) memcpy(out, s->bytes + kl, (size_t)s->vlen);
    return s->vlen;
  }
  int32_t n = c->store->kv_get(c->store->user, key, kl, out, cap);
  if (n < 0 || (size_t)n <= cap)
    copy_keep(c, key, kl, h, out, n, text_num(out, n), fresh_for(c, 0));
  return n;
}

static int32_t copy_get(void *u, const char *key, size_t kl, char *out, size_t cap) {
  return copy_read(u, key, kl, key_hash(key, kl), out, cap);
}

static void copy_put(void *u, const char *key, size_t kl, const char *val, size_t vl,
                     sy_ms ttl_ms) {
  sy_kv_cache *c = u;
  c->store->kv_put(c->store->user, key, kl, val, vl, ttl_ms);
  note_change(c, key, kl);
  int32_t kept = vl <= CACHED_VALUE_MAX ? (int32_t)vl : CACHED_VALUE_MAX + 1;
  copy_keep(c, key, kl, key_hash(key, kl), val, kept, text_num(val, kept), fresh_for(c, ttl_ms));
}

static double copy_add(void *u, const char *key, size_t kl, double delta, sy_ms ttl_ms) {
  sy_kv_cache *c = u;
  uint64_t h = key_hash(key, kl);
  kv_copy *s = copy_of(c, key, kl, h);
  /* Created by this add when the copy knew it absent: then its TTL is known. */
  sy_ms fresh = s && s->vlen < 0 ? fresh_for(c, ttl_ms) : s ? s->fresh_until : fresh_for(c, 0);
  double sum = c->store->kv_add(c->store->user, key, kl, delta, ttl_ms);
  note_change(c, key, kl);
  /* The value as the store holds it. Counters are whole numbers; any
   * other sum (a negative in-flight dip, a fraction) is left to the store. */
  char text[24];
  const char *digits = window_text(text, sum, 1);
  int whole = sum >= 0 && sum < 1e15 && sum == floor(sum);
  copy_keep(c, key, kl, h, digits, whole ? (int32_t)(text + 23 - digits) : CACHED_VALUE_MAX + 1,
            whole ? sum : 0, fresh);
  return sum;
}

sy_kv_cache *sy_kv_cache_new(const sy_host *store, size_t deployments) {
  sy_kv_cache *c = sy_calloc(1, sizeof *c);
  if (!c) return NULL;
  c->store = store;
  c->host.user = c;
  c->host.kv_get = copy_get;
  c->host.kv_put = copy_put;
  c->host.kv_add = copy_add;
  c->cap = 64;
  c->epoch = c->generation = 1;
  while (c->cap < 16 * deployments && c->cap < ((size_t)1 << 20))
    c->cap *= 2;
  return c;
}

void sy_kv_cache_free(sy_kv_cache *c) {
  if (!c) return;
  copies_clear(c);
  sy_free(c->slots);
  sy_free(c);
}

const sy_host *sy_kv_cache_host(sy_kv_cache *c) { return &c->host; }

void sy_kv_cache_tick(sy_kv_cache *c, sy_ms now) { c->now = now; }

void sy_kv_cache_watch(sy_kv_cache *c) { c->watched = 1; }

void sy_kv_cache_changed(sy_kv_cache *c, const char *key, size_t len) {
  if (!c->slots) return;
  if (!key) {
    copies_clear(c);
    return;
  }
  note_change(c, key, len);
  kv_copy *s = copy_slot(c, key, len, key_hash(key, len));
  if (s->hash) s->fresh_until = 0;
}

/* The copy behind |h|, when it is one and watched. */
static sy_kv_cache *watched_copy(const sy_host *h) {
  sy_kv_cache *c = h->kv_get == copy_get ? h->user : NULL;
  return c && c->watched ? c : NULL;
}

/* The fresh copy |ref| points at, for the minute |window|, or NULL. */
static const kv_copy *ref_slot(const sy_kv_cache *c, const sy_kv_ref *ref, double window) {
  if (ref->epoch != c->epoch || ref->window != window) return NULL;
  const kv_copy *s = &c->slots[ref->slot];
  return s->hash && s->version == ref->version && s->fresh_until > c->now ? s : NULL;
}

/* Reads |key| through the copy and points |ref| at it; NULL when the copy
 * did not keep it (out of memory): the caller asks the store. */
static const kv_copy *ref_read(sy_kv_cache *c, sy_kv_ref *ref, const char *key, size_t kl,
                               double window) {
  char val[CACHED_VALUE_MAX];
  uint64_t h = key_hash(key, kl);
  copy_read(c, key, kl, h, val, sizeof val);
  kv_copy *s = copy_of(c, key, kl, h);
  if (s) *ref = (sy_kv_ref){c->epoch, (uint32_t)(s - c->slots), s->version, window};
  return s;
}

/* How long the copy of |id|'s |prefix| key stays fresh; 0: not kept. */
static sy_ms copy_fresh(sy_kv_cache *c, const char *prefix, const char *id) {
  char key[KEY_MAX];
  size_t kl = make_key(key, prefix, id, NULL);
  kv_copy *s = copy_of(c, key, kl, key_hash(key, kl));
  return s ? s->fresh_until : 0;
}

sy_health_view sy_health_view_of(const sy_host *h, sy_ms now) {
  return (sy_health_view){h, watched_copy(h), now, floor(now / SY_USAGE_WINDOW_MS) + 1};
}

/* Reads |id|'s cooldown and breaker records into |m| (the memo, or a
 * one-off one). Apart from sy_health_look for the reason usage_reread is. */
static __attribute__((noinline)) void look_reread(const sy_health_view *v, sy_health_memo *m,
                                                  const char *id, bool breaker) {
  sy_kv_cache *c = v->copy;
  m->cooling = sy_health_cooling_until(v->host, id, 0);
  m->open_until = 0;
  m->times = 0;
  if (breaker) breaker_record(v->host, id, &m->open_until, &m->times);
  m->generation = 0;
  if (c) {
    sy_ms f = copy_fresh(c, "sy:cd:", id), g = breaker ? copy_fresh(c, "sy:ej:", id) : f;
    m->fresh_until = f < g ? f : g;
    m->generation = c->generation;
  }
}

sy_breaker_state sy_health_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                                bool breaker, sy_ms *until, int *times) {
  sy_ms now = v->now;
  sy_health_memo once;
  if (!m || !v->copy) {
    m = &once;
    look_reread(&(sy_health_view){v->host, NULL, now, v->window}, m, id, breaker);
  } else if (m->generation != v->copy->generation || !(now < m->fresh_until)) {
    look_reread(v, m, id, breaker);
  }
  *times = 0;
  if (m->cooling > now) {
    *until = m->cooling;
    return SY_BREAKER_CLOSED;
  }
  if (!breaker) {
    *until = 0;
    return SY_BREAKER_CLOSED;
  }
  *times = m->times;
  return breaker_at(m->open_until, now, until);
}

/* sy_health_usage_look's count when |ref| is not current: built key, read
 * through the copy. Apart, so the current case builds no key: in wasm a
 * function with a key buffer moves the stack pointer on every call. */
static __attribute__((noinline)) double usage_reread(const sy_health_view *v, sy_kv_ref *ref,
                                                     const char *id, sy_usage_kind kind,
                                                     double window) {
  char key[KEY_MAX];
  const kv_copy *s = ref_read(v->copy, ref, key, usage_key_of(key, id, kind, v->now), window);
  if (!s) return sy_health_usage_of(v->host, id, kind, v->now);
  return s->num > 0 ? s->num : 0;
}

double sy_health_usage_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                            sy_usage_kind kind) {
  if (!m) return sy_health_usage_of(v->host, id, kind, v->now);
  double n;
  if (!v->copy) {
    n = sy_health_usage_of(v->host, id, kind, v->now);
  } else {
    sy_kv_ref *ref = kind == SY_USAGE_RPM ? &m->rpm : kind == SY_USAGE_TPM ? &m->tpm : &m->inflight;
    double window = kind == SY_USAGE_INFLIGHT ? 0 : v->window;
    const kv_copy *s = ref_slot(v->copy, ref, window);
    n = !s ? usage_reread(v, ref, id, kind, window) : s->num > 0 ? s->num : 0;
  }
  m->counted[kind] = n;
  return n; /* clamped at 0 as sy_health_usage_of does */
}

void sy_health_minute_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                           double counts[2]) {
  const kv_copy *rpm = m && v->copy ? ref_slot(v->copy, &m->rpm, v->window) : NULL;
  const kv_copy *tpm = rpm ? ref_slot(v->copy, &m->tpm, v->window) : NULL;
  if (!tpm) {
    counts[0] = sy_health_usage_look(v, m, id, SY_USAGE_RPM);
    counts[1] = sy_health_usage_look(v, m, id, SY_USAGE_TPM);
    return;
  }
  counts[0] = m->counted[SY_USAGE_RPM] = rpm->num > 0 ? rpm->num : 0;
  counts[1] = m->counted[SY_USAGE_TPM] = tpm->num > 0 ? tpm->num : 0;
}
