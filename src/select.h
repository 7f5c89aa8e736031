/* select.h: choosing a deployment within a group.
 *
 * The candidates are the group's deployments that are not cooling down and
 * not excluded by the caller. Among them the lowest `order` wins (LiteLLM's
 * priority; deployments without an order come after those with one). The
 * pick within that tier is weighted random: by `weight` when any candidate
 * has one (a candidate without a weight counts 1), else by `rpm` when every
 * candidate has one, else by `tpm` likewise, else uniform. One pass over the
 * group to classify and one to pick: O(n) in its deployments.
 */
#ifndef SY_SELECT_H
#define SY_SELECT_H

#include <stdint.h>

#include "config.h"
#include "host.h"
#include "sy.h"

typedef struct sy_pick {
  int index;          /* in the group's deps, or -1 when none is available */
  int healthy;        /* candidates that were not cooling nor excluded */
  sy_ms earliest_end; /* among excluded-free but cooling deployments, the
                         earliest cooldown end; 0 when none is cooling */
} sy_pick;

/* sy_select_pick chooses in |g| at |now|. |exclude| (may be NULL) has one
 * byte per deployment of |g|: nonzero excludes it. |scratch| is the
 * caller's, at least g->ndeps bytes, so that a pick allocates nothing.
 * Cooldowns are read through |h|'s kv store, once per deployment;
 * randomness comes from |rng|. */
sy_pick sy_select_pick(const sy_group *g, const uint8_t *exclude, uint8_t *scratch,
                       const sy_host *h, sy_ms now, sy_rng *rng);

#endif /* SY_SELECT_H */
