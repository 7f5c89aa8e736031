/* unit_request.c: the request state machine end to end on the sim host:
 * retries, backoff timing at t-1 and t, fallbacks, cooldowns, deadlines,
 * bounds, exactly-once delivery, memory and secrets. */
#include <stdlib.h>
#include <string.h>

#include "host_sim.h"
#include "t.h"

#define OK_BODY                                                                                    \
  "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","           \
  "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"hi\"},"             \
  "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,"           \
  "\"total_tokens\":4}}"
#define ERR_5XX                                                                                    \
  "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\","                 \
  "\"param\":null,\"code\":null}}"
#define ERR_429                                                                                    \
  "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,"           \
  "\"code\":\"rate_limit_exceeded\"}}"
#define ERR_CTX                                                                                    \
  "{\"error\":{\"message\":\"This model's maximum context length is 8192 tokens. However, "        \
  "your messages resulted in 9000 tokens.\",\"type\":\"invalid_request_error\","                   \
  "\"param\":\"messages\",\"code\":\"context_length_exceeded\"}}"
#define ERR_400                                                                                    \
  "{\"error\":{\"message\":\"Invalid value for 'temperature'\",\"type\":"                          \
  "\"invalid_request_error\",\"param\":\"temperature\",\"code\":null}}"
#define ERR_401                                                                                    \
  "{\"error\":{\"message\":\"Incorrect API key provided: sk-secret-123456\",\"type\":"             \
  "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}"

#define CHAT(model)                                                                                \
  "{\"model\":\"" model "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"

static const sim_answer OK = {200, 10, NULL, OK_BODY};
static const sim_answer E503 = {503, 10, NULL, ERR_5XX};
static const sim_answer HANG = {-1, 0, NULL, NULL};

/* A deployment entry reaching upstream |up| of the sim. */
#define DEP(group, up, extra)                                                                      \
  "{\"model_name\":\"" group "\",\"litellm_params\":{\"model\":\"openai/m\","                      \
  "\"api_base\":\"http://mock/" up "/v1\",\"api_key\":\"sk-secret-123456\"" extra "},"             \
  "\"model_info\":{\"id\":\"" up "\"}}"

/* The second pass of the suite runs every test again with the router
 * keeping its copy of the store (health.h): the sim's kv is written by the
 * router alone, so the copy must change no outcome. */
static int watched_store;

static void start(sim *s, const char *cfg) {
  sim_init(s, 0);
  sy_buf err;
  sy_buf_init(&err);
  int rc = sim_router(s, cfg, 7, &err);
  if (rc != 0) fprintf(stderr, "config rejected: %s\n", sy_buf_cstr(&err));
  T_EQ_INT(rc, 0);
  if (rc == 0 && watched_store) sy_router_store_watched(s->router);
  sy_buf_free(&err);
}

static double json_num_after(const char *s, const char *key) {
  const char *p = s ? strstr(s, key) : NULL;
  return p ? strtod(p + strlen(key), NULL) : -1;
}

/* The delivery of |id|, checked to be the only one. */
static const char *delivered(sim *s, int32_t id) {
  int count;
  const char *d = sim_delivery_of(s, id, &count);
  T_EQ_INT(count, 1);
  return d;
}

static void test_retry_goes_to_sibling_at_once(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP("g", "b", ",\"order\":2") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"deployment\":\"b\"");
  T_CONTAINS(d, "\"attempts\":2");
  T_EQ_INT(sim_count_events(&s, "backoff"), 0);
  T_EQ_DBL(s.now, 20); /* no wait between the two attempts */
  sim_free(&s);
}

static void test_backoff_single_deployment(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_advance(&s, 10); /* first attempt fails at t=10 */
  T_EQ_INT(s.nfetches, 1);
  double wait = json_num_after(s.events.data, "\"type\":\"backoff\",\"req\":1,\"ms\":");
  T_CHECK(wait >= 250 && wait < 500); /* first backoff: 500 ms with equal jitter */
  sim_advance(&s, wait - 1);
  T_EQ_INT(s.nfetches, 1); /* t-1: still waiting */
  sim_advance(&s, 1);
  T_EQ_INT(s.nfetches, 2); /* t: retried */
  sim_run(&s, 100000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":502");
  T_CONTAINS(d, "\"attempts\":3");
  T_CONTAINS(d, "The server had an error");
  T_CONTAINS(d, "3 attempts");
  /* Two waits, none after the last attempt: delivered as it failed. */
  T_EQ_INT(sim_count_events(&s, "backoff"), 2);
  const char *last_end = strstr(s.events.data, "\"type\":\"deliver\"");
  T_CHECK(last_end != NULL);
  sim_free(&s);
}

static void test_retry_after_is_honoured(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_answer limited = {429, 10, "retry-after-ms:1500\n", ERR_429};
  sim_upstream_add(&s, "a", &limited, 1, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_advance(&s, 10);
  T_EQ_DBL(json_num_after(s.events.data, "\"type\":\"backoff\",\"req\":1,\"ms\":"), 1500);
  sim_advance(&s, 1499);
  T_EQ_INT(s.nfetches, 1);
  sim_advance(&s, 1);
  T_EQ_INT(s.nfetches, 2);
  sim_run(&s, 1000);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  sim_free(&s);
}

static void test_fallback_and_lone_deployment_cooling(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g1", "a", "") "," DEP(
                "g2", "b", "") "],"
                               "\"router_settings\":{\"fallbacks\":[{\"g1\":[\"g2\"]}]}}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("g1"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"model_group\":\"g2\"");
  T_CONTAINS(d, "\"fallbacks\":1");
  T_EQ_INT(sim_count_events(&s, "backoff"), 0); /* a fallback now beats a wait */
  /* allowed_fails is 3: the 4th failure within the minute cools the lone
   * deployment, because its group has a fallback. */
  for (int i = 0; i < 3; i++) {
    sim_begin(&s, CHAT("g1"));
    sim_run(&s, 1000);
  }
  T_EQ_INT(sim_count_events(&s, "cooldown"), 1);
  size_t fetches = s.nfetches;
  id = sim_begin(&s, CHAT("g1"));
  sim_run(&s, 1000);
  T_CONTAINS(delivered(&s, id), "\"attempts\":1");
  T_EQ_INT(s.nfetches, fetches + 1); /* straight to the fallback */
  T_CONTAINS(sim_last_fetch(&s)->head, "/b/");
  sim_free(&s);
}

static void test_429_cools_at_once(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP("g", "b", ",\"order\":2") "]}");
  sim_answer limited = {429, 10, NULL, ERR_429};
  sim_upstream_add(&s, "a", &limited, 1, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  T_EQ_STR(sy_router_route(s.router, "g", s.now), "a"); /* the decision alone: the first in order */
  T_CHECK(sy_router_route(s.router, "nope", s.now) == NULL);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  /* Cooled at t=10 for the default 5 s. */
  T_EQ_DBL(json_num_after(s.events.data, "\"until\":"), 5010);
  T_EQ_STR(sy_router_route(s.router, "g", s.now), "b");
  T_EQ_INT(s.nfetches, 2);       /* a dry run sends nothing */
  sim_advance(&s, 5009 - s.now); /* t-1 */
  id = sim_begin(&s, CHAT("g"));
  T_CONTAINS(sim_last_fetch(&s)->head, "/b/");
  sim_run(&s, 0);
  sim_advance(&s, 5010 - s.now);
  id = sim_begin(&s, CHAT("g"));
  T_CONTAINS(sim_last_fetch(&s)->head, "/a/");
  sim_run(&s, 100);
  sim_free(&s);
}

static void test_context_window_fallback(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("small", "a", "") "," DEP("small", "b", "") "," DEP(
                "large", "c", "") "],\"router_settings\":{\"context_window_fallbacks\":"
                                  "[{\"small\":[\"large\"]}]}}");
  sim_answer ctx = {400, 10, NULL, ERR_CTX};
  sim_upstream_add(&s, "a", NULL, 0, &ctx);
  sim_upstream_add(&s, "b", NULL, 0, &ctx);
  sim_upstream_add(&s, "c", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("small"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"attempts\":2"); /* not retried on the sibling */
  T_CONTAINS(s.events.data, "\"reason\":\"context_window\"");
  T_EQ_INT(sim_count_events(&s, "cooldown"), 0); /* the prompt's fault, not theirs */
  sim_free(&s);
}

static void test_bad_request_not_retried(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "," DEP("g", "b", "") "]}");
  sim_answer bad = {400, 10, NULL, ERR_400};
  sim_upstream_add(&s, "a", NULL, 0, &bad);
  sim_upstream_add(&s, "b", NULL, 0, &bad);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":400");
  T_CONTAINS(d, "\"attempts\":1");
  T_CONTAINS(d, "invalid_request_error");
  sim_free(&s);
}

static void test_auth_moves_on(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
                "g", "b", ",\"order\":2") "," DEP("solo", "c", "") "]}");
  sim_answer denied = {401, 10, NULL, ERR_401};
  sim_upstream_add(&s, "a", NULL, 0, &denied);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  sim_upstream_add(&s, "c", NULL, 0, &denied);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 1000);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  /* Alone, a 401 is not retried on the same key: one attempt, 401. */
  id = sim_begin(&s, CHAT("solo"));
  sim_run(&s, 100000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":401");
  T_CONTAINS(d, "\"attempts\":1");
  /* The key the upstream echoed is not in the answer, nor in any event. */
  T_CHECK(strstr(d, "sk-secret-123456") == NULL);
  T_CONTAINS(d, "[redacted]");
  T_CHECK(strstr(s.events.data, "sk-secret") == NULL);
  /* ... but the transport did get it, in the head only. */
  T_CONTAINS(sim_last_fetch(&s)->head, "Bearer sk-secret-123456");
  sim_free(&s);
}

static void test_deadline(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &HANG);
  int32_t id = sim_begin(&s, "{\"model\":\"g\",\"timeout\":10,\"messages\":[{\"role\":\"user\","
                             "\"content\":\"hi\"}]}");
  sim_advance(&s, 9999);
  T_EQ_INT(s.ndeliveries, 0);
  sim_advance(&s, 1);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":504");
  T_CONTAINS(d, "deadline");
  T_CHECK(s.fetches[0].aborted);
  sim_free(&s);
}

static void test_attempt_timeout_then_retry(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"timeout\":2") "]}");
  sim_upstream_add(&s, "a", &HANG, 1, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_advance(&s, 1999);
  T_EQ_INT(sim_count_events(&s, "attempt_end"), 0);
  sim_advance(&s, 1);
  T_EQ_INT(sim_count_events(&s, "attempt_end"), 1);
  T_CONTAINS(s.events.data, "\"class\":\"timeout\"");
  T_CHECK(s.fetches[0].aborted);
  sim_run(&s, 100000);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  sim_free(&s);
}

static void test_attempts_bounded_across_fallbacks(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g1", "a1", "") "," DEP("g1", "a2", "") "," DEP(
                "g2", "b",
                "") "," DEP("g3", "c",
                            "") "," DEP("g4", "d",
                                        "") "],\"router_settings\":{"
                                            "\"num_retries\":2,\"max_fallbacks\":2,\"fallbacks\":[{"
                                            "\"g1\":[\"g2\",\"g3\",\"g4\"]}]}}");
  const char *ups[] = {"a1", "a2", "b", "c", "d"};
  for (int i = 0; i < 5; i++)
    sim_upstream_add(&s, ups[i], NULL, 0, &E503);
  int32_t id = sim_begin(&s, CHAT("g1"));
  sim_run(&s, 600000);
  const char *d = delivered(&s, id);
  /* 1 first attempt + 2 retries + 2 fallback hops. */
  T_CONTAINS(d, "\"attempts\":5");
  T_CONTAINS(d, "\"fallbacks\":2");
  T_EQ_INT(s.nfetches, 5);
  sim_free(&s);
}

static void test_bad_input(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  int32_t id = sim_begin(&s, "not json");
  T_CONTAINS(delivered(&s, id), "\"status\":400");
  id = sim_begin(&s, "{\"messages\":[]}");
  T_CONTAINS(delivered(&s, id), "model: expected");
  id = sim_begin(&s, "{\"model\":\"g\"}");
  T_CONTAINS(delivered(&s, id), "messages: expected");
  id = sim_begin(&s, CHAT("nope"));
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":404");
  T_CONTAINS(d, "model_not_found");
  id = sim_begin(&s, "{\"model\":\"g\",\"num_retries\":\"x\",\"messages\":[{\"role\":\"user\","
                     "\"content\":\"hi\"}]}");
  T_CONTAINS(delivered(&s, id), "num_retries: expected");
  T_EQ_INT(s.nfetches, 0);
  T_EQ_INT(sy_router_inflight(s.router), 0);
  sim_free(&s);
}

static void test_cancel(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &HANG);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_advance(&s, 50);
  sy_router_cancel(s.router, id, s.now);
  T_CONTAINS(delivered(&s, id), "\"status\":499");
  T_CHECK(s.fetches[0].aborted);
  sy_router_cancel(s.router, id, s.now); /* a second cancel is ignored */
  T_EQ_INT(s.ndeliveries, 1);
  T_EQ_INT(s.ntimers, 0); /* nothing left scheduled */
  sim_free(&s);
}

static void test_provider_model_without_config(void) {
  sim s;
  start(&s, "{\"provider_env\":{\"OPENAI_API_KEY\":\"sk-env-key\",\"OPENAI_API_BASE\":"
            "\"http://mock/env/v1\"}}");
  sim_upstream_add(&s, "env", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("openai/gpt-4o-mini"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  T_CONTAINS(s.fetches[0].head, "http://mock/env/v1/chat/completions");
  T_CONTAINS(s.fetches[0].head, "Bearer sk-env-key");
  T_CONTAINS(s.fetches[0].body, "\"model\":\"gpt-4o-mini\"");
  sim_free(&s);
}

static void test_fallback_switches_key(void) {
  sim s;
  start(&s, "{}");
  sim_answer denied = {401, 10, NULL, ERR_401};
  sim_upstream_add(&s, "az", &denied, 1, &OK);
  int32_t id = sim_begin(
      &s, "{\"model\":\"azure/chatgpt\",\"api_key\":\"bad-key\",\"api_base\":\"http://mock/az\","
          "\"api_version\":\"2024-10-21\",\"fallbacks\":[{\"api_key\":\"good-key\"}],"
          "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"fallbacks\":1");
  T_CONTAINS(s.fetches[0].head, "\"api-key\":\"bad-key\"");
  T_CONTAINS(s.fetches[1].head, "\"api-key\":\"good-key\"");
  T_CONTAINS(s.fetches[1].head, "/openai/deployments/chatgpt/chat/completions?api-version=");
  sim_free(&s);
}

/* What goes upstream: the deployment's extra params under the request's
 * own, without the router's keys (the first of each name: that one is
 * read), the upstream model last. */
static void test_upstream_body(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"seed\":3,\"temperature\":0.2") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  int32_t id = sim_begin(
      &s, "{\"num_retries\":1,\"model\":\"g\",\"timeout\":30,\"metadata\":{\"tags\":[]},"
          "\"temperature\":0.7,\"api_key\":\"sk-client\",\"mock_response\":\"x\","
          "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"disable_fallbacks\":true,"
          "\"fallbacks\":[],\"api_base\":\"http://elsewhere\",\"api_version\":\"v\","
          "\"timeout\":\"again\"}");
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  T_EQ_STR(s.fetches[0].body, "{\"seed\":3,\"temperature\":0.7,\"messages\":[{\"role\":\"user\","
                              "\"content\":\"hi\"}],\"timeout\":\"again\",\"model\":\"m\"}");
  T_CONTAINS(s.fetches[0].head, "\"authorization\":\"Bearer sk-secret-123456\"");
  sim_free(&s);
}

/* Many requests through a flaky group: each answered once, and the core's
 * heap back where it was once they are. */
static void test_exactly_once_and_memory(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "," DEP("g", "b", "") "]}");
  sim_answer mix[] = {{503, 5, NULL, ERR_5XX},
                      {200, 7, NULL, OK_BODY},
                      {0, 3, NULL, NULL},
                      {429, 2, "retry-after:1\n", ERR_429},
                      {200, 9, NULL, OK_BODY}};
  sim_answer many[100];
  for (int i = 0; i < 100; i++)
    many[i] = mix[i % 5];
  sim_upstream_add(&s, "a", many, 100, &OK);
  sim_upstream_add(&s, "b", many + 3, 97, &OK);
  /* The same load twice: the first grows the router's id map and scratch
   * buffers to their working size (capacity, not per-request memory); the
   * second must leave the heap exactly where it found it. */
  int32_t ids[200];
  size_t base = 0;
  for (int round = 0; round < 2; round++) {
    base = sy_heap_bytes();
    for (int i = 0; i < 200; i++) {
      ids[i] = sim_begin(&s, CHAT("g"));
      sim_advance(&s, 1);
    }
    sim_run(&s, 3600000);
  }
  int once = 1;
  for (int i = 0; i < 200; i++) {
    int count;
    sim_delivery_of(&s, ids[i], &count);
    once &= count == 1;
  }
  T_CHECK(once);
  T_EQ_INT(s.ndeliveries, 400);
  T_EQ_INT(sy_router_inflight(s.router), 0);
  /* With the copy of the store, its entries come and go with the keys
   * (windows, minutes): within its bound (health.h: 48 entries of under
   * 250 bytes for 2 deployments), not exactly level. */
  if (!watched_store)
    T_EQ_INT(sy_heap_bytes(), base);
  else
    T_CHECK(sy_heap_bytes() <= base + 48 * 250);
  T_EQ_INT(s.ntimers, 0);
  sim_free(&s);
}

/* Fails each allocation of a whole request in turn: the request is still
 * answered exactly once (or never begun) and nothing leaks. */
static void test_failing_allocations(void) {
  for (int persistent = 0; persistent < 2; persistent++) {
    int completed = 0;
    for (uint64_t n = 1; n < 2000 && !completed; n++) {
      sim s;
      size_t base = sy_heap_bytes();
      start(&s, "{\"model_list\":[" DEP("g", "a", ",\"seed\":1") "," DEP(
                    "g", "b", "") "],\"router_settings\":{\"fallbacks\":[{\"g\":[\"h\"]}]}}");
      sim_answer seq[] = {{503, 5, NULL, ERR_5XX}};
      sim_upstream_add(&s, "a", seq, 1, &OK);
      sim_upstream_add(&s, "b", seq, 1, &OK);
      sy_alloc_fail_at(n, persistent);
      int32_t id = sim_begin(&s, CHAT("g"));
      sim_run(&s, 600000);
      sy_alloc_fail_at(0, 0);
      if (id > 0) {
        int count;
        const char *d = sim_delivery_of(&s, id, &count);
        T_EQ_INT(count, 1);
        if (d && strstr(d, "\"status\":200")) completed = 1;
      }
      T_EQ_INT(sy_router_inflight(s.router), 0);
      sim_free(&s);
      T_EQ_INT(sy_heap_bytes(), base);
    }
    T_CHECK(completed || persistent);
  }
}

/* A router whose creation runs out of memory, at any allocation (parsing
 * the extra params included): SY_ERR_NOMEM and nothing left behind. */
static void test_router_new_failing_allocations(void) {
  int made = 0;
  for (uint64_t n = 1; n < 5000 && !made; n++) {
    sim s;
    sim_init(&s, 0);
    size_t base = sy_heap_bytes();
    sy_alloc_fail_at(n, 0);
    int rc = sim_router(&s,
                        "{\"model_list\":[" DEP("g", "a", ",\"seed\":1,\"stop\":[\"x\"]") "," DEP(
                            "g", "b", ",\"n\":2") "]}",
                        7, NULL);
    sy_alloc_fail_at(0, 0);
    T_CHECK(rc == 0 || (rc == SY_ERR_NOMEM && s.router == NULL));
    made = rc == 0;
    sim_free(&s);
    T_EQ_INT(sy_heap_bytes(), base);
  }
  T_CHECK(made);
}

#define SSE_OK                                                                                     \
  "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"            \
  "\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"                                     \
  "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"            \
  "\"delta\":{\"content\":\"streamed\"}}]}\n\n"                                                    \
  "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"            \
  "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
#define SSE_CUT                                                                                    \
  "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"            \
  "\"delta\":{\"content\":\"half\"}}]}\n\n"
#define SSE_ANTHROPIC_OVERLOADED                                                                   \
  "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\n"        \
  "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","              \
  "\"message\":\"Overloaded\"}}\n\n"
#define STREAM_CHAT(model)                                                                         \
  "{\"model\":\"" model "\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]" \
  "}"

static void test_stream_commits_and_forwards(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_answer ok = {200, 10, "content-type:text/event-stream\n", SSE_OK};
  sim_upstream_add(&s, "a", NULL, 0, &ok);
  int32_t id = sim_begin(&s, STREAM_CHAT("g"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200,\"stream\":true");
  T_CONTAINS(s.chunks.data, "\"content\":\"streamed\"");
  T_CONTAINS(s.chunks.data, "data: [DONE]\n\n");
  T_EQ_INT(sim_count_events(&s, "first_token"), 1);
  T_CONTAINS(s.fetches[0].body, "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
  sim_free(&s);
}

static void test_stream_fails_before_first_token_invisibly(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("claude", "an", "") "," DEP(
                "gpt", "b", "") "],"
                                "\"router_settings\":{\"fallbacks\":[{\"claude\":[\"gpt\"]}]}}");
  /* an: a stream that reports overloaded, in band, before any content */
  sim_answer over = {200, 10, NULL, SSE_ANTHROPIC_OVERLOADED};
  sim_answer ok = {200, 10, NULL, SSE_OK};
  sim_upstream_add(&s, "an", NULL, 0, &over);
  sim_upstream_add(&s, "b", NULL, 0, &ok);
  int32_t id = sim_begin(&s, STREAM_CHAT("claude"));
  sim_run(&s, 1000);
  T_CONTAINS(delivered(&s, id), "\"stream\":true");
  T_CONTAINS(s.events.data, "\"class\":\"overloaded\"");
  T_EQ_INT(sim_count_events(&s, "fallback"), 1);
  /* The client saw only the fallback's stream, from its first chunk. */
  static const char first[] = "data: {\"id\":\"c\",";
  T_CHECK(strncmp(s.chunks.data, first, sizeof first - 1) == 0);
  T_CHECK(strstr(s.chunks.data, "Overloaded") == NULL);
  sim_free(&s);
}

static void test_stream_first_token_timeout(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
                "g", "b", ",\"order\":2") "],\"router_settings\":{\"stream_timeout\":1.5}}");
  sim_answer ok = {200, 10, NULL, SSE_OK};
  sim_upstream_add(&s, "a", &HANG, 1, &ok);
  sim_upstream_add(&s, "b", NULL, 0, &ok);
  int32_t id = sim_begin(&s, STREAM_CHAT("g"));
  sim_advance(&s, 1499);
  T_EQ_INT(s.nfetches, 1);
  sim_advance(&s, 1);
  T_EQ_INT(s.nfetches, 2); /* a is given up at exactly stream_timeout */
  T_CHECK(s.fetches[0].aborted);
  sim_run(&s, 1000);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  sim_free(&s);
}

static void test_stream_cut_after_first_token(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP("g", "b", ",\"order\":2") "]}");
  sim_answer cut = {200, 10, NULL, SSE_CUT};
  sim_upstream_add(&s, "a", NULL, 0, &cut);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int32_t id = sim_begin(&s, STREAM_CHAT("g"));
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":502");
  T_EQ_INT(s.nfetches, 1); /* no retry once content reached the client */
  T_CONTAINS(s.chunks.data, "\"content\":\"half\"");
  T_CONTAINS(s.chunks.data, "data: {\"error\":{\"message\":\"the upstream stream was cut");
  sim_free(&s);
}

/* How many fetches went to upstream |up| (its URL's first path segment). */
static int fetches_to(const sim *s, const char *up) {
  char needle[64];
  snprintf(needle, sizeof needle, "//mock/%s/", up);
  int n = 0;
  for (size_t i = 0; i < s->nfetches; i++)
    n += strstr(s->fetches[i].head, needle) != NULL;
  return n;
}

/* A prompt of about 2,500 tokens (10,000 characters). */
static char *long_chat(const char *model, const char *extra) {
  size_t n = 10000;
  char *body = malloc(n + 256);
  int k = snprintf(body, 256, "{\"model\":\"%s\",%s\"messages\":[{\"role\":\"user\",\"content\":\"",
                   model, extra);
  memset(body + k, 'x', n);
  snprintf(body + k + n, 128, "\"}]}");
  return body;
}

/* Pre-call checks: a group whose every window is too small for the prompt
 * goes to context_window_fallbacks at once, with no failing call. */
static void test_pre_call_context_window(void) {
  sim s;
  start(
      &s,
      "{\"model_list\":[" DEP("small", "a", ",\"max_input_tokens\":1000") "," DEP(
          "big", "b",
          ",\"max_input_tokens\":100000") "],"
                                          "\"router_settings\":{\"enable_pre_call_checks\":true,"
                                          "\"context_window_fallbacks\":[{\"small\":[\"big\"]}]}}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  char *body = long_chat("small", "");
  int32_t id = sim_begin(&s, body);
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"deployment\":\"b\"");
  T_CONTAINS(d, "\"attempts\":1");
  T_EQ_INT(fetches_to(&s, "a"), 0);
  T_CONTAINS(s.events.data, "\"to\":\"big\",\"reason\":\"context_window\"");
  sim_free(&s);
  /* Without a fallback: a 400 context-window error, still with no call. */
  start(&s,
        "{\"model_list\":[" DEP(
            "small", "a",
            ",\"max_input_tokens\":1000") "],"
                                          "\"router_settings\":{\"enable_pre_call_checks\":true}}");
  id = sim_begin(&s, body);
  d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":400");
  T_CONTAINS(d, "\"code\":\"context_length_exceeded\"");
  T_CONTAINS(d, "about 2500 tokens");
  T_EQ_INT((int)s.nfetches, 0);
  free(body);
  sim_free(&s);
}

/* usage-based routing: rpm limits are held fleet-wide; when every
 * deployment is at its limit the request is a rate limit until the next
 * minute, served by a fallback when there is one. */
static void test_usage_limits(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"rpm\":2") "," DEP(
            "g", "b",
            ",\"rpm\":1") "],"
                          "\"router_settings\":{\"routing_strategy\":\"usage-based-routing-v2\"}}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  for (int i = 0; i < 3; i++) {
    int32_t id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"status\":200");
  }
  T_EQ_INT(fetches_to(&s, "a"), 2);
  T_EQ_INT(fetches_to(&s, "b"), 1);
  sim_advance(&s, 1000);
  int32_t id = sim_begin(&s, CHAT("g"));
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":429");
  T_CONTAINS(d, "rpm or tpm limit");
  /* retry after = what is left of the minute */
  T_EQ_DBL(json_num_after(d, "\"retry_after_ms\":"), 60000 - s.now);
  T_EQ_INT((int)s.nfetches, 3);
  sim_advance(&s, 60000);
  id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  sim_free(&s);
}

/* Tags from metadata.tags choose deployments; no match and no default is
 * a 400 unless a fallback serves. */
static void test_request_tags(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"tags\":[\"paid\"]") "," DEP(
                "g", "b", ",\"tags\":[\"free\",\"default\"]") "],"
                                                              "\"router_settings\":{\"enable_tag_"
                                                              "filtering\":true}}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  for (int i = 0; i < 5; i++) {
    int32_t id =
        sim_begin(&s, "{\"model\":\"g\",\"metadata\":{\"tags\":[\"paid\"]},\"messages\":[{\"role\":"
                      "\"user\",\"content\":\"hi\"}]}");
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"deployment\":\"a\"");
  }
  for (int i = 0; i < 5; i++) {
    int32_t id = sim_begin(&s, CHAT("g")); /* untagged: the default */
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  }
  int32_t id = sim_begin(&s, "{\"model\":\"g\",\"metadata\":{\"tags\":\"paid\"},"
                             "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  T_CONTAINS(delivered(&s, id), "metadata.tags: expected a list of strings");
  /* metadata never reaches the provider */
  T_CHECK(strstr(s.fetches[0].body, "metadata") == NULL);
  sim_free(&s);
}

/* Named chains: metadata.fallback_chain, or a model naming a chain. */
static void test_fallback_chains(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("fast", "a", "") "," DEP("smart", "b", "") "," DEP(
                "backup", "c",
                "") "],"
                    "\"router_settings\":{\"fallback_chains\":{\"high_quality\":[\"smart\","
                    "\"backup\"],\"fast_cheap\":[\"fast\",\"backup\"]}}}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &E503);
  sim_upstream_add(&s, "c", NULL, 0, &OK);
  int32_t id = sim_begin(&s, "{\"model\":\"fast\",\"num_retries\":0,\"metadata\":{"
                             "\"fallback_chain\":\"high_quality\"},\"messages\":[{\"role\":"
                             "\"user\",\"content\":\"hi\"}]}");
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"model_group\":\"backup\"");
  T_EQ_INT(fetches_to(&s, "b"), 1); /* the chain's groups, in order */
  id = sim_begin(&s, "{\"model\":\"fast_cheap\",\"num_retries\":0,\"messages\":[{"
                     "\"role\":\"user\",\"content\":\"hi\"}]}");
  sim_run(&s, 1000);
  d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"model_group\":\"backup\"");
  T_EQ_INT(fetches_to(&s, "a"), 2); /* the chain's first group served first, as the model */
  T_EQ_INT(fetches_to(&s, "b"), 1); /* and high_quality's smart is not in fast_cheap */
  id = sim_begin(&s, "{\"model\":\"fast\",\"metadata\":{\"fallback_chain\":\"nope\"},"
                     "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
  T_CONTAINS(delivered(&s, id), "metadata.fallback_chain: expected the name of a chain");
  sim_free(&s);
}

/* A provider that says it has no requests left is passed over until its
 * reset, before it answers 429. */
static void test_rate_limit_headers_steer(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP("g", "b", ",\"order\":2") "]}");
  sim_answer spent = {200, 10,
                      "x-ratelimit-limit-requests:100\nx-ratelimit-remaining-requests:0\n"
                      "x-ratelimit-reset-requests:20s\n",
                      OK_BODY};
  sim_upstream_add(&s, "a", &spent, 1, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"a\"");
  for (int i = 0; i < 3; i++) {
    id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  }
  T_EQ_INT(fetches_to(&s, "a"), 1);
  sim_advance(&s, 20000); /* reset: a (order 1) serves again */
  id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"a\"");
  sim_free(&s);
}

/* The answer's cost: its usage times the deployment's prices. */
static void test_response_cost(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP(
                "g", "a", ",\"input_cost_per_token\":0.001,\"output_cost_per_token\":0.01") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  /* 3 prompt and 1 completion tokens */
  T_EQ_DBL(json_num_after(delivered(&s, id), "\"cost\":"), 0.013);
  sim_free(&s);
}

/* p2c-peak-ewma through whole requests: a deployment that turns slow
 * loses the traffic within a few answers. */
static void test_p2c_moves_off_slow(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "," DEP("g", "b", "") "," DEP(
                "g", "c", "") "],"
                              "\"router_settings\":{\"routing_strategy\":\"p2c-peak-ewma\"}}");
  sim_answer slow = {200, 2000, NULL, OK_BODY};
  sim_upstream_add(&s, "a", NULL, 0, &slow);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  sim_upstream_add(&s, "c", NULL, 0, &OK);
  for (int i = 0; i < 200; i++) {
    int32_t id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 5000);
    T_CONTAINS(delivered(&s, id), "\"status\":200");
  }
  /* a answers in 2 s, b and c in 10 ms: after its first answer a loses
   * every draw against either, and wins only the draws it is not in. */
  T_CHECK(fetches_to(&s, "a") <= 3);
  sim_free(&s);
}

/* The retry budget: retries at most percent of the window's requests (or
 * the floor); past it, failures fail fast instead of retrying. */
static void test_retry_budget(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
                "g", "b", ",\"order\":2") "],"
                                          "\"router_settings\":{\"disable_cooldowns\":true,"
                                          "\"circuit_breaker\":false,"
                                          "\"retry_budget\":{\"percent\":20,\"min_per_second\":0.1,"
                                          "\"window\":10}}}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int ok = 0;
  for (int i = 0; i < 10; i++) {
    int32_t id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    ok += strstr(delivered(&s, id), "\"status\":200") != NULL;
  }
  /* 10 requests: 20 % is 2 retries (the floor is 1); the other 8 fail fast */
  T_EQ_INT(ok, 2);
  T_EQ_INT(sim_count_events(&s, "retry_denied"), 8);
  T_EQ_INT(fetches_to(&s, "b"), 2);
  T_CONTAINS(sim_delivery_of(&s, 10, NULL), "the retry budget is spent");
  /* A new window, a new budget. */
  sim_advance(&s, 10000);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"status\":200");
  sim_free(&s);
}

/* The circuit breaker: opens after consecutive failures, then one probe at
 * a time; a failed probe opens it longer, a good one closes it. */
static void test_circuit_breaker(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
            "g", "b",
            ",\"order\":2") "],"
                            "\"router_settings\":{\"disable_cooldowns\":true,\"circuit_breaker\":{"
                            "\"consecutive_failures\":3,\"open_time\":10,\"max_open_time\":15,"
                            "\"max_ejection_percent\":50}}}");
  /* a fails 3 times (the breaker opens) and once more (the first probe) */
  const sim_answer fails[] = {E503, E503, E503, E503};
  sim_upstream_add(&s, "a", fails, 4, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  for (int i = 0; i < 6; i++) {
    int32_t id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  }
  T_EQ_INT(fetches_to(&s, "a"), 3); /* open after the third: the rest went to b */
  T_EQ_INT(sim_count_events(&s, "breaker_open"), 1);
  T_CONTAINS(s.events.data, "\"deployment\":\"a\",\"group\":\"g\",\"reason\":\"server\"");
  sy_buf desc;
  sy_buf_init(&desc);
  sy_router_describe(s.router, s.now, &desc);
  T_CONTAINS(desc.data, "\"breaker\":\"open\",\"breaker_until\":10050");
  sy_buf_reset(&desc);
  sy_router_describe(s.router, 10050, &desc);
  T_CONTAINS(desc.data, "\"breaker\":\"half_open\"");
  sy_buf_free(&desc);
  /* Half-open after 10 s: one probe, which fails: open again, for 15 s (2 x 10 capped). */
  sim_advance(&s, 10000);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"b\"");
  T_EQ_INT(sim_count_events(&s, "probe"), 1);
  T_EQ_INT(fetches_to(&s, "a"), 4);
  T_EQ_DBL(json_num_after(strstr(s.events.data, "\"times\":2") - 40, "\"until\":"),
           s.now - 10 + 15000);
  sim_advance(&s, 14000);
  id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  T_EQ_INT(fetches_to(&s, "a"), 4); /* still open */
  /* Healthy again: the next probe closes it, and a serves as before. */
  sim_advance(&s, 1000);
  for (int i = 0; i < 3; i++) {
    id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    T_CONTAINS(delivered(&s, id), "\"deployment\":\"a\"");
  }
  T_EQ_INT(sim_count_events(&s, "breaker_close"), 1);
  sim_free(&s);
}

/* Never more than max_ejection_percent of a group open (one always may);
 * under panic_threshold of the group left, open breakers are ignored. */
static void test_ejection_limits(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "," DEP("g", "b", "") "," DEP(
                "g", "c", "") "],"
                              "\"router_settings\":{\"disable_cooldowns\":true,\"num_retries\":0,"
                              "\"circuit_breaker\":{\"consecutive_failures\":1}}}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &E503);
  sim_upstream_add(&s, "c", NULL, 0, &E503);
  for (int i = 0; i < 20; i++) {
    sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
  }
  T_EQ_INT(sim_count_events(&s, "breaker_open"), 1); /* 10 % of 3: just the one */
  sim_free(&s);
  /* panic_threshold 60: with one of two open, 50 % is left: ignore it. */
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
            "g", "b",
            ",\"order\":2") "],"
                            "\"router_settings\":{\"disable_cooldowns\":true,\"circuit_breaker\":{"
                            "\"consecutive_failures\":1,\"panic_threshold\":60}}}");
  sim_upstream_add(&s, "a", NULL, 0, &E503);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  for (int i = 0; i < 4; i++) {
    sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
  }
  T_EQ_INT(sim_count_events(&s, "breaker_open"), 1);
  T_EQ_INT(fetches_to(&s, "a"), 4); /* open, but in panic it still gets its order-1 traffic */
  sim_free(&s);
}

/* Adaptive throttling: a lone deployment answering 429 (no cooldown, no
 * fallback) is shed locally with the SRE book's probability once it has
 * seen min_requests, instead of being sent every request. */
static void test_adaptive_throttling(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "],"
                                                  "\"router_settings\":{\"num_retries\":0}}");
  sim_answer limited = {429, 10, NULL, ERR_429};
  sim_upstream_add(&s, "a", NULL, 0, &limited);
  int shed = 0;
  for (int i = 0; i < 100; i++) {
    int32_t id = sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
    const char *d = delivered(&s, id);
    T_CONTAINS(d, "\"status\":429");
    shed += strstr(d, "shed by adaptive throttling") != NULL;
  }
  /* 20 go out before it starts; after that, with no accepts, each is sent
   * with probability 1 / (requests + 1): a handful more in 80. */
  int sent = fetches_to(&s, "a");
  if (sent < 20 || sent > 30) fprintf(stderr, "  throttled test: %d sent\n", sent);
  T_CHECK(sent >= 20 && sent <= 30);
  T_EQ_INT(shed, 100 - fetches_to(&s, "a"));
  sim_free(&s);
  /* Off: every request reaches it. */
  start(&s,
        "{\"model_list\":[" DEP(
            "g", "a", "") "],"
                          "\"router_settings\":{\"num_retries\":0,\"adaptive_throttling\":false}}");
  sim_upstream_add(&s, "a", NULL, 0, &limited);
  for (int i = 0; i < 100; i++) {
    sim_begin(&s, CHAT("g"));
    sim_run(&s, 100);
  }
  T_EQ_INT(fetches_to(&s, "a"), 100);
  sim_free(&s);
}

/* Hedging: no answer after the delay, a second deployment races the
 * first; the first good answer wins and the other is aborted. */
static void test_hedging(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
                "g", "b", ",\"order\":2") "],"
                                          "\"router_settings\":{\"hedging\":{\"delay\":0.5}}}");
  sim_answer slow = {200, 2000, NULL, OK_BODY};
  sim_upstream_add(&s, "a", NULL, 0, &slow);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  int32_t id = sim_begin(&s, CHAT("g"));
  sim_advance(&s, 499);
  T_EQ_INT((int)s.nfetches, 1);
  sim_advance(&s, 1);
  T_EQ_INT((int)s.nfetches, 2);
  T_EQ_INT(sim_count_events(&s, "hedge"), 1);
  sim_run(&s, 5000);
  const char *d = delivered(&s, id);
  T_CONTAINS(d, "\"status\":200");
  T_CONTAINS(d, "\"deployment\":\"b\"");
  T_EQ_DBL(json_num_after(strstr(s.events.data, "\"type\":\"deliver\""), "\"latency_ms\":"), 510);
  T_CHECK(s.fetches[0].aborted); /* the slow one lost and was stopped */
  sim_free(&s);
  /* The hedge fails fast: the first attempt goes on and answers. */
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
            "g", "b", ",\"order\":2") "],"
                                      "\"router_settings\":{\"hedging\":0.5,\"num_retries\":1}}");
  sim_upstream_add(&s, "a", NULL, 0, &slow);
  sim_upstream_add(&s, "b", NULL, 0, &E503);
  id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 5000);
  d = delivered(&s, id);
  T_CONTAINS(d, "\"deployment\":\"a\"");
  T_CONTAINS(d, "\"attempts\":2");
  T_CHECK(!s.fetches[0].aborted);
  sim_free(&s);
  /* No hedge without a retry left (num_retries 0), nor with one deployment. */
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP(
            "g", "b", ",\"order\":2") "],"
                                      "\"router_settings\":{\"hedging\":0.5,\"num_retries\":0}}");
  sim_upstream_add(&s, "a", NULL, 0, &slow);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  id = sim_begin(&s, CHAT("g"));
  sim_run(&s, 5000);
  T_CONTAINS(delivered(&s, id), "\"deployment\":\"a\"");
  T_EQ_INT((int)s.nfetches, 1);
  sim_free(&s);
}

/* Usage a fleet shares through the store: attempts in flight (an aborted
 * one included), attempts and tokens per calendar minute. */
static void test_usage_counters(void) {
  sim s;
  start(&s, "{\"model_list\":[" DEP("g", "a", "") "]}");
  sim_upstream_add(&s, "a", NULL, 0, &OK);
  int32_t first = sim_begin(&s, CHAT("g"));
  sim_begin(&s, CHAT("g"));
  sy_buf out;
  sy_buf_init(&out);
  sy_router_describe(s.router, s.now, &out);
  T_CONTAINS(out.data, "\"rpm\":2,\"tpm\":0,\"inflight\":2");
  sy_router_cancel(s.router, first, s.now);
  sy_buf_reset(&out);
  sy_router_describe(s.router, s.now, &out);
  T_CONTAINS(out.data, "\"rpm\":2,\"tpm\":0,\"inflight\":1");
  sim_run(&s, 100);
  sy_buf_reset(&out);
  sy_router_describe(s.router, s.now, &out);
  T_CONTAINS(out.data, "\"rpm\":2,\"tpm\":4,\"inflight\":0");
  sy_buf_reset(&out);
  sy_router_describe(s.router, 60000, &out); /* the next minute counts afresh */
  T_CONTAINS(out.data, "\"rpm\":0,\"tpm\":0,\"inflight\":0");
  sy_buf_free(&out);
  sim_free(&s);
}

static void test_describe(void) {
  sim s;
  start(&s,
        "{\"model_list\":[" DEP("g", "a", ",\"order\":1") "," DEP("g", "b", ",\"order\":2") "]}");
  sim_answer limited = {429, 10, NULL, ERR_429};
  sim_upstream_add(&s, "a", &limited, 1, &OK);
  sim_upstream_add(&s, "b", NULL, 0, &OK);
  sim_begin(&s, CHAT("g"));
  sim_run(&s, 100);
  sy_buf out;
  sy_buf_init(&out);
  T_EQ_INT(sy_router_describe(s.router, s.now, &out), 0);
  T_CONTAINS(out.data, "{\"id\":\"a\",\"model_group\":\"g\",\"model\":\"openai/m\","
                       "\"cooling_until\":5010,\"reason\":\"rate_limit\",\"failures\":0,"
                       "\"rpm\":1,\"tpm\":0,\"inflight\":0,\"breaker\":null,\"breaker_until\":0}");
  /* b answered with usage {prompt_tokens 1, completion_tokens 3} */
  T_CONTAINS(out.data, "{\"id\":\"b\",\"model_group\":\"g\",\"model\":\"openai/m\","
                       "\"cooling_until\":0,\"reason\":null,\"failures\":0,"
                       "\"rpm\":1,\"tpm\":4,\"inflight\":0,\"breaker\":null,\"breaker_until\":0}");
  T_CHECK(strstr(out.data, "sk-secret") == NULL);
  sy_buf_reset(&out);
  sy_router_describe(s.router, 5010, &out); /* healthy again at the deadline */
  T_CONTAINS(out.data, "{\"id\":\"a\",\"model_group\":\"g\",\"model\":\"openai/m\","
                       "\"cooling_until\":0,\"reason\":null");
  sy_buf_free(&out);
  sim_free(&s);
}

static void test_embeddings(void) {
  sim s;
  start(&s, "{\"model_list\":[{\"model_name\":\"emb\",\"litellm_params\":{\"model\":"
            "\"anthropic/claude\",\"api_base\":\"http://mock/an\"},\"model_info\":{\"id\":\"an\"}},"
            "{\"model_name\":\"emb2\",\"litellm_params\":{\"model\":\"azure/te3\",\"api_base\":"
            "\"http://mock/az\",\"api_key\":\"k\"},\"model_info\":{\"id\":\"az\"}}],"
            "\"router_settings\":{\"fallbacks\":[{\"emb\":[\"emb2\"]}]}}");
  sim_answer list = {
      200, 10, NULL,
      "{\"object\":\"list\",\"data\":[{\"object\":\"embedding\",\"index\":0,"
      "\"embedding\":[0.1,0.2]}],\"usage\":{\"prompt_tokens\":2,\"total_tokens\":2}}"};
  sim_upstream_add(&s, "az", NULL, 0, &list);
  const char *body = "{\"model\":\"emb\",\"input\":\"hello\"}";
  int32_t id = sy_router_begin_embeddings(s.router, body, strlen(body), s.now);
  sim_run(&s, 1000);
  const char *d = delivered(&s, id);
  /* Anthropic has no embeddings: nothing is sent there; the fallback serves. */
  T_CONTAINS(d, "\"status\":200,\"response\":{\"object\":\"list\"");
  T_CONTAINS(d, "\"model_group\":\"emb2\"");
  T_EQ_INT(s.nfetches, 1);
  T_CONTAINS(s.fetches[0].head, "http://mock/az/openai/deployments/te3/embeddings?api-version=");
  /* an embeddings body without input, and a chat answer to an embeddings request */
  const char *bad = "{\"model\":\"emb2\"}";
  id = sy_router_begin_embeddings(s.router, bad, strlen(bad), s.now);
  T_CONTAINS(delivered(&s, id), "input: expected a string or a non-empty list");
  sim_free(&s);
}

static void all_tests(void) {
  test_embeddings();
  test_usage_counters();
  test_retry_budget();
  test_circuit_breaker();
  test_ejection_limits();
  test_adaptive_throttling();
  test_hedging();
  test_pre_call_context_window();
  test_usage_limits();
  test_request_tags();
  test_fallback_chains();
  test_rate_limit_headers_steer();
  test_response_cost();
  test_p2c_moves_off_slow();
  test_describe();
  test_stream_commits_and_forwards();
  test_stream_fails_before_first_token_invisibly();
  test_stream_first_token_timeout();
  test_stream_cut_after_first_token();
  test_retry_goes_to_sibling_at_once();
  test_backoff_single_deployment();
  test_retry_after_is_honoured();
  test_fallback_and_lone_deployment_cooling();
  test_429_cools_at_once();
  test_context_window_fallback();
  test_bad_request_not_retried();
  test_auth_moves_on();
  test_deadline();
  test_attempt_timeout_then_retry();
  test_attempts_bounded_across_fallbacks();
  test_bad_input();
  test_cancel();
  test_provider_model_without_config();
  test_fallback_switches_key();
  test_upstream_body();
  test_exactly_once_and_memory();
  test_failing_allocations();
  test_router_new_failing_allocations();
}

void suite_request(void) {
  all_tests();
  watched_store = 1;
  all_tests();
  watched_store = 0;
}
