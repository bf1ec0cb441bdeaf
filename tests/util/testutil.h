/* SPDX-License-Identifier: MIT */
/* Shared helpers of the C test suites: resource-hygiene checks run around every test. */
#ifndef FDKIT_TESTUTIL_H
#define FDKIT_TESTUTIL_H

#include <pthread.h>
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

/* A call made on another thread after a delay (e.g. a close or a cancel while the loop
 * waits): fdkt_later_start runs fn(arg) there after delay_us, fdkt_later_join waits for the
 * thread and returns fn's result. */
typedef struct {
  pthread_t thread;
  unsigned delay_us;
  int (*fn)(void *);
  void *arg;
  int result;
} fdkt_later;
void fdkt_later_start(fdkt_later *later, unsigned delay_us, int (*fn)(void *), void *arg);
int fdkt_later_join(fdkt_later *later);

/* A new loop; the test fails when none can be made. */
fdk_loop *fdkt_loop_new(void);

/* A loop as cmocka state (*state is the fdk_loop), made and freed (which must succeed)
 * inside the hygiene checks of fdkt_setup and fdkt_teardown. */
int fdkt_loop_setup(void **state);
int fdkt_loop_teardown(void **state);
#define fdkt_loop_test(fn) cmocka_unit_test_setup_teardown(fn, fdkt_loop_setup, fdkt_loop_teardown)

/* A loop and a pipe, the fixture of many loop and I/O tests; c and res serve a pending
 * one-byte read of the read end. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *r, *w; /* the pipe's read and write ends */
  char c;
  fdkt_result res;
} fdkt_pipe;
/* Makes the loop and the pipe. */
void fdkt_pipe_open(fdkt_pipe *p);
/* Starts the one-byte read of p->r into p->c, recorded in p->res. */
void fdkt_pipe_start_read(fdkt_pipe *p);
/* Releases the ends (a test that released one sets it to NULL), then frees the loop,
 * which must succeed. */
void fdkt_pipe_close(fdkt_pipe *p);
/* The fixture as cmocka state (*state is the fdkt_pipe), inside the hygiene checks of
 * fdkt_setup and fdkt_teardown; the _reading form has the read started. */
int fdkt_pipe_setup(void **state);
int fdkt_pipe_reading_setup(void **state);
int fdkt_pipe_teardown(void **state);
#define fdkt_pipe_test(fn) cmocka_unit_test_setup_teardown(fn, fdkt_pipe_setup, fdkt_pipe_teardown)
#define fdkt_pipe_reading_test(fn) cmocka_unit_test_setup_teardown(fn, fdkt_pipe_reading_setup, fdkt_pipe_teardown)

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
