/* unit_health.c: cooldown deadlines at t-1 and t, extension never
 * shortening, fixed failure windows, and the router's copy of the store,
 * against the sim's kv store. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "health.h"
#include "host_sim.h"
#include "t.h"

static void test_cooldown_deadline(void) {
  sim s;
  sim_init(&s, 1000);
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d1", s.now), 0);
  T_EQ_DBL(sy_health_cool(&s.host, "d1", s.now, 5000, SY_CLASS_RATE_LIMIT), 6000);
  sim_advance(&s, 4999); /* t-1 */
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d1", s.now), 6000);
  sim_advance(&s, 1); /* t */
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d1", s.now), 0);
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d2", s.now), 0);
  sim_free(&s);
}

static void test_cool_extends_never_shortens(void) {
  sim s;
  sim_init(&s, 0);
  sy_health_cool(&s.host, "d", 0, 10000, SY_CLASS_RATE_LIMIT);
  sim_advance(&s, 1000);
  /* A shorter cooldown keeps the later deadline (LiteLLM #40130). */
  T_EQ_DBL(sy_health_cool(&s.host, "d", s.now, 2000, SY_CLASS_SERVER), 10000);
  sim_advance(&s, 8999);
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d", s.now), 10000);
  /* A longer one extends it. */
  T_EQ_DBL(sy_health_cool(&s.host, "d", s.now, 5000, SY_CLASS_SERVER), 14999);
  sim_advance(&s, 4999);
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d", s.now), 14999);
  sim_advance(&s, 1);
  T_EQ_DBL(sy_health_cooling_until(&s.host, "d", s.now), 0);
  sim_free(&s);
}

static void test_failure_window(void) {
  sim s;
  sim_init(&s, 0);
  T_EQ_DBL(sy_health_count_failure(&s.host, "d", SY_CLASS_SERVER, false), 1);
  sim_advance(&s, 30000);
  T_EQ_DBL(sy_health_count_failure(&s.host, "d", SY_CLASS_TIMEOUT, false), 2);
  T_EQ_DBL(sy_health_count_failure(&s.host, "d", SY_CLASS_TIMEOUT, true), 1);
  sim_advance(&s, 29999); /* the window is fixed from the first failure */
  T_EQ_DBL(sy_health_count_failure(&s.host, "d", SY_CLASS_SERVER, false), 3);
  sim_advance(&s, 1);
  T_EQ_DBL(sy_health_count_failure(&s.host, "d", SY_CLASS_SERVER, false), 1);
  sim_free(&s);
}

/* ---- the copy of the store ---- */

/* The sim's store behind a host that counts the calls reaching it. */
typedef struct counted {
  sy_host host;
  sim *s;
  int gets, puts, adds;
} counted;

static int32_t counted_get(void *u, const char *k, size_t kl, char *out, size_t cap) {
  counted *c = u;
  c->gets++;
  return c->s->host.kv_get(c->s->host.user, k, kl, out, cap);
}
static void counted_put(void *u, const char *k, size_t kl, const char *v, size_t vl, sy_ms ttl) {
  counted *c = u;
  c->puts++;
  c->s->host.kv_put(c->s->host.user, k, kl, v, vl, ttl);
}
static double counted_add(void *u, const char *k, size_t kl, double d, sy_ms ttl) {
  counted *c = u;
  c->adds++;
  return c->s->host.kv_add(c->s->host.user, k, kl, d, ttl);
}

static void counted_init(counted *c, sim *s) {
  *c = (counted){.host = s->host, .s = s};
  c->host.user = c;
  c->host.kv_get = counted_get;
  c->host.kv_put = counted_put;
  c->host.kv_add = counted_add;
}

/* Another instance's write: straight to the store, not through the copy. */
static void peer_cools(sim *s, const char *key, const char *val, sy_ms ttl) {
  s->host.kv_put(s->host.user, key, strlen(key), val, strlen(val), ttl);
}

static void test_copy_unwatched_reads_through(void) {
  sim s;
  sim_init(&s, 1000);
  counted c;
  counted_init(&c, &s);
  sy_kv_cache *kc = sy_kv_cache_new(&c.host, 2);
  const sy_host *h = sy_kv_cache_host(kc);
  sy_kv_cache_tick(kc, s.now);
  sy_health_cooling_until(h, "d", s.now);
  sy_health_cooling_until(h, "d", s.now);
  T_EQ_INT(c.gets, 2);
  peer_cools(&s, "sy:cd:d", "4000 rate_limit", 3000);
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 4000); /* seen with no report */
  sy_kv_cache_free(kc);
  sim_free(&s);
}

static void test_copy_answers_until_a_change(void) {
  sim s;
  sim_init(&s, 1000);
  counted c;
  counted_init(&c, &s);
  sy_kv_cache *kc = sy_kv_cache_new(&c.host, 2);
  const sy_host *h = sy_kv_cache_host(kc);
  sy_kv_cache_watch(kc);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 0);
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 0);
  T_EQ_INT(c.gets, 1); /* absent is kept too: most keys a pick reads are */
  /* Its own write is known without asking. */
  T_EQ_DBL(sy_health_cool(h, "d", s.now, 500, SY_CLASS_SERVER), 1500);
  T_EQ_INT(c.puts, 1);
  int gets = c.gets;
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 1500);
  T_EQ_INT(c.gets, gets);
  /* A peer's write is seen once it is reported, and not before. */
  T_EQ_DBL(sy_health_cooling_until(h, "e", s.now), 0);
  peer_cools(&s, "sy:cd:e", "9000 rate_limit", 8000);
  T_EQ_DBL(sy_health_cooling_until(h, "e", s.now), 0);
  sy_kv_cache_changed(kc, "sy:cd:e", 7);
  T_EQ_DBL(sy_health_cooling_until(h, "e", s.now), 9000);
  /* "Anything may have changed" forgets everything. */
  peer_cools(&s, "sy:cd:d", "7000 server", 6000);
  sy_kv_cache_changed(kc, NULL, 0);
  gets = c.gets;
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 7000);
  T_EQ_DBL(sy_health_cooling_until(h, "e", s.now), 9000);
  T_EQ_INT(c.gets, gets + 2);
  /* Counters: the sum the store returns is the copy. */
  sy_health_attempt_sent(h, "d", s.now);
  sy_health_attempt_sent(h, "d", s.now);
  gets = c.gets;
  T_EQ_DBL(sy_health_usage_of(h, "d", SY_USAGE_RPM, s.now), 2);
  T_EQ_DBL(sy_health_usage_of(h, "d", SY_USAGE_INFLIGHT, s.now), 2);
  T_EQ_INT(c.gets, gets);
  T_EQ_INT(c.adds, 4);
  sy_kv_cache_free(kc);
  sim_free(&s);
}

static void test_copy_ages_out(void) {
  sim s;
  sim_init(&s, 1000);
  counted c;
  counted_init(&c, &s);
  sy_kv_cache *kc = sy_kv_cache_new(&c.host, 2);
  const sy_host *h = sy_kv_cache_host(kc);
  sy_kv_cache_watch(kc);
  sy_kv_cache_tick(kc, s.now);
  sy_health_cooling_until(h, "d", s.now);
  /* A TTL the copy cannot see (a peer's key expiring) is caught up with
   * after SY_KV_CACHE_MAX_AGE_MS. */
  peer_cools(&s, "sy:cd:d", "90000 server", 89000);
  sim_advance(&s, SY_KV_CACHE_MAX_AGE_MS - 1);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 0);
  sim_advance(&s, 1);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_DBL(sy_health_cooling_until(h, "d", s.now), 90000);
  /* A TTL it wrote itself, shorter than that, is kept to. */
  const char *key = "sy:pr:p";
  h->kv_put(h->user, key, strlen(key), "1", 1, 300);
  sim_advance(&s, 299);
  sy_kv_cache_tick(kc, s.now);
  int gets = c.gets;
  T_EQ_DBL(sy_breaker_probes(h, "p"), 1);
  T_EQ_INT(c.gets, gets);
  sim_advance(&s, 1);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_DBL(sy_breaker_probes(h, "p"), 0); /* expired in the store, asked again */
  T_EQ_INT(c.gets, gets + 1);
  sy_kv_cache_free(kc);
  sim_free(&s);
}

static void test_copy_bounded_and_oom_safe(void) {
  sim s;
  sim_init(&s, 1000);
  counted c;
  counted_init(&c, &s);
  size_t base = sy_heap_bytes();
  sy_kv_cache *kc = sy_kv_cache_new(&c.host, 1); /* 64 slots */
  const sy_host *h = sy_kv_cache_host(kc);
  sy_kv_cache_watch(kc);
  sy_kv_cache_tick(kc, s.now);
  char id[16], key[32];
  size_t peak = 0;
  for (int i = 0; i < 500; i++) {
    snprintf(id, sizeof id, "d%d", i);
    snprintf(key, sizeof key, "sy:cd:%s", id);
    if (i % 3 == 0) peer_cools(&s, key, "5000 server", 4000);
    sy_kv_cache_changed(kc, key, strlen(key));
    T_EQ_DBL(sy_health_cooling_until(h, id, s.now), i % 3 == 0 ? 5000 : 0);
    if (sy_heap_bytes() - base > peak) peak = sy_heap_bytes() - base;
  }
  /* 64 slots of 32 bytes (64-bit), at most 48 kept, each under 250 bytes. */
  T_CHECK(peak <= 64 * 32 + 48 * 250);
  /* Out of memory, reads still give the store's answer: nothing is kept. */
  sy_kv_cache_changed(kc, NULL, 0);
  sy_alloc_fail_at(1, 1);
  int gets = c.gets;
  T_EQ_DBL(sy_health_cooling_until(h, "d0", s.now), 5000);
  T_EQ_DBL(sy_health_cooling_until(h, "d0", s.now), 5000);
  T_EQ_DBL(sy_health_cool(h, "d1", s.now, 100, SY_CLASS_SERVER), 1100);
  T_EQ_DBL(sy_health_cooling_until(h, "d1", s.now), 1100);
  sy_alloc_fail_at(0, 0);
  T_EQ_INT(c.gets, gets + 4);
  sy_kv_cache_free(kc);
  T_EQ_INT(sy_heap_bytes(), base);
  sim_free(&s);
}

/* A pick's view of |h| at |now|: one at a time, as a pick has it. */
static const sy_health_view *at(const sy_host *h, sy_ms now) {
  static sy_health_view v;
  v = sy_health_view_of(h, now);
  return &v;
}

static void test_memo_follows_changes(void) {
  sim s;
  sim_init(&s, 1000);
  counted c;
  counted_init(&c, &s);
  sy_kv_cache *kc = sy_kv_cache_new(&c.host, 2);
  const sy_host *h = sy_kv_cache_host(kc);
  sy_kv_cache_watch(kc);
  sy_kv_cache_tick(kc, s.now);
  sy_health_memo m = {0};
  sy_ms until;
  int times;
  T_EQ_INT(sy_health_look(at(h, s.now), &m, "d", true, &until, &times), SY_BREAKER_CLOSED);
  T_EQ_DBL(until, 0);
  int gets = c.gets;
  sy_health_look(at(h, s.now), &m, "d", true, &until, &times);
  T_EQ_INT(c.gets, gets); /* answered by the memo */
  /* A peer's cooldown: unseen until reported, then seen at once. */
  peer_cools(&s, "sy:cd:d", "3000 server", 2000);
  sy_health_look(at(h, s.now), &m, "d", true, &until, &times);
  T_EQ_DBL(until, 0);
  sy_kv_cache_changed(kc, "sy:cd:d", 7);
  sy_health_look(at(h, s.now), &m, "d", true, &until, &times);
  T_EQ_DBL(until, 3000);
  /* Its own write of another deployment's breaker is seen too. */
  sy_health_memo e = {0};
  T_EQ_INT(sy_health_look(at(h, s.now), &e, "e", true, &until, &times), SY_BREAKER_CLOSED);
  h->kv_put(h->user, "sy:ej:e", 7, "1500 2", 6, 60000);
  T_EQ_INT(sy_health_look(at(h, s.now), &e, "e", true, &until, &times), SY_BREAKER_OPEN);
  T_EQ_DBL(until, 1500);
  T_EQ_INT(times, 2);
  sim_advance(&s, 500);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_INT(sy_health_look(at(h, s.now), &e, "e", true, &until, &times), SY_BREAKER_HALF_OPEN);
  /* Usage counters: the router's own adds keep the ref current. */
  sy_health_attempt_sent(h, "d", s.now);
  T_EQ_DBL(sy_health_usage_look(at(h, s.now), &m, "d", SY_USAGE_RPM), 1);
  gets = c.gets;
  sy_health_attempt_sent(h, "d", s.now);
  T_EQ_DBL(sy_health_usage_look(at(h, s.now), &m, "d", SY_USAGE_RPM), 2);
  T_EQ_DBL(sy_health_usage_look(at(h, s.now), &m, "d", SY_USAGE_INFLIGHT), 2);
  T_EQ_INT(c.gets, gets);
  /* A peer's add, reported. */
  const char *key = "sy:if:d";
  s.host.kv_add(s.host.user, key, strlen(key), 5, 0);
  sy_kv_cache_changed(kc, key, strlen(key));
  T_EQ_DBL(sy_health_usage_look(at(h, s.now), &m, "d", SY_USAGE_INFLIGHT), 7);
  /* A new minute is a new counter. */
  sim_advance(&s, 60000);
  sy_kv_cache_tick(kc, s.now);
  T_EQ_DBL(sy_health_usage_look(at(h, s.now), &m, "d", SY_USAGE_RPM), 0);
  /* Both counts of the minute in one look: from the store while the
   * tokens' ref is not current, then from the refs alone. */
  double n[2];
  sy_health_attempt_sent(h, "d", s.now);
  sy_health_attempt_over(h, "d", s.now, 40);
  sy_health_minute_look(at(h, s.now), &m, "d", n);
  T_EQ_DBL(n[0], 1);
  T_EQ_DBL(n[1], 40);
  gets = c.gets;
  sy_health_attempt_sent(h, "d", s.now);
  sy_health_attempt_over(h, "d", s.now, 2);
  sy_health_minute_look(at(h, s.now), &m, "d", n);
  T_EQ_DBL(n[0], 2);
  T_EQ_DBL(n[1], 42);
  T_EQ_DBL(m.counted[SY_USAGE_RPM], 2);
  T_EQ_DBL(m.counted[SY_USAGE_TPM], 42);
  T_EQ_INT(c.gets, gets);
  /* A peer's tokens, reported, and the next minute's fresh counters. */
  char tkey[64];
  snprintf(tkey, sizeof tkey, "sy:tpm:d:%.0f", floor(s.now / SY_USAGE_WINDOW_MS));
  s.host.kv_add(s.host.user, tkey, strlen(tkey), 8, 0);
  sy_kv_cache_changed(kc, tkey, strlen(tkey));
  sy_health_minute_look(at(h, s.now), &m, "d", n);
  T_EQ_DBL(n[1], 50);
  sim_advance(&s, 60000);
  sy_kv_cache_tick(kc, s.now);
  sy_health_minute_look(at(h, s.now), &m, "d", n);
  T_EQ_DBL(n[0], 0);
  T_EQ_DBL(n[1], 0);
  /* Unwatched, both read the store. */
  sy_kv_cache *plain = sy_kv_cache_new(&c.host, 2);
  sy_kv_cache_tick(plain, s.now);
  sy_health_memo p = {0};
  gets = c.gets;
  sy_health_usage_look(at(sy_kv_cache_host(plain), s.now), &p, "d", SY_USAGE_INFLIGHT);
  sy_health_usage_look(at(sy_kv_cache_host(plain), s.now), &p, "d", SY_USAGE_INFLIGHT);
  T_EQ_INT(c.gets, gets + 2);
  sy_kv_cache_free(plain);
  sy_kv_cache_free(kc);
  sim_free(&s);
}

void suite_health(void) {
  test_cooldown_deadline();
  test_cool_extends_never_shortens();
  test_failure_window();
  test_copy_unwatched_reads_through();
  test_copy_answers_until_a_change();
  test_copy_ages_out();
  test_copy_bounded_and_oom_safe();
  test_memo_follows_changes();
}
