/* SPDX-License-Identifier: MIT */
// FDK_HOT marks the functions every open, stat and close of a handle runs through. The
// compiler places them together (.text.hot), so that one call touches one page of
// fdkit's code rather than one per source file: where the kernel flushes the TLB at each
// system call (paravirtualized guests without PCIDs), every page of code run after the
// call returns costs a page walk (20-40 ns on the guest this was measured on, against a
// stat of 1.5 us and an open of 3 us; a page of data about 10 ns). A guest with PCIDs keeps
// its TLB across the call (under a nanosecond a page): the grouping costs nothing there.
// What runs after the call is kept short by two more rules: the call is made by the
// instruction inline (core/syscall.h), not in the C library's wrapper, and it is made in
// the frame that returns to the caller, as fdk_openat and fdk_statat tail-call the
// function that makes it: each return into a frame entered before the system call was
// measured at 10-13 ns there (mispredicted, most likely as the kernel fills the return
// stack buffer), while calls made after it return at no such cost.
#pragma once

#define FDK_HOT [[gnu::hot]]

// FDK_HOT_DATA gathers the globals those functions read on every call (trace hooks, the
// resolution backend, the statx probe) in one section placed within .data, beside the
// GOT entries and the USDT semaphores they already touch: zero-initialized, they would
// otherwise land in .bss, one more page per call.
#define FDK_HOT_DATA [[gnu::section(".data.fdk_hot")]]

// FDK_ASYNC_HOT marks what an asynchronous call served by the loop's io_uring runs through
// between two of the loop's system calls: its start, the submission, the reaping of its
// completion and its delivery. The linker places every .text.sorted.* section right after
// the hot text, sorted by name, so that these functions, from whichever object, lie
// together in the page or two that follow it, rather than one page per source file.
#define FDK_ASYNC_HOT [[gnu::section(".text.sorted.fdk_async")]]
