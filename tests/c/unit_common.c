/* unit_common.c: the allocator's accounting and failure injection, sy_buf,
 * JSON escaping, the PRNG. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
  T_EQ_STR(sy_buf_cstr(&b), "42 0.5 null");
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
    if (v == v && v <= 1e300 && v >= -1e300)
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
  test_rng();
  test_class_names();
}
