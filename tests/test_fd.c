/* SPDX-License-Identifier: MIT */
/* fd handles: adoption, deferred close, references, release, blocking mode. */
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

static int is_open(int raw) { return fcntl(raw, F_GETFD) >= 0; }

/* A pipe whose read end is adopted with flags: the fixture of the lifetime tests. */
static fdk_fd *adopt_pipe_read_end(int p[2], unsigned flags) {
  assert_int_equal(pipe(p), 0);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, p[0], flags), 0);
  return fd;
}

static void test_adopt_and_close(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe2(p, O_NONBLOCK), 0);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, p[0], 0), 0);
  assert_int_equal(fdk_fd_raw(fd), p[0]);
  assert_int_equal(fdk_fd_is_blocking(fd), 0);
  assert_int_equal(fdk_fd_close(fd), 0);
  assert_false(is_open(p[0]));
  assert_int_equal(fdk_fd_raw(fd), -EBADF);
  assert_int_equal(fdk_fd_close(fd), -EBADF);
  assert_int_equal(fdk_fd_is_blocking(fd), -EBADF);
  int raw;
  assert_int_equal(fdk_fd_use(fd, &raw), -EBADF);
  char c;
  assert_int_equal(fdk_read(fd, &c, 1), -EBADF);
  assert_null(fdk_fd_unref(fd));
  close(p[1]);
}

static void test_adopt_bad_arguments(void **state) {
  (void)state;
  fdk_fd *fd = (fdk_fd *)0x1;
  assert_int_equal(fdk_fd_adopt(NULL, 0, 0), -EINVAL);
  assert_int_equal(fdk_fd_adopt(&fd, -1, 0), -EBADF);
  assert_int_equal(fdk_fd_adopt(&fd, 0, 0x80), -EINVAL);
  assert_ptr_equal(fd, (fdk_fd *)0x1);
  assert_int_equal(fdk_fd_close(NULL), -EINVAL);
  assert_int_equal(fdk_fd_raw(NULL), -EINVAL);
  assert_int_equal(fdk_fd_use(NULL, NULL), -EINVAL);
  assert_int_equal(fdk_fd_release(NULL, NULL), -EINVAL);
  assert_int_equal(fdk_fd_is_blocking(NULL), -EINVAL);
  assert_int_equal(fdk_pipe(NULL, NULL), -EINVAL);
  assert_null(fdk_fd_ref(NULL));
  assert_null(fdk_fd_unref(NULL));
  fdk_fd_unuse(NULL);
}

/* The last unref closes; an extra ref keeps the descriptor open. */
static void test_refs(void **state) {
  (void)state;
  int p[2];
  fdk_fd *fd = adopt_pipe_read_end(p, 0);
  assert_ptr_equal(fdk_fd_ref(fd), fd);
  assert_null(fdk_fd_unref(fd));
  assert_true(is_open(p[0]));
  assert_null(fdk_fd_unref(fd));
  assert_false(is_open(p[0]));
  close(p[1]);
}

/* A close during a use only marks the handle: the descriptor closes at the last unuse. */
static void test_close_deferred_until_unuse(void **state) {
  (void)state;
  int p[2];
  fdk_fd *fd = adopt_pipe_read_end(p, 0);
  int raw1, raw2;
  assert_int_equal(fdk_fd_use(fd, &raw1), 0);
  assert_int_equal(fdk_fd_use(fd, &raw2), 0);
  assert_int_equal(raw1, p[0]);
  assert_int_equal(fdk_fd_close(fd), 0);
  assert_true(is_open(p[0]));
  int raw3;
  assert_int_equal(fdk_fd_use(fd, &raw3), -EBADF);
  fdk_fd_unuse(fd);
  assert_true(is_open(p[0]));
  fdk_fd_unuse(fd);
  assert_false(is_open(p[0]));
  fdk_fd_unref(fd);
  close(p[1]);
}

static void test_borrow_never_closes(void **state) {
  (void)state;
  int p[2];
  fdk_fd *fd = adopt_pipe_read_end(p, FDK_FD_BORROW);
  assert_int_equal(fdk_fd_close(fd), 0);
  assert_true(is_open(p[0]));
  assert_int_equal(fdk_fd_raw(fd), -EBADF);
  fdk_fd_unref(fd);
  assert_int_equal(fdk_fd_adopt(&fd, p[0], FDK_FD_BORROW), 0);
  fdk_fd_unref(fd);
  assert_true(is_open(p[0]));
  close(p[0]);
  close(p[1]);
}

static void test_release(void **state) {
  (void)state;
  int p[2];
  fdk_fd *fd = adopt_pipe_read_end(p, 0);
  int raw = -1;
  assert_int_equal(fdk_fd_release(fd, &raw), 0);
  assert_int_equal(raw, p[0]);
  assert_int_equal(fdk_fd_raw(fd), -EBADF);
  assert_int_equal(fdk_fd_release(fd, &raw), -EBADF);
  assert_int_equal(fdk_fd_close(fd), -EBADF);
  fdk_fd_unref(fd);
  assert_true(is_open(p[0]));
  close(p[0]);
  close(p[1]);
}

typedef struct {
  fdk_fd *fd;
  int64_t unused_at;
} holder;

static void *hold_then_unuse(void *data) {
  holder *h = data;
  usleep(50000);
  h->unused_at = fdk_now_ns();
  fdk_fd_unuse(h->fd);
  return NULL;
}

/* Release waits for a use in another thread to end. */
static void test_release_waits_for_use(void **state) {
  (void)state;
  int p[2];
  holder h;
  h.fd = adopt_pipe_read_end(p, 0);
  int raw;
  assert_int_equal(fdk_fd_use(h.fd, &raw), 0);
  pthread_t t;
  pthread_create(&t, NULL, hold_then_unuse, &h);
  int back = -1;
  assert_int_equal(fdk_fd_release(h.fd, &back), 0);
  int64_t released_at = fdk_now_ns();
  pthread_join(t, NULL);
  assert_true(released_at >= h.unused_at);
  assert_int_equal(back, p[0]);
  assert_true(is_open(p[0]));
  fdk_fd_unref(h.fd);
  close(p[0]);
  close(p[1]);
}

/* The mode comes from the flag, or else from the descriptor itself. */
static void test_blocking_mode(void **state) {
  (void)state;
  int p[2];
  assert_int_equal(pipe(p), 0);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  fdk_fd *w, *r;
  assert_int_equal(fdk_fd_adopt(&w, p[1], 0), 0);
  assert_int_equal(fdk_fd_is_blocking(w), 1);
  assert_int_equal(fdk_fd_adopt(&r, p[0], 0), 0);
  assert_int_equal(fdk_fd_is_blocking(r), 0);
  fdk_fd_unref(w);
  fdk_fd_unref(r);
  assert_int_equal(pipe(p), 0);
  fcntl(p[1], F_SETFL, O_NONBLOCK);
  assert_int_equal(fdk_fd_adopt(&w, p[1], FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_fd_is_blocking(w), 1);
  fdk_fd_unref(w);
  close(p[0]);
  /* The mode of a handle adopted without FDK_FD_BLOCKING is read when first needed: a
   * number that is not open is adopted (borrowed here, so nothing closes the number) and
   * answers -EBADF then. */
  fdk_fd *none = NULL;
  assert_int_equal(fdk_fd_adopt(&none, p[0], FDK_FD_BORROW), 0);
  assert_int_equal(fdk_fd_is_blocking(none), -EBADF);
  char byte;
  assert_int_equal(fdk_read(none, &byte, 1), -EBADF);
  fdk_fd_unref(none);
  /* The mode is read once, at the first need: a later change does not move the handle. */
  assert_int_equal(pipe(p), 0);
  assert_int_equal(fdk_fd_adopt(&r, p[0], 0), 0);
  assert_int_equal(fdk_fd_is_blocking(r), 1);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  assert_int_equal(fdk_fd_is_blocking(r), 1);
  fdk_fd_unref(r);
  close(p[1]);
}

static void test_pipe_flags(void **state) {
  (void)state;
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  int rr = fdk_fd_raw(r), wr = fdk_fd_raw(w);
  assert_true(fcntl(rr, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(wr, F_GETFD) & FD_CLOEXEC);
  assert_true(fcntl(rr, F_GETFL) & O_NONBLOCK);
  assert_true(fcntl(wr, F_GETFL) & O_NONBLOCK);
  assert_int_equal(fdk_fd_is_blocking(r), 0);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  assert_false(is_open(rr));
  assert_false(is_open(wr));
}

/* Closing a handle with a pending readiness wait completes it with -ECANCELED and the
 * descriptor is closed once the loop stopped watching it. */
static void test_close_cancels_wait(void **state) {
  fdkt_pipe *p = *state;
  int raw = fdk_fd_raw(p->r);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_fd_close(p->r), 0);
  assert_false(is_open(raw));
  fdkt_run_until(p->loop, &p->res.calls, 1000);
  assert_int_equal(p->res.result, -ECANCELED);
}

static int close_fd(void *fd) { return fdk_fd_close(fd); }

/* A close from another thread reaches the loop that waits on the descriptor. */
static void test_close_from_other_thread(void **state) {
  fdkt_pipe *p = *state;
  int raw = fdk_fd_raw(p->r);
  fdkt_later close_r;
  fdkt_later_start(&close_r, 30000, close_fd, p->r);
  fdkt_run_until(p->loop, &p->res.calls, 5000);
  assert_int_equal(fdkt_later_join(&close_r), 0);
  assert_int_equal(p->res.result, -ECANCELED);
  assert_false(is_open(raw));
}

/* The last unref of a handle some loop watches closes it there too. */
static void test_unref_while_watched(void **state) {
  fdkt_pipe *p = *state;
  int raw = fdk_fd_raw(p->r);
  fdk_fd_unref(p->r);
  p->r = NULL;
  assert_false(is_open(raw));
  fdkt_run_until(p->loop, &p->res.calls, 1000);
  assert_int_equal(p->res.result, -ECANCELED);
}

/* A close on the loop's thread while a use is in flight ends the watch at once (the read
 * completes with -ECANCELED) but leaves the descriptor to the last use. */
static void test_close_watched_in_use(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  int raw;
  assert_int_equal(fdk_fd_use(p->r, &raw), 0);
  assert_int_equal(fdk_fd_close(p->r), 0);
  assert_true(is_open(raw));
  fdkt_run_until(p->loop, &p->res.calls, 1000);
  assert_int_equal(p->res.result, -ECANCELED);
  assert_true(is_open(raw));
  fdk_fd_unuse(p->r);
  assert_false(is_open(raw));
}

/* A release on the loop's thread ends the watch at once: the read completes with
 * -ECANCELED, the descriptor comes back open, and the loop no longer reports it. */
static void test_release_watched(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  int raw = -1;
  assert_int_equal(fdk_fd_release(p->r, &raw), 0);
  assert_true(is_open(raw));
  fdkt_run_until(p->loop, &p->res.calls, 1000);
  assert_int_equal(p->res.result, -ECANCELED);
  assert_int_equal(fdk_write(p->w, "x", 1), 1);
  for (int i = 0; i < 3; ++i) assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 0);
  assert_int_equal(p->res.calls, 1);
  fdk_fd_unref(p->r);
  p->r = NULL;
  assert_int_equal(close(raw), 0);
}

/* Two loops, each with a one-byte read pending on the read end of one pipe. */
typedef struct {
  fdk_loop *a, *b;
  fdk_fd *r, *w;
  char ca, cb;
  fdkt_result ra, rb;
} two_loops;

static void two_loops_reading(two_loops *t) {
  *t = (two_loops){0};
  assert_int_equal(fdk_loop_new(&t->a), 0);
  assert_int_equal(fdk_loop_new(&t->b), 0);
  assert_int_equal(fdk_pipe(&t->r, &t->w), 0);
  assert_int_equal(fdk_read_async(t->a, t->r, &t->ca, 1, fdkt_record, &t->ra, NULL), 0);
  assert_int_equal(fdk_read_async(t->b, t->r, &t->cb, 1, fdkt_record, &t->rb, NULL), 0);
}

/* One descriptor watched by two loops: each gets its data and closing reaches both. */
static void test_two_loops_one_handle(void **state) {
  (void)state;
  two_loops t;
  two_loops_reading(&t);
  assert_int_equal(fdk_write(t.w, "ab", 2), 2);
  fdkt_run_until(t.a, &t.ra.calls, 1000);
  fdkt_run_until(t.b, &t.rb.calls, 1000);
  assert_int_equal(t.ra.result, 1);
  assert_int_equal(t.rb.result, 1);
  assert_true((t.ca == 'a' && t.cb == 'b') || (t.ca == 'b' && t.cb == 'a'));
  fdk_fd_unref(t.r);
  fdk_fd_unref(t.w);
  fdk_loop_free(t.a);
  fdk_loop_free(t.b);
}

/* A close on the thread that drives both loops watching the descriptor ends both watches
 * at once: the descriptor is closed when the close returns, each read completes with
 * -ECANCELED, and a new read of the closed handle on either loop is refused. */
static void test_close_ends_watches_of_own_loops(void **state) {
  (void)state;
  two_loops t;
  two_loops_reading(&t);
  assert_int_equal(fdk_loop_run(t.a, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_loop_run(t.b, FDK_RUN_NOWAIT), 1);
  int raw = fdk_fd_raw(t.r);
  assert_int_equal(fdk_fd_close(t.r), 0);
  assert_false(is_open(raw));
  fdkt_run_until(t.a, &t.ra.calls, 1000);
  fdkt_run_until(t.b, &t.rb.calls, 1000);
  assert_int_equal(t.ra.result, -ECANCELED);
  assert_int_equal(t.rb.result, -ECANCELED);
  assert_int_equal(fdk_read_async(t.a, t.r, &t.ca, 1, fdkt_record, &t.ra, NULL), -EBADF);
  assert_int_equal(fdk_read_async(t.b, t.r, &t.cb, 1, fdkt_record, &t.rb, NULL), -EBADF);
  fdk_fd_unref(t.r);
  fdk_fd_unref(t.w);
  assert_int_equal(fdk_loop_free(t.a), 0);
  assert_int_equal(fdk_loop_free(t.b), 0);
}

/* The loop that watched a descriptor first stops watching it (here, it is freed) while
 * another loop keeps its watch: the other loop's reads still find theirs, get their data,
 * and a close still completes its pending read with -ECANCELED. */
static void test_second_loop_keeps_watch(void **state) {
  (void)state;
  two_loops t;
  two_loops_reading(&t);
  assert_int_equal(fdk_loop_run(t.a, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_loop_run(t.b, FDK_RUN_NOWAIT), 1);
  fdk_loop_free(t.a);
  assert_int_equal(t.ra.result, -ECANCELED);
  // A new loop (often at the freed one's address) watches the descriptor beside b.
  fdk_loop *c;
  char cc;
  fdkt_result rc = {0};
  assert_int_equal(fdk_loop_new(&c), 0);
  assert_int_equal(fdk_read_async(c, t.r, &cc, 1, fdkt_record, &rc, NULL), 0);
  assert_int_equal(fdk_write(t.w, "cb", 2), 2);
  fdkt_run_until(c, &rc.calls, 1000);
  fdkt_run_until(t.b, &t.rb.calls, 1000);
  assert_int_equal(rc.result, 1);
  assert_int_equal(t.rb.result, 1);
  fdk_loop_free(c);
  assert_int_equal(fdk_read_async(t.b, t.r, &t.cb, 1, fdkt_record, &t.rb, NULL), 0);
  for (int i = 0; i < 3; ++i) {
    t.rb.calls = 0;
    assert_int_equal(fdk_write(t.w, "x", 1), 1);
    fdkt_run_until(t.b, &t.rb.calls, 1000);
    assert_int_equal(t.rb.result, 1);
    assert_int_equal(fdk_read_async(t.b, t.r, &t.cb, 1, fdkt_record, &t.rb, NULL), 0);
  }
  int raw = fdk_fd_raw(t.r);
  t.rb.calls = 0;
  assert_int_equal(fdk_fd_close(t.r), 0);
  assert_false(is_open(raw));
  fdkt_run_until(t.b, &t.rb.calls, 1000);
  assert_int_equal(t.rb.result, -ECANCELED);
  fdk_fd_unref(t.r);
  fdk_fd_unref(t.w);
  fdk_loop_free(t.b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_adopt_and_close),
      fdkt_test(test_adopt_bad_arguments),
      fdkt_test(test_refs),
      fdkt_test(test_close_deferred_until_unuse),
      fdkt_test(test_borrow_never_closes),
      fdkt_test(test_release),
      fdkt_test(test_release_waits_for_use),
      fdkt_test(test_blocking_mode),
      fdkt_test(test_pipe_flags),
      fdkt_pipe_reading_test(test_close_cancels_wait),
      fdkt_pipe_reading_test(test_close_from_other_thread),
      fdkt_pipe_reading_test(test_unref_while_watched),
      fdkt_pipe_reading_test(test_close_watched_in_use),
      fdkt_pipe_reading_test(test_release_watched),
      fdkt_test(test_two_loops_one_handle),
      fdkt_test(test_close_ends_watches_of_own_loops),
      fdkt_test(test_second_loop_keeps_watch),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
