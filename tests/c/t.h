/* t.h: the native unit tests' few macros. A failed check prints its place
 * and counts; the suite goes on so one run shows every failure. */
#ifndef SY_T_H
#define SY_T_H

#include <stdio.h>
#include <string.h>

extern int t_checks, t_failures;

#define T_CHECK(cond)                                                                              \
  do {                                                                                             \
    t_checks++;                                                                                    \
    if (!(cond)) {                                                                                 \
      t_failures++;                                                                                \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                     \
    }                                                                                              \
  } while (0)

#define T_EQ_INT(a, b)                                                                             \
  do {                                                                                             \
    long long t_a = (long long)(a), t_b = (long long)(b);                                          \
    t_checks++;                                                                                    \
    if (t_a != t_b) {                                                                              \
      t_failures++;                                                                                \
      fprintf(stderr, "%s:%d: %s == %s: %lld != %lld\n", __FILE__, __LINE__, #a, #b, t_a, t_b);    \
    }                                                                                              \
  } while (0)

#define T_EQ_DBL(a, b)                                                                             \
  do {                                                                                             \
    double t_a = (double)(a), t_b = (double)(b);                                                   \
    t_checks++;                                                                                    \
    if (!(t_a - t_b < 1e-9 && t_b - t_a < 1e-9)) {                                                 \
      t_failures++;                                                                                \
      fprintf(stderr, "%s:%d: %s == %s: %.17g != %.17g\n", __FILE__, __LINE__, #a, #b, t_a, t_b);  \
    }                                                                                              \
  } while (0)

#define T_EQ_STR(a, b)                                                                             \
  do {                                                                                             \
    const char *t_a = (a), *t_b = (b);                                                             \
    t_checks++;                                                                                    \
    if (!t_a || !t_b || strcmp(t_a, t_b) != 0) {                                                   \
      t_failures++;                                                                                \
      fprintf(stderr, "%s:%d: %s == %s:\n  got:  %s\n  want: %s\n", __FILE__, __LINE__, #a, #b,    \
              t_a ? t_a : "(null)", t_b ? t_b : "(null)");                                         \
    }                                                                                              \
  } while (0)

/* |hay| contains |needle|. */
#define T_CONTAINS(hay, needle)                                                                    \
  do {                                                                                             \
    const char *t_h = (hay), *t_n = (needle);                                                      \
    t_checks++;                                                                                    \
    if (!t_h || !strstr(t_h, t_n)) {                                                               \
      t_failures++;                                                                                \
      fprintf(stderr, "%s:%d: %s does not contain \"%s\":\n  %s\n", __FILE__, __LINE__, #hay, t_n, \
              t_h ? t_h : "(null)");                                                               \
    }                                                                                              \
  } while (0)

/* One suite per core module, each in tests/c/unit_<module>.c. */
void suite_common(void);
void suite_config(void);
void suite_providers(void);
void suite_policy(void);
void suite_health(void);
void suite_select(void);
void suite_request(void);
void suite_strtod(void);

#endif
