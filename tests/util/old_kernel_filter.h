/* SPDX-License-Identifier: MIT */
/* Emulating an old kernel in the tests, and the other seccomp filters they install (see
 * old_kernel_filter.c). */
#ifndef FDKIT_OLD_KERNEL_FILTER_H
#define FDKIT_OLD_KERNEL_FILTER_H

/* Installs the filter on the calling process for good (it is inherited by children and
 * kept across exec): 0, -ENOTSUP on an architecture it has no rules for, or -errno. */
int fdkt_emulate_old_kernel(void);

/* Installs, for good, a filter under which every openat2 answers EAGAIN, as it does when
 * renames race with it without end: 0, -ENOTSUP or -errno. */
int fdkt_openat2_always_eagain(void);

/* Installs, for good, a filter under which every preadv2 answers ENOSYS, as kernels before
 * 4.6 and some sandboxes' filters do: 0, -ENOTSUP or -errno. */
int fdkt_preadv2_enosys(void);

/* Installs, for good, a filter that kills the process at an fstat or statx (a question of
 * a descriptor's kind) and, with getfl_too, at an fcntl(F_GETFL) (of its mode): 0,
 * -ENOTSUP or -errno. */
int fdkt_kill_on_kind_and_mode_calls(int getfl_too);

/* Installs, for good, on the calling thread and the threads it starts from then on, a
 * filter under which each epoll_pwait made without a signal mask's size (as fdkit's loop
 * makes its wait on its set, by the instruction: the C library's wrappers pass the size,
 * and an interposed epoll_wait never sees such a wait) first calls count(timeout), on a
 * supervising thread, then goes on: a test counts the loop's waits so. Once per process;
 * 0, -ENOTSUP or -errno. */
int fdkt_count_bare_epoll_pwaits(void (*count)(int timeout));

#endif
