/* unit_policy.c: the retry, backoff, cooldown and status tables, each at
 * its boundaries. */
#include "policy.h"
#include "t.h"

static sy_settings defaults(void) {
  sy_settings s = {0};
  s.num_retries = 2;
  s.allowed_fails = 3;
  s.cooldown_ms = 5000;
  s.timeout_ms = 600000;
  s.max_fallbacks = 5;
  s.backoff_initial_ms = 500;
  s.backoff_max_ms = 8000;
  s.retry_after_max_ms = 60000;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    s.retry_policy[c] = s.allowed_fails_policy[c] = SY_UNSET;
  return s;
}

static sy_deployment plain_dep(void) {
  sy_deployment d = {0};
  d.num_retries = SY_UNSET;
  d.cooldown_ms = SY_UNSET;
  d.order = SY_UNSET;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    d.retry_policy[c] = SY_UNSET;
  return d;
}

static void test_retry_kinds(void) {
  const sy_class any[] = {SY_CLASS_RATE_LIMIT,  SY_CLASS_OVERLOADED, SY_CLASS_SERVER,
                          SY_CLASS_TIMEOUT,     SY_CLASS_NETWORK,    SY_CLASS_CONFLICT,
                          SY_CLASS_BAD_RESPONSE};
  for (size_t i = 0; i < sizeof any / sizeof *any; i++)
    T_EQ_INT(sy_policy_retry_kind(any[i]), SY_RETRY_ANY);
  T_EQ_INT(sy_policy_retry_kind(SY_CLASS_AUTH), SY_RETRY_MOVE_ON);
  T_EQ_INT(sy_policy_retry_kind(SY_CLASS_QUOTA), SY_RETRY_MOVE_ON);
  const sy_class never[] = {SY_CLASS_BAD_REQUEST, SY_CLASS_NOT_FOUND, SY_CLASS_CONTEXT_WINDOW,
                            SY_CLASS_CONTENT_POLICY};
  for (size_t i = 0; i < sizeof never / sizeof *never; i++)
    T_EQ_INT(sy_policy_retry_kind(never[i]), SY_RETRY_NEVER);
}

static void test_retry_limit_precedence(void) {
  sy_settings s = defaults();
  sy_deployment d = plain_dep();
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_SERVER), 2);
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_BAD_REQUEST), 0);
  d.num_retries = 4;
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_SERVER), 4);
  s.retry_policy[SY_CLASS_SERVER] = 1;
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_SERVER), 1);
  d.retry_policy[SY_CLASS_SERVER] = 6;
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_SERVER), 6);
  T_EQ_INT(sy_policy_retry_limit(&s, &d, 0, SY_CLASS_SERVER), 0); /* the request wins */
  /* A retry_policy makes a never-retried class retryable (LiteLLM). */
  s.retry_policy[SY_CLASS_BAD_REQUEST] = 2;
  T_EQ_INT(sy_policy_retry_limit(&s, &d, SY_UNSET, SY_CLASS_BAD_REQUEST), 2);
  T_EQ_INT(sy_policy_retry_limit(&s, NULL, SY_UNSET, SY_CLASS_OK), 0);
}

static void test_backoff(void) {
  sy_settings s = defaults();
  /* Equal jitter: half fixed, half random. */
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, -1, 0.0), 250);
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, -1, 0.999999), 250 + 0.999999 * 250);
  T_EQ_DBL(sy_policy_backoff_ms(&s, 1, -1, 0.0), 500);
  T_EQ_DBL(sy_policy_backoff_ms(&s, 4, -1, 0.0), 4000);  /* 500 * 16 = 8000 */
  T_EQ_DBL(sy_policy_backoff_ms(&s, 10, -1, 0.0), 4000); /* capped at 8000 */
  s.retry_after_ms = 3000;                               /* the router's minimum raises the base */
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, -1, 0.0), 1500);
  /* A provider's Retry-After is honoured exactly, raised to the minimum. */
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, 5000, 0.5), 5000);
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, 1000, 0.5), 3000);
  /* ... up to retry_after_max, at t and t+1. */
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, 60000, 0.5), 60000);
  T_EQ_DBL(sy_policy_backoff_ms(&s, 0, 60001, 0.5), -1);
}

static void test_cooldown(void) {
  sy_settings s = defaults();
  sy_deployment d = plain_dep();
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_RATE_LIMIT), SY_COOL_AT_ONCE);
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_AUTH), SY_COOL_AT_ONCE);
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_NOT_FOUND), SY_COOL_AT_ONCE);
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_SERVER), SY_COOL_COUNTED);
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_BAD_REQUEST), SY_COOL_NEVER);
  T_EQ_INT(sy_policy_cool_kind(SY_CLASS_CONTEXT_WINDOW), SY_COOL_NEVER);
  T_EQ_DBL(sy_policy_cooldown_ms(&s, &d, -1), 5000);
  T_EQ_DBL(sy_policy_cooldown_ms(&s, &d, 20000), 20000); /* the provider's word */
  d.cooldown_ms = 1000;
  T_EQ_DBL(sy_policy_cooldown_ms(&s, &d, 20000), 1000); /* the deployment's own wins */
  d.cooldown_ms = 0;
  T_EQ_DBL(sy_policy_cooldown_ms(&s, &d, 20000), 0);
  s.disable_cooldowns = true;
  d.cooldown_ms = SY_UNSET;
  T_EQ_DBL(sy_policy_cooldown_ms(&s, &d, -1), 0);
  T_EQ_INT(sy_policy_allowed_fails(&s, SY_CLASS_SERVER), 3);
  s.allowed_fails_policy[SY_CLASS_SERVER] = 0; /* 0 means 0, unlike LiteLLM's `or` */
  T_EQ_INT(sy_policy_allowed_fails(&s, SY_CLASS_SERVER), 0);
}

static void test_fallback_lists(void) {
  sy_settings s = defaults();
  T_CHECK(sy_policy_fallback_list(&s, SY_CLASS_CONTEXT_WINDOW) == &s.fallbacks);
  sy_fallback_rule rule = {0};
  s.context_window_fallbacks.rules = &rule;
  s.context_window_fallbacks.nrules = 1;
  T_CHECK(sy_policy_fallback_list(&s, SY_CLASS_CONTEXT_WINDOW) == &s.context_window_fallbacks);
  T_CHECK(sy_policy_fallback_list(&s, SY_CLASS_SERVER) == &s.fallbacks);
  T_CHECK(sy_policy_fallback_list(&s, SY_CLASS_CONTENT_POLICY) == &s.fallbacks);
}

static void test_client_status(void) {
  T_EQ_INT(sy_policy_client_status(SY_CLASS_RATE_LIMIT, 429), 429);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_CONTEXT_WINDOW, 400), 400);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_AUTH, 403), 401);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_BAD_REQUEST, 422), 422);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_SERVER, 503), 502);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_NETWORK, 0), 502);
  T_EQ_INT(sy_policy_client_status(SY_CLASS_TIMEOUT, 0), 504);
  T_EQ_STR(sy_policy_error_code(SY_CLASS_CONTEXT_WINDOW), "context_length_exceeded");
  T_EQ_STR(sy_policy_error_type(SY_CLASS_AUTH), "authentication_error");
}

void suite_policy(void) {
  test_retry_kinds();
  test_retry_limit_precedence();
  test_backoff();
  test_cooldown();
  test_fallback_lists();
  test_client_status();
}
