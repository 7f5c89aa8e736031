/* wasm_libc.c: a smaller stand-in for one libc function, in the .wasm
 * modules only (CMakeLists.txt); native builds keep libc's.
 *
 * cJSON's print_number checks its "%1.15g" round trip with
 * sscanf(buffer, "%lg", &d): the core's only sscanf. libc's brings the
 * whole scanf engine, about 4.6 kB of the module; this one does just that
 * conversion, with the strtod the core links anyway. Any other format
 * converts nothing: the native build, with libc's sscanf, runs the same
 * calls under the tests, and the spec cases compare both builds. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sscanf(const char *restrict s, const char *restrict format, ...) {
  if (strcmp(format, "%lg") != 0) return 0;
  char *end;
  double d = strtod(s, &end);
  if (end == s) return 0;
  va_list ap;
  va_start(ap, format);
  *va_arg(ap, double *) = d;
  va_end(ap);
  return 1;
}
