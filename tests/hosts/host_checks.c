/* SPDX-License-Identifier: MIT */
#include "host_checks.h"

#include <fcntl.h>
#include <uv.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* Targets: timers on the host, and on fdkit's own loop, fire with a 99th-percentile
 * lateness of at most 2 ms, or on a machine whose scheduler alone makes a bare libuv timer
 * later than that, at most 1 ms beyond the p99 of bare timers alternating with them
 * (doc/loop.md: "Timer lateness" says why); the host takes under 2% of a CPU while idle,
 * and gets at least echo_target times the echo round trips of the same server on fdkit's
 * own loop. Each is the best of a few attempts. */
#define P99_TARGET_NS 2000000
#define P99_OVER_BARE_NS 1000000
#define IDLE_CPU_TARGET 0.02
#define ATTEMPTS 3
#define TIMER_ATTEMPTS 5 /* a single p99 of 300 timers swings by milliseconds under load */

void host_must(int result, const char *what) {
  if (result < 0) {
    fprintf(stderr, "%s: %s (%s)\n", what, fdk_strerror(result), fdk_last_error());
    exit(1);
  }
}

/* Drives loop through the host, or through fdkit's own run when run_until is NULL. */
static void drive(fdk_loop *loop, host_run_until_fn run_until, void *host, const int *flag, int timeout_ms) {
  if (run_until) {
    run_until(host, flag, timeout_ms);
    return;
  }
  while (!*flag) host_must(fdk_loop_run(loop, FDK_RUN_ONCE), "loop_run");
}

/* timers ------------------------------------------------------------------------------ */

enum { TIMERS = 300, TIMER_PERIOD_NS = 2000000 };

/* fdkit's timers alternate with the control: the same timer on a bare libuv loop in the
 * same thread, so the same scheduler delays and millisecond poll timeouts, without fdkit.
 * Each fdkit timer follows a bare one at once, so both sample the same moments of the
 * machine's load. Lateness counts from 2 ms after a timer was started. */
typedef struct {
  fdk_loop *loop;
  int64_t deadline;
  int64_t late[TIMERS], bare_late[TIMERS];
  int count;
  int done;
  uv_loop_t bare;
  uv_timer_t bare_timer;
} timer_run;

static void bare_fired(uv_timer_t *timer) { (void)timer; }

static int64_t bare_timer_lateness(timer_run *t) {
  uv_update_time(&t->bare);
  int64_t due = fdk_now_ns() + TIMER_PERIOD_NS;
  uv_timer_start(&t->bare_timer, bare_fired, TIMER_PERIOD_NS / 1000000, 0);
  uv_run(&t->bare, UV_RUN_DEFAULT); /* returns once the one-shot timer fired */
  return fdk_now_ns() - due;
}

static void next_timer(timer_run *t);

static void timer_fired(int64_t result, void *data) {
  timer_run *t = data;
  host_must((int)result, "sleep_until");
  t->late[t->count++] = fdk_now_ns() - t->deadline;
  if (t->count == TIMERS) t->done = 1;
  else next_timer(t);
}

static void next_timer(timer_run *t) {
  t->bare_late[t->count] = bare_timer_lateness(t);
  t->deadline = fdk_now_ns() + TIMER_PERIOD_NS;
  host_must(fdk_sleep_until(t->loop, t->deadline, timer_fired, t, NULL), "sleep_until");
}

static int by_value(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static int64_t p99_of(int64_t *late) {
  qsort(late, TIMERS, sizeof late[0], by_value);
  return late[TIMERS * 99 / 100];
}

/* The 99th-percentile lateness of fdkit's timers on loop, and of the bare ones. */
static int64_t timer_p99(fdk_loop *loop, host_run_until_fn run_until, void *host, int64_t *bare_p99) {
  timer_run *t = calloc(1, sizeof *t);
  t->loop = loop;
  host_must(uv_loop_init(&t->bare), "uv_loop_init");
  uv_timer_init(&t->bare, &t->bare_timer);
  next_timer(t);
  drive(loop, run_until, host, &t->done, 30000);
  uv_close((uv_handle_t *)&t->bare_timer, NULL);
  uv_run(&t->bare, UV_RUN_DEFAULT);
  host_must(uv_loop_close(&t->bare), "uv_loop_close");
  int64_t p99 = p99_of(t->late);
  if (t->late[0] < 0) {
    fprintf(stderr, "a timer fired %lld ns early\n", (long long)-t->late[0]);
    exit(1);
  }
  *bare_p99 = p99_of(t->bare_late);
  free(t);
  return p99;
}

static int64_t p99_limit(int64_t bare_p99) {
  int64_t over_bare = bare_p99 + P99_OVER_BARE_NS;
  return over_bare > P99_TARGET_NS ? over_bare : P99_TARGET_NS;
}

/* idle CPU ---------------------------------------------------------------------------- */

static int64_t cpu_ns(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
         ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

static void set_flag(int64_t result, void *data) {
  (void)result;
  *(int *)data = 1;
}

/* One second with fdkit waiting on a read that never comes and a timer far away. */
static double idle_cpu(fdk_loop *loop, host_run_until_fn run_until, void *host) {
  fdk_fd *r, *w;
  host_must(fdk_pipe(&r, &w), "pipe");
  char c;
  int read_done = 0, far_done = 0, second = 0;
  fdk_op *read_op, *far_op;
  host_must(fdk_read_async(loop, r, &c, 1, set_flag, &read_done, &read_op), "read_async");
  host_must(fdk_sleep_until(loop, fdk_now_ns() + 60000000000LL, set_flag, &far_done, &far_op), "sleep_until");
  int64_t wall0 = fdk_now_ns(), cpu0 = cpu_ns();
  host_must(fdk_sleep_until(loop, wall0 + 1000000000, set_flag, &second, NULL), "sleep_until");
  run_until(host, &second, 10000);
  double share = (double)(cpu_ns() - cpu0) / (double)(fdk_now_ns() - wall0);
  fdk_op_cancel(read_op);
  fdk_op_cancel(far_op);
  run_until(host, &read_done, 5000);
  run_until(host, &far_done, 5000);
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  return share;
}

/* echo -------------------------------------------------------------------------------- */

enum { ROUND_TRIPS = 20000, MESSAGE = 64 };

typedef struct {
  fdk_loop *loop;
  fdk_fd *conn;
  char buf[MESSAGE];
  int done;
} echo_server;

static void echo_read(echo_server *s);

static void echo_wrote(int64_t result, void *data) {
  echo_server *s = data;
  host_must((int)result, "write_all_async");
  echo_read(s);
}

static void echo_got(int64_t result, void *data) {
  echo_server *s = data;
  host_must((int)result, "read_async");
  if (result == 0) {
    s->done = 1;
    return;
  }
  host_must(fdk_write_all_async(s->loop, s->conn, s->buf, (size_t)result, echo_wrote, s, NULL), "write_all_async");
}

static void echo_read(echo_server *s) {
  host_must(fdk_read_async(s->loop, s->conn, s->buf, sizeof s->buf, echo_got, s, NULL), "read_async");
}

typedef struct {
  int fd;
  double seconds;
} echo_client;

static void *client_main(void *data) {
  echo_client *c = data;
  char msg[MESSAGE];
  memset(msg, 'e', sizeof msg);
  int64_t t0 = fdk_now_ns();
  for (int i = 0; i < ROUND_TRIPS; i++) {
    if (write(c->fd, msg, sizeof msg) != (ssize_t)sizeof msg) abort();
    for (size_t got = 0; got < sizeof msg;) {
      ssize_t n = read(c->fd, msg + got, sizeof msg - got);
      if (n <= 0) abort();
      got += (size_t)n;
    }
  }
  c->seconds = (double)(fdk_now_ns() - t0) / 1e9;
  close(c->fd);
  return NULL;
}

/* Round trips per second of a client thread against the echo server on loop, driven by
 * run_until (the host), or by fdkit's own run when run_until is NULL. */
static double echo_rate(fdk_loop *loop, host_run_until_fn run_until, void *host) {
  int sv[2];
  host_must(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ? -1 : 0, "socketpair");
  echo_server s = {loop, NULL, {0}, 0};
  fcntl(sv[0], F_SETFL, O_NONBLOCK);
  host_must(fdk_fd_adopt(&s.conn, sv[0], 0), "fd_adopt");
  echo_read(&s);
  echo_client c = {sv[1], 0};
  pthread_t t;
  pthread_create(&t, NULL, client_main, &c);
  drive(loop, run_until, host, &s.done, 60000);
  pthread_join(t, NULL);
  fdk_fd_unref(s.conn);
  return ROUND_TRIPS / c.seconds;
}

/* ------------------------------------------------------------------------------------ */

int host_checks(const char *name, fdk_loop *loop, host_run_until_fn run_until, void *host, double echo_target,
                int figures_only) {
  /* The host and fdkit's own loop are each held to the limit their own control sets; the
   * attempt that comes closest to passing is kept. */
  int64_t p99 = 0, own_p99 = 0, bare_p99 = 0, own_bare_p99 = 0, over = INT64_MAX;
  for (int i = 0; i < TIMER_ATTEMPTS && over > 0; i++) {
    int64_t b, ob, p = timer_p99(loop, run_until, host, &b), o = timer_p99(loop, NULL, NULL, &ob);
    int64_t attempt_over = p - p99_limit(b) > o - p99_limit(ob) ? p - p99_limit(b) : o - p99_limit(ob);
    if (attempt_over < over) {
      over = attempt_over;
      p99 = p;
      own_p99 = o;
      bare_p99 = b;
      own_bare_p99 = ob;
    }
  }
  int timers_ok = over <= 0;
  double idle = 1e9, ratio = 0, hosted = 0, own = 0;
  for (int i = 0; i < ATTEMPTS && idle > IDLE_CPU_TARGET; i++) {
    double share = idle_cpu(loop, run_until, host);
    if (share < idle) idle = share;
  }
  for (int i = 0; i < ATTEMPTS && ratio < echo_target; i++) {
    double h = echo_rate(loop, run_until, host), o = echo_rate(loop, NULL, NULL);
    if (h / o > ratio) {
      ratio = h / o;
      hosted = h;
      own = o;
    }
  }
  printf("{\"bench\":\"host\",\"case\":\"timer-2ms\",\"impl\":\"%s\",\"p99_late_ms\":%.3f,"
         "\"bare_libuv_p99_late_ms\":%.3f,\"own_loop_p99_late_ms\":%.3f,\"own_loop_bare_libuv_p99_late_ms\":%.3f}\n",
         name, p99 / 1e6, bare_p99 / 1e6, own_p99 / 1e6, own_bare_p99 / 1e6);
  printf("{\"bench\":\"host\",\"case\":\"idle\",\"impl\":\"%s\",\"cpu_share\":%.4f}\n", name, idle);
  printf("{\"bench\":\"host\",\"case\":\"echo-64B\",\"impl\":\"%s\",\"round_trips_per_s\":%.0f,"
         "\"own_loop_round_trips_per_s\":%.0f,\"ratio\":%.3f}\n",
         name, hosted, own, ratio);
  fflush(stdout);
  if (figures_only) return 0;
  int ok = timers_ok && idle <= IDLE_CPU_TARGET && ratio >= echo_target;
  if (!ok)
    fprintf(stderr, "%s: a figure missed its target (timer p99 <= max(2 ms, bare libuv p99 + 1 ms), idle <= 2%%, "
            "echo >= %.2fx)\n", name, echo_target);
  return ok ? 0 : 1;
}
