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

/* One of |id|'s usage counts at |now|: one kv read. */
typedef enum sy_usage_kind { SY_USAGE_RPM, SY_USAGE_TPM, SY_USAGE_INFLIGHT } sy_usage_kind;
double sy_health_usage_of(const sy_host *h, const char *id, sy_usage_kind kind, sy_ms now);

/* sy_health_usage reads all of |id|'s usage at |now| into |out|. */
void sy_health_usage(const sy_host *h, const char *id, sy_ms now, sy_usage *out);

/* ---- circuit breaker, retry budget, adaptive throttling (fleet-wide) ----
 * Keys (all through kv, so a fleet sharing a store shares them):
 *   sy:ej:<id>            an opened breaker: "<deadline ms> <times opened>",
 *                         kept max_open_time past the deadline (half-open,
 *                         and the memory that makes the next opening longer);
 *                         "0 0" once a probe closed it
 *   sy:cf:<id>            consecutive failures ("0" after a success)
 *   sy:fm:<id>:<minute>   failed attempts this minute (the failure rate)
 *   sy:pr:<id>            probes in flight to a half-open deployment
 *   sy:acc:<id>:<minute>  attempts the provider accepted (not 429/overloaded)
 *   sy:rb:q:<window>, sy:rb:r:<window>  requests and retries per budget window
 */
typedef enum sy_breaker_state {
  SY_BREAKER_CLOSED = 0,
  SY_BREAKER_OPEN,     /* ejected until its deadline */
  SY_BREAKER_HALF_OPEN /* past it: probes decide */
} sy_breaker_state;

/* |id|'s breaker at |now|; |until| gets the open deadline (0 when closed),
 * |times| how often it opened recently. One kv read. */
sy_breaker_state sy_breaker_state_of(const sy_host *h, const char *id, sy_ms now, sy_ms *until,
                                     int *times);

/* Probes in flight to |id|. */
double sy_breaker_probes(const sy_host *h, const char *id);

/* Counts one more probe to |id| in flight (+1), or one fewer (-1). A probe
 * that never reports back (a crashed instance) is forgotten after |ttl_ms|. */
void sy_breaker_probe(const sy_host *h, const char *id, double delta, sy_ms ttl_ms);

/* A failure of |id| that says something of its health (5xx, timeout,
 * network, overload, malformed answer) at |now|. Counts it, and opens the
 * breaker when |probe| failed, or when the consecutive failures or this
 * minute's failure rate (over |attempts| this minute) reach |rel|'s
 * thresholds and |may_open| (the group's share already open allows it).
 * Returns the open deadline when it opened, else 0; |times| gets how often
 * it has opened recently. */
sy_ms sy_breaker_failure(const sy_host *h, const sy_reliability *rel, const char *id, sy_ms now,
                         double attempts, bool probe, bool may_open, int *times);

/* A success of |id|: the run of failures ends; a successful |probe|
 * closes the breaker. Returns whether it closed it. */
bool sy_breaker_success(const sy_host *h, const char *id, bool probe);

/* Counts a request into the retry budget's window of |now|. */
void sy_budget_request(const sy_host *h, const sy_reliability *rel, sy_ms now);

/* Takes one retry (or hedge) from the budget over the window before |now|
 * (sliding: this window's counts and the covered share of the last one's);
 * false (and nothing taken) when it is spent. */
bool sy_budget_take(const sy_host *h, const sy_reliability *rel, sy_ms now);

/* Counts an attempt of |id| the provider accepted (not a 429 or overload). */
void sy_throttle_accept(const sy_host *h, const char *id, sy_ms now);

/* The SRE book's rejection probability for |id| at |now| over this and
 * the last minute: max(0, (attempts - k x accepts) / (attempts + 1)); 0
 * below |min_requests| attempts. */
double sy_throttle_p(const sy_host *h, const char *id, double k, double min_requests, sy_ms now);

/* ---- what this instance observes of a deployment, never shared ----
 * Latency is a local fact (another instance may sit elsewhere on the
 * network), and a provider's rate-limit headers are read from this
 * instance's own answers, which it gets often enough to stay current. One
 * per config deployment, owned by the router; about 220 bytes each. */
#define SY_LATENCY_SAMPLES 10
/* Peak EWMA's decay time (Finagle's default): a slow spike is believed at
 * once; after it the old value's weight falls as exp(-t / 10 s). */
#define SY_EWMA_DECAY_MS 10000.0

/* Where one of a deployment's usage counters sits in the router's copy of
 * the store (below). Valid while the copy holds that key, fresh, in that
 * slot: reading it again costs a few comparisons instead of building the
 * key and looking it up. */
typedef struct sy_kv_ref {
  uint32_t epoch; /* the copy's (a restart of the copy moves every key); 0: never set */
  uint32_t slot, version;
  double window; /* the counter's minute + 1; 0 for in-flight counts */
} sy_kv_ref;

/* What a pick last read of one deployment through the router's copy of
 * the store: at 100 deployments, building and looking up two to five keys
 * per candidate was most of a pick's cost. Cooldown and breaker records
 * change seldom: their values are kept here, valid while the copy counts
 * no change to any such key (its own writes, reported ones, a restart) and
 * both keys' copies are fresh. Usage counters change with every request:
 * refs to their slots, which the router's own writes keep current. */
typedef struct sy_health_memo {
  uint32_t generation; /* the copy's count of those changes when read; 0: never read */
  int times;           /* its openings */
  sy_ms fresh_until;
  sy_ms cooling;     /* the cooldown's deadline, 0: none (maybe past: compared at each look) */
  sy_ms open_until;  /* the breaker record's deadline, 0: none or closed */
  double counted[3]; /* by sy_usage_kind: what the last look of it returned, so a
                        pick scores with the counts its checks already read */
  sy_kv_ref rpm, tpm, inflight;
} sy_health_memo;

typedef struct sy_kv_cache sy_kv_cache; /* below */

/* What one pick reads its candidates through, worked out once for all of
 * them: per candidate, finding the copy and the minute again was a fifth
 * of a usage-based pick at 100 deployments. Borrows |host|; valid while
 * the clock reads |now|. */
typedef struct sy_health_view {
  const sy_host *host;
  sy_kv_cache *copy; /* the watched copy behind host; NULL: reads go to the store */
  sy_ms now;
  double window; /* the usage minute of now + 1, as sy_kv_ref keeps it */
} sy_health_view;

sy_health_view sy_health_view_of(const sy_host *h, sy_ms now);

/* Deployment |id|'s cooldown and breaker at v->now: the cooldown deadline
 * in |until| when cooling (its breaker is then not looked at: CLOSED);
 * else, when |breaker|, sy_breaker_state_of's answer (|until| the open
 * deadline, |times|). Through |m| (may be NULL) when |v| has a watched
 * copy, from the store otherwise. */
sy_breaker_state sy_health_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                                bool breaker, sy_ms *until, int *times);

/* sy_health_usage_of at v->now, through |m| (may be NULL) likewise. */
double sy_health_usage_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                            sy_usage_kind kind);

/* Both of |id|'s counts of this minute, requests then tokens, into
 * |counts| (and |m|'s counted) as two sy_health_usage_look calls would:
 * a usage-based pick reads both of every candidate, and one call with one
 * set of checks was a fifth of that pick at 100 deployments in wasm. */
void sy_health_minute_look(const sy_health_view *v, sy_health_memo *m, const char *id,
                           double counts[2]);

typedef struct sy_observed {
  /* First what a pick reads of every candidate, together: at 1000
   * deployments a pick's cost is mostly cache misses, one per line. */
  sy_ms rejected_at;  /* its last 429 or overload: throttling is worth computing */
  sy_ms recovered_at; /* when its last cooldown or open breaker ended: slow start */
  /* From the provider's x-ratelimit-* / anthropic-ratelimit-* headers: what
   * is left until the reset (absolute ms), minus what was sent since;
   * -1 when the provider did not say. */
  double rl_requests, rl_tokens;
  sy_health_memo memo; /* what a pick last read of it through the copy of the store */
  sy_ms rl_requests_reset, rl_tokens_reset;
  double lat_mean, ttft_mean; /* of the samples, kept as they come: a latency-based
                                 pick reads every candidate's, often twice */
  unsigned nlat, lat_next, nttft, ttft_next;
  double ewma_ms;                  /* peak EWMA of latency; 0 until a first sample */
  sy_ms ewma_at;                   /* when it was last updated */
  int outstanding;                 /* attempts in flight from this instance */
  double lat[SY_LATENCY_SAMPLES];  /* whole-answer latency, ms: the last samples */
  double ttft[SY_LATENCY_SAMPLES]; /* streams: time to first token, ms */
} sy_observed;

void sy_observed_init(sy_observed *o);

/* Records an answer's latency |ms| at |now| (a failure's too: how long it
 * took is what a slow deployment costs); |ttft| records a stream's first
 * token instead, which latency-based routing prefers for streams. */
void sy_observe_latency(sy_observed *o, double ms, sy_ms now, bool ttft);

/* The mean of the latency samples (|ttft|: of the first-token samples),
 * or -1 when there are none. */
double sy_observed_mean(const sy_observed *o, bool ttft);

/* The peak EWMA of latency (ms) at |now|, 0 before the first sample. It
 * decays toward 0 between samples too (as Finagle's does when read): a
 * deployment that lost the draws while slow is tried again once its old
 * figure has faded, instead of being starved by a number nothing renews. */
double sy_observed_ewma(const sy_observed *o, sy_ms now);

/* Whether the provider said |o| has no room left at |now| for one more
 * request of |tokens| estimated tokens. */
bool sy_observed_exhausted(const sy_observed *o, double tokens, sy_ms now);

/* ---- the router's copy of the keys it reads ----
 * A pick reads two to five keys per candidate (cooldown, breaker, usage):
 * at 100 deployments hundreds of kv_get calls per request, and in wasm
 * each one is a call into JS that decodes the key and looks it up, which
 * was most of a routed request's cost (bench/). When the host watches its
 * store, that is, reports every change this router did not make itself
 * (sy_kv_cache_changed), reads are answered from what the router last read
 * or wrote, and the store is asked again only after a reported change.
 *
 * What it costs: the store's TTLs are not visible here, so an entry is
 * trusted for at most SY_KV_CACHE_MAX_AGE_MS (or the TTL the router itself
 * wrote, when shorter). A key that expires in the store can be seen up to
 * that much later. Of the keys a pick reads, only the in-flight counts and
 * the breaker records expire by TTL alone (a cooldown ends at the deadline
 * its value holds, and the usage counters change key each minute), so
 * their restart comes up to that much late. Memory: one allocation per key
 * (key and value, under 250 bytes), at most 3/4 of a table of 16 slots
 * per deployment; when it fills, the copy starts over empty.
 * Without a watch nothing is kept: every read goes to the store, as
 * before, for stores that cannot report changes. */
#define SY_KV_CACHE_MAX_AGE_MS 1000.0

/* A copy in front of |store|'s kv calls, sized for |deployments|; NULL
 * when out of memory. |store| must outlive it. The caller owns it. */
sy_kv_cache *sy_kv_cache_new(const sy_host *store, size_t deployments);
void sy_kv_cache_free(sy_kv_cache *c);

/* The host to hand the functions above: its kv_* members go through the
 * copy, its other members are NULL. Owned by |c|. */
const sy_host *sy_kv_cache_host(sy_kv_cache *c);

/* The clock for the entries' age: |now| of the entry point running. */
void sy_kv_cache_tick(sy_kv_cache *c, sy_ms now);

/* From now on the store reports changes, and reads may be answered from
 * the copy. */
void sy_kv_cache_watch(sy_kv_cache *c);

/* |key| (|len| bytes) changed in the store other than by this router's
 * kv calls; NULL: any key may have (the store reconnected or was
 * replaced). The next read of it goes to the store. */
void sy_kv_cache_changed(sy_kv_cache *c, const char *key, size_t len);

#endif /* SY_HEALTH_H */
