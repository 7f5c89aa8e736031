/* health.h: per-deployment health kept in the host's key-value store, so a
 * fleet sharing a store shares it: cooldown deadlines and failure windows.
 *
 * Key schema (owned by the core; adapters store bytes with TTLs):
 *   sy:cd:<deployment id>            cooldown: "<deadline ms> <class>", TTL =
 *                                    the cooldown, so expiry needs no sweep
 *   sy:f:<deployment id>             failures this minute (kv_add, 60 s window)
 *   sy:f:<deployment id>:<class>     the same per class, with allowed_fails_policy
 *   sy:rpm:<deployment id>:<minute>  attempts sent in that minute (minute =
 *                                    floor(ms / 60000), so every instance of a
 *                                    fleet counts into the same window)
 *   sy:tpm:<deployment id>:<minute>  tokens (prompt + completion) answered in it
 *   sy:if:<deployment id>            attempts in flight (kv_add +1 / -1). Its
 *                                    TTL (SY_INFLIGHT_TTL_MS, not renewed)
 *                                    bounds how long a crashed instance's
 *                                    attempts stay counted; at each expiry
 *                                    the count restarts, and reads clamp at 0
 * Every function costs one to three kv calls; nothing is cached here, so a
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

/* Usage windows: a calendar minute, kept a little past its end so a late
 * reader (describe, a fleet peer) still finds it. */
#define SY_USAGE_WINDOW_MS 60000.0
#define SY_USAGE_TTL_MS 120000.0
#define SY_INFLIGHT_TTL_MS 600000.0

/* What deployment |id| is doing: this minute's attempts and tokens, and
 * attempts in flight, fleet-wide when the store is shared. */
typedef struct sy_usage {
  double rpm;
  double tpm;
  double inflight;
} sy_usage;

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

/* sy_health_attempt_sent counts an attempt sent to |id| at |now|: one more
 * request this minute and one more in flight. */
void sy_health_attempt_sent(const sy_host *h, const char *id, sy_ms now);

/* sy_health_attempt_over counts the end of an attempt that
 * sy_health_attempt_sent counted: one fewer in flight, and |tokens| (0 when
 * unknown) more this minute. */
void sy_health_attempt_over(const sy_host *h, const char *id, sy_ms now, double tokens);

/* sy_health_usage reads |id|'s usage at |now| into |out|. */
void sy_health_usage(const sy_host *h, const char *id, sy_ms now, sy_usage *out);

#endif /* SY_HEALTH_H */
