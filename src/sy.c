/* sy.c: status text, class names, the counted allocator, sy_buf and its
 * JSON writers, hashing and the PRNG. */
#include "sy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"

const char *sy_strerror(int status) {
  switch (status) {
  case SY_OK: return "ok";
  case SY_ERR_NOMEM: return "out of memory";
  case SY_ERR_INVALID: return "invalid argument";
  case SY_ERR_CONFIG: return "invalid config";
  case SY_ERR_PARSE: return "not valid JSON";
  case SY_ERR_NOT_FOUND: return "not found";
  case SY_ERR_STATE: return "not allowed in this state";
  default: return "unknown error";
  }
}

static const char *const class_names[SY_CLASS_COUNT] = {
    "ok",     "rate_limit", "quota_exhausted", "context_window", "content_policy",
    "auth",   "not_found",  "bad_request",     "conflict",       "overloaded",
    "server", "timeout",    "network",         "bad_response"};

const char *sy_class_name(sy_class c) {
  return (c >= 0 && c < SY_CLASS_COUNT) ? class_names[c] : "?";
}

int sy_class_from_name(const char *name) {
  for (int i = 0; i < SY_CLASS_COUNT; i++)
    if (strcmp(class_names[i], name) == 0) return i;
  return -1;
}

/* ---- counted allocator ----
 * A header of max_align size keeps the block aligned for any type while
 * remembering its size: 8 bytes on wasm32, 16 natively. */
typedef union sy_blockhdr {
  size_t size;
  max_align_t align;
} sy_blockhdr;

static size_t heap_bytes;
static uint64_t alloc_count, fail_at;
static int fail_persistent;

static int should_fail(void) {
  if (fail_at == 0) return 0;
  alloc_count++;
  if (alloc_count == fail_at) return 1;
  return fail_persistent && alloc_count > fail_at;
}

void sy_alloc_fail_at(uint64_t n, int persistent) {
  fail_at = n;
  fail_persistent = persistent;
  alloc_count = 0;
}

size_t sy_heap_bytes(void) { return heap_bytes; }

void *sy_malloc(size_t n) {
  if (n > SIZE_MAX - sizeof(sy_blockhdr) || should_fail()) return NULL;
  sy_blockhdr *h = malloc(sizeof *h + n);
  if (!h) return NULL;
  h->size = n;
  heap_bytes += n;
  return h + 1;
}

void *sy_calloc(size_t count, size_t n) {
  if (n && count > SIZE_MAX / n) return NULL;
  void *p = sy_malloc(count * n);
  if (p) memset(p, 0, count * n);
  return p;
}

void *sy_realloc(void *p, size_t n) {
  if (!p) return sy_malloc(n);
  if (n > SIZE_MAX - sizeof(sy_blockhdr) || should_fail()) return NULL;
  sy_blockhdr *h = (sy_blockhdr *)p - 1;
  size_t old = h->size;
  sy_blockhdr *nh = realloc(h, sizeof *nh + n);
  if (!nh) return NULL;
  nh->size = n;
  heap_bytes = heap_bytes - old + n;
  return nh + 1;
}

void sy_free(void *p) {
  if (!p) return;
  sy_blockhdr *h = (sy_blockhdr *)p - 1;
  heap_bytes -= h->size;
  free(h);
}

char *sy_strndup(const char *s, size_t n) {
  char *d = sy_malloc(n + 1);
  if (!d) return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *sy_strdup(const char *s) { return sy_strndup(s, strlen(s)); }

/* ---- sy_buf ---- */
void sy_buf_init(sy_buf *b) { memset(b, 0, sizeof *b); }

void sy_buf_free(sy_buf *b) {
  sy_free(b->data);
  sy_buf_init(b);
}

void sy_buf_reset(sy_buf *b) {
  b->len = 0;
  b->oom = 0;
  if (b->data) b->data[0] = '\0';
}

/* Whether |n| more bytes and the NUL fit without growing (never after an
 * OOM): the test every append makes before its copy, here so that the
 * usual case costs no call. cap > len whenever data is set. */
static int buf_fits(const sy_buf *b, size_t n) { return !b->oom && n < b->cap - b->len; }

/* Grows to hold |extra| more bytes plus a NUL; doubling keeps appends
 * amortised O(1). */
static int buf_reserve(sy_buf *b, size_t extra) {
  if (buf_fits(b, extra)) return 1;
  if (b->oom) return 0;
  if (extra > SIZE_MAX / 2 - b->len) { /* no size_t wraps below */
    b->oom = 1;
    return 0;
  }
  size_t cap = b->cap ? b->cap : 64;
  while (cap < b->len + extra + 1)
    cap *= 2;
  char *d = sy_realloc(b->data, cap);
  if (!d) {
    b->oom = 1;
    return 0;
  }
  b->data = d;
  b->cap = cap;
  return 1;
}

void sy_buf_append(sy_buf *b, const void *p, size_t n) {
  if (!buf_fits(b, n) && !buf_reserve(b, n)) return;
  if (n) memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void sy_buf_putc(sy_buf *b, char c) {
  if (!buf_fits(b, 1) && !buf_reserve(b, 1)) return;
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

void sy_buf_printf(sy_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = vsnprintf(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    sy_buf_append(b, small, (size_t)n);
    return;
  }
  if (!buf_reserve(b, (size_t)n)) return;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

/* Whether any of the 8 bytes of |w| is a control character, '"' or '\\':
 * the bit tricks for "a byte below 0x20" and "a byte equal to c" (Bit
 * Twiddling Hacks: hasless, haszero), exact as a yes/no. */
static int needs_escape8(uint64_t w) {
  const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');
  return ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((bs - ones) & ~bs)) & highs) != 0;
}

/* How many bytes at |s| need no escape before the first that does (|n|
 * when none does). Eight bytes a step (a short tail padded with spaces,
 * which need none), bytewise only within the step that holds an escape:
 * strings are most of what is written, and a test per byte cost ~10
 * instructions. */
static size_t plain_prefix(const char *s, size_t n) {
  size_t i = 0;
  uint64_t w;
  for (; n - i >= 8; i += 8) {
    memcpy(&w, s + i, 8); /* one load */
    if (needs_escape8(w)) break;
  }
  if (i == n) return n;
  if (n - i < 8) {
    w = 0x2020202020202020u;
    memcpy(&w, s + i, n - i);
    if (!needs_escape8(w)) return n;
  }
  for (; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '"' || c == '\\') break;
  }
  return i;
}

void sy_buf_json_chars(sy_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  for (;;) {
    size_t k = plain_prefix(s, n);
    sy_buf_append(b, s, k);
    if (k == n) return;
    unsigned char c = (unsigned char)s[k];
    char e[6] = {'\\', (char)c, '0', '0', '0', '0'}; /* \" \\ as they are */
    size_t len = 2;
    switch (c) {
    case '"':
    case '\\': break;
    case '\n': e[1] = 'n'; break;
    case '\r': e[1] = 'r'; break;
    case '\t': e[1] = 't'; break;
    default: e[1] = 'u', e[4] = hex[c >> 4], e[5] = hex[c & 15]; len = 6;
    }
    sy_buf_append(b, e, len);
    s += k + 1;
    n -= k + 1;
  }
}

void sy_buf_json_str(sy_buf *b, const char *s, size_t n) {
  if (plain_prefix(s, n) == n && buf_fits(b, n + 2)) {
    /* The usual string, no escapes: one copy between its quotes. */
    char *d = b->data + b->len;
    d[0] = '"';
    memcpy(d + 1, s, n);
    d[n + 1] = '"';
    d[n + 2] = '\0';
    b->len += n + 2;
    return;
  }
  sy_buf_putc(b, '"');
  sy_buf_json_chars(b, s, n);
  sy_buf_putc(b, '"');
}

void sy_buf_json_num(sy_buf *b, double v) {
  if (!isfinite(v)) {
    sy_buf_puts(b, "null"); /* JSON has no NaN or infinity */
    return;
  }
  /* The range first: casting an out-of-range double to int64_t is undefined. */
  if (v < 9007199254740992.0 && v > -9007199254740992.0 && v == (double)(int64_t)v) {
    if (v == 0 && signbit(v))
      sy_buf_puts(b, "-0"); /* a client's -0 goes upstream as it came */
    else
      sy_buf_int(b, (int64_t)v);
    return;
  }
  /* Fractions of at most 12 decimals (costs, latencies, weights: the
   * fractions in events) by hand, since printf's %.17g cost a routed
   * request about 5,000 of its instructions (bench/callgrind.sh) and
   * spells 0.1 as 0.10000000000000001. m = v·10^12 rounded; when m / 10^12
   * gives v back, the decimal m·10^-12 reads back as v: m and 10^12 are
   * exact doubles (|m| < 2^53), so the division and strtod both round the
   * same rational to nearest. */
  if (v < 9000 && v > -9000) {
    double m = round(v * 1e12);
    if (m / 1e12 == v) {
      int64_t whole = (int64_t)m / 1000000000000, frac = (int64_t)m % 1000000000000;
      if (frac < 0) frac = -frac;
      if (v < 0 && whole == 0) sy_buf_putc(b, '-');
      sy_buf_int(b, whole);
      char digits[13], *end = digits + 12;
      for (char *p = end; p > digits; frac /= 10)
        *--p = (char)('0' + frac % 10);
      while (end[-1] == '0') /* frac != 0: v is not a whole number */
        end--;
      sy_buf_putc(b, '.');
      sy_buf_append(b, digits, (size_t)(end - digits));
      return;
    }
  }
  sy_buf_printf(b, "%.17g", v);
}

/* By hand: times, ids and statuses are most of the numbers in events and
 * answers, and vsnprintf was about half of a routed request's instructions
 * (bench/callgrind.sh: ~40k of 93k). Two digits a division: a 13-digit
 * clock reading costs 7 steps, not 13. */
void sy_buf_int(sy_buf *b, int64_t v) {
  static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                              "25262728293031323334353637383940414243444546474849"
                              "50515253545556575859606162636465666768697071727374"
                              "75767778798081828384858687888990919293949596979899";
  char digits[24], *p = digits + sizeof digits;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  for (; u >= 100; u /= 100) {
    p -= 2;
    memcpy(p, pairs + u % 100 * 2, 2);
  }
  if (u >= 10) {
    p -= 2;
    memcpy(p, pairs + u * 2, 2);
  } else {
    *--p = (char)('0' + u);
  }
  if (v < 0) *--p = '-';
  sy_buf_append(b, p, (size_t)(digits + sizeof digits - p));
}

void sy_buf_json_value(sy_buf *b, const cJSON *v) {
  switch (v->type & 0xff) { /* the low byte: the type without cJSON's flags */
  case cJSON_False: sy_buf_puts(b, "false"); return;
  case cJSON_True: sy_buf_puts(b, "true"); return;
  case cJSON_Number: sy_buf_json_num(b, v->valuedouble); return;
  case cJSON_String: {
    const char *s = v->valuestring ? v->valuestring : "";
    sy_buf_json_str(b, s, strlen(s));
    return;
  }
  case cJSON_Array:
  case cJSON_Object: {
    int object = (v->type & 0xff) == cJSON_Object;
    sy_buf_putc(b, object ? '{' : '[');
    for (const cJSON *c = v->child; c; c = c->next) {
      if (c != v->child) sy_buf_putc(b, ',');
      if (object) {
        const char *k = c->string ? c->string : "";
        sy_buf_json_str(b, k, strlen(k));
        sy_buf_putc(b, ':');
      }
      sy_buf_json_value(b, c);
    }
    sy_buf_putc(b, object ? '}' : ']');
    return;
  }
  default: sy_buf_puts(b, "null");
  }
}

const char *sy_buf_cstr(sy_buf *b) { return (b->data && !b->oom) ? b->data : ""; }

/* ---- hashing and randomness ---- */
uint64_t sy_hash64(const void *p, size_t n, uint64_t seed) {
  const unsigned char *s = p;
  uint64_t h = 1469598103934665603ULL ^ seed;
  for (size_t i = 0; i < n; i++) {
    h ^= s[i];
    h *= 1099511628211ULL;
  }
  return h;
}

static uint32_t rotl32(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

void sy_rng_seed(sy_rng *r, uint64_t seed) {
  /* splitmix64 spreads any seed, including 0, over the whole state. */
  for (int i = 0; i < 2; i++) {
    uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    r->s[2 * i] = (uint32_t)z;
    r->s[2 * i + 1] = (uint32_t)(z >> 32);
  }
}

uint32_t sy_rng_next(sy_rng *r) {
  uint32_t *s = r->s;
  uint32_t result = rotl32(s[1] * 5, 7) * 9;
  uint32_t t = s[1] << 9;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl32(s[3], 11);
  return result;
}

double sy_rng_unit(sy_rng *r) { return sy_rng_next(r) / 4294967296.0; }

/* ---------- JSON grammars (sy_json_scan, sy_json_cjson_valid) ----------
 * One walk over two grammars: JSON's own (strict), and cJSON 1.7's (lax:
 * any byte <= 32 is blank, raw control bytes in strings, "01", "1.",
 * "\uZZZZ", a leading BOM). */

static const char *json_ws(const char *p, const char *e, int lax) {
  while (p < e &&
         (lax ? (unsigned char)*p <= ' ' : *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

static int hex_digit(char c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                : -1;
}

/* The string opening at |p|: the byte after its closing quote, or NULL. */
static const char *json_string(const char *p, const char *e) {
  for (p++; p < e; p++) {
    unsigned char c = (unsigned char)*p;
    if (c > '\\') continue; /* one test for most text: lower case and past ASCII */
    if (c == '"') return p + 1;
    if (c < 0x20) return NULL;
    if (c != '\\') continue;
    if (++p >= e) return NULL;
    if (*p == 'u') {
      if (e - p < 5) return NULL;
      for (int i = 1; i <= 4; i++)
        if (hex_digit(p[i]) < 0) return NULL;
      p += 4;
    } else if (!strchr("\"\\/bfnrt", *p) || !*p) {
      return NULL;
    }
  }
  return NULL;
}

/* cJSON's hex: any non-hex digit makes the whole code 0. */
static unsigned cjson_hex4(const char *s) {
  unsigned h = 0;
  for (int k = 0; k < 4; k++) {
    int d = hex_digit(s[k]);
    if (d < 0) return 0;
    h = h * 16 + (unsigned)d;
  }
  return h;
}

/* json_string by cJSON's rules: any byte but an unescaped quote; \u with
 * four characters after it, a surrogate only as a high-low pair. */
static const char *cjson_string(const char *p, const char *e) {
  const char *end = p + 1;
  while (end < e && *end != '"') {
    if (*end == '\\' && ++end >= e) return NULL;
    end++;
  }
  if (end >= e) return NULL;
  for (const char *k = p + 1; k < end;) {
    if (*k != '\\') {
      k++;
      continue;
    }
    char c = k[1];
    if (c != 'u') {
      if (!c || !strchr("bfnrt\"\\/", c)) return NULL;
      k += 2;
      continue;
    }
    if (end - k < 6) return NULL;
    unsigned u = cjson_hex4(k + 2);
    if (u >= 0xDC00 && u <= 0xDFFF) return NULL;
    if (u >= 0xD800 && u <= 0xDBFF) {
      if (end - k < 12 || k[6] != '\\' || k[7] != 'u') return NULL;
      u = cjson_hex4(k + 8);
      if (u < 0xDC00 || u > 0xDFFF) return NULL;
      k += 12;
    } else {
      k += 6;
    }
  }
  return end + 1;
}

static const char *json_digits(const char *p, const char *e) {
  while (p < e && *p >= '0' && *p <= '9')
    p++;
  return p;
}

/* The number at |p|: the byte after it, or NULL. cJSON reads one with
 * strtod: the longest prefix of -?digits[.digits*]([eE][+-]?digits)?. */
static const char *json_number(const char *p, const char *e, int lax) {
  if (p < e && *p == '-') p++;
  if (lax) {
    const char *q = json_digits(p, e), *r = q < e && *q == '.' ? json_digits(q + 1, e) : q;
    if (q == p && r <= q + 1) return NULL; /* no digit at all */
    if (r < e && (*r == 'e' || *r == 'E')) {
      const char *x = r + 1 < e && (r[1] == '+' || r[1] == '-') ? r + 2 : r + 1;
      const char *y = json_digits(x, e);
      if (y > x) r = y;
    }
    return r;
  }
  if (p >= e || *p < '0' || *p > '9') return NULL;
  p = *p == '0' ? p + 1 : json_digits(p, e);
  if (p < e && *p == '.') {
    const char *d = ++p;
    if ((p = json_digits(p, e)) == d) return NULL;
  }
  if (p < e && (*p == 'e' || *p == 'E')) {
    if (++p < e && (*p == '+' || *p == '-')) p++;
    const char *d = p;
    if ((p = json_digits(p, e)) == d) return NULL;
  }
  return p;
}

/* Whether the string token [p, q) (quotes included, well formed) spells
 * |key|, escapes decoded. Keys are ASCII: an escape past it never matches. */
static int json_names(const char *p, const char *q, const char *key) {
  for (p++, q--; p < q; p++, key++) {
    int c = (unsigned char)*p;
    if (c == '\\') {
      c = *++p;
      if (c == 'u') {
        c = 0;
        for (int i = 1; i <= 4; i++)
          c = c * 16 + hex_digit(p[i]);
        p += 4;
      } else {
        static const char from[] = "bfnrt", to[] = "\b\f\n\r\t";
        const char *at = strchr(from, c);
        if (at) c = to[at - from];
      }
    }
    if (!*key || (unsigned char)*key != c) return 0;
  }
  return !*key;
}

/* The member name at |p| and its colon: the byte after the colon, or
 * NULL. *which: the index of the key it names (when |nkeys|), else -1. */
static const char *json_member(const char *p, const char *e, int lax, const char *const *keys,
                               size_t nkeys, int *which) {
  if (p >= e || *p != '"') return NULL;
  const char *q = lax ? cjson_string(p, e) : json_string(p, e);
  if (!q) return NULL;
  *which = -1;
  for (size_t i = 0; i < nkeys; i++)
    if (json_names(p, q, keys[i])) {
      *which = (int)i;
      break;
    }
  q = json_ws(q, e, lax);
  return q < e && *q == ':' ? q + 1 : NULL;
}

/* sy_json_scan in |lax| (cJSON's) grammar or JSON's. */
static int json_walk(const char *text, size_t len, int lax, const char *const *keys, size_t nkeys,
                     sy_json_span *spans) {
  const char *p = text, *e = text + len;
  if (lax && len >= 5 && !memcmp(p, "\xEF\xBB\xBF", 3)) p += 3; /* cJSON skips a BOM */
  /* Bit d: the container at depth d is an object. */
  uint8_t objects[(SY_JSON_MAX_DEPTH + 7) / 8] = {0};
  size_t depth = 0;
  int named = -1, key = -1; /* the key naming the depth-1 value next, and the current one */
  const char *start = NULL;
  sy_json_type type = SY_JSON_ABSENT;
  for (size_t i = 0; i < nkeys; i++)
    spans[i] = (sy_json_span){NULL, 0, SY_JSON_ABSENT};
#define IS_OBJECT(d) (objects[(d) / 8] >> ((d) % 8) & 1)
  for (;;) {
    /* A value starts at p. */
    p = json_ws(p, e, lax);
    if (p >= e) return 0;
    char c = *p;
    sy_json_type t = c == '{'                             ? SY_JSON_OBJECT
                     : c == '['                           ? SY_JSON_ARRAY
                     : c == '"'                           ? SY_JSON_STRING
                     : c == '-' || (c >= '0' && c <= '9') ? SY_JSON_NUMBER
                                                          : SY_JSON_LITERAL;
    if (depth == 1) {
      start = p;
      type = t;
      key = named;
    }
    if (t == SY_JSON_OBJECT || t == SY_JSON_ARRAY) {
      if (depth == SY_JSON_MAX_DEPTH) return 0;
      if (t == SY_JSON_OBJECT)
        objects[depth / 8] |= (uint8_t)(1u << (depth % 8));
      else
        objects[depth / 8] &= (uint8_t) ~(1u << (depth % 8));
      depth++;
      p = json_ws(p + 1, e, lax);
      if (p < e && *p == (t == SY_JSON_OBJECT ? '}' : ']')) {
        p++;
        depth--;
      } else if (t == SY_JSON_OBJECT) {
        if (!(p = json_member(p, e, lax, keys, depth == 1 ? nkeys : 0, &named))) return 0;
        continue;
      } else {
        continue;
      }
    } else if (t == SY_JSON_STRING) {
      p = lax ? cjson_string(p, e) : json_string(p, e);
    } else if (t == SY_JSON_NUMBER) {
      p = json_number(p, e, lax);
    } else if (e - p >= 4 && (!memcmp(p, "true", 4) || !memcmp(p, "null", 4))) {
      p += 4;
    } else if (e - p >= 5 && !memcmp(p, "false", 5)) {
      p += 5;
    } else {
      return 0;
    }
    if (!p) return 0;
    /* A value ended at p: so may the containers around it. */
    for (;;) {
      if (depth == 1 && key >= 0 && IS_OBJECT(0) && !spans[key].type)
        spans[key] = (sy_json_span){start, (size_t)(p - start), type};
      p = json_ws(p, e, lax);
      if (!depth) return p == e;
      if (p >= e) return 0;
      int object = IS_OBJECT(depth - 1);
      if (*p == ',') {
        p = json_ws(p + 1, e, lax);
        if (object && !(p = json_member(p, e, lax, keys, depth == 1 ? nkeys : 0, &named))) return 0;
        break;
      }
      if (*p != (object ? '}' : ']')) return 0;
      p++;
      depth--;
    }
  }
#undef IS_OBJECT
}

int sy_json_scan(const char *text, size_t len, const char *const *keys, size_t nkeys,
                 sy_json_span *spans) {
  return json_walk(text, len, 0, keys, nkeys, spans);
}

int sy_json_cjson_valid(const char *text, size_t len) {
  return json_walk(text, len, 1, NULL, 0, NULL);
}
