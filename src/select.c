/* select.c: weighted choice among the healthy deployments of a group. */
#include "select.h"

#include <limits.h>

#include "health.h"

/* The order tier of a deployment: unset sorts after every set order. */
static int tier(const sy_deployment *d) { return d->order == SY_UNSET ? INT_MAX : d->order; }

typedef enum { BY_UNIFORM, BY_WEIGHT, BY_RPM, BY_TPM } weight_basis;

static double weight_of(const sy_deployment *d, weight_basis basis) {
  switch (basis) {
  case BY_WEIGHT: return d->weight > 0 ? d->weight : 1;
  case BY_RPM: return d->rpm;
  case BY_TPM: return d->tpm;
  default: return 1;
  }
}

sy_pick sy_select_pick(const sy_group *g, const uint8_t *exclude, uint8_t *scratch,
                       const sy_host *h, sy_ms now, sy_rng *rng) {
  sy_pick pick = {-1, 0, 0};
  /* Pass 1: who is available (scratch[i]) and the best order tier. */
  int best_tier = INT_MAX;
  for (size_t i = 0; i < g->ndeps; i++) {
    scratch[i] = 0;
    if (exclude && exclude[i]) continue;
    sy_ms until = sy_health_cooling_until(h, g->deps[i]->id, now);
    if (until > 0) {
      if (pick.earliest_end == 0 || until < pick.earliest_end) pick.earliest_end = until;
      continue;
    }
    scratch[i] = 1;
    pick.healthy++;
    if (tier(g->deps[i]) < best_tier) best_tier = tier(g->deps[i]);
  }
  if (pick.healthy == 0) return pick;
  /* Pass 2: keep only the best tier; learn which weights apply there. */
  int any_weight = 0, all_rpm = 1, all_tpm = 1;
  for (size_t i = 0; i < g->ndeps; i++) {
    if (!scratch[i]) continue;
    if (tier(g->deps[i]) != best_tier) {
      scratch[i] = 0;
      continue;
    }
    any_weight |= g->deps[i]->weight > 0;
    all_rpm &= g->deps[i]->rpm > 0;
    all_tpm &= g->deps[i]->tpm > 0;
  }
  weight_basis basis = any_weight ? BY_WEIGHT : all_rpm ? BY_RPM : all_tpm ? BY_TPM : BY_UNIFORM;
  double total = 0;
  for (size_t i = 0; i < g->ndeps; i++)
    if (scratch[i]) total += weight_of(g->deps[i], basis);
  /* Pass 3: the weighted draw; the last candidate absorbs rounding. */
  double target = sy_rng_unit(rng) * total;
  for (size_t i = 0; i < g->ndeps; i++) {
    if (!scratch[i]) continue;
    pick.index = (int)i;
    double w = weight_of(g->deps[i], basis);
    if (target < w) break;
    target -= w;
  }
  return pick;
}
