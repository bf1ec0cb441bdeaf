/* SPDX-License-Identifier: MIT */
/* Runs a program as if on a kernel older than fdkit's fast paths (util/old_kernel_filter.c),
 * so that fdkit must find every fallback by itself, with no FDKIT_* variable telling it
 * to. The program sees FDKIT_TEST_OLD_KERNEL=1 in its environment.
 *
 * usage: old_kernel PROGRAM [ARG...]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "old_kernel_filter.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: old_kernel PROGRAM [ARG...]\n");
    return 2;
  }
  int r = fdkt_emulate_old_kernel();
  if (r < 0) {
    fprintf(stderr, "old_kernel: cannot emulate an old kernel: %s\n", strerror(-r));
    return r == -ENOTSUP ? 77 : 1; /* 77: meson's "skipped" */
  }
  setenv("FDKIT_TEST_OLD_KERNEL", "1", 1);
  execvp(argv[1], argv + 1);
  perror("old_kernel: exec");
  return 127;
}
