/* wasi_stubs.c: wasi-libc's stdio refers to stderr for float formatting
 * warnings, which would make the module import fd_write, fd_seek and
 * fd_close. The core writes nothing to files, so these stubs keep every
 * import in module sy_host. Built into the clang-wasi module only. */
#include <wasi/api.h>

__wasi_errno_t __wasi_fd_write(__wasi_fd_t fd, const __wasi_ciovec_t *iovs, size_t iovs_len,
                               __wasi_size_t *nwritten) {
  __wasi_size_t n = 0;
  (void)fd;
  for (size_t i = 0; i < iovs_len; i++)
    n += iovs[i].buf_len;
  *nwritten = n; /* accepted and dropped */
  return 0;
}

__wasi_errno_t __wasi_fd_seek(__wasi_fd_t fd, __wasi_filedelta_t offset, __wasi_whence_t whence,
                              __wasi_filesize_t *newoffset) {
  (void)fd, (void)offset, (void)whence, (void)newoffset;
  return __WASI_ERRNO_SPIPE;
}

__wasi_errno_t __wasi_fd_close(__wasi_fd_t fd) {
  (void)fd;
  return 0;
}
