/* config.c: LiteLLM proxy config JSON -> sy_config (config.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"

typedef struct parser {
  sy_config *cfg;
  sy_buf *err;
  sy_config_warn_fn warn;
  void *user;
  int failed; /* first error wins: later ones would only echo it */
  char path[256];
} parser;

/* ---- paths and errors ---- */

static size_t path_push(parser *p, const char *fmt, const char *key, int index) {
  size_t len = strlen(p->path);
  if (key)
    snprintf(p->path + len, sizeof p->path - len, fmt, len ? "." : "", key);
  else
    snprintf(p->path + len, sizeof p->path - len, "[%d]", index);
  return len;
}

static void path_pop(parser *p, size_t len) { p->path[len] = '\0'; }

static int fail(parser *p, const char *what) {
  if (!p->failed && p->err) {
    sy_buf_reset(p->err);
    sy_buf_printf(p->err, "%s: %s", p->path[0] ? p->path : "config", what);
  }
  p->failed = 1;
  return SY_ERR_CONFIG;
}

static void warn_unknown(parser *p, const char *key) {
  if (!p->warn) return;
  size_t len = path_push(p, "%s%s", key, 0);
  p->warn(p->user, p->path, "unknown key, ignored");
  path_pop(p, len);
}

/* ---- typed readers: each reads key |k| of |obj| at the current path ---- */

/* A number, or a string holding one (LiteLLM accepts "60"). */
static int read_num(parser *p, const cJSON *v, double *out) {
  if (cJSON_IsNumber(v)) {
    *out = v->valuedouble;
    return 0;
  }
  if (cJSON_IsString(v) && *v->valuestring) {
    char *end;
    double d = strtod(v->valuestring, &end);
    if (*end == '\0') {
      *out = d;
      return 0;
    }
  }
  return fail(p, "expected a number");
}

static int read_nonneg(parser *p, const cJSON *v, double *out) {
  if (read_num(p, v, out) < 0) return SY_ERR_CONFIG;
  if (*out < 0) return fail(p, "expected a number >= 0");
  return 0;
}

static int read_int(parser *p, const cJSON *v, int lo, int *out) {
  double d;
  if (read_num(p, v, &d) < 0) return SY_ERR_CONFIG;
  /* The range first: casting an out-of-range double to int is undefined. */
  if (!(d >= lo && d <= 1e9) || d != (double)(int)d) {
    char msg[64];
    snprintf(msg, sizeof msg, "expected an integer >= %d", lo);
    return fail(p, msg);
  }
  *out = (int)d;
  return 0;
}

static int read_secs(parser *p, const cJSON *v, sy_ms *out) {
  double d;
  if (read_nonneg(p, v, &d) < 0) return SY_ERR_CONFIG;
  *out = d * 1000;
  return 0;
}

static int read_bool(parser *p, const cJSON *v, bool *out) {
  if (cJSON_IsBool(v)) {
    *out = cJSON_IsTrue(v);
    return 0;
  }
  if (cJSON_IsString(v) && (!strcmp(v->valuestring, "true") || !strcmp(v->valuestring, "false"))) {
    *out = v->valuestring[0] == 't';
    return 0;
  }
  return fail(p, "expected true or false");
}

static int read_str(parser *p, const cJSON *v, char **out) {
  if (cJSON_IsNumber(v)) { /* ids and versions are sometimes written bare */
    char num[32];
    snprintf(num, sizeof num, "%.17g", v->valuedouble);
    sy_free(*out);
    return (*out = sy_strdup(num)) ? 0 : SY_ERR_NOMEM;
  }
  if (!cJSON_IsString(v)) return fail(p, "expected a string");
  sy_free(*out);
  return (*out = sy_strdup(v->valuestring)) ? 0 : SY_ERR_NOMEM;
}

/* ---- retry_policy / allowed_fails_policy ---- */

/* LiteLLM's exception-class names and the classes they cover. */
static const struct {
  const char *stem;
  sy_class classes[5];
} litellm_classes[] = {
    {"BadRequestError", {SY_CLASS_BAD_REQUEST, SY_CLASS_CONTEXT_WINDOW}},
    {"AuthenticationError", {SY_CLASS_AUTH}},
    {"TimeoutError", {SY_CLASS_TIMEOUT}},
    {"RateLimitError", {SY_CLASS_RATE_LIMIT, SY_CLASS_QUOTA}},
    {"ContentPolicyViolationError", {SY_CLASS_CONTENT_POLICY}},
    {"InternalServerError",
     {SY_CLASS_SERVER, SY_CLASS_OVERLOADED, SY_CLASS_CONFLICT, SY_CLASS_NETWORK,
      SY_CLASS_BAD_RESPONSE}},
};

static int read_class_policy(parser *p, const cJSON *obj, const char *suffix, int *out) {
  if (!cJSON_IsObject(obj)) return fail(p, "expected an object of counts per error class");
  const cJSON *it;
  cJSON_ArrayForEach(it, obj) {
    size_t len = path_push(p, "%s%s", it->string, 0);
    int n, rc = read_int(p, it, 0, &n);
    if (rc < 0) return rc;
    path_pop(p, len);
    int cls = sy_class_from_name(it->string);
    if (cls > 0) {
      out[cls] = n;
      continue;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof litellm_classes / sizeof *litellm_classes; i++) {
      char name[64];
      snprintf(name, sizeof name, "%s%s", litellm_classes[i].stem, suffix);
      if (strcmp(name, it->string) != 0) continue;
      for (size_t j = 0; j < 5 && litellm_classes[i].classes[j]; j++)
        out[litellm_classes[i].classes[j]] = n;
      found = 1;
    }
    if (!found) warn_unknown(p, it->string);
  }
  return 0;
}

/* ---- fallbacks ---- */

static void fallback_list_free(sy_fallback_list *l) {
  for (size_t i = 0; i < l->nrules; i++) {
    sy_free(l->rules[i].group);
    for (size_t j = 0; j < l->rules[i].ntargets; j++)
      sy_free(l->rules[i].targets[j]);
    sy_free(l->rules[i].targets);
  }
  sy_free(l->rules);
  memset(l, 0, sizeof *l);
}

static int add_rule(sy_fallback_list *l, const char *group, const cJSON *targets, parser *p) {
  if (!cJSON_IsArray(targets)) return fail(p, "expected a list of model group names");
  sy_fallback_rule *rules = sy_realloc(l->rules, (l->nrules + 1) * sizeof *rules);
  if (!rules) return SY_ERR_NOMEM;
  l->rules = rules;
  sy_fallback_rule *r = &rules[l->nrules];
  memset(r, 0, sizeof *r);
  if (!(r->group = sy_strdup(group))) return SY_ERR_NOMEM;
  l->nrules++;
  int n = cJSON_GetArraySize(targets);
  if (n && !(r->targets = sy_calloc((size_t)n, sizeof *r->targets))) return SY_ERR_NOMEM;
  const cJSON *t;
  int i = 0;
  cJSON_ArrayForEach(t, targets) {
    size_t len = path_push(p, NULL, NULL, i++);
    int rc = read_str(p, t, &r->targets[r->ntargets]);
    if (rc < 0) return rc;
    r->ntargets++;
    path_pop(p, len);
  }
  return 0;
}

static int read_fallbacks(parser *p, const cJSON *v, sy_fallback_list *l) {
  if (!cJSON_IsArray(v)) return fail(p, "expected a list of {group: [fallback groups]}");
  fallback_list_free(l);
  const cJSON *item;
  int i = 0;
  cJSON_ArrayForEach(item, v) {
    size_t len = path_push(p, NULL, NULL, i++);
    if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) != 1)
      return fail(p, "expected an object with one key");
    size_t l2 = path_push(p, "%s%s", item->child->string, 0);
    int rc = add_rule(l, item->child->string, item->child, p);
    if (rc < 0) return rc;
    path_pop(p, l2);
    path_pop(p, len);
  }
  return 0;
}

/* ---- settings ---- */

static const char *const quiet_settings[] = {"drop_params",
                                             "set_verbose",
                                             "success_callback",
                                             "failure_callback",
                                             "callbacks",
                                             "service_callback",
                                             "cache",
                                             "cache_params",
                                             "redis_host",
                                             "redis_port",
                                             "redis_password",
                                             "redis_url",
                                             "enable_pre_call_checks",
                                             "routing_strategy_args",
                                             "model_group_alias",
                                             "enable_tag_filtering",
                                             "tag_filtering_match_any",
                                             "default_max_parallel_requests",
                                             "optional_pre_call_checks",
                                             "polling_interval",
                                             "json_logs",
                                             "turn_off_message_logging",
                                             "alerting",
                                             "alerting_threshold",
                                             "model_group_retry_policy",
                                             "default_litellm_params",
                                             "provider_budget_config",
                                             "request_timeout_seconds",
                                             "max_parallel_requests",
                                             "cooldown_cache",
                                             "num_workers",
                                             "enable_health_check_routing",
                                             "modify_params",
                                             "callback_settings",
                                             "telemetry",
                                             "context_window_fallback_dict",
                                             "max_budget",
                                             "budget_duration",
                                             "public_routes",
                                             "router_general_settings",
                                             "deployment_affinity_ttl_seconds"};

static const char *const strategies[] = {"simple-shuffle",        "least-busy",
                                         "usage-based-routing",   "usage-based-routing-v2",
                                         "latency-based-routing", "cost-based-routing"};

static int read_setting(parser *p, const cJSON *v, sy_settings *s) {
  const char *k = v->string;
  if (!strcmp(k, "num_retries")) return read_int(p, v, 0, &s->num_retries);
  if (!strcmp(k, "retry_after")) return read_secs(p, v, &s->retry_after_ms);
  if (!strcmp(k, "allowed_fails")) return read_int(p, v, 0, &s->allowed_fails);
  if (!strcmp(k, "cooldown_time")) return read_secs(p, v, &s->cooldown_ms);
  if (!strcmp(k, "timeout") || !strcmp(k, "request_timeout")) {
    if (read_secs(p, v, &s->timeout_ms) < 0) return SY_ERR_CONFIG;
    return s->timeout_ms > 0 ? 0 : fail(p, "expected seconds above 0");
  }
  if (!strcmp(k, "attempt_timeout")) return read_secs(p, v, &s->attempt_timeout_ms);
  if (!strcmp(k, "stream_timeout")) return read_secs(p, v, &s->stream_timeout_ms);
  if (!strcmp(k, "backoff_initial")) return read_secs(p, v, &s->backoff_initial_ms);
  if (!strcmp(k, "backoff_max")) return read_secs(p, v, &s->backoff_max_ms);
  if (!strcmp(k, "retry_after_max")) return read_secs(p, v, &s->retry_after_max_ms);
  if (!strcmp(k, "max_fallbacks")) return read_int(p, v, 0, &s->max_fallbacks);
  if (!strcmp(k, "disable_cooldowns")) return read_bool(p, v, &s->disable_cooldowns);
  if (!strcmp(k, "retry_policy")) return read_class_policy(p, v, "Retries", s->retry_policy);
  if (!strcmp(k, "allowed_fails_policy"))
    return read_class_policy(p, v, "AllowedFails", s->allowed_fails_policy);
  if (!strcmp(k, "fallbacks")) return read_fallbacks(p, v, &s->fallbacks);
  if (!strcmp(k, "context_window_fallbacks"))
    return read_fallbacks(p, v, &s->context_window_fallbacks);
  if (!strcmp(k, "content_policy_fallbacks"))
    return read_fallbacks(p, v, &s->content_policy_fallbacks);
  if (!strcmp(k, "default_fallbacks")) return 0; /* applied after all fallbacks are read */
  if (!strcmp(k, "routing_strategy")) {
    for (size_t i = 0; i < sizeof strategies / sizeof *strategies; i++)
      if (cJSON_IsString(v) && !strcmp(v->valuestring, strategies[i]))
        return read_str(p, v, &s->routing_strategy);
    return fail(p, "expected one of simple-shuffle, least-busy, usage-based-routing, "
                   "usage-based-routing-v2, latency-based-routing, cost-based-routing");
  }
  for (size_t i = 0; i < sizeof quiet_settings / sizeof *quiet_settings; i++)
    if (!strcmp(k, quiet_settings[i])) return 0;
  if (p->warn) p->warn(p->user, p->path, "unknown key, ignored"); /* the path ends in |k| */
  return 0;
}

/* Reads litellm_settings, then router_settings over it, so that a key in
 * router_settings wins wherever it is written. */
static int read_settings(parser *p, const cJSON *root) {
  static const char *const sections[] = {"litellm_settings", "router_settings"};
  for (int s = 0; s < 2; s++) {
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, sections[s]);
    if (!sec) continue;
    size_t len = path_push(p, "%s%s", sections[s], 0);
    if (!cJSON_IsObject(sec)) return fail(p, "expected an object");
    const cJSON *v;
    cJSON_ArrayForEach(v, sec) {
      size_t l2 = path_push(p, "%s%s", v->string, 0);
      int rc = read_setting(p, v, &p->cfg->settings);
      if (rc < 0) return rc;
      path_pop(p, l2);
    }
    path_pop(p, len);
  }
  for (int s = 1; s >= 0; s--) {
    const cJSON *sec = cJSON_GetObjectItemCaseSensitive(root, sections[s]);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(sec, "default_fallbacks");
    if (!d) continue;
    size_t len = path_push(p, "%s%s", sections[s], 0);
    size_t l2 = path_push(p, "%s%s", "default_fallbacks", 0);
    int rc = add_rule(&p->cfg->settings.fallbacks, "*", d, p);
    if (rc < 0) return rc;
    path_pop(p, l2);
    path_pop(p, len);
    break;
  }
  if (!p->cfg->settings.routing_strategy &&
      !(p->cfg->settings.routing_strategy = sy_strdup("simple-shuffle")))
    return SY_ERR_NOMEM;
  return 0;
}

/* ---- deployments ---- */

int sy_provider_from_model(const char *s, sy_provider_kind *kind, size_t *model_offset) {
  static const struct {
    const char *prefix;
    sy_provider_kind kind;
  } known[] = {{"openai/", SY_PROVIDER_OPENAI},
               {"azure/", SY_PROVIDER_AZURE},
               {"anthropic/", SY_PROVIDER_ANTHROPIC}};
  for (size_t i = 0; i < 3; i++) {
    size_t n = strlen(known[i].prefix);
    if (strncmp(s, known[i].prefix, n) == 0 && s[n]) {
      *kind = known[i].kind;
      *model_offset = n;
      return 0;
    }
  }
  return SY_ERR_NOT_FOUND;
}

static const char *const consumed_params[] = {
    "model", "api_base", "api_key", "api_version", "rpm", "tpm", "weight", "order", "timeout",
    "stream_timeout", "num_retries", "cooldown_time", "max_input_tokens", "input_cost_per_token",
    "output_cost_per_token", "tags", "retry_policy",
    /* LiteLLM's, with no effect here: provider SDK retries are off by design */
    "max_retries", "region_name", "base_model", "custom_llm_provider", "organization",
    "mock_response"};

static int is_consumed(const char *k) {
  for (size_t i = 0; i < sizeof consumed_params / sizeof *consumed_params; i++)
    if (!strcmp(k, consumed_params[i])) return 1;
  return 0;
}

void sy_deployment_init(sy_deployment *d) {
  memset(d, 0, sizeof *d);
  d->order = SY_UNSET;
  d->timeout_ms = d->stream_timeout_ms = d->cooldown_ms = SY_UNSET;
  d->num_retries = SY_UNSET;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    d->retry_policy[c] = SY_UNSET;
}

void sy_deployment_clear(sy_deployment *d) {
  sy_free(d->id);
  sy_free(d->group);
  sy_free(d->model);
  sy_free(d->upstream_model);
  sy_free(d->api_base);
  sy_free(d->api_key);
  sy_free(d->api_version);
  sy_free(d->extra_params);
  for (size_t i = 0; i < d->ntags; i++)
    sy_free(d->tags[i]);
  sy_free(d->tags);
}

/* Reads one litellm_params (or model_info) field into |d|. */
static int read_param(parser *p, const cJSON *v, sy_deployment *d) {
  const char *k = v->string;
  if (!strcmp(k, "model")) {
    if (!cJSON_IsString(v) || !*v->valuestring) return fail(p, "expected a string");
    size_t off = 0;
    if (sy_provider_from_model(v->valuestring, &d->provider, &off) < 0) {
      if (strchr(v->valuestring, '/'))
        return fail(p, "expected \"provider/model\" with provider openai, azure or anthropic");
      d->provider = SY_PROVIDER_OPENAI; /* a bare name is OpenAI's, as in LiteLLM */
    }
    if (read_str(p, v, &d->model) < 0) return SY_ERR_NOMEM;
    sy_free(d->upstream_model);
    return (d->upstream_model = sy_strdup(v->valuestring + off)) ? 0 : SY_ERR_NOMEM;
  }
  if (!strcmp(k, "api_base")) return read_str(p, v, &d->api_base);
  if (!strcmp(k, "api_key")) return read_str(p, v, &d->api_key);
  if (!strcmp(k, "api_version")) return read_str(p, v, &d->api_version);
  if (!strcmp(k, "rpm")) return read_nonneg(p, v, &d->rpm);
  if (!strcmp(k, "tpm")) return read_nonneg(p, v, &d->tpm);
  if (!strcmp(k, "weight")) return read_nonneg(p, v, &d->weight);
  if (!strcmp(k, "order")) return read_int(p, v, 1, &d->order);
  if (!strcmp(k, "timeout")) return read_secs(p, v, &d->timeout_ms);
  if (!strcmp(k, "stream_timeout")) return read_secs(p, v, &d->stream_timeout_ms);
  if (!strcmp(k, "num_retries")) return read_int(p, v, 0, &d->num_retries);
  if (!strcmp(k, "cooldown_time")) return read_secs(p, v, &d->cooldown_ms);
  if (!strcmp(k, "max_input_tokens")) return read_nonneg(p, v, &d->max_input_tokens);
  if (!strcmp(k, "input_cost_per_token")) return read_nonneg(p, v, &d->input_cost_per_token);
  if (!strcmp(k, "output_cost_per_token")) return read_nonneg(p, v, &d->output_cost_per_token);
  if (!strcmp(k, "retry_policy")) return read_class_policy(p, v, "Retries", d->retry_policy);
  if (!strcmp(k, "tags")) {
    if (!cJSON_IsArray(v)) return fail(p, "expected a list of strings");
    int n = cJSON_GetArraySize(v);
    if (n && !(d->tags = sy_calloc((size_t)n, sizeof *d->tags))) return SY_ERR_NOMEM;
    const cJSON *t;
    int i = 0;
    cJSON_ArrayForEach(t, v) {
      size_t len = path_push(p, NULL, NULL, i++);
      if (!cJSON_IsString(t)) return fail(p, "expected a string");
      if (read_str(p, t, &d->tags[d->ntags]) < 0) return SY_ERR_NOMEM;
      d->ntags++;
      path_pop(p, len);
    }
    return 0;
  }
  return 0;
}

static int read_deployment(parser *p, const cJSON *entry, sy_deployment *d, int index) {
  d->index = index;
  if (!cJSON_IsObject(entry)) return fail(p, "expected an object");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(entry, "model_name");
  const cJSON *params = cJSON_GetObjectItemCaseSensitive(entry, "litellm_params");
  const cJSON *info = cJSON_GetObjectItemCaseSensitive(entry, "model_info");
  size_t len = path_push(p, "%s%s", "model_name", 0);
  if (!cJSON_IsString(name) || !*name->valuestring) return fail(p, "expected a model group name");
  if (read_str(p, name, &d->group) < 0) return SY_ERR_NOMEM;
  path_pop(p, len);
  len = path_push(p, "%s%s", "litellm_params", 0);
  if (!cJSON_IsObject(params)) return fail(p, "expected an object");
  cJSON *extra = cJSON_CreateObject();
  if (!extra) return SY_ERR_NOMEM;
  const cJSON *v;
  int rc = 0;
  cJSON_ArrayForEach(v, params) {
    size_t l2 = path_push(p, "%s%s", v->string, 0);
    if (is_consumed(v->string)) {
      rc = read_param(p, v, d);
    } else {
      cJSON *copy = cJSON_Duplicate(v, 1);
      if (!copy || !cJSON_AddItemToObject(extra, v->string, copy)) {
        cJSON_Delete(copy);
        rc = SY_ERR_NOMEM;
      }
    }
    if (rc < 0) break;
    path_pop(p, l2);
  }
  if (rc == 0 && !d->model) {
    path_push(p, "%s%s", "model", 0);
    rc = fail(p, "expected \"provider/model\", e.g. openai/gpt-4o");
  }
  if (rc == 0 && extra->child) {
    d->extra_params = cJSON_PrintUnformatted(extra);
    if (!d->extra_params) rc = SY_ERR_NOMEM;
  }
  cJSON_Delete(extra);
  if (rc < 0) return rc;
  path_pop(p, len);
  /* Top-level rpm/tpm, as LiteLLM copies them in. */
  static const char *const top[] = {"rpm", "tpm"};
  for (int i = 0; i < 2; i++) {
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(entry, top[i]);
    if (!t || cJSON_GetObjectItemCaseSensitive(params, top[i])) continue;
    size_t l2 = path_push(p, "%s%s", top[i], 0);
    if ((rc = read_param(p, t, d)) < 0) return rc;
    path_pop(p, l2);
  }
  if (info) {
    len = path_push(p, "%s%s", "model_info", 0);
    if (!cJSON_IsObject(info)) return fail(p, "expected an object");
    cJSON_ArrayForEach(v, info) {
      size_t l2 = path_push(p, "%s%s", v->string, 0);
      if (!strcmp(v->string, "id"))
        rc = read_str(p, v, &d->id);
      else if (!strcmp(v->string, "max_input_tokens") ||
               !strcmp(v->string, "input_cost_per_token") ||
               !strcmp(v->string, "output_cost_per_token"))
        rc = read_param(p, v, d);
      if (rc < 0) return rc;
      path_pop(p, l2);
    }
    path_pop(p, len);
  }
  if (!d->id) {
    /* Deterministic, so every instance of a fleet names it alike. */
    char *text = cJSON_PrintUnformatted(params);
    if (!text) return SY_ERR_NOMEM;
    uint64_t h = sy_hash64(d->group, strlen(d->group), 0);
    h = sy_hash64(text, strlen(text), h);
    sy_free(text);
    char id[17];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)h);
    if (!(d->id = sy_strdup(id))) return SY_ERR_NOMEM;
  }
  return 0;
}

/* Groups in order of first appearance. Lookup is a linear scan over the
 * groups (not the deployments): a few hundred string compares at most per
 * request for the largest configs seen in practice. */
static int build_groups(sy_config *cfg) {
  if (!cfg->ndeps) return 0;
  cfg->groups = sy_calloc(cfg->ndeps, sizeof *cfg->groups);
  if (!cfg->groups) return SY_ERR_NOMEM;
  for (size_t i = 0; i < cfg->ndeps; i++) {
    sy_deployment *d = &cfg->deps[i];
    sy_group *g = NULL;
    for (size_t j = 0; j < cfg->ngroups && !g; j++)
      if (!strcmp(cfg->groups[j].name, d->group)) g = &cfg->groups[j];
    if (!g) {
      g = &cfg->groups[cfg->ngroups++];
      g->name = d->group;
    }
    sy_deployment **deps = sy_realloc(g->deps, (g->ndeps + 1) * sizeof *deps);
    if (!deps) return SY_ERR_NOMEM;
    g->deps = deps;
    deps[g->ndeps++] = d;
  }
  return 0;
}

static int read_env(parser *p, const cJSON *env) {
  if (!env) return 0;
  size_t len = path_push(p, "%s%s", "provider_env", 0);
  if (!cJSON_IsObject(env)) return fail(p, "expected an object");
  sy_provider_env *e = &p->cfg->env;
  const struct {
    const char *name;
    char **slot;
  } vars[] = {
      {"OPENAI_API_KEY", &e->openai_api_key},       {"OPENAI_API_BASE", &e->openai_api_base},
      {"ANTHROPIC_API_KEY", &e->anthropic_api_key}, {"ANTHROPIC_API_BASE", &e->anthropic_api_base},
      {"AZURE_API_KEY", &e->azure_api_key},         {"AZURE_API_BASE", &e->azure_api_base},
      {"AZURE_API_VERSION", &e->azure_api_version}};
  const cJSON *v;
  cJSON_ArrayForEach(v, env) {
    size_t l2 = path_push(p, "%s%s", v->string, 0);
    int known = 0;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
      if (strcmp(v->string, vars[i].name)) continue;
      known = 1;
      if (read_str(p, v, vars[i].slot) < 0) return p->failed ? SY_ERR_CONFIG : SY_ERR_NOMEM;
    }
    path_pop(p, l2);
    if (!known) warn_unknown(p, v->string);
  }
  path_pop(p, len);
  return 0;
}

static void warn_missing_groups(parser *p) {
  const sy_settings *s = &p->cfg->settings;
  const sy_fallback_list *lists[] = {&s->fallbacks, &s->context_window_fallbacks,
                                     &s->content_policy_fallbacks};
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < lists[l]->nrules; i++)
      for (size_t j = 0; j < lists[l]->rules[i].ntargets; j++) {
        const char *t = lists[l]->rules[i].targets[j];
        sy_provider_kind k;
        size_t off;
        if (!sy_config_group(p->cfg, t) && sy_provider_from_model(t, &k, &off) < 0 && p->warn) {
          char msg[160];
          snprintf(msg, sizeof msg, "fallback group '%.100s' is not in model_list; skipped", t);
          p->warn(p->user, "router_settings", msg);
        }
      }
}

int sy_config_parse(const char *json, size_t len, sy_config **pcfg, sy_buf *err,
                    sy_config_warn_fn warn, void *user) {
  *pcfg = NULL;
  cJSON *root = cJSON_ParseWithLength(json, len);
  if (!root) {
    if (err) {
      sy_buf_reset(err);
      sy_buf_puts(err, "config: not valid JSON");
    }
    return SY_ERR_PARSE;
  }
  parser p = {0};
  p.err = err;
  p.warn = warn;
  p.user = user;
  int rc = 0;
  sy_config *cfg = sy_calloc(1, sizeof *cfg);
  if (!cfg) {
    cJSON_Delete(root);
    return SY_ERR_NOMEM;
  }
  p.cfg = cfg;
  sy_settings *s = &cfg->settings;
  s->num_retries = 2;
  s->allowed_fails = 3;
  s->cooldown_ms = 5000;
  s->timeout_ms = 600000;
  s->max_fallbacks = 5;
  s->backoff_initial_ms = 500;
  s->backoff_max_ms = 8000;
  s->retry_after_max_ms = 60000;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    s->retry_policy[c] = s->allowed_fails_policy[c] = SY_UNSET;

  if (!cJSON_IsObject(root)) {
    rc = fail(&p, "expected an object with model_list");
    goto done;
  }
  static const char *const top_keys[] = {
      "model_list",       "router_settings",       "litellm_settings",
      "general_settings", "environment_variables", "provider_env"};
  const cJSON *v;
  cJSON_ArrayForEach(v, root) {
    int known = 0;
    for (size_t i = 0; i < sizeof top_keys / sizeof *top_keys; i++)
      known |= !strcmp(v->string, top_keys[i]);
    if (!known) warn_unknown(&p, v->string);
  }
  const cJSON *list = cJSON_GetObjectItemCaseSensitive(root, "model_list");
  if (list && !cJSON_IsArray(list) && !cJSON_IsNull(list)) {
    path_push(&p, "%s%s", "model_list", 0);
    rc = fail(&p, "expected a list of deployments");
    goto done;
  }
  int n = cJSON_GetArraySize(list);
  if (n > 0) {
    if (!(cfg->deps = sy_calloc((size_t)n, sizeof *cfg->deps))) {
      rc = SY_ERR_NOMEM;
      goto done;
    }
    const cJSON *entry;
    int i = 0;
    cJSON_ArrayForEach(entry, list) {
      sy_deployment *d = &cfg->deps[cfg->ndeps++];
      sy_deployment_init(d);
      size_t plen = path_push(&p, "%s%s", "model_list", 0);
      path_push(&p, NULL, NULL, i);
      if ((rc = read_deployment(&p, entry, d, i)) < 0) goto done;
      for (int j = 0; j < i; j++)
        if (!strcmp(cfg->deps[j].id, d->id)) {
          path_push(&p, "%s%s", "model_info.id", 0);
          rc = fail(&p, "duplicate deployment id");
          goto done;
        }
      path_pop(&p, plen);
      i++;
    }
  }
  if ((rc = build_groups(cfg)) < 0) goto done;
  if ((rc = read_settings(&p, root)) < 0) goto done;
  if ((rc = read_env(&p, cJSON_GetObjectItemCaseSensitive(root, "provider_env"))) < 0) goto done;
  warn_missing_groups(&p);
done:
  cJSON_Delete(root);
  if (rc < 0 || p.failed) {
    sy_config_free(cfg);
    return p.failed ? SY_ERR_CONFIG : rc;
  }
  *pcfg = cfg;
  return SY_OK;
}

void sy_config_free(sy_config *cfg) {
  if (!cfg) return;
  for (size_t i = 0; i < cfg->ndeps; i++)
    sy_deployment_clear(&cfg->deps[i]);
  sy_free(cfg->deps);
  for (size_t i = 0; i < cfg->ngroups; i++)
    sy_free(cfg->groups[i].deps);
  sy_free(cfg->groups);
  fallback_list_free(&cfg->settings.fallbacks);
  fallback_list_free(&cfg->settings.context_window_fallbacks);
  fallback_list_free(&cfg->settings.content_policy_fallbacks);
  sy_free(cfg->settings.routing_strategy);
  sy_provider_env *e = &cfg->env;
  char *envs[] = {e->openai_api_key,     e->openai_api_base, e->anthropic_api_key,
                  e->anthropic_api_base, e->azure_api_key,   e->azure_api_base,
                  e->azure_api_version};
  for (size_t i = 0; i < 7; i++)
    sy_free(envs[i]);
  sy_free(cfg);
}

const sy_group *sy_config_group(const sy_config *cfg, const char *name) {
  for (size_t i = 0; i < cfg->ngroups; i++)
    if (!strcmp(cfg->groups[i].name, name)) return &cfg->groups[i];
  return NULL;
}

char **sy_fallbacks_for(const sy_fallback_list *list, const char *group, size_t *n) {
  const sy_fallback_rule *star = NULL;
  for (size_t i = 0; i < list->nrules; i++) {
    if (!strcmp(list->rules[i].group, group)) {
      *n = list->rules[i].ntargets;
      return list->rules[i].targets;
    }
    if (!strcmp(list->rules[i].group, "*")) star = &list->rules[i];
  }
  *n = star ? star->ntargets : 0;
  return star ? star->targets : NULL;
}
