/* host_sim.c: the virtual-clock host of host_sim.h. Linear scans keep it
 * obviously right; tests hold tens of timers, not thousands. */
#define _POSIX_C_SOURCE 200809L
#include "host_sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup0(const char *s) { return s ? strdup(s) : NULL; }

static void answer_copy(sim_answer *dst, const sim_answer *src) {
  *dst = *src;
  dst->headers = dup0(src->headers);
  dst->body = dup0(src->body);
}

static void answer_free(sim_answer *a) {
  free(a->headers);
  free(a->body);
}

static void schedule(sim *s, int32_t id, int is_answer, const sim_answer *a, sy_ms delay) {
  s->timers = realloc(s->timers, (s->ntimers + 1) * sizeof *s->timers);
  sim_timer *t = &s->timers[s->ntimers++];
  memset(t, 0, sizeof *t);
  t->id = id;
  t->is_answer = is_answer;
  if (a) t->answer = *a;
  t->due = s->now + (delay > 0 ? delay : 0);
  t->seq = s->seq++;
}

static void unschedule(sim *s, int32_t id, int is_answer) {
  for (size_t i = 0; i < s->ntimers; i++) {
    if (s->timers[i].id == id && s->timers[i].is_answer == is_answer) {
      s->timers[i] = s->timers[--s->ntimers];
      return;
    }
  }
}

/* ---- the sy_host callbacks ---- */

static sy_ms h_now(void *u) { return ((sim *)u)->now; }

static sim_upstream *upstream_for(sim *s, const char *head) {
  /* The URL's first path segment names the upstream: http://mock/<name>/... */
  const char *url = strstr(head, "\"url\":\"");
  if (!url) return NULL;
  url += 7;
  const char *p = strstr(url, "://");
  p = p ? strchr(p + 3, '/') : NULL;
  if (!p) return NULL;
  p++;
  size_t n = strcspn(p, "/?\"");
  for (size_t i = 0; i < s->nupstreams; i++)
    if (strlen(s->upstreams[i].name) == n && strncmp(s->upstreams[i].name, p, n) == 0)
      return &s->upstreams[i];
  return NULL;
}

static void h_fetch_start(void *u, int32_t attempt, const char *head, size_t hl, const char *body,
                          size_t bl) {
  sim *s = u;
  s->fetches = realloc(s->fetches, (s->nfetches + 1) * sizeof *s->fetches);
  sim_fetch *f = &s->fetches[s->nfetches++];
  f->attempt = attempt;
  f->head = strndup(head, hl);
  f->body = strndup(body ? body : "", bl);
  f->aborted = 0;
  sim_upstream *up = upstream_for(s, f->head);
  if (!up) return; /* the test answers by hand */
  const sim_answer *a = up->next < up->nanswers ? &up->answers[up->next++] : &up->dflt;
  if (a->status == -1) return;
  schedule(s, attempt, 1, a, a->latency);
}

static void h_fetch_abort(void *u, int32_t attempt) {
  sim *s = u;
  for (size_t i = 0; i < s->nfetches; i++)
    if (s->fetches[i].attempt == attempt) s->fetches[i].aborted = 1;
  unschedule(s, attempt, 1);
}

static void h_timer_start(void *u, int32_t timer, sy_ms delay) {
  schedule(u, timer, 0, NULL, delay);
}

static void h_timer_cancel(void *u, int32_t timer) { unschedule(u, timer, 0); }

static void h_deliver(void *u, int32_t request, const char *json, size_t len) {
  sim *s = u;
  s->deliveries = realloc(s->deliveries, (s->ndeliveries + 1) * sizeof *s->deliveries);
  s->deliveries[s->ndeliveries].request = request;
  s->deliveries[s->ndeliveries].json = strndup(json, len);
  s->ndeliveries++;
}

static void h_emit(void *u, const char *json, size_t len) {
  sim *s = u;
  /* Events are appended with plain realloc: the sim's own memory must not
   * count in the core's heap figures. */
  sy_buf *b = &s->events;
  if (b->len + len + 2 > b->cap) {
    b->cap = (b->len + len + 2) * 2;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, json, len);
  b->len += len;
  b->data[b->len++] = '\n';
  b->data[b->len] = '\0';
}

static void h_chunk(void *u, int32_t request, const char *frames, size_t len) {
  sim *s = u;
  (void)request;
  sy_buf *b = &s->chunks;
  if (b->len + len + 1 > b->cap) {
    b->cap = (b->len + len + 1) * 2;
    b->data = realloc(b->data, b->cap);
  }
  memcpy(b->data + b->len, frames, len);
  b->len += len;
  b->data[b->len] = '\0';
}

static sim_kv *kv_find(sim *s, const char *key, size_t kl) {
  for (size_t i = 0; i < s->nkv; i++) {
    sim_kv *e = &s->kv[i];
    if (strlen(e->key) == kl && memcmp(e->key, key, kl) == 0) {
      if (e->expires && e->expires <= s->now) {
        free(e->key);
        free(e->val);
        *e = s->kv[--s->nkv];
        return NULL;
      }
      return e;
    }
  }
  return NULL;
}

static sim_kv *kv_set(sim *s, const char *key, size_t kl, const char *val, size_t vl, sy_ms ttl) {
  sim_kv *e = kv_find(s, key, kl);
  if (!e) {
    s->kv = realloc(s->kv, (s->nkv + 1) * sizeof *s->kv);
    e = &s->kv[s->nkv++];
    e->key = strndup(key, kl);
    e->val = NULL;
  }
  free(e->val);
  e->val = strndup(val, vl);
  e->len = vl;
  e->expires = ttl > 0 ? s->now + ttl : 0;
  return e;
}

static int32_t h_kv_get(void *u, const char *key, size_t kl, char *out, size_t cap) {
  sim_kv *e = kv_find(u, key, kl);
  if (!e) return -1;
  if (e->len <= cap) memcpy(out, e->val, e->len);
  return (int32_t)e->len;
}

static void h_kv_put(void *u, const char *key, size_t kl, const char *val, size_t vl, sy_ms ttl) {
  kv_set(u, key, kl, val, vl, ttl);
}

static double h_kv_add(void *u, const char *key, size_t kl, double delta, sy_ms ttl) {
  sim *s = u;
  sim_kv *e = kv_find(s, key, kl);
  double v = (e ? strtod(e->val, NULL) : 0) + delta;
  char txt[64];
  int n = snprintf(txt, sizeof txt, "%.17g", v);
  sy_ms expires = e ? e->expires : 0;
  e = kv_set(s, key, kl, txt, (size_t)n, ttl);
  if (expires) e->expires = expires; /* fixed window: the TTL is not renewed */
  return v;
}

/* ---- driving ---- */

void sim_init(sim *s, sy_ms start) {
  memset(s, 0, sizeof *s);
  s->now = start;
  s->host = (sy_host){.user = s,
                      .now_ms = h_now,
                      .fetch_start = h_fetch_start,
                      .fetch_abort = h_fetch_abort,
                      .timer_start = h_timer_start,
                      .timer_cancel = h_timer_cancel,
                      .deliver = h_deliver,
                      .chunk = h_chunk,
                      .emit = h_emit,
                      .kv_get = h_kv_get,
                      .kv_put = h_kv_put,
                      .kv_add = h_kv_add};
}

void sim_free(sim *s) {
  sy_router_free(s->router);
  free(s->timers);
  for (size_t i = 0; i < s->nkv; i++)
    free(s->kv[i].key), free(s->kv[i].val);
  free(s->kv);
  for (size_t i = 0; i < s->nfetches; i++)
    free(s->fetches[i].head), free(s->fetches[i].body);
  free(s->fetches);
  for (size_t i = 0; i < s->ndeliveries; i++)
    free(s->deliveries[i].json);
  free(s->deliveries);
  for (size_t i = 0; i < s->nupstreams; i++) {
    sim_upstream *u = &s->upstreams[i];
    for (size_t j = 0; j < u->nanswers; j++)
      answer_free(&u->answers[j]);
    free(u->answers);
    answer_free(&u->dflt);
    free(u->name);
  }
  free(s->upstreams);
  free(s->events.data);
  free(s->chunks.data);
  memset(s, 0, sizeof *s);
}

int sim_router(sim *s, const char *cfg, uint64_t seed, sy_buf *err) {
  return sy_router_new(cfg, strlen(cfg), seed, &s->host, &s->router, err);
}

void sim_upstream_add(sim *s, const char *name, const sim_answer *answers, size_t n,
                      const sim_answer *dflt) {
  s->upstreams = realloc(s->upstreams, (s->nupstreams + 1) * sizeof *s->upstreams);
  sim_upstream *u = &s->upstreams[s->nupstreams++];
  memset(u, 0, sizeof *u);
  u->name = strdup(name);
  u->answers = calloc(n ? n : 1, sizeof *u->answers);
  for (size_t i = 0; i < n; i++)
    answer_copy(&u->answers[i], &answers[i]);
  u->nanswers = n;
  if (dflt)
    answer_copy(&u->dflt, dflt);
  else
    u->dflt.status = -1;
}

int32_t sim_begin(sim *s, const char *body) {
  return sy_router_begin(s->router, body, strlen(body), s->now);
}

void sim_answer_now(sim *s, int32_t attempt, const sim_answer *a) {
  if (a->status == 0) {
    static const char msg[] = "connect ECONNREFUSED";
    sy_router_on_error(s->router, attempt, msg, sizeof msg - 1, s->now);
    return;
  }
  const char *h = a->headers ? a->headers : "";
  const char *b = a->body ? a->body : "";
  sy_router_on_response(s->router, attempt, a->status, h, strlen(h), s->now);
  sy_router_on_body(s->router, attempt, b, strlen(b), s->now);
  sy_router_on_end(s->router, attempt, s->now);
}

/* Fires the earliest timer due at or before |until|; 0 when none is. */
static int fire_next(sim *s, sy_ms until) {
  size_t best = s->ntimers;
  for (size_t i = 0; i < s->ntimers; i++) {
    sim_timer *t = &s->timers[i];
    if (t->due > until) continue;
    if (best == s->ntimers || t->due < s->timers[best].due ||
        (t->due == s->timers[best].due && t->seq < s->timers[best].seq))
      best = i;
  }
  if (best == s->ntimers) return 0;
  sim_timer t = s->timers[best];
  s->timers[best] = s->timers[--s->ntimers];
  if (t.due > s->now) s->now = t.due;
  if (t.is_answer)
    sim_answer_now(s, t.id, &t.answer);
  else
    sy_router_on_timer(s->router, t.id, s->now);
  return 1;
}

void sim_advance(sim *s, sy_ms ms) {
  sy_ms until = s->now + ms;
  while (fire_next(s, until)) {
  }
  s->now = until;
}

void sim_run(sim *s, sy_ms limit) {
  sy_ms until = s->now + limit;
  while (fire_next(s, until)) {
  }
}

const char *sim_delivery_of(const sim *s, int32_t request, int *count) {
  const char *found = NULL;
  int n = 0;
  for (size_t i = 0; i < s->ndeliveries; i++) {
    if (s->deliveries[i].request == request) {
      if (!found) found = s->deliveries[i].json;
      n++;
    }
  }
  if (count) *count = n;
  return found;
}

const sim_fetch *sim_last_fetch(const sim *s) {
  return s->nfetches ? &s->fetches[s->nfetches - 1] : NULL;
}

int sim_count_events(const sim *s, const char *type) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"type\":\"%s\"", type);
  int n = 0;
  for (const char *p = s->events.data; p && (p = strstr(p, pat)); p += strlen(pat))
    n++;
  return n;
}
