/* wasm_libc.c: smaller stand-ins for two libc functions, in the .wasm
 * modules only (the __wasm__ guard below: Emscripten and wasm32-wasi both
 * define it); native builds keep libc's, and sy_unit tests sy_strtod against
 * glibc's strtod (tests/c/unit_strtod.c).
 *
 * strtod: musl's reads into 128-bit long doubles, which wasm does in
 * software (__multf3, __divtf3, __addtf3, fmodl, scalbnl...): about 13 kB
 * of the Emscripten module, for the core's only floating-point parsing
 * (cJSON's numbers, config and header values). sy_strtod is correctly
 * rounded (round-half-even) in 1.4 kB (1.6 kB with clang-14): Clinger's
 * fast path when the digits and the power of ten are exact doubles,
 * otherwise a double approximation corrected one ulp at a time by exact
 * big-integer comparison with the halfway points between neighbouring
 * doubles (Clinger's AlgorithmR). That costs about 1 us natively for 17
 * digits and a large exponent (glibc: 0.2 us); JSON's short numbers take
 * the fast path.
 *
 * sscanf: cJSON's print_number checks its "%1.15g" round trip with
 * sscanf(buffer, "%lg", &d): the core's only sscanf. libc's brings the
 * whole scanf engine, about 4.6 kB of the module; this one does just that
 * conversion. Any other format converts nothing: the native build, with
 * libc's sscanf, runs the same calls under the tests, and the spec cases
 * compare both builds. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Digits kept exactly. A halfway point between two doubles has at most 768
 * significant digits (the longest are in the smallest normal binade:
 * (2^54-1) * 2^-1075), so the first 768 digits of the input and whether any
 * later one is nonzero (a 769th digit 1 stands for them) compare with every
 * halfway point as the whole input would. */
#define SY_DIGITS 768
/* Limbs of the comparison's integers, the larger being at most 769 digits
 * (2555 bits) or 2^54 * 5^1092 (2590 bits: 769 digits, and the least
 * exponent, -323 - 769, whose value is not simply 0), with room to spare
 * for an approximation a few ulps off. */
#define SY_LIMBS 84

typedef struct {
  int n; /* limbs in use; the top one is nonzero */
  uint32_t d[SY_LIMBS];
} big;

/* x = x * m + add. */
static void big_mul(big *x, uint32_t m, uint32_t add) {
  uint64_t c = add;
  uint32_t *d = x->d, *top = d + x->n;
  for (; d < top; d++) {
    c += (uint64_t)*d * m;
    *d = (uint32_t)c;
    c >>= 32;
  }
  if (c && x->n < SY_LIMBS) x->d[x->n++] = (uint32_t)c; /* the bound above: never full */
}

/* x = x * b^k, b 2 or 5: 31 or 13 factors a step (2^31, 5^13 < 2^32). */
static void big_pow(big *x, uint32_t b, int k) {
  for (int step = b == 2 ? 31 : 13; k > 0; k -= step) {
    uint32_t m = 1;
    for (int i = k < step ? k : step; i > 0; i--)
      m *= b;
    big_mul(x, m, 0);
  }
}

/* The sign of v - h, where v = D * 10^e (D: the nd digits from p, '.'
 * skipped, then a 1 if sticky) and h is the halfway point between the
 * double with bits u and the next one up. */
static int cmp_half(const char *p, int nd, int sticky, int e, uint64_t u) {
  big a, b;
  a.n = 0;
  for (int i = 0; i < nd; p++)
    if (*p != '.') {
      big_mul(&a, 10, (uint32_t)(*p - '0'));
      i++;
    }
  if (sticky) big_mul(&a, 10, 1);
  /* u = m * 2^(k+1), so h = (2m+1) * 2^k. */
  int be = (int)(u >> 52);
  uint64_t h = 2 * ((u & ((1ull << 52) - 1)) | (uint64_t)(be != 0) << 52) + 1;
  int k = (be ? be : 1) - 1076;
  b.d[0] = (uint32_t)h;
  b.d[1] = (uint32_t)(h >> 32);
  b.n = b.d[1] ? 2 : 1;
  /* Integers on both sides: 5^|e| to one, 2^|e-k| to one. */
  big_pow(e < 0 ? &b : &a, 5, e < 0 ? -e : e);
  big_pow(e > k ? &a : &b, 2, e > k ? e - k : k - e);
  if (a.n != b.n) return a.n > b.n ? 1 : -1;
  for (int i = a.n; i-- > 0;)
    if (a.d[i] != b.d[i]) return a.d[i] > b.d[i] ? 1 : -1;
  return 0;
}

/* strtod for what JSON and the core write: leading white space, a sign,
 * digits with an optional '.', an optional exponent. No inf, nan or hex:
 * "inf" converts nothing (0, *end = s) and "0x10" reads as 0, ending at
 * the x. errno is left alone, ERANGE or not: no caller reads it, and it
 * would cost 50 bytes. The counts are ints: inputs under 1 GB. */
double sy_strtod(const char *s, char **end) {
  const char *p = s, *first = s;
  while (*p == ' ' || (unsigned)(*p - '\t') < 5)
    p++;
  int neg = *p == '-';
  if (*p == '+' || *p == '-') p++;
  /* n significant digits (from the first nonzero one) make the integer D,
   * the value is D * 10^e; w holds the first 19, sticky whether any digit
   * after the first SY_DIGITS is nonzero. */
  uint64_t w = 0;
  int n = 0, e = 0, digits = 0, dot = 0, sticky = 0;
  for (;; p++) {
    unsigned d = (unsigned)(*p - '0');
    if (*p == '.' && !dot) {
      dot = 1;
      continue;
    }
    if (d > 9) break;
    digits++;
    e -= dot;
    if (n || d) {
      if (!n) first = p;
      if (n < 19) w = 10 * w + d;
      sticky |= n >= SY_DIGITS && d;
      n++;
    }
  }
  if (!digits) {
    if (end) *end = (char *)s;
    return 0;
  }
  if ((*p | 32) == 'e') {
    const char *q = p + 1 + (p[1] == '+' || p[1] == '-'), *q0 = q;
    int x = 0;
    for (; (unsigned)(*q - '0') <= 9; q++)
      if (x < 100000000) x = 10 * x + (*q - '0'); /* far past any finite, nonzero result */
    if (q > q0) {
      e += p[1] == '-' ? -x : x;
      p = q;
    }
  }
  if (end) *end = (char *)p;

  /* The value lies in [10^(n+e-1), 10^(n+e)): from 1e309 it is infinity,
   * below 1e-324 (under half the least subnormal, 4.9e-324) it is 0. These
   * bound the exponents, and so the integers, of the comparisons below. */
  double z = 0;
  if (n && n + e > 309)
    z = HUGE_VAL;
  else if (n && n + e >= -323) {
    /* w * 10^r, in steps of exact powers of ten: within a few ulps, and
     * correctly rounded (Clinger) when it is the one exact step. */
    int nw = n < 19 ? n : 19, r = n + e - nw;
    int exact = n <= 19 && w <= 1ull << 53 && r >= -22 && r <= 22;
    z = (double)w;
    while (r) {
      int c = r > 22 ? 22 : r < -22 ? -22 : r;
      double t = 1;
      for (int i = c < 0 ? -c : c; i > 0; i--)
        t *= 10; /* 10^|c|, exact */
      z = c > 0 ? z * t : z / t;
      r -= c;
    }
    if (!exact) {
      /* Step to the double whose rounding interval holds the value,
       * ties to the even one; infinity (bits 0x7ff << 52) is the step above
       * the largest double. Once moving up (dir 1) the halfway point below
       * is known to be passed, and down likewise: a correct approximation
       * costs two comparisons, each step one more. */
      int nd = n < SY_DIGITS ? n : SY_DIGITS, ed = e + n - nd - sticky, dir = 0, c;
      uint64_t u;
      memcpy(&u, &z, sizeof u);
      for (;;) {
        if (dir >= 0 && u < 0x7ffull << 52 &&
            ((c = cmp_half(first, nd, sticky, ed, u)) > 0 || (c == 0 && (u & 1))))
          u++, dir = 1;
        else if (dir <= 0 && u > 0 &&
                 ((c = cmp_half(first, nd, sticky, ed, u - 1)) < 0 || (c == 0 && (u & 1))))
          u--, dir = -1;
        else
          break;
      }
      memcpy(&z, &u, sizeof z);
    }
  }
  return neg ? -z : z;
}

#ifdef __wasm__
double strtod(const char *restrict s, char **restrict end) { return sy_strtod(s, end); }

int sscanf(const char *restrict s, const char *restrict format, ...) {
  if (strcmp(format, "%lg") != 0) return 0;
  char *end;
  double d = sy_strtod(s, &end);
  if (end == s) return 0;
  va_list ap;
  va_start(ap, format);
  *va_arg(ap, double *) = d;
  va_end(ap);
  return 1;
}
#endif
