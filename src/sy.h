/* sy.h: what every layer of the Switchyard core shares: status codes, the
 * error classes of upstream outcomes, the counted allocator and a growable
 * byte buffer.
 *
 * Conventions used by every header of the core:
 * - Functions that can fail return an int: 0 (SY_OK) or a negative sy_status.
 * - Times are milliseconds as double (sy_ms): the host clock is
 *   Date.now()-like, exact to 2^53 ms, and crosses the wasm boundary as f64
 *   without BigInt conversions.
 * - Each function's comment ends with who owns what it takes and returns.
 */
#ifndef SY_H
#define SY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Milliseconds. Absolute values are host clock readings (Unix epoch in the
 * real hosts, anything monotonic in tests). */
typedef double sy_ms;

typedef enum sy_status {
  SY_OK = 0,
  SY_ERR_NOMEM = -1,   /* an allocation failed; the object is unchanged */
  SY_ERR_INVALID = -2, /* an argument is out of its documented range */
  SY_ERR_CONFIG = -3,  /* the config was rejected; see the error text */
  SY_ERR_PARSE = -4,   /* bytes that should be JSON are not */
  SY_ERR_NOT_FOUND = -5,
  SY_ERR_STATE = -6 /* the call does not fit the object's state */
} sy_status;

/* Static text for a status; never NULL. */
const char *sy_strerror(int status);

/* The outcome of one upstream attempt, as the policy layer sees it. The
 * order is part of the event format (names below) but not of any ABI. */
typedef enum sy_class {
  SY_CLASS_OK = 0,
  SY_CLASS_RATE_LIMIT,     /* 429 */
  SY_CLASS_QUOTA,          /* 429/400/403 "insufficient_quota", spend limits */
  SY_CLASS_CONTEXT_WINDOW, /* prompt longer than the model accepts */
  SY_CLASS_CONTENT_POLICY, /* refused by a content filter, incl. 200 + content_filter */
  SY_CLASS_AUTH,           /* 401, 403 */
  SY_CLASS_NOT_FOUND,      /* 404 */
  SY_CLASS_BAD_REQUEST,    /* 400, 422 and other 4xx not named here */
  SY_CLASS_CONFLICT,       /* 409 */
  SY_CLASS_OVERLOADED,     /* 529, Anthropic overloaded_error */
  SY_CLASS_SERVER,         /* 5xx */
  SY_CLASS_TIMEOUT,        /* 408, or no answer within the attempt timeout */
  SY_CLASS_NETWORK,        /* connection refused, reset, DNS, TLS */
  SY_CLASS_BAD_RESPONSE,   /* a 2xx whose body is not what the provider sends */
  SY_CLASS_COUNT
} sy_class;

/* Lower-case snake name of a class ("rate_limit"); "?" when out of range. */
const char *sy_class_name(sy_class c);
/* The class named |name| (as sy_class_name gives it), or -1. */
int sy_class_from_name(const char *name);

/* ---- counted allocator ----
 * Every allocation of the core (cJSON's included) goes through these, so
 * that tests can (a) check memory returns to its baseline when requests end
 * and (b) fail the n-th allocation to exercise every error path. The count
 * costs one size_t header per block. */
void *sy_malloc(size_t n);
void *sy_calloc(size_t count, size_t n);
void *sy_realloc(void *p, size_t n);
void sy_free(void *p);
/* Bytes currently allocated through sy_malloc & co. */
size_t sy_heap_bytes(void);
/* Make the allocation |n| from now fail (1 = the next one); persistent: when
 * nonzero, every allocation after that one fails too. 0 disables. Test only. */
void sy_alloc_fail_at(uint64_t n, int persistent);
/* Copies of |s| (NUL-terminated, or |n| bytes); NULL on OOM. Free with sy_free. */
char *sy_strdup(const char *s);
char *sy_strndup(const char *s, size_t n);

/* ---- growable byte buffer ----
 * Appends never fail loudly: on OOM the buffer sets |oom| and ignores later
 * appends, so that a long build can check once at the end. */
typedef struct sy_buf {
  char *data; /* NUL-terminated when len > 0 or after sy_buf_cstr */
  size_t len;
  size_t cap;
  int oom;
} sy_buf;

void sy_buf_init(sy_buf *b);
void sy_buf_free(sy_buf *b);
void sy_buf_reset(sy_buf *b); /* len = 0, keeps capacity, clears oom */
void sy_buf_append(sy_buf *b, const void *p, size_t n);
/* Inline so that a literal's length is a constant: no strlen call, most of
 * what a short append costs. */
static inline void sy_buf_puts(sy_buf *b, const char *s) { sy_buf_append(b, s, strlen(s)); }
void sy_buf_putc(sy_buf *b, char c);
void sy_buf_printf(sy_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal with quotes and escapes for |n| bytes at |s|. */
void sy_buf_json_str(sy_buf *b, const char *s, size_t n);
/* The same without the quotes: a literal's contents, for one assembled
 * from several pieces (a URL) without first copying them together. */
void sy_buf_json_chars(sy_buf *b, const char *s, size_t n);
/* A JSON number that reads back as |v| exactly: integers without a
 * fraction (-0 as -0), fractions of up to 12 decimals as such (0.1), others
 * with 17 significant digits; NaN and infinities as null. */
void sy_buf_json_num(sy_buf *b, double v);
/* A decimal integer. */
void sy_buf_int(sy_buf *b, int64_t v);
/* |v| (a cJSON item, any depth) as compact JSON: what cJSON_PrintUnformatted
 * gives, up to spelling (numbers as sy_buf_json_num writes them, which read
 * back as the same doubles; control characters as \u00XX), written in place
 * instead of into a malloc'd string that is then copied. A key or string
 * without text is written as ""; NaN, infinities and items of no JSON type
 * (cJSON_Invalid; cJSON_Raw, which the core never builds) as null.
 * Recursive: the depth is cJSON's, which its parser bounds
 * (CJSON_NESTING_LIMIT). |v| is read, not kept. */
struct cJSON;
void sy_buf_json_value(sy_buf *b, const struct cJSON *v);
/* The contents as a C string (never NULL; "" when empty or OOM). The
 * pointer is valid until the next append or free. */
const char *sy_buf_cstr(sy_buf *b);

/* ---- strict JSON ---- */
typedef enum {
  SY_JSON_ABSENT = 0,
  SY_JSON_OBJECT,
  SY_JSON_ARRAY,
  SY_JSON_STRING,
  SY_JSON_NUMBER,
  SY_JSON_LITERAL /* true, false, null */
} sy_json_type;
/* A value inside a text sy_json_scan read: |len| bytes at |at|. */
typedef struct sy_json_span {
  const char *at;
  size_t len;
  sy_json_type type;
} sy_json_span;
#define SY_JSON_MAX_DEPTH 1000
/* Whether |text| (|len| bytes) is exactly one JSON value by RFC 8259's
 * grammar, whitespace around it allowed and nested at most
 * SY_JSON_MAX_DEPTH deep: what JSON.parse accepts. cJSON is laxer (it
 * takes control characters in strings, numbers such as 01 and 1., and,
 * unless told, bytes after the value), and a body the core forwards as it
 * came must parse in the host. When the value is an object, spans[i] is
 * the value of its first member named |keys[i]| (escapes decoded), type
 * SY_JSON_ABSENT when it has none. Returns 1 or 0 (then the spans say
 * nothing). One pass, no allocation, no recursion; |text| is borrowed and
 * the spans point into it; |keys| and |spans| may be NULL when |nkeys| is 0. */
int sy_json_scan(const char *text, size_t len, const char *const *keys, size_t nkeys,
                 sy_json_span *spans);
/* Whether cJSON 1.7 reads |text| (|len| bytes) whole: its grammar, looser
 * than JSON's (any byte <= 32 is blank, raw control bytes in strings,
 * "01", "1.", "\uZZZZ", a leading BOM; a surrogate only as a pair; nesting
 * up to 1000), and only blanks after the value. Allocates nothing, so when
 * it says yes and cJSON failed, memory ran out (sy_config_parse tells the
 * two apart by it). */
int sy_json_cjson_valid(const char *text, size_t len);

/* ---- small shared helpers ---- */
/* 64-bit FNV-1a, for deterministic ids and hashing; not for secrets. */
uint64_t sy_hash64(const void *p, size_t n, uint64_t seed);

/* xoshiro128** PRNG, seeded by the host: every random choice of the core
 * comes from here so a seed replays a run exactly. */
typedef struct sy_rng {
  uint32_t s[4];
} sy_rng;
void sy_rng_seed(sy_rng *r, uint64_t seed);
uint32_t sy_rng_next(sy_rng *r);
/* Uniform in [0, 1). */
double sy_rng_unit(sy_rng *r);

#endif /* SY_H */
