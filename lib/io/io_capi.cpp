// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/io.h.
#include <limits.h>

#include "core/guard.h"
#include "loop/async_entry.h"
#include "trace/trace.h"
#include "fd/fd.h"
#include "io/ops.h"

using fdk::check_fd;
using fdk::fail;
using fdk::guard;
using fdk::guard_async;

namespace {

int check_buf(const char *what, const fdk_fd *fd, const void *buf, size_t len) {
  if (int r = check_fd(what, fd)) return r;
  if (!buf && len) return fail(-EINVAL, "%s: buf is NULL", what);
  if (len > SSIZE_MAX) return fail(-EINVAL, "%s: length %zu is too large", what, len);
  return 0;
}

int check_iov(const char *what, const fdk_fd *fd, const iovec *iov, int iovcnt) {
  if (int r = check_fd(what, fd)) return r;
  if (iovcnt <= 0 || iovcnt > IOV_MAX || !iov) return fail(-EINVAL, "%s: bad iovec count %d", what, iovcnt);
  return 0;
}

int check_offset(const char *what, int64_t offset) {
  return offset >= 0 ? 0 : fail(-EINVAL, "%s: negative offset", what);
}

int check_whence(int whence) {
  return whence >= FDK_SEEK_SET && whence <= FDK_SEEK_END ? 0 : fail(-EINVAL, "lseek: unknown whence %d", whence);
}

int check_flags(const char *what, unsigned flags, unsigned known) {
  return flags & ~known ? fail(-EINVAL, "%s: unknown flags 0x%x", what, flags) : 0;
}

// fdk_read_async's checks one by one, for the detail of the first that fails, once their
// test together did; the read when none fails. A read re-armed from its callback, the
// loop's hot path, then makes no call before the body's, and needs no frame.
[[gnu::cold, gnu::noinline]] int read_after_checks(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb,
                                                   void *data, fdk_op **op) {
  if (int r = check_buf("read", fd, buf, len)) return r;
  if (int r = fdk::check_async("read", loop, cb)) return r;
  return fdk::read_async(loop, fd, buf, len, cb, data, op);
}

}  // namespace

extern "C" {

FDK_API ssize_t fdk_read(fdk_fd *fd, void *buf, size_t len) {
  if (int r = check_buf("read", fd, buf, len)) return r;
  return guard("read", [&] { return fdk::read(fd, buf, len); });
}

FDK_API ssize_t fdk_write(fdk_fd *fd, const void *buf, size_t len) {
  if (int r = check_buf("write", fd, buf, len)) return r;
  return guard("write", [&] { return fdk::write(fd, buf, len); });
}

FDK_API ssize_t fdk_readv(fdk_fd *fd, const struct iovec *iov, int iovcnt) {
  if (int r = check_iov("readv", fd, iov, iovcnt)) return r;
  return guard("readv", [&] { return fdk::readv(fd, iov, iovcnt); });
}

FDK_API ssize_t fdk_writev(fdk_fd *fd, const struct iovec *iov, int iovcnt) {
  if (int r = check_iov("writev", fd, iov, iovcnt)) return r;
  return guard("writev", [&] { return fdk::writev(fd, iov, iovcnt); });
}

FDK_API ssize_t fdk_preadv(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset) {
  if (int r = check_iov("preadv", fd, iov, iovcnt)) return r;
  if (int r = check_offset("preadv", offset)) return r;
  return guard("preadv", [&] { return fdk::preadv(fd, iov, iovcnt, offset); });
}

FDK_API ssize_t fdk_pwritev(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset) {
  if (int r = check_iov("pwritev", fd, iov, iovcnt)) return r;
  if (int r = check_offset("pwritev", offset)) return r;
  return guard("pwritev", [&] { return fdk::pwritev(fd, iov, iovcnt, offset); });
}

FDK_API int64_t fdk_lseek(fdk_fd *fd, int64_t offset, int whence) {
  if (int r = check_fd("lseek", fd)) return r;
  if (int r = check_whence(whence)) return r;
  return guard("lseek", [&] { return fdk::lseek(fd, offset, whence); });
}

FDK_API int fdk_fsync(fdk_fd *fd, unsigned flags) {
  if (int r = check_fd("fsync", fd)) return r;
  if (int r = check_flags("fsync", flags, FDK_FSYNC_DATA)) return r;
  return guard("fsync", [&] { return fdk::fsync(fd, flags); });
}

FDK_API int fdk_ftruncate(fdk_fd *fd, int64_t length) {
  if (int r = check_fd("ftruncate", fd)) return r;
  if (length < 0) return fail(-EINVAL, "ftruncate: negative length");
  return guard("ftruncate", [&] { return fdk::ftruncate(fd, length); });
}

FDK_API ssize_t fdk_getrandom(void *buf, size_t len, unsigned flags) {
  if (!buf && len) return fail(-EINVAL, "getrandom: buf is NULL");
  if (int r = check_flags("getrandom", flags, FDK_RANDOM_NONBLOCK)) return r;
  return fdk::traced("getrandom", -1, nullptr, [&] { return fdk::getrandom(buf, len, flags); });
}

FDK_API int fdk_read_async(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb, void *data,
                           fdk_op **op) {
  if (__builtin_expect(!fd || (!buf && len) || len > SSIZE_MAX || !loop || !cb || fdk::loop_forked(loop), 0))
    return read_after_checks(loop, fd, buf, len, cb, data, op);
  return fdk::read_async(loop, fd, buf, len, cb, data, op);  // guarded inside (ops.h)
}

FDK_API int fdk_write_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb, void *data,
                            fdk_op **op) {
  if (int r = check_buf("write", fd, buf, len)) return r;
  return guard_async("write", loop, cb, [&] { return fdk::write_async(loop, fd, buf, len, cb, data, op); });
}

FDK_API int fdk_readv_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, fdk_result_cb cb,
                            void *data, fdk_op **op) {
  if (int r = check_iov("readv", fd, iov, iovcnt)) return r;
  if (int r = fdk::check_async("readv", loop, cb)) return r;
  return fdk::readv_async(loop, fd, iov, iovcnt, cb, data, op);  // guarded inside (ops.h)
}

FDK_API int fdk_writev_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, fdk_result_cb cb,
                             void *data, fdk_op **op) {
  if (int r = check_iov("writev", fd, iov, iovcnt)) return r;
  return guard_async("writev", loop, cb, [&] { return fdk::writev_async(loop, fd, iov, iovcnt, cb, data, op); });
}

FDK_API int fdk_preadv_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset,
                             fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_iov("preadv", fd, iov, iovcnt)) return r;
  if (int r = check_offset("preadv", offset)) return r;
  return guard_async("preadv", loop, cb,
                     [&] { return fdk::preadv_async(loop, fd, iov, iovcnt, offset, cb, data, op); });
}

FDK_API int fdk_pwritev_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset,
                              fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_iov("pwritev", fd, iov, iovcnt)) return r;
  if (int r = check_offset("pwritev", offset)) return r;
  return guard_async("pwritev", loop, cb,
                     [&] { return fdk::pwritev_async(loop, fd, iov, iovcnt, offset, cb, data, op); });
}

FDK_API int fdk_lseek_async(fdk_loop *loop, fdk_fd *fd, int64_t offset, int whence, fdk_result_cb cb, void *data,
                            fdk_op **op) {
  if (int r = check_fd("lseek", fd)) return r;
  if (int r = check_whence(whence)) return r;
  return guard_async("lseek", loop, cb, [&] { return fdk::lseek_async(loop, fd, offset, whence, cb, data, op); });
}

FDK_API int fdk_fsync_async(fdk_loop *loop, fdk_fd *fd, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_fd("fsync", fd)) return r;
  if (int r = check_flags("fsync", flags, FDK_FSYNC_DATA)) return r;
  return guard_async("fsync", loop, cb, [&] { return fdk::fsync_async(loop, fd, flags, cb, data, op); });
}

FDK_API int fdk_ftruncate_async(fdk_loop *loop, fdk_fd *fd, int64_t length, fdk_result_cb cb, void *data,
                                fdk_op **op) {
  if (int r = check_fd("ftruncate", fd)) return r;
  if (length < 0) return fail(-EINVAL, "ftruncate: negative length");
  return guard_async("ftruncate", loop, cb, [&] { return fdk::ftruncate_async(loop, fd, length, cb, data, op); });
}

FDK_API int fdk_getrandom_async(fdk_loop *loop, void *buf, size_t len, unsigned flags, fdk_result_cb cb, void *data,
                                fdk_op **op) {
  if (!buf && len) return fail(-EINVAL, "getrandom: buf is NULL");
  if (int r = check_flags("getrandom", flags, FDK_RANDOM_NONBLOCK)) return r;
  return guard_async("getrandom", loop, cb, [&] { return fdk::getrandom_async(loop, buf, len, flags, cb, data, op); });
}

FDK_API int fdk_write_all_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb,
                                void *data, fdk_op **op) {
  if (int r = check_buf("write_all", fd, buf, len)) return r;
  return guard_async("write_all", loop, cb, [&] { return fdk::write_all_async(loop, fd, buf, len, cb, data, op); });
}

FDK_API int fdk_writev_all_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                                 fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_iov("writev_all", fd, iov, iovcnt)) return r;
  return guard_async("writev_all", loop, cb,
                     [&] { return fdk::writev_all_async(loop, fd, iov, iovcnt, cb, data, op); });
}

FDK_API int64_t fdk_write_queue_size(fdk_loop *loop, fdk_fd *fd) {
  if (!loop || !fd) return fail(-EINVAL, "write_queue_size: loop or fd is NULL");
  return guard("write_queue_size", [&] { return fdk::write_queue_size(loop, fd); });
}

FDK_API int64_t fdk_now_ns(void) { return fdk::now_ns(); }

FDK_API int fdk_sleep_until(fdk_loop *loop, int64_t deadline_ns, fdk_result_cb cb, void *data, fdk_op **op) {
  return guard_async("sleep_until", loop, cb, [&] { return fdk::sleep_until(loop, deadline_ns, cb, data, op); });
}

}  // extern "C"
