/* SPDX-License-Identifier: MIT */
/* A seccomp filter that makes this process, and everything it starts, see a kernel older
 * than fdkit's fast paths: openat2, clone3, pidfd_open, pidfd_send_signal, pidfd_getfd,
 * close_range, statx, io_uring_setup, fchmodat2, faccessat2 and the *xattrat calls (Linux
 * 6.13) fail with ENOSYS, clone with CLONE_PIDFD fails with EINVAL, preadv2 with
 * RWF_NOWAIT fails with EOPNOTSUPP (as kernels before 4.14 answer for every descriptor,
 * and later ones before each kind learned the flag: pipes, sockets, eventfds), and
 * pwritev2 with RWF_NOSIGNAL fails with EOPNOTSUPP, which is what kernels before each of
 * them answer. */
#include "old_kernel_filter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452 /* the same number on every architecture (Linux 6.6) */
#endif

#ifndef __NR_setxattrat
#define __NR_setxattrat 463 /* 463-466: the same numbers on every architecture (Linux 6.13) */
#define __NR_getxattrat 464
#define __NR_listxattrat 465
#define __NR_removexattrat 466
#endif

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100 /* the kernel uapi value; older C library headers lack it */
#endif

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#endif

#define RET(action) BPF_STMT(BPF_RET | BPF_K, (action))
/* The first four instructions of a filter: calls of other architectures are allowed, and
 * the number of a native one is loaded. */
#define NATIVE_NR_PROLOGUE                                                       \
  BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),       \
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),                    \
      RET(SECCOMP_RET_ALLOW), BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* Jumps to the ENOSYS return (the last instruction) when the number is nr; `at` is this
 * instruction's index in the program. */
#define DENY(nr, at) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), LAST - (at) - 1, 0)
enum { LAST = 32 };

#ifdef NATIVE_ARCH
/* Installs a filter of len instructions for good: 0 or -errno. */
static int install(struct sock_filter *code, size_t len) {
  struct sock_fprog prog = {(unsigned short)len, code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0) return -errno;
  return 0;
}
#endif

int fdkt_emulate_old_kernel(void) {
#ifndef NATIVE_ARCH
  return -ENOTSUP;
#else
  struct sock_filter code[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
      /* 2 */ RET(SECCOMP_RET_ALLOW),
      /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      /* 4 */ DENY(__NR_openat2, 4),
      /* 5 */ DENY(__NR_clone3, 5),
      /* 6 */ DENY(__NR_pidfd_open, 6),
      /* 7 */ DENY(__NR_pidfd_send_signal, 7),
      /* 8 */ DENY(__NR_pidfd_getfd, 8),
      /* 9 */ DENY(__NR_close_range, 9),
      /* 10 */ DENY(__NR_statx, 10),
      /* 11 */ DENY(__NR_io_uring_setup, 11),
      /* 12 */ DENY(__NR_fchmodat2, 12),
      /* 13 */ DENY(__NR_faccessat2, 13),
      /* 14 */ DENY(__NR_setxattrat, 14),
      /* 15 */ DENY(__NR_getxattrat, 15),
      /* 16 */ DENY(__NR_listxattrat, 16),
      /* 17 */ DENY(__NR_removexattrat, 17),
      /* 18 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_preadv2, 0, 4),
      /* 19: preadv2's flags are its sixth argument (the offset takes two). */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5])),
      /* 20 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, RWF_NOWAIT, 0, 1),
      /* 21 */ RET(SECCOMP_RET_ERRNO | EOPNOTSUPP),
      /* 22 */ RET(SECCOMP_RET_ALLOW),
      /* 23 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 2),
      /* 24: clone's flags are its first argument; CLONE_PIDFD sits in the low word. */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
      /* 25: set -> 30 (EINVAL), clear -> 29 (allow) */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_PIDFD, 4, 3),
      /* 26 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_pwritev2, 0, 2),
      /* 27: pwritev2's flags are its sixth argument (after the offset's two halves). */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5])),
      /* 28: set -> 31 (EOPNOTSUPP), clear -> 29 (allow) */
      BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, RWF_NOSIGNAL, 2, 0),
      /* 29 */ RET(SECCOMP_RET_ALLOW),
      /* 30 */ RET(SECCOMP_RET_ERRNO | EINVAL),
      /* 31 */ RET(SECCOMP_RET_ERRNO | EOPNOTSUPP),
      /* LAST */ RET(SECCOMP_RET_ERRNO | ENOSYS),
  };
  _Static_assert(sizeof code / sizeof code[0] == LAST + 1, "LAST must index the ENOSYS return");
  int r = install(code, sizeof code / sizeof code[0]);
  if (r < 0) return r;
  /* The filter must really be in force, or a run would test the fast paths again. */
  if (syscall(__NR_close_range, 1000, 1000, 0) != -1 || errno != ENOSYS) return -EPROTO;
  struct iovec none = {NULL, 0};
  if (pwritev2(-1, &none, 1, -1, RWF_NOSIGNAL) != -1 || errno != EOPNOTSUPP) return -EPROTO;
  return 0;
#endif
}

int fdkt_openat2_always_eagain(void) {
#ifndef NATIVE_ARCH
  return -ENOTSUP;
#else
  struct sock_filter code[] = {
      NATIVE_NR_PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_openat2, 0, 1),
      RET(SECCOMP_RET_ERRNO | EAGAIN),
      RET(SECCOMP_RET_ALLOW),
  };
  return install(code, sizeof code / sizeof code[0]);
#endif
}

int fdkt_preadv2_enosys(void) {
#ifndef NATIVE_ARCH
  return -ENOTSUP;
#else
  struct sock_filter code[] = {
      NATIVE_NR_PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_preadv2, 0, 1),
      RET(SECCOMP_RET_ERRNO | ENOSYS),
      RET(SECCOMP_RET_ALLOW),
  };
  return install(code, sizeof code / sizeof code[0]);
#endif
}

int fdkt_kill_on_kind_and_mode_calls(int getfl_too) {
#ifndef NATIVE_ARCH
  (void)getfl_too;
  return -ENOTSUP;
#else
  struct sock_filter code[] = {
      /* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      /* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
      /* 2 */ RET(SECCOMP_RET_ALLOW),
      /* 3 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      /* 4 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_newfstatat, 4, 0),
      /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_fstat, 3, 0),
      /* 6 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_statx, 2, 0),
      /* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, getfl_too ? __NR_fcntl : ~0u, 2, 0),
      /* 8 */ RET(SECCOMP_RET_ALLOW),
      /* 9 */ RET(SECCOMP_RET_KILL_PROCESS),
      /* 10: fcntl's command is its second argument. */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      /* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, F_GETFL, 0, 1),
      /* 12 */ RET(SECCOMP_RET_KILL_PROCESS),
      /* 13 */ RET(SECCOMP_RET_ALLOW),
  };
  return install(code, sizeof code / sizeof code[0]);
#endif
}

#ifdef NATIVE_ARCH
static void (*bare_wait_counter)(int timeout);

/* The supervisor of the calling thread's bare waits: counts each, then lets it go on. The
 * count is made before the call goes on, so before it can return. */
static void *answer_bare_epoll_pwaits(void *arg) {
  int listener = (int)(intptr_t)arg;
  for (;;) {
    struct seccomp_notif req;
    memset(&req, 0, sizeof req);
    if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
      if (errno == EINTR || errno == ENOENT) continue;
      return NULL;
    }
    bare_wait_counter((int)req.data.args[3]);
    struct seccomp_notif_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.id = req.id;
    resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp); /* ENOENT: a signal ended the wait */
  }
}
#endif

int fdkt_count_bare_epoll_pwaits(void (*count)(int timeout)) {
#ifndef NATIVE_ARCH
  (void)count;
  return -ENOTSUP;
#else
  if (bare_wait_counter) return bare_wait_counter == count ? 0 : -EBUSY;
  struct sock_filter code[] = {
      NATIVE_NR_PROLOGUE,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_epoll_pwait, 0, 3),
      /* The mask's size is the sixth argument; its low word is 0 only in a bare call. */
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[5])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      RET(SECCOMP_RET_USER_NOTIF),
      RET(SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof code / sizeof code[0]), code};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return -errno;
  int listener = (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (listener < 0) return -errno;
  bare_wait_counter = count;
  pthread_t supervisor;
  int r = pthread_create(&supervisor, NULL, answer_bare_epoll_pwaits, (void *)(intptr_t)listener);
  if (r != 0) return -r;
  pthread_detach(supervisor);
  return 0;
#endif
}
