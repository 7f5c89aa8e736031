/* fuzz_json.c: the two JSON grammars of sy.c on any bytes. The lax one
 * (sy_json_cjson_valid) says yes exactly when cJSON reads the text whole.
 * The strict one (sy_json_scan, for bodies the core forwards as they came):
 * its spans lie inside the text and are each a valid value of the type they
 * say, and what it accepts cJSON reads whole to the same member types
 * (cJSON is laxer, so only that direction holds, and not past two of its
 * own limits: numbers of 64 characters or more, and \u escapes of
 * surrogates, which it checks for pairing and JSON.parse does not). */
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

/* Whether |t| has a run of 64 number characters: cJSON reads a number
 * through a 64-byte buffer and refuses a longer one. */
static int long_number(const char *t, size_t n) {
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    run = t[i] && strchr("0123456789.eE+-", t[i]) ? run + 1 : 0;
    if (run >= 64) return 1;
  }
  return 0;
}

/* Whether |t| has a \u escape of a surrogate, whose pairing cJSON checks
 * and JSON.parse does not. */
static int surrogate_escape(const char *t, size_t n) {
  for (size_t i = 0; i + 2 < n; i++)
    if (t[i] == '\\' && t[i + 1] == 'u' && (t[i + 2] == 'd' || t[i + 2] == 'D')) return 1;
  return 0;
}

/* Whether cJSON reads |t| whole: the value, then only its blanks (<= 32). */
static int cjson_whole(const char *t, size_t n) {
  const char *end = NULL;
  cJSON *doc = cJSON_ParseWithLengthOpts(t, n, &end, 0);
  if (!doc) return 0;
  cJSON_Delete(doc);
  while (end < t + n && (unsigned char)*end <= ' ')
    end++;
  return end == t + n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cjson_hooks();
  const char *text = (const char *)data;
  size_t base = sy_heap_bytes();
  /* The lax grammar is cJSON's: yes exactly when cJSON reads the text whole. */
  if (!long_number(text, size) && sy_json_cjson_valid(text, size) != cjson_whole(text, size))
    __builtin_trap();
  sy_json_span spans[NKEYS];
  if (!sy_json_scan(text, size, KEYS, NKEYS, spans)) {
    if (sy_heap_bytes() != base) __builtin_trap();
    return 0;
  }
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
  if (long_number(text, size) || surrogate_escape(text, size) || memchr(text, '\0', size)) return 0;
  if (!cjson_whole(text, size)) __builtin_trap();
  cJSON *doc = cJSON_ParseWithLength(text, size);
  for (size_t i = 0; i < NKEYS; i++) {
    const cJSON *v = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, KEYS[i]) : NULL;
    if (type_of(v) != spans[i].type) __builtin_trap();
  }
  cJSON_Delete(doc);
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
