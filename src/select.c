/* select.c: filters and strategies over the deployments of a group
 * (select.h states the rules). */
#include "select.h"

#include <float.h>
#include <limits.h>
#include <string.h>

#include "health.h"

/* For the small helpers a pick calls once or twice per deployment: the
 * wasm build is -Oz, which inlines next to nothing, and those calls were
 * a third of a pick at 100 deployments (bench/); inlined, the module
 * grows by about 3 kB. */
#define PER_DEPLOYMENT static inline __attribute__((always_inline))

/* scratch[i] bits, one byte per deployment of the group. */
enum {
  AVAILABLE = 1, /* not excluded, not cooling */
  TAG_MATCH = 2, /* has the request's tags */
  TAG_DEFAULT = 4,
  KEPT = 8,    /* passed the pre-call checks */
  HINTED = 16, /* the provider said it has no room left */
  PROBE = 32,  /* its breaker is half-open: an attempt is a probe */
  OPEN = 64,   /* its breaker is open: used only in panic */
  CAND = 128   /* a candidate the strategy chooses among */
};

/* The order tier of a deployment: unset sorts after every set order. */
PER_DEPLOYMENT int tier(const sy_deployment *d) {
  return d->order == SY_UNSET ? INT_MAX : d->order;
}

static int has_tag(const sy_deployment *d, const char *tag) {
  for (size_t i = 0; i < d->ntags; i++)
    if (!strcmp(d->tags[i], tag)) return 1;
  return 0;
}

/* TAG_MATCH and TAG_DEFAULT for |d| and the request's tags. */
static uint8_t tag_bits(const sy_deployment *d, const sy_pick_ctx *c) {
  uint8_t bits = has_tag(d, "default") ? TAG_DEFAULT : 0;
  if (!c->ntags || !d->ntags) return bits;
  size_t matched = 0;
  for (size_t i = 0; i < c->ntags; i++)
    matched += (size_t)has_tag(d, c->tags[i]);
  int any = c->settings->tag_filtering_match_any;
  if (any ? matched > 0 : matched == c->ntags) bits |= TAG_MATCH;
  return bits;
}

/* One pick under way: its context and the view of the store its reads go
 * through, worked out once for the whole group. */
typedef struct run {
  const sy_pick_ctx *c;
  sy_health_view view;
} run;

PER_DEPLOYMENT sy_observed *observed(const run *r, const sy_deployment *d) {
  return r->c->observed && d->index >= 0 ? &r->c->observed[d->index] : NULL;
}

/* A uniform index below |n| (n >= 1). */
static size_t draw(sy_rng *rng, size_t n) {
  size_t i = (size_t)(sy_rng_unit(rng) * (double)n);
  return i < n ? i : n - 1;
}

typedef enum { BY_UNIFORM, BY_WEIGHT, BY_RPM, BY_TPM } weight_basis;

PER_DEPLOYMENT double weight_of(const sy_deployment *d, weight_basis basis) {
  switch (basis) {
  case BY_WEIGHT: return d->weight > 0 ? d->weight : 1;
  case BY_RPM: return d->rpm;
  case BY_TPM: return d->tpm;
  default: return 1;
  }
}

/* Which weight applies among some candidates: `weight` when any has one,
 * else `rpm` when all have one, else `tpm` likewise. */
typedef struct bases {
  int any_weight, all_rpm, all_tpm;
} bases;

PER_DEPLOYMENT void bases_note(bases *b, const sy_deployment *d) {
  b->any_weight |= d->weight > 0;
  b->all_rpm &= d->rpm > 0;
  b->all_tpm &= d->tpm > 0;
}

PER_DEPLOYMENT weight_basis basis_in(const bases *b) {
  return b->any_weight ? BY_WEIGHT : b->all_rpm ? BY_RPM : b->all_tpm ? BY_TPM : BY_UNIFORM;
}

/* The basis among the candidates (cand[i] & CAND). */
static weight_basis basis_of(const sy_group *g, const uint8_t *cand) {
  bases b = {0, 1, 1};
  for (size_t i = 0; i < g->ndeps; i++)
    if (cand[i] & CAND) bases_note(&b, g->deps[i]);
  return basis_in(&b);
}

/* Slow start: the share of its weight a deployment back from a cooldown
 * or an open breaker has regained, 1 when it is not ramping. */
PER_DEPLOYMENT double ramp(const sy_observed *o, const run *r) {
  const sy_reliability *rel = &r->c->settings->rel;
  sy_ms now = r->c->now;
  if (!o || o->recovered_at <= 0 || now < o->recovered_at || !rel->slow_start) return 1;
  double t = (now - o->recovered_at) / rel->slow_start_ms;
  if (t >= 1) return 1;
  return t > rel->slow_start_min_weight ? t : rel->slow_start_min_weight;
}

PER_DEPLOYMENT double share(const sy_deployment *d, weight_basis basis, const run *r) {
  return weight_of(d, basis) * ramp(observed(r, d), r);
}

/* The candidate (but |skip|, -1: none) at |target| in [0, |total|) along
 * the candidates' shares laid end to end. */
static int weighted_at(const sy_group *g, const uint8_t *cand, weight_basis basis, int skip,
                       double target, const run *r) {
  int pick = -1;
  for (size_t i = 0; i < g->ndeps; i++) {
    if (!(cand[i] & CAND) || (int)i == skip) continue;
    pick = (int)i; /* the last candidate absorbs rounding */
    double w = share(g->deps[i], basis, r);
    if (target < w) break;
    target -= w;
  }
  return pick;
}

/* The sum of the candidates' shares but |skip|'s (-1: none). */
static double shares(const sy_group *g, const uint8_t *cand, weight_basis basis, int skip,
                     const run *r) {
  double total = 0;
  for (size_t i = 0; i < g->ndeps; i++)
    if ((cand[i] & CAND) && (int)i != skip) total += share(g->deps[i], basis, r);
  return total;
}

/* One of |d|'s usage counts, through its memo of the copy of the store. */
PER_DEPLOYMENT double usage(const sy_deployment *d, sy_observed *o, const run *r,
                            sy_usage_kind kind) {
  return sy_health_usage_look(&r->view, o ? &o->memo : NULL, d->id, kind);
}

/* The score a lowest-wins strategy gives deployment |d|. */
PER_DEPLOYMENT double score(const sy_deployment *d, const run *r) {
  const sy_pick_ctx *c = r->c;
  sy_observed *o = observed(r, d);
  switch (c->settings->strategy) {
  case SY_STRATEGY_USAGE: /* every candidate's headroom check read it (over_limit) */
    return o && d->tpm > 0 ? o->memo.counted[SY_USAGE_TPM] : usage(d, o, r, SY_USAGE_TPM);
  case SY_STRATEGY_LEAST_BUSY: return usage(d, o, r, SY_USAGE_INFLIGHT);
  case SY_STRATEGY_COST: {
    double cost = d->input_cost_per_token + d->output_cost_per_token;
    return cost > 0 ? cost : DBL_MAX; /* unknown prices come last */
  }
  case SY_STRATEGY_LATENCY: {
    double m = o && c->stream ? sy_observed_mean(o, true) : -1;
    if (m < 0 && o) m = sy_observed_mean(o, false);
    return m < 0 ? 0 : m; /* never measured: try it */
  }
  default: return o ? sy_observed_ewma(o, c->now) * (o->outstanding + 1) : 0;
  }
}

/* score() again, within the same pick: the counts it read are in the memo. */
PER_DEPLOYMENT double rescore(const sy_deployment *d, const run *r) {
  const sy_observed *o = observed(r, d);
  sy_strategy st = r->c->settings->strategy;
  if (o && st == SY_STRATEGY_USAGE) return o->memo.counted[SY_USAGE_TPM];
  if (o && st == SY_STRATEGY_LEAST_BUSY) return o->memo.counted[SY_USAGE_INFLIGHT];
  return score(d, r);
}

/* The lowest score, ties broken uniformly: counted in the first pass,
 * then one draw picks the k-th of them, found from the first one on. (A
 * draw per tie, as a reservoir does, was a sixth of a usage-based pick
 * at 100 deployments, where ties are the rule.) Latency-based takes its
 * own second pass: what counts as a tie, lowest * (1 + buffer), is known
 * only once the lowest is. */
static int lowest(const sy_group *g, const uint8_t *cand, const run *r) {
  const sy_pick_ctx *c = r->c;
  double best = DBL_MAX;
  int pick = -1;
  size_t ties = 0;
  for (size_t i = 0; i < g->ndeps; i++) {
    if (!(cand[i] & CAND)) continue;
    double s = score(g->deps[i], r);
    if (pick < 0 || s < best) {
      best = s;
      pick = (int)i;
      ties = 1;
    } else if (s == best) {
      ties++;
    }
  }
  double buffer = c->settings->lowest_latency_buffer;
  if (c->settings->strategy == SY_STRATEGY_LATENCY && buffer > 0) {
    double limit = best * (1 + buffer);
    ties = 0;
    for (size_t i = 0; i < g->ndeps; i++)
      if ((cand[i] & CAND) && score(g->deps[i], r) <= limit && draw(c->rng, ++ties) == 0)
        pick = (int)i;
    return pick;
  }
  if (ties < 2) return pick;
  size_t k = draw(c->rng, ties);
  for (size_t i = (size_t)pick; i < g->ndeps; i++)
    if ((cand[i] & CAND) && rescore(g->deps[i], r) == best && k-- == 0) return (int)i;
  return pick; /* not reached: the scores do not change within a pick */
}

/* Would one more request of |tokens| go over |d|'s rpm or tpm this minute? */
PER_DEPLOYMENT int over_limit(const sy_deployment *d, sy_observed *o, const run *r) {
  if (d->rpm > 0 && d->tpm > 0) {
    double n[2];
    sy_health_minute_look(&r->view, o ? &o->memo : NULL, d->id, n);
    return n[0] + 1 > d->rpm || n[1] + r->c->prompt_tokens > d->tpm;
  }
  if (d->rpm > 0 && usage(d, o, r, SY_USAGE_RPM) + 1 > d->rpm) return 1;
  return d->tpm > 0 && usage(d, o, r, SY_USAGE_TPM) + r->c->prompt_tokens > d->tpm;
}

/* What pass 2 learns of the group. */
typedef struct tally {
  size_t kept, hinted, too_small, throttled;
  int tier_clear, tier_all; /* the best tier without the hinted ones, and with them */
  int tiers_differ;         /* kept ones are of more than one tier */
  /* The weighted draws' shares (simple-shuffle, p2c) of every kept one,
   * summed as they are kept (in index order, as shares() would), so a
   * draw scans the group once more instead of three times; in_order is
   * cleared when a kept one came out of order (panic). */
  int sum_shares, in_order;
  bases seen;
  double sums[4]; /* by weight_basis */
} tally;

/* Notes kept deployment |d| in the weighted draws' sums. */
PER_DEPLOYMENT void tally_shares(tally *t, const sy_deployment *d, const sy_observed *o,
                                 const run *r) {
  double k = ramp(o, r);
  bases_note(&t->seen, d);
  t->sums[BY_UNIFORM] += k; /* unrolled: a loop over the bases cost more in wasm */
  t->sums[BY_WEIGHT] += weight_of(d, BY_WEIGHT) * k;
  t->sums[BY_RPM] += weight_of(d, BY_RPM) * k;
  t->sums[BY_TPM] += weight_of(d, BY_TPM) * k;
}

/* The candidates' weight basis (in |basis|) and their shares' sum: pass
 * 2's when it saw them all in order, else counted again. */
static double candidates_total(const sy_group *g, const uint8_t *cand, const tally *t, const run *r,
                               weight_basis *basis) {
  if (t->in_order) {
    *basis = basis_in(&t->seen);
    return t->sums[*basis];
  }
  *basis = basis_of(g, cand);
  return shares(g, cand, *basis, -1, r);
}

/* Power of two choices: two distinct candidates drawn by weight (so
 * `weight`, `rpm` and `tpm` keep their say, as in simple-shuffle), the
 * cheaper wins; a tie goes to the first drawn, so equal costs split traffic
 * by weight. With pass 2's sums (t->in_order) the two draws scan part of
 * the group each; without them, five scans: at 100 deployments that was
 * two fifths of a pick. */
static int two_choices(const sy_group *g, const uint8_t *cand, size_t n, const tally *t,
                       const run *r) {
  weight_basis basis;
  double total = candidates_total(g, cand, t, r, &basis);
  int a = weighted_at(g, cand, basis, -1, sy_rng_unit(r->c->rng) * total, r);
  if (n < 2) return a;
  double rest = t->in_order ? total - share(g->deps[a], basis, r) : shares(g, cand, basis, a, r);
  int b = weighted_at(g, cand, basis, a, sy_rng_unit(r->c->rng) * rest, r);
  return score(g->deps[b], r) < score(g->deps[a], r) ? b : a;
}

/* Pass 2 for deployment |i| (available, of the tags wanted): the pre-call
 * checks, throttling and the provider's hints; a kept one becomes a
 * candidate (CAND), which pass 3 undoes when its tier or a hint rules it out. */
PER_DEPLOYMENT void precall(const sy_group *g, size_t i, sy_observed *o, uint8_t *scratch,
                            const run *r, int windows, int limits, tally *t) {
  const sy_pick_ctx *c = r->c;
  const sy_deployment *d = g->deps[i];
  const sy_reliability *rel = &c->settings->rel;
  if (windows && d->max_input_tokens > 0 && c->prompt_tokens > d->max_input_tokens) {
    t->too_small++;
    return;
  }
  if (limits && over_limit(d, o, r)) return;
  /* Adaptive throttling: worth its four reads only after a 429 or
   * overload of this deployment in the last two minutes. */
  if (o && o->rejected_at > 0 && rel->throttle &&
      c->now - o->rejected_at < 2 * SY_USAGE_WINDOW_MS) {
    double p = sy_throttle_p(c->host, d->id, rel->throttle_k, rel->throttle_min_requests, c->now);
    if (p > 0 && sy_rng_unit(c->rng) < p) {
      t->throttled++;
      return;
    }
  }
  int hint = o && (o->rl_requests >= 0 || o->rl_tokens >= 0) &&
             sy_observed_exhausted(o, c->prompt_tokens, c->now);
  scratch[i] |= KEPT | CAND | (hint ? HINTED : 0);
  int tr = tier(d);
  if (t->kept && tr != t->tier_all) t->tiers_differ = 1;
  t->kept++;
  t->hinted += (size_t)hint;
  if (tr < t->tier_all) t->tier_all = tr;
  if (!hint && tr < t->tier_clear) t->tier_clear = tr;
  if (t->sum_shares) tally_shares(t, d, o, r);
}

sy_pick sy_select_pick(const sy_group *g, const uint8_t *exclude, uint8_t *scratch,
                       const sy_pick_ctx *c) {
  const sy_settings *s = c->settings;
  sy_pick pick = {-1, 0, 0, SY_PICK_COOLING, 0};
  const sy_reliability *rel = &s->rel;
  run r = {c, sy_health_view_of(c->host, c->now)};
  int tagging = s->enable_tag_filtering;
  int windows = s->enable_pre_call_checks, limits = windows || s->strategy == SY_STRATEGY_USAGE;
  int sums = s->strategy == SY_STRATEGY_SHUFFLE || s->strategy == SY_STRATEGY_P2C;
  tally t = {0, 0, 0, 0, INT_MAX, INT_MAX, 0, sums, 1, {0, 1, 1}, {0, 0, 0, 0}};
  /* Pass 1: available (not excluded, not cooling, breaker not open), and
   * the tag bits. A half-open breaker takes a probe while it has room.
   * Without tags, pass 2 runs in the same loop: every available one is
   * wanted. */
  size_t available = 0, opened = 0, matching = 0, defaults = 0;
  for (size_t i = 0; i < g->ndeps; i++) {
    const sy_deployment *d = g->deps[i];
    sy_observed *o = observed(&r, d);
    scratch[i] = 0;
    if (exclude && exclude[i]) continue;
    sy_ms until;
    int times;
    sy_breaker_state st =
        sy_health_look(&r.view, o ? &o->memo : NULL, d->id, rel->breaker, &until, &times);
    if (until > 0) {
      if (o && until > o->recovered_at) o->recovered_at = until; /* slow start from there */
      if (pick.earliest_end == 0 || until < pick.earliest_end) pick.earliest_end = until;
    }
    uint8_t tags = tagging ? tag_bits(d, c) : 0;
    if (st == SY_BREAKER_OPEN) {
      scratch[i] = OPEN | tags;
      opened++;
      continue;
    }
    if (until > 0) continue;
    if (st == SY_BREAKER_HALF_OPEN && sy_breaker_probes(c->host, d->id) >= rel->half_open_requests)
      continue; /* its probe is out: the rest wait for its answer */
    scratch[i] = AVAILABLE | tags | (st == SY_BREAKER_HALF_OPEN ? PROBE : 0);
    available++;
    if (!tagging) precall(g, i, o, scratch, &r, windows, limits, &t);
  }
  /* Panic (Envoy): with too little of the group left, open breakers are
   * ignored rather than overloading the rest. Cooldowns are not: those
   * are a provider's own word (429) or LiteLLM's rule. */
  if (opened && available < rel->panic_percent / 100 * (double)(available + opened)) {
    t.in_order = 0;
    for (size_t i = 0; i < g->ndeps; i++) {
      if (!(scratch[i] & OPEN)) continue;
      scratch[i] = (uint8_t)((scratch[i] & ~OPEN) | AVAILABLE);
      if (!tagging) precall(g, i, observed(&r, g->deps[i]), scratch, &r, windows, limits, &t);
    }
    available += opened;
  }
  if (!available) return pick;
  if (tagging) {
    for (size_t i = 0; i < g->ndeps; i++) {
      matching += (scratch[i] & (AVAILABLE | TAG_MATCH)) == (AVAILABLE | TAG_MATCH);
      defaults += (scratch[i] & (AVAILABLE | TAG_DEFAULT)) == (AVAILABLE | TAG_DEFAULT);
    }
    uint8_t need = c->ntags ? (matching ? TAG_MATCH : TAG_DEFAULT) : defaults ? TAG_DEFAULT : 0;
    if (need && !((need & TAG_MATCH) ? matching : defaults)) {
      pick.block = SY_PICK_NO_TAG;
      return pick;
    }
    need |= AVAILABLE;
    /* Pass 2 over the wanted ones, in index order again. */
    t.in_order = 1;
    for (size_t i = 0; i < g->ndeps; i++)
      if ((scratch[i] & need) == need)
        precall(g, i, observed(&r, g->deps[i]), scratch, &r, windows, limits, &t);
  }
  if (!t.kept) {
    pick.block = t.too_small && t.too_small == available ? SY_PICK_TOO_SMALL
                 : t.throttled                           ? SY_PICK_THROTTLED
                                                         : SY_PICK_OVER_LIMIT;
    return pick;
  }
  /* Pass 3, when needed: the candidates are the kept ones of the best
   * tier, the hinted ones only when nothing else is left. */
  int use_hinted = t.hinted == t.kept, best = use_hinted ? t.tier_all : t.tier_clear;
  size_t n = t.kept;
  if (t.tiers_differ || (t.hinted && !use_hinted)) {
    t.in_order = 0; /* the sums counted ones no longer candidates */
    n = 0;
    for (size_t i = 0; i < g->ndeps; i++) {
      if (!(scratch[i] & CAND)) continue;
      if ((!use_hinted && (scratch[i] & HINTED)) || tier(g->deps[i]) != best)
        scratch[i] &= (uint8_t)~CAND;
      else
        n++;
    }
  }
  pick.healthy = (int)n;
  switch (s->strategy) {
  case SY_STRATEGY_SHUFFLE: {
    weight_basis basis;
    double total = candidates_total(g, scratch, &t, &r, &basis);
    pick.index = weighted_at(g, scratch, basis, -1, sy_rng_unit(c->rng) * total, &r);
    break;
  }
  case SY_STRATEGY_P2C: pick.index = two_choices(g, scratch, n, &t, &r); break;
  default: pick.index = lowest(g, scratch, &r); break;
  }
  pick.probe = pick.index >= 0 && (scratch[pick.index] & PROBE);
  return pick;
}
