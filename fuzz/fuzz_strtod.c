/* fuzz_strtod.c: sy_strtod (src/wasm_libc.c, the wasm builds' strtod) on
 * any bytes gives glibc's strtod's answer bit for bit, and stops where it
 * stops. The forms sy_strtod leaves out by design (inf, nan, hex) are
 * skipped: glibc reads them, sy_strtod converts nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

double sy_strtod(const char *s, char **end);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char s[4096];
  if (size >= sizeof s) size = sizeof s - 1;
  memcpy(s, data, size);
  s[size] = '\0';
  char *eb;
  double b = strtod(s, &eb);
  for (const char *p = s; p < eb; p++)
    if (strchr("iInNxX", *p)) return 0;
  char *ea;
  double a = sy_strtod(s, &ea);
  if (memcmp(&a, &b, sizeof a) != 0 || ea != eb) __builtin_trap();
  return 0;
}
