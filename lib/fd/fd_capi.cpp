// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/fd.h.
#include <fcntl.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/hot.h"
#include "core/syscall.h"
#include "fd/fd.h"
#include "trace/trace.h"

using fdk::fail;

extern "C" {

FDK_API int fdk_fd_adopt(fdk_fd **out, int raw, unsigned flags) {
  if (!out) return fail(-EINVAL, "fd_adopt: out is NULL");
  if (raw < 0) return fail(-EBADF, "fd_adopt: %d is not a descriptor", raw);
  if (flags & ~(FDK_FD_BLOCKING | FDK_FD_BORROW)) return fail(-EINVAL, "fd_adopt: unknown flags 0x%x", flags);
  // Without FDK_FD_BLOCKING the mode is read from the descriptor when first needed.
  if (!(flags & FDK_FD_BLOCKING)) flags |= fdk_fd::kModeUnread;
  fdk_fd *fd = fdk::fd_alloc(raw, static_cast<uint8_t>(flags));
  if (!fd) return fail(-ENOMEM, "fd_adopt: out of memory");
  *out = fd;
  return 0;
}

FDK_API int fdk_fd_raw(fdk_fd *fd) {
  if (!fd) return fail(-EINVAL, "fd_raw: fd is NULL");
  if (fdk::fd_is_closing(fd)) return fail(-EBADF, "fd_raw: the handle is closed");
  return fd->raw;
}

FDK_API int fdk_fd_use(fdk_fd *fd, int *raw) {
  if (!fd || !raw) return fail(-EINVAL, "fd_use: NULL argument");
  if (fdk::fd_use(fd, raw) < 0) return fail(-EBADF, "fd_use: the handle is closed");
  return 0;
}

FDK_API void fdk_fd_unuse(fdk_fd *fd) {
  if (fd) fdk::fd_unuse(fd);
}

FDK_API int fdk_fd_close(fdk_fd *fd) {
  if (!fd) return fail(-EINVAL, "fd_close: fd is NULL");
  return fdk::traced("close", fd->raw, nullptr, [&] { return fdk::fd_close(fd); });
}

FDK_API fdk_fd *fdk_fd_ref(fdk_fd *fd) { return fdk::fd_ref(fd); }

FDK_HOT FDK_API fdk_fd *fdk_fd_unref(fdk_fd *fd) { return fdk::fd_unref(fd); }

FDK_API int fdk_fd_release(fdk_fd *fd, int *raw) {
  if (!fd || !raw) return fail(-EINVAL, "fd_release: NULL argument");
  return fdk::guard("fd_release", [&] { return fdk::fd_release(fd, raw); });
}

FDK_API int fdk_fd_is_blocking(fdk_fd *fd) {
  if (!fd) return fail(-EINVAL, "fd_is_blocking: fd is NULL");
  if (fdk::fd_is_closing(fd))
    return fail(-EBADF, "fd_is_blocking: the handle is closed");
  int mode = fdk::fd_blocking_mode(fd);
  return mode < 0 ? fdk::fail_sys(mode, "fd_is_blocking") : mode;
}

FDK_API int fdk_pipe(fdk_fd **read_end, fdk_fd **write_end) {
  if (!read_end || !write_end) return fail(-EINVAL, "pipe: NULL argument");
  return fdk::traced("pipe", -1, nullptr, [&] {
    int fds[2];
    // Made here, not in the C library's wrapper, whose return would follow the call (core/hot.h).
    if (int r = fdk::hot_pipe2(fds, O_CLOEXEC | O_NONBLOCK); r < 0) return fdk::fail_sys(r, "pipe2");
    fdk_fd *r, *w;
    if (int e = fdk::fd_wrap(&r, fds[0], false, fdk::kPipeKind); e < 0) {
      close(fds[1]);
      return e;
    }
    if (int e = fdk::fd_wrap(&w, fds[1], false, fdk::kPipeKind); e < 0) {
      fdk::fd_unref(r);
      return e;
    }
    *read_end = r;
    *write_end = w;
    return 0;
  });
}

}  // extern "C"
