/* SPDX-License-Identifier: MIT */
/* Emulating an old kernel in the tests (see old_kernel_filter.c). */
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

#endif
