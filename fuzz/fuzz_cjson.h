/* fuzz_cjson.h: the fuzz targets' cJSON goes through the core's allocator,
 * as in the core, so sy_heap_bytes sees a leak of cJSON's too. Included by
 * each target; called at the top of each input (it hooks once). */
#ifndef SY_FUZZ_CJSON_H
#define SY_FUZZ_CJSON_H

#include "cJSON.h"
#include "sy.h"

static inline void fuzz_cjson_hooks(void) {
  static int hooked;
  if (hooked) return;
  cJSON_Hooks hooks = {sy_malloc, sy_free};
  cJSON_InitHooks(&hooks);
  hooked = 1;
}

#endif
