/* SPDX-License-Identifier: MIT */
// FDK_HOT marks the functions every open, stat and close of a handle runs through. The
// compiler places them together (.text.hot), so that one call touches one or two pages of
// fdkit's code rather than one per source file: where the kernel flushes the TLB at each
// system call (paravirtualized guests without PCIDs), every page touched after the call
// returns costs a page walk, measured at 60-80 ns apiece against an open of about 3 us.
#pragma once

#include <sys/stat.h>

#define FDK_HOT [[gnu::hot]]

// FDK_HOT_DATA gathers the globals those functions read on every call (trace hooks, the
// resolution backend, the statx probe) in one section placed within .data, beside the
// GOT entries and the USDT semaphores they already touch: zero-initialized, they would
// otherwise land in .bss, one more page per call.
#define FDK_HOT_DATA [[gnu::section(".data.fdk_hot")]]

namespace fdk {

// The C library's wrappers that the hot functions call, reached through pointers kept
// with the hot data rather than through the PLT. A PLT call reads its GOT slot from that
// page of data already, but also runs the PLT's own code: one more page of code before
// each system call and after the one before it (an open and close runs the PLT twice).
// The dynamic linker fills these pointers at load time the way it fills the GOT, so they
// are the same wrappers (cancellation points, errno) and an LD_PRELOAD or sanitizer
// interposer still takes the calls.
struct HotLibc {
  int (*openat)(int dir, const char *path, int flags, ...);
  int (*close)(int fd);
  int (*statx)(int dir, const char *path, int flags, unsigned mask, struct statx *out);
  long (*syscall)(long number, ...);
};
extern HotLibc hot_libc;

}  // namespace fdk
