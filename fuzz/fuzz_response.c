/* fuzz_response.c: upstream answers on any bytes, for every provider kind
 * and a spread of statuses: always classified, never a crash or leak. The
 * first byte picks the provider and status; the next picks where the
 * header block ends; the rest is headers then body. */
#include <stdint.h>
#include <string.h>

#include "cJSON.h"
#include "providers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const int statuses[] = {200, 201, 400, 401, 403, 404, 408, 409,
                                 422, 429, 500, 502, 503, 529, 302, 100};
  static int hooked;
  if (!hooked) {
    cJSON_Hooks hooks = {sy_malloc, sy_free};
    cJSON_InitHooks(&hooks);
    hooked = 1;
  }
  if (size < 2) return 0;
  sy_provider_kind kind = (sy_provider_kind)(data[0] % 3);
  int status = statuses[(data[0] / 3) % (sizeof statuses / sizeof *statuses)];
  size_t hlen = data[1] < size - 2 ? data[1] : size - 2;
  const char *headers = (const char *)data + 2, *body = headers + hlen;
  size_t blen = size - 2 - hlen;
  size_t base = sy_heap_bytes();
  sy_outcome o;
  sy_outcome_init(&o);
  int rc = sy_provider_parse_response(kind, status, headers, hlen, body, blen, 1.7e12, &o);
  if (rc == 0 && (o.cls < 0 || o.cls >= SY_CLASS_COUNT)) __builtin_trap();
  if (rc == 0 && o.cls == SY_CLASS_OK) {
    /* a success is always an OpenAI chat.completion the client can parse */
    cJSON *doc = cJSON_ParseWithLength(o.response.data, o.response.len);
    if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "choices"))) __builtin_trap();
    cJSON_Delete(doc);
  }
  if (rc == 0 && o.cls != SY_CLASS_OK && o.message.len == 0) __builtin_trap();
  sy_outcome_free(&o);
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
