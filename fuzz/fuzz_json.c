/* fuzz_json.c: sy_json_scan, the strict reader of bodies the core forwards
 * as they came, on any bytes. Its spans lie inside the text and are each a
 * valid value of the type they say; and what it accepts cJSON reads whole
 * to the same member types (cJSON is laxer, so only that direction holds,
 * and not past two of its own limits: numbers of 64 characters or more,
 * and \u escapes of surrogates, which it checks for pairing and JSON.parse
 * does not). */
#include <stdint.h>
#include <string.h>

#include "cJSON.h"
#include "fuzz_cjson.h"
#include "sy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const KEYS[] = {"choices", "usage", "data", ""};
#define NKEYS (sizeof KEYS / sizeof *KEYS)

static sy_json_type type_of(const cJSON *v) {
  if (!v) return SY_JSON_ABSENT;
  if (cJSON_IsObject(v)) return SY_JSON_OBJECT;
  if (cJSON_IsArray(v)) return SY_JSON_ARRAY;
  if (cJSON_IsString(v)) return SY_JSON_STRING;
  if (cJSON_IsNumber(v)) return SY_JSON_NUMBER;
  return SY_JSON_LITERAL;
}

/* Whether cJSON may refuse |t| where JSON.parse accepts it. */
static int beyond_cjson(const char *t, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    run = strchr("0123456789.eE+-", t[i]) && t[i] ? run + 1 : 0;
    if (run >= 64) return 1;
    if (t[i] == '\\' && i + 2 < n && t[i + 1] == 'u' && (t[i + 2] == 'd' || t[i + 2] == 'D'))
      return 1;
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cjson_hooks();
  const char *text = (const char *)data;
  sy_json_span spans[NKEYS];
  if (!sy_json_scan(text, size, KEYS, NKEYS, spans)) return 0;
  for (size_t i = 0; i < NKEYS; i++) {
    const sy_json_span *s = &spans[i];
    if (s->type == SY_JSON_ABSENT) continue;
    if (s->at < text || s->at + s->len > text + size || !s->len) __builtin_trap();
    if (!sy_json_scan(s->at, s->len, NULL, 0, NULL)) __builtin_trap();
    char c = s->at[0];
    sy_json_type t = c == '{'                             ? SY_JSON_OBJECT
                     : c == '['                           ? SY_JSON_ARRAY
                     : c == '"'                           ? SY_JSON_STRING
                     : c == '-' || (c >= '0' && c <= '9') ? SY_JSON_NUMBER
                                                          : SY_JSON_LITERAL;
    if (t != s->type) __builtin_trap();
  }
  if (beyond_cjson(text, size) || memchr(text, '\0', size)) return 0;
  size_t base = sy_heap_bytes();
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(text, size, &end, 0);
  if (!doc) __builtin_trap();
  while (end < text + size && strchr(" \t\r\n", *end) && *end)
    end++;
  if (end != text + size) __builtin_trap();
  for (size_t i = 0; i < NKEYS; i++) {
    const cJSON *v = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, KEYS[i]) : NULL;
    if (type_of(v) != spans[i].type) __builtin_trap();
  }
  cJSON_Delete(doc);
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
