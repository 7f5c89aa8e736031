/* config.h: the LiteLLM proxy config (as JSON; YAML is turned into JSON by
 * the host) parsed and validated into deployments, model groups and the
 * router's policies.
 *
 * Accepted keys keep LiteLLM's meaning:
 *   model_list[]: model_name, litellm_params{model, api_base, api_key,
 *     api_version, rpm, tpm, weight, order, timeout (or request_timeout),
 *     stream_timeout, num_retries, cooldown_time, max_input_tokens,
 *     input_cost_per_token, output_cost_per_token, tags, retry_policy,
 *     custom_llm_provider, ...other params passed to the provider; LiteLLM's
 *     own params that do not apply are dropped}, model_info{id,
 *     max_input_tokens, input/output_cost_per_token, ...}, top-level rpm/tpm.
 *   router_settings / litellm_settings (either may hold any key below; a key
 *     in router_settings wins): num_retries, retry_after, allowed_fails,
 *     cooldown_time, timeout, request_timeout, stream_timeout, fallbacks,
 *     default_fallbacks, context_window_fallbacks, content_policy_fallbacks,
 *     max_fallbacks, retry_policy, allowed_fails_policy, disable_cooldowns,
 *     routing_strategy, routing_strategy_args{lowest_latency_buffer},
 *     enable_pre_call_checks, enable_tag_filtering, tag_filtering_match_any,
 *     and Switchyard's own: attempt_timeout, backoff_initial, backoff_max,
 *     retry_after_max, fallback_chains{name: [groups]}.
 *   general_settings: accepted and left to the host (master_key, ...).
 *   provider_env: set by the host, never by users: the provider environment
 *     variables (OPENAI_API_KEY, ...) used when a request names a provider
 *     model that no group serves.
 * Durations in the file are seconds, as in LiteLLM; here they are ms.
 * Numbers may be numeric strings ("60"); JSON null means "not given".
 * config.c's opening comment lists the choices made where LiteLLM is loose.
 *
 * A value of the wrong type or range rejects the whole config with the path
 * of the key ("model_list[1].litellm_params.rpm: expected a number"). An
 * unknown key is reported through the warning callback and ignored; so are
 * fallback groups missing from model_list. No message ever shows a value
 * held under a secret-looking key (api_key, master_key, ...).
 */
#ifndef SY_CONFIG_H
#define SY_CONFIG_H

#include <stdbool.h>

#include "sy.h"

typedef enum sy_provider_kind {
  SY_PROVIDER_OPENAI = 0, /* "openai/<model>" and OpenAI-compatible bases */
  SY_PROVIDER_AZURE,      /* "azure/<deployment>" */
  SY_PROVIDER_ANTHROPIC   /* "anthropic/<model>" */
} sy_provider_kind;

#define SY_UNSET (-1)

/* One deployment: a model at a provider, with a key, as one model_list
 * entry describes it. All strings are owned by the config. */
typedef struct sy_deployment {
  /* First what a pick reads of every candidate, together (select.c): at
   * 1000 deployments a pick's cost is mostly a cache miss per line. */
  char *id;                /* model_info.id, else a hash of group + params */
  int index;               /* position in model_list */
  int order;               /* lower is preferred; SY_UNSET when not given */
  double rpm, tpm;         /* per minute; 0 = unlimited */
  double weight;           /* 0 = unset */
  double max_input_tokens; /* 0 = unknown */
  double input_cost_per_token, output_cost_per_token; /* 0 = unknown */
  char **tags;
  size_t ntags;
  char *group; /* model_name */
  char *model; /* litellm_params.model as written ("azure/gpt4-eu") */
  sy_provider_kind provider;
  char *upstream_model;             /* model after the provider prefix */
  char *api_base;                   /* NULL: the provider's default */
  char *api_key;                    /* secret: never printed, logged or emitted */
  char *api_version;                /* Azure's api-version, NULL: provider default */
  struct cJSON *extra_params;       /* other litellm_params as a JSON object, merged into
                                       every upstream body as it is; NULL when none */
  sy_ms timeout_ms;                 /* per-attempt timeout; SY_UNSET: router's */
  sy_ms stream_timeout_ms;          /* first-token timeout; SY_UNSET: router's */
  int num_retries;                  /* SY_UNSET: router's */
  sy_ms cooldown_ms;                /* SY_UNSET: router's; 0 disables cooling it */
  int retry_policy[SY_CLASS_COUNT]; /* retries per class; SY_UNSET = router's */
} sy_deployment;

/* The deployments sharing one model_name, in model_list order. */
typedef struct sy_group {
  char *name;
  sy_deployment **deps; /* borrowed from sy_config.deps */
  size_t ndeps;
} sy_group;

/* "{group: [targets...]}": where a failing group falls back to. */
typedef struct sy_fallback_rule {
  char *group; /* "*" for default_fallbacks */
  char **targets;
  size_t ntargets;
} sy_fallback_rule;

typedef struct sy_fallback_list {
  sy_fallback_rule *rules;
  size_t nrules;
} sy_fallback_list;

/* router_settings.routing_strategy: how a deployment is chosen among the
 * healthy ones of the best order tier (select.h says each rule). */
typedef enum sy_strategy {
  SY_STRATEGY_SHUFFLE = 0, /* simple-shuffle */
  SY_STRATEGY_USAGE,       /* usage-based-routing, usage-based-routing-v2 */
  SY_STRATEGY_LEAST_BUSY,  /* least-busy */
  SY_STRATEGY_LATENCY,     /* latency-based-routing */
  SY_STRATEGY_COST,        /* cost-based-routing */
  SY_STRATEGY_P2C          /* p2c-peak-ewma: Switchyard's own */
} sy_strategy;

/* Switchyard's reliability mechanisms (router_settings keys in brackets;
 * README "Beyond the peers" says what each does). A block set to false is
 * off; true or an object turns it on, with these defaults for what the
 * object leaves out. */
typedef struct sy_reliability {
  /* [retry_budget] retries and hedges at most |budget_percent| of the
   * requests of the last window (sliding), or |budget_min_per_second| x
   * window, whichever is more (Finagle: 20 %, 10/s, 10 s). On by default. */
  bool budget;
  double budget_percent;
  double budget_min_per_second;
  sy_ms budget_window_ms;
  /* [circuit_breaker] per deployment: opens after |consecutive| failures in
   * a row, or a |failure_rate| share of failed attempts this minute once it
   * had |min_requests|; open for |open_ms| x the times it opened recently,
   * up to |max_open_ms| (Envoy: 5, 85 %, 50, 30 s, 300 s); then half-open:
   * |half_open_requests| probes at a time, fleet-wide; a success closes it,
   * a failure opens it again. Never more than |max_ejection_percent| of a
   * group open (one always may be); below |panic_percent| of a group
   * available, open breakers are ignored (Envoy: 10 %, 50 %). On. */
  bool breaker;
  int breaker_consecutive;
  double breaker_failure_rate;
  double breaker_min_requests;
  sy_ms breaker_open_ms;
  sy_ms breaker_max_open_ms;
  int half_open_requests;
  double max_ejection_percent;
  double panic_percent;
  /* [adaptive_throttling] per deployment, the SRE book's client-side
   * throttle: a request is shed locally with probability
   * max(0, (requests - k x accepts) / (requests + 1)) over the last two
   * minutes, where 429s and overloads are not accepts, once it saw
   * |throttle_min_requests| attempts in them (a handful of 429s is what
   * Retry-After and cooldowns are for). k = 1.5 (the SRE book's 2 lets a
   * provider at capacity take two calls per one it accepts; a 429 is cheap
   * for it but each extra call costs the client a round trip: bench/chaos
   * measured 1.24 calls per request in a 429 storm at 2, 1.16 at 1.5), 20.
   * On. */
  bool throttle;
  double throttle_k;
  double throttle_min_requests;
  /* [slow_start] a deployment back from a cooldown or an open breaker
   * regains its weight over |slow_start_ms|: weight x max(|min_weight|,
   * t / window) (Envoy's formula with aggression 1; 30 s, 10 %), as this
   * instance saw it cool. Weighted strategies only (simple-shuffle,
   * p2c-peak-ewma). On. */
  bool slow_start;
  sy_ms slow_start_ms;
  double slow_start_min_weight;
  /* [hedging] when a request's first attempt has no answer (a stream: no
   * first token) after |hedge_delay_ms|, or after the |hedge_percentile|
   * of its deployment's recent latencies (first tokens for a stream) once
   * it has 5, a second deployment of the group races it; the first good
   * answer (first token) wins and the other attempt is aborted. A hedge is
   * a retry: it counts against the request's retries and the retry
   * budget. Off unless set (delay in seconds). */
  sy_ms hedge_delay_ms;
  double hedge_percentile;
} sy_reliability;

typedef struct sy_settings {
  int num_retries;                          /* default 2 */
  sy_ms retry_after_ms;                     /* minimum backoff; default 0 */
  int allowed_fails;                        /* failures tolerated per minute; default 3 */
  int allowed_fails_policy[SY_CLASS_COUNT]; /* per class; SY_UNSET = allowed_fails */
  sy_ms cooldown_ms;                        /* default 5000 */
  bool disable_cooldowns;
  sy_ms timeout_ms;                 /* overall deadline of a request; default 600000 */
  sy_ms attempt_timeout_ms;         /* per attempt; 0 = only the deadline bounds it */
  sy_ms stream_timeout_ms;          /* first token of a stream; 0 = none */
  int max_fallbacks;                /* fallback hops per request; default 5 */
  sy_ms backoff_initial_ms;         /* default 500 */
  sy_ms backoff_max_ms;             /* default 8000 */
  sy_ms retry_after_max_ms;         /* a provider's Retry-After above this is not
                                       waited for; default 60000 */
  int retry_policy[SY_CLASS_COUNT]; /* SY_UNSET = num_retries rules */
  sy_fallback_list fallbacks;       /* default_fallbacks appended as "*" */
  sy_fallback_list context_window_fallbacks;
  sy_fallback_list content_policy_fallbacks;
  char *routing_strategy;           /* "simple-shuffle" unless set */
  sy_strategy strategy;             /* what routing_strategy names */
  double lowest_latency_buffer;     /* latency-based: share above the fastest still
                                       chosen (routing_strategy_args); default 0 */
  bool enable_pre_call_checks;      /* skip deployments too small or over rpm/tpm */
  bool enable_tag_filtering;        /* metadata.tags choose deployments by tags */
  bool tag_filtering_match_any;     /* any request tag matches (default); else all */
  sy_fallback_list fallback_chains; /* named chains: rule.group = chain name */
  sy_reliability rel;               /* Switchyard's mechanisms beyond LiteLLM's */
} sy_settings;

/* Provider environment variables handed over by the host. */
typedef struct sy_provider_env {
  char *openai_api_key, *openai_api_base;
  char *anthropic_api_key, *anthropic_api_base;
  char *azure_api_key, *azure_api_base, *azure_api_version;
} sy_provider_env;

typedef struct sy_config {
  sy_deployment *deps; /* owned, ndeps entries */
  size_t ndeps;
  sy_group *groups; /* owned, in order of first appearance */
  size_t ngroups;
  sy_settings settings;
  sy_provider_env env;
  /* Private to config.c: groups indexed by name (open addressing, slot =
   * group index + 1, 0 = empty; group_slots_mask + 1 slots). A config built
   * by hand may leave group_slots NULL: sy_config_group then scans. */
  uint32_t *group_slots;
  size_t group_slots_mask;
} sy_config;

/* Called once per warning (an unknown key, a LiteLLM param without effect
 * here, a fallback group missing from model_list, a repeated deployment);
 * |path| and |msg| are valid during the call. */
typedef void (*sy_config_warn_fn)(void *user, const char *path, const char *msg);

/* sy_config_parse parses |len| bytes of JSON at |json| into a new config
 * stored in |*pcfg|. On rejection |err| (if not NULL) receives one line,
 * "<path>: <what was expected>", and |*pcfg| is NULL. |warn| (may be NULL)
 * hears of unknown keys. The caller owns |*pcfg| and frees it with
 * sy_config_free; |json| is not kept.
 * Returns 0, SY_ERR_PARSE (not JSON), SY_ERR_CONFIG or SY_ERR_NOMEM. */
int sy_config_parse(const char *json, size_t len, sy_config **pcfg, sy_buf *err,
                    sy_config_warn_fn warn, void *user);

/* Sets |d| to a deployment with nothing configured: every optional field
 * SY_UNSET or 0. */
void sy_deployment_init(sy_deployment *d);

/* Frees the strings and lists |d| owns, not |d| itself. */
void sy_deployment_clear(sy_deployment *d);

/* Frees |cfg| and everything it owns; NULL is allowed. */
void sy_config_free(sy_config *cfg);

/* The group named |name|, or NULL. The pointer lives as long as |cfg|.
 * Cost: one hash of |name| and, on average, about one string compare. */
const sy_group *sy_config_group(const sy_config *cfg, const char *name);

/* Parses a "provider/model" string. Returns 0 and sets |*kind| and
 * |*model_offset| (where the upstream model name starts in |s|), or
 * SY_ERR_NOT_FOUND when |s| has no known provider prefix. */
int sy_provider_from_model(const char *s, sy_provider_kind *kind, size_t *model_offset);

/* The fallback targets of |list| for |group|: its own rule, else the "*"
 * rule, else NULL with *n = 0. Borrowed from the config. */
char **sy_fallbacks_for(const sy_fallback_list *list, const char *group, size_t *n);

#endif /* SY_CONFIG_H */
