/* json_same.h: a comparison of two parsed JSON documents for the unit tests
 * and the fuzz targets, which check that what the core writes parses back
 * as what it read. */
#ifndef SY_JSON_SAME_H
#define SY_JSON_SAME_H

#include <math.h>
#include <string.h>

#include "cJSON.h"

/* Whether |b| holds the values of |a| in the same order, numbers bit for
 * bit (cJSON_Compare allows them an epsilon); a number of |a| that is not
 * finite matches null in |b|, as JSON, which has no NaN or infinity, writes
 * it. NULL matches nothing. */
static inline int json_same(const cJSON *a, const cJSON *b) {
  if (!a || !b) return 0;
  if (cJSON_IsNumber(a) && !isfinite(a->valuedouble)) return cJSON_IsNull(b);
  if ((a->type & 0xff) != (b->type & 0xff)) return 0;
  if (cJSON_IsNumber(a)) return !memcmp(&a->valuedouble, &b->valuedouble, sizeof(double));
  if (cJSON_IsString(a)) return !strcmp(a->valuestring, b->valuestring);
  const cJSON *x = a->child, *y = b->child;
  for (; x && y; x = x->next, y = y->next)
    if ((cJSON_IsObject(a) && strcmp(x->string, y->string)) || !json_same(x, y)) return 0;
  return !x && !y;
}

#endif
