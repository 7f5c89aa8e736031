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
  sy_target oa = {.provider = SY_PROVIDER_OPENAI,
                  .upstream_model = "gpt-4o",
                  .api_base = "http://x/v1/",
                  .api_key = "sk-1",
                  .extra_params = "{\"seed\":1,\"temperature\":0}"};
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
  T_EQ_DBL(sy_retry_after_ms(NULL, 0, 0), -1);
}

static void test_failing_allocations(void) {
  sy_target an = {.provider = SY_PROVIDER_ANTHROPIC,
                  .upstream_model = "claude",
                  .api_base = NULL,
                  .api_key = "ak",
                  .extra_params = NULL};
  int ok = 0;
  for (uint64_t n = 1; n < 2000 && !ok; n++) {
    size_t base = sy_heap_bytes();
    cJSON *req = chat();
    sy_buf head, body;
    sy_buf_init(&head), sy_buf_init(&body);
    sy_alloc_fail_at(n, 0);
    int rc = sy_provider_build_request(&an, req, 0, &head, &body);
    sy_alloc_fail_at(0, 0);
    ok = rc == 0;
    sy_buf_free(&head), sy_buf_free(&body);
    cJSON_Delete(req);
    T_CHECK(rc == 0 || rc == SY_ERR_NOMEM);
    T_EQ_INT(sy_heap_bytes(), base);
  }
  T_CHECK(ok);
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
  test_classification();
  test_anthropic_answer();
  test_retry_after();
  test_failing_allocations();
}
