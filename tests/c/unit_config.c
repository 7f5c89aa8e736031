/* unit_config.c: the config parser. A realistic LiteLLM proxy config read
 * field by field, defaults, LiteLLM's semantics (and the quirks not
 * copied), every rejection with its exact text, warnings, ids, group
 * lookup, secrets kept out of messages, and failing allocations.
 *
 * JSON inputs are written with single quotes for legibility; q() turns
 * them into double quotes (no input here needs an apostrophe). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "config.h"
#include "t.h"

/* |d|'s extra params as compact JSON text, "" when none; valid until the next call. */
static const char *extra_text(const sy_deployment *d) {
  static char text[512];
  text[0] = '\0';
  if (d->extra_params) cJSON_PrintPreallocated(d->extra_params, text, sizeof text, 0);
  return text;
}

/* ---- helpers ---- */

static char warned[16384]; /* "path: msg\n" per warning */
static int nwarned;
static int last_rc;

static void collect(void *user, const char *path, const char *msg) {
  (void)user;
  size_t n = strlen(warned);
  snprintf(warned + n, sizeof warned - n, "%s: %s\n", path, msg);
  nwarned++;
}

/* |s| with ' turned into ", in one of a few rotating buffers. */
static const char *q(const char *s) {
  static char bufs[4][16384];
  static int next;
  char *b = bufs[next++ % 4];
  size_t i = 0;
  for (; s[i] && i < sizeof bufs[0] - 1; i++)
    b[i] = s[i] == '\'' ? '"' : s[i];
  b[i] = '\0';
  return b;
}

static sy_config *parse_raw(const char *json, size_t len, sy_buf *err) {
  sy_config *cfg = (sy_config *)1; /* must be overwritten */
  warned[0] = '\0';
  nwarned = 0;
  last_rc = sy_config_parse(json, len, &cfg, err, collect, NULL);
  return cfg;
}

static sy_config *parse(const char *squoted, sy_buf *err) {
  const char *json = q(squoted);
  return parse_raw(json, strlen(json), err);
}

/* The config is rejected with exactly |want| (one line) and no config. */
static void expect_error(const char *squoted, int rc, const char *want) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse(squoted, &err);
  const char *got = sy_buf_cstr(&err);
  T_CHECK(cfg == NULL);
  T_EQ_INT(last_rc, rc);
  T_EQ_STR(got, want);
  T_CHECK(strchr(got, '\n') == NULL);
  if (strcmp(got, want) != 0) fprintf(stderr, "  input: %s\n", q(squoted));
  sy_config_free(cfg);
  sy_buf_free(&err);
}

#define DEP(model) "{'model_name':'g','litellm_params':{'model':'" model "'}}"

/* ---- a realistic LiteLLM proxy config ---- */

static const char *FULL =
    "{'model_list':["
    /* 0: Azure, EU, numeric strings, provider params, explicit id */
    " {'model_name':'gpt-4o','litellm_params':{'model':'azure/gpt4o-eu',"
    "  'api_base':'https://eu.example.openai.azure.com','api_key':'sk-azure-eu-SECRET-1',"
    "  'api_version':'2024-10-21','rpm':'600','tpm':'90000','weight':2,'temperature':0.2,"
    "  'max_tokens':512,'timeout':30,'stream_timeout':'5','cooldown_time':0,'max_retries':0,"
    "  'region_name':'eu','base_model':'azure/gpt-4o'},"
    "  'model_info':{'id':'gpt4o-eu','max_input_tokens':128000,'mode':'chat'}},"
    /* 1: Azure, US, explicit numeric id, per-deployment retry policy */
    " {'model_name':'gpt-4o','litellm_params':{'model':'azure/gpt4o-us',"
    "  'api_base':'https://us.example.openai.azure.com','api_key':'sk-azure-us-SECRET-2',"
    "  'api_version':'2024-10-21','rpm':300,'num_retries':'4','order':'2',"
    "  'retry_policy':{'RateLimitErrorRetries':1,'timeout':0}},"
    "  'model_info':{'id':42}},"
    /* 2: OpenAI, hashed id, top-level tpm, tags, costs */
    " {'model_name':'gpt-4o','litellm_params':{'model':'openai/gpt-4o','api_key':"
    "  'sk-openai-SECRET-3','order':1,'tags':['paid','fast'],'input_cost_per_token':0.0000025,"
    "  'output_cost_per_token':0.00001,'request_timeout':20},'tpm':100000},"
    /* 3, 4: Anthropic, two deployments */
    " {'model_name':'claude','litellm_params':{'model':'anthropic/claude-sonnet-4-5',"
    "  'api_key':'sk-ant-SECRET-4','max_tokens':1024},'model_info':{'id':'claude-a'}},"
    " {'model_name':'claude','litellm_params':{'model':'claude-3-5-haiku-20241022',"
    "  'api_key':'sk-ant-SECRET-5'},'model_info':{'id':'claude-b'}},"
    /* 5: a bare OpenAI name */
    " {'model_name':'gpt-4o-mini','litellm_params':{'model':'gpt-4o-mini','rpm':1000},"
    "  'model_info':{'id':'mini','input_cost_per_token':0.00000015}},"
    /* 6: an OpenAI-compatible server with an org/model name */
    " {'model_name':'llama','litellm_params':{'model':'meta-llama/Llama-3.1-8B-Instruct',"
    "  'custom_llm_provider':'openai','api_base':'http://10.0.0.5:8000/v1','api_key':'none'},"
    "  'model_info':{'id':'llama'}}"
    "],"
    "'router_settings':{'routing_strategy':'simple-shuffle','num_retries':3,"
    " 'fallbacks':[{'gpt-4o':['claude','gpt-4o-mini']},{'claude':['gpt-4o']}],"
    " 'context_window_fallbacks':[{'gpt-4o-mini':['gpt-4o']},{'gpt-4o':['claude']}],"
    " 'retry_policy':{'RateLimitErrorRetries':5,'BadRequestErrorRetries':0,"
    "  'InternalServerErrorRetries':2,'AuthenticationErrorRetries':0,'TimeoutErrorRetries':1,"
    "  'ContentPolicyViolationErrorRetries':0,'server':4},"
    " 'allowed_fails_policy':{'InternalServerErrorAllowedFails':7,"
    "  'RateLimitErrorAllowedFails':'2','ContentPolicyViolationErrorAllowedFails':100},"
    " 'cooldown_time':10,'timeout':60,'allowed_fails':1,'retry_after':0.5,"
    " 'redis_host':'redis.internal','redis_port':6379,'redis_password':'SECRET-redis',"
    " 'enable_pre_call_checks':true,'routing_strategy_args':{'ttl':60},"
    " 'model_group_alias':{'gpt4':'gpt-4o'},'attempt_timeout':15,'backoff_initial':0.25,"
    " 'backoff_max':4,'retry_after_max':30},"
    "'litellm_settings':{'num_retries':9,'request_timeout':600,'drop_params':true,"
    " 'set_verbose':false,'success_callback':['langfuse'],'cache':true,"
    " 'cache_params':{'type':'redis'},'default_fallbacks':['gpt-4o-mini'],"
    " 'content_policy_fallbacks':[{'gpt-4o':['claude']}],'max_fallbacks':'3',"
    " 'stream_timeout':8,'disable_cooldowns':'false'},"
    "'general_settings':{'master_key':'sk-master-SECRET-6','database_url':'postgres://x'},"
    "'environment_variables':{'LANGFUSE_HOST':'https://lf'},"
    "'provider_env':{'OPENAI_API_KEY':'sk-env-SECRET-7','AZURE_API_VERSION':'2024-06-01',"
    " 'ANTHROPIC_API_BASE':'https://proxy.example/anthropic'}}";

static void test_full_config(void) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse(FULL, &err);
  T_EQ_INT(last_rc, SY_OK);
  T_CHECK(cfg != NULL);
  if (!cfg) {
    fprintf(stderr, "  %s\n", sy_buf_cstr(&err));
    sy_buf_free(&err);
    return;
  }
  T_EQ_STR(warned, ""); /* everything here is LiteLLM's or Switchyard's */
  T_EQ_INT(cfg->ndeps, 7);

  const sy_deployment *eu = &cfg->deps[0], *us = &cfg->deps[1], *oa = &cfg->deps[2];
  T_EQ_STR(eu->id, "gpt4o-eu");
  T_EQ_STR(eu->group, "gpt-4o");
  T_EQ_STR(eu->model, "azure/gpt4o-eu");
  T_EQ_INT(eu->provider, SY_PROVIDER_AZURE);
  T_EQ_STR(eu->upstream_model, "gpt4o-eu");
  T_EQ_STR(eu->api_base, "https://eu.example.openai.azure.com");
  T_EQ_STR(eu->api_key, "sk-azure-eu-SECRET-1");
  T_EQ_STR(eu->api_version, "2024-10-21");
  T_EQ_DBL(eu->rpm, 600); /* numeric strings */
  T_EQ_DBL(eu->tpm, 90000);
  T_EQ_DBL(eu->weight, 2);
  T_EQ_DBL(eu->timeout_ms, 30000);
  T_EQ_DBL(eu->stream_timeout_ms, 5000);
  T_EQ_DBL(eu->cooldown_ms, 0); /* 0 disables cooling this deployment */
  T_EQ_INT(eu->num_retries, SY_UNSET);
  T_EQ_INT(eu->order, SY_UNSET);
  T_EQ_DBL(eu->max_input_tokens, 128000);
  /* provider params only: max_retries, region_name, base_model are LiteLLM's */
  T_EQ_STR(extra_text(eu), "{\"temperature\":0.2,\"max_tokens\":512}");
  T_EQ_INT(eu->index, 0);
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    T_EQ_INT(eu->retry_policy[c], SY_UNSET);

  T_EQ_STR(us->id, "42"); /* a numeric id */
  T_EQ_INT(us->num_retries, 4);
  T_EQ_INT(us->order, 2);
  T_EQ_DBL(us->rpm, 300);
  T_EQ_INT(us->retry_policy[SY_CLASS_RATE_LIMIT], 1);
  T_EQ_INT(us->retry_policy[SY_CLASS_QUOTA], 1);
  T_EQ_INT(us->retry_policy[SY_CLASS_TIMEOUT], 0);
  T_EQ_INT(us->retry_policy[SY_CLASS_SERVER], SY_UNSET);
  T_CHECK(us->extra_params == NULL);
  T_EQ_DBL(us->timeout_ms, SY_UNSET);
  T_EQ_DBL(us->cooldown_ms, SY_UNSET);

  T_EQ_INT(strlen(oa->id), 16); /* hashed */
  T_EQ_INT(oa->provider, SY_PROVIDER_OPENAI);
  T_EQ_STR(oa->upstream_model, "gpt-4o");
  T_CHECK(oa->api_base == NULL && oa->api_version == NULL);
  T_EQ_INT(oa->order, 1);
  T_EQ_DBL(oa->tpm, 100000); /* top-level tpm copied in */
  T_EQ_INT(oa->ntags, 2);
  if (oa->ntags == 2) {
    T_EQ_STR(oa->tags[0], "paid");
    T_EQ_STR(oa->tags[1], "fast");
  }
  T_EQ_DBL(oa->input_cost_per_token, 0.0000025);
  T_EQ_DBL(oa->output_cost_per_token, 0.00001);
  T_EQ_DBL(oa->timeout_ms, 20000); /* request_timeout, LiteLLM's alias */

  T_EQ_INT(cfg->deps[3].provider, SY_PROVIDER_ANTHROPIC);
  T_EQ_STR(cfg->deps[3].upstream_model, "claude-sonnet-4-5");
  T_EQ_STR(extra_text(&cfg->deps[3]), "{\"max_tokens\":1024}");
  T_EQ_INT(cfg->deps[4].provider, SY_PROVIDER_ANTHROPIC); /* bare claude-... */
  T_EQ_STR(cfg->deps[4].upstream_model, "claude-3-5-haiku-20241022");
  T_EQ_INT(cfg->deps[5].provider, SY_PROVIDER_OPENAI); /* bare name */
  T_EQ_STR(cfg->deps[5].upstream_model, "gpt-4o-mini");
  T_EQ_DBL(cfg->deps[5].input_cost_per_token, 0.00000015); /* from model_info */
  T_EQ_INT(cfg->deps[6].provider, SY_PROVIDER_OPENAI);     /* custom_llm_provider */
  T_EQ_STR(cfg->deps[6].upstream_model, "meta-llama/Llama-3.1-8B-Instruct");
  T_CHECK(cfg->deps[6].extra_params == NULL);

  /* groups in order of first appearance, deployments in model_list order */
  static const char *const names[] = {"gpt-4o", "claude", "gpt-4o-mini", "llama"};
  static const size_t sizes[] = {3, 2, 1, 1};
  T_EQ_INT(cfg->ngroups, 4);
  for (size_t i = 0; i < 4 && i < cfg->ngroups; i++) {
    T_EQ_STR(cfg->groups[i].name, names[i]);
    T_EQ_INT(cfg->groups[i].ndeps, sizes[i]);
    T_CHECK(sy_config_group(cfg, names[i]) == &cfg->groups[i]);
  }
  const sy_group *g = sy_config_group(cfg, "gpt-4o");
  T_CHECK(g && g->deps[0] == eu && g->deps[1] == us && g->deps[2] == oa);
  T_CHECK(sy_config_group(cfg, "gpt-4") == NULL);
  T_CHECK(sy_config_group(cfg, "") == NULL);

  const sy_settings *s = &cfg->settings;
  T_EQ_INT(s->num_retries, 3);          /* router_settings wins over litellm_settings */
  T_EQ_DBL(s->timeout_ms, 60000);       /* router's timeout over litellm's request_timeout */
  T_EQ_DBL(s->stream_timeout_ms, 8000); /* only in litellm_settings */
  T_EQ_INT(s->max_fallbacks, 3);
  T_EQ_DBL(s->cooldown_ms, 10000);
  T_EQ_INT(s->allowed_fails, 1);
  T_EQ_DBL(s->retry_after_ms, 500);
  T_EQ_DBL(s->attempt_timeout_ms, 15000);
  T_EQ_DBL(s->backoff_initial_ms, 250);
  T_EQ_DBL(s->backoff_max_ms, 4000);
  T_EQ_DBL(s->retry_after_max_ms, 30000);
  T_CHECK(!s->disable_cooldowns);
  T_EQ_STR(s->routing_strategy, "simple-shuffle");
  T_EQ_INT(s->strategy, SY_STRATEGY_SHUFFLE);
  T_CHECK(s->enable_pre_call_checks);
  T_CHECK(s->tag_filtering_match_any);
  T_EQ_DBL(s->lowest_latency_buffer, 0);

  T_EQ_INT(s->retry_policy[SY_CLASS_OK], SY_UNSET);
  T_EQ_INT(s->retry_policy[SY_CLASS_RATE_LIMIT], 5);
  T_EQ_INT(s->retry_policy[SY_CLASS_QUOTA], 5);
  T_EQ_INT(s->retry_policy[SY_CLASS_BAD_REQUEST], 0);
  T_EQ_INT(s->retry_policy[SY_CLASS_CONTEXT_WINDOW], 0);
  T_EQ_INT(s->retry_policy[SY_CLASS_AUTH], 0);
  T_EQ_INT(s->retry_policy[SY_CLASS_TIMEOUT], 1);
  T_EQ_INT(s->retry_policy[SY_CLASS_CONTENT_POLICY], 0);
  T_EQ_INT(s->retry_policy[SY_CLASS_SERVER], 4); /* Switchyard's name beats LiteLLM's */
  T_EQ_INT(s->retry_policy[SY_CLASS_OVERLOADED], 2);
  T_EQ_INT(s->retry_policy[SY_CLASS_CONFLICT], 2);
  T_EQ_INT(s->retry_policy[SY_CLASS_NETWORK], 2);
  T_EQ_INT(s->retry_policy[SY_CLASS_BAD_RESPONSE], 2);
  T_EQ_INT(s->retry_policy[SY_CLASS_NOT_FOUND], SY_UNSET);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_SERVER], 7);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_OVERLOADED], 7);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_RATE_LIMIT], 2);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_CONTENT_POLICY], 100);
  T_EQ_INT(s->allowed_fails_policy[SY_CLASS_AUTH], SY_UNSET);

  size_t n;
  char **t = sy_fallbacks_for(&s->fallbacks, "gpt-4o", &n);
  T_CHECK(n == 2 && !strcmp(t[0], "claude") && !strcmp(t[1], "gpt-4o-mini"));
  t = sy_fallbacks_for(&s->fallbacks, "claude", &n);
  T_CHECK(n == 1 && !strcmp(t[0], "gpt-4o"));
  t = sy_fallbacks_for(&s->fallbacks, "llama", &n); /* default_fallbacks as "*" */
  T_CHECK(n == 1 && !strcmp(t[0], "gpt-4o-mini"));
  T_EQ_INT(s->fallbacks.nrules, 3);
  T_EQ_STR(s->fallbacks.rules[2].group, "*");
  t = sy_fallbacks_for(&s->context_window_fallbacks, "gpt-4o-mini", &n);
  T_CHECK(n == 1 && !strcmp(t[0], "gpt-4o"));
  sy_fallbacks_for(&s->context_window_fallbacks, "llama", &n); /* no "*" there */
  T_EQ_INT(n, 0);
  t = sy_fallbacks_for(&s->content_policy_fallbacks, "gpt-4o", &n);
  T_CHECK(n == 1 && !strcmp(t[0], "claude"));

  T_EQ_STR(cfg->env.openai_api_key, "sk-env-SECRET-7");
  T_EQ_STR(cfg->env.azure_api_version, "2024-06-01");
  T_EQ_STR(cfg->env.anthropic_api_base, "https://proxy.example/anthropic");
  T_CHECK(cfg->env.openai_api_base == NULL && cfg->env.azure_api_key == NULL);

  /* The same text gives the same hashed ids: a fleet agrees on them. */
  sy_config *again = parse(FULL, &err);
  T_CHECK(again && !strcmp(again->deps[2].id, oa->id));
  sy_config_free(again);
  sy_config_free(cfg);
  sy_buf_free(&err);
}

/* ---- defaults ---- */

static void check_defaults(const sy_config *cfg) {
  const sy_settings *s = &cfg->settings;
  T_EQ_INT(s->num_retries, 2);
  T_EQ_DBL(s->retry_after_ms, 0);
  T_EQ_INT(s->allowed_fails, 3);
  T_EQ_DBL(s->cooldown_ms, 5000);
  T_CHECK(!s->disable_cooldowns);
  T_EQ_DBL(s->timeout_ms, 600000);
  T_EQ_DBL(s->attempt_timeout_ms, 0);
  T_EQ_DBL(s->stream_timeout_ms, 0);
  T_EQ_INT(s->max_fallbacks, 5);
  T_EQ_DBL(s->backoff_initial_ms, 500);
  T_EQ_DBL(s->backoff_max_ms, 8000);
  T_EQ_DBL(s->retry_after_max_ms, 60000);
  T_EQ_STR(s->routing_strategy, "simple-shuffle");
  for (int c = 0; c < SY_CLASS_COUNT; c++) {
    T_EQ_INT(s->retry_policy[c], SY_UNSET);
    T_EQ_INT(s->allowed_fails_policy[c], SY_UNSET);
  }
  T_EQ_INT(s->fallbacks.nrules + s->context_window_fallbacks.nrules +
               s->content_policy_fallbacks.nrules,
           0);
  size_t n = 7;
  T_CHECK(sy_fallbacks_for(&s->fallbacks, "g", &n) == NULL && n == 0);
  T_CHECK(cfg->env.openai_api_key == NULL);
}

static void test_defaults(void) {
  static const char *const empties[] = {
      "{}",
      "{'model_list':[]}",
      "{'model_list':null,'router_settings':null,'litellm_settings':{},'general_settings':null}",
      "{'router_settings':{'fallbacks':null,'num_retries':null,'timeout':null}}",
  };
  sy_buf err;
  sy_buf_init(&err);
  for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
    sy_config *cfg = parse(empties[i], &err);
    T_CHECK(cfg != NULL);
    if (!cfg) continue;
    T_EQ_INT(cfg->ndeps + cfg->ngroups, 0);
    T_CHECK(sy_config_group(cfg, "gpt-4o") == NULL);
    check_defaults(cfg);
    T_EQ_INT(nwarned, 0);
    sy_config_free(cfg);
  }
  /* A deployment with nothing optional set. */
  sy_config *cfg = parse("{'model_list':[" DEP("openai/m") "]}", &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_deployment *d = &cfg->deps[0];
    T_CHECK(d->api_base == NULL && d->api_key == NULL && d->api_version == NULL &&
            d->extra_params == NULL && d->tags == NULL && d->ntags == 0);
    T_EQ_DBL(d->rpm + d->tpm + d->weight + d->max_input_tokens, 0);
    T_EQ_DBL(d->input_cost_per_token + d->output_cost_per_token, 0);
    T_EQ_INT(d->order, SY_UNSET);
    T_EQ_INT(d->num_retries, SY_UNSET);
    T_EQ_DBL(d->timeout_ms, SY_UNSET);
    T_EQ_DBL(d->stream_timeout_ms, SY_UNSET);
    T_EQ_DBL(d->cooldown_ms, SY_UNSET);
    check_defaults(cfg);
  }
  sy_config_free(cfg);
  /* sy_deployment_init leaves nothing configured; clear frees what is set. */
  sy_deployment d;
  sy_deployment_init(&d);
  T_EQ_INT(d.order, SY_UNSET);
  T_EQ_INT(d.retry_policy[SY_CLASS_SERVER], SY_UNSET);
  d.id = sy_strdup("x");
  sy_deployment_clear(&d);
  sy_buf_free(&err);
}

/* ---- LiteLLM's semantics, and the quirks not copied ---- */

static void test_semantics(void) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg;

  /* cooldown_time 0 and allowed_fails 0 at router level mean 0 (LiteLLM: 5 s
   * and "unset"); disable_cooldowns as a string */
  cfg = parse(
      "{'router_settings':{'cooldown_time':0,'allowed_fails':0,'disable_cooldowns':'true'}}", &err);
  T_CHECK(cfg && cfg->settings.cooldown_ms == 0 && cfg->settings.allowed_fails == 0 &&
          cfg->settings.disable_cooldowns);
  sy_config_free(cfg);

  /* request_timeout alone sets the deadline; timeout beats it in a section
   * whatever the order; router_settings beats litellm_settings. */
  cfg = parse("{'litellm_settings':{'request_timeout':100}}", &err);
  T_CHECK(cfg && cfg->settings.timeout_ms == 100000);
  sy_config_free(cfg);
  cfg = parse("{'router_settings':{'timeout':30,'request_timeout':100}}", &err);
  T_CHECK(cfg && cfg->settings.timeout_ms == 30000);
  sy_config_free(cfg);
  cfg = parse("{'router_settings':{'request_timeout':100,'timeout':30}}", &err);
  T_CHECK(cfg && cfg->settings.timeout_ms == 30000);
  sy_config_free(cfg);
  cfg = parse("{'router_settings':{'request_timeout':7},'litellm_settings':{'timeout':100}}", &err);
  T_CHECK(cfg && cfg->settings.timeout_ms == 7000);
  sy_config_free(cfg);
  /* ... and a deployment's timeout beats its request_timeout */
  cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/m',"
              "'timeout':3,'request_timeout':9}}]}",
              &err);
  T_CHECK(cfg && cfg->deps[0].timeout_ms == 3000);
  sy_config_free(cfg);

  /* Policies and fallback lists are replaced whole by the winning section. */
  cfg =
      parse("{'litellm_settings':{'retry_policy':{'timeout':1,'auth':1},'fallbacks':[{'a':['b']}],"
            "'default_fallbacks':['x']},'router_settings':{'retry_policy':{'timeout':2},"
            "'fallbacks':[{'c':['d']}],'default_fallbacks':['y','z']}}",
            &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_settings *s = &cfg->settings;
    T_EQ_INT(s->retry_policy[SY_CLASS_TIMEOUT], 2);
    T_EQ_INT(s->retry_policy[SY_CLASS_AUTH], SY_UNSET);
    T_EQ_INT(s->fallbacks.nrules, 2);
    size_t n;
    char **t = sy_fallbacks_for(&s->fallbacks, "a", &n); /* only the "*" rule */
    T_CHECK(n == 2 && !strcmp(t[0], "y") && !strcmp(t[1], "z"));
    t = sy_fallbacks_for(&s->fallbacks, "c", &n);
    T_CHECK(n == 1 && !strcmp(t[0], "d"));
  }
  sy_config_free(cfg);

  /* default_fallbacks only: a "*" rule; an explicit "*" rule before it loses */
  cfg = parse("{'router_settings':{'fallbacks':[{'*':['p']}],'default_fallbacks':['q']}}", &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    size_t n;
    char **t = sy_fallbacks_for(&cfg->settings.fallbacks, "anything", &n);
    T_CHECK(n == 1 && !strcmp(t[0], "q"));
    t = sy_fallbacks_for(&cfg->settings.fallbacks, "*", &n);
    T_CHECK(n == 1 && !strcmp(t[0], "p")); /* a rule is found by its own name first */
  }
  sy_config_free(cfg);

  /* The class sets of LiteLLM's names, and Switchyard's names winning
   * whatever the order. */
  static const struct {
    const char *key;
    unsigned classes;
  } names[] = {
      {"BadRequestError", 1u << SY_CLASS_BAD_REQUEST | 1u << SY_CLASS_CONTEXT_WINDOW},
      {"AuthenticationError", 1u << SY_CLASS_AUTH},
      {"TimeoutError", 1u << SY_CLASS_TIMEOUT},
      {"RateLimitError", 1u << SY_CLASS_RATE_LIMIT | 1u << SY_CLASS_QUOTA},
      {"ContentPolicyViolationError", 1u << SY_CLASS_CONTENT_POLICY},
      {"InternalServerError", 1u << SY_CLASS_SERVER | 1u << SY_CLASS_OVERLOADED |
                                  1u << SY_CLASS_CONFLICT | 1u << SY_CLASS_NETWORK |
                                  1u << SY_CLASS_BAD_RESPONSE},
  };
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    for (int fails = 0; fails < 2; fails++) {
      char json[256];
      snprintf(json, sizeof json, "{'router_settings':{'%s':{'%s%s':6}}}",
               fails ? "allowed_fails_policy" : "retry_policy", names[i].key,
               fails ? "AllowedFails" : "Retries");
      cfg = parse(json, &err);
      T_CHECK(cfg != NULL);
      if (!cfg) continue;
      const int *pol = fails ? cfg->settings.allowed_fails_policy : cfg->settings.retry_policy;
      for (int c = 0; c < SY_CLASS_COUNT; c++)
        T_EQ_INT(pol[c], names[i].classes >> c & 1 ? 6 : SY_UNSET);
      T_EQ_INT(nwarned, 0);
      sy_config_free(cfg);
    }
  cfg = parse("{'router_settings':{'retry_policy':{'quota_exhausted':0,'RateLimitErrorRetries':3,"
              "'context_window':4,'BadRequestErrorRetries':1},'allowed_fails_policy':{"
              "'NotFoundErrorAllowedFails':0,'ServiceUnavailableErrorAllowedFails':9,"
              "'InternalServerErrorAllowedFails':2,'BadGatewayErrorAllowedFails':9}}}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_settings *s = &cfg->settings;
    T_EQ_INT(s->retry_policy[SY_CLASS_QUOTA], 0);
    T_EQ_INT(s->retry_policy[SY_CLASS_RATE_LIMIT], 3);
    T_EQ_INT(s->retry_policy[SY_CLASS_CONTEXT_WINDOW], 4);
    T_EQ_INT(s->retry_policy[SY_CLASS_BAD_REQUEST], 1);
    T_EQ_INT(s->allowed_fails_policy[SY_CLASS_NOT_FOUND], 0);
    T_EQ_INT(s->allowed_fails_policy[SY_CLASS_SERVER], 2); /* the broad name wins */
    T_EQ_INT(nwarned, 0);
  }
  sy_config_free(cfg);
  /* every Switchyard class name */
  for (int c = SY_CLASS_OK + 1; c < SY_CLASS_COUNT; c++) {
    char json[256];
    snprintf(json, sizeof json, "{'router_settings':{'retry_policy':{'%s':'7'}}}",
             sy_class_name((sy_class)c));
    cfg = parse(json, &err);
    T_CHECK(cfg && cfg->settings.retry_policy[c] == 7);
    sy_config_free(cfg);
  }

  /* Provider inference */
  static const struct {
    const char *model, *custom;
    sy_provider_kind kind;
    const char *upstream;
  } models[] = {
      {"openai/gpt-4o", NULL, SY_PROVIDER_OPENAI, "gpt-4o"},
      {"openai/ft:gpt-4o:org::x1", NULL, SY_PROVIDER_OPENAI, "ft:gpt-4o:org::x1"},
      {"openai/meta-llama/Llama-3", NULL, SY_PROVIDER_OPENAI, "meta-llama/Llama-3"},
      {"azure/my-deployment", NULL, SY_PROVIDER_AZURE, "my-deployment"},
      {"anthropic/claude-opus-4", NULL, SY_PROVIDER_ANTHROPIC, "claude-opus-4"},
      {"gpt-4o", NULL, SY_PROVIDER_OPENAI, "gpt-4o"},
      {"o3-mini", NULL, SY_PROVIDER_OPENAI, "o3-mini"},
      {"claude-3-opus-20240229", NULL, SY_PROVIDER_ANTHROPIC, "claude-3-opus-20240229"},
      {"my-model", "azure", SY_PROVIDER_AZURE, "my-model"},
      {"azure/dep", "azure", SY_PROVIDER_AZURE, "dep"},
      {"org/model", "openai", SY_PROVIDER_OPENAI, "org/model"},
      {"claude-x", "openai", SY_PROVIDER_OPENAI, "claude-x"},
  };
  for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
    char json[512];
    snprintf(json, sizeof json,
             "{'model_list':[{'model_name':'g','litellm_params':{'model':'%s'%s%s%s}}]}",
             models[i].model, models[i].custom ? ",'custom_llm_provider':'" : "",
             models[i].custom ? models[i].custom : "", models[i].custom ? "'" : "");
    cfg = parse(json, &err);
    T_CHECK(cfg != NULL);
    if (!cfg) {
      fprintf(stderr, "  %s: %s\n", models[i].model, sy_buf_cstr(&err));
      continue;
    }
    T_EQ_INT(cfg->deps[0].provider, models[i].kind);
    T_EQ_STR(cfg->deps[0].upstream_model, models[i].upstream);
    T_EQ_STR(cfg->deps[0].model, models[i].model);
    sy_config_free(cfg);
  }
  sy_provider_kind kind = SY_PROVIDER_OPENAI;
  size_t off = 0;
  T_EQ_INT(sy_provider_from_model("anthropic/claude", &kind, &off), 0);
  T_CHECK(kind == SY_PROVIDER_ANTHROPIC && off == 10);
  T_EQ_INT(sy_provider_from_model("azure/", &kind, &off), SY_ERR_NOT_FOUND);
  T_EQ_INT(sy_provider_from_model("gpt-4o", &kind, &off), SY_ERR_NOT_FOUND);
  T_EQ_INT(sy_provider_from_model("bedrock/x", &kind, &off), SY_ERR_NOT_FOUND);

  /* JSON null is "not given"; empty api_base/api_key/api_version are unset;
   * null provider params are not sent. */
  cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/m',"
              "'api_base':null,'api_key':'','api_version':null,'temperature':null,'rpm':null,"
              "'seed':7},'model_info':null,'tpm':null}],'provider_env':{'OPENAI_API_KEY':null,"
              "'OPENAI_API_BASE':''}}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_deployment *d = &cfg->deps[0];
    T_CHECK(d->api_base == NULL && d->api_key == NULL && d->api_version == NULL);
    T_EQ_STR(extra_text(d), "{\"seed\":7}");
    T_EQ_DBL(d->rpm + d->tpm, 0);
    T_CHECK(cfg->env.openai_api_key == NULL && cfg->env.openai_api_base == NULL);
  }
  sy_config_free(cfg);

  /* A key written twice: the last wins, with nothing leaked or overrun
   * (tags twice overran an array once). */
  cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/a',"
              "'tags':['x'],'tags':['y','z','w'],'model':'openai/b','seed':1,'seed':2,"
              "'retry_policy':{'timeout':1},'retry_policy':{'auth':2}},'model_name':'h'}],"
              "'provider_env':{'OPENAI_API_KEY':'k1','OPENAI_API_KEY':'k2'}}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_deployment *d = &cfg->deps[0];
    T_EQ_INT(d->ntags, 3);
    T_EQ_STR(d->upstream_model, "b");
    T_EQ_STR(d->group, "h");
    T_EQ_STR(extra_text(d), "{\"seed\":2}");
    T_EQ_INT(d->retry_policy[SY_CLASS_TIMEOUT], SY_UNSET);
    T_EQ_INT(d->retry_policy[SY_CLASS_AUTH], 2);
    T_EQ_STR(cfg->env.openai_api_key, "k2");
  }
  sy_config_free(cfg);

  /* Numeric strings, blanks around them allowed */
  cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/m','rpm':' 60 ',"
              "'tpm':'1e5','weight':'2.5','order':'3','timeout':'1.5','cooldown_time':'0',"
              "'num_retries':'+1','max_input_tokens':'8192'}}],'router_settings':{"
              "'max_fallbacks':'0','allowed_fails':'10','retry_after':'.5'}}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const sy_deployment *d = &cfg->deps[0];
    T_EQ_DBL(d->rpm, 60);
    T_EQ_DBL(d->tpm, 100000);
    T_EQ_DBL(d->weight, 2.5);
    T_EQ_INT(d->order, 3);
    T_EQ_DBL(d->timeout_ms, 1500);
    T_EQ_DBL(d->cooldown_ms, 0);
    T_EQ_INT(d->num_retries, 1);
    T_EQ_DBL(d->max_input_tokens, 8192);
    T_EQ_INT(cfg->settings.max_fallbacks, 0);
    T_EQ_INT(cfg->settings.allowed_fails, 10);
    T_EQ_DBL(cfg->settings.retry_after_ms, 500);
  }
  sy_config_free(cfg);
  /* ... but not what Python would also take, nor non-finite numbers */
  static const char *const not_numbers[] = {"'nan'", "'inf'", "'-Infinity'", "'0x10'",  "'1_000'",
                                            "''",    "' '",   "'1e999'",     "'12abc'", "'1e'",
                                            "'.'",   "true",  "[1]",         "{}",      "1e999"};
  for (size_t i = 0; i < sizeof not_numbers / sizeof *not_numbers; i++) {
    char json[256];
    snprintf(json, sizeof json,
             "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/m','rpm':%s}}]}",
             not_numbers[i]);
    expect_error(json, SY_ERR_CONFIG, "model_list[0].litellm_params.rpm: expected a number");
  }
  sy_buf_free(&err);
}

/* ---- every rejection, with its exact text ---- */

/* Every strategy name, its arguments, tags settings and named chains. */
static void test_routing_settings(void) {
  static const struct {
    const char *name;
    sy_strategy want;
  } names[] = {{"simple-shuffle", SY_STRATEGY_SHUFFLE},
               {"least-busy", SY_STRATEGY_LEAST_BUSY},
               {"usage-based-routing", SY_STRATEGY_USAGE},
               {"usage-based-routing-v2", SY_STRATEGY_USAGE},
               {"latency-based-routing", SY_STRATEGY_LATENCY},
               {"cost-based-routing", SY_STRATEGY_COST},
               {"p2c-peak-ewma", SY_STRATEGY_P2C}};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    char json[160];
    snprintf(json, sizeof json, "{'router_settings':{'routing_strategy':'%s'}}", names[i].name);
    sy_config *cfg = parse(json, NULL);
    T_CHECK(cfg != NULL);
    if (!cfg) continue;
    T_EQ_INT(cfg->settings.strategy, names[i].want);
    T_EQ_STR(cfg->settings.routing_strategy, names[i].name);
    sy_config_free(cfg);
  }
  sy_config *cfg = parse(
      "{'model_list':[" DEP(
          "openai/a") "],"
                      "'router_settings':{'routing_strategy_args':{'lowest_latency_buffer':0.5,"
                      "'ttl':3600},'enable_tag_filtering':true,'tag_filtering_match_any':false,"
                      "'fallback_chains':{'fast_cheap':['g','nowhere'],'coding':['g']}}}",
      NULL);
  T_CHECK(cfg != NULL);
  if (!cfg) return;
  const sy_settings *s = &cfg->settings;
  T_EQ_INT(s->strategy, SY_STRATEGY_SHUFFLE);
  T_EQ_DBL(s->lowest_latency_buffer, 0.5);
  T_CHECK(s->enable_tag_filtering);
  T_CHECK(!s->tag_filtering_match_any);
  T_EQ_INT(s->fallback_chains.nrules, 2);
  T_EQ_STR(s->fallback_chains.rules[0].group, "fast_cheap");
  T_EQ_INT(s->fallback_chains.rules[0].ntargets, 2);
  T_EQ_STR(s->fallback_chains.rules[0].targets[1], "nowhere");
  T_EQ_STR(s->fallback_chains.rules[1].targets[0], "g");
  /* the mechanisms: on by default with their documented defaults */
  T_CHECK(s->rel.budget && s->rel.breaker && s->rel.throttle && s->rel.slow_start);
  T_EQ_DBL(s->rel.budget_percent, 20);
  T_EQ_INT(s->rel.breaker_consecutive, 5);
  T_EQ_DBL(s->rel.max_ejection_percent, 10);
  T_EQ_DBL(s->rel.hedge_delay_ms, 0);
  /* a chain's missing group is warned about, as in fallbacks */
  T_CHECK(strstr(warned, "router_settings.fallback_chains.fast_cheap[1]") != NULL);
  sy_config_free(cfg);
  cfg = parse("{'router_settings':{'retry_budget':false,'circuit_breaker':{'consecutive_failures':"
              "3,'open_time':5,'colour':1},'adaptive_throttling':{'k':1.5},'slow_start':false,"
              "'hedging':{'delay':1.5}}}",
              NULL);
  T_CHECK(cfg != NULL);
  if (!cfg) return;
  s = &cfg->settings;
  T_CHECK(!s->rel.budget && s->rel.breaker && s->rel.throttle && !s->rel.slow_start);
  T_EQ_INT(s->rel.breaker_consecutive, 3);
  T_EQ_DBL(s->rel.breaker_open_ms, 5000);
  T_EQ_DBL(s->rel.breaker_max_open_ms, 300000);
  T_EQ_DBL(s->rel.throttle_k, 1.5);
  T_EQ_DBL(s->rel.hedge_delay_ms, 1500);
  T_CHECK(strstr(warned, "router_settings.circuit_breaker.colour") != NULL);
  sy_config_free(cfg);
}

static void test_errors(void) {
  static const struct {
    const char *json, *want;
  } cases[] = {
      /* shape */
      {"[]", "config: expected an object with model_list"},
      {"'model_list'", "config: expected an object with model_list"},
      {"{'model_list':{}}", "model_list: expected a list of deployments"},
      {"{'model_list':[5]}",
       "model_list[0]: expected an object with model_name and litellm_params"},
      {"{'general_settings':[]}", "general_settings: expected an object"},
      {"{'environment_variables':'x'}", "environment_variables: expected an object"},
      {"{'router_settings':'x'}", "router_settings: expected an object"},
      {"{'litellm_settings':[]}", "litellm_settings: expected an object"},
      {"{'provider_env':[]}", "provider_env: expected an object"},
      {"{'provider_env':{'OPENAI_API_KEY':5}}", "provider_env.OPENAI_API_KEY: expected a string"},
      /* deployments */
      {"{'model_list':[{'litellm_params':{'model':'openai/x'}}]}",
       "model_list[0].model_name: expected a model group name"},
      {"{'model_list':[" DEP("openai/x") ",{'model_name':'','litellm_params':{'model':'x'}}]}",
       "model_list[1].model_name: expected a model group name"},
      {"{'model_list':[{'model_name':4,'litellm_params':{'model':'x'}}]}",
       "model_list[0].model_name: expected a model group name"},
      {"{'model_list':[{'model_name':'a'}]}",
       "model_list[0].litellm_params: expected an object with model"},
      {"{'model_list':[{'model_name':'a','litellm_params':['openai/x']}]}",
       "model_list[0].litellm_params: expected an object with model"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'api_key':'sk-zzz'}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\", e.g. openai/gpt-4o"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':null}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\", e.g. openai/gpt-4o"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'vertex_ai/gemini'}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'text-completion-openai/x'}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'openai/'}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':''}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':7}}]}",
       "model_list[0].litellm_params.model: expected \"provider/model\" with provider openai, "
       "azure or anthropic"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','custom_llm_provider':"
       "'bedrock'}}]}",
       "model_list[0].litellm_params.custom_llm_provider: expected openai, azure or anthropic"},
      {"{'model_list':[" DEP("openai/x") ",{'model_name':'b','litellm_params':{'model':'openai/x',"
                                         "'rpm':'lots'}}]}",
       "model_list[1].litellm_params.rpm: expected a number"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','rpm':-1}}]}",
       "model_list[0].litellm_params.rpm: expected a number >= 0"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','tpm':'-5'}}]}",
       "model_list[0].litellm_params.tpm: expected a number >= 0"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','weight':true}}]}",
       "model_list[0].litellm_params.weight: expected a number"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'tpm':'many'}]}",
       "model_list[0].tpm: expected a number"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','order':0}}]}",
       "model_list[0].litellm_params.order: expected an integer from 1 to 1000000"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','order':1.5}}]}",
       "model_list[0].litellm_params.order: expected an integer from 1 to 1000000"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','num_retries':101}}]}",
       "model_list[0].litellm_params.num_retries: expected an integer from 0 to 100"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','timeout':-1}}]}",
       "model_list[0].litellm_params.timeout: expected a number of seconds from 0 to 31536000"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','stream_timeout':'x'}}]}",
       "model_list[0].litellm_params.stream_timeout: expected a number of seconds from 0 to "
       "31536000"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','cooldown_time':4e7}}]}",
       "model_list[0].litellm_params.cooldown_time: expected a number of seconds from 0 to "
       "31536000"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','max_input_tokens':'a'}}]}",
       "model_list[0].litellm_params.max_input_tokens: expected a number"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','tags':'a'}}]}",
       "model_list[0].litellm_params.tags: expected a list of strings"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','tags':['a',1]}}]}",
       "model_list[0].litellm_params.tags[1]: expected a string"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','api_key':5}}]}",
       "model_list[0].litellm_params.api_key: expected a string"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','api_base':{}}}]}",
       "model_list[0].litellm_params.api_base: expected a string"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','retry_policy':[]}}]}",
       "model_list[0].litellm_params.retry_policy: expected an object of counts per error class"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x','retry_policy':{"
       "'TimeoutErrorRetries':-1}}}]}",
       "model_list[0].litellm_params.retry_policy.TimeoutErrorRetries: expected an integer from "
       "0 to 100"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'model_info':'x'}]}",
       "model_list[0].model_info: expected an object"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'model_info':{'id':true}}]"
       "}",
       "model_list[0].model_info.id: expected a string"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'model_info':{'id':''}}]}",
       "model_list[0].model_info.id: expected a non-empty string or a number"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'model_info':{"
       "'max_input_tokens':-3}}]}",
       "model_list[0].model_info.max_input_tokens: expected a number >= 0"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'openai/x'},'model_info':{"
       "'id':'d'}},{'model_name':'b','litellm_params':{'model':'openai/y'},'model_info':{'id':"
       "'d'}}]}",
       "model_list[1].model_info.id: expected a unique deployment id; model_list[0] has it too"},
      {"{'model_list':[{'model_name':'a','litellm_params':{'model':'x'},'model_info':{'id':7}},"
       "{'model_name':'a','litellm_params':{'model':'y'},'model_info':{'id':'7'}}]}",
       "model_list[1].model_info.id: expected a unique deployment id; model_list[0] has it too"},
      /* settings */
      {"{'router_settings':{'fallbacks':{'a':['b']}}}",
       "router_settings.fallbacks: expected a list of {model group: [fallback groups]}"},
      {"{'router_settings':{'fallbacks':[['a']]}}",
       "router_settings.fallbacks[0]: expected an object with one key"},
      {"{'router_settings':{'fallbacks':[{'a':['b']},{}]}}",
       "router_settings.fallbacks[1]: expected an object with one key"},
      {"{'router_settings':{'fallbacks':[{'a':['b'],'c':['d']}]}}",
       "router_settings.fallbacks[0]: expected an object with one key"},
      {"{'router_settings':{'fallbacks':[{'a':'b'}]}}",
       "router_settings.fallbacks[0].a: expected a list of model group names"},
      {"{'router_settings':{'fallbacks':[{'a':['b',3]}]}}",
       "router_settings.fallbacks[0].a[1]: expected a model group name"},
      {"{'router_settings':{'fallbacks':[{'a':['']}]}}",
       "router_settings.fallbacks[0].a[0]: expected a model group name"},
      {"{'litellm_settings':{'context_window_fallbacks':[{'a':{'b':1}}]}}",
       "litellm_settings.context_window_fallbacks[0].a: expected a list of model group names"},
      {"{'router_settings':{'content_policy_fallbacks':'a'}}",
       "router_settings.content_policy_fallbacks: expected a list of {model group: [fallback "
       "groups]}"},
      {"{'litellm_settings':{'default_fallbacks':'gpt-4o'}}",
       "litellm_settings.default_fallbacks: expected a list of model group names"},
      {"{'router_settings':{'default_fallbacks':[null]}}",
       "router_settings.default_fallbacks[0]: expected a model group name"},
      {"{'litellm_settings':{'num_retries':-1}}",
       "litellm_settings.num_retries: expected an integer from 0 to 100"},
      /* found by fuzz_config: a huge number must be refused, not cast (UB) */
      {"{'litellm_settings':{'num_retries':1e300}}",
       "litellm_settings.num_retries: expected an integer from 0 to 100"},
      {"{'router_settings':{'num_retries':2.5}}",
       "router_settings.num_retries: expected an integer from 0 to 100"},
      {"{'router_settings':{'allowed_fails':-1}}",
       "router_settings.allowed_fails: expected an integer from 0 to 1000000"},
      {"{'router_settings':{'max_fallbacks':'many'}}",
       "router_settings.max_fallbacks: expected an integer from 0 to 100"},
      {"{'router_settings':{'cooldown_time':'soon'}}",
       "router_settings.cooldown_time: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'retry_after':-0.5}}",
       "router_settings.retry_after: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'timeout':0}}",
       "router_settings.timeout: expected a number of seconds above 0"},
      {"{'litellm_settings':{'request_timeout':'0'}}",
       "litellm_settings.request_timeout: expected a number of seconds above 0"},
      {"{'router_settings':{'stream_timeout':[]}}",
       "router_settings.stream_timeout: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'attempt_timeout':-1}}",
       "router_settings.attempt_timeout: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'backoff_initial':'x'}}",
       "router_settings.backoff_initial: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'backoff_max':-2}}",
       "router_settings.backoff_max: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'retry_after_max':true}}",
       "router_settings.retry_after_max: expected a number of seconds from 0 to 31536000"},
      {"{'router_settings':{'disable_cooldowns':'yes'}}",
       "router_settings.disable_cooldowns: expected true or false"},
      {"{'router_settings':{'disable_cooldowns':1}}",
       "router_settings.disable_cooldowns: expected true or false"},
      {"{'router_settings':{'retry_policy':[]}}",
       "router_settings.retry_policy: expected an object of counts per error class"},
      {"{'router_settings':{'retry_policy':{'RateLimitErrorRetries':'x'}}}",
       "router_settings.retry_policy.RateLimitErrorRetries: expected an integer from 0 to 100"},
      {"{'router_settings':{'retry_policy':{'server':1000}}}",
       "router_settings.retry_policy.server: expected an integer from 0 to 100"},
      {"{'litellm_settings':{'allowed_fails_policy':{'rate_limit':-1}}}",
       "litellm_settings.allowed_fails_policy.rate_limit: expected an integer from 0 to 1000000"},
      {"{'router_settings':{'routing_strategy':'fastest'}}",
       "router_settings.routing_strategy: expected one of simple-shuffle, least-busy, "
       "usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing, "
       "p2c-peak-ewma"},
      {"{'router_settings':{'routing_strategy':3}}",
       "router_settings.routing_strategy: expected one of simple-shuffle, least-busy, "
       "usage-based-routing, usage-based-routing-v2, latency-based-routing, cost-based-routing, "
       "p2c-peak-ewma"},
      {"{'router_settings':{'routing_strategy_args':{'lowest_latency_buffer':-1}}}",
       "router_settings.routing_strategy_args.lowest_latency_buffer: expected a number >= 0"},
      {"{'router_settings':{'routing_strategy_args':[]}}",
       "router_settings.routing_strategy_args: expected an object"},
      {"{'router_settings':{'fallback_chains':[{'a':['b']}]}}",
       "router_settings.fallback_chains: expected an object of {chain name: [model groups]}"},
      {"{'router_settings':{'fallback_chains':{'fast':[]}}}",
       "router_settings.fallback_chains.fast: expected a non-empty list of model groups"},
      {"{'router_settings':{'fallback_chains':{'fast':['a',3]}}}",
       "router_settings.fallback_chains.fast[1]: expected a model group name"},
      {"{'router_settings':{'retry_budget':{'percent':150}}}",
       "router_settings.retry_budget.percent: expected a number from 0 to 100"},
      {"{'router_settings':{'circuit_breaker':{'failure_rate':2}}}",
       "router_settings.circuit_breaker.failure_rate: expected a number from 0 to 1"},
      {"{'router_settings':{'circuit_breaker':'on'}}",
       "router_settings.circuit_breaker: expected true, false or an object"},
      {"{'router_settings':{'hedging':[1]}}", "router_settings.hedging: expected {delay: seconds}"},
      {"{'router_settings':{'slow_start':{'window':0}}}",
       "router_settings.slow_start.window: expected a number of seconds above 0"},
      {"{'router_settings':{'enable_tag_filtering':'yes'}}",
       "router_settings.enable_tag_filtering: expected true or false"},
      /* one line, whatever the key holds; the first error wins */
      {"{'router_settings':{'fallbacks':[{'a\\nb':5}]}}",
       "router_settings.fallbacks[0].a?b: expected a list of model group names"},
      {"{'router_settings':{'num_retries':-1,'timeout':0}}",
       "router_settings.num_retries: expected an integer from 0 to 100"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    expect_error(cases[i].json, SY_ERR_CONFIG, cases[i].want);

  /* Not JSON: SY_ERR_PARSE, with the byte where it went wrong. */
  expect_error("{'a':}", SY_ERR_PARSE, "config: not valid JSON (at byte 5)");
  expect_error("{'a':1} x", SY_ERR_PARSE, "config: not valid JSON (at byte 8)");
  expect_error("", SY_ERR_PARSE, "config: not valid JSON (at byte 0)");
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse_raw("{}\n\0", 4, &err); /* trailing blanks and NULs are fine */
  T_CHECK(cfg != NULL);
  sy_config_free(cfg);
  cfg = parse_raw("{\"model_list\":[]}", 5, &err); /* only |len| bytes are read */
  T_EQ_INT(last_rc, SY_ERR_PARSE);
  sy_config_free(cfg);
  /* A long key is cut in the path. */
  char json[512], want[256];
  char key[201];
  memset(key, 'k', 200);
  key[200] = '\0';
  snprintf(json, sizeof json, "{'router_settings':{'fallbacks':[{'%s':5}]}}", key);
  snprintf(want, sizeof want,
           "router_settings.fallbacks[0].%.64s...: expected a list of model "
           "group names",
           key);
  expect_error(json, SY_ERR_CONFIG, want);
  sy_buf_free(&err);
}

/* ---- warnings ---- */

static void test_warnings(void) {
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = parse(
      "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/m','temperature':1,"
      "'extra_headers':{'X-Org':'a'},'organization':'org-1','max_retries':3,"
      "'aws_region_name':'x','litellm_credential_name':'c','mock_response':'hi'},"
      "'model_info':{'mode':'chat','supports_vision':true},'litelm_params':{}}],"
      "'router_settings':{'bogus':1,'retry_policy':{'RateLimitErrorRetries':1,'"
      "NotFoundErrorRetries':"
      "2,'ok':1,'ContextWindowExceededErrorRetries':1},'allowed_fails_policy':{"
      "'NotFoundErrorAllowedFails':1},'fallbacks':[{'g':['missing','openai/gpt-4o-mini','g']},"
      "{'ghost':['g']},{'openai/gpt-4o':['g']},{'*':['g']}],'default_fallbacks':['nowhere'],"
      "'redis_url':'redis://x','cache_kwargs':{},'alerting':{'webhook_url':'http://x'}},"
      "'litellm_settings':{'mystery':1,'drop_params':true,'json_logs':true,'callbacks':[]},"
      "'general_settings':{'master_key':'sk-1234','anything':1},"
      "'environment_variables':{'X':'y'},'provider_env':{'OPENAI_KEY':'k'},"
      "'modle_list':[],'guardrails':[],'credential_list':[]}",
      &err);
  T_CHECK(cfg != NULL);
  T_EQ_STR(warned,
           "modle_list: unknown key, ignored\n"
           "model_list[0].litelm_params: unknown key, ignored\n"
           "model_list[0].litellm_params.extra_headers: not supported by Switchyard, ignored\n"
           "model_list[0].litellm_params.organization: not supported by Switchyard, ignored\n"
           "model_list[0].litellm_params.litellm_credential_name: not supported by Switchyard, "
           "ignored\n"
           "model_list[0].litellm_params.mock_response: not supported by Switchyard, ignored\n"
           "litellm_settings.mystery: unknown key, ignored\n"
           "router_settings.bogus: unknown key, ignored\n"
           "router_settings.retry_policy.NotFoundErrorRetries: unknown key, ignored\n"
           "router_settings.retry_policy.ok: unknown key, ignored\n"
           "router_settings.retry_policy.ContextWindowExceededErrorRetries: unknown key, ignored\n"
           "router_settings.fallbacks[0].g[0]: model group 'missing' is not in model_list; skipped "
           "at request time\n"
           "router_settings.fallbacks[1].ghost: model group 'ghost' is not in model_list; this "
           "rule never applies\n"
           "router_settings.default_fallbacks[0]: model group 'nowhere' is not in model_list; "
           "skipped at request time\n"
           "provider_env.OPENAI_KEY: unknown key, ignored\n");
  if (cfg) {
    /* unknown litellm_params are provider params; LiteLLM's own are dropped */
    T_EQ_STR(extra_text(&cfg->deps[0]), "{\"temperature\":1}");
    T_EQ_INT(cfg->settings.allowed_fails_policy[SY_CLASS_NOT_FOUND], 1);
  }
  sy_config_free(cfg);

  /* What the JS binding's test expects: one warning for one unknown key. */
  cfg = parse("{'model_list':[],'router_settings':{'bogus':1}}", &err);
  T_CHECK(cfg != NULL);
  T_EQ_STR(warned, "router_settings.bogus: unknown key, ignored\n");
  sy_config_free(cfg);

  /* A rejected config may have warned before its error; NULL warn is fine. */
  sy_config *c2 = NULL;
  const char *json = q("{'zzz':1,'router_settings':{'num_retries':'x'}}");
  T_EQ_INT(sy_config_parse(json, strlen(json), &c2, &err, NULL, NULL), SY_ERR_CONFIG);
  T_CHECK(c2 == NULL);
  T_EQ_INT(sy_config_parse(json, strlen(json), &c2, NULL, NULL, NULL), SY_ERR_CONFIG);
  sy_buf_free(&err);
}

/* ---- deployment ids ---- */

static void test_ids(void) {
  sy_buf err;
  sy_buf_init(&err);
  /* The hash: group, then the canonical litellm_params text. */
  sy_config *cfg = parse("{'model_list':[{'model_name':'g','litellm_params':  { 'model' : "
                         "'openai/x' , 'rpm':  60 }}]}",
                         &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    const char *canon = "{\"model\":\"openai/x\",\"rpm\":60}";
    uint64_t h = sy_hash64("g", 1, 0);
    h = sy_hash64(canon, strlen(canon), h);
    char want[17];
    snprintf(want, sizeof want, "%016llx", (unsigned long long)h);
    T_EQ_STR(cfg->deps[0].id, want);
  }
  sy_config_free(cfg);

  /* Ids depend on the entry, not on its place; a different key is a
   * different deployment. */
  const char *a = "{'model_name':'g','litellm_params':{'model':'openai/x','api_key':'k1'}}";
  const char *b = "{'model_name':'g','litellm_params':{'model':'openai/x','api_key':'k2'}}";
  const char *c = "{'model_name':'h','litellm_params':{'model':'openai/x','api_key':'k1'}}";
  char json[1024];
  snprintf(json, sizeof json, "{'model_list':[%s,%s,%s]}", a, b, c);
  sy_config *one = parse(json, &err);
  snprintf(json, sizeof json, "{'model_list':[%s,%s,%s]}", c, b, a);
  sy_config *two = parse(json, &err);
  T_CHECK(one && two);
  if (one && two) {
    T_EQ_STR(one->deps[0].id, two->deps[2].id);
    T_EQ_STR(one->deps[1].id, two->deps[1].id);
    T_EQ_STR(one->deps[2].id, two->deps[0].id);
    T_CHECK(strcmp(one->deps[0].id, one->deps[1].id) != 0);
    T_CHECK(strcmp(one->deps[0].id, one->deps[2].id) != 0);
    for (size_t i = 0; i < 3; i++) {
      T_EQ_INT(strlen(one->deps[i].id), 16);
      T_EQ_INT(strspn(one->deps[i].id, "0123456789abcdef"), 16);
      T_CHECK(strstr(one->deps[i].id, "k1") == NULL);
    }
  }
  sy_config_free(one);
  sy_config_free(two);

  /* Explicit ids: strings, integers, other numbers. */
  cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'x'},'model_info':{"
              "'id':'eu-1'}},{'model_name':'g','litellm_params':{'model':'x'},'model_info':{'id':"
              "12345678901}},{'model_name':'g','litellm_params':{'model':'x'},'model_info':{'id':"
              "-2.5}}]}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    T_EQ_STR(cfg->deps[0].id, "eu-1");
    T_EQ_STR(cfg->deps[1].id, "12345678901");
    T_EQ_STR(cfg->deps[2].id, "-2.5");
  }
  sy_config_free(cfg);

  /* Identical entries (LiteLLM accepts them): suffixed, with a warning. */
  cfg = parse("{'model_list':[" DEP("openai/x") "," DEP("openai/y") "," DEP("openai/x") "," DEP(
                  "openai/x") "]}",
              &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    char want[64];
    snprintf(want, sizeof want, "%s-2", cfg->deps[0].id);
    T_EQ_STR(cfg->deps[2].id, want);
    snprintf(want, sizeof want, "%s-3", cfg->deps[0].id);
    T_EQ_STR(cfg->deps[3].id, want);
    T_EQ_INT(nwarned, 2);
    T_CONTAINS(warned, "model_list[2]: same model_name and litellm_params as model_list[0]; id ");
    T_EQ_INT(cfg->groups[0].ndeps, 4);
  }
  sy_config_free(cfg);
  sy_buf_free(&err);
}

/* ---- group lookup at scale, and by hand ---- */

static void test_groups(void) {
  /* 1000 deployments in 300 groups, interleaved. */
  sy_buf json, err;
  sy_buf_init(&json);
  sy_buf_init(&err);
  sy_buf_puts(&json, "{\"model_list\":[");
  for (int i = 0; i < 1000; i++)
    sy_buf_printf(&json,
                  "%s{\"model_name\":\"group-%d\",\"litellm_params\":{\"model\":\"openai/m%d\"}}",
                  i ? "," : "", i % 300, i);
  sy_buf_puts(&json, "]}");
  sy_config *cfg = parse_raw(json.data, json.len, &err);
  T_CHECK(cfg != NULL);
  if (cfg) {
    T_EQ_INT(cfg->ndeps, 1000);
    T_EQ_INT(cfg->ngroups, 300);
    int bad = 0;
    for (int g = 0; g < 300; g++) {
      char name[32];
      snprintf(name, sizeof name, "group-%d", g);
      const sy_group *grp = sy_config_group(cfg, name);
      if (!grp || grp != &cfg->groups[g] || strcmp(grp->name, name) != 0)
        bad++;
      else if (grp->ndeps != (size_t)(g < 100 ? 4 : 3) || grp->deps[0] != &cfg->deps[g])
        bad++;
      else
        for (size_t k = 1; k < grp->ndeps; k++)
          if (grp->deps[k] != &cfg->deps[g + 300 * (int)k]) bad++;
    }
    T_EQ_INT(bad, 0);
    T_CHECK(sy_config_group(cfg, "group-300") == NULL);
    T_CHECK(sy_config_group(cfg, "group-") == NULL);
  }
  sy_config_free(cfg);

  /* A config built by hand, without the index: lookup scans. */
  sy_config hand;
  memset(&hand, 0, sizeof hand);
  sy_group groups[2] = {{.name = "a"}, {.name = "b"}};
  hand.groups = groups;
  hand.ngroups = 2;
  T_CHECK(sy_config_group(&hand, "b") == &groups[1]);
  T_CHECK(sy_config_group(&hand, "c") == NULL);
  T_CHECK(sy_config_group(NULL, "a") == NULL);
  sy_buf_free(&json);
  sy_buf_free(&err);
}

/* ---- secrets never reach a message ---- */

static void test_secrets(void) {
  static const char *const cases[] = {
      /* a wrong type next to keys */
      "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x','api_key':"
      "'sk-live-SECRET123','rpm':'x'}}]}",
      /* keys pasted where group names go: warnings */
      "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x','api_key':"
      "'sk-live-SECRET123'}}],'router_settings':{'fallbacks':[{'g':['sk-live-SECRET123']}]}}",
      /* ... and where keys go: paths */
      "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x','api_key':"
      "'sk-live-SECRET123'}}],'router_settings':{'fallbacks':[{'sk-live-SECRET123':3}]}}",
      "{'provider_env':{'ANTHROPIC_API_KEY':'sk-live-SECRET123'},'router_settings':{"
      "'sk-live-SECRET123':1}}",
      "{'general_settings':{'master_key':'sk-live-SECRET123'},'litellm_settings':{"
      "'default_fallbacks':['sk-live-SECRET123']}}",
      "{'router_settings':{'redis_password':'sk-live-SECRET123','fallbacks':[{"
      "'xsk-live-SECRET123x':['sk-live-SECRET123']}]}}",
      "{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x','vertex_credentials':"
      "{'private_key':'sk-live-SECRET123'}},'sk-live-SECRET123':1}]}",
      /* an api key as the model name */
      "{'model_list':[{'model_name':'g','litellm_params':{'api_key':'sk-live-SECRET123',"
      "'model':'sk-live-SECRET123/x'}}]}",
  };
  sy_buf err;
  sy_buf_init(&err);
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    sy_config *cfg = parse(cases[i], &err);
    T_CHECK(nwarned > 0 || err.len > 0);
    T_CHECK(strstr(warned, "SECRET123") == NULL);
    T_CHECK(strstr(sy_buf_cstr(&err), "SECRET123") == NULL);
    if (strstr(warned, "SECRET123") || strstr(sy_buf_cstr(&err), "SECRET123"))
      fprintf(stderr, "  case %zu: %s%s\n", i, warned, sy_buf_cstr(&err));
    sy_config_free(cfg);
  }
  /* and the full config's keys never show in its (absent) messages */
  sy_config *cfg = parse("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x',"
                         "'api_key':'sk-live-SECRET123'}}],'router_settings':{'fallbacks':[{'g':["
                         "'sk-live-SECRET123']}]}}",
                         &err);
  T_CONTAINS(warned, "model group '[redacted]' is not in model_list");
  sy_config_free(cfg);
  sy_buf_free(&err);
}

/* ---- failing allocations ---- */

/* Fails allocation n = 1, 2, ... (once, or from n on) until the parse
 * succeeds: every failure is SY_ERR_NOMEM (or the config's own verdict),
 * nothing leaks, and an error's text is exactly the one without failures. */
static void alloc_loop(const char *json, int want_rc, const char *want_err, int persistent) {
  int done = 0, wrong = 0, leaks = 0;
  uint64_t n;
  for (n = 1; n < 100000 && !done; n++) {
    sy_buf err;
    sy_buf_init(&err);
    size_t base = sy_heap_bytes();
    sy_config *cfg = NULL;
    warned[0] = '\0';
    sy_alloc_fail_at(n, persistent);
    int rc = sy_config_parse(json, strlen(json), &cfg, &err, collect, NULL);
    sy_alloc_fail_at(0, 0);
    if (rc == SY_ERR_NOMEM) {
      if (cfg) wrong++;
    } else if (rc != want_rc || (rc == SY_OK) != (cfg != NULL) ||
               (want_err && strcmp(sy_buf_cstr(&err), want_err) != 0)) {
      wrong++;
    } else {
      done = 1;
    }
    sy_config_free(cfg);
    sy_buf_free(&err);
    if (sy_heap_bytes() != base) leaks++;
  }
  T_CHECK(done);
  T_EQ_INT(wrong, 0);
  T_EQ_INT(leaks, 0);
  /* the loop failed allocations in cJSON and here (bad bytes are bad
   * bytes even when memory runs out: SY_ERR_PARSE at once) */
  T_CHECK(n > 2 || want_rc == SY_ERR_PARSE);
}

static void test_failing_allocations(void) {
  for (int persistent = 0; persistent < 2; persistent++) {
    alloc_loop(q(FULL), SY_OK, NULL, persistent);
    alloc_loop(q("{'model_list':[" DEP("openai/x") "," DEP(
                   "openai/x") "],'zz':1,'router_settings':"
                               "{'fallbacks':[{'g':['nope']}],'default_fallbacks':['g']}}"),
               SY_OK, NULL, persistent);
    alloc_loop(q("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x','seed':1,"
                 "'tags':['a']}},{'model_name':'h','litellm_params':{'model':'x','rpm':'?'}}]}"),
               SY_ERR_CONFIG, "model_list[1].litellm_params.rpm: expected a number", persistent);
    alloc_loop(q("{'model_list':[{'model_name':'g','litellm_params':{'model':'openai/x'}}],"
                 "'router_settings':{'a':[1,2,{'b':'c'}],}}"),
               SY_ERR_PARSE, NULL, persistent);
  }
}

/* What cJSON accepts beyond RFC 8259 is still a config, and a failed
 * allocation inside cJSON on it is SY_ERR_NOMEM, not "not valid JSON". */
static void test_json_check(void) {
  static const char *const lenient[] = {
      "{\"general_settings\":{\"a\":01,\"b\":1.,\"c\":-.5,\"d\":1e999}}",
      "{\"general_settings\":{\"a\":\"\\uZZZZ\",\"b\":\"\\ud83d\\ude00\",\"c\":\"\x01\t\"}}",
      "\xEF\xBB\xBF\x01{\"general_settings\"\x02:\x1f{}}\x03 ",
      "{\"general_settings\":{\"x\":[true,false,null,[],{},\"\",0,-0,2E+2,3e-1]}}",
  };
  for (size_t i = 0; i < sizeof lenient / sizeof *lenient; i++)
    alloc_loop(lenient[i], SY_OK, NULL, 0);
  static const char *const bad[] = {
      "{\"a\":1,}",          "{\"a\" 1}",           "[1 2]",       "{\"a\":\"\\x\"}",
      "{\"a\":\"\\udc00\"}", "{\"a\":\"\\ud800\"}", "{\"a\":-}",   "{\"a\":.5}",
      "{\"a\":tru}",         "{\"a\":1}}",          "{\"a\":\"x}", "{\"a\":1.2.3}",
      "{\"a\":1e}",          "\xEF\xBB\xBF",
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    alloc_loop(bad[i], SY_ERR_PARSE, NULL, 0);
  /* cJSON nests up to 1000 containers. */
  sy_buf deep;
  sy_buf_init(&deep);
  sy_buf_puts(&deep, "{\"general_settings\":{\"x\":");
  for (int i = 0; i < 998; i++)
    sy_buf_putc(&deep, '[');
  for (int i = 0; i < 998; i++)
    sy_buf_putc(&deep, ']');
  sy_buf_puts(&deep, "}}");
  alloc_loop(sy_buf_cstr(&deep), SY_OK, NULL, 1);
  sy_buf_reset(&deep);
  sy_buf_puts(&deep, "{\"general_settings\":{\"x\":");
  for (int i = 0; i < 999; i++)
    sy_buf_putc(&deep, '[');
  for (int i = 0; i < 999; i++)
    sy_buf_putc(&deep, ']');
  sy_buf_puts(&deep, "}}");
  alloc_loop(sy_buf_cstr(&deep), SY_ERR_PARSE, NULL, 1);
  sy_buf_free(&deep);
}

void suite_config(void) {
  test_routing_settings();
  test_full_config();
  test_defaults();
  test_semantics();
  test_errors();
  test_warnings();
  test_ids();
  test_groups();
  test_secrets();
  test_failing_allocations();
  test_json_check();
}
