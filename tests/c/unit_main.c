/* The native unit-test runner: every suite, then one closing line in the
 * plain "N passed, N failed" form CI reads. */
#include <stdio.h>

#include "cJSON.h"
#include "sy.h"
#include "t.h"

int t_checks, t_failures;

static void *hook_malloc(size_t n) { return sy_malloc(n); }

static const struct {
  const char *name;
  void (*run)(void);
} suites[] = {
    {"common", suite_common},   {"config", suite_config}, {"providers", suite_providers},
    {"policy", suite_policy},   {"health", suite_health}, {"select", suite_select},
    {"request", suite_request}, {"strtod", suite_strtod},
};

int main(void) {
  cJSON_Hooks hooks = {hook_malloc, sy_free};
  cJSON_InitHooks(&hooks);
  int failed_suites = 0;
  for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
    int before = t_failures, checks = t_checks;
    suites[i].run();
    printf("suite %-10s %5d checks %s\n", suites[i].name, t_checks - checks,
           t_failures == before ? "ok" : "FAILED");
    if (t_failures != before) failed_suites++;
  }
  printf("%d passed, %d failed\n", t_checks - t_failures, t_failures);
  return failed_suites ? 1 : 0;
}
