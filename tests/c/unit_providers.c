#define _POSIX_C_SOURCE 200809L
/* unit_providers.c: upstream requests per provider, and the classification
 * of the providers' real error bodies. */
#include <stdlib.h>
#include <string.h>

#include "providers.h"
#include "t.h"

static cJSON *chat(void) {
  return cJSON_Parse("{\"model\":\"g\",\"temperature\":0.5,\"stop\":\"END\",\"messages\":["
                     "{\"role\":\"system\",\"content\":\"Be brief.\"},"
                     "{\"role\":\"user\",\"content\":\"Hi\"},"
                     "{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"there\"}]}]}");
}

static void build(const sy_target *t, int stream, sy_buf *head, sy_buf *body) {
  cJSON *req = chat();
  sy_buf_init(head);
  sy_buf_init(body);
  T_EQ_INT(sy_provider_build_request(t, req, stream, head, body), 0);
  cJSON_Delete(req);
}

static void test_requests(void) {
  sy_buf head, body;
  cJSON *extra = cJSON_Parse("{\"seed\":1,\"temperature\":0}");
  sy_target oa = {.provider = SY_PROVIDER_OPENAI,
                  .upstream_model = "gpt-4o",
                  .api_base = "http://x/v1/",
                  .api_key = "sk-1",
                  .extra_params = extra};
  build(&oa, 0, &head, &body);
  T_CONTAINS(head.data, "\"url\":\"http://x/v1/chat/completions\"");
  T_CONTAINS(head.data, "\"authorization\":\"Bearer sk-1\"");
  T_CONTAINS(body.data, "\"model\":\"gpt-4o\"");
  T_CONTAINS(body.data, "\"seed\":1");
  T_CONTAINS(body.data, "\"temperature\":0.5"); /* the request wins */
  T_CHECK(strstr(body.data, "\"stream\"") == NULL);
  sy_buf_free(&head), sy_buf_free(&body);
  build(&oa, 1, &head, &body);
  T_CONTAINS(body.data, "\"stream\":true,\"stream_options\":{\"include_usage\":true}");
  sy_buf_free(&head), sy_buf_free(&body);
  cJSON_Delete(extra);

  sy_target az = {.provider = SY_PROVIDER_AZURE,
                  .upstream_model = "gpt4o-eu",
                  .api_base = "https://eu.example.com",
                  .api_key = "k",
                  .extra_params = NULL};
  build(&az, 0, &head, &body);
  T_CONTAINS(head.data, "https://eu.example.com/openai/deployments/gpt4o-eu/chat/completions"
                        "?api-version=2024-10-21");
  T_CONTAINS(head.data, "\"api-key\":\"k\"");
  sy_buf_free(&head), sy_buf_free(&body);
  az.api_base = NULL;
  cJSON *req = chat();
  sy_buf_init(&head), sy_buf_init(&body);
  T_EQ_INT(sy_provider_build_request(&az, req, 0, &head, &body), SY_ERR_INVALID);
  cJSON_Delete(req);
  sy_buf_free(&head), sy_buf_free(&body);

  sy_target an = {.provider = SY_PROVIDER_ANTHROPIC,
                  .upstream_model = "claude-sonnet",
                  .api_base = NULL,
                  .api_key = "ak",
                  .extra_params = NULL};
  build(&an, 0, &head, &body);
  T_CONTAINS(head.data, "\"url\":\"https://api.anthropic.com/v1/messages\"");
  T_CONTAINS(head.data, "\"x-api-key\":\"ak\"");
  T_CONTAINS(head.data, "\"anthropic-version\":\"2023-06-01\"");
  T_CONTAINS(body.data, "\"system\":\"Be brief.\"");
  /* the two user turns merged into one message */
  T_CONTAINS(body.data, "\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\","
                        "\"text\":\"Hi\"},{\"type\":\"text\",\"text\":\"there\"}]}]");
  T_CONTAINS(body.data, "\"max_tokens\":4096");
  T_CONTAINS(body.data, "\"stop_sequences\":[\"END\"]");
  sy_buf_free(&head), sy_buf_free(&body);
  an.api_base = "http://proxy/v1/messages";
  build(&an, 0, &head, &body);
  T_CONTAINS(head.data, "\"url\":\"http://proxy/v1/messages\"");
  sy_buf_free(&head), sy_buf_free(&body);
}

/* The OpenAI body as it was built before it was written straight from the
 * request: a copy of the extra params, each request member (but model and
 * the stream keys) replacing its namesake, then the router's own keys; a
 * stream's stream_options is the extra one's object with include_usage
 * true. */
static cJSON *merged_body(const cJSON *extra, const cJSON *req, const char *model, int stream) {
  cJSON *out = extra ? cJSON_Duplicate(extra, 1) : cJSON_CreateObject();
  cJSON *options = cJSON_DetachItemFromObjectCaseSensitive(out, "stream_options");
  if (!cJSON_IsObject(options)) {
    cJSON_Delete(options);
    options = cJSON_CreateObject();
  }
  cJSON_DeleteItemFromObjectCaseSensitive(options, "include_usage");
  cJSON_AddTrueToObject(options, "include_usage");
  const cJSON *v;
  cJSON_ArrayForEach(v, req) {
    if (!strcmp(v->string, "model") || !strcmp(v->string, "stream") ||
        !strcmp(v->string, "stream_options"))
      continue;
    cJSON_DeleteItemFromObjectCaseSensitive(out, v->string);
    cJSON_AddItemToObject(out, v->string, cJSON_Duplicate(v, 1));
  }
  cJSON_DeleteItemFromObjectCaseSensitive(out, "model");
  cJSON_DeleteItemFromObjectCaseSensitive(out, "stream");
  cJSON_AddStringToObject(out, "model", model);
  if (stream) {
    cJSON_AddTrueToObject(out, "stream");
    cJSON_AddItemToObject(out, "stream_options", options);
  } else {
    cJSON_Delete(options);
  }
  return out;
}

/* The OpenAI body: the order and the winners of the merge with the extra
 * params, repeated keys, values copied exactly. */
static void test_openai_body(void) {
  cJSON *extra = cJSON_Parse("{\"seed\":1,\"temperature\":0,\"stream_options\":{\"x\":1},"
                             "\"top_p\":0.5,\"stream\":true}");
  cJSON *req =
      cJSON_Parse("{\"model\":\"g\",\"temperature\":0.5,\"messages\":[{\"role\":"
                  "\"user\",\"content\":\"a\\\"b\\n\"}],\"stream\":true,\"stream_options\":"
                  "{\"y\":2},\"user\":\"u\",\"user\":\"v\",\"n\":-0,\"big\":1e300}");
  sy_target t = {.provider = SY_PROVIDER_OPENAI, .upstream_model = "gpt-4o", .extra_params = extra};
  sy_buf head, body;
  sy_buf_init(&head), sy_buf_init(&body);
  T_EQ_INT(sy_provider_build_request(&t, req, 0, &head, &body), 0);
  T_EQ_STR(body.data, "{\"seed\":1,\"top_p\":0.5,\"temperature\":0.5,"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"a\\\"b\\n\"}],\"user\":\"v\","
                      "\"n\":-0,\"big\":1.0000000000000001e+300,\"model\":\"gpt-4o\"}");
  T_EQ_STR(head.data, "{\"method\":\"POST\",\"url\":\"https://api.openai.com/v1/chat/completions\","
                      "\"headers\":{\"content-type\":\"application/json\"},\"stream\":false}");
  sy_buf_free(&head), sy_buf_free(&body);
  /* Streamed: the extra stream_options' members stay, once, with the
   * router's include_usage. */
  sy_buf_init(&head), sy_buf_init(&body);
  T_EQ_INT(sy_provider_build_request(&t, req, 1, &head, &body), 0);
  T_CONTAINS(body.data, "\"model\":\"gpt-4o\",\"stream\":true,"
                        "\"stream_options\":{\"x\":1,\"include_usage\":true}}");
  T_CHECK(!strstr(strstr(body.data, "stream_options") + 1, "stream_options")); /* once */
  sy_buf_free(&head), sy_buf_free(&body);
  /* Streamed, with a key and a base that need escapes in the head. */
  t.extra_params = NULL;
  t.api_key = "k\"1";
  t.api_base = "http://h/\\v1//";
  sy_buf_init(&head), sy_buf_init(&body);
  T_EQ_INT(sy_provider_build_request(&t, req, 1, &head, &body), 0);
  T_EQ_STR(head.data, "{\"method\":\"POST\",\"url\":\"http://h/\\\\v1/chat/completions\","
                      "\"headers\":{\"content-type\":\"application/json\",\"authorization\":"
                      "\"Bearer k\\\"1\"},\"stream\":true}");
  T_CONTAINS(body.data, "\"big\":1.0000000000000001e+300,\"model\":\"gpt-4o\",\"stream\":true,"
                        "\"stream_options\":{\"include_usage\":true}}");
  sy_buf_free(&head), sy_buf_free(&body);
  cJSON_Delete(req);
  cJSON_Delete(extra);

  /* Random requests and extra params over a few keys, repeats included:
   * the same members in the same order as the merge gave. */
  static const char *const keys[] = {"model",       "stream",   "stream_options", "seed",
                                     "temperature", "messages", "user",           "n"};
  static const char *const values[] = {
      "1", "0.1", "\"s\"", "true", "null", "{\"a\":[1,{}]}", "-0", "1e300", "[]", "\"\\u0001\""};
  sy_rng rng;
  sy_rng_seed(&rng, 3);
  int bad = 0;
  for (int i = 0; i < 3000; i++) {
    char rtext[1024] = "{\"messages\":[]", etext[1024] = "{";
    size_t nk = sizeof keys / sizeof *keys, nv = sizeof values / sizeof *values;
    for (uint32_t j = 0, m = sy_rng_next(&rng) % 9; j < m; j++)
      snprintf(rtext + strlen(rtext), sizeof rtext - strlen(rtext), ",\"%s\":%s",
               keys[sy_rng_next(&rng) % nk], values[sy_rng_next(&rng) % nv]);
    strcat(rtext, "}");
    for (size_t j = 0; j < nk; j++) /* extra params: unique keys, as the config makes them */
      if (sy_rng_next(&rng) % 3 == 0)
        snprintf(etext + strlen(etext), sizeof etext - strlen(etext), "%s\"%s\":%s",
                 etext[1] ? "," : "", keys[j], values[sy_rng_next(&rng) % nv]);
    strcat(etext, "}");
    cJSON *e = etext[1] ? cJSON_Parse(etext) : NULL, *r = cJSON_Parse(rtext);
    int stream = (int)(sy_rng_next(&rng) % 2);
    t = (sy_target){.provider = SY_PROVIDER_OPENAI, .upstream_model = "m", .extra_params = e};
    sy_buf_init(&head), sy_buf_init(&body);
    int rc = sy_provider_build_request(&t, r, stream, &head, &body);
    cJSON *want = merged_body(e, r, "m", stream), *got = cJSON_Parse(sy_buf_cstr(&body));
    char *w = cJSON_PrintUnformatted(want), *g = got ? cJSON_PrintUnformatted(got) : NULL;
    if (rc != 0 || !g || strcmp(w, g)) {
      if (!bad)
        fprintf(stderr, "  request %s\n  extra %s\n  want %s\n  got  %s\n", rtext, etext, w,
                sy_buf_cstr(&body));
      bad++;
    }
    cJSON_free(w), cJSON_free(g);
    cJSON_Delete(want), cJSON_Delete(got), cJSON_Delete(e), cJSON_Delete(r);
    sy_buf_free(&head), sy_buf_free(&body);
  }
  T_EQ_INT(bad, 0);
}

static sy_class cls_of(sy_provider_kind k, int status, const char *body) {
  sy_outcome o;
  sy_outcome_init(&o);
  sy_provider_parse_response(k, status, NULL, 0, body, strlen(body), 0, &o);
  sy_class c = o.cls;
  sy_outcome_free(&o);
  return c;
}

static void test_classification(void) {
  const sy_provider_kind O = SY_PROVIDER_OPENAI, A = SY_PROVIDER_ANTHROPIC;
  T_EQ_INT(cls_of(O, 429,
                  "{\"error\":{\"message\":\"Rate limit reached for requests\",\"type\":"
                  "\"requests\",\"param\":null,\"code\":\"rate_limit_exceeded\"}}"),
           SY_CLASS_RATE_LIMIT);
  T_EQ_INT(cls_of(O, 429,
                  "{\"error\":{\"message\":\"You exceeded your current quota, please "
                  "check your plan and billing details.\",\"type\":\"insufficient_quota\","
                  "\"param\":null,\"code\":\"insufficient_quota\"}}"),
           SY_CLASS_QUOTA);
  T_EQ_INT(cls_of(O, 400,
                  "{\"error\":{\"message\":\"This model's maximum context length is 8192 "
                  "tokens.\",\"type\":\"invalid_request_error\",\"param\":\"messages\","
                  "\"code\":\"context_length_exceeded\"}}"),
           SY_CLASS_CONTEXT_WINDOW);
  T_EQ_INT(cls_of(O, 401,
                  "{\"error\":{\"message\":\"Incorrect API key provided\",\"type\":"
                  "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}"),
           SY_CLASS_AUTH);
  T_EQ_INT(cls_of(O, 404,
                  "{\"error\":{\"message\":\"The model `x` does not exist\",\"code\":"
                  "\"model_not_found\"}}"),
           SY_CLASS_NOT_FOUND);
  T_EQ_INT(cls_of(O, 500,
                  "{\"error\":{\"message\":\"The server had an error\",\"type\":"
                  "\"server_error\"}}"),
           SY_CLASS_SERVER);
  T_EQ_INT(cls_of(O, 400,
                  "{\"error\":{\"code\":\"content_filter\",\"message\":\"The response was "
                  "filtered\",\"innererror\":{\"code\":\"ResponsibleAIPolicyViolation\"}}}"),
           SY_CLASS_CONTENT_POLICY);
  T_EQ_INT(cls_of(O, 200,
                  "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
                  "\"content\":null},\"finish_reason\":\"content_filter\"}]}"),
           SY_CLASS_CONTENT_POLICY);
  T_EQ_INT(cls_of(O, 422, "{}"), SY_CLASS_BAD_REQUEST);
  T_EQ_INT(cls_of(O, 409, ""), SY_CLASS_CONFLICT);
  T_EQ_INT(cls_of(O, 408, "<html>"), SY_CLASS_TIMEOUT);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[{\"ind"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "[1,2]"), SY_CLASS_BAD_RESPONSE);
  /* The body reaches the host as it came, so what JSON.parse refuses is
   * malformed here too, though cJSON reads it: bytes after the object, a
   * raw control character in a string, a number JSON does not spell. */
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[]} trailing"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[]}{}"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[{\"message\":{\"content\":\"a\tb\"}}]}"),
           SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[],\"created\":01}"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[],\"created\":1.}"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, "{\"choices\":{}}"), SY_CLASS_BAD_RESPONSE);
  T_EQ_INT(cls_of(O, 200, " {\"choices\":[]}\n"), SY_CLASS_OK);
  /* The filter's word spelled with an escape, or the first of two keys. */
  T_EQ_INT(cls_of(O, 200, "{\"choices\":[{\"finish_reason\":\"content\\u005ffilter\"}]}"),
           SY_CLASS_CONTENT_POLICY);
  T_EQ_INT(cls_of(O, 200,
                  "{\"choices\":[{\"finish_reason\":\"stop\",\"finish_reason\":"
                  "\"content_filter\"}]}"),
           SY_CLASS_OK);
  T_EQ_INT(cls_of(O, 200,
                  "{\"choices\":[{\"message\":{\"content\":\"no content_filter\"},"
                  "\"finish_reason\":\"stop\"}]}"),
           SY_CLASS_OK);
  {
    /* Usage: the first of each count, a number or nothing; the body kept whole. */
    static const char body[] = "{\"usage\":{\"completion_tokens\":\"7\",\"prompt_tokens\":1.5e1,"
                               "\"prompt_tokens\":99},\"choices\":[],\"usage\":{}}";
    sy_outcome o;
    sy_outcome_init(&o);
    T_EQ_INT(sy_provider_parse_response(O, 200, NULL, 0, body, strlen(body), 0, &o), SY_OK);
    T_EQ_INT(o.cls, SY_CLASS_OK);
    T_EQ_DBL(o.prompt_tokens, 15);
    T_EQ_DBL(o.completion_tokens, 0);
    T_CHECK(o.response.len == strlen(body) && !memcmp(o.response.data, body, o.response.len));
    sy_outcome_free(&o);
    static const char list[] = "{\"object\":\"list\",\"data\":[{\"embedding\":[0.5,-1e-3]}],"
                               "\"usage\":{\"prompt_tokens\":4,\"total_tokens\":4}}";
    sy_outcome_init(&o);
    T_EQ_INT(sy_provider_parse_embeddings(O, 200, NULL, 0, list, strlen(list), 0, &o), SY_OK);
    T_EQ_INT(o.cls, SY_CLASS_OK);
    T_EQ_DBL(o.prompt_tokens, 4);
    sy_outcome_free(&o);
    sy_outcome_init(&o);
    T_EQ_INT(sy_provider_parse_embeddings(O, 200, NULL, 0, "{\"data\":[]}x", 12, 0, &o), SY_OK);
    T_EQ_INT(o.cls, SY_CLASS_BAD_RESPONSE);
    T_CHECK(o.message.len > 0);
    sy_outcome_free(&o);
  }
  T_EQ_INT(cls_of(A, 529,
                  "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
                  "\"message\":\"Overloaded\"}}"),
           SY_CLASS_OVERLOADED);
  T_EQ_INT(cls_of(A, 429,
                  "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\","
                  "\"message\":\"Number of requests has exceeded your rate limit\"}}"),
           SY_CLASS_RATE_LIMIT);
  T_EQ_INT(cls_of(A, 400,
                  "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                  "\"message\":\"prompt is too long: 250000 tokens > 200000 maximum\"}}"),
           SY_CLASS_CONTEXT_WINDOW);
  T_EQ_INT(cls_of(A, 400,
                  "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\","
                  "\"message\":\"Your credit balance is too low to access the API\"}}"),
           SY_CLASS_QUOTA);
  T_EQ_INT(cls_of(A, 401,
                  "{\"type\":\"error\",\"error\":{\"type\":\"authentication_error\","
                  "\"message\":\"invalid x-api-key\"}}"),
           SY_CLASS_AUTH);
  T_EQ_INT(cls_of(A, 200, "{\"choices\":[]}"), SY_CLASS_BAD_RESPONSE);
}

static void test_anthropic_answer(void) {
  const char *msg = "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":"
                    "\"claude-sonnet\",\"content\":[{\"type\":\"text\",\"text\":\"Hello\"},"
                    "{\"type\":\"tool_use\",\"id\":\"tu_1\",\"name\":\"f\",\"input\":{\"a\":1}}],"
                    "\"stop_reason\":\"tool_use\",\"usage\":{\"input_tokens\":12,"
                    "\"output_tokens\":3}}";
  sy_outcome o;
  sy_outcome_init(&o);
  T_EQ_INT(sy_provider_parse_response(SY_PROVIDER_ANTHROPIC, 200, NULL, 0, msg, strlen(msg),
                                      1700000000500.0, &o),
           0);
  T_EQ_INT(o.cls, SY_CLASS_OK);
  T_CONTAINS(sy_buf_cstr(&o.response), "\"object\":\"chat.completion\",\"created\":1700000000");
  T_CONTAINS(sy_buf_cstr(&o.response), "\"content\":\"Hello\"");
  T_CONTAINS(sy_buf_cstr(&o.response), "\"arguments\":\"{\\\"a\\\":1}\"");
  T_CONTAINS(sy_buf_cstr(&o.response), "\"finish_reason\":\"tool_calls\"");
  T_CONTAINS(sy_buf_cstr(&o.response), "\"total_tokens\":15");
  T_EQ_DBL(o.prompt_tokens, 12);
  sy_outcome_free(&o);
}

static void test_retry_after(void) {
  const char *h = "content-type: application/json\r\nretry-after-ms: 1500\r\nretry-after:3\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), 1500);
  h = "retry-after: 3\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), 3000);
  h = "retry-after: Sun, 06 Nov 1994 08:49:37 GMT\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 784111777000.0 - 2000), 2000);
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 784111777000.0 + 1), 0); /* past */
  h = "retry-after: soon\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), -1);
  h = "retry-after: -1\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), -1);
  h = "retry-after: 0x10\nretry-after-ms: 1e400\n"; /* plain decimals only, as strtod is not */
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), -1);
  h = "retry-after-ms: 0.5\n";
  T_EQ_DBL(sy_retry_after_ms(h, strlen(h), 0), 0.5);
  T_EQ_DBL(sy_retry_after_ms(NULL, 0, 0), -1);
}

/* Reads |h| and checks the six fields (limit, remaining, reset) per kind. */
static void rl_expect(const char *h, sy_ms now, double lr, double rr, double sr, double lt,
                      double rt, double st, int line) {
  sy_ratelimit rl;
  memset(&rl, 0x5a, sizeof rl); /* every field must be written */
  sy_provider_ratelimit(h, h ? strlen(h) : 0, now, &rl);
  int before = t_failures;
  T_EQ_DBL(rl.limit_requests, lr);
  T_EQ_DBL(rl.remaining_requests, rr);
  T_EQ_DBL(rl.reset_requests_ms, sr);
  T_EQ_DBL(rl.limit_tokens, lt);
  T_EQ_DBL(rl.remaining_tokens, rt);
  T_EQ_DBL(rl.reset_tokens_ms, st);
  if (t_failures != before) fprintf(stderr, "  (rl_expect at line %d)\n", line);
}
#define RL_EXPECT(h, now, lr, rr, sr, lt, rt, st)                                                  \
  rl_expect(h, now, lr, rr, sr, lt, rt, st, __LINE__)

/* The reset of a lone x-ratelimit-reset-requests header, or -1. */
static double rl_reset(const char *value, sy_ms now) {
  char h[200];
  snprintf(h, sizeof h, "x-ratelimit-reset-requests:%s\n", value);
  sy_ratelimit rl;
  sy_provider_ratelimit(h, strlen(h), now, &rl);
  return rl.reset_requests_ms;
}

/* The remaining of a lone x-ratelimit-remaining-tokens header, or -1. */
static double rl_count(const char *value) {
  char h[200];
  snprintf(h, sizeof h, "x-ratelimit-remaining-tokens:%s\n", value);
  sy_ratelimit rl;
  sy_provider_ratelimit(h, strlen(h), 0, &rl);
  return rl.remaining_tokens;
}

static void test_ratelimit_openai(void) {
  /* OpenAI's documented example, as the transport hands it over */
  const char *h = "content-type: application/json\r\n"
                  "x-ratelimit-limit-requests: 60\r\n"
                  "x-ratelimit-limit-tokens: 150000\r\n"
                  "x-ratelimit-remaining-requests: 59\r\n"
                  "x-ratelimit-remaining-tokens: 149984\r\n"
                  "x-ratelimit-reset-requests: 1s\r\n"
                  "x-ratelimit-reset-tokens: 6m0s\r\n";
  RL_EXPECT(h, 1.7e12, 60, 59, 1000, 150000, 149984, 360000);
  /* Azure OpenAI sends the remaining pair alone; blanks around values */
  h = "x-ratelimit-remaining-requests:\t 12 \nx-ratelimit-remaining-tokens:  0\n";
  RL_EXPECT(h, 0, -1, 12, -1, -1, 0, -1);
  /* no trailing newline on the last line */
  h = "x-ratelimit-reset-tokens: 20ms";
  RL_EXPECT(h, 0, -1, -1, -1, -1, -1, 20);
  /* the first of a repeated header counts, as with sy_header_find */
  h = "x-ratelimit-remaining-requests: 5\nx-ratelimit-remaining-requests: 7\n";
  RL_EXPECT(h, 0, -1, 5, -1, -1, -1, -1);
  /* names must match whole: a longer or shorter name is another header */
  h = "x-ratelimit-remaining-requestsx: 5\nx-ratelimit-remaining-request: 5\n"
      "x-ratelimit-remaining-requests 5\n";
  RL_EXPECT(h, 0, -1, -1, -1, -1, -1, -1);
}

static void test_ratelimit_durations(void) {
  T_EQ_DBL(rl_reset("1s", 0), 1000);
  T_EQ_DBL(rl_reset("6m0s", 0), 360000);
  T_EQ_DBL(rl_reset("20ms", 0), 20);
  T_EQ_DBL(rl_reset("1h2m3.5s", 0), 3723500);
  T_EQ_DBL(rl_reset("0.5s", 0), 500);
  T_EQ_DBL(rl_reset(".5s", 0), 500);
  T_EQ_DBL(rl_reset("2m59.56s", 0), 179560); /* Groq's */
  T_EQ_DBL(rl_reset("1500us", 0), 1.5);
  T_EQ_DBL(rl_reset("1500\xc2\xb5s", 0), 1.5);
  T_EQ_DBL(rl_reset("2000000ns", 0), 2);
  T_EQ_DBL(rl_reset("0s", 0), 0);
  T_EQ_DBL(rl_reset("7", 0), 7000); /* plain seconds */
  T_EQ_DBL(rl_reset("7.25", 0), 7250);
  T_EQ_DBL(rl_reset("1m1m", 0), 120000); /* Go adds repeated units */
  /* malformed: unknown, whatever |now| */
  static const char *const bad[] = {"",       "s",    "1x",    "1h5",  "1h 5m", "-1s",
                                    "+1s",    "1e3s", "1e400", ".s",   "1..5s", "abc",
                                    "inf",    "nan",  "0x10",  "1,5s", "1 s",   "99999999999999s",
                                    "1e400s", "1mss", "1hm"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    double r = rl_reset(bad[i], 1.7e12);
    T_EQ_DBL(r, -1);
    if (r != -1) fprintf(stderr, "  (duration \"%s\")\n", bad[i]);
  }
}

static void test_ratelimit_counts(void) {
  T_EQ_DBL(rl_count("0"), 0);
  T_EQ_DBL(rl_count("149984"), 149984);
  T_EQ_DBL(rl_count("007"), 7);
  T_EQ_DBL(rl_count("2.5"), 2.5);
  T_EQ_DBL(rl_count("999999999999"), 999999999999.0);
  static const char *const bad[] = {"",      "-1",       "+1",    "1e3",  "1e400", "inf",
                                    "nan",   "0x1",      "12abc", "1 2",  ".",     "1000000000000",
                                    "1,000", "\xd9\xa3", "1.2.3", "\"5\""};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    double r = rl_count(bad[i]);
    T_EQ_DBL(r, -1);
    if (r != -1) fprintf(stderr, "  (count \"%s\")\n", bad[i]);
  }
  /* a huge digit string stays unknown, not inf */
  char big[400];
  memset(big, '9', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  char h[460];
  snprintf(h, sizeof h, "x-ratelimit-remaining-tokens: %s\n", big);
  sy_ratelimit rl;
  sy_provider_ratelimit(h, strlen(h), 0, &rl);
  T_EQ_DBL(rl.remaining_tokens, -1);
  /* a NUL inside a value ends nothing early: the value is malformed */
  static const char nul[] = "x-ratelimit-remaining-tokens: 5\0 6\n";
  sy_provider_ratelimit(nul, sizeof nul - 1, 0, &rl);
  T_EQ_DBL(rl.remaining_tokens, -1);
}

/* 2026-12-01T21:30:00Z in ms since the epoch. */
#define DEC1 1796160600000.0

static void test_ratelimit_anthropic(void) {
  const char *h = "anthropic-ratelimit-requests-limit: 50\n"
                  "anthropic-ratelimit-requests-remaining: 49\n"
                  "anthropic-ratelimit-requests-reset: 2026-12-01T21:30:00Z\n"
                  "anthropic-ratelimit-tokens-limit: 100000\n"
                  "anthropic-ratelimit-tokens-remaining: 90000\n"
                  "anthropic-ratelimit-tokens-reset: 2026-12-01T21:30:05Z\n";
  RL_EXPECT(h, DEC1 - 1000, 50, 49, 1000, 100000, 90000, 6000);
  /* the most constraining token budget wins, with its own limit and reset */
  h = "anthropic-ratelimit-tokens-limit: 100000\n"
      "anthropic-ratelimit-tokens-remaining: 90000\n"
      "anthropic-ratelimit-tokens-reset: 2026-12-01T21:30:05Z\n"
      "anthropic-ratelimit-input-tokens-limit: 80000\n"
      "anthropic-ratelimit-input-tokens-remaining: 70000\n"
      "anthropic-ratelimit-input-tokens-reset: 2026-12-01T21:30:02Z\n"
      "anthropic-ratelimit-output-tokens-limit: 16000\n"
      "anthropic-ratelimit-output-tokens-remaining: 1000\n"
      "anthropic-ratelimit-output-tokens-reset: 2026-12-01T21:30:09Z\n";
  RL_EXPECT(h, DEC1, -1, -1, -1, 16000, 1000, 9000);
  /* input tokens alone are the budget when they are all that is said */
  h = "anthropic-ratelimit-input-tokens-remaining: 7\n";
  RL_EXPECT(h, DEC1, -1, -1, -1, -1, 7, -1);
  /* a known remaining beats an unknown one; a tie goes to the later reset */
  h = "anthropic-ratelimit-tokens-limit: 5\n"
      "anthropic-ratelimit-output-tokens-remaining: 9\n"
      "anthropic-ratelimit-output-tokens-reset: 2026-12-01T21:30:01Z\n"
      "anthropic-ratelimit-input-tokens-remaining: 9\n"
      "anthropic-ratelimit-input-tokens-reset: 2026-12-01T21:30:04Z\n";
  RL_EXPECT(h, DEC1, -1, -1, -1, -1, 9, 4000);
  /* a malformed remaining leaves that budget's other fields in the running */
  h = "anthropic-ratelimit-tokens-remaining: lots\n"
      "anthropic-ratelimit-tokens-reset: 2026-12-01T21:30:03Z\n";
  RL_EXPECT(h, DEC1, -1, -1, -1, -1, -1, 3000);
  /* both families in one block: requests are most constraining too */
  h = "x-ratelimit-remaining-requests: 3\nanthropic-ratelimit-requests-remaining: 4\n";
  RL_EXPECT(h, 0, -1, 3, -1, -1, -1, -1);
}

/* The reset of a lone anthropic-ratelimit-requests-reset header, or -1. */
static double rl_when(const char *value, sy_ms now) {
  char h[200];
  snprintf(h, sizeof h, "anthropic-ratelimit-requests-reset: %s\n", value);
  sy_ratelimit rl;
  sy_provider_ratelimit(h, strlen(h), now, &rl);
  return rl.reset_requests_ms;
}

static void test_ratelimit_rfc3339(void) {
  T_EQ_DBL(rl_when("2026-12-01T21:30:00Z", DEC1 - 2500), 2500);
  T_EQ_DBL(rl_when("2026-12-01T21:30:00.250Z", DEC1), 250);
  double frac = rl_when("2026-12-01T21:30:00.123456789Z", DEC1); /* to a double's precision */
  T_CHECK(frac > 123.456 && frac < 123.457);
  T_EQ_DBL(rl_when("2026-12-01T21:30:00+00:00", DEC1 - 1), 1);
  T_EQ_DBL(rl_when("2026-12-01T22:30:00+01:00", DEC1 - 1), 1);
  T_EQ_DBL(rl_when("2026-12-01T21:00:00-00:30", DEC1 - 1), 1);
  T_EQ_DBL(rl_when("2026-12-01t21:30:00z", DEC1 - 1), 1);
  T_EQ_DBL(rl_when("2026-12-01 21:30:00Z", DEC1 - 1), 1);
  T_EQ_DBL(rl_when("2024-02-29T00:00:00Z", 1709164800000.0 - 5), 5); /* leap day */
  T_EQ_DBL(rl_when("2000-03-01T00:00:00Z", 951868800000.0), 0);
  T_EQ_DBL(rl_when("1970-01-01T00:00:01Z", 0), 1000);
  /* past resets are no wait at all */
  T_EQ_DBL(rl_when("2026-12-01T21:30:00Z", DEC1 + 1), 0);
  T_EQ_DBL(rl_when("1969-12-31T23:59:59Z", 0), 0);
  T_EQ_DBL(rl_when("2020-01-01T00:00:00Z", 1.7e12), 0);
  /* far but finite */
  T_EQ_DBL(rl_when("9999-12-31T23:59:59Z", 0), 253402300799000.0);
  static const char *const bad[] = {"2026-12-01T21:30:00",
                                    "2026-12-01T21:30:00.5", /* no zone */
                                    "2026-12-01",
                                    "2026-13-01T21:30:00Z",
                                    "2026-00-01T21:30:00Z",
                                    "2026-02-30T00:00:00Z",
                                    "2025-02-29T00:00:00Z",
                                    "1900-02-29T00:00:00Z",
                                    "2026-12-32T00:00:00Z",
                                    "2026-12-01T24:00:00Z",
                                    "2026-12-01T21:60:00Z",
                                    "2026-12-01T21:30:61Z",
                                    "2026-12-01T21:30:00.Z",
                                    "2026-12-01T21:30:00+0100",
                                    "2026-12-01T21:30:00+24:00",
                                    "2026-12-01T21:30:00+01:60",
                                    "2026-12-01T21:30:00ZZ",
                                    "2026-12-01X21:30:00Z",
                                    "2026/12/01T21:30:00Z",
                                    "-026-12-01T21:30:00Z",
                                    "2026-1-01T21:30:00Z",
                                    "Sun, 06 Nov 1994 08:49:37 GMT",
                                    "tomorrow",
                                    "2026-12-01T21:30:00Z trailing"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    double r = rl_when(bad[i], 0);
    T_EQ_DBL(r, -1);
    if (r != -1) fprintf(stderr, "  (time \"%s\")\n", bad[i]);
  }
  /* either format in either family */
  T_EQ_DBL(rl_reset("2026-12-01T21:30:00Z", DEC1 - 10), 10);
  T_EQ_DBL(rl_when("3s", 0), 3000);
}

static void test_ratelimit_absent(void) {
  RL_EXPECT(NULL, 0, -1, -1, -1, -1, -1, -1);
  RL_EXPECT("", 0, -1, -1, -1, -1, -1, -1);
  RL_EXPECT("content-type: application/json\nretry-after: 3\n", 0, -1, -1, -1, -1, -1, -1);
  RL_EXPECT("\n\n::\nx-ratelimit-limit-tokens\n:5\n", 0, -1, -1, -1, -1, -1, -1);
  /* every field malformed */
  const char *h = "x-ratelimit-limit-requests: -1\n"
                  "x-ratelimit-remaining-requests: \n"
                  "x-ratelimit-reset-requests: soon\n"
                  "x-ratelimit-limit-tokens: 1e400\n"
                  "x-ratelimit-remaining-tokens: NaN\n"
                  "x-ratelimit-reset-tokens: 1h-5m\n";
  RL_EXPECT(h, 0, -1, -1, -1, -1, -1, -1);
  /* a NULL block with a length is still no block */
  sy_ratelimit rl;
  sy_provider_ratelimit(NULL, 40, 0, &rl);
  T_EQ_DBL(rl.remaining_tokens, -1);
}

static void test_failing_allocations(void) {
  cJSON *extra = cJSON_Parse("{\"seed\":1,\"temperature\":0}");
  sy_target targets[] = {
      {.provider = SY_PROVIDER_ANTHROPIC, .upstream_model = "claude", .api_key = "ak"},
      {.provider = SY_PROVIDER_OPENAI,
       .upstream_model = "gpt-4o",
       .api_key = "sk",
       .extra_params = extra}};
  for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
    int ok = 0;
    for (uint64_t n = 1; n < 2000 && !ok; n++) {
      size_t base = sy_heap_bytes();
      cJSON *req = chat();
      sy_buf head, body;
      sy_buf_init(&head), sy_buf_init(&body);
      sy_alloc_fail_at(n, 0);
      int rc = sy_provider_build_request(&targets[i], req, 1, &head, &body);
      sy_alloc_fail_at(0, 0);
      ok = rc == 0;
      sy_buf_free(&head), sy_buf_free(&body);
      cJSON_Delete(req);
      T_CHECK(rc == 0 || rc == SY_ERR_NOMEM);
      T_EQ_INT(sy_heap_bytes(), base);
    }
    T_CHECK(ok);
  }
  cJSON_Delete(extra);
}

#define OA_STREAM                                                                                  \
  "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
  "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n"              \
  "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
  "\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\r\n\r\n"                              \
  "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"           \
  "\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n"
#define AN_STREAM                                                                                  \
  "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\","         \
  "\"model\":\"claude\"}}\n\nevent: ping\ndata: {\"type\":\"ping\"}\n\n"                           \
  "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"               \
  "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hi \\\"you\\\"\"}}\n\n"                           \
  "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"            \
  "\"max_tokens\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"

/* Feeds |text| in pieces cut at |a| and |b|; returns the frames and state. */
static char *stream_split(sy_provider_kind k, const char *text, size_t a, size_t b, int *content,
                          int *done, sy_class *failed) {
  sy_stream *s = sy_stream_new(k, 1700000000000.0);
  sy_buf out;
  sy_buf_init(&out);
  size_t n = strlen(text);
  sy_stream_feed(s, text, a, &out);
  sy_stream_feed(s, text + a, b - a, &out);
  sy_stream_feed(s, text + b, n - b, &out);
  *content = sy_stream_has_content(s);
  sy_stream_finish(s, &out);
  *done = sy_stream_done(s);
  *failed = sy_stream_failure(s, NULL);
  sy_stream_free(s);
  char *copy = strdup(sy_buf_cstr(&out));
  sy_buf_free(&out);
  return copy;
}

static void test_streams_at_every_split(void) {
  const struct {
    sy_provider_kind kind;
    const char *text, *want;
  } cases[] = {
      {SY_PROVIDER_OPENAI, OA_STREAM, "\"delta\":{\"content\":\"Hel\"}"},
      {SY_PROVIDER_ANTHROPIC, AN_STREAM, "\"delta\":{\"content\":\"Hi \\\"you\\\"\"}"},
  };
  for (size_t c = 0; c < 2; c++) {
    int content, done;
    sy_class failed;
    size_t n = strlen(cases[c].text);
    char *whole = stream_split(cases[c].kind, cases[c].text, n, n, &content, &done, &failed);
    T_CHECK(content && done && failed == SY_CLASS_OK);
    T_CONTAINS(whole, cases[c].want);
    T_CONTAINS(whole, "data: [DONE]\n\n");
    int same = 1;
    for (size_t a = 0; a <= n && same; a++)
      for (size_t b = a; b <= n && same; b += 7) {
        char *got = stream_split(cases[c].kind, cases[c].text, a, b, &content, &done, &failed);
        same = !strcmp(got, whole) && content && done;
        free(got);
      }
    T_CHECK(same);
    free(whole);
  }
  char *anth = NULL;
  int content, done;
  sy_class failed;
  anth = stream_split(SY_PROVIDER_ANTHROPIC, AN_STREAM, 0, 0, &content, &done, &failed);
  T_CONTAINS(anth, "\"finish_reason\":\"length\"");
  T_CONTAINS(anth,
             "\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"claude\"");
  free(anth);
}

static void test_stream_failures(void) {
  int content, done;
  sy_class failed;
  const char *overloaded =
      "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{}}\n\n"
      "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
      "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
  free(stream_split(SY_PROVIDER_ANTHROPIC, overloaded, 0, 0, &content, &done, &failed));
  T_EQ_INT(failed, SY_CLASS_OVERLOADED);
  T_CHECK(!content && !done);
  const char *cut = "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"}}]}\n\n";
  free(stream_split(SY_PROVIDER_OPENAI, cut, 0, 0, &content, &done, &failed));
  T_EQ_INT(failed, SY_CLASS_NETWORK); /* no [DONE]: cut */
  T_CHECK(content);
  free(stream_split(SY_PROVIDER_OPENAI, "data: {not json\n\n", 0, 0, &content, &done, &failed));
  T_EQ_INT(failed, SY_CLASS_BAD_RESPONSE);
  /* Trailing bytes after the JSON value, and a NUL byte, are malformed. */
  free(stream_split(SY_PROVIDER_OPENAI, "data: {\"choices\":[]}xyz\n\n", 0, 0, &content, &done,
                    &failed));
  T_EQ_INT(failed, SY_CLASS_BAD_RESPONSE);
  /* Forwarded as it came, a chunk must parse in the client: no raw tab. */
  free(stream_split(SY_PROVIDER_OPENAI,
                    "data: {\"choices\":[{\"delta\":{\"content\":\"a\tb\"}}]}\n\n", 0, 0, &content,
                    &done, &failed));
  T_EQ_INT(failed, SY_CLASS_BAD_RESPONSE);
  static const char nul[] = "data: {\"choices\":[]}\0\n\n";
  sy_stream *ns = sy_stream_new(SY_PROVIDER_OPENAI, 0);
  sy_buf nout;
  sy_buf_init(&nout);
  sy_stream_feed(ns, nul, sizeof nul - 1, &nout);
  T_EQ_INT(sy_stream_failure(ns, NULL), SY_CLASS_BAD_RESPONSE);
  sy_stream_free(ns);
  sy_buf_free(&nout);
  /* A data field over two lines reaches the client as one line. */
  char *flat =
      stream_split(SY_PROVIDER_OPENAI,
                   "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"x\"}}]}"
                   "\n\ndata: [DONE]\n\n",
                   0, 0, &content, &done, &failed);
  T_EQ_STR(flat, "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: "
                 "[DONE]\n\n");
  free(flat);
  const char *err = "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n";
  free(stream_split(SY_PROVIDER_OPENAI, err, 3, 9, &content, &done, &failed));
  T_EQ_INT(failed, SY_CLASS_SERVER);
}

void suite_providers(void) {
  test_streams_at_every_split();
  test_stream_failures();
  test_requests();
  test_openai_body();
  test_classification();
  test_anthropic_answer();
  test_retry_after();
  test_ratelimit_openai();
  test_ratelimit_durations();
  test_ratelimit_counts();
  test_ratelimit_anthropic();
  test_ratelimit_rfc3339();
  test_ratelimit_absent();
  test_failing_allocations();
}
