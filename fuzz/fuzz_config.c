/* fuzz_config.c: the config parser on any bytes. Every rejection must be a
 * status with an error text, never a crash, a leak or undefined behaviour
 * (ASan/UBSan); an accepted config must have consistent groups. */
#include <stdint.h>
#include <string.h>

#include "cJSON.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int hooked;
  if (!hooked) {
    cJSON_Hooks hooks = {sy_malloc, sy_free};
    cJSON_InitHooks(&hooks);
    hooked = 1;
  }
  size_t base = sy_heap_bytes();
  sy_buf err;
  sy_buf_init(&err);
  sy_config *cfg = NULL;
  int rc = sy_config_parse((const char *)data, size, &cfg, &err, NULL, NULL);
  if (rc == 0) {
    size_t n = 0;
    for (size_t i = 0; i < cfg->ngroups; i++) {
      n += cfg->groups[i].ndeps;
      if (sy_config_group(cfg, cfg->groups[i].name) != &cfg->groups[i]) __builtin_trap();
    }
    if (n != cfg->ndeps) __builtin_trap();
  } else if (rc != SY_ERR_NOMEM && err.len == 0) {
    __builtin_trap(); /* a rejection always says why */
  }
  sy_config_free(cfg);
  sy_buf_free(&err);
  if (sy_heap_bytes() != base) __builtin_trap();
  return 0;
}
