/* SPDX-License-Identifier: MIT */
// System calls made by the instruction itself, inline in fdkit's code, rather than through
// the C library's wrappers.
//
// raw_syscall serves the spawn child, which may not touch libc state (errno included).
// The hot_* calls serve the open, stat and close of the hot path (core/hot.h), the
// reads of asynchronous reads and the writes of non-blocking descriptors, a pipe's
// creation, the epoll set's registrations and the loop's wait on its set. A wrapper is
// one more page of code before the call and, worse, after it (the wrapper's return runs
// there, then fdkit's code that checks the result), and one more return into a frame
// entered before the call: measured on the paravirtualized test machine, a stat through
// the wrapper from a library's code cost 40-60 ns more than the same stat from the
// caller's own code, the same stat made inline in the library nothing more, and each
// such return costs about 6 ns (the return predictions do not survive the call). They
// return -errno and leave errno alone. They are not cancellation points (a cancelled
// thread would leave a dir's use or a new descriptor behind), and an LD_PRELOAD
// interposer of openat, statx, close, read, pwritev2, pipe2, epoll_ctl or epoll_wait does
// not see them. Sanitized builds keep the wrappers: ASan's and TSan's interceptors track
// descriptors (TSan reports a close that races with a use, and orders an epoll_ctl before
// the epoll_wait that reports its data).
#pragma once

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define FDK_SYSCALLS_VIA_LIBC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define FDK_SYSCALLS_VIA_LIBC 1
#endif
#endif
#ifndef FDK_SYSCALLS_VIA_LIBC
#define FDK_SYSCALLS_VIA_LIBC 0
#endif

namespace fdk {

// A system call: the kernel's result, -errno on failure; errno is not written where the
// architecture's instruction is used.
#if defined(__x86_64__)
[[gnu::always_inline]] inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                                               long f = 0) {
  long ret;
  register long r10 asm("r10") = d;
  register long r8 asm("r8") = e;
  register long r9 asm("r9") = f;
  asm volatile("syscall"
               : "=a"(ret)
               : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
               : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
[[gnu::always_inline]] inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                                               long f = 0) {
  register long x8 asm("x8") = n;
  register long x0 asm("x0") = a;
  register long x1 asm("x1") = b;
  register long x2 asm("x2") = c;
  register long x3 asm("x3") = d;
  register long x4 asm("x4") = e;
  register long x5 asm("x5") = f;
  asm volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  return x0;
}
#else
// Elsewhere the C library's syscall(2), which writes errno.
[[gnu::always_inline]] inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                                               long f = 0) {
  long r = syscall(n, a, b, c, d, e, f);
  return r == -1 ? -errno : r;
}
#endif

// A pointer or number as a system call's argument.
template <class T>
[[gnu::always_inline]] inline long syscall_arg(T v) {
  return (long)v;
}

#if FDK_SYSCALLS_VIA_LIBC
inline int hot_openat(int dir, const char *path, int flags, mode_t mode) {
  int fd = ::openat(dir, path, flags, mode);
  return fd < 0 ? -errno : fd;
}
inline int hot_statx(int dir, const char *path, int flags, unsigned mask, struct statx *out) {
  return ::statx(dir, path, flags, mask, out) < 0 ? -errno : 0;
}
inline int hot_close(int fd) { return ::close(fd) < 0 ? -errno : 0; }
inline int hot_pipe2(int fds[2], int flags) { return ::pipe2(fds, flags) < 0 ? -errno : 0; }
inline int hot_epoll_ctl(int epfd, int op, int fd, epoll_event *ev) {
  return ::epoll_ctl(epfd, op, fd, ev) < 0 ? -errno : 0;
}
inline int hot_setfl(int fd, int flags) { return ::fcntl(fd, F_SETFL, flags) < 0 ? -errno : 0; }
inline int hot_epoll_wait(int epfd, epoll_event *events, int max, int timeout) {
  int n = ::epoll_wait(epfd, events, max, timeout);
  return n < 0 ? -errno : n;
}
inline long hot_preadv2(int fd, const iovec *iov, int count, int64_t offset, int flags) {
  ssize_t r = ::preadv2(fd, iov, count, offset, flags);
  return r < 0 ? -errno : r;
}
inline long hot_readv(int fd, const iovec *iov, int count) {
  ssize_t r = count == 1 ? ::read(fd, iov->iov_base, iov->iov_len) : ::readv(fd, iov, count);
  return r < 0 ? -errno : r;
}
inline long hot_pwritev2(int fd, const iovec *iov, int count, int64_t offset, int flags) {
  ssize_t r = ::pwritev2(fd, iov, count, offset, flags);
  return r < 0 ? -errno : r;
}
#else
// SYS_openat rather than SYS_open: the C library's openat makes the same call.
[[gnu::always_inline]] inline int hot_openat(int dir, const char *path, int flags, mode_t mode) {
  return static_cast<int>(raw_syscall(SYS_openat, dir, syscall_arg(path), flags, mode));
}
[[gnu::always_inline]] inline int hot_statx(int dir, const char *path, int flags, unsigned mask, struct statx *out) {
  return static_cast<int>(raw_syscall(SYS_statx, dir, syscall_arg(path), flags, mask, syscall_arg(out)));
}
[[gnu::always_inline]] inline int hot_close(int fd) { return static_cast<int>(raw_syscall(SYS_close, fd)); }
[[gnu::always_inline]] inline int hot_pipe2(int fds[2], int flags) {
  return static_cast<int>(raw_syscall(SYS_pipe2, syscall_arg(fds), flags));
}
// The epoll set's registrations (the loop's registration of a watch, and its end at a close).
[[gnu::always_inline]] inline int hot_epoll_ctl(int epfd, int op, int fd, epoll_event *ev) {
  return static_cast<int>(raw_syscall(SYS_epoll_ctl, epfd, op, fd, syscall_arg(ev)));
}
// The status flags of fd's open file description (fcntl F_SETFL).
[[gnu::always_inline]] inline int hot_setfl(int fd, int flags) {
  return static_cast<int>(raw_syscall(SYS_fcntl, fd, F_SETFL, flags));
}
// The loop's wait on its own set (epoll_pwait without a mask: the call the C library's
// epoll_wait makes where the architecture has no epoll_wait of its own).
[[gnu::always_inline]] inline int hot_epoll_wait(int epfd, epoll_event *events, int max, int timeout) {
  return static_cast<int>(raw_syscall(SYS_epoll_pwait, epfd, syscall_arg(events), max, timeout, 0, 0));
}
// A read of a non-blocking descriptor: read(2) for one buffer (no vector to copy in).
[[gnu::always_inline]] inline long hot_readv(int fd, const iovec *iov, int count) {
  if (count == 1) return raw_syscall(SYS_read, fd, syscall_arg(iov->iov_base), static_cast<long>(iov->iov_len));
  return raw_syscall(SYS_readv, fd, syscall_arg(iov), count);
}
// The kernel takes the offset as a low and a high half (a 64-bit kernel ignores the high).
// ENOSYS with flags (a kernel before 4.6, a sandbox's filter) answers -EOPNOTSUPP, as the C
// library's wrapper does: the flag is refused, and callers go on without it.
[[gnu::always_inline]] inline long hot_preadv2(int fd, const iovec *iov, int count, int64_t offset, int flags) {
  long r = raw_syscall(SYS_preadv2, fd, syscall_arg(iov), count, static_cast<long>(offset),
                       static_cast<long>(static_cast<uint64_t>(offset) >> 32), flags);
  return r == -ENOSYS && flags ? -EOPNOTSUPP : r;
}
// A write of a non-blocking descriptor, as hot_preadv2 (the same answer to ENOSYS).
[[gnu::always_inline]] inline long hot_pwritev2(int fd, const iovec *iov, int count, int64_t offset, int flags) {
  long r = raw_syscall(SYS_pwritev2, fd, syscall_arg(iov), count, static_cast<long>(offset),
                       static_cast<long>(static_cast<uint64_t>(offset) >> 32), flags);
  return r == -ENOSYS && flags ? -EOPNOTSUPP : r;
}
#endif

// openat2 has no C library wrapper to intercept (glibc 2.36): inline in every build.
[[gnu::always_inline]] inline int hot_openat2(int dir, const char *path, const open_how *how) {
  return static_cast<int>(raw_syscall(SYS_openat2, dir, syscall_arg(path), syscall_arg(how), sizeof *how));
}

}  // namespace fdk
