/* unit_strtod.c: sy_strtod (src/wasm_libc.c, the wasm builds' strtod)
 * against glibc's strtod, bit for bit and end pointer for end pointer: the
 * hard cases, random doubles printed as the core and JSON print them,
 * random digit strings, long inputs at and beside the halfway points
 * between doubles, and where parsing stops. Each comparison is one check;
 * the first few failures are shown with their input. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sy.h"
#include "t.h"

/* src/wasm_libc.c; no header, as only the wasm strtod and this test call it. */
double sy_strtod(const char *s, char **end);

static int shown;

static void same(const char *s) {
  char *ea, *eb;
  double a = sy_strtod(s, &ea), b = strtod(s, &eb);
  t_checks++;
  if (memcmp(&a, &b, sizeof a) != 0 || ea != eb) {
    t_failures++;
    if (shown++ < 20)
      fprintf(stderr, "%s: \"%.80s\"%s: sy_strtod %a (end +%td), strtod %a (end +%td)\n", __FILE__,
              s, strlen(s) > 80 ? "..." : "", a, ea - s, b, eb - s);
  }
}

static uint64_t rng64(sy_rng *r) {
  uint64_t hi = sy_rng_next(r);
  return hi << 32 | sy_rng_next(r);
}

static double from_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, sizeof d);
  return d;
}

static void test_hard_cases(void) {
  /* (The exact halfway points, such as 2^-1075 and 2^1024 - 2^970, are in
   * test_halfways.) */
  static const char *const cases[] = {
      "0",
      "-0",
      "0.0e0",
      "00000",
      "1",
      "-1",
      "0.1",
      "0.5",
      "1e23",
      "1e22",
      "1e-22",
      "8.98846567431158e307",
      "9007199254740992",
      "9007199254740993",
      "9007199254740994",
      "9007199254740995",
      "9007199254740993.0000000000000000000000001",
      "18014398509481985",
      "123456789012345678901234567890",
      "2.2250738585072011e-308",
      "2.2250738585072012e-308",
      "2.2250738585072014e-308",
      "2.225073858507201136057409796709131975934819546351645648e-308",
      "4.9406564584124654e-324",
      "2.4703282292062327e-324",
      "2.4703282292062328e-324",
      "3e-324",
      "5e-324",
      "1e-324",
      "7e-324",
      "1e-400",
      "-1e-400",
      "1.7976931348623157e308",
      "1.7976931348623158e308",
      "1.7976931348623159e308",
      "-1.7976931348623159e308",
      "1e308",
      "1e309",
      "1e400",
      "1e99999999999999999999",
      "1e-99999999999999999999",
      "0e999999999999",
      "0.000000000000000000000000000000000000000000000000000000000000001e63",
      "4503599627370496.5",
      "4503599627370497.5",
      "1.00000000000000011102230246251565404236316680908203125",
      "1.00000000000000011102230246251565404236316680908203124",
      "1.00000000000000011102230246251565404236316680908203125000000000000000000001",
      "7.2057594037927933e16",
      "3.0517578125e-5",
      "5e-20",
      "1448997445238699",
      "2.00000000000000011e0",
      "6.6260701500000000000000000000000000000001e-34",
      "-2.5E+3",
      "+12.5e-1",
      "1.e5",
      ".5",
      "5.",
      "-.5e1"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    same(cases[i]);
  /* Far more digits than the 768 kept: zeros that move the point, and a
   * last digit that decides (1 + 2^-53 is the halfway point above 1). */
  static char big[12000];
  memset(big, '0', 10001);
  big[0] = '1';
  strcpy(big + 10001, "e-10000");
  same(big); /* 1 */
  memcpy(big, "0.", 2);
  memset(big + 2, '0', 10000);
  strcpy(big + 10002, "1e10001");
  same(big); /* 1 */
  strcpy(big, "1.00000000000000011102230246251565404236316680908203125");
  size_t n = strlen(big);
  memset(big + n, '0', 9000);
  strcpy(big + n + 9000, "1");
  same(big); /* just above the halfway point: rounds up */
  big[n + 9000] = '\0';
  same(big); /* the halfway point: to even, down */
}

static void test_ends(void) {
  static const char *const cases[] = {
      "12abc",        "-", "+",   ".",   "-.",    "1e",  "1e+", "1e-",  "1E5x",  " 3.5",
      "\t\n\v\f\r 7", "",  "abc", "e5",  "1.2.3", "--1", "+-1", "1..2", "1e+-5", "0x",
      "1ee5",         " ", "-e1", "5.e", "12 34",
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    same(cases[i]);
  /* Not read (glibc does): infinities, NaNs, hex. */
  char *end;
  const char *inf = "inf", *hex = "0x10";
  T_EQ_DBL(sy_strtod(inf, &end), 0);
  T_CHECK(end == inf);
  T_EQ_DBL(sy_strtod("-nan", &end), 0);
  T_EQ_DBL(sy_strtod(hex, &end), 0);
  T_CHECK(end == hex + 1);
  T_EQ_DBL(sy_strtod("2.5", NULL), 2.5);
}

/* Random bit patterns, finite; one in four in the subnormal and lowest
 * normal binades or the highest, where the rounding and the exponent's
 * edges are. Each printed as cJSON prints (%.15g, then %.17g), and as
 * %.16g and %.6e. */
static void test_random_doubles(sy_rng *r, int count) {
  static const char *const formats[] = {"%.17g", "%.16g", "%.15g", "%.6e"};
  char buf[64];
  for (int i = 0; i < count; i++) {
    uint64_t u = rng64(r);
    uint64_t sign = u & 1ull << 63, exp = u >> 52 & 0x7ff, mant = u & ((1ull << 52) - 1);
    if (i % 8 == 0)
      exp = sy_rng_next(r) % 3;
    else if (i % 8 == 1)
      exp = 2043 + sy_rng_next(r) % 4;
    if (exp == 0x7ff) exp = 0x7fe;
    double d = from_bits(sign | exp << 52 | mant);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
      snprintf(buf, sizeof buf, formats[f], d);
      same(buf);
    }
  }
}

/* Random strings: a sign or not, 1 to 40 digits with a point somewhere or
 * nowhere, an exponent from -350 to 350 or none. */
static void test_random_digits(sy_rng *r, int count) {
  char buf[80];
  for (int i = 0; i < count; i++) {
    char *p = buf;
    uint32_t k = sy_rng_next(r);
    if (k % 4 == 0) *p++ = k % 8 ? '-' : '+';
    int nd = 1 + (int)(sy_rng_next(r) % 40), point = (int)(sy_rng_next(r) % 48);
    for (int j = 0; j < nd; j++) {
      if (j == point) *p++ = '.';
      *p++ = (char)('0' + sy_rng_next(r) % 10);
    }
    if (k % 16 != 1)
      sprintf(p, "e%d", (int)(sy_rng_next(r) % 701) - 350);
    else
      *p = '\0';
    same(buf);
  }
}

/* The exact halfway point above the double with bits u (< infinity's), as
 * decimal (long double, 64 or 113 bits of mantissa, holds it exactly and
 * glibc prints it exactly), and
 * beside it: the last nonzero digit one lower or higher, a 1 far past the
 * 768 digits sy_strtod keeps; then cut to 500 significant digits. */
static void test_halfway(uint64_t u) {
  static char buf[3000];
  int be = (int)(u >> 52);
  uint64_t m = (u & ((1ull << 52) - 1)) | (uint64_t)(be != 0) << 52;
  long double h = ldexpl((long double)(2 * m + 1), (be ? be : 1) - 1076);
  /* d.ddd...e+XX: 801 significant digits, zeros past the exact ones. */
  snprintf(buf, sizeof buf, "%.800Le", h);
  char *e = strchr(buf, 'e'), *last = e - 1;
  while (*last == '0' || *last == '.')
    last--;
  same(buf);
  (*last)--;
  same(buf);
  (*last)++;
  if (*last < '9') {
    (*last)++;
    same(buf);
    (*last)--;
  }
  char exp[8];
  strcpy(exp, e);
  memset(e, '0', 1200);
  e[1000] = '1';
  strcpy(e + 1200, exp);
  same(buf);
  /* 500 significant digits, rounded by printf, then one lower and higher. */
  snprintf(buf, sizeof buf, "%.499Le", h);
  same(buf);
  last = strchr(buf, 'e') - 1;
  if (*last > '0') {
    (*last)--;
    same(buf);
    (*last)++;
  }
  if (*last < '9') {
    (*last)++;
    same(buf);
  }
  /* Positional rather than with an exponent, for the smallest. */
  if (be < 4) {
    snprintf(buf, sizeof buf, "%.1100Lf", h);
    same(buf);
  }
}

/* The edges (0, subnormals, the lowest normal binade with the longest
 * halfway points, powers of two, the largest doubles), then random ones,
 * a quarter of them subnormal or in the lowest binade. */
static void test_halfways(sy_rng *r, int count) {
  static const uint64_t edges[] = {
      0,
      1,
      2,
      3,
      (1ull << 52) - 1,
      1ull << 52,
      (1ull << 52) + 1,
      (2ull << 52) - 1,
      2ull << 52,
      0x3fefffffffffffff,
      0x3ff0000000000000,
      0x433fffffffffffff,
      0x4340000000000000,
      0x7fe0000000000000,
      0x7feffffffffffffe,
      0x7fefffffffffffff,
  };
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
    test_halfway(edges[i]);
  for (int i = 0; i < count; i++) {
    uint64_t u = rng64(r) >> 1;
    if (i % 4 == 0) u &= (2ull << 52) - 1;
    if (u >= 0x7ffull << 52) u -= 1ull << 62;
    test_halfway(u);
  }
}

void suite_strtod(void) {
  sy_rng r;
  sy_rng_seed(&r, 20240601);
  test_hard_cases();
  test_ends();
  test_random_doubles(&r, 200000);
  test_random_digits(&r, 100000);
  test_halfways(&r, 1000);
}
