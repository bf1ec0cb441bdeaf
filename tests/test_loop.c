/* SPDX-License-Identifier: MIT */
/* Loop: creation, run modes, posts from other threads, op lifetime rules, free. */
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fdkit/uv.h>

#include "old_kernel_filter.h"
#include "slow_resolver.h"
#include "testutil.h"

static void test_new_free(void **state) {
  (void)state;
  fdk_loop *loop = NULL;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_non_null(loop);
  assert_true(fdk_loop_backend_fd(loop) >= 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(fdk_loop_free(NULL), 0);
}

static void test_bad_arguments(void **state) {
  (void)state;
  assert_int_equal(fdk_loop_new(NULL), -EINVAL);
  assert_int_equal(fdk_loop_run(NULL, FDK_RUN_DEFAULT), -EINVAL);
  assert_int_equal(fdk_loop_backend_fd(NULL), -EINVAL);
  assert_int_equal(fdk_loop_backend_timeout(NULL), -EINVAL);
  assert_null(fdk_loop_uv(NULL));
  fdk_loop *loop = fdkt_loop_new();
  assert_int_equal(fdk_loop_run(loop, 7), -EINVAL);
  assert_non_null(strstr(fdk_last_error(), "mode"));
  assert_int_equal(fdk_loop_post(loop, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_op_cancel(NULL), -EINVAL);
  assert_int_equal(fdk_sleep_until(loop, 0, NULL, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_sleep_until(NULL, 0, fdkt_record, NULL, NULL), -EINVAL);
  fdk_loop_free(loop);
}

static void test_versions_and_errors(void **state) {
  (void)state;
  assert_int_equal(fdk_version(), FDK_VERSION_NUMBER);
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", FDK_VERSION_MAJOR, FDK_VERSION_MINOR, FDK_VERSION_PATCH);
  assert_string_equal(fdk_version_string(), expect);
  assert_string_equal(fdk_errname(-ENOENT), "ENOENT");
  assert_string_equal(fdk_errname(EXDEV), "EXDEV");
  assert_string_equal(fdk_errname(-100000), "E100000");
  assert_string_equal(fdk_strerror(-ENOENT), strerror(ENOENT));
  assert_non_null(fdk_strerror(-100000));
  assert_int_equal(FDK_EESCAPE, -EXDEV);
  fdk_free(NULL);
}

/* The callback of an operation that completes at once still runs only from the loop. */
static void test_callback_never_inside_call(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_write(p->w, "x", 1), 1);
  char c;
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, NULL), 0);
  assert_int_equal(res.calls, 0);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, 1);
  assert_int_equal(c, 'x');
}

/* A failing call returns its error and its callback never runs. */
static void test_failed_call_no_callback(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_fd_close(p->r), 0);
  char c;
  fdkt_result res = {0};
  fdk_op *op = (fdk_op *)0x1;
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, &op), -EBADF);
  assert_ptr_equal(op, (fdk_op *)0x1);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(res.calls, 0);
}

static void test_run_modes(void **state) {
  fdkt_pipe *p = *state;
  char c;
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, NULL), 0);
  /* NOWAIT returns at once and reports the pending read. */
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  assert_true(fdk_now_ns() - t0 < 100000000);
  assert_int_equal(res.calls, 0);
  assert_int_equal(fdk_write(p->w, "y", 1), 1);
  /* ONCE waits for the readiness and runs the callback. */
  while (res.calls == 0) assert_true(fdk_loop_run(p->loop, FDK_RUN_ONCE) >= 0);
  assert_int_equal(res.result, 1);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 0);
}

typedef struct {
  fdk_loop *loop;
  pthread_t loop_thread;
  int ran;
  int on_loop_thread;
} post_state;

/* A new loop run by this thread, for the post tests. */
static post_state new_post_state(void) {
  post_state s = {0};
  assert_int_equal(fdk_loop_new(&s.loop), 0);
  s.loop_thread = pthread_self();
  return s;
}

static void posted(void *data) {
  post_state *s = data;
  s->ran++;
  s->on_loop_thread = pthread_equal(pthread_self(), s->loop_thread);
}

static void *post_after_delay(void *data) {
  post_state *s = data;
  usleep(30000);
  assert_int_equal(fdk_loop_post(s->loop, posted, s), 0);
  return NULL;
}

/* A post from another thread wakes a loop that waits and runs on the loop's thread. */
static void test_post_from_thread(void **state) {
  (void)state;
  post_state s = new_post_state();
  fdkt_result sleep_res = {0};
  fdk_op *sleep_op;
  assert_int_equal(fdk_sleep_until(s.loop, fdk_now_ns() + 10000000000LL, fdkt_record, &sleep_res, &sleep_op), 0);
  pthread_t t;
  pthread_create(&t, NULL, post_after_delay, &s);
  int64_t t0 = fdk_now_ns();
  while (!s.ran) assert_true(fdk_loop_run(s.loop, FDK_RUN_ONCE) >= 0);
  assert_true(fdk_now_ns() - t0 < 5000000000LL);
  pthread_join(t, NULL);
  assert_int_equal(s.ran, 1);
  assert_true(s.on_loop_thread);
  fdk_op_cancel(sleep_op);
  fdkt_run_until(s.loop, &sleep_res.calls, 1000);
  assert_int_equal(sleep_res.result, -ECANCELED);
  fdk_loop_free(s.loop);
}

/* Posts made while the loop is idle run at the next run; those still queued run during
 * free. */
static void test_post_before_run_and_at_free(void **state) {
  (void)state;
  post_state s = new_post_state();
  assert_int_equal(fdk_loop_post(s.loop, posted, &s), 0);
  assert_int_equal(s.ran, 0);
  assert_int_equal(fdk_loop_run(s.loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(s.ran, 1);
  assert_int_equal(fdk_loop_post(s.loop, posted, &s), 0);
  assert_int_equal(fdk_loop_free(s.loop), 0);
  assert_int_equal(s.ran, 2);
}

static void test_cancel_pending(void **state) {
  fdkt_pipe *p = *state;
  char c;
  fdkt_result res = {0};
  fdk_op *op = NULL;
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, &op), 0);
  assert_non_null(op);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_op_cancel(op), 0);
  assert_int_equal(res.calls, 0);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, -ECANCELED);
  assert_non_null(strstr(res.detail, "cancel"));
  /* The pipe is still usable after a cancelled read. */
  assert_int_equal(fdk_write(p->w, "z", 1), 1);
  assert_int_equal(fdk_read(p->r, &c, 1), 1);
}

/* An operation that already finished keeps its result when cancelled before its
 * callback ran. */
static void test_cancel_after_completion(void **state) {
  fdkt_pipe *p = *state;
  fdkt_result res = {0};
  fdk_op *op;
  assert_int_equal(fdk_write_async(p->loop, p->w, "hello", 5, fdkt_record, &res, &op), 0);
  assert_int_equal(fdk_op_cancel(op), 0);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, 5);
}

static int cancel_op(void *op) { return fdk_op_cancel(op); }

static void test_cancel_from_other_thread(void **state) {
  fdkt_pipe *p = *state;
  char c;
  fdkt_result res = {0};
  fdk_op *op;
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, &op), 0);
  fdkt_later cancel;
  fdkt_later_start(&cancel, 20000, cancel_op, op);
  fdkt_run_until(p->loop, &res.calls, 5000);
  assert_int_equal(fdkt_later_join(&cancel), 0);
  assert_int_equal(res.result, -ECANCELED);
}

/* Free completes every pending operation with -ECANCELED, runs their callbacks and
 * leaves no descriptor behind (the teardown checks). */
static void test_free_cancels_pending(void **state) {
  (void)state;
  fdkt_pipe p;
  fdk_fd *r2, *w2;
  fdkt_pipe_open(&p);
  assert_int_equal(fdk_pipe(&r2, &w2), 0);
  char c, c2;
  fdkt_result res_read = {0}, res_read2 = {0}, res_sleep = {0}, res_random = {0};
  char rnd[16];
  assert_int_equal(fdk_read_async(p.loop, p.r, &c, 1, fdkt_record, &res_read, NULL), 0);
  assert_int_equal(fdk_read_async(p.loop, r2, &c2, 1, fdkt_record, &res_read2, NULL), 0);
  assert_int_equal(fdk_sleep_until(p.loop, fdk_now_ns() + 60000000000LL, fdkt_record, &res_sleep, NULL), 0);
  assert_int_equal(fdk_getrandom_async(p.loop, rnd, sizeof rnd, 0, fdkt_record, &res_random, NULL), 0);
  assert_int_equal(fdk_loop_run(p.loop, FDK_RUN_NOWAIT), 1);
  fdkt_pipe_close(&p);
  assert_int_equal(res_read.calls, 1);
  assert_int_equal(res_read.result, -ECANCELED);
  assert_int_equal(res_read2.calls, 1);
  assert_int_equal(res_read2.result, -ECANCELED);
  assert_int_equal(res_sleep.calls, 1);
  assert_int_equal(res_sleep.result, -ECANCELED);
  /* getrandom may have run already: either result is right, but the callback ran. */
  assert_int_equal(res_random.calls, 1);
  assert_true(res_random.result == 16 || res_random.result == -ECANCELED);
  fdk_fd_unref(r2);
  fdk_fd_unref(w2);
}

/* A read that re-arms itself once from its callback. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char byte;
  int calls;
  int64_t results[2];
} rearm_once;

static void rearm_once_read(int64_t result, void *data) {
  rearm_once *r = data;
  r->results[r->calls++] = result;
  if (r->calls == 1) assert_int_equal(fdk_read_async(r->loop, r->fd, &r->byte, 1, rearm_once_read, r, NULL), 0);
}

/* Free cancels the reads that wait on a descriptor's readiness, which the loop reaches
 * through its watches rather than its list of pending operations: one re-armed from its
 * own callback, and one started while the loop never ran (its watch not registered yet).
 * Each calls back once with -ECANCELED. */
static void test_free_cancels_reads_waiting_on_watches(void **state) {
  (void)state;
  fdk_loop *loop;
  fdk_fd *r1, *w1, *r2, *w2;
  assert_int_equal(fdk_loop_new(&loop), 0);
  assert_int_equal(fdk_pipe(&r1, &w1), 0);
  assert_int_equal(fdk_pipe(&r2, &w2), 0);
  rearm_once again = {loop, r1, 0, 0, {0, 0}};
  assert_int_equal(fdk_read_async(loop, r1, &again.byte, 1, rearm_once_read, &again, NULL), 0);
  assert_int_equal(fdk_write(w1, "x", 1), 1);
  for (int i = 0; i < 1000 && again.calls == 0; i++) fdk_loop_run(loop, FDK_RUN_ONCE);
  assert_int_equal(again.calls, 1);
  assert_int_equal(again.results[0], 1);
  char c;
  fdkt_result unregistered = {0};
  assert_int_equal(fdk_read_async(loop, r2, &c, 1, fdkt_record, &unregistered, NULL), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(again.calls, 2);
  assert_int_equal(again.results[1], -ECANCELED);
  assert_int_equal(unregistered.calls, 1);
  assert_int_equal(unregistered.result, -ECANCELED);
  fdk_fd_unref(r1);
  fdk_fd_unref(w1);
  fdk_fd_unref(r2);
  fdk_fd_unref(w2);
}

typedef struct {
  fdk_loop *loop;
  int free_result;
  int run_result;
  int calls;
} reentry_state;

static void try_reentry(int64_t result, void *data) {
  (void)result;
  reentry_state *s = data;
  s->free_result = fdk_loop_free(s->loop);
  s->run_result = fdk_loop_run(s->loop, FDK_RUN_NOWAIT);
  s->calls++;
}

static void test_free_and_run_inside_callback(void **state) {
  (void)state;
  reentry_state s = {0};
  assert_int_equal(fdk_loop_new(&s.loop), 0);
  assert_int_equal(fdk_sleep_until(s.loop, 0, try_reentry, &s, NULL), 0);
  assert_int_equal(fdk_loop_run(s.loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(s.calls, 1);
  assert_int_equal(s.free_result, -EBUSY);
  assert_int_equal(s.run_result, -EBUSY);
  assert_int_equal(fdk_loop_free(s.loop), 0);
}

static void stop_loop(int64_t result, void *data) {
  (void)result;
  fdk_loop_stop(data);
}

static void test_stop(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  fdkt_result late = {0};
  fdk_op *late_op;
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 5000000, stop_loop, loop, NULL), 0);
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 10000000000LL, fdkt_record, &late, &late_op), 0);
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 1);
  assert_true(fdk_now_ns() - t0 < 5000000000LL);
  assert_int_equal(late.calls, 0);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(late.result, -ECANCELED);
}

static void test_backend_for_hosts(void **state) {
  fdk_loop *loop = *state;
  assert_int_equal(fdk_loop_backend_timeout(loop), -1);
  fdkt_result res = {0};
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 50000000, fdkt_record, &res, NULL), 0);
  int t = fdk_loop_backend_timeout(loop);
  assert_true(t >= 0 && t <= 51);
  /* Drive it as a host would: poll the backend descriptor, then run NOWAIT. */
  while (!res.calls) {
    struct pollfd p = {fdk_loop_backend_fd(loop), POLLIN, 0};
    poll(&p, 1, fdk_loop_backend_timeout(loop));
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
  }
  assert_int_equal(res.result, 0);
}

/* A new libuv loop in uv, and an fdkit loop borrowing it. */
static fdk_loop *borrow_new_uv_loop(uv_loop_t *uv) {
  assert_int_equal(uv_loop_init(uv), 0);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new_from_uv(&loop, uv), 0);
  return loop;
}

/* A borrowed libuv loop runs fdkit's operations and stays usable after fdk_loop_free. */
static void test_borrowed_uv_loop(void **state) {
  (void)state;
  uv_loop_t uv;
  fdk_loop *loop = borrow_new_uv_loop(&uv);
  assert_ptr_equal(fdk_loop_uv(loop), &uv);
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  char buf[8];
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(loop, r, buf, sizeof buf, fdkt_record, &res, NULL), 0);
  assert_int_equal(fdk_write(w, "abc", 3), 3);
  while (!res.calls) uv_run(&uv, UV_RUN_ONCE);
  assert_int_equal(res.result, 3);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  assert_int_equal(fdk_loop_free(loop), 0);
  /* Nothing of fdkit's is left on the host's loop. */
  assert_int_equal(uv_run(&uv, UV_RUN_NOWAIT), 0);
  assert_int_equal(uv_loop_close(&uv), 0);
}

static void host_poll_cb(uv_poll_t *h, int status, int events) {
  (void)status;
  (void)events;
  uv_poll_stop(h);
}

/* The host watches a descriptor with its own libuv handle on the loop fdkit borrows;
 * fdkit's wait on the same number still works (libuv allows one poll handle per number,
 * so fdkit falls back to its own epoll set). */
static void test_host_handle_on_same_descriptor(void **state) {
  (void)state;
  uv_loop_t uv;
  fdk_loop *loop = borrow_new_uv_loop(&uv);
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  uv_poll_t host;
  assert_int_equal(uv_poll_init(&uv, &host, fdk_fd_raw(r)), 0);
  assert_int_equal(uv_poll_start(&host, UV_READABLE, host_poll_cb), 0);
  char buf[4];
  fdkt_result res = {0};
  const char *forced = getenv("FDKIT_READINESS");
  if (forced && !strcmp(forced, "uv_poll")) {
    /* The portable mechanism alone cannot share the number: it says so, when the
     * registration is made (with the next poll, so through the callback). */
    assert_int_equal(fdk_read_async(loop, r, buf, sizeof buf, fdkt_record, &res, NULL), 0);
    while (!res.calls) uv_run(&uv, UV_RUN_ONCE);
    assert_int_equal(res.result, -EEXIST);
  } else {
    assert_int_equal(fdk_read_async(loop, r, buf, sizeof buf, fdkt_record, &res, NULL), 0);
    assert_int_equal(fdk_write(w, "ok", 2), 2);
    while (!res.calls) uv_run(&uv, UV_RUN_ONCE);
    assert_int_equal(res.result, 2);
  }
  uv_close((uv_handle_t *)&host, NULL);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  assert_int_equal(fdk_loop_free(loop), 0);
  uv_run(&uv, UV_RUN_DEFAULT);
  assert_int_equal(uv_loop_close(&uv), 0);
}

typedef struct {
  int64_t deadline;
  int64_t woke;
  int calls;
} sleeper;

static void woke(int64_t result, void *data) {
  sleeper *s = data;
  assert_int_equal(result, 0);
  s->woke = fdk_now_ns();
  s->calls++;
}

/* Sleeps never end before their deadline, whatever rounding libuv's timers do. */
static void test_sleep_never_early(void **state) {
  fdk_loop *loop = *state;
  enum { N = 40 };
  sleeper s[N];
  int64_t now = fdk_now_ns();
  for (int i = 0; i < N; i++) {
    s[i].deadline = now + (int64_t)(i % 7) * 1300000 + i * 37000;
    s[i].calls = 0;
    assert_int_equal(fdk_sleep_until(loop, s[i].deadline, woke, &s[i], NULL), 0);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(s[i].calls, 1);
    assert_true(s[i].woke >= s[i].deadline);
  }
}

static void test_last_error_before_failing_callback(void **state) {
  fdk_loop *loop = *state;
  fdkt_result res = {0};
  fdk_op *op;
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 10000000000LL, fdkt_record, &res, &op), 0);
  fdk_op_cancel(op);
  /* Another failure on this thread in between must not be what the callback sees. */
  assert_int_equal(fdk_loop_run(loop, 99), -EINVAL);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(res.result, -ECANCELED);
  assert_non_null(strstr(res.detail, "sleep_until"));
}

static int64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void record_lookup(int result, fdk_addrinfo *res, void *data) {
  fdkt_result *r = data;
  fdk_addrinfo_free(res);
  fdkt_record(result, r);
}

/* Free waits for a call running on a worker without burning the CPU meanwhile. */
static void test_free_waits_without_spinning(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  char host[64];
  fdkt_result res = {0};
  assert_int_equal(fdk_getaddrinfo_async(loop, fdkt_slow_host(600, host, sizeof host), NULL, AF_UNSPEC, 0, 0, 0,
                                         record_lookup, &res, NULL),
                   0);
  /* Give the worker time to take the lookup, so free has to wait for it. */
  usleep(50000);
  int64_t wall0 = fdk_now_ns(), cpu0 = thread_cpu_ns();
  assert_int_equal(fdk_loop_free(loop), 0);
  int64_t wall = fdk_now_ns() - wall0, cpu = thread_cpu_ns() - cpu0;
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, -ECANCELED);
  assert_true(wall >= 300000000);
  if (cpu * 10 > wall) fail_msg("free used %lld ms of CPU over %lld ms", (long long)(cpu / 1000000), (long long)(wall / 1000000));
}

/* Any deadline in the past completes at once, however far back (no overflow). */
static void test_sleep_until_past(void **state) {
  fdk_loop *loop = *state;
  const int64_t deadlines[] = {INT64_MIN, INT64_MIN + 1, -1, 0, fdk_now_ns() - 1};
  enum { N = sizeof deadlines / sizeof deadlines[0] };
  fdkt_result res[N];
  memset(res, 0, sizeof res);
  for (int i = 0; i < N; i++) assert_int_equal(fdk_sleep_until(loop, deadlines[i], fdkt_record, &res[i], NULL), 0);
  fdkt_result far = {0};
  fdk_op *far_op;
  assert_int_equal(fdk_sleep_until(loop, INT64_MAX, fdkt_record, &far, &far_op), 0);
  int done = 0;
  int64_t t0 = fdk_now_ns();
  while (!done) {
    assert_true(fdk_now_ns() - t0 < 1000000000);
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    done = 1;
    for (int i = 0; i < N; i++) done &= res[i].calls == 1;
  }
  for (int i = 0; i < N; i++) assert_int_equal(res[i].result, 0);
  assert_int_equal(far.calls, 0);
  assert_int_equal(fdk_op_cancel(far_op), 0);
  fdkt_run_until(loop, &far.calls, 1000);
  assert_int_equal(far.result, -ECANCELED);
}

/* A plain epoll host: the backend descriptor among its own. It follows the documented
 * rule: run fdkit (NOWAIT) when the backend descriptor is readable or fdkit's timeout
 * expired, and ask for the timeout again before every wait. */
typedef struct {
  fdk_loop *loop;
  int ep;
  int backend;
} epoll_host;

static void epoll_host_new(epoll_host *h, fdk_loop *loop) {
  h->loop = loop;
  h->ep = epoll_create1(EPOLL_CLOEXEC);
  assert_true(h->ep >= 0);
  h->backend = fdk_loop_backend_fd(loop);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = h->backend};
  assert_int_equal(epoll_ctl(h->ep, EPOLL_CTL_ADD, h->backend, &ev), 0);
}

static void epoll_host_add(epoll_host *h, int fd) {
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
  assert_int_equal(epoll_ctl(h->ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

/* Waits once, at most cap_ms; runs fdkit if its turn came (*ran). Returns the host's own
 * descriptor that was readable, or -1. */
static int epoll_host_turn(epoll_host *h, int timeout, int cap_ms, int *ran) {
  int wait = timeout < 0 || timeout > cap_ms ? cap_ms : timeout;
  struct epoll_event ev[4];
  int n = epoll_wait(h->ep, ev, 4, wait);
  int run = n == 0 && wait == timeout, own = -1;
  for (int i = 0; i < n; i++) {
    if (ev[i].data.fd == h->backend) run = 1;
    else own = ev[i].data.fd;
  }
  if (run) assert_true(fdk_loop_run(h->loop, FDK_RUN_NOWAIT) >= 0);
  *ran = run;
  return own;
}

/* The timeout a host is given counts down between runs: a host woken often by its own
 * timer still sees fdkit's timer come due. */
static void test_host_timeout_counts_down(void **state) {
  fdk_loop *loop = *state;
  epoll_host h;
  epoll_host_new(&h, loop);
  int tick = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  struct itimerspec every_5ms = {{0, 5000000}, {0, 5000000}};
  assert_int_equal(timerfd_settime(tick, 0, &every_5ms, NULL), 0);
  epoll_host_add(&h, tick);
  fdkt_result res = {0};
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_sleep_until(loop, t0 + 50000000, fdkt_record, &res, NULL), 0);
  while (!res.calls && fdk_now_ns() - t0 < 1000000000) {
    int ran, own = epoll_host_turn(&h, fdk_loop_backend_timeout(loop), 100, &ran);
    uint64_t ticks;
    if (own == tick) assert_int_equal(read(tick, &ticks, sizeof ticks), sizeof ticks);
  }
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, 0);
  close(tick);
  close(h.ep);
}

static void count_post(void *data) { ++*(int *)data; }

/* Work started by host code outside fdk_loop_run (an operation that completes at once,
 * one that waits, a new timer, a post) makes the backend descriptor readable, even on a
 * loop that never ran: a host that computed its timeout before still hears of it. */
static void test_host_woken_by_new_work(void **state) {
  fdk_loop *loop = *state;
  epoll_host h;
  epoll_host_new(&h, loop);
  int own[2];
  assert_int_equal(pipe2(own, O_CLOEXEC), 0);
  epoll_host_add(&h, own[0]);
  fdk_fd *a, *b;
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  fdkt_result wrote = {0}, got = {0}, slept = {0};
  int posts = 0;
  char c = 0;
  assert_int_equal(write(own[1], "!", 1), 1);
  int timeout = fdk_loop_backend_timeout(loop);
  int64_t t0 = fdk_now_ns();
  while ((!wrote.calls || !got.calls || !slept.calls || !posts) && fdk_now_ns() - t0 < 1000000000) {
    int ran, turn_own = epoll_host_turn(&h, timeout, 100, &ran);
    /* Only a run of fdkit changes the timeout the host waits with. */
    if (ran) timeout = fdk_loop_backend_timeout(loop);
    if (turn_own == own[0]) {
      char x;
      assert_int_equal(read(own[0], &x, 1), 1);
      /* Host code calling fdkit between two waits. */
      assert_int_equal(fdk_read_async(loop, b, &c, 1, fdkt_record, &got, NULL), 0);
      assert_int_equal(fdk_write_async(loop, a, "w", 1, fdkt_record, &wrote, NULL), 0);
      assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 20000000, fdkt_record, &slept, NULL), 0);
      assert_int_equal(fdk_loop_post(loop, count_post, &posts), 0);
    }
  }
  assert_int_equal(wrote.calls, 1);
  assert_int_equal(wrote.result, 1);
  assert_int_equal(got.calls, 1);
  assert_int_equal(c, 'w');
  assert_int_equal(slept.calls, 1);
  assert_int_equal(posts, 1);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
  close(own[0]);
  close(own[1]);
  close(h.ep);
}

typedef struct {
  fdk_loop *loop;
  fdk_fd *r;
  char c;
  fdkt_result got;
} watch_in_callback;

static void start_read_in_callback(int64_t result, void *data) {
  (void)result;
  watch_in_callback *w = data;
  assert_int_equal(fdk_read_async(w->loop, w->r, &w->c, 1, fdkt_record, &w->got, NULL), 0);
}

static void *write_later(void *data) {
  usleep(50000);
  assert_int_equal(fdk_write(data, "!", 1), 1);
  return NULL;
}

/* A descriptor watch started inside a callback of the host's run reaches the backend
 * descriptor before the host waits again (with FDKIT_READINESS=uv_poll it is a new libuv
 * watch, which libuv adds only when it polls). */
static void test_host_hears_watch_started_in_callback(void **state) {
  (void)state;
  watch_in_callback w = {0};
  assert_int_equal(fdk_loop_new(&w.loop), 0);
  fdk_fd *wr;
  assert_int_equal(fdk_pipe(&w.r, &wr), 0);
  epoll_host h;
  epoll_host_new(&h, w.loop);
  /* A worker's completion is delivered in libuv's poll phase, after the new watches of
   * this turn were added. */
  char rnd[4];
  assert_int_equal(fdk_getrandom_async(w.loop, rnd, sizeof rnd, 0, start_read_in_callback, &w, NULL), 0);
  pthread_t t;
  pthread_create(&t, NULL, write_later, wr);
  int64_t t0 = fdk_now_ns();
  int timeout = fdk_loop_backend_timeout(w.loop);
  while (!w.got.calls && fdk_now_ns() - t0 < 2000000000) {
    int ran;
    epoll_host_turn(&h, timeout, 500, &ran);
    if (ran) timeout = fdk_loop_backend_timeout(w.loop);
  }
  pthread_join(t, NULL);
  assert_int_equal(w.got.calls, 1);
  assert_int_equal(w.c, '!');
  fdk_fd_unref(w.r);
  fdk_fd_unref(wr);
  close(h.ep);
  fdk_loop_free(w.loop);
}

/* Work started before a host takes the backend descriptor still wakes it: the descriptor
 * is readable once handed out, and one run delivers the read. */
static void test_host_hears_work_started_before_backend_fd(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_write(p->w, "!", 1), 1);
  struct pollfd backend = {fdk_loop_backend_fd(p->loop), POLLIN, 0};
  assert_int_equal(poll(&backend, 1, 2000), 1);
  for (int i = 0; i < 3 && !p->res.calls; i++) assert_true(fdk_loop_run(p->loop, FDK_RUN_NOWAIT) >= 0);
  assert_int_equal(p->res.calls, 1);
  assert_int_equal(p->res.result, 1);
  assert_int_equal(p->c, '!');
}

/* A host polls the backend descriptor and runs the loop when it is readable: with nothing
 * to do, the descriptor must go quiet after at most one run, or the host spins. Handing it
 * out used to wake libuv with nothing alive, so libuv never polled its own wake-up and the
 * descriptor stayed readable for good: on a new loop, after a run of its own, and after
 * a pool call. */
static int host_runs_until_quiet(fdk_loop *loop) {
  struct pollfd backend = {fdk_loop_backend_fd(loop), POLLIN, 0};
  int runs = 0;
  while (runs < 100 && poll(&backend, 1, 0) == 1) {
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    runs++;
  }
  return runs;
}

static void test_idle_backend_lets_host_sleep(void **state) {
  (void)state;
  fdk_loop *fresh = fdkt_loop_new();
  assert_true(host_runs_until_quiet(fresh) <= 1);
  assert_int_equal(fdk_loop_free(fresh), 0);

  fdk_loop *ran = fdkt_loop_new();
  fdkt_result slept = {0}, synced = {0};
  assert_int_equal(fdk_sleep_until(ran, fdk_now_ns(), fdkt_record, &slept, NULL), 0);
  assert_int_equal(fdk_loop_run(ran, FDK_RUN_DEFAULT), 0);
  fdk_fd *fd = NULL;
  assert_int_equal(fdk_fd_adopt(&fd, memfd_create("fdkt-idle", MFD_CLOEXEC), 0), 0);
  assert_int_equal(fdk_fsync_async(ran, fd, 0, fdkt_record, &synced, NULL), 0);
  assert_int_equal(fdk_loop_run(ran, FDK_RUN_DEFAULT), 0);
  assert_int_equal(slept.calls + synced.calls, 2);
  assert_true(host_runs_until_quiet(ran) <= 1);

  /* Handed out, a call that completes leaves it quiet again. */
  assert_int_equal(fdk_fsync_async(ran, fd, 0, fdkt_record, &synced, NULL), 0);
  struct pollfd backend = {fdk_loop_backend_fd(ran), POLLIN, 0};
  for (int i = 0; i < 100 && synced.calls < 2; i++) {
    assert_int_equal(poll(&backend, 1, 5000), 1);
    assert_true(fdk_loop_run(ran, FDK_RUN_NOWAIT) >= 0);
  }
  assert_int_equal(synced.calls, 2);
  assert_true(host_runs_until_quiet(ran) <= 1);

  /* A post from another thread to the idle loop wakes the host once, then it is quiet. */
  post_state s = {.loop = ran, .loop_thread = pthread_self()};
  pthread_t poster;
  assert_int_equal(pthread_create(&poster, NULL, post_after_delay, &s), 0);
  assert_int_equal(poll(&backend, 1, 5000), 1);
  assert_int_equal(pthread_join(poster, NULL), 0);
  assert_true(host_runs_until_quiet(ran) <= 1);
  assert_int_equal(s.ran, 1);
  assert_true(s.on_loop_thread);
  fdk_fd_unref(fd);
  assert_int_equal(fdk_loop_free(ran), 0);
}

/* Remote handles: argument checks, a post that runs on the loop thread, -ESHUTDOWN once the
 * loop is freed (fn never runs), references kept independently of the loop. */
static void test_remote_lifecycle(void **state) {
  (void)state;
  post_state s = new_post_state();
  fdk_loop_remote *remote = NULL;
  assert_int_equal(fdk_loop_remote_new(NULL, s.loop), -EINVAL);
  assert_int_equal(fdk_loop_remote_new(&remote, NULL), -EINVAL);
  assert_null(remote);
  assert_int_equal(fdk_loop_remote_new(&remote, s.loop), 0);
  assert_int_equal(fdk_loop_remote_post(NULL, posted, &s), -EINVAL);
  assert_int_equal(fdk_loop_remote_post(remote, NULL, &s), -EINVAL);
  assert_ptr_equal(fdk_loop_remote_ref(remote), remote);
  assert_null(fdk_loop_remote_ref(NULL));
  assert_null(fdk_loop_remote_unref(NULL));
  assert_int_equal(fdk_loop_remote_post(remote, posted, &s), 0);
  assert_int_equal(fdk_loop_run(s.loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(s.ran, 1);
  assert_true(s.on_loop_thread);
  /* Queued before the free: runs during it. */
  assert_int_equal(fdk_loop_remote_post(remote, posted, &s), 0);
  assert_int_equal(fdk_loop_free(s.loop), 0);
  assert_int_equal(s.ran, 2);
  assert_int_equal(fdk_loop_remote_post(remote, posted, &s), -ESHUTDOWN);
  assert_non_null(strstr(fdk_last_error(), "freed"));
  assert_int_equal(s.ran, 2);
  assert_null(fdk_loop_remote_unref(remote));
  assert_int_equal(fdk_loop_remote_post(remote, posted, &s), -ESHUTDOWN);
  assert_null(fdk_loop_remote_unref(remote));
}

static void count_run(void *data) { atomic_fetch_add((atomic_int *)data, 1); }

typedef struct {
  fdk_loop *loop;
  fdk_loop_remote *remote;
  fdk_loop_remote *created_during_free;
  int new_result, post_result;
} free_state;

/* Runs during fdk_loop_free: the loop is going, so neither a new remote nor a post through
 * an existing one is accepted any more. */
static void post_during_free(void *data) {
  free_state *f = data;
  f->new_result = fdk_loop_remote_new(&f->created_during_free, f->loop);
  f->post_result = fdk_loop_remote_post(f->remote, count_run, NULL);
}

static void test_remote_refused_while_freeing(void **state) {
  (void)state;
  free_state f = {0};
  assert_int_equal(fdk_loop_new(&f.loop), 0);
  assert_int_equal(fdk_loop_remote_new(&f.remote, f.loop), 0);
  assert_int_equal(fdk_loop_post(f.loop, post_during_free, &f), 0);
  assert_int_equal(fdk_loop_free(f.loop), 0);
  assert_int_equal(f.new_result, -ESHUTDOWN);
  assert_null(f.created_during_free);
  assert_int_equal(f.post_result, -ESHUTDOWN);
  fdk_loop_remote_unref(f.remote);
}

enum { kPosters = 4, kRounds = 50 };

typedef struct {
  fdk_loop_remote *remote;
  atomic_int *ran;
  long accepted;
  int last_result;
} poster;

/* Posts until the loop is gone, then drops its reference: the remote outlives the loop. */
static void *post_until_shutdown(void *data) {
  poster *p = data;
  int r;
  while ((r = fdk_loop_remote_post(p->remote, count_run, p->ran)) == 0) p->accepted++;
  p->last_result = r;
  fdk_loop_remote_unref(p->remote);
  return NULL;
}

/* Threads post through their own references while the loop thread runs the loop and then
 * frees it: every accepted post runs exactly once, every thread ends with -ESHUTDOWN, and
 * (under ASan and TSan) nothing touches the freed loop. */
static void test_remote_post_races_free(void **state) {
  (void)state;
  for (int round = 0; round < kRounds; round++) {
    fdk_loop *loop;
    atomic_int ran = 0;
    assert_int_equal(fdk_loop_new(&loop), 0);
    fdk_loop_remote *remote;
    assert_int_equal(fdk_loop_remote_new(&remote, loop), 0);
    poster posters[kPosters];
    pthread_t threads[kPosters];
    for (int i = 0; i < kPosters; i++) {
      posters[i] = (poster){fdk_loop_remote_ref(remote), &ran, 0, 0};
      pthread_create(&threads[i], NULL, post_until_shutdown, &posters[i]);
    }
    fdk_loop_remote_unref(remote);
    for (int i = 0; i < round % 5; i++) assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
    assert_int_equal(fdk_loop_free(loop), 0);
    long accepted = 0;
    for (int i = 0; i < kPosters; i++) {
      pthread_join(threads[i], NULL);
      assert_int_equal(posters[i].last_result, -ESHUTDOWN);
      accepted += posters[i].accepted;
    }
    assert_int_equal(atomic_load(&ran), accepted);
  }
}

/* Many sleeps at once: each completes once, never early, in deadline order (ties in the
 * order they were started); cancelled ones complete with -ECANCELED and leave the rest
 * untouched. */
enum { ORDER_SLEEPS = 300 };
typedef struct {
  int64_t deadline, result, at;
  int calls, index;
} order_slot;
static int order_delivered[ORDER_SLEEPS];
static int order_count;

static void on_order_sleep(int64_t result, void *data) {
  order_slot *s = data;
  s->calls++;
  s->result = result;
  s->at = fdk_now_ns();
  if (result == 0) order_delivered[order_count++] = s->index;
}

static void test_sleeps_complete_in_deadline_order(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  static order_slot slots[ORDER_SLEEPS];
  fdk_op *ops[ORDER_SLEEPS];
  int64_t base = fdk_now_ns() + 20000000;
  order_count = 0;
  for (int i = 0; i < ORDER_SLEEPS; i++) {
    /* 50 distinct deadlines over 5 ms: many ties. */
    slots[i] = (order_slot){base + (int64_t)((i * 7919) % 50) * 100000, 0, 0, 0, i};
    assert_int_equal(fdk_sleep_until(loop, slots[i].deadline, on_order_sleep, &slots[i], &ops[i]), 0);
  }
  for (int i = 0; i < ORDER_SLEEPS; i += 5) assert_int_equal(fdk_op_cancel(ops[i]), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < ORDER_SLEEPS; i++) {
    assert_int_equal(slots[i].calls, 1);
    if (i % 5 == 0) {
      assert_int_equal(slots[i].result, -ECANCELED);
    } else {
      assert_int_equal(slots[i].result, 0);
      assert_true(slots[i].at >= slots[i].deadline);
    }
  }
  assert_int_equal(order_count, ORDER_SLEEPS - ORDER_SLEEPS / 5);
  for (int k = 1; k < order_count; k++) {
    order_slot *a = &slots[order_delivered[k - 1]], *b = &slots[order_delivered[k]];
    assert_true(a->deadline < b->deadline || (a->deadline == b->deadline && a->index < b->index));
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* The parent's loop in a forked child: every area's asynchronous calls answer -ECHILD and
 * act on none of the descriptors the child shares with its parent (the pipe keeps its byte,
 * the socket stays open for writing, no directory appears); the parent's loop still works. */
static void on_run_done(int result, fdk_run_result *res, void *data) {
  (void)result;
  fdk_run_result_free(res);
  ++*(int *)data;
}

static int async_calls_refused_in_child(fdk_loop *loop, fdk_fd *r, fdk_fd *sock, const char *dir_path) {
  char c;
  fdkt_result res = {0};
  int run_calls = 0;
  const char *argv[] = {"true", NULL};
  fdk_run_opts *opts;
  if (fdk_run_opts_new(&opts, argv) < 0) return 2;
  int ok = fdk_read_async(loop, r, &c, 1, fdkt_record, &res, NULL) == -ECHILD &&
           strstr(fdk_last_error(), "fork") != NULL &&
           fdk_mkdirat_async(loop, fdk_dir_fs(), dir_path, 0700, fdkt_record, &res, NULL) == -ECHILD &&
           fdk_shutdown_async(loop, sock, FDK_SHUT_WR, fdkt_record, &res, NULL) == -ECHILD &&
           fdk_run_async(loop, opts, on_run_done, &run_calls, NULL) == -ECHILD &&
           fdk_sleep_until(loop, 0, fdkt_record, &res, NULL) == -ECHILD && res.calls == 0 && run_calls == 0;
  fdk_run_opts_free(opts);
  return ok && fdk_loop_free(loop) == 0 ? 0 : 1;
}

static void test_async_calls_after_fork(void **state) {
  fdkt_pipe *p = *state;
  fdk_fd *a, *b;
  assert_int_equal(fdk_write(p->w, "x", 1), 1);
  assert_int_equal(fdk_socketpair(&a, &b, AF_UNIX, SOCK_STREAM, 0), 0);
  char dir_path[] = "/tmp/fdkt-fork-XXXXXX";
  assert_non_null(mkdtemp(dir_path));
  char made[64];
  snprintf(made, sizeof made, "%s/made", dir_path);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) _exit(async_calls_refused_in_child(p->loop, p->r, a, made));
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  struct stat st;
  assert_int_equal(stat(made, &st), -1);
  assert_int_equal(fdk_write(a, "y", 1), 1);
  char c = 0;
  assert_int_equal(fdk_read(b, &c, 1), 1);
  assert_int_equal(c, 'y');
  fdkt_result res = {0};
  assert_int_equal(fdk_read_async(p->loop, p->r, &c, 1, fdkt_record, &res, NULL), 0);
  fdkt_run_until(p->loop, &res.calls, 5000);
  assert_int_equal(res.result, 1);
  assert_int_equal(c, 'x');
  assert_int_equal(rmdir(dir_path), 0);
  fdk_fd_unref(a);
  fdk_fd_unref(b);
}

/* Every epoll wait of the process, counted, and those that only poll (a timeout of 0):
 * through the C library (libuv's, and fdkit's in sanitized builds), and those fdkit's loop
 * makes by the instruction (count_loop_waits). */
static atomic_int epoll_waits, epoll_polls;
static int (*real_epoll_wait)(int, struct epoll_event *, int, int);
static int (*real_epoll_pwait)(int, struct epoll_event *, int, int, const sigset_t *);

__attribute__((constructor)) static void find_real_epoll_waits(void) {
  real_epoll_wait = (int (*)(int, struct epoll_event *, int, int))dlsym(RTLD_NEXT, "epoll_wait");
  real_epoll_pwait = (int (*)(int, struct epoll_event *, int, int, const sigset_t *))dlsym(RTLD_NEXT, "epoll_pwait");
}

int epoll_wait(int ep, struct epoll_event *events, int max, int timeout) {
  atomic_fetch_add(&epoll_waits, 1);
  if (timeout == 0) atomic_fetch_add(&epoll_polls, 1);
  return real_epoll_wait(ep, events, max, timeout);
}

int epoll_pwait(int ep, struct epoll_event *events, int max, int timeout, const sigset_t *mask) {
  atomic_fetch_add(&epoll_waits, 1);
  if (timeout == 0) atomic_fetch_add(&epoll_polls, 1);
  return real_epoll_pwait(ep, events, max, timeout, mask);
}

static void count_bare_wait(int timeout) {
  atomic_fetch_add(&epoll_waits, 1);
  if (timeout == 0) atomic_fetch_add(&epoll_polls, 1);
}

/* Setup of the tests that count the loop's waits: the waits that fdkit's loop makes by the
 * instruction are counted too, from now on (the supervisor's descriptor stays open for
 * good, so it is made before the descriptor count that the teardown compares with). */
static int counting_setup(void **state) {
  int r = fdkt_count_bare_epoll_pwaits(count_bare_wait);
  if (r < 0 && r != -ENOTSUP) return -1;
  return fdkt_setup(state);
}

static void count_loop_waits(void) {
  int r = fdkt_count_bare_epoll_pwaits(count_bare_wait);
  if (r == -ENOTSUP) skip();
  assert_int_equal(r, 0);
}

/* Descriptors that became ready together are delivered after one epoll wait: a loop run
 * only by fdk_loop_run waits on its set of watches itself, not through libuv's backend
 * (which would take a second wait to learn which watches are ready). */
static void test_one_wait_per_wakeup(void **state) {
  (void)state;
  count_loop_waits();
  fdk_loop *loop = fdkt_loop_new();
  fdk_fd *r[3], *w[3];
  char c[3];
  fdkt_result got[3] = {{0}};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(fdk_pipe(&r[i], &w[i]), 0);
    assert_int_equal(fdk_read_async(loop, r[i], &c[i], 1, fdkt_record, &got[i], NULL), 0);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
  for (int i = 0; i < 3; i++) assert_int_equal(fdk_write(w[i], "abc" + i, 1), 1);
  int before = atomic_load(&epoll_waits);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_ONCE), 0);
  assert_int_equal(atomic_load(&epoll_waits) - before, 1);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(got[i].calls, 1);
    assert_int_equal(got[i].result, 1);
    assert_int_equal(c[i], "abc"[i]);
    fdk_fd_unref(r[i]);
    fdk_fd_unref(w[i]);
  }
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Whether fdk_loop_run waits on the loop's epoll set itself, and so may poll it before it
 * blocks: not where every watch has a libuv poll handle of its own. */
static int loop_waits_itself(void) {
  const char *forced = getenv("FDKIT_READINESS");
  return !forced || (strcmp(forced, "uv_poll") != 0 && strcmp(forced, "mixed") != 0);
}

/* A loop whose last blocking wait ended at once: a read waits on an empty pipe, and the
 * byte arrives before FDK_RUN_ONCE blocks. Tried a few times: a wait counts as quick only
 * if the thread was not preempted during it. */
static void make_waits_quick(fdk_loop *loop, fdk_fd *r, fdk_fd *w) {
  for (int i = 0; i < 5; i++) {
    char c;
    fdkt_result got = {0};
    assert_int_equal(fdk_read_async(loop, r, &c, 1, fdkt_record, &got, NULL), 0);
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_NOWAIT), 1);
    assert_int_equal(fdk_write(w, "q", 1), 1);
    int64_t t0 = fdk_now_ns();
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_ONCE), 0);
    assert_int_equal(got.calls, 1);
    if (fdk_now_ns() - t0 < 100000) return;
  }
}

/* A pipe on a loop whose waits were quick, with a one-byte read of it started. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *r, *w;
  char c;
  fdkt_result got;
} quick_pipe;

static void quick_pipe_open(quick_pipe *q) {
  memset(q, 0, sizeof *q);
  q->loop = fdkt_loop_new();
  assert_int_equal(fdk_pipe(&q->r, &q->w), 0);
  make_waits_quick(q->loop, q->r, q->w);
  assert_int_equal(fdk_read_async(q->loop, q->r, &q->c, 1, fdkt_record, &q->got, NULL), 0);
}

static void quick_pipe_close(quick_pipe *q) {
  fdk_fd_unref(q->r);
  fdk_fd_unref(q->w);
  assert_int_equal(fdk_loop_free(q->loop), 0);
}

/* Before it blocks, a loop whose waits end quickly polls its set for a moment (it then sees
 * the other side's write without a sleep and a wake-up); once a wait took long, it blocks
 * at once again, and a blocked run costs next to no CPU (whether or not the loop waits
 * itself). */
static void test_polls_before_blocking_only_while_it_pays(void **state) {
  (void)state;
  count_loop_waits();
  quick_pipe q;
  quick_pipe_open(&q);
  /* The next wait polls first, and the poll finds the byte: no blocking wait. */
  assert_int_equal(fdk_loop_run(q.loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(fdk_write(q.w, "p", 1), 1);
  int waits = atomic_load(&epoll_waits), polls = atomic_load(&epoll_polls);
  assert_int_equal(fdk_loop_run(q.loop, FDK_RUN_ONCE), 0);
  assert_int_equal(q.got.calls, 1);
  int own = loop_waits_itself();
  if (own) {
    assert_int_equal(atomic_load(&epoll_waits) - waits, 1);
    assert_int_equal(atomic_load(&epoll_polls) - polls, 1);
  }
  /* Nothing comes: a poll that finds nothing, then a wait of 50 ms that costs no CPU. */
  q.got.calls = 0;
  assert_int_equal(fdk_read_async(q.loop, q.r, &q.c, 1, fdkt_record, &q.got, NULL), 0);
  for (int round = 0; round < 2; round++) {
    fdkt_result slept = {0};
    int64_t t0 = fdk_now_ns(), cpu0 = thread_cpu_ns();
    assert_int_equal(fdk_sleep_until(q.loop, t0 + 50000000, fdkt_record, &slept, NULL), 0);
    polls = atomic_load(&epoll_polls);
    waits = atomic_load(&epoll_waits);
    while (slept.calls == 0) assert_int_equal(fdk_loop_run(q.loop, FDK_RUN_ONCE), 1);
    int64_t wall = fdk_now_ns() - t0, cpu = thread_cpu_ns() - cpu0;
    assert_true(wall >= 50000000);
    if (cpu * 20 > wall) fail_msg("a 50 ms wait used %lld us of CPU", (long long)(cpu / 1000));
    int blocking = (atomic_load(&epoll_waits) - waits) - (atomic_load(&epoll_polls) - polls);
    assert_true(blocking >= 1);
    /* The first round still polls (the last wait was quick); after its 50 ms wait, the
     * second blocks at once. */
    if (own && round == 0) assert_true(atomic_load(&epoll_polls) - polls >= 1);
    else if (own) assert_int_equal(atomic_load(&epoll_polls) - polls, 0);
  }
  assert_int_equal(q.got.calls, 0);
  quick_pipe_close(&q);
}

/* FDK_RUN_NOWAIT never polls longer than once, even on a loop whose waits pay for a poll;
 * and a loop that polls before it blocks still wakes for its sleep on time. */
static void test_nowait_and_sleeps_unchanged_by_polling(void **state) {
  (void)state;
  count_loop_waits();
  quick_pipe q;
  quick_pipe_open(&q);
  int waits = atomic_load(&epoll_waits), polls = atomic_load(&epoll_polls);
  for (int i = 0; i < 100; i++) assert_int_equal(fdk_loop_run(q.loop, FDK_RUN_NOWAIT), 1);
  assert_int_equal(atomic_load(&epoll_waits) - waits, 100);
  assert_int_equal(atomic_load(&epoll_polls) - polls, 100);
  /* Still a loop whose waits were quick: its next wait polls, then blocks until the sleep. */
  fdkt_result slept = {0};
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_sleep_until(q.loop, t0 + 20000000, fdkt_record, &slept, NULL), 0);
  polls = atomic_load(&epoll_polls);
  while (slept.calls == 0) assert_int_equal(fdk_loop_run(q.loop, FDK_RUN_ONCE), 1);
  int64_t late = fdk_now_ns() - t0 - 20000000;
  if (loop_waits_itself()) assert_true(atomic_load(&epoll_polls) - polls >= 1);
  assert_true(late >= 0);
  if (late > 15000000) fail_msg("the sleep ended %lld us late", (long long)(late / 1000));
  assert_int_equal(q.got.calls, 0);
  quick_pipe_close(&q);
}

/* A connect that waits on the worker pool until the listener accepts: a blocking-mode
 * socket's asynchronous connect runs there, and a Unix listener with a backlog of 0 and one
 * connection queued makes the next connect wait for an accept. */
typedef struct {
  int listener, queued;
  struct sockaddr_un addr;
  pthread_t accepter;
} pool_connect;

static void pool_connect_setup(pool_connect *pc) {
  memset(pc, 0, sizeof *pc);
  pc->addr.sun_family = AF_UNIX;
  snprintf(pc->addr.sun_path + 1, sizeof pc->addr.sun_path - 1, "fdkt-pool-wake-%d", (int)getpid());
  pc->listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(pc->listener >= 0);
  assert_int_equal(bind(pc->listener, (struct sockaddr *)&pc->addr, sizeof pc->addr), 0);
  assert_int_equal(listen(pc->listener, 0), 0);
  pc->queued = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_int_equal(connect(pc->queued, (struct sockaddr *)&pc->addr, sizeof pc->addr), 0);
}

static void *accept_later(void *arg) {
  pool_connect *pc = arg;
  usleep(50 * 1000);
  int conn = accept4(pc->listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn >= 0) close(conn);
  return NULL;
}

/* Starts the connect on the pool and a thread that accepts in 50 ms, while the loop sleeps. */
static fdk_fd *pool_connect_start(pool_connect *pc, fdk_loop *loop, fdkt_result *res) {
  int raw = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, FDK_FD_BLOCKING), 0);
  assert_int_equal(fdk_connect_async(loop, fd, (struct sockaddr *)&pc->addr, sizeof pc->addr, fdkt_record, res, NULL), 0);
  assert_int_equal(pthread_create(&pc->accepter, NULL, accept_later, pc), 0);
  return fd;
}

static void pool_connect_teardown(pool_connect *pc) {
  close(pc->queued);
  close(pc->listener);
}

/* A worker pool call that completes while the loop sleeps in its own wait wakes it, and one
 * run delivers it. Handed out, the backend descriptor then wakes the host for the next one. */
static void test_pool_wakes_sleeping_loop_and_host(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  pool_connect pc;
  pool_connect_setup(&pc);
  fdkt_result res = {0};
  fdk_fd *fd = pool_connect_start(&pc, loop, &res);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_ONCE), 0);
  assert_int_equal(res.calls, 1);
  assert_int_equal(res.result, 0);
  assert_int_equal(pthread_join(pc.accepter, NULL), 0);
  fdk_fd_unref(fd);

  /* The listener's queue is full again: the connect just made waits there. */
  struct pollfd backend = {fdk_loop_backend_fd(loop), POLLIN, 0};
  fdkt_result second = {0};
  fd = pool_connect_start(&pc, loop, &second);
  for (int i = 0; i < 100 && second.calls == 0; i++) {
    assert_int_equal(poll(&backend, 1, 5000), 1);
    assert_true(fdk_loop_run(loop, FDK_RUN_NOWAIT) >= 0);
  }
  assert_int_equal(second.calls, 1);
  assert_int_equal(second.result, 0);
  assert_int_equal(pthread_join(pc.accepter, NULL), 0);
  fdk_fd_unref(fd);
  pool_connect_teardown(&pc);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* One call on the worker pool at a time (lseek runs there under every engine): each
 * FDK_RUN_ONCE of a loop that waits itself waits for the call and runs its callback. Runs
 * used to end with none run, about 1 in 200: woken by a result's wake-up after an earlier
 * turn had taken the result itself, or when the thread lost its CPU for the 250 us a turn
 * may spend collecting results. */
enum { kLoneCalls = 20000 };

static void test_run_once_runs_a_lone_pool_call(void **state) {
  (void)state;
  const char *readiness = getenv("FDKIT_READINESS");
  if (readiness && strcmp(readiness, "epoll") != 0) {
    print_message("libuv waits for the loop under FDKIT_READINESS=%s: its runs end as libuv's do\n", readiness);
    return;
  }
  fdk_loop *loop = fdkt_loop_new();
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, memfd_create("fdkt-lone", MFD_CLOEXEC), 0), 0);
  int empty = 0;
  for (int i = 0; i < kLoneCalls; i++) {
    fdkt_result sought = {0};
    assert_int_equal(fdk_lseek_async(loop, fd, 0, FDK_SEEK_SET, fdkt_record, &sought, NULL), 0);
    assert_true(fdk_loop_run(loop, FDK_RUN_ONCE) >= 0);
    if (sought.calls == 0) {
      empty++;
      fdkt_run_until(loop, &sought.calls, 5000);
    }
    assert_int_equal(sought.result, 0);
  }
  assert_int_equal(empty, 0);
  fdk_fd_unref(fd);
  assert_int_equal(fdk_loop_free(loop), 0);
}

static void count_if_fired(int64_t result, void *data) {
  if (result == 0) ++*(int *)data;
}

/* The same calls on a loop libuv waits for (its backend descriptor handed out): a run whose
 * result the pool's prepare handle took just before libuv's poll then blocked in that poll
 * until something else happened, here a guard sleep 500 ms away (about 1 in 600 calls; the
 * CI saw a 3000-call burst wait for its 5 s guard). */
static void test_run_once_after_prepared_result_returns(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  assert_true(fdk_loop_backend_fd(loop) >= 0);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, memfd_create("fdkt-lone", MFD_CLOEXEC), 0), 0);
  int fired = 0;
  for (int i = 0; i < kLoneCalls && !fired; i++) {
    fdk_op *guard;
    assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 500000000, count_if_fired, &fired, &guard), 0);
    fdkt_result sought = {0};
    assert_int_equal(fdk_lseek_async(loop, fd, 0, FDK_SEEK_SET, fdkt_record, &sought, NULL), 0);
    while (sought.calls == 0 && !fired) assert_true(fdk_loop_run(loop, FDK_RUN_ONCE) >= 0);
    if (!fired) assert_int_equal(fdk_op_cancel(guard), 0);
  }
  assert_int_equal(fired, 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  fdk_fd_unref(fd);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A call started from the callback of a sleep that came due while the loop did not run
 * goes out before the loop waits: the loop's own wait expired such sleeps after it had sent
 * the ring's submissions, and then blocked with the new one unsent (until the guard here
 * fired). Without io_uring the fsync runs on the worker pool. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  fdk_op *guard;
  fdkt_result fsync, guard_res;
} sleep_then_fsync;

static void fsync_done(int64_t result, void *data) {
  sleep_then_fsync *t = data;
  fdkt_record(result, &t->fsync);
  assert_int_equal(fdk_op_cancel(t->guard), 0);
}

static void start_fsync(int64_t result, void *data) {
  sleep_then_fsync *t = data;
  assert_int_equal(result, 0);
  assert_int_equal(fdk_fsync_async(t->loop, t->fd, 0, fsync_done, t, NULL), 0);
}

static void test_call_from_due_sleep_goes_out(void **state) {
  (void)state;
  sleep_then_fsync t = {.loop = fdkt_loop_new()};
  assert_int_equal(fdk_fd_adopt(&t.fd, memfd_create("fdkt-fsync", MFD_CLOEXEC), 0), 0);
  /* The loop's ring is made by a first call, outside the case under test. */
  assert_int_equal(fdk_fsync_async(t.loop, t.fd, 0, fdkt_record, &t.fsync, NULL), 0);
  fdkt_run_until(t.loop, &t.fsync.calls, 5000);
  t.fsync.calls = 0;
  assert_int_equal(fdk_sleep_until(t.loop, fdk_now_ns(), start_fsync, &t, NULL), 0);
  assert_int_equal(fdk_sleep_until(t.loop, fdk_now_ns() + 5000000000, fdkt_record, &t.guard_res, &t.guard), 0);
  assert_int_equal(fdk_loop_run(t.loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(t.fsync.calls, 1);
  assert_int_equal(t.fsync.result, 0);
  assert_int_equal(t.guard_res.result, -ECANCELED);
  fdk_fd_unref(t.fd);
  assert_int_equal(fdk_loop_free(t.loop), 0);
}

/* A read started from the callback of a call that completed while the loop prepared its
 * wait (the ring's submission, the pool's collection, which come after the registration of
 * new watches) is watched by that wait: otherwise the read would be heard of only when
 * something else woke the loop (here the guard, after 5 s). FDKIT_FS_ENGINE picks the path. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *r;
  char c;
  fdkt_result synced, got;
} fsync_then_read;

static void read_after_fsync(int64_t result, void *data) {
  fsync_then_read *t = data;
  fdkt_record(result, &t->synced);
  assert_int_equal(fdk_read_async(t->loop, t->r, &t->c, 1, fdkt_record, &t->got, NULL), 0);
}

static void *write_after_delay(void *data) {
  usleep(50 * 1000);
  assert_int_equal(fdk_write((fdk_fd *)data, "!", 1), 1);
  return NULL;
}

static void test_read_started_in_prewait_pass_is_watched(void **state) {
  (void)state;
  fsync_then_read t = {.loop = fdkt_loop_new()};
  fdk_fd *w, *file;
  assert_int_equal(fdk_pipe(&t.r, &w), 0);
  assert_int_equal(fdk_fd_adopt(&file, memfd_create("fdkt-prewait", MFD_CLOEXEC), 0), 0);
  /* The loop's ring (if any) is made by a first call, outside the case under test. */
  fdkt_result first = {0};
  assert_int_equal(fdk_fsync_async(t.loop, file, 0, fdkt_record, &first, NULL), 0);
  fdkt_run_until(t.loop, &first.calls, 5000);
  fdkt_result guard_res = {0};
  fdk_op *guard;
  assert_int_equal(fdk_sleep_until(t.loop, fdk_now_ns() + 5000000000LL, fdkt_record, &guard_res, &guard), 0);
  assert_int_equal(fdk_fsync_async(t.loop, file, 0, read_after_fsync, &t, NULL), 0);
  pthread_t writer;
  assert_int_equal(pthread_create(&writer, NULL, write_after_delay, w), 0);
  int64_t t0 = fdk_now_ns();
  while (t.got.calls == 0) assert_true(fdk_loop_run(t.loop, FDK_RUN_ONCE) >= 0);
  assert_true(fdk_now_ns() - t0 < 2000000000LL);
  assert_int_equal(pthread_join(writer, NULL), 0);
  assert_int_equal(t.synced.result, 0);
  assert_int_equal(t.got.result, 1);
  assert_int_equal(t.c, '!');
  assert_int_equal(fdk_op_cancel(guard), 0);
  fdkt_run_until(t.loop, &guard_res.calls, 5000);
  fdk_fd_unref(t.r);
  fdk_fd_unref(w);
  fdk_fd_unref(file);
  assert_int_equal(fdk_loop_free(t.loop), 0);
}

/* A loop that waited itself, then handed its backend descriptor to a host, wakes the host
 * when a watched descriptor becomes ready. */
static void test_host_after_runs_of_its_own(void **state) {
  fdkt_pipe *p = *state;
  assert_int_equal(fdk_write(p->w, "a", 1), 1);
  fdkt_run_until(p->loop, &p->res.calls, 5000);
  fdkt_pipe_start_read(p);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_NOWAIT), 1);
  struct pollfd backend = {fdk_loop_backend_fd(p->loop), POLLIN, 0};
  /* Handing it out leaves the host something to run (the wake-up of work started before). */
  for (int i = 0; i < 3 && poll(&backend, 1, 0) == 1; i++) assert_true(fdk_loop_run(p->loop, FDK_RUN_NOWAIT) >= 0);
  assert_int_equal(p->res.calls, 1);
  assert_int_equal(fdk_write(p->w, "b", 1), 1);
  assert_int_equal(poll(&backend, 1, 2000), 1);
  for (int i = 0; i < 3 && p->res.calls < 2; i++) assert_true(fdk_loop_run(p->loop, FDK_RUN_NOWAIT) >= 0);
  assert_int_equal(p->res.calls, 2);
  assert_int_equal(p->c, 'b');
}

typedef struct {
  fdk_loop *loop;
  fdk_fd *second;
  char c;
  fdkt_result got;
} hand_out_in_callback;

static void hand_out_and_read_again(int64_t result, void *data) {
  assert_int_equal(result, 1);
  hand_out_in_callback *h = data;
  assert_non_null(fdk_loop_uv(h->loop));
  assert_int_equal(fdk_read_async(h->loop, h->second, &h->c, 1, fdkt_record, &h->got, NULL), 0);
}

/* The libuv loop handed out by a callback during an FDK_RUN_DEFAULT run: the run goes on
 * through libuv and still hears the watches. */
static void test_uv_loop_handed_out_during_run(void **state) {
  (void)state;
  hand_out_in_callback h = {0};
  h.loop = fdkt_loop_new();
  fdk_fd *r, *w, *w2;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  assert_int_equal(fdk_pipe(&h.second, &w2), 0);
  char c;
  assert_int_equal(fdk_read_async(h.loop, r, &c, 1, hand_out_and_read_again, &h, NULL), 0);
  assert_int_equal(fdk_write(w, "a", 1), 1);
  pthread_t t;
  pthread_create(&t, NULL, write_later, w2);
  assert_int_equal(fdk_loop_run(h.loop, FDK_RUN_DEFAULT), 0);
  pthread_join(t, NULL);
  assert_int_equal(h.got.calls, 1);
  assert_int_equal(h.c, '!');
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_fd_unref(h.second);
  fdk_fd_unref(w2);
  assert_int_equal(fdk_loop_free(h.loop), 0);
}

static void stop_posted(void *data) { fdk_loop_stop(data); }

static void *post_stop_later(void *data) {
  usleep(20000);
  assert_int_equal(fdk_loop_post(data, stop_posted, data), 0);
  return NULL;
}

/* fdk_loop_stop from a post (run in libuv's turn) and before a run both end an
 * FDK_RUN_DEFAULT run that would otherwise wait for a read forever. */
static void test_stop_from_post_and_before_run(void **state) {
  fdkt_pipe *p = *state;
  pthread_t t;
  pthread_create(&t, NULL, post_stop_later, p->loop);
  int64_t t0 = fdk_now_ns();
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 1);
  pthread_join(t, NULL);
  fdk_loop_stop(p->loop);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 1);
  assert_true(fdk_now_ns() - t0 < 2000000000LL);
  assert_int_equal(p->res.calls, 0);
  /* The stop is spent: the next run waits for the read again. */
  assert_int_equal(fdk_write(p->w, "x", 1), 1);
  assert_int_equal(fdk_loop_run(p->loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(p->res.calls, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_new_free),
      fdkt_test(test_bad_arguments),
      fdkt_test(test_versions_and_errors),
      fdkt_pipe_test(test_callback_never_inside_call),
      fdkt_pipe_test(test_failed_call_no_callback),
      fdkt_pipe_test(test_run_modes),
      fdkt_test(test_post_from_thread),
      fdkt_test(test_post_before_run_and_at_free),
      fdkt_pipe_test(test_cancel_pending),
      fdkt_pipe_test(test_cancel_after_completion),
      fdkt_pipe_test(test_cancel_from_other_thread),
      fdkt_test(test_free_cancels_pending),
      fdkt_test(test_free_cancels_reads_waiting_on_watches),
      fdkt_test(test_free_and_run_inside_callback),
      fdkt_test(test_stop),
      fdkt_loop_test(test_backend_for_hosts),
      fdkt_test(test_borrowed_uv_loop),
      fdkt_test(test_host_handle_on_same_descriptor),
      fdkt_loop_test(test_sleep_never_early),
      fdkt_loop_test(test_last_error_before_failing_callback),
      fdkt_test(test_free_waits_without_spinning),
      fdkt_loop_test(test_sleep_until_past),
      fdkt_test(test_sleeps_complete_in_deadline_order),
      fdkt_loop_test(test_host_timeout_counts_down),
      fdkt_loop_test(test_host_woken_by_new_work),
      fdkt_test(test_host_hears_watch_started_in_callback),
      fdkt_pipe_reading_test(test_host_hears_work_started_before_backend_fd),
      cmocka_unit_test(test_idle_backend_lets_host_sleep),
      fdkt_test(test_remote_lifecycle),
      fdkt_test(test_remote_refused_while_freeing),
      fdkt_test(test_remote_post_races_free),
      fdkt_pipe_test(test_async_calls_after_fork),
      cmocka_unit_test_setup_teardown(test_one_wait_per_wakeup, counting_setup, fdkt_teardown),
      cmocka_unit_test_setup_teardown(test_polls_before_blocking_only_while_it_pays, counting_setup, fdkt_teardown),
      cmocka_unit_test_setup_teardown(test_nowait_and_sleeps_unchanged_by_polling, counting_setup, fdkt_teardown),
      fdkt_test(test_pool_wakes_sleeping_loop_and_host),
      fdkt_test(test_run_once_runs_a_lone_pool_call),
      fdkt_test(test_run_once_after_prepared_result_returns),
      cmocka_unit_test(test_read_started_in_prewait_pass_is_watched),
      fdkt_test(test_call_from_due_sleep_goes_out),
      fdkt_pipe_reading_test(test_host_after_runs_of_its_own),
      fdkt_test(test_uv_loop_handed_out_during_run),
      fdkt_pipe_reading_test(test_stop_from_post_and_before_run),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
