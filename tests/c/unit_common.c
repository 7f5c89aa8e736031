/* unit_common.c: the allocator's accounting and failure injection, sy_buf,
 * JSON escaping and writing, the PRNG. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cJSON.h"
#include "json_same.h"
#include "sy.h"
#include "t.h"

static void test_heap_accounting(void) {
  size_t base = sy_heap_bytes();
  char *p = sy_malloc(100);
  T_EQ_INT(sy_heap_bytes(), base + 100);
  p = sy_realloc(p, 300);
  T_EQ_INT(sy_heap_bytes(), base + 300);
  sy_free(p);
  T_EQ_INT(sy_heap_bytes(), base);
}

static void test_fail_injection(void) {
  sy_alloc_fail_at(2, 0); /* transient: only the second fails */
  void *a = sy_malloc(8), *b = sy_malloc(8), *c = sy_malloc(8);
  sy_alloc_fail_at(0, 0);
  T_CHECK(a != NULL);
  T_CHECK(b == NULL);
  T_CHECK(c != NULL);
  sy_free(a);
  sy_free(c);
  sy_alloc_fail_at(1, 1); /* persistent: every one from the first */
  a = sy_malloc(8);
  b = sy_malloc(8);
  sy_alloc_fail_at(0, 0);
  T_CHECK(a == NULL && b == NULL);
}

static void test_buf(void) {
  sy_buf b;
  sy_buf_init(&b);
  T_EQ_STR(sy_buf_cstr(&b), "");
  for (int i = 0; i < 100; i++)
    sy_buf_printf(&b, "%d,", i);
  T_EQ_INT(b.len, 290);
  T_CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
  sy_buf_reset(&b);
  sy_buf_json_str(&b, "a\"b\\c\n\x01", 7);
  T_EQ_STR(sy_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
  sy_buf_reset(&b);
  sy_buf_json_num(&b, 42);
  sy_buf_putc(&b, ' ');
  sy_buf_json_num(&b, 0.5);
  sy_buf_putc(&b, ' ');
  sy_buf_json_num(&b, 0.0 / 0.0);
  sy_buf_putc(&b, ' ');
  sy_buf_json_num(&b, -0.0);
  T_EQ_STR(sy_buf_cstr(&b), "42 0.5 null -0");
  /* Integers at every digit count and sign, as printf spells them. */
  const int64_t ints[] = {
      0, 7, -7, 10, 99, 100, -101, 1000, 65535, 1700000000000, INT64_MAX, INT64_MIN, INT64_MIN + 1};
  for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
    char want[32];
    snprintf(want, sizeof want, "%lld", (long long)ints[i]);
    sy_buf_reset(&b);
    sy_buf_int(&b, ints[i]);
    T_EQ_STR(sy_buf_cstr(&b), want);
  }
  for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
    char want[48];
    snprintf(want, sizeof want, "%lld %lld", (long long)(p - 1), (long long)-p);
    sy_buf_reset(&b);
    sy_buf_int(&b, p - 1);
    sy_buf_putc(&b, ' ');
    sy_buf_int(&b, -p);
    T_EQ_STR(sy_buf_cstr(&b), want);
  }
  /* Fractions as written, and every number reads back bit for bit. */
  const double exact[] = {0.1, -0.25, 0.013, 1.5e-7, -0.000001, 1e-12, 123.456};
  const char *spelled[] = {"0.1",       "-0.25",          "0.013",  "0.00000015",
                           "-0.000001", "0.000000000001", "123.456"};
  for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
    sy_buf_reset(&b);
    sy_buf_json_num(&b, exact[i]);
    T_EQ_STR(sy_buf_cstr(&b), spelled[i]);
  }
  sy_rng rng;
  sy_rng_seed(&rng, 7);
  int mismatches = 0;
  for (int i = 0; i < 200000; i++) {
    uint64_t x = (uint64_t)sy_rng_next(&rng) << 32 | sy_rng_next(&rng);
    double v; /* any bits, a short decimal, or a sum like 0.1 + 0.2 */
    if (i % 3 == 0) {
      memcpy(&v, &x, sizeof v);
    } else if (i % 3 == 1) {
      v = ((double)(x % 20000001) - 10000000) / 1e6;
    } else {
      v = (double)(x % 100000) / 1e5 + (double)(x >> 40) / 1e3;
    }
    sy_buf_reset(&b);
    sy_buf_json_num(&b, v);
    char *end;
    double back = strtod(sy_buf_cstr(&b), &end);
    if (isfinite(v))
      mismatches += (memcmp(&back, &v, sizeof v) != 0 && !(v == 0 && back == 0)) || *end;
    else
      mismatches += strcmp(sy_buf_cstr(&b), "null") != 0;
  }
  T_EQ_INT(mismatches, 0);
  /* A long printf takes the slow path. */
  sy_buf_reset(&b);
  char big[600];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  sy_buf_printf(&b, "<%s>", big);
  T_EQ_INT(b.len, 601);
  sy_buf_free(&b);
  /* OOM is sticky and visible. */
  sy_buf_init(&b);
  sy_alloc_fail_at(1, 1);
  sy_buf_puts(&b, "hello");
  sy_alloc_fail_at(0, 0);
  T_CHECK(b.oom);
  T_EQ_STR(sy_buf_cstr(&b), "");
  sy_buf_free(&b);
}

/* |doc| through sy_buf_json_value parses back as the same values. */
static int writes_back(const char *doc) {
  cJSON *in = cJSON_Parse(doc);
  sy_buf b;
  sy_buf_init(&b);
  sy_buf_json_value(&b, in);
  cJSON *back = cJSON_ParseWithLength(b.data, b.len);
  int same = in && json_same(in, back) && !b.oom;
  if (!same) fprintf(stderr, "  wrote %s\n  for   %s\n", sy_buf_cstr(&b), doc);
  cJSON_Delete(in), cJSON_Delete(back);
  sy_buf_free(&b);
  return same;
}

/* sy_buf_json_chars and _str against the plain byte-at-a-time escaping, on strings
 * of every length up to 40 with escapes anywhere (the word steps' edges). */
static void test_json_chars(void) {
  static const char pool[] = {'a',        ' ',  '"', '\\', '\n',       '\r',       '\t',
                              1,          0x1f, '~', 0x7f, (char)0x80, (char)0xc3, (char)0xa9,
                              (char)0xff, '!',  '#', '[',  ']'};
  sy_rng rng;
  sy_rng_seed(&rng, 5);
  int bad = 0;
  for (int t = 0; t < 20000; t++) {
    char s[40], want[6 * 40 + 1];
    size_t n = sy_rng_next(&rng) % (sizeof s + 1), w = 0;
    uint32_t plain = sy_rng_next(&rng) % 4; /* mostly plain, or not at all */
    for (size_t i = 0; i < n; i++) {
      uint32_t x = sy_rng_next(&rng);
      s[i] = x % 4 < plain ? (char)('a' + x % 26) : pool[x / 4 % sizeof pool];
      unsigned char c = (unsigned char)s[i];
      const char *esc = c == '"'    ? "\\\""
                        : c == '\\' ? "\\\\"
                        : c == '\n' ? "\\n"
                        : c == '\r' ? "\\r"
                        : c == '\t' ? "\\t"
                                    : NULL;
      if (esc)
        w += (size_t)sprintf(want + w, "%s", esc);
      else if (c < 0x20)
        w += (size_t)sprintf(want + w, "\\u%04x", c);
      else
        want[w++] = (char)c;
    }
    want[w] = '\0';
    sy_buf b;
    sy_buf_init(&b);
    sy_buf_json_chars(&b, s, n);
    bad += b.len != w || memcmp(sy_buf_cstr(&b), want, w) != 0;
    /* A literal, into a buffer with room or one that must grow (t % 60
     * bytes before it cross the first 64 at every offset). */
    sy_buf_reset(&b);
    for (int i = 0; i < t % 60; i++)
      sy_buf_putc(&b, 'x');
    size_t before = b.len;
    sy_buf_json_str(&b, s, n);
    bad += b.len != before + w + 2 || b.data[before] != '"' ||
           memcmp(b.data + before + 1, want, w) != 0 || b.data[b.len - 1] != '"' ||
           b.data[b.len] != '\0';
    sy_buf_free(&b);
  }
  T_EQ_INT(bad, 0);
}

static void test_json_value(void) {
  cJSON *v = cJSON_Parse("{\"a\":[1,-0.5,true,false,null,\"x\\\"\\\\\\n\\b\\u0001\"],"
                         "\"k\\ty\":{},\"e\":[],\"n\":{\"m\":[[0.1]]}}");
  sy_buf b;
  sy_buf_init(&b);
  sy_buf_json_value(&b, v);
  T_EQ_STR(sy_buf_cstr(&b), "{\"a\":[1,-0.5,true,false,null,\"x\\\"\\\\\\n\\u0008\\u0001\"],"
                            "\"k\\ty\":{},\"e\":[],\"n\":{\"m\":[[0.1]]}}");
  cJSON_Delete(v);
  /* Items the parser never makes: no text, no JSON type. */
  cJSON *odd = cJSON_CreateArray();
  cJSON *s = cJSON_CreateString("x"), *raw = cJSON_CreateRaw("1"), *inf = cJSON_CreateNumber(0);
  sy_free(s->valuestring);
  s->valuestring = NULL;
  inf->valuedouble = INFINITY;
  cJSON_AddItemToArray(odd, s), cJSON_AddItemToArray(odd, raw), cJSON_AddItemToArray(odd, inf);
  sy_buf_reset(&b);
  sy_buf_json_value(&b, odd);
  T_EQ_STR(sy_buf_cstr(&b), "[\"\",null,null]");
  cJSON_Delete(odd);
  sy_buf_free(&b);
  /* Numbers bit for bit (-0 included, as cJSON prints it), strings byte for byte. */
  T_CHECK(writes_back("[0,-0,1e300,-1e300,1.7976931348623157e308,5e-324,2.2250738585072014e-308,"
                      "0.1,0.3,-123.456,9000.1,1e21,1e-7,9007199254740993,-9007199254740993,"
                      "12345678901234567890,18446744073709551616,4294967296,-2147483649]"));
  T_CHECK(writes_back(
      "{\"s\":\"\\u0000\",\"t\":\"\\u001f\\u007f\\f\\r\\t\\/ \xc3\xa9 \xf0\x9f\x98\x80\","
      "\"\\\"k\\\\\":\"\\ud83d\\ude00\"}"));
  T_CHECK(
      writes_back("[[[[{\"a\":[{\"b\":{\"c\":[true,false,null,[],{}]}}]}]]],\"\",{\"\":\"\"}]"));
  T_CHECK(writes_back("{\"dup\":1,\"dup\":2}"));
  /* Random doubles inside a document, any bits. */
  sy_rng rng;
  sy_rng_seed(&rng, 11);
  int bad = 0;
  for (int i = 0; i < 2000; i++) {
    uint64_t x = (uint64_t)sy_rng_next(&rng) << 32 | sy_rng_next(&rng);
    double d;
    memcpy(&d, &x, sizeof d);
    if (!isfinite(d)) continue;
    cJSON *arr = cJSON_CreateArray();
    cJSON_AddItemToArray(arr, cJSON_CreateNumber(d));
    sy_buf_init(&b);
    sy_buf_json_value(&b, arr);
    cJSON *back = cJSON_Parse(sy_buf_cstr(&b));
    double e = back && back->child ? back->child->valuedouble : NAN;
    bad += memcmp(&d, &e, sizeof d) != 0;
    cJSON_Delete(arr), cJSON_Delete(back);
    sy_buf_free(&b);
  }
  T_EQ_INT(bad, 0);
  /* Out of memory: the buffer says so and shows nothing. */
  v = cJSON_Parse("{\"a\":[1,2,{\"b\":\"c\"}]}");
  for (uint64_t n = 1; n <= 3; n++) {
    sy_buf_init(&b);
    sy_buf_puts(&b, "x");
    sy_alloc_fail_at(n, 1);
    for (int i = 0; i < 20; i++) /* beyond the first 64 bytes */
      sy_buf_json_value(&b, v);
    sy_alloc_fail_at(0, 0);
    T_CHECK(b.oom);
    T_EQ_STR(sy_buf_cstr(&b), "");
    sy_buf_free(&b);
  }
  cJSON_Delete(v);
}

static void test_rng(void) {
  sy_rng a, b;
  sy_rng_seed(&a, 7);
  sy_rng_seed(&b, 7);
  int same = 1;
  for (int i = 0; i < 100; i++)
    same &= sy_rng_next(&a) == sy_rng_next(&b);
  T_CHECK(same);
  sy_rng_seed(&b, 8);
  T_CHECK(sy_rng_next(&a) != sy_rng_next(&b));
  double lo = 1, hi = 0;
  for (int i = 0; i < 10000; i++) {
    double u = sy_rng_unit(&a);
    if (u < lo) lo = u;
    if (u > hi) hi = u;
  }
  T_CHECK(lo >= 0 && lo < 0.01 && hi < 1 && hi > 0.99);
}

/* Each of |n| texts is valid (|want| 1) or not, by sy_json_scan. */
static void json_verdicts(const char *const *texts, size_t n, int want) {
  for (size_t i = 0; i < n; i++) {
    int got = sy_json_scan(texts[i], strlen(texts[i]), NULL, 0, NULL);
    if (got != want) fprintf(stderr, "%s %s\n", want ? "rejected" : "accepted", texts[i]);
    T_EQ_INT(got, want);
  }
}

/* sy_json_scan against the grammar JSON.parse holds to: most cases here
 * are ones where cJSON (or a careless scanner) answers otherwise. */
static void test_json_scan(void) {
  static const char *const good[] = {
      "{}",
      "[]",
      " \t\r\n{ } \n",
      "0",
      "-0",
      "-0.5e+10",
      "1E-2",
      "12.25",
      "\"\"",
      "true",
      "null",
      "false",
      "\"\\u00e9\\ud800\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
      "[[[]],{\"a\":[{}]}]",
      "{\"a\":1,\"a\":2}",
      "\"caf\xc3\xa9\"",
      "123456789012345678901234567890123456789012345678901234567890123456789"};
  json_verdicts(good, sizeof good / sizeof *good, 1);
  static const char *const bad[] = {"",
                                    " ",
                                    "{\"choices\":[]} trailing",
                                    "{}{}",
                                    "{} x",
                                    "01",
                                    "-01",
                                    "1.",
                                    ".5",
                                    "+1",
                                    "-",
                                    "1e",
                                    "1e+",
                                    "0x10",
                                    "NaN",
                                    "Infinity",
                                    "tru",
                                    "nul",
                                    "[1,]",
                                    "{\"a\":1,}",
                                    "{,}",
                                    "[,1]",
                                    "{\"a\"}",
                                    "{\"a\" 1}",
                                    "{a:1}",
                                    "{\"a\":1 \"b\":2}",
                                    "[1 2]",
                                    "\"tab\there\"",
                                    "\"line\nbreak\"",
                                    "\"\\x\"",
                                    "\"\\u12\"",
                                    "\"\\u12g4\"",
                                    "\"open",
                                    "\"\\",
                                    "[",
                                    "{",
                                    "[}",
                                    "{]",
                                    "{\"a\":[1}",
                                    "'single'",
                                    "\xef\xbb\xbf{}"};
  json_verdicts(bad, sizeof bad / sizeof *bad, 0);
  /* cJSON's grammar beside it: laxer in most ways, stricter about surrogates. */
  static const char *const lax_only[] = {
      "01", "1.", "-.5", "\"a\tb\"", "\"\\uZZZZ\"", "\xef\xbb\xbf{ }", "\x01[\x02]\x1f"};
  for (size_t i = 0; i < sizeof lax_only / sizeof *lax_only; i++) {
    T_EQ_INT(sy_json_cjson_valid(lax_only[i], strlen(lax_only[i])), 1);
    T_EQ_INT(sy_json_scan(lax_only[i], strlen(lax_only[i]), NULL, 0, NULL), 0);
  }
  static const char *const strict_only[] = {"\"\\udc00\"", "\"\\ud800\"", "\"\\ud800x\""};
  for (size_t i = 0; i < sizeof strict_only / sizeof *strict_only; i++) {
    T_EQ_INT(sy_json_cjson_valid(strict_only[i], strlen(strict_only[i])), 0);
    T_EQ_INT(sy_json_scan(strict_only[i], strlen(strict_only[i]), NULL, 0, NULL), 1);
  }
  T_EQ_INT(sy_json_cjson_valid("{} x", 4), 0);
  T_EQ_INT(sy_json_cjson_valid("\"\\ud800\\udc00\"", 14), 1);
  /* A NUL inside: the length is the text's, not strlen's. */
  T_CHECK(!sy_json_scan("{}\0", 3, NULL, 0, NULL));
  T_CHECK(!sy_json_scan("\"a\0b\"", 5, NULL, 0, NULL));
  /* Depth: SY_JSON_MAX_DEPTH containers pass, one more does not. */
  char deep[2 * SY_JSON_MAX_DEPTH + 3];
  for (int extra = 0; extra <= 1; extra++) {
    size_t n = SY_JSON_MAX_DEPTH + (size_t)extra;
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    T_EQ_INT(sy_json_scan(deep, 2 * n, NULL, 0, NULL), !extra);
  }
  /* Members: the first of each name, escapes decoded, top level only. */
  const char *doc = "{\"x\":{\"usage\":1},\"us\\u0061ge\":{\"n\":[1,{}]},\"usage\":2,"
                    "\"choices\":\"s\\\"\",\"e\":[]}";
  const char *const keys[] = {"usage", "choices", "e", "missing"};
  sy_json_span sp[4];
  T_EQ_INT(sy_json_scan(doc, strlen(doc), keys, 4, sp), 1);
  T_EQ_INT(sp[0].type, SY_JSON_OBJECT);
  T_CHECK(sp[0].len == 12 && !memcmp(sp[0].at, "{\"n\":[1,{}]}", 12));
  T_EQ_INT(sp[1].type, SY_JSON_STRING);
  T_CHECK(sp[1].len == 5 && !memcmp(sp[1].at, "\"s\\\"\"", 5));
  T_EQ_INT(sp[2].type, SY_JSON_ARRAY);
  T_EQ_INT(sp[2].len, 2);
  T_EQ_INT(sp[3].type, SY_JSON_ABSENT);
  /* Not an object: no member is found, though the text is valid. */
  const char *arr = "[{\"usage\":1}]";
  T_EQ_INT(sy_json_scan(arr, strlen(arr), keys, 1, sp), 1);
  T_EQ_INT(sp[0].type, SY_JSON_ABSENT);
  /* A key that decodes past ASCII, or to a longer name, is not the key. */
  const char *near = "{\"usage\\u00e9\":1,\"usag\":2,\"usagee\":3}";
  T_EQ_INT(sy_json_scan(near, strlen(near), keys, 1, sp), 1);
  T_EQ_INT(sp[0].type, SY_JSON_ABSENT);
}

static void test_class_names(void) {
  for (int c = 0; c < SY_CLASS_COUNT; c++)
    T_EQ_INT(sy_class_from_name(sy_class_name(c)), c);
  T_EQ_INT(sy_class_from_name("nope"), -1);
  T_EQ_STR(sy_class_name(SY_CLASS_QUOTA), "quota_exhausted");
}

void suite_common(void) {
  test_heap_accounting();
  test_fail_injection();
  test_buf();
  test_json_chars();
  test_json_value();
  test_json_scan();
  test_rng();
  test_class_names();
}
