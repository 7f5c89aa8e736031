/* unit_config.c: a realistic LiteLLM proxy config, defaults, every error
 * with its path, warnings, ids, and failing allocations. */
#include <string.h>

#include "config.h"
#include "t.h"

static char warned[2048];

static void collect(void *user, const char *path, const char *msg) {
  (void)user;
  size_t n = strlen(warned);
  snprintf(warned + n, sizeof warned - n, "%s: %s\n", path, msg);
}

static sy_config *parse(const char *json, sy_buf *err) {
  sy_config *cfg = NULL;
  warned[0] = '\0';
  sy_buf_reset(err);
  sy_config_parse(json, strlen(json), &cfg, err, collect, NULL);
  return cfg;
}

static const char *FULL =
    "{\"model_list\":["
    "{\"model_name\":\"gpt-4o\",\"litellm_params\":{\"model\":\"azure/gpt4o-eu\",\"api_base\":"
    "\"https://eu.example.com\",\"api_key\":\"sk-azure-secret\",\"api_version\":\"2024-10-21\","
    "\"rpm\":\"600\",\"weight\":2,\"temperature\":0.2,\"timeout\":30,\"cooldown_time\":0},"
    "\"model_info\":{\"id\":\"eu\",\"max_input_tokens\":128000}},"
    "{\"model_name\":\"gpt-4o\",\"litellm_params\":{\"model\":\"openai/gpt-4o\",\"api_key\":"
    "\"sk-openai-secret\",\"num_retries\":4,\"order\":1,\"tags\":[\"fast\"]},\"tpm\":100000},"
    "{\"model_name\":\"claude\",\"litellm_params\":{\"model\":\"anthropic/claude-sonnet\"}},"
    "{\"model_name\":\"mini\",\"litellm_params\":{\"model\":\"gpt-4o-mini\"}}],"
    "\"router_settings\":{\"num_retries\":3,\"fallbacks\":[{\"gpt-4o\":[\"claude\"]}],"
    "\"context_window_fallbacks\":[{\"mini\":[\"gpt-4o\"]}],\"retry_policy\":"
    "{\"RateLimitErrorRetries\":5,\"BadRequestErrorRetries\":0,\"server\":1},"
    "\"allowed_fails_policy\":{\"InternalServerErrorAllowedFails\":7},\"cooldown_time\":10,"
    "\"timeout\":60,\"routing_strategy\":\"simple-shuffle\",\"redis_host\":\"x\"},"
    "\"litellm_settings\":{\"num_retries\":9,\"default_fallbacks\":[\"mini\"],"
    "\"content_policy_fallbacks\":[{\"gpt-4o\":[\"claude\"]}],\"drop_params\":true,"
    "\"mystery\":1},\"general_settings\":{\"master_key\":\"sk-master\"}}";

static void test_full_config(void) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse(FULL, &err);
  T_CHECK(cfg != NULL);
  if (!cfg) {
    fprintf(stderr, "%s\n", sy_buf_cstr(&err));
    sy_buf_free(&err);
    return;
  }
  T_EQ_INT(cfg->ndeps, 4);
  T_EQ_INT(cfg->ngroups, 3);
  const sy_group *g = sy_config_group(cfg, "gpt-4o");
  T_CHECK(g && g->ndeps == 2);
  const sy_deployment *eu = &cfg->deps[0], *oa = &cfg->deps[1];
  T_EQ_STR(eu->id, "eu");
  T_EQ_INT(eu->provider, SY_PROVIDER_AZURE);
  T_EQ_STR(eu->upstream_model, "gpt4o-eu");
  T_EQ_DBL(eu->rpm, 600); /* a numeric string */
  T_EQ_DBL(eu->weight, 2);
  T_EQ_DBL(eu->timeout_ms, 30000);
  T_EQ_DBL(eu->cooldown_ms, 0); /* 0 disables cooling it, not LiteLLM's 5 */
  T_EQ_DBL(eu->max_input_tokens, 128000);
  T_EQ_STR(eu->extra_params, "{\"temperature\":0.2}");
  T_EQ_INT(oa->num_retries, 4);
  T_EQ_INT(oa->order, 1);
  T_EQ_DBL(oa->tpm, 100000); /* top-level tpm copied in */
  T_EQ_INT(oa->ntags, 1);
  T_EQ_INT(strlen(oa->id), 16);                        /* hashed id */
  T_EQ_INT(cfg->deps[3].provider, SY_PROVIDER_OPENAI); /* bare name */
  const sy_settings *s = &cfg->settings;
  T_EQ_INT(s->num_retries, 3); /* router_settings wins */
  T_EQ_DBL(s->cooldown_ms, 10000);
  T_EQ_DBL(s->timeout_ms, 60000);
  T_EQ_INT(s->retry_policy[SY_CLASS_RATE_LIMIT], 5);
  T_EQ_INT(s->retry_policy[SY_CLASS_QUOTA], 5);
  T_EQ_INT(s->retry_policy[SY_CLASS_CONTEXT_WINDOW], 0);
  T_EQ_INT(s->retry_policy[SY_CLASS_SERVER], 1);
  T_EQ_INT(s->retry_policy[SY_CLASS_TIMEOUT], SY_UNSET);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_OVERLOADED], 7);
  size_t n;
  char **t = sy_fallbacks_for(&s->fallbacks, "gpt-4o", &n);
  T_CHECK(n == 1 && !strcmp(t[0], "claude"));
  t = sy_fallbacks_for(&s->fallbacks, "claude", &n); /* default_fallbacks as "*" */
  T_CHECK(n == 1 && !strcmp(t[0], "mini"));
  sy_fallbacks_for(&s->content_policy_fallbacks, "gpt-4o", &n);
  T_EQ_INT(n, 1);
  T_CONTAINS(warned, "litellm_settings.mystery: unknown key");
  T_CHECK(strstr(warned, "redis_host") == NULL && strstr(warned, "drop_params") == NULL);
  T_CHECK(strstr(warned, "secret") == NULL);
  /* The same config gives the same hashed ids. */
  sy_config *again = parse(FULL, &err);
  T_EQ_STR(again->deps[1].id, oa->id);
  sy_config_free(again);
  sy_config_free(cfg);
  sy_buf_free(&err);
}

static void test_defaults(void) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse("{}", &err);
  T_CHECK(cfg != NULL);
  const sy_settings *s = &cfg->settings;
  T_EQ_INT(s->num_retries, 2);
  T_EQ_INT(s->allowed_fails, 3);
  T_EQ_DBL(s->cooldown_ms, 5000);
  T_EQ_DBL(s->timeout_ms, 600000);
  T_EQ_INT(s->max_fallbacks, 5);
  T_EQ_DBL(s->backoff_initial_ms, 500);
  T_EQ_DBL(s->backoff_max_ms, 8000);
  T_EQ_DBL(s->retry_after_max_ms, 60000);
  T_EQ_STR(s->routing_strategy, "simple-shuffle");
  sy_config_free(cfg);
  sy_buf_free(&err);
}

static void test_errors(void) {
  static const struct {
    const char *json, *want;
  } cases[] = {
      {"[", "config: not valid JSON"},
      {"[]", "config: expected an object with model_list"},
      {"{\"model_list\":{}}", "model_list: expected a list of deployments"},
      {"{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"openai/x\"}},"
       "{\"model_name\":\"b\",\"litellm_params\":{\"model\":\"openai/x\",\"rpm\":\"lots\"}}]}",
       "model_list[1].litellm_params.rpm: expected a number"},
      {"{\"model_list\":[{\"litellm_params\":{\"model\":\"openai/x\"}}]}",
       "model_list[0].model_name: expected a model group name"},
      {"{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"api_key\":\"sk-zzz\"}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\", e.g. openai/gpt-4o"},
      {"{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"vertex_ai/x\"}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"openai/x\","
       "\"order\":0}}]}",
       "model_list[0].litellm_params.order: expected an integer >= 1"},
      {"{\"router_settings\":{\"fallbacks\":[[\"a\"]]}}",
       "router_settings.fallbacks[0]: expected an object with one key"},
      {"{\"router_settings\":{\"fallbacks\":[{\"a\":\"b\"}]}}",
       "router_settings.fallbacks[0].a: expected a list of model group names"},
      {"{\"litellm_settings\":{\"num_retries\":-1}}",
       "litellm_settings.num_retries: expected an integer >= 0"},
      /* found by fuzz_config: a huge number must be refused, not cast (UB) */
      {"{\"litellm_settings\":{\"num_retries\":1e300}}",
       "litellm_settings.num_retries: expected an integer >= 0"},
      {"{\"router_settings\":{\"retry_policy\":{\"RateLimitErrorRetries\":\"x\"}}}",
       "router_settings.retry_policy.RateLimitErrorRetries: expected a number"},
      {"{\"router_settings\":{\"routing_strategy\":\"fastest\"}}",
       "router_settings.routing_strategy: expected one of"},
      {"{\"model_list\":[{\"model_name\":\"a\",\"litellm_params\":{\"model\":\"openai/x\"},"
       "\"model_info\":{\"id\":\"d\"}},{\"model_name\":\"b\",\"litellm_params\":{\"model\":"
       "\"openai/y\"},\"model_info\":{\"id\":\"d\"}}]}",
       "model_list[1].model_info.id: duplicate deployment id"},
  };
  sy_buf err;
  sy_buf_init(&err);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sy_config *cfg = parse(cases[i].json, &err);
    T_CHECK(cfg == NULL);
    T_CONTAINS(sy_buf_cstr(&err), cases[i].want);
    T_CHECK(strstr(sy_buf_cstr(&err), "sk-zzz") == NULL);
    sy_config_free(cfg);
  }
  sy_buf_free(&err);
}

static void test_failing_allocations(void) {
  for (int persistent = 0; persistent < 2; persistent++) {
    int ok = 0;
    for (uint64_t n = 1; n < 5000 && !ok; n++) {
      sy_buf err;
      sy_buf_init(&err);
      size_t base = sy_heap_bytes();
      sy_alloc_fail_at(n, persistent);
      sy_config *cfg = NULL;
      int rc = sy_config_parse(FULL, strlen(FULL), &cfg, &err, NULL, NULL);
      sy_alloc_fail_at(0, 0);
      T_CHECK(rc == 0 || rc == SY_ERR_NOMEM || rc == SY_ERR_PARSE || rc == SY_ERR_CONFIG);
      ok = rc == 0;
      sy_config_free(cfg);
      sy_buf_free(&err);
      T_EQ_INT(sy_heap_bytes(), base);
    }
    T_CHECK(ok || persistent);
  }
}

void suite_config(void) {
  test_full_config();
  test_defaults();
  test_errors();
  test_failing_allocations();
}
