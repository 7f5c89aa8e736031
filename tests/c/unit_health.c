/* unit_health.c: cooldown deadlines at t-1 and t, extension never
 * shortening, and fixed failure windows, against the sim's kv store. */
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

void suite_health(void) {
  test_cooldown_deadline();
  test_cool_extends_never_shortens();
  test_failure_window();
}
