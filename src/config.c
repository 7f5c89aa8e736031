/* config.c: LiteLLM proxy config JSON -> sy_config (config.h).
 *
 * Choices made here where LiteLLM is silent, loose or quirky:
 * - JSON null means "not given" for every optional key (YAML's `api_base:`
 *   with no value), as pydantic's Optional fields do in LiteLLM.
 * - A key written twice in one object (possible in hand-written JSON, never
 *   from YAML or JS objects): the last one wins, as in Python and JS.
 * - Numbers may be numeric strings ("60", " 2.5 "); never "nan", "inf",
 *   hex or "1_000". Integers have documented ranges; durations are seconds
 *   from 0 to one year.
 * - cooldown_time: 0 and allowed_fails: 0 at router level mean 0 (LiteLLM
 *   turns the first into 5 s and ignores the second).
 * - router_settings wins over litellm_settings key by key; within one
 *   section `timeout` wins over its alias `request_timeout`. A policy or a
 *   fallback list is replaced as a whole by the winning section, not merged.
 * - In retry_policy / allowed_fails_policy, LiteLLM's exception names are
 *   applied first and Switchyard's class names after them, so the more
 *   precise name wins whatever the key order.
 * - A bare model name is OpenAI's ("gpt-4o"), except "claude-..." which is
 *   Anthropic's, as LiteLLM infers from its model list. custom_llm_provider
 *   (openai, azure, anthropic) overrides the inference.
 * - Deployment ids: model_info.id, else a hash of model_name and the
 *   canonical litellm_params text (identical on every instance of a fleet).
 *   Two explicit equal ids are an error; two identical entries without ids
 *   (LiteLLM accepts them) get "-2", "-3" suffixes and a warning.
 * - Fallback groups missing from model_list are warned about, not refused
 *   (they are skipped at request time); provider models ("openai/x") are
 *   servable without config and are not warned about.
 * - Messages are single lines; any value (of 4 bytes or more) found under a
 *   secret-looking key (api_key, master_key, *_API_KEY, passwords, tokens,
 *   ...) is replaced by "[redacted]" in every error and warning, wherever
 *   it would appear (a key pasted as a group name, say).
 * - Not valid JSON is SY_ERR_PARSE with the byte offset; a failed
 *   allocation inside cJSON is told apart (SY_ERR_NOMEM) by a JSON check
 *   that allocates nothing.
 * Costs: parsing is linear in the config size, except that a key repeated
 * in litellm_params costs a scan of that deployment's extra params. Group
 * lookup (sy_config_group, once per request) is one hash and, on average,
 * about one string compare.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"

#define MAX_RETRIES 100      /* as for a request's own num_retries */
#define MAX_COUNT 1000000    /* allowed_fails, order */
#define MAX_SECONDS 31536000 /* one year */
#define PATH_CAP 512
#define KEY_SHOWN 64 /* longer keys are cut in paths */
#define MSG_CAP 1024

/* Open-addressing index of strings: slot values are entry index + 1, 0 is
 * empty. Capacity is a power of two at least twice the entries. */
typedef struct strtab {
  uint32_t *slots;
  size_t mask;
} strtab;

typedef struct parser {
  sy_config *cfg;
  const cJSON *root; /* searched for secrets to redact */
  sy_buf *err;
  sy_config_warn_fn warn;
  void *user;
  strtab ids; /* deployment ids, during the parse */
  char path[PATH_CAP];
} parser;

/* ---- paths ---- */

/* Appends ".key" (or "key" at the root) with control characters replaced
 * and long keys cut, so that every message stays one readable line. Returns
 * the length to pop back to. */
static size_t path_key(parser *p, const char *key) {
  size_t len = strlen(p->path), at = len;
  if (at && at < PATH_CAP - 1) p->path[at++] = '.';
  size_t n = strlen(key), shown = n > KEY_SHOWN ? KEY_SHOWN : n;
  while (shown < n && shown > 0 && ((unsigned char)key[shown] & 0xC0) == 0x80)
    shown--; /* do not cut a UTF-8 sequence */
  for (size_t i = 0; i < shown && at < PATH_CAP - 1; i++) {
    unsigned char c = (unsigned char)key[i];
    p->path[at++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
  }
  for (int i = 0; shown < n && i < 3 && at < PATH_CAP - 1; i++)
    p->path[at++] = '.';
  p->path[at] = '\0';
  return len;
}

static size_t path_index(parser *p, int index) {
  size_t len = strlen(p->path);
  snprintf(p->path + len, PATH_CAP - len, "[%d]", index);
  return len;
}

static void path_pop(parser *p, size_t len) { p->path[len] = '\0'; }

/* ---- secrets never reach a message ---- */

/* strstr, naive: messages are short, and libc's two-way search costs the
 * wasm module more than this whole function. */
static const char *find(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++)
    if (!strncmp(hay, needle, n)) return hay;
  return n ? NULL : hay;
}

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), t = strlen(tail);
  return n >= t && !strcmp(s + n - t, tail);
}

/* api_key, master_key, OPENAI_API_KEY, x-api-key, aws_secret_access_key,
 * redis_password, azure_ad_token, vertex_credentials, ...; not max_tokens
 * nor a model group named "monkey". */
static int secret_name(const char *k) {
  char low[64];
  size_t i = 0;
  for (; k[i] && i < sizeof low - 1; i++)
    low[i] = (char)(k[i] >= 'A' && k[i] <= 'Z' ? k[i] + 32 : k[i]);
  low[i] = '\0';
  return !strcmp(low, "key") || !strcmp(low, "apikey") || ends_with(low, "_key") ||
         ends_with(low, "-key") || ends_with(low, "_token") || find(low, "secret") ||
         find(low, "password") || find(low, "credential");
}

/* Replaces every |needle| in |text| (capacity |cap|) by "[redacted]"; when
 * the result would not fit, it is cut before the first secret left. */
static void redact(char *text, size_t cap, const char *needle) {
  static const char rep[] = "[redacted]";
  size_t nl = strlen(needle), o = 0;
  char out[MSG_CAP];
  const char *s = text, *hit;
  if (!nl || !find(text, needle)) return;
  while ((hit = find(s, needle))) {
    size_t pre = (size_t)(hit - s);
    if (o + pre + sizeof rep > sizeof out) {
      s = NULL;
      break;
    }
    memcpy(out + o, s, pre);
    memcpy(out + o + pre, rep, sizeof rep - 1);
    o += pre + sizeof rep - 1;
    s = hit + nl;
  }
  if (s) {
    size_t rest = strlen(s);
    if (o + rest >= sizeof out) rest = sizeof out - 1 - o;
    memcpy(out + o, s, rest);
    o += rest;
  }
  out[o] = '\0';
  snprintf(text, cap, "%s", out);
}

/* Redacts from |text| every string found under a secret-looking key of the
 * config, to the depth where configs keep them (vertex credentials, ...). */
static void scrub(const cJSON *node, int under_secret, int depth, char *text, size_t cap) {
  const cJSON *c;
  cJSON_ArrayForEach(c, node) {
    int secret = under_secret || (c->string && secret_name(c->string));
    if (secret && cJSON_IsString(c) && strlen(c->valuestring) >= 4)
      redact(text, cap, c->valuestring);
    else if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && depth < 8)
      scrub(c, secret, depth + 1, text, cap);
  }
}

/* ---- errors and warnings ---- */

/* Rejects the config with "<path>: <what>". Returns SY_ERR_CONFIG, or
 * SY_ERR_NOMEM when the text itself could not be stored. */
static int fail(parser *p, const char *what) {
  if (!p->err) return SY_ERR_CONFIG;
  char line[MSG_CAP];
  snprintf(line, sizeof line, "%s: %s", p->path[0] ? p->path : "config", what);
  scrub(p->root, 0, 0, line, sizeof line);
  sy_buf_reset(p->err);
  sy_buf_puts(p->err, line);
  return p->err->oom ? SY_ERR_NOMEM : SY_ERR_CONFIG;
}

static void warn(parser *p, const char *what) {
  if (!p->warn) return;
  char path[PATH_CAP], msg[MSG_CAP];
  snprintf(path, sizeof path, "%s", p->path);
  snprintf(msg, sizeof msg, "%s", what);
  scrub(p->root, 0, 0, path, sizeof path);
  scrub(p->root, 0, 0, msg, sizeof msg);
  p->warn(p->user, path, msg);
}

static void warn_key(parser *p, const char *key, const char *what) {
  size_t len = path_key(p, key);
  warn(p, what);
  path_pop(p, len);
}

/* A name for a message: control characters replaced, cut at 100 bytes. */
static void quote_name(char *out, size_t cap, const char *s) {
  size_t o = 0;
  for (size_t i = 0; s[i] && o + 4 < cap && i < 100; i++) {
    unsigned char c = (unsigned char)s[i];
    out[o++] = (char)(c < 0x20 || c == 0x7f ? '?' : c);
  }
  if (strlen(s) > 100 && o + 4 < cap) o += (size_t)snprintf(out + o, cap - o, "...");
  out[o] = '\0';
}

/* ---- small helpers ---- */

/* Whether |k| is one of the NUL-separated names of |list| (which ends with
 * an empty name). Packed so that the module carries no pointer tables. */
static int in_list(const char *list, const char *k) {
  for (; *list; list += strlen(list) + 1)
    if (!strcmp(list, k)) return 1;
  return 0;
}

/* The last item named |k| of |obj| that is not null: the one that wins. */
static const cJSON *item(const cJSON *obj, const char *k) {
  const cJSON *c, *found = NULL;
  if (!cJSON_IsObject(obj)) return NULL;
  cJSON_ArrayForEach(c, obj) {
    if (c->string && !strcmp(c->string, k)) found = c;
  }
  return cJSON_IsNull(found) ? NULL : found;
}

/* Whether |v| is shadowed by a later key of the same name (which wins). */
static int shadowed(const cJSON *v) {
  for (const cJSON *c = v->next; c; c = c->next)
    if (c->string && !strcmp(c->string, v->string)) return 1;
  return 0;
}

/* ---- typed readers ---- */

/* A finite number, or a string holding one in decimal (LiteLLM accepts
 * "60"); surrounding blanks are allowed. */
static int as_number(const cJSON *v, double *out) {
  if (cJSON_IsNumber(v)) {
    if (!isfinite(v->valuedouble)) return -1;
    *out = v->valuedouble;
    return 0;
  }
  if (!cJSON_IsString(v)) return -1;
  const char *s = v->valuestring, *q;
  while (*s == ' ' || *s == '\t')
    s++;
  q = s;
  if (*q == '+' || *q == '-') q++;
  int digits = 0;
  while (*q >= '0' && *q <= '9')
    q++, digits++;
  if (*q == '.') {
    q++;
    while (*q >= '0' && *q <= '9')
      q++, digits++;
  }
  if (!digits) return -1;
  if (*q == 'e' || *q == 'E') {
    q++;
    if (*q == '+' || *q == '-') q++;
    if (!(*q >= '0' && *q <= '9')) return -1;
    while (*q >= '0' && *q <= '9')
      q++;
  }
  while (*q == ' ' || *q == '\t')
    q++;
  if (*q) return -1;
  double d = strtod(s, NULL);
  if (!isfinite(d)) return -1;
  *out = d;
  return 0;
}

static int rd_nonneg(parser *p, const cJSON *v, double *out) {
  double d;
  if (as_number(v, &d) < 0) return fail(p, "expected a number");
  if (d < 0) return fail(p, "expected a number >= 0");
  *out = d;
  return 0;
}

static int rd_int(parser *p, const cJSON *v, int lo, int hi, int *out) {
  double d;
  /* The range before the cast: casting an out-of-range double is undefined. */
  if (as_number(v, &d) < 0 || !(d >= lo && d <= hi) || d != (double)(int)d) {
    char msg[80];
    snprintf(msg, sizeof msg, "expected an integer from %d to %d", lo, hi);
    return fail(p, msg);
  }
  *out = (int)d;
  return 0;
}

/* Seconds in the file, ms in the config. */
static int rd_secs(parser *p, const cJSON *v, sy_ms *out) {
  double d;
  if (as_number(v, &d) < 0 || !(d >= 0 && d <= MAX_SECONDS)) {
    char msg[80];
    snprintf(msg, sizeof msg, "expected a number of seconds from 0 to %d", MAX_SECONDS);
    return fail(p, msg);
  }
  *out = d * 1000;
  return 0;
}

static int rd_bool(parser *p, const cJSON *v, bool *out) {
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

enum { STR_NUMBER_OK = 1, STR_EMPTY_UNSET = 2 };

/* A string (or, with STR_NUMBER_OK, a number written bare, as ids and API
 * versions sometimes are) replacing *out. */
static int rd_str(parser *p, const cJSON *v, char **out, int flags) {
  char num[32];
  const char *s;
  if (cJSON_IsString(v)) {
    s = v->valuestring;
  } else if ((flags & STR_NUMBER_OK) && cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
    double d = v->valuedouble;
    if (d > -1e15 && d < 1e15 && d == (double)(long long)d)
      snprintf(num, sizeof num, "%.0f", d);
    else
      snprintf(num, sizeof num, "%.17g", d);
    s = num;
  } else {
    return fail(p, "expected a string");
  }
  sy_free(*out);
  *out = NULL;
  if (!*s && (flags & STR_EMPTY_UNSET)) return 0;
  return (*out = sy_strdup(s)) ? 0 : SY_ERR_NOMEM;
}

/* ---- string index ---- */

typedef const char *(*name_at_fn)(const void *ctx, uint32_t i);

static int strtab_init(strtab *t, size_t n) {
  size_t cap = 8;
  while (cap < 2 * n)
    cap *= 2;
  if (!(t->slots = sy_calloc(cap, sizeof *t->slots))) return SY_ERR_NOMEM;
  t->mask = cap - 1;
  return 0;
}

/* The slot holding |key|, or the empty slot where it would go. */
static size_t strtab_find(const uint32_t *slots, size_t mask, const char *key, name_at_fn name_at,
                          const void *ctx) {
  size_t i = (size_t)sy_hash64(key, strlen(key), 0) & mask;
  while (slots[i] && strcmp(name_at(ctx, slots[i] - 1), key) != 0)
    i = (i + 1) & mask;
  return i;
}

static const char *group_name_at(const void *ctx, uint32_t i) {
  return ((const sy_config *)ctx)->groups[i].name;
}

static const char *dep_id_at(const void *ctx, uint32_t i) {
  return ((const sy_config *)ctx)->deps[i].id;
}

/* ---- retry_policy / allowed_fails_policy ---- */

#define BIT(c) (1u << (c))

/* LiteLLM's exception names and the classes each covers, in the order they
 * are applied. ContextWindowExceeded is a BadRequest in LiteLLM, and its
 * RateLimitError covers exhausted quotas. The AllowedFails-only names came
 * with LiteLLM's later per-class cooldowns; 502 and 503 are "server" here
 * like every 5xx, so InternalServerError, applied after them, wins over
 * them when both are given. */
static const struct {
  const char *stem;
  unsigned classes;
  int fails_only;
} litellm_policy[] = {
    {"ServiceUnavailableError", BIT(SY_CLASS_SERVER), 1},
    {"BadGatewayError", BIT(SY_CLASS_SERVER), 1},
    {"InternalServerError",
     BIT(SY_CLASS_SERVER) | BIT(SY_CLASS_OVERLOADED) | BIT(SY_CLASS_CONFLICT) |
         BIT(SY_CLASS_NETWORK) | BIT(SY_CLASS_BAD_RESPONSE),
     0},
    {"BadRequestError", BIT(SY_CLASS_BAD_REQUEST) | BIT(SY_CLASS_CONTEXT_WINDOW), 0},
    {"AuthenticationError", BIT(SY_CLASS_AUTH), 0},
    {"TimeoutError", BIT(SY_CLASS_TIMEOUT), 0},
    {"RateLimitError", BIT(SY_CLASS_RATE_LIMIT) | BIT(SY_CLASS_QUOTA), 0},
    {"ContentPolicyViolationError", BIT(SY_CLASS_CONTENT_POLICY), 0},
    {"NotFoundError", BIT(SY_CLASS_NOT_FOUND), 1},
};

static int policy_key_known(const char *k, const char *suffix, int fails) {
  int c = sy_class_from_name(k);
  if (c > SY_CLASS_OK) return 1;
  size_t kl = strlen(k), sl = strlen(suffix);
  if (kl <= sl || strcmp(k + kl - sl, suffix) != 0) return 0;
  for (size_t i = 0; i < sizeof litellm_policy / sizeof *litellm_policy; i++)
    if ((fails || !litellm_policy[i].fails_only) && strlen(litellm_policy[i].stem) == kl - sl &&
        !strncmp(k, litellm_policy[i].stem, kl - sl))
      return 1;
  return 0;
}

static int rd_policy_entry(parser *p, const cJSON *v, int hi, unsigned classes, int *out) {
  size_t len = path_key(p, v->string);
  int n, rc = rd_int(p, v, 0, hi, &n);
  if (rc < 0) return rc;
  path_pop(p, len);
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    if (classes & BIT(c)) out[c] = n;
  return 0;
}

/* Counts per error class. |fails|: allowed_fails_policy, else retry_policy. */
static int rd_policy(parser *p, const cJSON *obj, int fails, int *out) {
  const char *suffix = fails ? "AllowedFails" : "Retries";
  int hi = fails ? MAX_COUNT : MAX_RETRIES, rc;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    out[c] = SY_UNSET;
  if (!cJSON_IsObject(obj)) return fail(p, "expected an object of counts per error class");
  for (size_t i = 0; i < sizeof litellm_policy / sizeof *litellm_policy; i++) {
    if (litellm_policy[i].fails_only && !fails) continue;
    char name[64];
    snprintf(name, sizeof name, "%s%s", litellm_policy[i].stem, suffix);
    const cJSON *v = item(obj, name);
    if (v && (rc = rd_policy_entry(p, v, hi, litellm_policy[i].classes, out)) < 0) return rc;
  }
  for (int c = SY_CLASS_OK + 1; c < SY_CLASS_COUNT; c++) {
    const cJSON *v = item(obj, sy_class_name((sy_class)c));
    if (v && (rc = rd_policy_entry(p, v, hi, BIT(c), out)) < 0) return rc;
  }
  const cJSON *v;
  cJSON_ArrayForEach(v, obj) {
    if (!policy_key_known(v->string, suffix, fails)) warn_key(p, v->string, "unknown key, ignored");
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

/* Warns when |name| is neither a group nor a provider model ("openai/x",
 * servable without config). */
static void check_group(parser *p, const char *name, int rule_key) {
  sy_provider_kind k;
  size_t off;
  if ((rule_key && !strcmp(name, "*")) || sy_config_group(p->cfg, name) ||
      sy_provider_from_model(name, &k, &off) == 0)
    return;
  char q[128], msg[256];
  quote_name(q, sizeof q, name);
  snprintf(msg, sizeof msg, "model group '%s' is not in model_list; %s", q,
           rule_key ? "this rule never applies" : "skipped at request time");
  warn(p, msg);
}

/* Appends the rule |group| -> |targets| (a list of group names). */
static int add_rule(parser *p, sy_fallback_list *l, const char *group, const cJSON *targets) {
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
    size_t len = path_index(p, i++);
    if (!cJSON_IsString(t) || !*t->valuestring) return fail(p, "expected a model group name");
    if (!(r->targets[r->ntargets] = sy_strdup(t->valuestring))) return SY_ERR_NOMEM;
    r->ntargets++;
    check_group(p, t->valuestring, 0);
    path_pop(p, len);
  }
  return 0;
}

/* LiteLLM's [{"group": ["fb1", "fb2"]}, ...], replacing |l|. */
static int rd_fallbacks(parser *p, const cJSON *v, sy_fallback_list *l) {
  fallback_list_free(l);
  if (!cJSON_IsArray(v)) return fail(p, "expected a list of {model group: [fallback groups]}");
  const cJSON *rule;
  int i = 0, rc;
  cJSON_ArrayForEach(rule, v) {
    size_t len = path_index(p, i++);
    if (!cJSON_IsObject(rule) || cJSON_GetArraySize(rule) != 1)
      return fail(p, "expected an object with one key");
    size_t l2 = path_key(p, rule->child->string);
    check_group(p, rule->child->string, 1);
    if ((rc = add_rule(p, l, rule->child->string, rule->child)) < 0) return rc;
    path_pop(p, l2);
    path_pop(p, len);
  }
  return 0;
}

/* ---- fields: one reader per kind, tables per section ---- */

enum {
  F_RETRIES,       /* int, 0 to MAX_RETRIES */
  F_COUNT,         /* int, 0 to MAX_COUNT */
  F_ORDER,         /* int, 1 to MAX_COUNT */
  F_SECS,          /* sy_ms, from seconds */
  F_DEADLINE,      /* sy_ms, from seconds above 0 */
  F_NONNEG,        /* double >= 0 */
  F_BOOL,          /* bool */
  F_STR,           /* char *; "" is unset */
  F_STR_NUM,       /* char *; a bare number is taken as its text */
  F_RETRY_POLICY,  /* int[SY_CLASS_COUNT] */
  F_FAILS_POLICY,  /* int[SY_CLASS_COUNT] */
  F_FALLBACKS,     /* sy_fallback_list */
  F_STRATEGY,      /* char *, one of |strategies|, and the sy_strategy it names */
  F_STRATEGY_ARGS, /* routing_strategy_args: lowest_latency_buffer */
  F_CHAINS,        /* {name: [groups]}: sy_fallback_list of named chains */
  F_FRACTION,      /* double from 0 to 1 */
  F_PERCENT,       /* double from 0 to 100 */
  F_MECHANISM,     /* false, true, or an object of the mechanism's fields */
  F_TAGS,          /* the deployment's tags */
  F_ELSEWHERE      /* known, read by the caller */
};

typedef struct field {
  const char *name;
  unsigned char kind;
  unsigned short off; /* in sy_settings or sy_deployment */
} field;

#define S(name, kind, member)                                                                      \
  { name, kind, offsetof(sy_settings, member) }
static const field setting_fields[] = {
    S("num_retries", F_RETRIES, num_retries),
    S("retry_after", F_SECS, retry_after_ms),
    S("allowed_fails", F_COUNT, allowed_fails),
    S("allowed_fails_policy", F_FAILS_POLICY, allowed_fails_policy),
    S("cooldown_time", F_SECS, cooldown_ms),
    S("disable_cooldowns", F_BOOL, disable_cooldowns),
    S("timeout", F_DEADLINE, timeout_ms),
    S("request_timeout", F_DEADLINE, timeout_ms),
    S("attempt_timeout", F_SECS, attempt_timeout_ms),
    S("stream_timeout", F_SECS, stream_timeout_ms),
    S("max_fallbacks", F_RETRIES, max_fallbacks),
    S("backoff_initial", F_SECS, backoff_initial_ms),
    S("backoff_max", F_SECS, backoff_max_ms),
    S("retry_after_max", F_SECS, retry_after_max_ms),
    S("retry_policy", F_RETRY_POLICY, retry_policy),
    S("fallbacks", F_FALLBACKS, fallbacks),
    S("context_window_fallbacks", F_FALLBACKS, context_window_fallbacks),
    S("content_policy_fallbacks", F_FALLBACKS, content_policy_fallbacks),
    S("routing_strategy", F_STRATEGY, routing_strategy),
    S("routing_strategy_args", F_STRATEGY_ARGS, lowest_latency_buffer),
    S("enable_pre_call_checks", F_BOOL, enable_pre_call_checks),
    S("enable_tag_filtering", F_BOOL, enable_tag_filtering),
    S("tag_filtering_match_any", F_BOOL, tag_filtering_match_any),
    S("fallback_chains", F_CHAINS, fallback_chains),
    S("retry_budget", F_MECHANISM, rel.budget),
    S("circuit_breaker", F_MECHANISM, rel.breaker),
    S("adaptive_throttling", F_MECHANISM, rel.throttle),
    S("slow_start", F_MECHANISM, rel.slow_start),
    S("hedging", F_MECHANISM, rel.hedge_delay_ms),
    S("default_fallbacks", F_ELSEWHERE, fallbacks), /* appended after both sections */
};
#undef S

#define D(name, kind, member)                                                                      \
  { name, kind, offsetof(sy_deployment, member) }
static const field param_fields[] = {
    D("model", F_ELSEWHERE, model),
    D("custom_llm_provider", F_ELSEWHERE, model),
    D("api_base", F_STR, api_base),
    D("api_key", F_STR, api_key),
    D("api_version", F_STR_NUM, api_version),
    D("rpm", F_NONNEG, rpm),
    D("tpm", F_NONNEG, tpm),
    D("weight", F_NONNEG, weight),
    D("order", F_ORDER, order),
    D("timeout", F_SECS, timeout_ms),
    D("request_timeout", F_ELSEWHERE, timeout_ms), /* when timeout is absent */
    D("stream_timeout", F_SECS, stream_timeout_ms),
    D("num_retries", F_RETRIES, num_retries),
    D("cooldown_time", F_SECS, cooldown_ms),
    D("max_input_tokens", F_NONNEG, max_input_tokens),
    D("input_cost_per_token", F_NONNEG, input_cost_per_token),
    D("output_cost_per_token", F_NONNEG, output_cost_per_token),
    D("retry_policy", F_RETRY_POLICY, retry_policy),
    D("tags", F_TAGS, tags),
};
#undef D

/* The fields of each mechanism's block (sy_reliability), after its switch. */
#define R(name, kind, member)                                                                      \
  { name, kind, offsetof(sy_settings, rel.member) }
static const field budget_fields[] = {R("percent", F_PERCENT, budget_percent),
                                      R("min_per_second", F_NONNEG, budget_min_per_second),
                                      R("window", F_DEADLINE, budget_window_ms)};
static const field breaker_fields[] = {R("consecutive_failures", F_COUNT, breaker_consecutive),
                                       R("failure_rate", F_FRACTION, breaker_failure_rate),
                                       R("min_requests", F_NONNEG, breaker_min_requests),
                                       R("open_time", F_DEADLINE, breaker_open_ms),
                                       R("max_open_time", F_DEADLINE, breaker_max_open_ms),
                                       R("half_open_requests", F_ORDER, half_open_requests),
                                       R("max_ejection_percent", F_PERCENT, max_ejection_percent),
                                       R("panic_threshold", F_PERCENT, panic_percent)};
static const field throttle_fields[] = {R("k", F_NONNEG, throttle_k),
                                        R("min_requests", F_NONNEG, throttle_min_requests)};
static const field slow_start_fields[] = {R("window", F_DEADLINE, slow_start_ms),
                                          R("min_weight", F_FRACTION, slow_start_min_weight)};
static const field hedging_fields[] = {R("delay", F_DEADLINE, hedge_delay_ms),
                                       R("percentile", F_PERCENT, hedge_percentile)};
#undef R

static const field *field_of(const field *t, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(t[i].name, name)) return &t[i];
  return NULL;
}
#define SETTING(name) field_of(setting_fields, sizeof setting_fields / sizeof *setting_fields, name)
#define PARAM(name) field_of(param_fields, sizeof param_fields / sizeof *param_fields, name)

/* Each name with the strategy it selects, in the order of the error message. */
static const struct {
  const char *name;
  sy_strategy strategy;
} strategies[] = {{"simple-shuffle", SY_STRATEGY_SHUFFLE},
                  {"least-busy", SY_STRATEGY_LEAST_BUSY},
                  {"usage-based-routing", SY_STRATEGY_USAGE},
                  {"usage-based-routing-v2", SY_STRATEGY_USAGE},
                  {"latency-based-routing", SY_STRATEGY_LATENCY},
                  {"cost-based-routing", SY_STRATEGY_COST},
                  {"p2c-peak-ewma", SY_STRATEGY_P2C}};

static int rd_strategy(parser *p, const cJSON *v, sy_settings *s) {
  for (size_t i = 0; cJSON_IsString(v) && i < sizeof strategies / sizeof *strategies; i++)
    if (!strcmp(v->valuestring, strategies[i].name)) {
      s->strategy = strategies[i].strategy;
      return rd_str(p, v, &s->routing_strategy, 0);
    }
  return fail(p, "expected one of simple-shuffle, least-busy, usage-based-routing, "
                 "usage-based-routing-v2, latency-based-routing, cost-based-routing, "
                 "p2c-peak-ewma");
}

/* routing_strategy_args: LiteLLM passes these to its strategy; the one that
 * changes a decision here is lowest_latency_buffer (its ttl and the like
 * are LiteLLM's cache settings, accepted without a word). */
static int rd_strategy_args(parser *p, const cJSON *v, double *buffer) {
  if (!cJSON_IsObject(v)) return fail(p, "expected an object");
  const cJSON *b = item(v, "lowest_latency_buffer");
  if (!b || cJSON_IsNull(b)) return 0;
  size_t len = path_key(p, "lowest_latency_buffer");
  int rc = rd_nonneg(p, b, buffer);
  path_pop(p, len);
  return rc;
}

/* fallback_chains: {"fast_cheap": ["gpt-4o-mini", "claude-haiku"], ...},
 * named lists a request picks by metadata.fallback_chain (or by naming one
 * as its model), replacing |l|. */
static int rd_chains(parser *p, const cJSON *v, sy_fallback_list *l) {
  fallback_list_free(l);
  if (!cJSON_IsObject(v)) return fail(p, "expected an object of {chain name: [model groups]}");
  const cJSON *chain;
  int rc;
  cJSON_ArrayForEach(chain, v) {
    size_t len = path_key(p, chain->string);
    if (!cJSON_GetArraySize(chain)) return fail(p, "expected a non-empty list of model groups");
    if ((rc = add_rule(p, l, chain->string, chain)) < 0) return rc;
    path_pop(p, len);
  }
  return 0;
}

static int rd_tags(parser *p, const cJSON *v, sy_deployment *d);
static int rd_field(parser *p, const cJSON *v, const field *f, void *base);

/* A mechanism's block at |f| of the settings |s|: false turns it off, true
 * on with its defaults, an object on with the fields it names. Hedging has
 * no switch: its delay is the switch (0 = off), given as {delay} or alone. */
static int rd_mechanism(parser *p, const cJSON *v, const field *f, sy_settings *s) {
  static const struct {
    const char *name;
    const field *fields;
    size_t n;
  } blocks[] = {
      {"retry_budget", budget_fields, sizeof budget_fields / sizeof *budget_fields},
      {"circuit_breaker", breaker_fields, sizeof breaker_fields / sizeof *breaker_fields},
      {"adaptive_throttling", throttle_fields, sizeof throttle_fields / sizeof *throttle_fields},
      {"slow_start", slow_start_fields, sizeof slow_start_fields / sizeof *slow_start_fields},
      {"hedging", hedging_fields, sizeof hedging_fields / sizeof *hedging_fields}};
  size_t b = 0;
  while (strcmp(blocks[b].name, f->name))
    b++;
  int hedging = !strcmp(f->name, "hedging");
  bool *on = hedging ? NULL : (bool *)((char *)s + f->off);
  if (cJSON_IsBool(v) && on) {
    *on = cJSON_IsTrue(v);
    return 0;
  }
  if (hedging && (cJSON_IsNumber(v) || cJSON_IsString(v)))
    return rd_field(p, v, &blocks[b].fields[0], s);
  if (!cJSON_IsObject(v))
    return fail(p, hedging ? "expected {delay: seconds}" : "expected true, false or an object");
  if (on) *on = true;
  const cJSON *it;
  cJSON_ArrayForEach(it, v) {
    if (cJSON_IsNull(it)) continue;
    size_t len = path_key(p, it->string);
    const field *sub = field_of(blocks[b].fields, blocks[b].n, it->string);
    int rc = sub ? rd_field(p, it, sub, s) : 0;
    if (rc < 0) return rc;
    if (!sub) warn(p, "unknown key, ignored");
    path_pop(p, len);
  }
  return 0;
}

/* Reads |v| into the field |f| of |base| (a sy_settings or sy_deployment). */
static int rd_field(parser *p, const cJSON *v, const field *f, void *base) {
  void *at = (char *)base + f->off;
  switch (f->kind) {
  case F_RETRIES: return rd_int(p, v, 0, MAX_RETRIES, at);
  case F_COUNT: return rd_int(p, v, 0, MAX_COUNT, at);
  case F_ORDER: return rd_int(p, v, 1, MAX_COUNT, at);
  case F_SECS: return rd_secs(p, v, at);
  case F_DEADLINE: {
    sy_ms ms;
    int rc = rd_secs(p, v, &ms);
    if (rc < 0) return rc;
    if (ms <= 0) return fail(p, "expected a number of seconds above 0");
    *(sy_ms *)at = ms;
    return 0;
  }
  case F_NONNEG: return rd_nonneg(p, v, at);
  case F_BOOL: return rd_bool(p, v, at);
  case F_STR: return rd_str(p, v, at, STR_EMPTY_UNSET);
  case F_STR_NUM: return rd_str(p, v, at, STR_EMPTY_UNSET | STR_NUMBER_OK);
  case F_RETRY_POLICY: return rd_policy(p, v, 0, at);
  case F_FAILS_POLICY: return rd_policy(p, v, 1, at);
  case F_FALLBACKS: return rd_fallbacks(p, v, at);
  case F_STRATEGY: return rd_strategy(p, v, base);
  case F_STRATEGY_ARGS: return rd_strategy_args(p, v, at);
  case F_CHAINS: return rd_chains(p, v, at);
  case F_FRACTION:
  case F_PERCENT: {
    double d, hi = f->kind == F_PERCENT ? 100 : 1;
    if (as_number(v, &d) < 0 || !(d >= 0 && d <= hi))
      return fail(p, f->kind == F_PERCENT ? "expected a number from 0 to 100"
                                          : "expected a number from 0 to 1");
    *(double *)at = d;
    return 0;
  }
  case F_MECHANISM: return rd_mechanism(p, v, f, base);
  case F_TAGS: return rd_tags(p, v, base);
  default: return 0;
  }
}

/* LiteLLM keys (Router arguments, proxy router_settings, litellm module
 * settings) that Switchyard does not implement or leaves to its host: they
 * are accepted without a word. Anything else unknown is warned about. */
static const char quiet_settings[] =
    /* Router / router_settings */
    "model_list\0assistants_config\0search_tools\0guardrail_list\0redis_url\0redis_host\0"
    "redis_port\0redis_password\0cache_responses\0cache_kwargs\0caching_groups\0client_ttl\0"
    "polling_interval\0default_priority\0default_litellm_params\0default_max_parallel_requests\0"
    "set_verbose\0debug_level\0model_group_alias\0"
    "model_group_retry_policy\0optional_pre_call_checks\0provider_budget_config\0alerting_"
    "config\0router_general_settings\0"
    "ignore_invalid_deployments\0deployment_affinity_ttl_seconds\0model_group_affinity_config\0"
    "enable_health_check_routing\0health_check_staleness_threshold\0"
    "health_check_ignore_transient_errors\0max_parallel_requests\0num_workers\0"
    /* litellm_settings */
    "drop_params\0modify_params\0additional_drop_params\0json_logs\0success_callback\0"
    "failure_callback\0callbacks\0service_callback\0input_callback\0callback_settings\0"
    "turn_off_message_logging\0redact_messages_in_exceptions\0redact_user_api_key_info\0cache\0"
    "cache_params\0enable_caching_on_provider_specific_optional_params\0default_in_memory_ttl\0"
    "default_redis_ttl\0default_redis_batch_cache_expiry\0upperbound_key_generate_params\0"
    "default_key_generate_params\0key_generation_settings\0default_internal_user_params\0"
    "default_team_params\0default_team_settings\0max_internal_user_budget\0"
    "internal_user_budget_duration\0max_end_user_budget\0max_user_budget\0max_budget\0"
    "budget_duration\0disable_end_user_cost_tracking\0"
    "disable_end_user_cost_tracking_prometheus_only\0enable_preview_features\0"
    "enable_json_schema_validation\0disable_add_transform_inline_image_block\0"
    "disable_hf_tokenizer_download\0disable_token_counter\0public_model_groups\0"
    "public_model_groups_links\0model_group_settings\0tag_budget_config\0telemetry\0"
    "return_response_headers\0suppress_debug_info\0ssl_verify\0ssl_certificate\0force_ipv4\0"
    "disable_streaming_logging\0enable_azure_ad_token_refresh\0langfuse_default_tags\0"
    "mcp_aliases\0enable_loadbalancing_on_batch_endpoints\0s3_callback_params\0model_alias_map\0"
    "num_retries_per_request\0guardrails\0use_chat_completions_url_for_anthropic_messages\0"
    "disable_copilot_system_to_assistant\0reject_clientside_metadata_tags\0"
    "log_raw_request_response\0store_audit_logs\0context_window_fallback_dict\0max_tokens\0"
    "api_base\0api_version\0api_key\0check_provider_endpoint\0"
    "prometheus_initialize_budget_metrics\0presidio_ad_hoc_recognizers\0"
    /* Switchyard's own, read by the JS host */
    "alerting\0";

static int rd_section(parser *p, const char *name) {
  const cJSON *sec = item(p->root, name);
  if (!sec) return 0;
  size_t len = path_key(p, name);
  if (!cJSON_IsObject(sec)) return fail(p, "expected an object");
  int has_timeout = item(sec, "timeout") != NULL, rc;
  const cJSON *v;
  cJSON_ArrayForEach(v, sec) {
    if (cJSON_IsNull(v)) continue;
    if (has_timeout && !strcmp(v->string, "request_timeout")) continue; /* timeout wins */
    size_t l2 = path_key(p, v->string);
    const field *f = SETTING(v->string);
    if (f && (rc = rd_field(p, v, f, &p->cfg->settings)) < 0) return rc;
    if (!f && !in_list(quiet_settings, v->string)) warn(p, "unknown key, ignored");
    path_pop(p, l2);
  }
  path_pop(p, len);
  return 0;
}

/* litellm_settings, then router_settings over it, so that a key in
 * router_settings wins wherever it is written; then default_fallbacks (of
 * the winning section) as a "*" rule after the fallbacks. */
static int rd_settings(parser *p) {
  static const char *const sections[] = {"litellm_settings", "router_settings"};
  int rc;
  for (int i = 0; i < 2; i++)
    if ((rc = rd_section(p, sections[i])) < 0) return rc;
  for (int i = 1; i >= 0; i--) {
    const cJSON *d = item(item(p->root, sections[i]), "default_fallbacks");
    if (!d) continue;
    size_t len = path_key(p, sections[i]);
    path_key(p, "default_fallbacks");
    if ((rc = add_rule(p, &p->cfg->settings.fallbacks, "*", d)) < 0) return rc;
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
  for (size_t i = 0; i < sizeof known / sizeof *known; i++) {
    size_t n = strlen(known[i].prefix);
    if (strncmp(s, known[i].prefix, n) == 0 && s[n]) {
      *kind = known[i].kind;
      *model_offset = n;
      return 0;
    }
  }
  return SY_ERR_NOT_FOUND;
}

void sy_deployment_init(sy_deployment *d) {
  memset(d, 0, sizeof *d);
  d->order = SY_UNSET;
  d->timeout_ms = d->stream_timeout_ms = d->cooldown_ms = SY_UNSET;
  d->num_retries = SY_UNSET;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    d->retry_policy[c] = SY_UNSET;
}

static void free_tags(sy_deployment *d) {
  for (size_t i = 0; i < d->ntags; i++)
    sy_free(d->tags[i]);
  sy_free(d->tags);
  d->tags = NULL;
  d->ntags = 0;
}

void sy_deployment_clear(sy_deployment *d) {
  sy_free(d->id);
  sy_free(d->group);
  sy_free(d->model);
  sy_free(d->upstream_model);
  sy_free(d->api_base);
  sy_free(d->api_key);
  sy_free(d->api_version);
  cJSON_Delete(d->extra_params);
  free_tags(d);
}

/* LiteLLM's own litellm_params that do not apply here (provider SDK retries
 * are off by design; other providers' credentials): dropped quietly, never
 * sent upstream. Also any aws_* and vertex_* key. */
static const char quiet_params[] =
    "max_retries\0region_name\0base_model\0max_parallel_requests\0max_budget\0budget_duration\0"
    "input_cost_per_second\0output_cost_per_second\0use_in_pass_through\0use_litellm_proxy\0"
    "merge_reasoning_content_in_choices\0drop_params\0additional_drop_params\0"
    "configurable_clientside_auth_params\0litellm_trace_id\0azure_ad_token\0"
    "azure_ad_token_provider\0tenant_id\0client_id\0client_secret\0azure_username\0"
    "azure_password\0azure_scope\0watsonx_region_name\0cache_control_injection_points\0"
    "auto_router_config_path\0auto_router_config\0auto_router_default_model\0"
    "auto_router_embedding_model\0model_info\0mock_timeout\0supports_system_message\0";

/* LiteLLM params whose effect Switchyard does not provide: dropped, with a
 * warning, since the requests will differ from LiteLLM's. */
static const char unsupported_params[] =
    "organization\0extra_headers\0headers\0litellm_credential_name\0mock_response\0";

static int quiet_param(const char *k) {
  return in_list(quiet_params, k) || !strncmp(k, "aws_", 4) || !strncmp(k, "vertex_", 7);
}

/* litellm_params.model. |forced|: the kind custom_llm_provider names, or -1.
 * With it any model name goes (LiteLLM's way to reach an OpenAI-compatible
 * server with a model named "org/model"); its own prefix is dropped. */
static int rd_model(parser *p, const cJSON *v, sy_deployment *d, int forced) {
  static const char want[] = "expected \"provider/model\" with provider openai, azure or anthropic";
  if (!cJSON_IsString(v) || !*v->valuestring) return fail(p, want);
  const char *s = v->valuestring;
  size_t off = 0;
  sy_provider_kind kind;
  if (sy_provider_from_model(s, &kind, &off) < 0) {
    if (forced < 0 && strchr(s, '/')) return fail(p, want);
    /* A bare name, as LiteLLM infers it from its model list. */
    kind = strncmp(s, "claude-", 7) == 0 ? SY_PROVIDER_ANTHROPIC : SY_PROVIDER_OPENAI;
  }
  if (forced >= 0 && (int)kind != forced) off = 0;
  d->provider = forced >= 0 ? (sy_provider_kind)forced : kind;
  sy_free(d->model);
  sy_free(d->upstream_model);
  d->upstream_model = NULL;
  if (!(d->model = sy_strdup(s)) || !(d->upstream_model = sy_strdup(s + off))) return SY_ERR_NOMEM;
  return 0;
}

static int rd_tags(parser *p, const cJSON *v, sy_deployment *d) {
  free_tags(d);
  if (!cJSON_IsArray(v)) return fail(p, "expected a list of strings");
  int n = cJSON_GetArraySize(v);
  if (n && !(d->tags = sy_calloc((size_t)n, sizeof *d->tags))) return SY_ERR_NOMEM;
  const cJSON *t;
  int i = 0;
  cJSON_ArrayForEach(t, v) {
    size_t len = path_index(p, i++);
    if (!cJSON_IsString(t)) return fail(p, "expected a string");
    if (!(d->tags[d->ntags] = sy_strdup(t->valuestring))) return SY_ERR_NOMEM;
    d->ntags++;
    path_pop(p, len);
  }
  return 0;
}

/* custom_llm_provider: the kind it names, -1 when absent, or an error. */
static int rd_custom_provider(parser *p, const cJSON *params, int *forced) {
  static const char *const names[] = {"openai", "azure", "anthropic"}; /* sy_provider_kind order */
  const cJSON *v = item(params, "custom_llm_provider");
  *forced = -1;
  if (!v) return 0;
  for (int i = 0; i < 3; i++)
    if (cJSON_IsString(v) && !strcmp(v->valuestring, names[i])) {
      *forced = i;
      return 0;
    }
  size_t len = path_key(p, "custom_llm_provider");
  int rc = fail(p, "expected openai, azure or anthropic");
  path_pop(p, len);
  return rc;
}

/* Adds |v| (a provider param: temperature, max_tokens, ...) to |extra|; a
 * repeated key replaces the earlier one. */
static int add_extra(cJSON *extra, const cJSON *v) {
  cJSON *copy = cJSON_Duplicate(v, 1);
  if (!copy) return SY_ERR_NOMEM;
  if (cJSON_GetObjectItemCaseSensitive(extra, v->string)) {
    if (!cJSON_ReplaceItemInObjectCaseSensitive(extra, v->string, copy)) {
      cJSON_Delete(copy);
      return SY_ERR_NOMEM;
    }
    return 0;
  }
  if (!cJSON_AddItemToObject(extra, v->string, copy)) {
    cJSON_Delete(copy);
    return SY_ERR_NOMEM;
  }
  return 0;
}

static int rd_litellm_params(parser *p, const cJSON *params, sy_deployment *d) {
  cJSON *extra = cJSON_CreateObject();
  if (!extra) return SY_ERR_NOMEM;
  const cJSON *v;
  int forced, rc = rd_custom_provider(p, params, &forced);
  cJSON_ArrayForEach(v, params) {
    if (rc < 0) break;
    if (cJSON_IsNull(v)) continue;
    size_t len = path_key(p, v->string);
    const field *f = PARAM(v->string);
    if (!strcmp(v->string, "model"))
      rc = rd_model(p, v, d, forced);
    else if (f)
      rc = rd_field(p, v, f, d);
    else if (in_list(unsupported_params, v->string))
      warn(p, "not supported by Switchyard, ignored");
    else if (!quiet_param(v->string))
      rc = add_extra(extra, v);
    if (rc < 0) break;
    path_pop(p, len);
  }
  if (rc == 0 && !d->model) {
    path_key(p, "model");
    rc = fail(p, "expected \"provider/model\", e.g. openai/gpt-4o");
  }
  if (rc == 0 && d->timeout_ms == SY_UNSET && (v = item(params, "request_timeout"))) {
    size_t len = path_key(p, "request_timeout"); /* LiteLLM's alias of timeout */
    if ((rc = rd_secs(p, v, &d->timeout_ms)) == 0) path_pop(p, len);
  }
  if (rc == 0 && extra->child)
    d->extra_params = extra; /* kept parsed: the upstream body is written from it */
  else
    cJSON_Delete(extra);
  return rc;
}

/* Gives |d| its id and records it: model_info.id as written (|explicit|),
 * else the hash of group and params; identical entries get suffixes. */
static int assign_id(parser *p, sy_deployment *d, const cJSON *params, int explicit) {
  sy_config *cfg = p->cfg;
  if (!explicit) {
    /* Deterministic, so every instance of a fleet names it alike. The key
     * is hashed with the rest but cannot be read back from 64 bits. */
    char *text = cJSON_PrintUnformatted(params);
    if (!text) return SY_ERR_NOMEM;
    uint64_t h = sy_hash64(d->group, strlen(d->group), 0);
    h = sy_hash64(text, strlen(text), h);
    sy_free(text);
    char id[17];
    snprintf(id, sizeof id, "%016llx", (unsigned long long)h);
    if (!(d->id = sy_strdup(id))) return SY_ERR_NOMEM;
  }
  uint32_t self = (uint32_t)(d - cfg->deps);
  size_t slot = strtab_find(p->ids.slots, p->ids.mask, d->id, dep_id_at, cfg);
  if (p->ids.slots[slot]) {
    char msg[96];
    int other = cfg->deps[p->ids.slots[slot] - 1].index;
    if (explicit) {
      size_t len = path_key(p, "model_info");
      path_key(p, "id");
      snprintf(msg, sizeof msg, "expected a unique deployment id; model_list[%d] has it too",
               other);
      int rc = fail(p, msg);
      path_pop(p, len);
      return rc;
    }
    char id[40];
    for (int n = 2;; n++) {
      snprintf(id, sizeof id, "%.16s-%d", d->id, n);
      slot = strtab_find(p->ids.slots, p->ids.mask, id, dep_id_at, cfg);
      if (!p->ids.slots[slot]) break;
    }
    snprintf(msg, sizeof msg, "same model_name and litellm_params as model_list[%d]; id %s", other,
             id);
    warn(p, msg);
    sy_free(d->id);
    if (!(d->id = sy_strdup(id))) return SY_ERR_NOMEM;
  }
  p->ids.slots[slot] = self + 1;
  return 0;
}

static int rd_model_info(parser *p, const cJSON *info, sy_deployment *d) {
  size_t len = path_key(p, "model_info");
  if (!cJSON_IsObject(info)) return fail(p, "expected an object");
  const cJSON *v;
  int rc = 0;
  cJSON_ArrayForEach(v, info) {
    if (cJSON_IsNull(v)) continue;
    size_t l2 = path_key(p, v->string);
    /* Other keys are free-form metadata in LiteLLM (mode, base_model, ...). */
    if (!strcmp(v->string, "id")) {
      rc = rd_str(p, v, &d->id, STR_NUMBER_OK);
      if (rc == 0 && !*d->id) rc = fail(p, "expected a non-empty string or a number");
    } else if (in_list("max_input_tokens\0input_cost_per_token\0output_cost_per_token\0",
                       v->string)) {
      rc = rd_field(p, v, PARAM(v->string), d);
    }
    if (rc < 0) return rc;
    path_pop(p, l2);
  }
  path_pop(p, len);
  return 0;
}

static int rd_deployment(parser *p, const cJSON *entry, sy_deployment *d) {
  int rc;
  if (!cJSON_IsObject(entry))
    return fail(p, "expected an object with model_name and litellm_params");
  const cJSON *v;
  cJSON_ArrayForEach(v, entry) {
    if (!in_list("model_name\0litellm_params\0model_info\0rpm\0tpm\0", v->string))
      warn_key(p, v->string, "unknown key, ignored");
  }
  const cJSON *name = item(entry, "model_name");
  const cJSON *params = item(entry, "litellm_params");
  const cJSON *info = item(entry, "model_info");
  size_t len = path_key(p, "model_name");
  if (!cJSON_IsString(name) || !*name->valuestring) return fail(p, "expected a model group name");
  if (!(d->group = sy_strdup(name->valuestring))) return SY_ERR_NOMEM;
  path_pop(p, len);

  len = path_key(p, "litellm_params");
  if (!cJSON_IsObject(params)) return fail(p, "expected an object with model");
  if ((rc = rd_litellm_params(p, params, d)) < 0) return rc;
  path_pop(p, len);

  /* Top-level rpm/tpm, copied in when litellm_params lacks them (LiteLLM). */
  static const char *const top[] = {"rpm", "tpm"};
  for (int i = 0; i < 2; i++) {
    const cJSON *t = item(entry, top[i]);
    if (!t || item(params, top[i])) continue;
    size_t l2 = path_key(p, top[i]);
    if ((rc = rd_field(p, t, PARAM(top[i]), d)) < 0) return rc;
    path_pop(p, l2);
  }
  /* model_info after litellm_params: its max_input_tokens and costs win. */
  if (info && (rc = rd_model_info(p, info, d)) < 0) return rc;
  return assign_id(p, d, params, d->id != NULL);
}

/* Groups in order of first appearance, indexed by name. */
static int build_groups(sy_config *cfg) {
  if (!cfg->ndeps) return 0;
  if (!(cfg->groups = sy_calloc(cfg->ndeps, sizeof *cfg->groups))) return SY_ERR_NOMEM;
  strtab t;
  if (strtab_init(&t, cfg->ndeps) < 0) return SY_ERR_NOMEM;
  cfg->group_slots = t.slots;
  cfg->group_slots_mask = t.mask;
  for (size_t i = 0; i < cfg->ndeps; i++) {
    const char *name = cfg->deps[i].group;
    size_t slot = strtab_find(t.slots, t.mask, name, group_name_at, cfg);
    if (!t.slots[slot]) {
      cfg->groups[cfg->ngroups].name = cfg->deps[i].group;
      t.slots[slot] = (uint32_t)++cfg->ngroups;
    }
    cfg->groups[t.slots[slot] - 1].ndeps++; /* counted first, filled below */
  }
  for (size_t g = 0; g < cfg->ngroups; g++) {
    cfg->groups[g].deps = sy_calloc(cfg->groups[g].ndeps, sizeof *cfg->groups[g].deps);
    cfg->groups[g].ndeps = 0;
    if (!cfg->groups[g].deps) return SY_ERR_NOMEM;
  }
  for (size_t i = 0; i < cfg->ndeps; i++) {
    size_t slot = strtab_find(t.slots, t.mask, cfg->deps[i].group, group_name_at, cfg);
    sy_group *g = &cfg->groups[t.slots[slot] - 1];
    g->deps[g->ndeps++] = &cfg->deps[i];
  }
  return 0;
}

static int rd_model_list(parser *p) {
  const cJSON *list = item(p->root, "model_list");
  if (!list) return 0; /* only provider models named in requests are served */
  size_t len = path_key(p, "model_list");
  if (!cJSON_IsArray(list)) return fail(p, "expected a list of deployments");
  sy_config *cfg = p->cfg;
  int n = cJSON_GetArraySize(list), rc;
  if (n == 0) {
    path_pop(p, len);
    return 0;
  }
  if (!(cfg->deps = sy_calloc((size_t)n, sizeof *cfg->deps))) return SY_ERR_NOMEM;
  for (int i = 0; i < n; i++)
    sy_deployment_init(&cfg->deps[i]);
  cfg->ndeps = (size_t)n;
  if (strtab_init(&p->ids, (size_t)n) < 0) return SY_ERR_NOMEM;
  const cJSON *entry;
  int i = 0;
  cJSON_ArrayForEach(entry, list) {
    size_t l2 = path_index(p, i);
    cfg->deps[i].index = i;
    if ((rc = rd_deployment(p, entry, &cfg->deps[i])) < 0) return rc;
    path_pop(p, l2);
    i++;
  }
  path_pop(p, len);
  return build_groups(cfg);
}

static int rd_env(parser *p) {
  const cJSON *env = item(p->root, "provider_env");
  if (!env) return 0;
  size_t len = path_key(p, "provider_env");
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
    size_t i = 0;
    while (i < sizeof vars / sizeof *vars && strcmp(v->string, vars[i].name))
      i++;
    if (i == sizeof vars / sizeof *vars) {
      warn_key(p, v->string, "unknown key, ignored");
      continue;
    }
    if (cJSON_IsNull(v) || shadowed(v)) continue;
    size_t l2 = path_key(p, v->string);
    int rc = rd_str(p, v, vars[i].slot, STR_EMPTY_UNSET);
    if (rc < 0) return rc;
    path_pop(p, l2);
  }
  path_pop(p, len);
  return 0;
}

static int rd_top(parser *p) {
  static const char known[] = "model_list\0router_settings\0litellm_settings\0general_settings\0"
                              "environment_variables\0provider_env\0"
                              /* LiteLLM proxy sections for features Switchyard lacks */
                              "guardrails\0credential_list\0mcp_servers\0files_settings\0"
                              "finetune_settings\0assistant_settings\0search_tools\0"
                              "vector_store_registry\0";
  const cJSON *v;
  cJSON_ArrayForEach(v, p->root) {
    if (!in_list(known, v->string)) warn_key(p, v->string, "unknown key, ignored");
  }
  /* Left to the host (master_key, os.environ values), but objects. */
  static const char *const host_sections[] = {"general_settings", "environment_variables"};
  for (int i = 0; i < 2; i++) {
    const cJSON *s = item(p->root, host_sections[i]);
    if (s && !cJSON_IsObject(s)) {
      path_key(p, host_sections[i]);
      return fail(p, "expected an object");
    }
  }
  return 0;
}

static void settings_defaults(sy_settings *s) {
  s->num_retries = 2;
  s->allowed_fails = 3;
  s->cooldown_ms = 5000;
  s->timeout_ms = 600000;
  s->max_fallbacks = 5;
  s->backoff_initial_ms = 500;
  s->backoff_max_ms = 8000;
  s->retry_after_max_ms = 60000;
  s->tag_filtering_match_any = true;
  sy_reliability *r = &s->rel;
  r->budget = r->breaker = r->throttle = r->slow_start = true;
  r->budget_percent = 20;
  r->budget_min_per_second = 10;
  r->budget_window_ms = 10000;
  r->breaker_consecutive = 5;
  r->breaker_failure_rate = 0.85;
  r->breaker_min_requests = 50;
  r->breaker_open_ms = 30000;
  r->breaker_max_open_ms = 300000;
  r->half_open_requests = 1;
  r->max_ejection_percent = 10;
  r->panic_percent = 50;
  r->throttle_k = 1.5;
  r->throttle_min_requests = 20;
  r->slow_start_ms = 30000;
  r->slow_start_min_weight = 0.1;
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    s->retry_policy[c] = s->allowed_fails_policy[c] = SY_UNSET;
}

/* ---- telling bad bytes from a failed allocation ----
 * cJSON returns NULL for both; sy_json_cjson_valid tells them apart. */

static size_t skip_blank(const char *s, size_t n, size_t i) {
  while (i < n && (unsigned char)s[i] <= ' ') /* cJSON's blank: any byte <= 32 */
    i++;
  return i;
}

int sy_config_parse(const char *json, size_t len, sy_config **pcfg, sy_buf *err,
                    sy_config_warn_fn warn_fn, void *user) {
  *pcfg = NULL;
  if (err) sy_buf_reset(err);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
  if (root && end) { /* only blanks may follow the value */
    size_t at = (size_t)(end - json);
    at = skip_blank(json, len, at);
    if (at < len) {
      cJSON_Delete(root);
      root = NULL;
      end = json + at;
    }
  } else if (!root && sy_json_cjson_valid(json, len)) {
    return SY_ERR_NOMEM;
  }
  if (!root) {
    if (err) {
      size_t at = end && end >= json && end <= json + len ? (size_t)(end - json) : 0;
      sy_buf_printf(err, "config: not valid JSON (at byte %zu)", at);
      if (err->oom) return SY_ERR_NOMEM;
    }
    return SY_ERR_PARSE;
  }
  parser p;
  memset(&p, 0, sizeof p);
  p.root = root;
  p.err = err;
  p.warn = warn_fn;
  p.user = user;
  int rc;
  sy_config *cfg = sy_calloc(1, sizeof *cfg);
  if (!cfg) {
    rc = SY_ERR_NOMEM;
    goto done;
  }
  p.cfg = cfg;
  settings_defaults(&cfg->settings);
  if (!cJSON_IsObject(root)) {
    rc = fail(&p, "expected an object with model_list");
    goto done;
  }
  if ((rc = rd_top(&p)) < 0) goto done;
  if ((rc = rd_model_list(&p)) < 0) goto done;
  if ((rc = rd_settings(&p)) < 0) goto done; /* after the groups: fallbacks are checked */
  rc = rd_env(&p);
done:
  sy_free(p.ids.slots);
  cJSON_Delete(root);
  if (rc < 0) {
    sy_config_free(cfg);
    if (rc == SY_ERR_NOMEM && err) sy_buf_reset(err);
    return rc;
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
  sy_free(cfg->group_slots);
  fallback_list_free(&cfg->settings.fallbacks);
  fallback_list_free(&cfg->settings.context_window_fallbacks);
  fallback_list_free(&cfg->settings.content_policy_fallbacks);
  fallback_list_free(&cfg->settings.fallback_chains);
  sy_free(cfg->settings.routing_strategy);
  sy_provider_env *e = &cfg->env;
  char *envs[] = {e->openai_api_key,     e->openai_api_base, e->anthropic_api_key,
                  e->anthropic_api_base, e->azure_api_key,   e->azure_api_base,
                  e->azure_api_version};
  for (size_t i = 0; i < sizeof envs / sizeof *envs; i++)
    sy_free(envs[i]);
  sy_free(cfg);
}

const sy_group *sy_config_group(const sy_config *cfg, const char *name) {
  if (!cfg || !name) return NULL;
  if (cfg->group_slots) {
    size_t slot = strtab_find(cfg->group_slots, cfg->group_slots_mask, name, group_name_at, cfg);
    return cfg->group_slots[slot] ? &cfg->groups[cfg->group_slots[slot] - 1] : NULL;
  }
  for (size_t i = 0; i < cfg->ngroups; i++) /* a config built by hand */
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
