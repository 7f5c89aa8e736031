/* host_sim.h: a native host with a virtual clock, for the unit tests and
 * the spec runner. Time moves only when the test says so; timers and
 * scripted upstream answers fire in (due time, start order) order, so every
 * run of a script is identical. The wasm spec host in tests/js/spec-host.js
 * follows the same rules, which is what lets native and wasm logs match. */
#ifndef SY_HOST_SIM_H
#define SY_HOST_SIM_H

#include <stdint.h>

#include "host.h"
#include "request.h"
#include "sy.h"

/* One scripted upstream answer. status 0 = network error; status -1 = the
 * upstream never answers. */
typedef struct sim_answer {
  int status;
  sy_ms latency;
  char *headers; /* "name:value\n" lines */
  char *body;
} sim_answer;

/* The answers for URLs whose first path segment is |name|, in order; when
 * they run out, |dflt| repeats. */
typedef struct sim_upstream {
  char *name;
  sim_answer *answers;
  size_t nanswers, next;
  sim_answer dflt;
} sim_upstream;

typedef struct sim_timer {
  int32_t id; /* the core's timer id, or the attempt id of an answer */
  int is_answer;
  sim_answer answer; /* borrowed from an upstream */
  sy_ms due;
  uint64_t seq;
} sim_timer;

typedef struct sim_kv {
  char *key;
  char *val;
  size_t len;
  sy_ms expires; /* 0 = never */
} sim_kv;

typedef struct sim_fetch {
  int32_t attempt;
  char *head;
  char *body;
  int aborted;
} sim_fetch;

typedef struct sim_delivery {
  int32_t request;
  char *json;
} sim_delivery;

typedef struct sim {
  sy_host host;
  sy_router *router;
  sy_ms now;
  uint64_t seq;
  sim_timer *timers;
  size_t ntimers;
  sim_kv *kv;
  size_t nkv;
  sim_fetch *fetches;
  size_t nfetches;
  sim_delivery *deliveries;
  size_t ndeliveries;
  sim_upstream *upstreams;
  size_t nupstreams;
  sy_buf events; /* one JSON event per line */
  sy_buf chunks; /* every streamed frame, of every request */
} sim;

void sim_init(sim *s, sy_ms start);
/* Frees the router, if any, and everything the sim holds. */
void sim_free(sim *s);
/* Builds the router from |cfg|; returns sy_router_new's status. */
int sim_router(sim *s, const char *cfg, uint64_t seed, sy_buf *err);
/* Adds an upstream; the sim copies every string. */
void sim_upstream_add(sim *s, const char *name, const sim_answer *answers, size_t n,
                      const sim_answer *dflt);
/* Begins a request at the current time; returns its id. */
int32_t sim_begin(sim *s, const char *body);
/* Moves time forward by |ms|, firing everything due on the way. */
void sim_advance(sim *s, sy_ms ms);
/* Fires everything until nothing is scheduled or |limit| ms have passed. */
void sim_run(sim *s, sy_ms limit);
/* The delivery for |request|, or NULL; the number of deliveries it got. */
const char *sim_delivery_of(const sim *s, int32_t request, int *count);
/* The last fetch started, or NULL. */
const sim_fetch *sim_last_fetch(const sim *s);
/* Answers attempt |attempt| now, as an upstream would. */
void sim_answer_now(sim *s, int32_t attempt, const sim_answer *a);
/* Events logged so far whose "type" is |type|. */
int sim_count_events(const sim *s, const char *type);

#endif
