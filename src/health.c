/* health.c: cooldowns and failure windows over the host's kv store. */
#include "health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Keys are built in a fixed buffer: ids longer than this are truncated in
 * the key, which only merges their health with another id of the same long
 * prefix; config ids are short hashes unless users choose otherwise. */
#define KEY_MAX 192

static size_t make_key(char *key, const char *prefix, const char *id, const char *suffix) {
  int n = snprintf(key, KEY_MAX, "%s%s%s%s", prefix, id, suffix ? ":" : "", suffix ? suffix : "");
  if (n < 0) return 0;
  return (size_t)n < KEY_MAX ? (size_t)n : KEY_MAX - 1;
}

sy_ms sy_health_cooling_until(const sy_host *h, const char *id, sy_ms now) {
  char key[KEY_MAX], val[64];
  size_t kl = make_key(key, "sy:cd:", id, NULL);
  int32_t n = h->kv_get(h->user, key, kl, val, sizeof val - 1);
  if (n < 0 || (size_t)n >= sizeof val) return 0;
  val[n] = '\0';
  sy_ms until = strtod(val, NULL);
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
  n = h->kv_get(h->user, key, kl, val, sizeof val - 1);
  *failures = 0;
  if (n >= 0 && (size_t)n < sizeof val) {
    val[n] = '\0';
    *failures = strtod(val, NULL);
  }
}

double sy_health_count_failure(const sy_host *h, const char *id, sy_class c, bool per_class) {
  char key[KEY_MAX];
  size_t kl = make_key(key, "sy:f:", id, per_class ? sy_class_name(c) : NULL);
  return h->kv_add(h->user, key, kl, 1, SY_FAIL_WINDOW_MS);
}
