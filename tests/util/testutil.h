/* SPDX-License-Identifier: MIT */
/* Shared helpers of the C test suites: resource-hygiene checks run around every test. */
#ifndef FDKIT_TESTUTIL_H
#define FDKIT_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fdkit.h>

/* Open descriptors of this process (entries of /proc/self/fd, minus the one used to
 * list them). */
int fdkt_count_fds(void);

/* Per-test setup and teardown for cmocka_unit_test_setup_teardown: the teardown fails
 * the test if it left an extra open descriptor or an unreaped child. libuv keeps two
 * global descriptors after its first loop, so the setup makes one loop first. */
int fdkt_setup(void **state);
int fdkt_teardown(void **state);

/* Convenience: a test with the hygiene checks around it. */
#define fdkt_test(fn) cmocka_unit_test_setup_teardown(fn, fdkt_setup, fdkt_teardown)

/* Runs the loop until *flag becomes non-zero, failing the test after timeout_ms. */
void fdkt_run_until(fdk_loop *loop, const int *flag, int timeout_ms);

/* Result recorder for fdk_result_cb callbacks. */
typedef struct {
  int calls;
  int64_t result;
  char detail[256];
} fdkt_result;
void fdkt_record(int64_t result, void *data);

/* Result recorder for the asynchronous fs calls' callbacks: the result and detail as
 * fdkt_result keeps them, plus what the callback hands over (owned by the test then). */
typedef struct {
  int calls;
  int64_t result;
  fdk_fd *fd;
  fdk_dir *dir;
  char *text;
  fdk_dirents *list;
  char detail[256];
} fdkt_fs_result;
void fdkt_fs_on_result(int64_t result, void *data);
void fdkt_fs_on_open(int result, fdk_fd *fd, void *data);
void fdkt_fs_on_dir(int result, fdk_dir *dir, void *data);
void fdkt_fs_on_text(ssize_t result, char *text, void *data);
void fdkt_fs_on_list(int result, fdk_dirents *list, void *data);

/* Runs fn(arg) in a forked child, in a private mount namespace when private_mounts is
 * set, and turns its exit status into the test's outcome: 0 passes, 77 skips (the child
 * could not set itself up, e.g. without root), anything else fails. */
void fdkt_in_child(int (*fn)(void *), void *arg, int private_mounts);

#endif
