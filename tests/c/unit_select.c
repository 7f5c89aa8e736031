/* unit_select.c: cooldown filtering, order tiers, exclusion, the weight
 * bases and every strategy, tags, pre-call checks and provider hints, with
 * distributions over 10,000 seeded picks. */
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
  sy_settings st;
  sy_observed obs[N];
  sy_pick_ctx c;
} fixture;

static void setup(fixture *f, size_t n) {
  static const char *const ids[N] = {"a", "b", "c", "d"};
  for (size_t i = 0; i < N; i++) {
    sy_deployment *d = &f->deps[i];
    *d = (sy_deployment){0};
    d->id = (char *)ids[i];
    d->order = SY_UNSET;
    d->index = (int)i;
    f->ptrs[i] = d;
    sy_observed_init(&f->obs[i]);
  }
  f->g = (sy_group){"g", f->ptrs, n};
  sim_init(&f->s, 0);
  sy_rng_seed(&f->rng, 42);
  f->st = (sy_settings){0};
  f->st.tag_filtering_match_any = true;
  f->c = (sy_pick_ctx){.settings = &f->st, .host = &f->s.host, .rng = &f->rng, .observed = f->obs};
}

static sy_pick pick(fixture *f, const uint8_t *exclude) {
  f->c.now = f->s.now;
  return sy_select_pick(&f->g, exclude, f->scratch, &f->c);
}

/* Picks 10,000 times; counts[i] gets how often deployment i won. */
static void draw(fixture *f, const uint8_t *exclude, int counts[N]) {
  for (int i = 0; i < N; i++)
    counts[i] = 0;
  for (int i = 0; i < 10000; i++) {
    sy_pick p = pick(f, exclude);
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
  sy_pick p = pick(&f, ex);
  T_EQ_INT(p.index, -1);
  T_EQ_INT(p.healthy, 0);
  T_EQ_DBL(p.earliest_end, 400);
  sim_advance(&f.s, 399);
  p = pick(&f, ex);
  T_EQ_INT(p.index, -1);
  sim_advance(&f.s, 1);
  p = pick(&f, ex);
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

/* Usage this minute, as the core counts it: |sent| attempts of |tokens| each. */
static void use(fixture *f, const char *id, int sent, double tokens, int open) {
  for (int i = 0; i < sent; i++) {
    sy_health_attempt_sent(&f->s.host, id, f->s.now);
    if (i >= open) sy_health_attempt_over(&f->s.host, id, f->s.now, tokens);
  }
}

static void test_usage_based(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_USAGE;
  use(&f, "a", 2, 50, 0); /* 100 tokens this minute */
  use(&f, "b", 1, 30, 0); /* 30: the fewest */
  use(&f, "c", 4, 40, 0);
  int c[N];
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  /* Headroom: b's tpm would be passed by a 75-token prompt (30 + 75 > 100),
   * so the next fewest (a, 100 of 1000) serves. */
  f.deps[1].tpm = 100;
  f.deps[0].tpm = 1000;
  f.c.prompt_tokens = 75;
  draw(&f, NULL, c);
  T_EQ_INT(c[0], 10000);
  /* The choice follows the counts the headroom check read, pick by pick:
   * a (100 tokens) beats c (160) until a's next 100. */
  f.deps[2].tpm = 1000;
  draw(&f, NULL, c);
  T_EQ_INT(c[0], 10000);
  use(&f, "a", 2, 50, 0);
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  /* rpm: one more request must fit (a has sent 2). */
  f.deps[0].rpm = 2;
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  f.deps[2].rpm = 4;
  sy_pick p = pick(&f, NULL);
  T_EQ_INT(p.index, -1);
  T_EQ_INT(p.block, SY_PICK_OVER_LIMIT);
  /* The next minute counts afresh. */
  sim_advance(&f.s, 60000);
  p = pick(&f, NULL);
  T_CHECK(p.index >= 0);
  sim_free(&f.s);
}

static void test_least_busy(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_LEAST_BUSY;
  use(&f, "a", 2, 0, 2); /* two in flight */
  use(&f, "b", 3, 0, 1); /* one */
  use(&f, "c", 5, 0, 1);
  int c[N];
  draw(&f, NULL, c);
  /* b and c tie at one in flight: uniform between them. */
  T_EQ_INT(c[0], 0);
  T_CHECK(fabs(c[1] - 5000.0) < 250);
  sy_health_attempt_over(&f.s.host, "c", f.s.now, 0);
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  sim_free(&f.s);
}

static void test_latency_based(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_LATENCY;
  for (int i = 0; i < 3; i++) {
    sy_observe_latency(&f.obs[0], 100, i, false);
    sy_observe_latency(&f.obs[1], 120, i, false);
    sy_observe_latency(&f.obs[2], 300, i, false);
  }
  int c[N];
  draw(&f, NULL, c);
  T_EQ_INT(c[0], 10000);
  /* Within 25 % of the fastest: a and b share, c never. */
  f.st.lowest_latency_buffer = 0.25;
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 0);
  T_CHECK(fabs(c[0] - 5000.0) < 250);
  /* A stream goes by time to first token where it is known. */
  f.st.lowest_latency_buffer = 0;
  f.c.stream = 1;
  sy_observe_latency(&f.obs[2], 20, 3, true);
  sy_observe_latency(&f.obs[0], 90, 3, true);
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  /* The oldest sample goes when the ring is full: ten fast answers make a
   * slow deployment fast again. */
  f.c.stream = 0;
  for (int i = 0; i < SY_LATENCY_SAMPLES; i++)
    sy_observe_latency(&f.obs[2], 10, 10 + i, false);
  T_EQ_DBL(sy_observed_mean(&f.obs[2], false), 10);
  draw(&f, NULL, c);
  T_EQ_INT(c[2], 10000);
  /* Never measured counts 0: it is tried. */
  setup(&f, 4);
  f.st.strategy = SY_STRATEGY_LATENCY;
  sy_observe_latency(&f.obs[0], 5, 0, false);
  sy_observe_latency(&f.obs[1], 5, 0, false);
  sy_observe_latency(&f.obs[2], 5, 0, false);
  T_EQ_INT(pick(&f, NULL).index, 3);
  sim_free(&f.s);
}

static void test_cost_based(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_COST;
  f.deps[0].input_cost_per_token = 3e-6;
  f.deps[0].output_cost_per_token = 6e-6;
  f.deps[1].input_cost_per_token = 1e-6;
  f.deps[1].output_cost_per_token = 2e-6;
  /* c has no prices: it comes last */
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

static void test_p2c_peak_ewma(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_P2C;
  sy_observe_latency(&f.obs[0], 100, 0, false);
  sy_observe_latency(&f.obs[1], 1000, 0, false);
  sy_observe_latency(&f.obs[2], 100, 0, false);
  f.obs[2].outstanding = 20; /* fast but loaded: 100 x 21 */
  /* Pairs are uniform: (a,b) -> a, (a,c) -> a, (b,c) -> b (1000 < 2100). */
  int c[N];
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 6667.0) < 250);
  T_CHECK(fabs(c[1] - 3333.0) < 250);
  T_EQ_INT(c[2], 0);
  /* Peak: one slow answer counts at once; recovery decays over ~10 s. */
  sy_observe_latency(&f.obs[0], 5000, 1000, false);
  T_EQ_DBL(sy_observed_ewma(&f.obs[0], 1000), 5000);
  sy_observe_latency(&f.obs[0], 100, 11000, false);
  /* 10 s later the past weighs exp(-1) */
  double e = sy_observed_ewma(&f.obs[0], 11000);
  T_CHECK(fabs(e - (5000 * exp(-1) + 100 * (1 - exp(-1)))) < 0.01);
  /* and fades while nothing renews it, so a once-slow deployment is tried again */
  T_CHECK(fabs(sy_observed_ewma(&f.obs[0], 31000) - e * exp(-2)) < 0.01);
  T_EQ_DBL(sy_observed_ewma(&f.obs[0], 11000 + 600000), 0);
  /* A lone candidate is picked; none gives -1. */
  uint8_t ex[N] = {1, 1, 0, 0};
  T_EQ_INT(pick(&f, ex).index, 2);
  ex[2] = 1;
  T_EQ_INT(pick(&f, ex).index, -1);
  sim_free(&f.s);
}

/* p2c draws both of its pair by weight, the second among the rest: c
 * (weight 2 of 4, and fast) wins whenever it is drawn, first (1/2) or
 * second (1/2 x 2/3), so 5/6 of the picks. A second draw over the whole
 * total instead of the rest would give c 7/8. Once from pass 2's sums,
 * once with them recounted (a worse tier d leaves the candidates out of
 * pass 2's order). */
static void test_p2c_weights(void) {
  fixture f;
  setup(&f, 3);
  f.st.strategy = SY_STRATEGY_P2C;
  f.deps[0].weight = f.deps[1].weight = 1;
  f.deps[2].weight = 2;
  sy_observe_latency(&f.obs[0], 1000, 0, false);
  sy_observe_latency(&f.obs[1], 1000, 0, false);
  sy_observe_latency(&f.obs[2], 100, 0, false);
  int c[N];
  draw(&f, NULL, c);
  T_CHECK(fabs(c[2] - 8333.0) < 200);
  T_CHECK(fabs(c[0] - 833.0) < 150);
  sim_free(&f.s);
  setup(&f, 4);
  f.st.strategy = SY_STRATEGY_P2C;
  f.deps[0].weight = f.deps[1].weight = 1;
  f.deps[2].weight = 2;
  f.deps[3].weight = 100;
  f.deps[0].order = f.deps[1].order = f.deps[2].order = 1;
  f.deps[3].order = 2;
  sy_observe_latency(&f.obs[0], 1000, 0, false);
  sy_observe_latency(&f.obs[1], 1000, 0, false);
  sy_observe_latency(&f.obs[2], 100, 0, false);
  draw(&f, NULL, c);
  T_CHECK(fabs(c[2] - 8333.0) < 200);
  T_EQ_INT(c[3], 0);
  sim_free(&f.s);
}

static void test_tags(void) {
  static char *const paid[] = {"paid"}, *const both[] = {"paid", "eu"}, *const none[] = {"x"};
  fixture f;
  setup(&f, 3);
  f.st.enable_tag_filtering = true;
  char *ta[] = {"paid", "us"}, *tb[] = {"paid", "eu"}, *tc[] = {"default"};
  f.deps[0].tags = ta;
  f.deps[0].ntags = 2;
  f.deps[1].tags = tb;
  f.deps[1].ntags = 2;
  f.deps[2].tags = tc;
  f.deps[2].ntags = 1;
  int c[N];
  f.c.tags = paid;
  f.c.ntags = 1;
  draw(&f, NULL, c); /* any: a and b */
  T_EQ_INT(c[2], 0);
  T_CHECK(fabs(c[0] - 5000.0) < 250);
  f.c.tags = both;
  f.c.ntags = 2;
  draw(&f, NULL, c); /* any of paid, eu: a and b */
  T_EQ_INT(c[2], 0);
  f.st.tag_filtering_match_any = false;
  draw(&f, NULL, c); /* all of paid, eu: b alone */
  T_EQ_INT(c[1], 10000);
  f.c.tags = none;
  f.c.ntags = 1;
  draw(&f, NULL, c); /* nothing matches: the default */
  T_EQ_INT(c[2], 10000);
  f.c.tags = NULL;
  f.c.ntags = 0;
  draw(&f, NULL, c); /* untagged: the default ones when there are any */
  T_EQ_INT(c[2], 10000);
  f.deps[2].ntags = 0;
  draw(&f, NULL, c); /* no default: everything */
  T_CHECK(c[2] > 2500);
  f.c.tags = none;
  f.c.ntags = 1;
  sy_pick p = pick(&f, NULL);
  T_EQ_INT(p.index, -1);
  T_EQ_INT(p.block, SY_PICK_NO_TAG);
  f.st.enable_tag_filtering = false;
  T_CHECK(pick(&f, NULL).index >= 0);
  sim_free(&f.s);
}

static void test_pre_call_window(void) {
  fixture f;
  setup(&f, 2);
  f.deps[0].max_input_tokens = 1000;
  f.deps[1].max_input_tokens = 8000;
  f.c.prompt_tokens = 4000;
  int c[N];
  draw(&f, NULL, c); /* without enable_pre_call_checks, windows are not checked */
  T_CHECK(c[0] > 4000);
  f.st.enable_pre_call_checks = true;
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  f.c.prompt_tokens = 9000;
  sy_pick p = pick(&f, NULL);
  T_EQ_INT(p.index, -1);
  T_EQ_INT(p.block, SY_PICK_TOO_SMALL);
  f.c.prompt_tokens = 8000; /* at the window is in */
  T_EQ_INT(pick(&f, NULL).index, 1);
  sim_free(&f.s);
}

static void test_provider_hints(void) {
  fixture f;
  setup(&f, 2);
  /* a said: no request left until t=500 */
  f.obs[0].rl_requests = 0;
  f.obs[0].rl_requests_reset = 500;
  int c[N];
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  /* tokens: 100 left, a 200-token prompt does not fit (a's requests are back) */
  f.obs[0].rl_requests = 10;
  f.obs[0].rl_tokens = 100;
  f.obs[0].rl_tokens_reset = 500;
  f.c.prompt_tokens = 200;
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  f.c.prompt_tokens = 50;
  draw(&f, NULL, c);
  T_CHECK(c[0] > 4000);
  /* Both spent: the hint is not a cooldown, one is still tried. */
  f.c.prompt_tokens = 200;
  f.obs[1].rl_requests = 0;
  f.obs[1].rl_requests_reset = 500;
  T_CHECK(pick(&f, NULL).index >= 0);
  /* Past the reset the hint no longer holds. */
  f.obs[1].rl_requests = -1;
  sim_advance(&f.s, 500);
  draw(&f, NULL, c);
  T_CHECK(c[0] > 4000);
  sim_free(&f.s);
}

/* Slow start: a deployment back from a cooldown regains its weight
 * linearly over the window, from min_weight. */
static void test_slow_start(void) {
  fixture f;
  setup(&f, 2);
  f.st.rel.slow_start = true;
  f.st.rel.slow_start_ms = 30000;
  f.st.rel.slow_start_min_weight = 0.1;
  sy_health_cool(&f.s.host, "a", 0, 1000, SY_CLASS_SERVER);
  int c[N];
  draw(&f, NULL, c); /* cooling: all to b, and the pick notes when a is back */
  T_EQ_INT(c[1], 10000);
  sim_advance(&f.s, 1000 + 3000); /* 3 s back: 10 % (the floor) */
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 10000.0 * 0.1 / 1.1) < 200);
  sim_advance(&f.s, 12000); /* 15 s back: half its weight */
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 10000.0 * 0.5 / 1.5) < 250);
  sim_advance(&f.s, 15000); /* the window is over */
  draw(&f, NULL, c);
  T_CHECK(fabs(c[0] - 5000.0) < 250);
  sim_free(&f.s);
}

/* Breakers as a pick sees them: open ones skipped, a half-open one while
 * its probe slot is free, and the pick says it probes. */
static void test_breaker_states(void) {
  fixture f;
  setup(&f, 2);
  f.st.rel.breaker = true;
  f.st.rel.breaker_consecutive = 1;
  f.st.rel.breaker_open_ms = 1000;
  f.st.rel.breaker_max_open_ms = 5000;
  f.st.rel.half_open_requests = 1;
  int times;
  T_EQ_DBL(sy_breaker_failure(&f.s.host, &f.st.rel, "a", 0, 1, false, true, &times), 1000);
  T_EQ_INT(times, 1);
  int c[N];
  draw(&f, NULL, c);
  T_EQ_INT(c[1], 10000);
  sim_advance(&f.s, 1000);
  uint8_t only_a[N] = {0, 1, 0, 0};
  sy_pick p = pick(&f, only_a);
  T_EQ_INT(p.index, 0);
  T_CHECK(p.probe);
  sy_breaker_probe(&f.s.host, "a", 1, 60000);
  p = pick(&f, only_a); /* its probe is out */
  T_EQ_INT(p.index, -1);
  sy_breaker_probe(&f.s.host, "a", -1, 0);
  T_CHECK(sy_breaker_success(&f.s.host, "a", true));
  p = pick(&f, only_a);
  T_EQ_INT(p.index, 0);
  T_CHECK(!p.probe);
  sim_free(&f.s);
}

void suite_select(void) {
  test_slow_start();
  test_breaker_states();
  test_weights();
  test_cooling_and_exclusion();
  test_order_tiers();
  test_usage_based();
  test_least_busy();
  test_latency_based();
  test_cost_based();
  test_p2c_peak_ewma();
  test_p2c_weights();
  test_tags();
  test_pre_call_window();
  test_provider_hints();
}
