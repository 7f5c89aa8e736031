/* fuzz_config.c: the config parser on any bytes. Every rejection must be a
 * status with a one-line error text, never a crash, a leak or undefined
 * behaviour (ASan/UBSan); no message may show an api_key of the input; an
 * accepted config must have consistent groups and unique deployment ids.
 * Each input is parsed a second time with one allocation failing (which
 * one depends on the input): the verdict is then the same or SY_ERR_NOMEM,
 * and memory still returns to its baseline. Both checks hold the parser's
 * JSON check (which tells bad bytes from a failed allocation inside cJSON)
 * to accept exactly what cJSON accepts. Any JSON input is also written back
 * by sy_buf_json_value (the upstream bodies' writer), which must parse as
 * the same values, numbers bit for bit, or, with an allocation failing,
 * say so. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../tests/c/json_same.h"
#include "cJSON.h"
#include "config.h"
#include "fuzz_cjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *secrets[8]; /* api_key values of the input */
static size_t nsecrets;
static int bad_message;

static void check_text(const char *s) {
  if (strchr(s, '\n')) bad_message = 1;
  for (size_t i = 0; i < nsecrets; i++)
    /* (a "secret" that the redaction mark itself spells is no leak) */
    if (strstr(s, secrets[i]) && !strstr("[redacted][redacted]", secrets[i])) bad_message = 1;
}

static void on_warn(void *user, const char *path, const char *msg) {
  (void)user;
  check_text(path);
  check_text(msg);
}

/* Collects model_list[].litellm_params.api_key and provider_env *_KEY
 * values of at least 4 bytes (shorter ones are not redacted by design). */
static void find_secrets(const cJSON *root) {
  const cJSON *dep, *v;
  nsecrets = 0;
  cJSON_ArrayForEach(dep, cJSON_GetObjectItemCaseSensitive(root, "model_list")) {
    v = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(dep, "litellm_params"),
                                         "api_key");
    if (cJSON_IsString(v) && strlen(v->valuestring) >= 4 && nsecrets < 8)
      secrets[nsecrets++] = v->valuestring;
  }
  cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(root, "provider_env")) {
    size_t n = v->string ? strlen(v->string) : 0;
    if (n > 4 && !strcmp(v->string + n - 4, "_KEY") && cJSON_IsString(v) &&
        strlen(v->valuestring) >= 4 && nsecrets < 8)
      secrets[nsecrets++] = v->valuestring;
  }
}

static void check_config(const sy_config *cfg) {
  size_t n = 0;
  for (size_t i = 0; i < cfg->ngroups; i++) {
    const sy_group *g = &cfg->groups[i];
    n += g->ndeps;
    if (sy_config_group(cfg, g->name) != g || g->ndeps == 0) __builtin_trap();
    for (size_t j = 0; j < g->ndeps; j++)
      if (strcmp(g->deps[j]->group, g->name) != 0) __builtin_trap();
  }
  if (n != cfg->ndeps || !cfg->settings.routing_strategy) __builtin_trap();
  for (size_t i = 0; i < cfg->ndeps; i++) {
    const sy_deployment *d = &cfg->deps[i];
    if (!d->id || !d->model || !d->upstream_model || d->index != (int)i) __builtin_trap();
    if (d->provider > SY_PROVIDER_ANTHROPIC) __builtin_trap();
    for (size_t j = 0; j < i && cfg->ndeps <= 256; j++)
      if (!strcmp(cfg->deps[j].id, d->id)) __builtin_trap();
  }
}

/* Writes |input| back, then again with allocation |fail_at| and all after
 * it failing: the same bytes, or a buffer that says it ran out. */
static void check_writer(const cJSON *input, unsigned fail_at) {
  sy_buf out, again;
  sy_buf_init(&out);
  sy_buf_init(&again);
  sy_buf_json_value(&out, input);
  cJSON *back = cJSON_ParseWithLength(out.data, out.len);
  if (out.oom || !json_same(input, back)) __builtin_trap();
  cJSON_Delete(back);
  sy_alloc_fail_at(fail_at, 1);
  sy_buf_json_value(&again, input);
  sy_alloc_fail_at(0, 0);
  if (again.oom ? *sy_buf_cstr(&again) != '\0'
                : again.len != out.len || memcmp(again.data, out.data, out.len))
    __builtin_trap();
  sy_buf_free(&out);
  sy_buf_free(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_cjson_hooks();
  size_t base = sy_heap_bytes();
  cJSON *input = cJSON_ParseWithLength((const char *)data, size);
  if (input) check_writer(input, 1 + (unsigned)(size % 4));
  find_secrets(input);
  bad_message = 0;

  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = NULL;
  int rc = sy_config_parse((const char *)data, size, &cfg, &err, on_warn, NULL);
  /* No allocation failed: SY_ERR_NOMEM would mean the parser's own JSON
   * check (telling bad bytes from a failed allocation) accepted bytes that
   * cJSON refused. */
  if (rc == SY_ERR_NOMEM) __builtin_trap();
  if (rc == 0) {
    check_config(cfg);
  } else {
    if (cfg) __builtin_trap();
    /* "path: message", unless an api_key of the input spells a piece of
     * that text across the ": " and was redacted there (found by this
     * fuzzer: the key "l_name: expected a"). */
    if (err.len == 0 || (!strstr(err.data, ": ") && !strstr(err.data, "[redacted]")))
      __builtin_trap();
    check_text(sy_buf_cstr(&err));
  }
  sy_config_free(cfg);

  /* Again, with allocation number 1..64 failing. */
  sy_config *again = NULL;
  sy_buf_reset(&err);
  sy_alloc_fail_at(1 + (size * 7 + (size ? data[0] : 0)) % 64, 0);
  int rc2 = sy_config_parse((const char *)data, size, &again, &err, on_warn, NULL);
  sy_alloc_fail_at(0, 0);
  if (rc2 != rc && rc2 != SY_ERR_NOMEM) __builtin_trap();
  if ((rc2 == 0) != (again != NULL)) __builtin_trap();
  sy_config_free(again);

  sy_buf_free(&err);
  cJSON_Delete(input);
  if (bad_message) __builtin_trap();
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
