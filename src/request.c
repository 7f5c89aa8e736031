/* request.c: the router and the per-request state machine (request.h). */
#include "request.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cJSON.h"
#include "config.h"
#include "health.h"
#include "policy.h"
#include "providers.h"
#include "select.h"

/* Ids of requests and attempts share one counter below 2^29, so a timer id
 * can carry its owner's id and its kind: timer = id << 2 | kind. */
#define ID_LIMIT (1 << 29)
enum { TIMER_DEADLINE = 0, TIMER_BACKOFF = 1, TIMER_ATTEMPT = 2, TIMER_FIRST_TOKEN = 3 };
/* An attempt's hedge delay: kind 0 with an attempt's id, which no request
 * shares (ids come from one counter), so it cannot be taken for a deadline. */
enum { TIMER_HEDGE = 0 };

/* An upstream answer larger than this is not buffered further: the attempt
 * ends as bad_response. Chat answers are far smaller. */
#define MAX_RESPONSE_BYTES (64u << 20)
/* Request-level fallbacks beyond this many entries are ignored. */
#define MAX_REQUEST_FALLBACKS 32

typedef struct request request;

typedef struct attempt {
  int32_t id;
  request *req;
  const sy_deployment *dep;
  int dep_index; /* in the request's current group */
  sy_ms started;
  int status;
  int timer_armed;
  int first_token_armed; /* streams: the stream_timeout until content */
  int in_flight;         /* sent and counted in the deployment's usage */
  int probe;             /* sent to a half-open breaker: its answer decides */
  int hedge_armed;       /* a hedge starts if nothing came back by then */
  sy_buf headers;
  sy_buf body;
  sy_stream *stream; /* a 2xx answer to a streamed request */
  sy_buf pending;    /* its frames, held until the stream commits */
} attempt;

/* A deployment made for one request: a provider model named directly, or a
 * fallback object overriding key/base. Owned by the request. */
typedef struct adhoc {
  sy_deployment dep;
  sy_deployment *ptr;
  sy_group group;
} adhoc;

struct request {
  int32_t id;
  cJSON *params;    /* what goes to the provider; router keys removed */
  cJSON *fallbacks; /* the request's own fallbacks array, or NULL */
  int stream;
  int disable_fallbacks;
  int num_retries; /* SY_UNSET unless the request set it */
  sy_ms started, deadline;
  char *first_group;       /* the group asked for, by name */
  const sy_group *group;   /* the group being tried now */
  uint8_t *tried, *banned; /* per deployment of |group|; one block, at |tried| */
  int attempts, retries, hops;
  uint32_t req_fb_used; /* bit i: request fallback i was entered */
  char **visited;       /* config groups entered, first_group included */
  size_t nvisited;
  adhoc **adhocs;
  size_t nadhocs;
  attempt *cur;
  attempt *spare; /* hedging: the other attempt still in flight, or NULL */
  int deadline_armed, backoff_armed;
  int budget_denied;             /* the retry budget said no: no more retries */
  int committed;                 /* a stream has sent its first chunk: no retry after this */
  int embeddings;                /* an embeddings request rather than a chat one */
  const sy_deployment *last_dep; /* where the last attempt went */
  sy_class last_cls;
  int last_status;
  sy_ms last_retry_after;
  sy_buf last_msg;
  sy_buf tries;         /* JSON objects, comma-separated */
  double prompt_tokens; /* estimated from the messages: windows, tpm headroom */
  double cost;          /* of the answer: its usage times the deployment's prices */
  cJSON *metadata;      /* the request's metadata, taken out of params */
  char **tags;          /* metadata.tags, borrowed from |metadata| */
  size_t ntags;
};

/* Open-addressing map from id to request or attempt; linear probing with
 * backward-shift deletion, so no tombstones build up under churn. */
typedef struct slot {
  int32_t key; /* 0 = empty */
  int is_attempt;
  void *val;
} slot;

struct sy_router {
  sy_host host;
  sy_config *cfg;
  sy_rng rng;
  int32_t next_id;
  slot *slots;
  size_t cap, used;
  size_t inflight;
  uint8_t *pick_scratch; /* both as large as the largest group entered */
  uint8_t *mask_scratch;
  size_t pick_cap;
  sy_buf ev;             /* event being built */
  sy_buf head, body;     /* upstream request being built */
  sy_observed *observed; /* per config deployment: latency, provider hints */
  sy_kv_cache *cache;    /* the copy of the store's keys (health.h) */
  const sy_host *store;  /* the health functions' host: kv through |cache| */
};

/* ---------- id map ---------- */

static size_t slot_of(const sy_router *r, int32_t key) {
  return ((uint32_t)key * 2654435761u) & (r->cap - 1);
}

static int map_grow(sy_router *r) {
  size_t ncap = r->cap ? r->cap * 2 : 64;
  slot *ns = sy_calloc(ncap, sizeof *ns);
  if (!ns) return SY_ERR_NOMEM;
  slot *old = r->slots;
  size_t ocap = r->cap;
  r->slots = ns;
  r->cap = ncap;
  for (size_t i = 0; i < ocap; i++) {
    if (!old[i].key) continue;
    size_t j = slot_of(r, old[i].key);
    while (ns[j].key)
      j = (j + 1) & (ncap - 1);
    ns[j] = old[i];
  }
  sy_free(old);
  return SY_OK;
}

static slot *map_find(const sy_router *r, int32_t key) {
  if (!r->cap || key <= 0) return NULL;
  for (size_t i = slot_of(r, key);; i = (i + 1) & (r->cap - 1)) {
    if (r->slots[i].key == key) return &r->slots[i];
    if (!r->slots[i].key) return NULL;
  }
}

/* Takes a fresh id for |val|. Returns the id, or SY_ERR_NOMEM. */
static int32_t map_add(sy_router *r, void *val, int is_attempt) {
  if ((r->used + 1) * 4 > r->cap * 3 && map_grow(r) < 0) return SY_ERR_NOMEM;
  int32_t id;
  do { /* skip ids still alive after a wrap */
    id = r->next_id;
    r->next_id = r->next_id + 1 >= ID_LIMIT ? 1 : r->next_id + 1;
  } while (map_find(r, id));
  size_t i = slot_of(r, id);
  while (r->slots[i].key)
    i = (i + 1) & (r->cap - 1);
  r->slots[i] = (slot){id, is_attempt, val};
  r->used++;
  return id;
}

static void map_del(sy_router *r, int32_t key) {
  slot *s = map_find(r, key);
  if (!s) return;
  size_t i = (size_t)(s - r->slots);
  r->slots[i].key = 0;
  r->used--;
  /* Backward shift: move later entries of the probe run into the hole. */
  for (size_t j = (i + 1) & (r->cap - 1); r->slots[j].key; j = (j + 1) & (r->cap - 1)) {
    size_t home = slot_of(r, r->slots[j].key);
    if ((j > i && (home <= i || home > j)) || (j < i && (home <= i && home > j))) {
      r->slots[i] = r->slots[j];
      r->slots[j].key = 0;
      i = j;
    }
  }
}

static void *map_get(const sy_router *r, int32_t key, int want_attempt) {
  slot *s = map_find(r, key);
  return s && s->is_attempt == want_attempt ? s->val : NULL;
}

/* ---------- events ---------- */

/* Starts an event: {"t":now,"type":"<type>","req":id */
static sy_buf *ev_begin(sy_router *r, sy_ms now, const char *type, int32_t req) {
  sy_buf *b = &r->ev;
  sy_buf_reset(b);
  sy_buf_puts(b, "{\"t\":");
  sy_buf_json_num(b, now);
  sy_buf_puts(b, ",\"type\":\"");
  sy_buf_puts(b, type);
  if (req) {
    sy_buf_puts(b, "\",\"req\":");
    sy_buf_int(b, req);
  } else {
    sy_buf_putc(b, '"');
  }
  return b;
}

/* ,"<key>": for a literal |key|, joined at compile time: a member's start
 * is then one append, not three. */
#define EV_KEY(key) ",\"" key "\":"

/* Member |key| (an EV_KEY) with the string |val|, or null. */
static void ev_str(sy_buf *b, const char *key, const char *val) {
  sy_buf_puts(b, key);
  if (val)
    sy_buf_json_str(b, val, strlen(val));
  else
    sy_buf_puts(b, "null");
}

/* Member |key| (an EV_KEY) with the number |val|. */
static void ev_num(sy_buf *b, const char *key, double val) {
  sy_buf_puts(b, key);
  sy_buf_json_num(b, val);
}

static void ev_end(sy_router *r) {
  sy_buf_putc(&r->ev, '}');
  if (!r->ev.oom) r->host.emit(r->host.user, r->ev.data, r->ev.len);
}

static void warn_cb(void *user, const char *path, const char *msg) {
  sy_router *r = user;
  sy_buf *b = ev_begin(r, r->host.now_ms(r->host.user), "config_warning", 0);
  ev_str(b, EV_KEY("path"), path);
  ev_str(b, EV_KEY("message"), msg);
  ev_end(r);
}

/* ---------- timers ---------- */

static void timer_arm(sy_router *r, int32_t owner, int kind, sy_ms delay) {
  r->host.timer_start(r->host.user, owner << 2 | kind, delay > 0 ? delay : 0);
}

static void timer_disarm(sy_router *r, int32_t owner, int kind, int *armed) {
  if (!*armed) return;
  *armed = 0;
  r->host.timer_cancel(r->host.user, owner << 2 | kind);
}

/* ---------- request lifetime ---------- */

/* What this instance observed of |d|; NULL for a deployment made for one
 * request (its own key or base), which has no history to keep. */
static sy_observed *observed_of(sy_router *r, const sy_deployment *d) {
  return d->index >= 0 ? &r->observed[d->index] : NULL;
}

/* An answer, or a failure whose time is the deployment's: latency samples
 * for latency-aware routing. A refusal of the request (4xx) says nothing of
 * how fast the deployment is. */
static int took_its_time(sy_class c) {
  return c == SY_CLASS_OK || c == SY_CLASS_SERVER || c == SY_CLASS_OVERLOADED ||
         c == SY_CLASS_TIMEOUT || c == SY_CLASS_NETWORK || c == SY_CLASS_BAD_RESPONSE;
}

/* |a| is over, answered with |tokens| (0 when unknown): out of the usage
 * counts of its deployment. */
static void attempt_over(sy_router *r, attempt *a, sy_ms now, double tokens) {
  if (!a->in_flight) return;
  a->in_flight = 0;
  sy_health_attempt_over(r->store, a->dep->id, now, tokens);
  if (a->probe) sy_breaker_probe(r->store, a->dep->id, -1, 0);
  sy_observed *o = observed_of(r, a->dep);
  if (o) o->outstanding--;
}

static void attempt_free(sy_router *r, attempt *a) {
  if (!a) return;
  attempt_over(r, a, a->started, 0); /* aborted or cancelled: no tokens to count */
  timer_disarm(r, a->id, TIMER_ATTEMPT, &a->timer_armed);
  timer_disarm(r, a->id, TIMER_FIRST_TOKEN, &a->first_token_armed);
  timer_disarm(r, a->id, TIMER_HEDGE, &a->hedge_armed);
  sy_stream_free(a->stream);
  sy_buf_free(&a->pending);
  map_del(r, a->id);
  if (a->req && a->req->spare == a) a->req->spare = NULL;
  if (a->req && a->req->cur == a) {
    a->req->cur = a->req->spare; /* a hedge race goes on with the other */
    a->req->spare = NULL;
  }
  sy_buf_free(&a->headers);
  sy_buf_free(&a->body);
  sy_free(a);
}

static void adhoc_free(adhoc *h) {
  sy_deployment_clear(&h->dep);
  sy_free(h);
}

static void request_free(sy_router *r, request *q) {
  while (q->cur) { /* a hedged request has two */
    r->host.fetch_abort(r->host.user, q->cur->id);
    attempt_free(r, q->cur);
  }
  timer_disarm(r, q->id, TIMER_DEADLINE, &q->deadline_armed);
  timer_disarm(r, q->id, TIMER_BACKOFF, &q->backoff_armed);
  map_del(r, q->id);
  cJSON_Delete(q->params);
  cJSON_Delete(q->fallbacks);
  cJSON_Delete(q->metadata);
  sy_free(q->tags);
  sy_free(q->first_group);
  sy_free(q->tried);
  for (size_t i = 0; i < q->nvisited; i++)
    sy_free(q->visited[i]);
  sy_free(q->visited);
  for (size_t i = 0; i < q->nadhocs; i++)
    adhoc_free(q->adhocs[i]);
  sy_free(q->adhocs);
  sy_buf_free(&q->last_msg);
  sy_buf_free(&q->tries);
  sy_free(q);
  r->inflight--;
}

static void route_json(sy_buf *b, const request *q) {
  sy_buf_puts(b, "\"route\":{\"model_group\":");
  const char *g = q->group ? q->group->name : q->first_group;
  if (g)
    sy_buf_json_str(b, g, strlen(g));
  else
    sy_buf_puts(b, "null");
  sy_buf_puts(b, ",\"deployment\":");
  if (q->last_dep)
    sy_buf_json_str(b, q->last_dep->id, strlen(q->last_dep->id));
  else
    sy_buf_puts(b, "null");
  sy_buf_puts(b, ",\"model\":");
  if (q->last_dep)
    sy_buf_json_str(b, q->last_dep->model, strlen(q->last_dep->model));
  else
    sy_buf_puts(b, "null");
  if (q->cost > 0) {
    sy_buf_puts(b, ",\"cost\":");
    sy_buf_json_num(b, q->cost);
  }
  sy_buf_puts(b, ",\"attempts\":");
  sy_buf_int(b, q->attempts);
  sy_buf_puts(b, ",\"fallbacks\":");
  sy_buf_int(b, q->hops);
  sy_buf_puts(b, ",\"tries\":[");
  sy_buf_append(b, q->tries.data ? q->tries.data : "", q->tries.len);
  sy_buf_puts(b, "]}");
}

/* Delivers the one answer of |q| and frees it. |response| (success) is the
 * OpenAI body; otherwise |status|, |cls| and |msg| make the error. */
static void finish(sy_router *r, request *q, sy_ms now, int status, sy_class cls,
                   const char *response, size_t response_len, const char *msg, sy_ms retry_after) {
  sy_buf out;
  sy_buf_init(&out);
  /* A stream's success has no body here: its chunks were the answer. */
  int streamed_ok = !response && status == 200;
  sy_buf_puts(&out, "{\"id\":");
  sy_buf_int(&out, q->id);
  sy_buf_puts(&out, ",\"status\":");
  sy_buf_int(&out, status);
  sy_buf_putc(&out, ',');
  if (response) {
    sy_buf_puts(&out, "\"response\":");
    sy_buf_append(&out, response, response_len);
  } else if (streamed_ok) {
    sy_buf_puts(&out, "\"stream\":true");
  } else {
    sy_buf_puts(&out, "\"error\":{\"message\":");
    sy_buf_json_str(&out, msg, strlen(msg));
    sy_buf_printf(&out, ",\"type\":\"%s\",\"code\":\"%s\"}",
                  status == 499 ? "cancelled" : sy_policy_error_type(cls),
                  status == 499 ? "client_closed_request" : sy_policy_error_code(cls));
    if (retry_after > 0) {
      sy_buf_puts(&out, ",\"retry_after_ms\":");
      sy_buf_json_num(&out, retry_after);
    }
  }
  sy_buf_putc(&out, ',');
  route_json(&out, q);
  sy_buf_putc(&out, '}');
  int32_t id = q->id;
  sy_buf *b = ev_begin(r, now, "deliver", id);
  ev_num(b, EV_KEY("status"), out.oom ? 500 : status);
  if (!response && !streamed_ok)
    ev_str(b, EV_KEY("class"), status == 499 ? "cancelled" : sy_class_name(cls));
  ev_str(b, EV_KEY("deployment"), q->last_dep ? q->last_dep->id : NULL);
  ev_num(b, EV_KEY("attempts"), q->attempts);
  ev_num(b, EV_KEY("fallbacks"), q->hops);
  ev_num(b, EV_KEY("latency_ms"), now - q->started);
  if (q->cost > 0) ev_num(b, EV_KEY("cost"), q->cost);
  /* A committed stream that fails ends with an error frame, OpenAI's
   * in-band error, before its deliver. */
  sy_buf frame;
  sy_buf_init(&frame);
  if (q->committed && !streamed_ok) {
    sy_buf_puts(&frame, "data: {\"error\":{\"message\":");
    sy_buf_json_str(&frame, msg, strlen(msg));
    sy_buf_printf(&frame, ",\"type\":\"%s\",\"code\":\"%s\"}}\n\n",
                  status == 499 ? "cancelled" : sy_policy_error_type(cls),
                  status == 499 ? "client_closed_request" : sy_policy_error_code(cls));
  }
  /* Free before delivering: the host may start new work from deliver. */
  request_free(r, q);
  ev_end(r);
  if (frame.len && !frame.oom) r->host.chunk(r->host.user, id, frame.data, frame.len);
  sy_buf_free(&frame);
  if (out.oom) {
    static const char oom[] = "{\"id\":%d,\"status\":500,\"error\":{\"message\":\"switchyard "
                              "core out of memory\",\"type\":\"api_error\",\"code\":\"oom\"}}";
    char small[192];
    int n = snprintf(small, sizeof small, oom, (int)id);
    r->host.deliver(r->host.user, id, small, (size_t)n);
  } else {
    r->host.deliver(r->host.user, id, out.data, out.len);
  }
  sy_buf_free(&out);
}

/* Ends |q| on its last failure, naming the attempts made. */
static void fail(sy_router *r, request *q, sy_ms now, const char *why) {
  sy_buf msg;
  sy_buf_init(&msg);
  if (q->last_msg.len)
    sy_buf_append(&msg, q->last_msg.data, q->last_msg.len);
  else
    sy_buf_puts(&msg, "request failed");
  sy_buf_printf(&msg, " [switchyard: model '%s', %d attempt%s", q->first_group, q->attempts,
                q->attempts == 1 ? "" : "s");
  if (q->hops) sy_buf_printf(&msg, ", %d fallback%s", q->hops, q->hops == 1 ? "" : "s");
  if (why) sy_buf_printf(&msg, "; %s", why);
  sy_buf_putc(&msg, ']');
  sy_ms ra = q->last_cls == SY_CLASS_RATE_LIMIT ? q->last_retry_after : 0;
  int status = sy_policy_client_status(q->last_cls, q->last_status);
  finish(r, q, now, status, q->last_cls, NULL, 0, sy_buf_cstr(&msg), ra);
  sy_buf_free(&msg);
}

/* Answers a request that never reached an upstream. */
static void reject(sy_router *r, request *q, sy_ms now, int status, sy_class cls, const char *msg) {
  q->last_cls = cls;
  q->last_status = status;
  finish(r, q, now, status, cls, NULL, 0, msg, 0);
}

/* Sets the last failure's message, with every API key of the request's
 * deployments replaced, so upstream text that echoes a key never leaks. */
static void set_last_msg(request *q, const sy_deployment *d, const char *msg, size_t n) {
  sy_buf_reset(&q->last_msg);
  const char *key = d ? d->api_key : NULL;
  size_t kl = key ? strlen(key) : 0;
  size_t i = 0;
  while (i < n) {
    if (kl >= 4 && n - i >= kl && memcmp(msg + i, key, kl) == 0) {
      sy_buf_puts(&q->last_msg, "[redacted]");
      i += kl;
    } else {
      sy_buf_putc(&q->last_msg, msg[i++]);
    }
  }
}

/* ---------- groups and deployments ---------- */

/* The pick's scratch bytes for a group of |n| deployments. */
static int scratch_for(sy_router *r, size_t n) {
  if (n <= r->pick_cap) return SY_OK;
  uint8_t *s = sy_realloc(r->pick_scratch, n);
  if (!s) return SY_ERR_NOMEM;
  r->pick_scratch = s;
  uint8_t *m = sy_realloc(r->mask_scratch, n);
  if (!m) return SY_ERR_NOMEM;
  r->mask_scratch = m;
  r->pick_cap = n;
  return SY_OK;
}

static int enter_group(sy_router *r, request *q, const sy_group *g) {
  size_t n = g->ndeps ? g->ndeps : 1;
  uint8_t *tried = sy_calloc(n, 2); /* and banned: one allocation, not two */
  if (!tried) return SY_ERR_NOMEM;
  sy_free(q->tried);
  q->tried = tried;
  q->banned = tried + n;
  q->group = g;
  return scratch_for(r, n);
}

static int visit(request *q, const char *group) {
  char **v = sy_realloc(q->visited, (q->nvisited + 1) * sizeof *v);
  if (!v) return SY_ERR_NOMEM;
  q->visited = v;
  if (!(v[q->nvisited] = sy_strdup(group))) return SY_ERR_NOMEM;
  q->nvisited++;
  return SY_OK;
}

static int visited(const request *q, const char *group) {
  for (size_t i = 0; i < q->nvisited; i++)
    if (strcmp(q->visited[i], group) == 0) return 1;
  return 0;
}

static const char *str_or(const cJSON *obj, const char *key, const char *dflt) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* Makes a one-deployment group for a provider model the config does not
 * serve: |model| ("openai/gpt-4o-mini"), with the string api_key, api_base
 * and api_version of |over| (the client body or a fallback object; may be
 * NULL), else |base| (may be NULL), else the provider's environment.
 * Returns NULL on OOM or when |model| names no provider. */
static const sy_group *adhoc_group(sy_router *r, request *q, const char *model, const cJSON *over,
                                   const sy_deployment *base) {
  sy_provider_kind kind;
  size_t off;
  if (sy_provider_from_model(model, &kind, &off) < 0) return NULL;
  const sy_provider_env *env = &r->cfg->env;
  const char *key = NULL, *api_base = NULL, *version = NULL;
  if (base && base->provider == kind) {
    key = base->api_key;
    api_base = base->api_base;
    version = base->api_version;
  } else if (kind == SY_PROVIDER_OPENAI) {
    key = env->openai_api_key, api_base = env->openai_api_base;
  } else if (kind == SY_PROVIDER_ANTHROPIC) {
    key = env->anthropic_api_key, api_base = env->anthropic_api_base;
  } else {
    key = env->azure_api_key, api_base = env->azure_api_base, version = env->azure_api_version;
  }
  key = str_or(over, "api_key", key);
  api_base = str_or(over, "api_base", api_base);
  version = str_or(over, "api_version", version);

  adhoc **list = sy_realloc(q->adhocs, (q->nadhocs + 1) * sizeof *list);
  if (!list) return NULL;
  q->adhocs = list;
  adhoc *h = sy_calloc(1, sizeof *h);
  if (!h) return NULL;
  sy_deployment *d = &h->dep;
  sy_deployment_init(d);
  d->provider = kind;
  d->index = -1;
  /* The id hashes the key with the rest, so two keys for one model are two
   * deployments with separate health, and the id never shows the key. */
  uint64_t hsh = sy_hash64(model, strlen(model), 0);
  if (api_base) hsh = sy_hash64(api_base, strlen(api_base), hsh);
  if (key) hsh = sy_hash64(key, strlen(key), hsh);
  char id[40];
  snprintf(id, sizeof id, "adhoc-%016llx", (unsigned long long)hsh);
  d->id = sy_strdup(id);
  d->group = sy_strdup(model);
  d->model = sy_strdup(model);
  d->upstream_model = sy_strdup(model + off);
  d->api_base = api_base ? sy_strdup(api_base) : NULL;
  d->api_key = key ? sy_strdup(key) : NULL;
  d->api_version = version ? sy_strdup(version) : NULL;
  if (!d->id || !d->group || !d->model || !d->upstream_model || (api_base && !d->api_base) ||
      (key && !d->api_key) || (version && !d->api_version)) {
    adhoc_free(h);
    return NULL;
  }
  h->ptr = d;
  h->group.name = d->group;
  h->group.deps = &h->ptr;
  h->group.ndeps = 1;
  q->adhocs[q->nadhocs++] = h;
  return &h->group;
}

/* Whether a failure of |q| has somewhere else to go, which makes cooling a
 * lone deployment worthwhile: later requests then skip straight there. */
static int has_fallbacks(const sy_router *r, const request *q) {
  if (q->disable_fallbacks) return 0;
  if (cJSON_GetArraySize(q->fallbacks) > 0) return 1;
  const sy_settings *s = &r->cfg->settings;
  const sy_fallback_list *lists[] = {&s->fallbacks, &s->context_window_fallbacks,
                                     &s->content_policy_fallbacks};
  for (size_t i = 0; i < 3; i++) {
    size_t n;
    sy_fallbacks_for(lists[i], q->first_group, &n);
    if (n) return 1;
  }
  return 0;
}

/* ---------- attempts ---------- */

static void after_failure(sy_router *r, request *q, sy_ms now);

/* How long |q|'s first attempt, to |d|, may go without an answer (a
 * stream: without its first token) before a hedge starts; 0 = none. With
 * hedging.percentile, that percentile of |d|'s recent latencies (first
 * tokens for a stream) once it has 5 samples, else hedging.delay. */
static sy_ms hedge_delay(sy_router *r, const request *q, const sy_deployment *d) {
  const sy_reliability *rel = &r->cfg->settings.rel;
  const sy_observed *o = observed_of(r, d);
  if (rel->hedge_percentile > 0 && o) {
    unsigned n = q->stream ? o->nttft : o->nlat;
    const double *ring = q->stream ? o->ttft : o->lat;
    if (n >= 5) {
      double v[SY_LATENCY_SAMPLES];
      for (unsigned i = 0; i < n; i++) { /* insertion sort: ten at most */
        unsigned j = i;
        for (; j > 0 && v[j - 1] > ring[i]; j--)
          v[j] = v[j - 1];
        v[j] = ring[i];
      }
      unsigned k = (unsigned)ceil(rel->hedge_percentile / 100 * n);
      return v[k > 0 ? k - 1 : 0];
    }
  }
  return rel->hedge_delay_ms;
}

static void start_attempt(sy_router *r, request *q, sy_pick p, sy_ms now) {
  int index = p.index;
  const sy_deployment *d = q->group->deps[index];
  attempt *a = sy_calloc(1, sizeof *a);
  int32_t id = a ? map_add(r, a, 1) : SY_ERR_NOMEM;
  if (id < 0) {
    sy_free(a);
    reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
    return;
  }
  a->id = id;
  a->req = q;
  a->dep = d;
  a->dep_index = index;
  a->started = now;
  q->cur = a;
  q->attempts++;
  q->tried[index] = 1;
  q->last_dep = d;

  sy_buf_reset(&r->head);
  sy_buf_reset(&r->body);
  sy_target t = {.provider = d->provider,
                 .upstream_model = d->upstream_model,
                 .api_base = d->api_base,
                 .api_key = d->api_key,
                 .api_version = d->api_version,
                 .extra_params = d->extra_params,
                 .embeddings = q->embeddings};
  int rc = sy_provider_build_request(&t, q->params, q->stream, &r->head, &r->body);
  if (rc == SY_OK && (r->head.oom || r->body.oom)) rc = SY_ERR_NOMEM;

  sy_buf *b = ev_begin(r, now, "attempt_start", q->id);
  ev_num(b, EV_KEY("attempt"), id);
  ev_num(b, EV_KEY("n"), q->attempts);
  ev_str(b, EV_KEY("group"), q->group->name);
  ev_str(b, EV_KEY("deployment"), d->id);
  ev_str(b, EV_KEY("model"), d->model);
  ev_end(r);

  if (rc < 0) {
    /* Nothing was sent: the deployment cannot express this request (an
     * Azure deployment without api_base, say). Another may. */
    attempt_free(r, a);
    q->last_cls = rc == SY_ERR_NOMEM ? SY_CLASS_SERVER : SY_CLASS_BAD_REQUEST;
    q->last_status = 0;
    q->last_retry_after = -1;
    sy_buf_reset(&q->last_msg);
    sy_buf_printf(&q->last_msg, "deployment %s cannot send this request: %s", d->id,
                  sy_strerror(rc));
    q->banned[index] = 1;
    if (q->cur) return; /* a hedge that could not start: the first attempt goes on */
    after_failure(r, q, now);
    return;
  }
  sy_ms limit = d->timeout_ms != SY_UNSET ? d->timeout_ms : r->cfg->settings.attempt_timeout_ms;
  if (limit > 0 && now + limit < q->deadline) {
    a->timer_armed = 1;
    timer_arm(r, id, TIMER_ATTEMPT, limit);
  }
  sy_ms first =
      d->stream_timeout_ms != SY_UNSET ? d->stream_timeout_ms : r->cfg->settings.stream_timeout_ms;
  if (q->stream && first > 0 && now + first < q->deadline) {
    a->first_token_armed = 1;
    timer_arm(r, id, TIMER_FIRST_TOKEN, first);
  }
  sy_ms hedge = q->attempts == 1 && q->group->ndeps > 1 ? hedge_delay(r, q, d) : 0;
  if (hedge > 0 && now + hedge < q->deadline) {
    a->hedge_armed = 1;
    timer_arm(r, id, TIMER_HEDGE, hedge);
  }
  sy_health_attempt_sent(r->store, d->id, now);
  a->in_flight = 1;
  if (p.probe) {
    /* Counted until its answer, or for as long as an attempt can last. */
    a->probe = 1;
    sy_breaker_probe(r->store, d->id, 1, limit > 0 ? limit : r->cfg->settings.timeout_ms);
    sy_buf *e = ev_begin(r, now, "probe", q->id);
    ev_str(e, EV_KEY("deployment"), d->id);
    ev_str(e, EV_KEY("group"), q->group->name);
    ev_end(r);
  }
  sy_observed *o = observed_of(r, d);
  if (o) {
    o->outstanding++;
    /* What the provider said is left shrinks with what was sent since. */
    if (o->rl_requests > 0) o->rl_requests--;
    if (o->rl_tokens > 0)
      o->rl_tokens = o->rl_tokens > q->prompt_tokens ? o->rl_tokens - q->prompt_tokens : 0;
  }
  r->host.fetch_start(r->host.user, id, r->head.data, r->head.len, r->body.data, r->body.len);
}

/* Cools or counts a failure of class |c| on |d| as policy says, emitting a
 * cooldown event when it cools. */
static void update_health(sy_router *r, request *q, const sy_deployment *d, sy_class c,
                          sy_ms retry_after, sy_ms now) {
  const sy_settings *s = &r->cfg->settings;
  sy_cool_kind kind = sy_policy_cool_kind(c);
  if (kind == SY_COOL_NEVER || s->disable_cooldowns) return;
  if (q->group->ndeps < 2 && !has_fallbacks(r, q)) return;
  if (kind == SY_COOL_COUNTED) {
    int per_class = s->allowed_fails_policy[c] != SY_UNSET;
    double fails = sy_health_count_failure(r->store, d->id, c, per_class);
    if (fails <= sy_policy_allowed_fails(s, c)) return;
  }
  sy_ms ms = sy_policy_cooldown_ms(s, d, retry_after);
  if (ms <= 0) return;
  sy_ms until = sy_health_cool(r->store, d->id, now, ms, c);
  sy_buf *b = ev_begin(r, now, "cooldown", q->id);
  ev_str(b, EV_KEY("deployment"), d->id);
  ev_str(b, EV_KEY("group"), q->group->name);
  ev_str(b, EV_KEY("reason"), sy_class_name(c));
  ev_num(b, EV_KEY("until"), until);
  ev_end(r);
}

/* Whether the group's share of open breakers allows one more (at least
 * one always may open): a few reads, only when a breaker is about to open. */
static int may_open(sy_router *r, const sy_group *g, sy_ms now) {
  double limit = r->cfg->settings.rel.max_ejection_percent / 100 * (double)g->ndeps;
  size_t open = 0;
  for (size_t i = 0; i < g->ndeps; i++) {
    sy_ms until;
    int times;
    open += sy_breaker_state_of(r->store, g->deps[i]->id, now, &until, &times) == SY_BREAKER_OPEN;
  }
  return open == 0 || (double)(open + 1) <= limit;
}

/* The breaker and the throttle learn how an attempt of |d| ended (class
 * |c|; |probe|: it was sent to a half-open breaker). Only failures that
 * took the deployment's time count against it; anything else it answered
 * shows it alive. */
static void breaker_after(sy_router *r, request *q, const sy_deployment *d, sy_class c, int probe,
                          sy_ms now) {
  const sy_reliability *rel = &r->cfg->settings.rel;
  int rejected = c == SY_CLASS_RATE_LIMIT || c == SY_CLASS_OVERLOADED;
  sy_observed *o = observed_of(r, d);
  if (o && rejected) o->rejected_at = now;
  if (rel->throttle && !rejected) sy_throttle_accept(r->store, d->id, now);
  if (!rel->breaker) return;
  if (c == SY_CLASS_OK || !took_its_time(c)) {
    if (!sy_breaker_success(r->store, d->id, probe)) return;
    sy_buf *b = ev_begin(r, now, "breaker_close", q->id);
    ev_str(b, EV_KEY("deployment"), d->id);
    ev_end(r);
    return;
  }
  /* As with cooldowns: a lone deployment is worth ejecting only when its
   * group has fallbacks to send the traffic to. */
  int allowed = (q->group->ndeps >= 2 || has_fallbacks(r, q)) && may_open(r, q->group, now);
  int times;
  double attempts = sy_health_usage_of(r->store, d->id, SY_USAGE_RPM, now);
  sy_ms until =
      sy_breaker_failure(r->store, rel, d->id, now, attempts, probe && allowed, allowed, &times);
  if (!until) return;
  if (o) o->recovered_at = until;
  sy_buf *b = ev_begin(r, now, "breaker_open", q->id);
  ev_str(b, EV_KEY("deployment"), d->id);
  ev_str(b, EV_KEY("group"), q->group->name);
  ev_str(b, EV_KEY("reason"), sy_class_name(c));
  ev_num(b, EV_KEY("until"), until);
  ev_num(b, EV_KEY("times"), times);
  ev_end(r);
}

/* The attempt |a| ended with |o|: record it, update health, then decide. */
static void attempt_done(sy_router *r, attempt *a, sy_outcome *o, sy_ms now) {
  request *q = a->req;
  const sy_deployment *d = a->dep;
  sy_ms latency = now - a->started;
  sy_buf_puts(&q->tries, q->tries.len ? ",{\"deployment\":" : "{\"deployment\":");
  sy_buf_json_str(&q->tries, d->id, strlen(d->id));
  sy_buf_puts(&q->tries, ",\"group\":");
  sy_buf_json_str(&q->tries, q->group->name, strlen(q->group->name));
  sy_buf_puts(&q->tries, ",\"status\":");
  sy_buf_int(&q->tries, o->status);
  sy_buf_puts(&q->tries, ",\"class\":\"");
  sy_buf_puts(&q->tries, sy_class_name(o->cls));
  sy_buf_puts(&q->tries, "\",\"latency_ms\":");
  sy_buf_json_num(&q->tries, latency);
  sy_buf_putc(&q->tries, '}');

  sy_buf *b = ev_begin(r, now, "attempt_end", q->id);
  ev_num(b, EV_KEY("attempt"), a->id);
  ev_str(b, EV_KEY("deployment"), d->id);
  ev_num(b, EV_KEY("status"), o->status);
  ev_str(b, EV_KEY("class"), sy_class_name(o->cls));
  ev_num(b, EV_KEY("latency_ms"), latency);
  ev_end(r);

  int probe = a->probe;
  attempt_over(r, a, now, o->prompt_tokens + o->completion_tokens);
  sy_observed *seen = observed_of(r, d);
  /* Slowness is what latency routing avoids: answers and the failures that
   * took the deployment's time count; refusals of the request do not. */
  if (seen && took_its_time(o->cls)) sy_observe_latency(seen, latency, now, false);
  breaker_after(r, q, d, o->cls, probe, now);
  if (o->cls == SY_CLASS_OK)
    q->cost = o->prompt_tokens * d->input_cost_per_token +
              o->completion_tokens * d->output_cost_per_token;
  attempt_free(r, a);
  if (o->cls == SY_CLASS_OK && q->committed) {
    finish(r, q, now, 200, SY_CLASS_OK, NULL, 0, NULL, 0); /* the stream was the answer */
    return;
  }
  if (o->cls == SY_CLASS_OK) {
    finish(r, q, now, 200, SY_CLASS_OK, o->response.data ? o->response.data : "{}",
           o->response.len ? o->response.len : 2, NULL, 0);
    return;
  }
  q->last_cls = o->cls;
  q->last_status = o->status;
  q->last_retry_after = o->retry_after_ms;
  set_last_msg(q, d, o->message.data ? o->message.data : "", o->message.len);
  if (sy_policy_retry_kind(o->cls) == SY_RETRY_MOVE_ON) {
    for (size_t i = 0; i < q->group->ndeps; i++)
      if (q->group->deps[i] == d) q->banned[i] = 1;
  }
  update_health(r, q, d, o->cls, o->retry_after_ms, now);
  if (q->cur) return; /* hedged: the other attempt may still answer */
  if (q->committed) {
    /* Chunks reached the client: another attempt would repeat them. */
    fail(r, q, now, "the stream failed after its first token");
    return;
  }
  after_failure(r, q, now);
}

/* Ends attempt |a| with class |c| (SY_CLASS_OK for a stream that finished)
 * and |msg|, for what the stream found rather than an upstream body. */
static void attempt_ends(sy_router *r, attempt *a, sy_class c, int status, const char *msg,
                         sy_ms now) {
  sy_outcome o;
  sy_outcome_init(&o);
  o.cls = c;
  o.status = status;
  sy_buf_puts(&o.message, msg);
  attempt_done(r, a, &o, now);
  sy_outcome_free(&o);
}

/* The stream of |a| commits: its first content token (or its clean end)
 * has come, so the client gets its chunks from now on. */
static void commit(sy_router *r, attempt *a, sy_ms now) {
  request *q = a->req;
  q->committed = 1;
  sy_observed *o = observed_of(r, a->dep);
  if (o) sy_observe_latency(o, now - a->started, now, true);
  /* A hedge race ends at the first token: the other attempt is aborted. */
  attempt *other = q->cur == a ? q->spare : q->cur;
  if (other) {
    r->host.fetch_abort(r->host.user, other->id);
    attempt_free(r, other);
  }
  timer_disarm(r, a->id, TIMER_FIRST_TOKEN, &a->first_token_armed);
  timer_disarm(r, a->id, TIMER_ATTEMPT, &a->timer_armed);
  sy_buf *b = ev_begin(r, now, "first_token", q->id);
  ev_num(b, EV_KEY("attempt"), a->id);
  ev_str(b, EV_KEY("group"), q->group->name);
  ev_str(b, EV_KEY("deployment"), a->dep->id);
  ev_num(b, EV_KEY("attempts"), q->attempts);
  ev_num(b, EV_KEY("latency_ms"), now - a->started);
  ev_end(r);
}

/* Feeds a streamed answer's bytes (or its end, when |end|) through the
 * translator, then commits, forwards, fails or finishes as they say. */
static void stream_advance(sy_router *r, attempt *a, const char *p, size_t n, int end, sy_ms now) {
  request *q = a->req;
  int rc =
      end ? sy_stream_finish(a->stream, &a->pending) : sy_stream_feed(a->stream, p, n, &a->pending);
  const char *msg = "switchyard core out of memory reading the stream";
  sy_class failed = rc < 0 ? SY_CLASS_BAD_RESPONSE : sy_stream_failure(a->stream, &msg);
  int done = !failed && sy_stream_done(a->stream);
  if (done && !end && sy_stream_finish(a->stream, &a->pending) < 0) failed = SY_CLASS_BAD_RESPONSE;
  if (failed) {
    /* The core gives up on it: the upstream must stop generating too. */
    if (!end) r->host.fetch_abort(r->host.user, a->id);
    attempt_ends(r, a, failed, a->status, msg, now);
    return;
  }
  if (!q->committed && (done || sy_stream_has_content(a->stream))) commit(r, a, now);
  if (q->committed && a->pending.len) {
    r->host.chunk(r->host.user, q->id, a->pending.data, a->pending.len);
    sy_buf_reset(&a->pending);
  }
  if (done) attempt_ends(r, a, SY_CLASS_OK, a->status, "", now);
}

/* Picks in the current group, skipping |mask1| and |mask2| (either NULL). */
static sy_pick pick_in_group(sy_router *r, request *q, const uint8_t *mask1, const uint8_t *mask2,
                             sy_ms now) {
  const sy_group *g = q->group;
  const uint8_t *ex = mask1 ? mask1 : mask2;
  if (mask1 && mask2) {
    for (size_t i = 0; i < g->ndeps; i++)
      r->mask_scratch[i] = mask1[i] | mask2[i];
    ex = r->mask_scratch;
  }
  sy_pick_ctx c = {.settings = &r->cfg->settings,
                   .host = r->store,
                   .now = now,
                   .rng = &r->rng,
                   .observed = r->observed,
                   .prompt_tokens = q->prompt_tokens,
                   .stream = q->stream,
                   .tags = q->tags,
                   .ntags = q->ntags};
  return sy_select_pick(g, ex, r->pick_scratch, &c);
}

/* The name of what left a pick empty, for events. */
static const char *block_name(sy_pick_block b) {
  static const char *const names[] = {"cooling", "too_small", "over_limit", "no_tag", "throttled"};
  return names[b];
}

/* Nothing in |q|'s current group can be tried (|p| says why): the failure
 * the request then carries to its fallbacks, or to its answer. Like
 * LiteLLM's "no deployments available", cooling and exhausted limits are
 * rate limits, with the wait until the first comes back (cooldown end, or
 * the next minute); a prompt too large for every window is a context
 * window error, which context_window_fallbacks serve without a failed call. */
static void set_blocked(request *q, sy_pick p, sy_ms now) {
  const char *g = q->group->name;
  sy_buf_reset(&q->last_msg);
  q->last_status = 0;
  q->last_retry_after = -1;
  switch (p.block) {
  case SY_PICK_TOO_SMALL:
    q->last_cls = SY_CLASS_CONTEXT_WINDOW;
    sy_buf_printf(&q->last_msg,
                  "the prompt (about %.0f tokens) is larger than max_input_tokens of every "
                  "deployment of model group '%s'",
                  q->prompt_tokens, g);
    break;
  case SY_PICK_OVER_LIMIT:
    q->last_cls = SY_CLASS_RATE_LIMIT;
    q->last_retry_after = (floor(now / SY_USAGE_WINDOW_MS) + 1) * SY_USAGE_WINDOW_MS - now;
    sy_buf_printf(&q->last_msg,
                  "every deployment of model group '%s' is at its rpm or tpm limit this minute", g);
    break;
  case SY_PICK_THROTTLED:
    q->last_cls = SY_CLASS_RATE_LIMIT;
    q->last_retry_after = 1000;
    sy_buf_printf(&q->last_msg,
                  "shed by adaptive throttling: the deployments of model group '%s' have been "
                  "answering 429 or overloaded",
                  g);
    break;
  case SY_PICK_NO_TAG:
    q->last_cls = SY_CLASS_BAD_REQUEST;
    sy_buf_printf(&q->last_msg,
                  "no deployment of model group '%s' has the tags of this request (nor the "
                  "'default' tag)",
                  g);
    break;
  default:
    q->last_cls = SY_CLASS_RATE_LIMIT;
    q->last_retry_after = p.earliest_end > now ? p.earliest_end - now : 0;
    sy_buf_printf(&q->last_msg, "every deployment of model group '%s' is cooling down", g);
  }
}

/* The next fallback for |q| after a failure of |c|: enters it and starts
 * its first attempt. Returns 1 when an attempt started (or the request
 * ended), 0 when no fallback is left. */
static int try_fallback(sy_router *r, request *q, sy_class c, sy_ms now) {
  const sy_settings *s = &r->cfg->settings;
  if (q->disable_fallbacks) return 0;
  int nreq = cJSON_GetArraySize(q->fallbacks);
  size_t ncfg = 0;
  char **cfg_targets =
      nreq ? NULL : sy_fallbacks_for(sy_policy_fallback_list(s, c), q->first_group, &ncfg);
  const char *from = q->group->name;
  while (q->hops < s->max_fallbacks) {
    const sy_group *g = NULL;
    const char *name = NULL;
    if (nreq) {
      int i = 0;
      while (i < nreq && i < MAX_REQUEST_FALLBACKS && (q->req_fb_used >> i & 1))
        i++;
      if (i >= nreq || i >= MAX_REQUEST_FALLBACKS) return 0;
      q->req_fb_used |= 1u << i;
      const cJSON *fb = cJSON_GetArrayItem(q->fallbacks, i);
      const cJSON *over = cJSON_IsObject(fb) ? fb : NULL;
      name = cJSON_IsString(fb) ? fb->valuestring : str_or(over, "model", NULL);
      if (name) g = sy_config_group(r->cfg, name);
      if (!g && (name || over)) {
        /* A provider model, or an object that swaps key/base of the model
         * first asked for ("switch api keys/bases"). */
        const char *model = name ? name : q->last_dep ? q->last_dep->model : q->first_group;
        g = adhoc_group(r, q, model, over, name ? NULL : q->last_dep);
        name = model;
      }
    } else {
      size_t i = 0;
      while (i < ncfg && visited(q, cfg_targets[i]))
        i++;
      if (i >= ncfg) return 0;
      name = cfg_targets[i];
      if (visit(q, name) < 0) {
        reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
        return 1;
      }
      g = sy_config_group(r->cfg, name);
    }
    if (!g || g->ndeps == 0) continue; /* unknown group: LiteLLM skips it too */
    if (enter_group(r, q, g) < 0) {
      reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
      return 1;
    }
    sy_pick p = pick_in_group(r, q, NULL, NULL, now);
    sy_buf *b = ev_begin(r, now, "fallback", q->id);
    ev_str(b, EV_KEY("from"), from);
    ev_str(b, EV_KEY("to"), g->name);
    ev_str(b, EV_KEY("reason"), sy_class_name(c));
    if (p.index < 0) ev_str(b, EV_KEY("skipped"), block_name(p.block));
    ev_end(r);
    if (p.index < 0) continue;
    q->hops++;
    start_attempt(r, q, p, now);
    return 1;
  }
  return 0;
}

/* Whether a retry (or hedge) of |q| may start: the retry budget takes one
 * from the fleet's window, or says no (once per request, with an event):
 * then the request falls back or fails fast instead of retrying. */
static int budget_allows(sy_router *r, request *q, sy_ms now) {
  const sy_reliability *rel = &r->cfg->settings.rel;
  if (!rel->budget || q->budget_denied) return !q->budget_denied;
  if (sy_budget_take(r->store, rel, now)) return 1;
  q->budget_denied = 1;
  sy_buf *b = ev_begin(r, now, "retry_denied", q->id);
  ev_str(b, EV_KEY("reason"), "retry_budget");
  ev_end(r);
  return 0;
}

/* The decision after a failed attempt (or a group with nothing healthy):
 * another deployment now, a fallback now, a retry after a wait, or the end.
 * Alternatives that need no waiting come first: a healthy sibling, then a
 * fallback, and only then a backoff on the group that failed. */
static void after_failure(sy_router *r, request *q, sy_ms now) {
  const sy_settings *s = &r->cfg->settings;
  sy_class c = q->last_cls;
  int limit = sy_policy_retry_limit(s, q->last_dep, q->num_retries, c);
  int can_retry = q->retries < limit;
  if (can_retry) {
    sy_pick p = pick_in_group(r, q, q->tried, q->banned, now);
    if (p.index >= 0 && budget_allows(r, q, now)) {
      q->retries++;
      start_attempt(r, q, p, now);
      return;
    }
  }
  if (try_fallback(r, q, c, now)) return;
  if (!can_retry || q->budget_denied) {
    fail(r, q, now, q->budget_denied ? "the retry budget is spent" : NULL);
    return;
  }
  sy_ms wait = sy_policy_backoff_ms(s, q->retries, q->last_retry_after, sy_rng_unit(&r->rng));
  if (wait < 0) {
    fail(r, q, now, "the provider asked to wait longer than retry_after_max");
    return;
  }
  sy_pick p = pick_in_group(r, q, q->banned, NULL, now);
  if (p.index < 0) {
    if (p.earliest_end == 0) {
      fail(r, q, now, "no deployment of the group is left to try");
      return;
    }
    if (p.earliest_end - now > wait) wait = p.earliest_end - now;
  }
  if (now + wait >= q->deadline) {
    fail(r, q, now, "the deadline would pass before the next retry");
    return;
  }
  if (!budget_allows(r, q, now)) {
    fail(r, q, now, "the retry budget is spent");
    return;
  }
  sy_buf *b = ev_begin(r, now, "backoff", q->id);
  ev_num(b, EV_KEY("ms"), wait);
  ev_num(b, EV_KEY("retry"), q->retries + 1);
  ev_str(b, EV_KEY("reason"), sy_class_name(c));
  ev_end(r);
  q->backoff_armed = 1;
  timer_arm(r, q->id, TIMER_BACKOFF, wait);
}

/* The backoff of |q| is over: retry in its group, on any deployment not
 * banned, the failed one included. */
static void backoff_done(sy_router *r, request *q, sy_ms now) {
  sy_pick p = pick_in_group(r, q, q->banned, NULL, now);
  if (p.index < 0) {
    fail(r, q, now, "every deployment was still cooling after the backoff");
    return;
  }
  q->retries++;
  start_attempt(r, q, p, now);
}

/* ---------- entry points ---------- */

static void cjson_hooks_once(void) {
  static int done;
  if (done) return;
  cJSON_Hooks hooks = {sy_malloc, sy_free};
  cJSON_InitHooks(&hooks);
  done = 1;
}

int sy_router_new(const char *cfg, size_t len, uint64_t seed, const sy_host *host,
                  sy_router **prouter, sy_buf *err) {
  *prouter = NULL;
  cjson_hooks_once();
  sy_router *r = sy_calloc(1, sizeof *r);
  if (!r) return SY_ERR_NOMEM;
  r->host = *host;
  r->next_id = 1;
  sy_rng_seed(&r->rng, seed);
  sy_buf_init(&r->ev);
  sy_buf_init(&r->head);
  sy_buf_init(&r->body);
  int rc = sy_config_parse(cfg, len, &r->cfg, err, warn_cb, r);
  if (rc == SY_OK &&
      ((r->cfg->ndeps && !(r->observed = sy_calloc(r->cfg->ndeps, sizeof *r->observed))) ||
       !(r->cache = sy_kv_cache_new(&r->host, r->cfg->ndeps))))
    rc = SY_ERR_NOMEM;
  if (rc < 0) {
    sy_router_free(r);
    return rc;
  }
  for (size_t i = 0; i < r->cfg->ndeps; i++)
    sy_observed_init(&r->observed[i]);
  r->store = sy_kv_cache_host(r->cache);
  *prouter = r;
  return SY_OK;
}

void sy_router_free(sy_router *r) {
  if (!r) return;
  for (size_t i = 0; i < r->cap; i++) {
    slot *s = &r->slots[i];
    if (s->key && !s->is_attempt) {
      request_free(r, s->val);
      i = (size_t)-1; /* the map shifted: rescan from the start */
    }
  }
  sy_config_free(r->cfg);
  sy_free(r->observed);
  sy_kv_cache_free(r->cache);
  sy_free(r->slots);
  sy_free(r->pick_scratch);
  sy_free(r->mask_scratch);
  sy_buf_free(&r->ev);
  sy_buf_free(&r->head);
  sy_buf_free(&r->body);
  sy_free(r);
}

size_t sy_router_inflight(const sy_router *r) { return r->inflight; }

const char *sy_router_route(sy_router *r, const char *group, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  const sy_group *g = sy_config_group(r->cfg, group);
  if (!g || !g->ndeps || scratch_for(r, g->ndeps) < 0) return NULL;
  sy_pick_ctx c = {.settings = &r->cfg->settings,
                   .host = r->store,
                   .now = now,
                   .rng = &r->rng,
                   .observed = r->observed};
  sy_pick p = sy_select_pick(g, NULL, r->pick_scratch, &c);
  return p.index >= 0 ? g->deps[p.index]->id : NULL;
}

void sy_router_store_watched(sy_router *r) { sy_kv_cache_watch(r->cache); }

void sy_router_store_changed(sy_router *r, const char *key, size_t len) {
  sy_kv_cache_changed(r->cache, key, len);
}

int sy_router_describe(sy_router *r, sy_ms now, sy_buf *out) {
  sy_kv_cache_tick(r->cache, now);
  sy_buf_puts(out, "{\"deployments\":[");
  for (size_t i = 0; i < r->cfg->ndeps; i++) {
    const sy_deployment *d = &r->cfg->deps[i];
    sy_ms until;
    double failures;
    char reason[32];
    sy_health_describe(r->store, d->id, now, &until, reason, sizeof reason, &failures);
    sy_buf_puts(out, i ? ",{\"id\":" : "{\"id\":");
    sy_buf_json_str(out, d->id, strlen(d->id));
    sy_buf_puts(out, ",\"model_group\":");
    sy_buf_json_str(out, d->group, strlen(d->group));
    sy_buf_puts(out, ",\"model\":");
    sy_buf_json_str(out, d->model, strlen(d->model));
    sy_buf_puts(out, ",\"cooling_until\":");
    sy_buf_json_num(out, until);
    sy_buf_puts(out, ",\"reason\":");
    if (*reason)
      sy_buf_json_str(out, reason, strlen(reason));
    else
      sy_buf_puts(out, "null");
    sy_buf_puts(out, ",\"failures\":");
    sy_buf_json_num(out, failures);
    sy_usage u;
    sy_health_usage(r->store, d->id, now, &u);
    sy_buf_puts(out, ",\"rpm\":");
    sy_buf_json_num(out, u.rpm);
    sy_buf_puts(out, ",\"tpm\":");
    sy_buf_json_num(out, u.tpm);
    sy_buf_puts(out, ",\"inflight\":");
    sy_buf_json_num(out, u.inflight);
    sy_ms open_until;
    int times;
    sy_breaker_state st = sy_breaker_state_of(r->store, d->id, now, &open_until, &times);
    sy_buf_puts(out, st == SY_BREAKER_OPEN        ? ",\"breaker\":\"open\""
                     : st == SY_BREAKER_HALF_OPEN ? ",\"breaker\":\"half_open\""
                                                  : ",\"breaker\":null");
    sy_buf_puts(out, ",\"breaker_until\":");
    sy_buf_json_num(out, open_until);
    sy_buf_putc(out, '}');
  }
  sy_buf_puts(out, "]}");
  return out->oom ? SY_ERR_NOMEM : SY_OK;
}

/* The members of a client body the router reads. Those from BK_ROUTER on
 * are the router's only: they never go upstream. */
enum {
  BK_MODEL,
  BK_MESSAGES,
  BK_INPUT,
  BK_STREAM,
  BK_FALLBACKS,
  BK_ROUTER,
  BK_NUM_RETRIES = BK_ROUTER,
  BK_TIMEOUT,
  BK_DISABLE_FALLBACKS,
  BK_METADATA,
  BK_API_KEY,
  BK_API_BASE,
  BK_API_VERSION,
  BK_MOCK_RESPONSE,
  BK_COUNT
};
static const char *const body_key_names[BK_COUNT] = {
    "model",        "messages",          "input",    "stream",  "fallbacks", "num_retries",
    "timeout",      "disable_fallbacks", "metadata", "api_key", "api_base",  "api_version",
    "mock_response"};

/* The index in body_key_names of |name|, or -1. The first bytes decide
 * most compares without a call. */
static int body_key(const char *name) {
  for (int i = 0; i < BK_COUNT; i++)
    if (name[0] == body_key_names[i][0] && !strcmp(name, body_key_names[i])) return i;
  return -1;
}

/* Finds the first member of each name in one pass, as a lookup per name
 * would find it (~1,000 instructions less a request than one lookup per
 * name and per use). Returns whether a router-only member is there. */
static int find_body_keys(const cJSON *body, cJSON *k[BK_COUNT]) {
  int router = 0;
  memset(k, 0, BK_COUNT * sizeof *k);
  for (cJSON *v = body->child; v; v = v->next) {
    int i = body_key(v->string);
    if (i >= 0 && !k[i]) k[i] = v;
    router |= i >= BK_ROUTER;
  }
  return router;
}

/* Deletes the first member of each router-only name left in |body| (once
 * metadata was taken out): one pass doing what a lookup and delete per
 * name did, so a repeated one still goes upstream as it did. */
static void drop_router_keys(cJSON *body) {
  unsigned dropped = 0;
  for (cJSON *v = body->child, *next; v; v = next) {
    next = v->next;
    int i = body_key(v->string);
    if (i >= BK_ROUTER && !(dropped & 1u << i)) {
      dropped |= 1u << i;
      cJSON_Delete(cJSON_DetachItemViaPointer(body, v));
    }
  }
}

/* Reads the router's members |k| of the client body into |q|; takes the
 * fallbacks out. Returns NULL or the complaint to answer with 400. */
static const char *take_request_keys(request *q, cJSON *const k[BK_COUNT], sy_ms *timeout_ms) {
  const cJSON *v;
  if ((v = k[BK_NUM_RETRIES])) {
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 100)
      return "num_retries: expected an integer from 0 to 100";
    q->num_retries = (int)v->valuedouble;
  }
  if ((v = k[BK_TIMEOUT])) {
    if (!cJSON_IsNumber(v) || v->valuedouble <= 0) return "timeout: expected seconds above 0";
    *timeout_ms = v->valuedouble * 1000;
  }
  if ((v = k[BK_DISABLE_FALLBACKS])) {
    if (!cJSON_IsBool(v)) return "disable_fallbacks: expected true or false";
    q->disable_fallbacks = cJSON_IsTrue(v);
  }
  if ((v = k[BK_FALLBACKS])) {
    static const char bad_fallbacks[] = "fallbacks: expected a list of model names or objects";
    if (!cJSON_IsArray(v)) return bad_fallbacks;
    const cJSON *it;
    cJSON_ArrayForEach(it, v) {
      if (!cJSON_IsString(it) && !cJSON_IsObject(it)) return bad_fallbacks;
    }
    q->fallbacks = cJSON_DetachItemViaPointer(q->params, k[BK_FALLBACKS]);
  }
  if ((v = k[BK_STREAM])) {
    if (!cJSON_IsBool(v)) return "stream: expected true or false";
    q->stream = cJSON_IsTrue(v);
  }
  if (q->embeddings) {
    const cJSON *in = k[BK_INPUT];
    if (!cJSON_IsString(in) && !(cJSON_IsArray(in) && cJSON_GetArraySize(in) > 0))
      return "input: expected a string or a non-empty list";
    if (q->stream) return "stream: embeddings are not streamed";
  } else {
    const cJSON *msgs = k[BK_MESSAGES];
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) == 0)
      return "messages: expected a non-empty list";
  }
  return NULL;
}

/* The named chain |name| of router_settings.fallback_chains, or NULL. */
static const sy_fallback_rule *chain_named(const sy_settings *s, const char *name) {
  for (size_t i = 0; i < s->fallback_chains.nrules; i++)
    if (!strcmp(s->fallback_chains.rules[i].group, name)) return &s->fallback_chains.rules[i];
  return NULL;
}

/* |q|'s fallbacks become |chain|'s groups from |from| on, unless the
 * request brought its own. Returns 0 or SY_ERR_NOMEM. */
static int use_chain(request *q, const sy_fallback_rule *chain, size_t from) {
  if (q->fallbacks) return 0;
  if (!(q->fallbacks = cJSON_CreateArray())) return SY_ERR_NOMEM;
  for (size_t i = from; i < chain->ntargets; i++) {
    cJSON *t = cJSON_CreateString(chain->targets[i]);
    if (!t || !cJSON_AddItemToArray(q->fallbacks, t)) {
      cJSON_Delete(t);
      return SY_ERR_NOMEM;
    }
  }
  return 0;
}

/* Takes metadata |m| (the body's, or NULL) out of the client body: its
 * tags (for tag routing) and its fallback_chain. Returns NULL or the
 * complaint to answer with 400; |*oom| is set when memory ran out instead. */
static const char *take_metadata(request *q, cJSON *m, const sy_settings *s, int *oom) {
  if (!m || cJSON_IsNull(m)) return NULL;
  if (!cJSON_IsObject(m)) return "metadata: expected an object";
  q->metadata = cJSON_DetachItemViaPointer(q->params, m);
  const cJSON *tags = cJSON_GetObjectItemCaseSensitive(m, "tags"), *t;
  if (tags && !cJSON_IsNull(tags)) {
    static const char bad_tags[] = "metadata.tags: expected a list of strings";
    if (!cJSON_IsArray(tags)) return bad_tags;
    int n = cJSON_GetArraySize(tags);
    if (n && !(q->tags = sy_calloc((size_t)n, sizeof *q->tags))) {
      *oom = 1;
      return NULL;
    }
    cJSON_ArrayForEach(t, tags) {
      if (!cJSON_IsString(t)) return bad_tags;
      q->tags[q->ntags++] = t->valuestring;
    }
  }
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(m, "fallback_chain");
  if (chain && !cJSON_IsNull(chain)) {
    const sy_fallback_rule *c = cJSON_IsString(chain) ? chain_named(s, chain->valuestring) : NULL;
    if (!c) return "metadata.fallback_chain: expected the name of a chain in fallback_chains";
    if (use_chain(q, c, 0) < 0) *oom = 1;
  }
  return NULL;
}

/* Characters of text in |v| (a string, or a list of content parts whose
 * "text" counts), for the prompt estimate. */
static double text_chars(const cJSON *v) {
  if (cJSON_IsString(v)) return (double)strlen(v->valuestring);
  double n = 0;
  const cJSON *part;
  if (cJSON_IsArray(v)) cJSON_ArrayForEach(part, v) {
      n += cJSON_IsString(part) ? (double)strlen(part->valuestring)
                                : text_chars(cJSON_GetObjectItemCaseSensitive(part, "text"));
    }
  return n;
}

/* The prompt's size in tokens, estimated as a quarter of its characters
 * (about right for English with OpenAI's and Anthropic's tokenizers, and
 * what the mock provider counts): a tokenizer per model would cost more
 * code than the pre-call checks are worth. */
static double estimate_prompt_tokens(cJSON *const k[BK_COUNT], int embeddings) {
  double chars = 0;
  const cJSON *m;
  if (embeddings) {
    chars = text_chars(k[BK_INPUT]);
  } else {
    cJSON_ArrayForEach(m, k[BK_MESSAGES]) {
      chars += text_chars(cJSON_GetObjectItemCaseSensitive(m, "content"));
    }
  }
  return ceil(chars / 4);
}

static int32_t begin(sy_router *r, const char *body, size_t len, int embeddings, sy_ms now);

int32_t sy_router_begin(sy_router *r, const char *body, size_t len, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  return begin(r, body, len, 0, now);
}

int32_t sy_router_begin_embeddings(sy_router *r, const char *body, size_t len, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  return begin(r, body, len, 1, now);
}

static int32_t begin(sy_router *r, const char *body, size_t len, int embeddings, sy_ms now) {
  request *q = sy_calloc(1, sizeof *q);
  int32_t id = q ? map_add(r, q, 0) : SY_ERR_NOMEM;
  if (id < 0) {
    sy_free(q);
    return SY_ERR_NOMEM;
  }
  q->id = id;
  q->embeddings = embeddings;
  q->num_retries = SY_UNSET;
  q->started = now;
  q->last_retry_after = -1;
  r->inflight++;
  ev_begin(r, now, "request", id);
  ev_end(r);

  q->params = cJSON_ParseWithLength(body, len);
  if (!q->params || !cJSON_IsObject(q->params)) {
    reject(r, q, now, 400, SY_CLASS_BAD_REQUEST, "request body is not a JSON object");
    return id;
  }
  cJSON *k[BK_COUNT];
  int router_keys = find_body_keys(q->params, k);
  const cJSON *m = k[BK_MODEL];
  if (!cJSON_IsString(m) || !*m->valuestring) {
    reject(r, q, now, 400, SY_CLASS_BAD_REQUEST, "model: expected a model name");
    return id;
  }
  if (!(q->first_group = sy_strdup(m->valuestring))) {
    reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
    return id;
  }
  sy_ms timeout_ms = r->cfg->settings.timeout_ms;
  int oom = 0;
  const char *bad = take_metadata(q, k[BK_METADATA], &r->cfg->settings, &oom);
  if (!bad && !oom) bad = take_request_keys(q, k, &timeout_ms);
  /* A model that names a chain and no group: the chain's first group
   * serves, the others are its fallbacks. */
  const sy_group *g = NULL;
  const sy_fallback_rule *chain = NULL;
  if (!bad && !oom && !(g = sy_config_group(r->cfg, q->first_group)) &&
      (chain = chain_named(&r->cfg->settings, q->first_group))) {
    sy_free(q->first_group);
    if (!(q->first_group = sy_strdup(chain->targets[0])) || use_chain(q, chain, 1) < 0) oom = 1;
    if (!oom) g = sy_config_group(r->cfg, q->first_group);
  }
  if (oom) {
    reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
    return id;
  }
  q->prompt_tokens = estimate_prompt_tokens(k, embeddings);
  if (bad) {
    reject(r, q, now, 400, SY_CLASS_BAD_REQUEST, bad);
    return id;
  }
  /* The request's own key/base only matter for a provider model served
   * without config: read from the body before its router keys go. */
  if (!g) g = adhoc_group(r, q, q->first_group, q->params, NULL);
  if (router_keys) drop_router_keys(q->params);
  if (!g || visit(q, q->first_group) < 0 || enter_group(r, q, g) < 0) {
    sy_provider_kind kind;
    size_t off;
    if (!g && sy_provider_from_model(q->first_group, &kind, &off) < 0) {
      sy_buf msg;
      sy_buf_init(&msg);
      sy_buf_puts(&msg, "model '");
      sy_buf_puts(&msg, q->first_group);
      sy_buf_puts(&msg, "' is not served: no model_list entry has that model_name and it "
                        "names no provider (openai/, azure/, anthropic/)");
      reject(r, q, now, 404, SY_CLASS_NOT_FOUND, sy_buf_cstr(&msg));
      sy_buf_free(&msg);
    } else {
      reject(r, q, now, 500, SY_CLASS_SERVER, "switchyard core out of memory");
    }
    return id;
  }
  if (r->cfg->settings.rel.budget) sy_budget_request(r->store, &r->cfg->settings.rel, now);
  q->deadline = now + timeout_ms;
  q->deadline_armed = 1;
  timer_arm(r, id, TIMER_DEADLINE, timeout_ms);

  sy_pick p = pick_in_group(r, q, NULL, NULL, now);
  if (p.index >= 0) {
    start_attempt(r, q, p, now);
    return id;
  }
  set_blocked(q, p, now);
  if (!try_fallback(r, q, q->last_cls, now)) fail(r, q, now, NULL);
  return id;
}

void sy_router_cancel(sy_router *r, int32_t id, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  request *q = map_get(r, id, 0);
  if (!q) return;
  q->last_cls = SY_CLASS_BAD_REQUEST;
  finish(r, q, now, 499, SY_CLASS_BAD_REQUEST, NULL, 0, "the client closed the request", 0);
}

void sy_router_on_response(sy_router *r, int32_t id, int status, const char *headers, size_t len,
                           sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  attempt *a = map_get(r, id, 1);
  if (!a || a->status) return;
  a->status = status > 0 ? status : 1;
  sy_buf_append(&a->headers, headers, len);
  sy_observed *o = observed_of(r, a->dep);
  if (o) {
    /* Every answer's rate-limit headers, errors included: a deployment
     * that says it is spent is passed over before it answers 429. A
     * budget without a reset time is taken to last the minute. */
    sy_ratelimit rl;
    sy_provider_ratelimit(headers, len, now, &rl);
    if (rl.remaining_requests >= 0) {
      o->rl_requests = rl.remaining_requests;
      o->rl_requests_reset = now + (rl.reset_requests_ms >= 0 ? rl.reset_requests_ms : 60000);
    }
    if (rl.remaining_tokens >= 0) {
      o->rl_tokens = rl.remaining_tokens;
      o->rl_tokens_reset = now + (rl.reset_tokens_ms >= 0 ? rl.reset_tokens_ms : 60000);
    }
  }
  /* Only a 2xx is read as a stream; an error status has an ordinary body. */
  if (a->req->stream && status >= 200 && status < 300 &&
      !(a->stream = sy_stream_new(a->dep->provider, now)))
    attempt_ends(r, a, SY_CLASS_BAD_RESPONSE, a->status, "switchyard core out of memory", now);
}

void sy_router_on_body(sy_router *r, int32_t id, const char *bytes, size_t len, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  attempt *a = map_get(r, id, 1);
  if (!a) return;
  if (a->stream) {
    stream_advance(r, a, bytes, len, 0, now);
    return;
  }
  if (a->body.len > MAX_RESPONSE_BYTES) return;
  sy_buf_append(&a->body, bytes, len);
}

void sy_router_on_end(sy_router *r, int32_t id, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  attempt *a = map_get(r, id, 1);
  if (!a) return;
  if (a->stream) {
    stream_advance(r, a, NULL, 0, 1, now);
    return;
  }
  sy_outcome o;
  sy_outcome_init(&o);
  int rc;
  if (a->body.len > MAX_RESPONSE_BYTES || a->body.oom || a->headers.oom) {
    o.cls = SY_CLASS_BAD_RESPONSE;
    o.status = a->status;
    o.retry_after_ms = -1;
    sy_buf_puts(&o.message, "upstream answer too large or out of memory");
    rc = SY_OK;
  } else {
    rc = (a->req->embeddings ? sy_provider_parse_embeddings : sy_provider_parse_response)(
        a->dep->provider, a->status, a->headers.data, a->headers.len, a->body.data, a->body.len,
        now, &o);
  }
  if (rc < 0) {
    o.cls = SY_CLASS_BAD_RESPONSE;
    o.status = a->status;
    sy_buf_reset(&o.message);
    sy_buf_puts(&o.message, "switchyard core out of memory reading the answer");
  }
  attempt_done(r, a, &o, now);
  sy_outcome_free(&o);
}

void sy_router_on_error(sy_router *r, int32_t id, const char *msg, size_t len, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  attempt *a = map_get(r, id, 1);
  if (!a) return;
  sy_outcome o;
  sy_outcome_init(&o);
  o.cls = SY_CLASS_NETWORK;
  o.status = 0;
  o.retry_after_ms = -1;
  sy_buf_puts(&o.message, "network error: ");
  sy_buf_append(&o.message, msg, len);
  attempt_done(r, a, &o, now);
  sy_outcome_free(&o);
}

/* The hedge delay of |a| passed with no answer (a stream: no first
 * token): a second deployment of the group races it, if one is healthy
 * and the retry budget and the request's retries allow. */
static void hedge_fire(sy_router *r, attempt *a, sy_ms now) {
  request *q = a->req;
  a->hedge_armed = 0;
  if (q->committed || q->spare || q->cur != a) return;
  int limit = sy_policy_retry_limit(&r->cfg->settings, a->dep, q->num_retries, SY_CLASS_TIMEOUT);
  if (q->retries >= limit) return;
  sy_pick p = pick_in_group(r, q, q->tried, q->banned, now);
  if (p.index < 0 || !budget_allows(r, q, now)) return;
  q->retries++;
  sy_buf *b = ev_begin(r, now, "hedge", q->id);
  ev_str(b, EV_KEY("deployment"), q->group->deps[p.index]->id);
  ev_str(b, EV_KEY("after"), a->dep->id);
  ev_num(b, EV_KEY("ms"), now - a->started);
  ev_end(r);
  /* |a| races from the spare seat, so start_attempt (which takes cur, and
   * may end the request when out of memory) leaves it accounted for. */
  q->spare = a;
  start_attempt(r, q, p, now);
}

void sy_router_on_timer(sy_router *r, int32_t timer, sy_ms now) {
  sy_kv_cache_tick(r->cache, now);
  int32_t owner = timer >> 2;
  int kind = timer & 3;
  if (kind == TIMER_HEDGE) {
    attempt *a = map_get(r, owner, 1);
    if (a) {
      if (a->hedge_armed) hedge_fire(r, a, now);
      return;
    }
  }
  if (kind == TIMER_FIRST_TOKEN) {
    attempt *a = map_get(r, owner, 1);
    if (!a || !a->first_token_armed) return;
    a->first_token_armed = 0;
    r->host.fetch_abort(r->host.user, a->id);
    attempt_ends(r, a, SY_CLASS_TIMEOUT, a->status, "no first token within the stream_timeout",
                 now);
    return;
  }
  if (kind == TIMER_ATTEMPT) {
    attempt *a = map_get(r, owner, 1);
    if (!a || !a->timer_armed) return;
    a->timer_armed = 0;
    r->host.fetch_abort(r->host.user, a->id);
    sy_outcome o;
    sy_outcome_init(&o);
    o.cls = SY_CLASS_TIMEOUT;
    o.retry_after_ms = -1;
    sy_buf_printf(&o.message, "no answer within the attempt timeout of %.0f ms", now - a->started);
    attempt_done(r, a, &o, now);
    sy_outcome_free(&o);
    return;
  }
  request *q = map_get(r, owner, 0);
  if (!q) return;
  if (kind == TIMER_BACKOFF && q->backoff_armed) {
    q->backoff_armed = 0;
    backoff_done(r, q, now);
  } else if (kind == TIMER_DEADLINE && q->deadline_armed) {
    q->deadline_armed = 0;
    while (q->cur) {
      r->host.fetch_abort(r->host.user, q->cur->id);
      attempt_free(r, q->cur);
    }
    q->last_cls = SY_CLASS_TIMEOUT;
    q->last_status = 0;
    sy_buf_reset(&q->last_msg);
    sy_buf_printf(&q->last_msg, "the request's deadline of %.0f ms passed",
                  q->deadline - q->started);
    fail(r, q, now, NULL);
  }
}
