/* fuzz_response.c: upstream answers on any bytes, for every provider kind
 * and a spread of statuses: always classified, never a crash or leak; and
 * the same bytes through the stream translator; what reaches the client
 * parses by JSON's grammar (sy_json_scan), which cJSON's is laxer than. The
 * first byte picks the provider and status; the next picks where the
 * header block ends; the rest is headers then body. The rate-limit reader
 * gets the header block, and all of the rest too, since a block of
 * Anthropic's eighteen headers is longer than the one byte of length allows. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cJSON.h"
#include "fuzz_cjson.h"
#include "providers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A rate-limit field is -1 (not said) or a finite count or delay. */
static void ratelimit_ok(double v) {
  if (v != -1 && !(v >= 0 && isfinite(v))) __builtin_trap();
}

static void ratelimit(const char *headers, size_t len, sy_ms now) {
  sy_ratelimit rl;
  sy_provider_ratelimit(headers, len, now, &rl);
  ratelimit_ok(rl.limit_requests);
  ratelimit_ok(rl.remaining_requests);
  ratelimit_ok(rl.reset_requests_ms);
  ratelimit_ok(rl.limit_tokens);
  ratelimit_ok(rl.remaining_tokens);
  ratelimit_ok(rl.reset_tokens_ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int statuses[] = {200, 201, 400, 401, 403, 404, 408, 409,
                                 422, 429, 500, 502, 503, 529, 302, 100};
  fuzz_cjson_hooks();
  if (size < 2) return 0;
  sy_provider_kind kind = (sy_provider_kind)(data[0] % 3);
  int status = statuses[(data[0] / 3) % (sizeof statuses / sizeof *statuses)];
  size_t hlen = data[1] < size - 2 ? data[1] : size - 2;
  const char *headers = (const char *)data + 2, *body = headers + hlen;
  size_t blen = size - 2 - hlen;
  size_t base = sy_heap_bytes();
  ratelimit(headers, hlen, 1.7e12);
  ratelimit(headers, size - 2, 1.7e12);
  ratelimit(headers, size - 2, 0); /* every reset in the future */
  sy_outcome o;
  sy_outcome_init(&o);
  int rc = sy_provider_parse_response(kind, status, headers, hlen, body, blen, 1.7e12, &o);
  if (rc == 0 && (o.cls < 0 || o.cls >= SY_CLASS_COUNT)) __builtin_trap();
  if (rc == 0 && o.cls == SY_CLASS_OK) {
    /* a success is always an OpenAI chat.completion the client can parse,
     * by JSON's own grammar (sy_json_scan), not only cJSON's laxer one */
    if (!sy_json_scan(o.response.data, o.response.len, NULL, 0, NULL)) __builtin_trap();
    cJSON *doc = cJSON_ParseWithLength(o.response.data, o.response.len);
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "choices"))) __builtin_trap();
    cJSON_Delete(doc);
  }
  if (rc == 0 && o.cls != SY_CLASS_OK && o.message.len == 0) __builtin_trap();
  sy_outcome_free(&o);

  /* The same bytes as a stream, split where the header length says: the
   * translator must fail cleanly or emit only well-formed frames. */
  sy_stream *s = sy_stream_new(kind, 1.7e12);
  if (s) {
    sy_buf out;
    sy_buf_init(&out);
    sy_stream_feed(s, headers, hlen, &out);
    sy_stream_feed(s, body, blen, &out);
    sy_stream_finish(s, &out);
    const char *msg = NULL;
    if (sy_stream_failure(s, &msg) != SY_CLASS_OK && (!msg || !*msg)) __builtin_trap();
    for (const char *f = out.data; f && *f;) { /* every frame is "data: <json or [DONE]>" */
      const char *end = strstr(f, "\n\n");
      if (strncmp(f, "data: ", 6) || !end) __builtin_trap();
      if (strncmp(f + 6, "[DONE]", 6)) {
        if (!sy_json_scan(f + 6, (size_t)(end - f - 6), NULL, 0, NULL)) __builtin_trap();
        cJSON *doc = cJSON_ParseWithLength(f + 6, (size_t)(end - f - 6));
        if (!doc) __builtin_trap();
        cJSON_Delete(doc);
      }
      f = end + 2;
    }
    sy_buf_free(&out);
    sy_stream_free(s);
  }
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
