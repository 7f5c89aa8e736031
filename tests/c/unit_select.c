/* unit_select.c: cooldown filtering, order tiers, exclusion and the weight
 * bases, with distributions over 10,000 seeded picks. */
#include <math.h>

#include "health.h"
#include "host_sim.h"
#include "select.h"
#include "t.h"

#define N 4

typedef struct fixture {
  sy_deployment deps[N];
  sy_deployment *ptrs[N];
  sy_group g;
  uint8_t scratch[N];
  sim s;
  sy_rng rng;
} fixture;

static void setup(fixture *f, size_t n) {
  static const char *const ids[N] = {"a", "b", "c", "d"};
  for (size_t i = 0; i < N; i++) {
    sy_deployment *d = &f->deps[i];
    *d = (sy_deployment){0};
    d->id = (char *)ids[i];
    d->order = SY_UNSET;
    f->ptrs[i] = d;
  }
  f->g = (sy_group){"g", f->ptrs, n};
  sim_init(&f->s, 0);
  sy_rng_seed(&f->rng, 42);
}

/* Picks 10,000 times; counts[i] gets how often deployment i won. */
static void draw(fixture *f, const uint8_t *exclude, int counts[N]) {
  for (int i = 0; i < N; i++)
    counts[i] = 0;
  for (int i = 0; i < 10000; i++) {
    sy_pick p = sy_select_pick(&f->g, exclude, f->scratch, &f->s.host, f->s.now, &f->rng);
    if (p.index >= 0) counts[p.index]++;
  }
}

static void test_weights(void) {
  fixture f;
  setup(&f, 2);
  f.deps[0].weight = 1;
  f.deps[1].weight = 3;
  int c[N];
  draw(&f, NULL, c);
  /* 1:3 is 2500:7500; the binomial sd is ~43, so 200 is over 4 sd. */
  T_CHECK(fabs(c[0] - 2500.0) < 200);
  T_CHECK(fabs(c[1] - 7500.0) < 200);
  /* rpm when no weight is set; a missing rpm makes it uniform. */
  f.deps[0].weight = f.deps[1].weight = 0;
  f.deps[0].rpm = 100;
  f.deps[1].rpm = 900;
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 1000.0) < 200);
  f.deps[1].rpm = 0;
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 5000.0) < 250);
  f.deps[0].rpm = 0;
  f.deps[0].tpm = 3000;
  f.deps[1].tpm = 1000;
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 7500.0) < 200);
  sim_free(&f.s);
}

static void test_cooling_and_exclusion(void) {
  fixture f;
  setup(&f, 3);
  sy_health_cool(&f.s.host, "a", 0, 1000, SY_CLASS_RATE_LIMIT);
  sy_health_cool(&f.s.host, "c", 0, 400, SY_CLASS_RATE_LIMIT);
  uint8_t ex[N] = {0, 0, 0, 0};
  int c[N];
  draw(&f, ex, c);
  T_EQ_INT(c[0], 0);
  T_EQ_INT(c[1], 10000);
  T_EQ_INT(c[2], 0);
  ex[1] = 1;
  sy_pick p = sy_select_pick(&f.g, ex, f.scratch, &f.s.host, f.s.now, &f.rng);
  T_EQ_INT(p.index, -1);
  T_EQ_INT(p.healthy, 0);
  T_EQ_DBL(p.earliest_end, 400);
  sim_advance(&f.s, 399);
  p = sy_select_pick(&f.g, ex, f.scratch, &f.s.host, f.s.now, &f.rng);
  T_EQ_INT(p.index, -1);
  sim_advance(&f.s, 1);
  p = sy_select_pick(&f.g, ex, f.scratch, &f.s.host, f.s.now, &f.rng);
  T_EQ_INT(p.index, 2);
  sim_free(&f.s);
}

static void test_order_tiers(void) {
  fixture f;
  setup(&f, 3);
  f.deps[0].order = 2;
  f.deps[1].order = 1;
  /* deps[2] has no order: it sorts last */
  int c[N];
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  sy_health_cool(&f.s.host, "b", 0, 1000, SY_CLASS_SERVER);
  draw(&f, NULL, c);
  T_EQ_INT(c[0], 10000);
  sy_health_cool(&f.s.host, "a", 0, 1000, SY_CLASS_SERVER);
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  sim_free(&f.s);
}

void suite_select(void) {
  test_weights();
  test_cooling_and_exclusion();
  test_order_tiers();
}
