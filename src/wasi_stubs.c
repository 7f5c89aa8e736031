/* wasi_stubs.c: keeps the clang/wasi-libc module free of WASI imports.
 * Built into that module only (CMakeLists.txt), never natively or by emcc.
 *
 * wasi-libc's stdio refers to stderr for the long-double warnings of its
 * float formatting and parsing (which cJSON's numbers pull in), and stderr's
 * FILE refers to the fd_write, fd_seek and fd_close system calls. The core
 * writes to no file, so those calls are answered here and the module imports
 * nothing but sy_host.
 *
 * The stubs stand in for wasi-libc's own import declarations (its
 * __imported_wasi_snapshot_preview1_<call> thunks in __wasilibc_real.o): a
 * definition in the link satisfies the reference, so no import is emitted.
 * Stubbing at that level, rather than redefining the public __wasi_fd_write
 * and friends, keeps the link working when some other libc call (time(),
 * say) pulls __wasilibc_real.o in: that call then shows up as a WASI import,
 * which cmake/check-module.mjs reports by name, instead of failing the link
 * with duplicate symbols. (The core must take time from sy_host.now_ms.) */
#include <stdint.h>

#define WASI_ERRNO_SPIPE 70

int32_t __imported_wasi_snapshot_preview1_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len,
                                                   int32_t nwritten);
int32_t __imported_wasi_snapshot_preview1_fd_seek(int32_t fd, int64_t offset, int32_t whence,
                                                  int32_t newoffset);
int32_t __imported_wasi_snapshot_preview1_fd_close(int32_t fd);

/* Accepts and drops the bytes, so stdio sees a completed write. */
int32_t __imported_wasi_snapshot_preview1_fd_write(int32_t fd, int32_t iovs, int32_t iovs_len,
                                                   int32_t nwritten) {
  typedef struct {
    uint32_t buf, len;
  } ciovec; /* __wasi_ciovec_t on wasm32 */
  const ciovec *v = (const ciovec *)(uintptr_t)iovs;
  uint32_t n = 0;
  (void)fd;
  for (int32_t i = 0; i < iovs_len; i++)
    n += v[i].len;
  *(uint32_t *)(uintptr_t)nwritten = n;
  return 0;
}

int32_t __imported_wasi_snapshot_preview1_fd_seek(int32_t fd, int64_t offset, int32_t whence,
                                                  int32_t newoffset) {
  (void)fd, (void)offset, (void)whence, (void)newoffset;
  return WASI_ERRNO_SPIPE;
}

int32_t __imported_wasi_snapshot_preview1_fd_close(int32_t fd) {
  (void)fd;
  return 0;
}
