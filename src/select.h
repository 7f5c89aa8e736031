/* select.h: choosing a deployment within a group.
 *
 * Filters first, then the strategy, in passes over the group's deployments
 * (O(n), allocating nothing: the caller lends the scratch bytes):
 *  1. Not excluded by the caller, not cooling down, circuit breaker not
 *     open (circuit_breaker): a half-open one only while its probe slots
 *     (fleet-wide) have room. Panic: when fewer than panic_threshold % of
 *     the group would be left, open breakers are ignored.
 *  2. Tags (enable_tag_filtering): a request with metadata.tags goes to the
 *     deployments having any of them (all of them when
 *     tag_filtering_match_any is false), else to those tagged "default";
 *     an untagged request goes to the "default" ones when there are any,
 *     else to all. Deployments without tags never serve a tagged request.
 *  3. Pre-call checks (enable_pre_call_checks, or a usage-based strategy):
 *     a prompt estimated above a deployment's max_input_tokens skips it
 *     (enable_pre_call_checks only); a deployment whose rpm or tpm would be
 *     exceeded this minute by one more request of the estimated tokens
 *     (fleet-wide counts, health.h) skips it.
 *     Adaptive throttling: a deployment that answered 429 or overloaded in
 *     the last two minutes is shed with the SRE book's probability
 *     (health.h), independently per request.
 *  4. Provider hints: a deployment whose last rate-limit headers said it
 *     has no room left before its reset is passed over while another
 *     candidate remains (it would answer 429; if nothing else is left it is
 *     tried, since the headers may be stale).
 *  5. The lowest `order` among the rest (unset sorts last).
 *  6. The strategy, among that tier:
 *     simple-shuffle  weighted random: by `weight` when any candidate has
 *                     one (missing counts 1), else by `rpm` when all have
 *                     one, else by `tpm` likewise, else uniform; a
 *                     deployment in slow start counts a share of it;
 *     usage-based     the fewest tokens used this minute (ties random);
 *     least-busy      the fewest attempts in flight, fleet-wide (ties random);
 *     latency-based   uniform among those whose mean latency (of the last
 *                     10 answers; for a stream, of its first tokens when
 *                     known) is within lowest * (1 + lowest_latency_buffer);
 *                     a deployment never measured counts 0, so it is tried;
 *     cost-based      the lowest input + output cost per token (unknown
 *                     costs last; ties random);
 *     p2c-peak-ewma   two candidates drawn at random, the one with the lower
 *                     peak-EWMA latency x (attempts in flight + 1) wins
 *                     (Finagle's and Linkerd's balancer): a slow or
 *                     overloaded deployment loses most draws within a few
 *                     answers, and no scan of latencies is needed.
 */
#ifndef SY_SELECT_H
#define SY_SELECT_H

#include <stdint.h>

#include "config.h"
#include "health.h"
#include "host.h"
#include "sy.h"

/* Why a pick found nothing, when it did not. */
typedef enum sy_pick_block {
  SY_PICK_COOLING = 0, /* every candidate is cooling (or excluded) */
  SY_PICK_TOO_SMALL,   /* the prompt is larger than every healthy one's window */
  SY_PICK_OVER_LIMIT,  /* every healthy one is at its rpm/tpm this minute */
  SY_PICK_NO_TAG,      /* no deployment has the request's tags (nor "default") */
  SY_PICK_THROTTLED    /* adaptive throttling shed it from every healthy one */
} sy_pick_block;

typedef struct sy_pick {
  int index;           /* in the group's deps, or -1 when none is available */
  int healthy;         /* candidates left after every filter */
  sy_ms earliest_end;  /* among the not excluded but cooling ones, the
                          earliest cooldown end; 0 when none is cooling */
  sy_pick_block block; /* when index is -1: the filter that left none */
  int probe;           /* the pick's breaker is half-open: the attempt probes it */
} sy_pick;

/* What a pick needs to know besides the group. All borrowed. */
typedef struct sy_pick_ctx {
  const sy_settings *settings;
  const sy_host *host; /* its kv store holds cooldowns and usage */
  sy_ms now;
  sy_rng *rng;
  sy_observed *observed; /* per config deployment (sy_deployment.index), NULL:
                            nothing observed; a pick notes cooldowns it sees
                            (for slow start) */
  double prompt_tokens;  /* estimated, for windows and tpm headroom */
  int stream;            /* latency-based prefers first-token samples */
  char *const *tags;     /* the request's metadata.tags; NULL when none */
  size_t ntags;
} sy_pick_ctx;

/* sy_select_pick chooses in |g|. |exclude| (may be NULL) has one byte per
 * deployment of |g|: nonzero excludes it. |scratch| is the caller's, at
 * least g->ndeps bytes. Cooldowns and usage are read through the host's kv
 * store: one read per deployment, up to three with a usage-based strategy
 * and limits (its cooldown, rpm and tpm for the headroom; the choice uses
 * that tpm again); randomness comes from
 * c->rng, so a seed replays the same picks. */
sy_pick sy_select_pick(const sy_group *g, const uint8_t *exclude, uint8_t *scratch,
                       const sy_pick_ctx *c);

#endif /* SY_SELECT_H */
