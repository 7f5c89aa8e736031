/* health.h: per-deployment health kept in the host's key-value store, so a
 * fleet sharing a store shares it: cooldown deadlines and failure windows.
 *
 * Key schema (owned by the core; adapters store bytes with TTLs):
 *   sy:cd:<deployment id>            cooldown: "<deadline ms> <class>", TTL =
 *                                    the cooldown, so expiry needs no sweep
 *   sy:f:<deployment id>             failures this minute (kv_add, 60 s window)
 *   sy:f:<deployment id>:<class>     the same per class, with allowed_fails_policy
 * Every function costs one or two kv calls; nothing is cached here, so a
 * write by another instance is seen at the next look.
 */
#ifndef SY_HEALTH_H
#define SY_HEALTH_H

#include <stdbool.h>

#include "config.h"
#include "host.h"
#include "sy.h"

/* The failure window of allowed_fails, as LiteLLM has it: a fixed minute
 * from the first failure. */
#define SY_FAIL_WINDOW_MS 60000.0

/* sy_health_cooling_until: the deadline until which deployment |id| is
 * cooling, or 0 when it is not cooling at |now|. A deadline at or before
 * |now| is not cooling. */
sy_ms sy_health_cooling_until(const sy_host *h, const char *id, sy_ms now);

/* sy_health_cool cools deployment |id| until |now| + |duration_ms| for a
 * failure of class |c|. A cooldown already running to a later deadline is
 * kept: cooling again extends, never shortens. Returns the deadline in
 * force afterwards. */
sy_ms sy_health_cool(const sy_host *h, const char *id, sy_ms now, sy_ms duration_ms, sy_class c);

/* sy_health_count_failure adds one failure of class |c| to |id|'s window
 * and returns the failures counted in it: of class |c| alone when
 * |per_class|, else of every class. */
double sy_health_count_failure(const sy_host *h, const char *id, sy_class c, bool per_class);

/* sy_health_describe reads what is known of |id| at |now|: the cooldown
 * deadline (0 when not cooling) and its reason, a class name written to
 * |reason| (|cap| bytes, "" when not cooling), and the failures counted in
 * the current window (all classes). */
void sy_health_describe(const sy_host *h, const char *id, sy_ms now, sy_ms *until, char *reason,
                        size_t cap, double *failures);

#endif /* SY_HEALTH_H */
