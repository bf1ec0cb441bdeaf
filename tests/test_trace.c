/* SPDX-License-Identifier: MIT */
/* Tracing: hooks see matched spans with names and results; hooks change safely under
 * load; a hook may call fdkit. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

enum { MAX_EVENTS = 256 };

typedef struct {
  int count;
  fdk_trace_event ev[MAX_EVENTS];
  char names[MAX_EVENTS][32];
} recorder;

static void record(const fdk_trace_event *e, void *data) {
  recorder *r = data;
  if (r->count == MAX_EVENTS) return;
  r->ev[r->count] = *e;
  snprintf(r->names[r->count], sizeof r->names[0], "%s", e->name);
  r->ev[r->count].name = r->names[r->count];
  r->ev[r->count].path = NULL;
  r->ev[r->count].detail = NULL;
  r->count++;
}

/* The end event of the span named name that began before it, checked for matching. */
static const fdk_trace_event *find_span(const recorder *r, const char *name, int nth) {
  for (int i = 0; i < r->count; i++) {
    if (strcmp(r->names[i], name) || r->ev[i].phase != FDK_TRACE_END) continue;
    if (nth-- > 0) continue;
    for (int j = 0; j < i; j++)
      if (r->ev[j].phase == FDK_TRACE_BEGIN && r->ev[j].span_id == r->ev[i].span_id) {
        assert_string_equal(r->names[j], name);
        assert_int_equal(r->ev[j].fd, r->ev[i].fd);
        assert_true(r->ev[i].time_ns >= r->ev[j].time_ns);
        assert_int_equal(r->ev[i].duration_ns, r->ev[i].time_ns - r->ev[j].time_ns);
        assert_int_equal(r->ev[i].thread_id != 0, 1);
        return &r->ev[i];
      }
    fail_msg("end of %s has no begin", name);
  }
  return NULL;
}

static int count_phase(const recorder *r, int phase) {
  int n = 0;
  for (int i = 0; i < r->count; i++) n += r->ev[i].phase == phase;
  return n;
}

static void test_sync_spans(void **state) {
  (void)state;
  static recorder r;
  memset(&r, 0, sizeof r);
  fdk_fd *rd, *wr;
  assert_int_equal(fdk_pipe(&rd, &wr), 0);
  assert_int_equal(fdk_trace_set(NULL, record, &r), 0);
  assert_int_equal(fdk_write(wr, "abc", 3), 3);
  char buf[8];
  assert_int_equal(fdk_read(rd, buf, sizeof buf), 3);
  assert_int_equal(fdk_lseek(rd, 0, FDK_SEEK_SET), -ESPIPE);
  assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
  assert_int_equal(fdk_write(wr, "x", 1), 1); /* not seen: the hook is gone */
  const fdk_trace_event *e = find_span(&r, "write", 0);
  assert_non_null(e);
  assert_int_equal(e->result, 3);
  assert_int_equal(e->fd, fdk_fd_raw(wr));
  e = find_span(&r, "read", 0);
  assert_non_null(e);
  assert_int_equal(e->result, 3);
  e = find_span(&r, "lseek", 0);
  assert_non_null(e);
  assert_int_equal(e->result, -ESPIPE);
  assert_null(find_span(&r, "write", 1));
  assert_int_equal(count_phase(&r, FDK_TRACE_BEGIN), count_phase(&r, FDK_TRACE_END));
  fdk_fd_unref(rd);
  fdk_fd_unref(wr);
}

/* A loop's hook sees that loop's async operations, with their results, including
 * cancellation and worker-pool calls; the global hook sees them too. */
static void test_async_spans_and_loop_hook(void **state) {
  (void)state;
  static recorder global, local;
  memset(&global, 0, sizeof global);
  memset(&local, 0, sizeof local);
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_fd *rd, *wr;
  assert_int_equal(fdk_pipe(&rd, &wr), 0);
  assert_int_equal(fdk_trace_set(loop, record, &local), 0);
  assert_int_equal(fdk_trace_set(NULL, record, &global), 0);
  char buf[8], rnd[4];
  fdkt_result rres = {0}, wres = {0}, cres = {0}, gres = {0}, sres = {0};
  assert_int_equal(fdk_read_async(loop, rd, buf, sizeof buf, fdkt_record, &rres, NULL), 0);
  assert_int_equal(fdk_write_async(loop, wr, "hi", 2, fdkt_record, &wres, NULL), 0);
  assert_int_equal(fdk_getrandom_async(loop, rnd, sizeof rnd, 0, fdkt_record, &gres, NULL), 0);
  assert_int_equal(fdk_sleep_until(loop, 0, fdkt_record, &sres, NULL), 0);
  fdkt_run_until(loop, &rres.calls, 2000);
  fdkt_run_until(loop, &gres.calls, 2000);
  fdkt_run_until(loop, &sres.calls, 2000);
  fdk_op *op;
  assert_int_equal(fdk_read_async(loop, rd, buf, sizeof buf, fdkt_record, &cres, &op), 0);
  fdk_op_cancel(op);
  fdkt_run_until(loop, &cres.calls, 2000);
  assert_int_equal(fdk_write(wr, "s", 1), 1); /* sync: the global hook only */
  assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
  assert_int_equal(fdk_trace_set(loop, NULL, NULL), 0);

  for (int pass = 0; pass < 2; pass++) {
    recorder *r = pass ? &global : &local;
    const fdk_trace_event *e = find_span(r, "read", 0);
    assert_int_equal(e->result, 2);
    e = find_span(r, "read", 1);
    assert_int_equal(e->result, -ECANCELED);
    assert_int_equal(find_span(r, "write", 0)->result, 2);
    assert_int_equal(find_span(r, "getrandom", 0)->result, 4);
    assert_int_equal(find_span(r, "sleep_until", 0)->result, 0);
  }
  assert_null(find_span(&local, "write", 1));
  assert_int_equal(find_span(&global, "write", 1)->result, 1);
  fdk_fd_unref(rd);
  fdk_fd_unref(wr);
  fdk_loop_free(loop);
}

/* Reads re-armed from their own callbacks (each carries on in the finished read's op):
 * one span each, begun at the re-arm and ended with its own result. */
typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  char buf[4];
  int left;
  int calls;
} rearming;

static void rearm_read(int64_t result, void *data) {
  rearming *s = data;
  assert_int_equal(result, 1);
  s->calls++;
  if (--s->left > 0) assert_int_equal(fdk_read_async(s->loop, s->fd, s->buf, 1, rearm_read, s, NULL), 0);
}

static void test_rearmed_read_spans(void **state) {
  (void)state;
  static recorder r;
  memset(&r, 0, sizeof r);
  rearming s = {.left = 3};
  assert_int_equal(fdk_loop_new(&s.loop), 0);
  fdk_fd *wr;
  assert_int_equal(fdk_pipe(&s.fd, &wr), 0);
  assert_int_equal(fdk_trace_set(s.loop, record, &r), 0);
  assert_int_equal(fdk_read_async(s.loop, s.fd, s.buf, 1, rearm_read, &s, NULL), 0);
  assert_int_equal(fdk_write(wr, "abc", 3), 3);
  int64_t deadline = fdk_now_ns() + 2000000000LL;
  while (s.calls < 3 && fdk_now_ns() < deadline) fdk_loop_run(s.loop, FDK_RUN_ONCE);
  assert_int_equal(s.calls, 3);
  assert_int_equal(fdk_trace_set(s.loop, NULL, NULL), 0);
  assert_int_equal(count_phase(&r, FDK_TRACE_BEGIN), 3);
  assert_int_equal(count_phase(&r, FDK_TRACE_END), 3);
  uint64_t ids[3];
  for (int i = 0; i < 3; i++) {
    const fdk_trace_event *e = find_span(&r, "read", i);
    assert_int_equal(e->result, 1);
    ids[i] = e->span_id;
  }
  assert_true(ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2]);
  fdk_fd_unref(s.fd);
  fdk_fd_unref(wr);
  assert_int_equal(fdk_loop_free(s.loop), 0);
}

/* A hook that calls fdkit, even fdk_trace_set, neither recurses nor deadlocks. */
typedef struct {
  fdk_fd *wr;
  int calls;
  int removed;
} reentrant;

static void reentrant_hook(const fdk_trace_event *e, void *data) {
  reentrant *s = data;
  s->calls++;
  if (e->phase == FDK_TRACE_END && !s->removed) {
    assert_int_equal(fdk_write(s->wr, "h", 1), 1);
    s->removed = 1;
    assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
  }
}

static void test_hook_calls_fdkit(void **state) {
  (void)state;
  fdk_fd *rd, *wr;
  assert_int_equal(fdk_pipe(&rd, &wr), 0);
  reentrant s = {wr, 0, 0};
  assert_int_equal(fdk_trace_set(NULL, reentrant_hook, &s), 0);
  char c;
  assert_int_equal(fdk_write(wr, "a", 1), 1);
  assert_int_equal(s.calls, 2); /* begin and end of that write; the hook's own write is silent */
  assert_int_equal(fdk_read(rd, &c, 1), 1);
  assert_int_equal(s.calls, 2); /* removed from inside itself */
  assert_int_equal(fdk_read(rd, &c, 1), 1);
  assert_int_equal(c, 'h');
  fdk_fd_unref(rd);
  fdk_fd_unref(wr);
}

/* Hooks installed and removed from several threads while others run operations: once
 * fdk_trace_set returns, the replaced hook is never called again. */
typedef struct {
  atomic_int retired; /* set after the set that removed this hook returned */
  atomic_int late_calls;
  atomic_int calls;
} guarded_hook;

static void guarded(const fdk_trace_event *e, void *data) {
  (void)e;
  guarded_hook *h = data;
  if (atomic_load(&h->retired)) atomic_fetch_add(&h->late_calls, 1);
  atomic_fetch_add(&h->calls, 1);
}

static atomic_int stop_workers;

static void *worker(void *data) {
  (void)data;
  fdk_fd *rd, *wr;
  assert_int_equal(fdk_pipe(&rd, &wr), 0);
  char c;
  while (!atomic_load(&stop_workers)) {
    assert_int_equal(fdk_write(wr, "w", 1), 1);
    assert_int_equal(fdk_read(rd, &c, 1), 1);
  }
  fdk_fd_unref(rd);
  fdk_fd_unref(wr);
  return NULL;
}

enum { HOOKS = 200, SETTERS = 2, WORKERS = 3 };
static guarded_hook hooks[SETTERS][HOOKS];

static void *setter(void *data) {
  guarded_hook *mine = data;
  for (int i = 0; i < HOOKS; i++) {
    assert_int_equal(fdk_trace_set(NULL, guarded, &mine[i]), 0);
    usleep(100);
    assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
    /* Any hook of this thread's is gone now; another setter's may be installed. */
    atomic_store(&mine[i].retired, 1);
  }
  return NULL;
}

static void test_set_under_load(void **state) {
  (void)state;
  memset(hooks, 0, sizeof hooks);
  atomic_store(&stop_workers, 0);
  pthread_t w[WORKERS], s[SETTERS];
  for (int i = 0; i < WORKERS; i++) pthread_create(&w[i], NULL, worker, NULL);
  for (int i = 0; i < SETTERS; i++) pthread_create(&s[i], NULL, setter, hooks[i]);
  for (int i = 0; i < SETTERS; i++) pthread_join(s[i], NULL);
  atomic_store(&stop_workers, 1);
  for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
  assert_int_equal(fdk_trace_set(NULL, NULL, NULL), 0);
  int calls = 0;
  for (int i = 0; i < SETTERS; i++)
    for (int j = 0; j < HOOKS; j++) {
      /* A hook replaced by another setter's may see late calls only until its own
       * setter's removal returned; after that, never. */
      assert_int_equal(atomic_load(&hooks[i][j].late_calls), 0);
      calls += atomic_load(&hooks[i][j].calls);
    }
  assert_true(calls > 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_sync_spans),
      fdkt_test(test_async_spans_and_loop_hook),
      fdkt_test(test_rearmed_read_spans),
      fdkt_test(test_hook_calls_fdkit),
      fdkt_test(test_set_under_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
