/* policy.h: pure decisions about one failed attempt: is it retried, where,
 * after how long, does it cool the deployment, which fallback list applies,
 * and what status the client finally sees. No state, no clock reads: every
 * input is an argument, so each rule is tested at its boundaries.
 *
 * The rules (README "Retries, cooldowns, fallbacks" documents them for users):
 * - Retried (on any healthy deployment of the group, the same one included
 *   after a backoff): rate_limit, overloaded, server, timeout, network,
 *   conflict, bad_response.
 * - Moved on (another deployment of the group, never the same one again in
 *   this request): auth, quota_exhausted. Quota is per key, so another key
 *   may still serve; this is not a retry of the failing deployment.
 * - Not retried in the group: bad_request, not_found, context_window,
 *   content_policy. They go to the fallbacks at once.
 * - retry_policy gives a class its own retry count, making any class
 *   retryable (LiteLLM's semantics).
 */
#ifndef SY_POLICY_H
#define SY_POLICY_H

#include <stdbool.h>

#include "config.h"
#include "sy.h"

typedef enum sy_retry_kind {
  SY_RETRY_NEVER = 0, /* not retried within the group */
  SY_RETRY_ANY,       /* retried, the same deployment allowed after a wait */
  SY_RETRY_MOVE_ON    /* only other deployments of the group */
} sy_retry_kind;

/* How class |c| is retried by default. */
sy_retry_kind sy_policy_retry_kind(sy_class c);

/* sy_policy_retry_limit: how many retries a request may make in total after
 * a failure of class |c| on deployment |d| (NULL for none). The first of
 * these that is set wins: the request's own num_retries (|request_retries|,
 * SY_UNSET when absent), the deployment's retry_policy for |c|, the router's
 * retry_policy for |c|, the deployment's num_retries, the router's
 * num_retries. A class that is never retried gets 0 unless a retry_policy
 * names it. */
int sy_policy_retry_limit(const sy_settings *s, const sy_deployment *d, int request_retries,
                          sy_class c);

/* sy_policy_backoff_ms: how long to wait before retry number |retry| (0 for
 * the first) when no untried deployment is left. A provider's own
 * |retry_after_ms| (>= 0) is honoured, raised to the router's minimum
 * retry_after; above retry_after_max it returns -1: do not wait that long,
 * fall back or fail instead. Otherwise exponential from backoff_initial,
 * doubling, capped at backoff_max, raised to retry_after, with "equal
 * jitter" (half fixed, half uniform from |unit| in [0,1)) so retries of many
 * clients spread out without ever retrying at once. */
sy_ms sy_policy_backoff_ms(const sy_settings *s, int retry, sy_ms retry_after_ms, double unit);

/* How a failure of class |c| counts towards cooling its deployment. */
typedef enum sy_cool_kind {
  SY_COOL_NEVER = 0, /* the client's doing: bad_request, context, content */
  SY_COOL_AT_ONCE,   /* rate_limit, auth, not_found, quota_exhausted */
  SY_COOL_COUNTED    /* cooled past allowed_fails within a minute */
} sy_cool_kind;

sy_cool_kind sy_policy_cool_kind(sy_class c);

/* Failures of class |c| tolerated per minute before cooling. */
int sy_policy_allowed_fails(const sy_settings *s, sy_class c);

/* sy_policy_cooldown_ms: how long deployment |d| is cooled: its own
 * cooldown_time, else the provider's |retry_after_ms| when >= 0, else the
 * router's cooldown_time. 0 means do not cool (disable_cooldowns, or a
 * cooldown_time of 0). */
sy_ms sy_policy_cooldown_ms(const sy_settings *s, const sy_deployment *d, sy_ms retry_after_ms);

/* The fallback list for a failure of class |c|: context_window and
 * content_policy failures use their own lists when any rule is configured,
 * everything else (and those, when unconfigured) the generic list. */
const sy_fallback_list *sy_policy_fallback_list(const sy_settings *s, sy_class c);

/* The HTTP status a gateway answers with when a request ends on a failure
 * of class |c| whose upstream status was |upstream_status| (0 if none). */
int sy_policy_client_status(sy_class c, int upstream_status);

/* OpenAI-style error "type" and "code" strings for class |c|; static. */
const char *sy_policy_error_type(sy_class c);
const char *sy_policy_error_code(sy_class c);

#endif /* SY_POLICY_H */
