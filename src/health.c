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

/* Appends |s| to the key being built at |key| + |*n|, truncating at KEY_MAX - 1. */
static void key_put(char *key, size_t *n, const char *s) {
  while (*s && *n < KEY_MAX - 1)
    key[(*n)++] = *s++;
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

/* The key of |id|'s usage counter |kind| ("sy:rpm:" or "sy:tpm:") for the
 * minute of |now|: the minute's number in decimal, written backwards. */
static size_t usage_key(char *key, const char *kind, const char *id, sy_ms now) {
  char minute[24], *p = minute + sizeof minute - 1;
  *p = '\0';
  double m = floor(now / SY_USAGE_WINDOW_MS);
  uint64_t v = m > 0 && m < 1e18 ? (uint64_t)m : 0;
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) && p > minute);
  return make_key(key, kind, id, p);
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
  int vl = snprintf(val, sizeof val, "%.0f %s", until, sy_class_name(c));
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

double sy_health_usage_of(const sy_host *h, const char *id, sy_usage_kind kind, sy_ms now) {
  char key[KEY_MAX];
  size_t kl = kind == SY_USAGE_INFLIGHT
                  ? make_key(key, "sy:if:", id, NULL)
                  : usage_key(key, kind == SY_USAGE_RPM ? "sy:rpm:" : "sy:tpm:", id, now);
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

void sy_observe_latency(sy_observed *o, double ms, sy_ms now, bool ttft) {
  if (!(ms >= 0)) return;
  double *ring = ttft ? o->ttft : o->lat;
  unsigned *n = ttft ? &o->nttft : &o->nlat, *next = ttft ? &o->ttft_next : &o->lat_next;
  ring[*next] = ms; /* the oldest sample goes: LiteLLM replaces its newest */
  *next = (*next + 1) % SY_LATENCY_SAMPLES;
  if (*n < SY_LATENCY_SAMPLES) (*n)++;
  if (ttft) return;
  if (o->ewma_at == 0 && o->ewma_ms == 0) {
    o->ewma_ms = ms;
  } else if (ms > o->ewma_ms) {
    o->ewma_ms = ms; /* peak: a slowdown counts at once */
  } else {
    /* The past's weight after dt: 1 / (1 + dt / decay), a hyperbolic decay
     * (it halves at dt = decay, as exp(-dt / decay) nearly does at 0.7 x
     * decay) that needs no libm exp(), which costs the wasm ~3 kB. */
    sy_ms dt = now > o->ewma_at ? now - o->ewma_at : 0;
    double w = 1 / (1 + dt / SY_EWMA_DECAY_MS);
    o->ewma_ms = o->ewma_ms * w + ms * (1 - w);
  }
  o->ewma_at = now;
}

double sy_observed_mean(const sy_observed *o, bool ttft) {
  unsigned n = ttft ? o->nttft : o->nlat;
  if (!n) return -1;
  const double *ring = ttft ? o->ttft : o->lat;
  double sum = 0;
  for (unsigned i = 0; i < n; i++)
    sum += ring[i];
  return sum / n;
}

double sy_observed_ewma(const sy_observed *o) { return o->ewma_ms; }

bool sy_observed_exhausted(const sy_observed *o, double tokens, sy_ms now) {
  if (o->rl_requests >= 0 && o->rl_requests < 1 && o->rl_requests_reset > now) return true;
  return o->rl_tokens >= 0 && o->rl_tokens < tokens && o->rl_tokens_reset > now;
}
