/* SPDX-License-Identifier: MIT */
/* I/O throughput and latency, fdkit against the alternatives in the same run.
 *
 * pipe-1GiB: 1 GiB through a pipe in 64 KiB chunks, a writer thread and a reader thread
 *   each side: raw blocking read/write loops; fdkit async read/write chains, one loop per
 *   thread; libuv streams (uv_pipe_open, uv_write / uv_read_start) one loop per thread.
 * socketpair-pingpong: round trips of one byte against the same raw echo thread; the
 *   measured side is a raw poll+read/write loop, fdkit async write/read, or libuv streams.
 *
 * usage: bench_io [REPETITIONS] [MIB] [ONLY]     (defaults 5, 1024, all)
 *   Each ratio is the median of the per-repetition ratios (the contenders run in turn
 *   within a repetition), with its quartiles q1 and q3. Each contender's line also gives
 *   the medians of one run's CPU time (user and system, every thread of the process; on a
 *   virtual machine it includes time the host took the CPU away) and context switches:
 *   the reader and the writer sleeping on each other show in the voluntary ones, other
 *   work on the machine in the involuntary ones.
 *   Where the process may run on two CPUs or more, the measuring thread runs on one and
 *   the other thread (the pipe's writer, the echo) on another, for every contender: left to
 *   the scheduler, the two threads share one CPU when other work keeps the second busy, a
 *   different benchmark (no cross-CPU wake-ups or cache transfers: pipe throughput two to
 *   three times higher, and bound by the CPU time of each side's system calls).
 * idle-timers: 1000 sleeps of 1 ms in a chain; idle-pipe: 200 one-byte reads of a pipe
 *   that another thread writes every 5 ms. What these measure is the loop thread's CPU
 *   time in µs (lower is better, and so is each ratio): the cost of a loop that waits
 *   most of the time, which the short poll before a blocking wait must not raise.
 *   ONLY names one case and implementation (pipe:fdkit, pingpong:libuv...) to run it
 *   alone, for strace or perf (no ratios are printed then), or one case (pipe, pingpong)
 *   to run its contenders alone, with their ratios.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <fdkit.h>

enum { CHUNK = 64 * 1024, ROUND_TRIPS = 50000 };

static long long total_bytes = 1LL << 30;
static char wbuf[CHUNK];

/* The CPU of the measuring thread and the CPU of the other thread, or -1 (not pinned). */
static int main_cpu = -1, other_cpu = -1;

static void pick_cpus(void) {
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof allowed, &allowed) < 0) return;
  for (int c = 0; c < CPU_SETSIZE && other_cpu < 0; c++) {
    if (!CPU_ISSET(c, &allowed)) continue;
    if (main_cpu < 0) main_cpu = c;
    else other_cpu = c;
  }
  if (other_cpu < 0) {
    main_cpu = -1;
    return;
  }
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(main_cpu, &one);
  pthread_setaffinity_np(pthread_self(), sizeof one, &one);
}

/* pthread_create, the new thread on the other CPU where there is one. */
static void start_other(pthread_t *t, void *(*fn)(void *), void *arg) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (other_cpu >= 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(other_cpu, &one);
    pthread_attr_setaffinity_np(&attr, sizeof one, &one);
  }
  if (pthread_create(t, &attr, fn, arg) != 0) abort();
  pthread_attr_destroy(&attr);
}

static double now_s(void) { return (double)fdk_now_ns() / 1e9; }

/* pipe throughput ----------------------------------------------------------------- */

typedef struct {
  int fd;
} raw_writer_arg;

static void *raw_writer(void *arg) {
  int fd = ((raw_writer_arg *)arg)->fd;
  for (long long left = total_bytes; left > 0;) {
    ssize_t n = write(fd, wbuf, left < CHUNK ? (size_t)left : CHUNK);
    if (n <= 0) abort();
    left -= n;
  }
  close(fd);
  return NULL;
}

static double pipe_raw(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) abort();
  static char rbuf[CHUNK];
  raw_writer_arg arg = {p[1]};
  pthread_t t;
  double t0 = now_s();
  start_other(&t, raw_writer, &arg);
  long long got = 0;
  for (ssize_t n; (n = read(p[0], rbuf, CHUNK)) > 0;) got += n;
  pthread_join(t, NULL);
  double secs = now_s() - t0;
  close(p[0]);
  if (got != total_bytes) abort();
  return (double)got / secs;
}

typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  long long left, got;
  char *buf;
} fdk_side;

static void fdk_on_written(int64_t n, void *data) {
  fdk_side *s = data;
  if (n <= 0) abort();
  s->left -= n;
  if (s->left > 0) fdk_write_async(s->loop, s->fd, wbuf, s->left < CHUNK ? (size_t)s->left : CHUNK, fdk_on_written, s, NULL);
  else fdk_fd_close(s->fd);
}

static void *fdk_writer(void *arg) {
  fdk_side *s = arg;
  fdk_write_async(s->loop, s->fd, wbuf, s->left < CHUNK ? (size_t)s->left : CHUNK, fdk_on_written, s, NULL);
  fdk_loop_run(s->loop, FDK_RUN_DEFAULT);
  return NULL;
}

static void fdk_on_read(int64_t n, void *data) {
  fdk_side *s = data;
  if (n < 0) abort();
  if (n == 0) return;
  s->got += n;
  fdk_read_async(s->loop, s->fd, s->buf, CHUNK, fdk_on_read, s, NULL);
}

static double pipe_fdkit(void) {
  fdk_fd *r, *w;
  fdk_pipe(&r, &w);
  static char rbuf[CHUNK];
  fdk_side ws = {NULL, w, total_bytes, 0, NULL}, rs = {NULL, r, 0, 0, rbuf};
  /* Both loops are made and freed outside the timed stretch, as libuv's are. */
  fdk_loop_new(&ws.loop);
  fdk_loop_new(&rs.loop);
  pthread_t t;
  double t0 = now_s();
  start_other(&t, fdk_writer, &ws);
  fdk_read_async(rs.loop, r, rbuf, CHUNK, fdk_on_read, &rs, NULL);
  fdk_loop_run(rs.loop, FDK_RUN_DEFAULT);
  pthread_join(t, NULL);
  double secs = now_s() - t0;
  fdk_fd_unref(r);
  fdk_fd_unref(w);
  fdk_loop_free(ws.loop);
  fdk_loop_free(rs.loop);
  if (rs.got != total_bytes) abort();
  return (double)rs.got / secs;
}

typedef struct {
  uv_loop_t loop;
  uv_pipe_t pipe;
  uv_write_t req;
  long long left, got;
} uv_side;

static void uv_on_written(uv_write_t *req, int status);

static void uv_write_next(uv_side *s) {
  uv_buf_t b = uv_buf_init(wbuf, s->left < CHUNK ? (unsigned)s->left : CHUNK);
  s->left -= b.len;
  uv_write(&s->req, (uv_stream_t *)&s->pipe, &b, 1, uv_on_written);
}

static void uv_on_written(uv_write_t *req, int status) {
  uv_side *s = req->data;
  if (status < 0) abort();
  if (s->left > 0) uv_write_next(s);
  else uv_close((uv_handle_t *)&s->pipe, NULL);
}

static void *uv_writer(void *arg) {
  uv_side *s = arg;
  s->req.data = s;
  uv_write_next(s);
  uv_run(&s->loop, UV_RUN_DEFAULT);
  return NULL;
}

static void uv_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  static char rbuf[CHUNK];
  *buf = uv_buf_init(rbuf, CHUNK);
}

static void uv_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  uv_side *s = stream->data;
  if (n > 0) s->got += n;
  else if (n < 0) uv_close((uv_handle_t *)stream, NULL);
}

static double pipe_libuv(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) abort();
  static uv_side ws, rs;
  memset(&ws, 0, sizeof ws);
  memset(&rs, 0, sizeof rs);
  ws.left = total_bytes;
  uv_loop_init(&ws.loop);
  uv_loop_init(&rs.loop);
  uv_pipe_init(&ws.loop, &ws.pipe, 0);
  uv_pipe_open(&ws.pipe, p[1]);
  uv_pipe_init(&rs.loop, &rs.pipe, 0);
  uv_pipe_open(&rs.pipe, p[0]);
  rs.pipe.data = &rs;
  pthread_t t;
  double t0 = now_s();
  start_other(&t, uv_writer, &ws);
  uv_read_start((uv_stream_t *)&rs.pipe, uv_alloc, uv_on_read);
  uv_run(&rs.loop, UV_RUN_DEFAULT);
  pthread_join(t, NULL);
  double secs = now_s() - t0;
  uv_loop_close(&ws.loop);
  uv_loop_close(&rs.loop);
  if (rs.got != total_bytes) abort();
  return (double)rs.got / secs;
}

/* ping-pong --------------------------------------------------------------------------- */

static void *echo(void *arg) {
  int fd = *(int *)arg;
  char c[64];
  for (ssize_t n; (n = read(fd, c, sizeof c)) > 0;)
    if (write(fd, c, (size_t)n) != n) break;
  return NULL;
}

/* A socketpair whose far end a raw blocking echo thread serves. */
typedef struct {
  int near, far;
  pthread_t thread;
} echo_pair;

static void echo_start(echo_pair *e) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) abort();
  e->near = sv[0];
  e->far = sv[1];
  fcntl(e->near, F_SETFL, O_NONBLOCK);
  start_other(&e->thread, echo, &e->far);
}

static void echo_stop(echo_pair *e) {
  shutdown(e->near, SHUT_WR);
  pthread_join(e->thread, NULL);
  close(e->far);
}

static double pingpong_raw(void) {
  echo_pair e;
  echo_start(&e);
  char c = 'x';
  double t0 = now_s();
  for (int i = 0; i < ROUND_TRIPS; i++) {
    if (write(e.near, &c, 1) != 1) abort();
    struct pollfd p = {e.near, POLLIN, 0};
    poll(&p, 1, -1);
    if (read(e.near, &c, 1) != 1) abort();
  }
  double secs = now_s() - t0;
  echo_stop(&e);
  close(e.near);
  return ROUND_TRIPS / secs;
}

typedef struct {
  fdk_loop *loop;
  fdk_fd *fd;
  int left;
  char c;
} fdk_pp;

static void pp_on_read(int64_t n, void *data);
static void pp_on_write(int64_t n, void *data) {
  fdk_pp *s = data;
  if (n != 1) abort();
  fdk_read_async(s->loop, s->fd, &s->c, 1, pp_on_read, s, NULL);
}
static void pp_on_read(int64_t n, void *data) {
  fdk_pp *s = data;
  if (n != 1) abort();
  if (--s->left > 0) fdk_write_async(s->loop, s->fd, &s->c, 1, pp_on_write, s, NULL);
}

static double pingpong_fdkit(void) {
  echo_pair e;
  echo_start(&e);
  fdk_pp s = {NULL, NULL, ROUND_TRIPS, 'x'};
  fdk_loop_new(&s.loop);
  fdk_fd_adopt(&s.fd, e.near, FDK_FD_BORROW);
  double t0 = now_s();
  fdk_write_async(s.loop, s.fd, &s.c, 1, pp_on_write, &s, NULL);
  fdk_loop_run(s.loop, FDK_RUN_DEFAULT);
  double secs = now_s() - t0;
  fdk_fd_unref(s.fd);
  fdk_loop_free(s.loop);
  echo_stop(&e);
  close(e.near);
  return ROUND_TRIPS / secs;
}

typedef struct {
  uv_pipe_t pipe;
  uv_write_t req;
  int left;
  int writing;      /* req is in flight: libuv reports a write's end on a later turn */
  int send_queued;  /* the reply came before that report: send when it does */
  char c;
} uv_pp;

static void uvpp_send(uv_pp *s);

static void uvpp_on_written(uv_write_t *req, int status) {
  uv_pp *s = req->data;
  if (status < 0) abort();
  s->writing = 0;
  if (s->send_queued) {
    s->send_queued = 0;
    uvpp_send(s);
  }
}

static void uvpp_send(uv_pp *s) {
  if (s->writing) {
    s->send_queued = 1;
    return;
  }
  s->writing = 1;
  s->req.data = s;
  uv_buf_t b = uv_buf_init(&s->c, 1);
  uv_write(&s->req, (uv_stream_t *)&s->pipe, &b, 1, uvpp_on_written);
}

static void uvpp_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)size;
  uv_pp *s = h->data;
  *buf = uv_buf_init(&s->c, 1);
}

static void uvpp_on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  uv_pp *s = stream->data;
  if (n < 0) abort();
  if (n == 0) return;
  if (--s->left > 0) uvpp_send(s);
  else uv_read_stop(stream);
}

static double pingpong_libuv(void) {
  echo_pair e;
  echo_start(&e);
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_pp s = {.left = ROUND_TRIPS, .c = 'x'};
  uv_pipe_init(&loop, &s.pipe, 0);
  uv_pipe_open(&s.pipe, dup(e.near));
  s.pipe.data = &s;
  double t0 = now_s();
  uvpp_send(&s);
  uv_read_start((uv_stream_t *)&s.pipe, uvpp_alloc, uvpp_on_read);
  uv_run(&loop, UV_RUN_DEFAULT);
  double secs = now_s() - t0;
  uv_close((uv_handle_t *)&s.pipe, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  echo_stop(&e);
  close(e.near);
  return ROUND_TRIPS / secs;
}

/* idle loops -------------------------------------------------------------------------- */

enum { IDLE_SLEEPS = 1000, IDLE_SLEEP_NS = 1000000, IDLE_WRITES = 200, IDLE_WRITE_GAP_US = 5000 };

static double thread_cpu_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

typedef struct {
  fdk_loop *loop;
  int left;
} fdk_sleeper;

static void fdk_on_slept(int64_t r, void *data) {
  fdk_sleeper *s = data;
  if (r != 0) abort();
  if (--s->left > 0) fdk_sleep_until(s->loop, fdk_now_ns() + IDLE_SLEEP_NS, fdk_on_slept, s, NULL);
}

static double idle_timers_fdkit(void) {
  fdk_sleeper s = {NULL, IDLE_SLEEPS};
  fdk_loop_new(&s.loop);
  double cpu0 = thread_cpu_us();
  fdk_sleep_until(s.loop, fdk_now_ns() + IDLE_SLEEP_NS, fdk_on_slept, &s, NULL);
  fdk_loop_run(s.loop, FDK_RUN_DEFAULT);
  double cpu = thread_cpu_us() - cpu0;
  fdk_loop_free(s.loop);
  return cpu;
}

static void uv_on_slept(uv_timer_t *t) {
  int *left = t->data;
  if (--*left > 0) uv_timer_start(t, uv_on_slept, IDLE_SLEEP_NS / 1000000, 0);
}

static double idle_timers_libuv(void) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_timer_t t;
  uv_timer_init(&loop, &t);
  int left = IDLE_SLEEPS;
  t.data = &left;
  double cpu0 = thread_cpu_us();
  uv_timer_start(&t, uv_on_slept, IDLE_SLEEP_NS / 1000000, 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  double cpu = thread_cpu_us() - cpu0;
  uv_close((uv_handle_t *)&t, NULL);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return cpu;
}

static void *slow_writer(void *arg) {
  int fd = *(int *)arg;
  for (int i = 0; i < IDLE_WRITES; i++) {
    usleep(IDLE_WRITE_GAP_US);
    if (write(fd, "x", 1) != 1) abort();
  }
  close(fd);
  return NULL;
}

static void fdk_on_idle_read(int64_t n, void *data) {
  fdk_pp *s = data;
  if (n < 0) abort();
  if (n > 0) fdk_read_async(s->loop, s->fd, &s->c, 1, fdk_on_idle_read, s, NULL);
}

static double idle_pipe_fdkit(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) abort();
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  fdk_pp s = {NULL, NULL, 0, 0};
  fdk_loop_new(&s.loop);
  fdk_fd_adopt(&s.fd, p[0], 0);
  pthread_t t;
  double cpu0 = thread_cpu_us();
  start_other(&t, slow_writer, &p[1]);
  fdk_read_async(s.loop, s.fd, &s.c, 1, fdk_on_idle_read, &s, NULL);
  fdk_loop_run(s.loop, FDK_RUN_DEFAULT);
  double cpu = thread_cpu_us() - cpu0;
  pthread_join(t, NULL);
  fdk_fd_unref(s.fd);
  fdk_loop_free(s.loop);
  return cpu;
}

static void uv_idle_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf) {
  (void)h;
  (void)size;
  static char c;
  *buf = uv_buf_init(&c, 1);
}

static void uv_on_idle_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n < 0) uv_close((uv_handle_t *)stream, NULL);
}

static double idle_pipe_libuv(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) abort();
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_pipe_t pipe;
  uv_pipe_init(&loop, &pipe, 0);
  uv_pipe_open(&pipe, p[0]);
  pthread_t t;
  double cpu0 = thread_cpu_us();
  start_other(&t, slow_writer, &p[1]);
  uv_read_start((uv_stream_t *)&pipe, uv_idle_alloc, uv_on_idle_read);
  uv_run(&loop, UV_RUN_DEFAULT);
  double cpu = thread_cpu_us() - cpu0;
  pthread_join(t, NULL);
  uv_loop_close(&loop);
  return cpu;
}

/* driver ------------------------------------------------------------------------------ */

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median_of(const double *v, int n) {
  double sorted[32];
  memcpy(sorted, v, sizeof(double) * (size_t)n);
  qsort(sorted, (size_t)n, sizeof(double), cmp);
  return sorted[n / 2];
}

/* What one run of a contender cost the process (its threads are joined by then). */
typedef struct {
  double cpu_s, voluntary, involuntary;
} run_cost;

static run_cost cost_now(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  run_cost c = {(double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6,
                (double)u.ru_nvcsw, (double)u.ru_nivcsw};
  return c;
}

typedef struct {
  const char *impl;
  double (*fn)(void);
  double median;
} contender;

static const char *only; /* "case:impl" to run one contender alone, "case" for one case, or NULL */

static void measure(const char *bench_case, const char *short_case, const char *unit, contender *c, int n, int reps) {
  double v[3][32], cpu[3][32], vol[3][32], invol[3][32];
  int run[3];
  char name[64];
  for (int i = 0; i < n; i++) {
    snprintf(name, sizeof name, "%s:%s", short_case, c[i].impl);
    run[i] = !only || strcmp(only, name) == 0 || strcmp(only, short_case) == 0;
  }
  int all_run = !only || strcmp(only, short_case) == 0;
  /* Interleaved repetitions, each starting with the next contender, so drift on the
   * machine and the order within a repetition hit every contender alike. */
  for (int r = 0; r < reps; r++)
    for (int k = 0; k < n; k++) {
      int i = (r + k) % n;
      if (!run[i]) continue;
      run_cost before = cost_now();
      v[i][r] = c[i].fn();
      run_cost after = cost_now();
      cpu[i][r] = after.cpu_s - before.cpu_s;
      vol[i][r] = after.voluntary - before.voluntary;
      invol[i][r] = after.involuntary - before.involuntary;
    }
  for (int i = 0; i < n; i++) {
    if (!run[i]) continue;
    c[i].median = median_of(v[i], reps);
    printf("{\"bench\":\"io\",\"case\":\"%s\",\"impl\":\"%s\",\"%s\":%.1f,\"repetitions\":%d,\"cpu_s\":%.3f,"
           "\"voluntary_switches\":%.0f,\"involuntary_switches\":%.0f,\"threads_on_own_cpus\":%s}\n",
           bench_case, c[i].impl, unit, c[i].median, reps, median_of(cpu[i], reps), median_of(vol[i], reps),
           median_of(invol[i], reps), other_cpu >= 0 ? "true" : "false");
  }
  /* Each ratio is the median of the per-repetition ratios, with their quartiles: the
   * contenders of one repetition run within a second or two of each other, so load that
   * comes and goes over the run moves a repetition's ratio less than it moves the
   * contenders' own medians. */
  for (int i = 1; i < n && all_run; i++) {
    double ratios[32];
    for (int r = 0; r < reps; r++) ratios[r] = v[0][r] / v[i][r];
    qsort(ratios, (size_t)reps, sizeof(double), cmp);
    printf("{\"bench\":\"io\",\"case\":\"%s\",\"ratio\":\"fdkit/%s\",\"value\":%.3f,\"q1\":%.3f,\"q3\":%.3f}\n",
           bench_case, c[i].impl, ratios[reps / 2], ratios[reps / 4], ratios[(3 * reps) / 4]);
  }
  fflush(stdout);
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || reps > 32) reps = 5;
  if (argc > 2) total_bytes = atoll(argv[2]) << 20;
  if (argc > 3) only = argv[3];
  memset(wbuf, 'w', sizeof wbuf);
  pick_cpus();
  contender pipe_cases[] = {{"fdkit", pipe_fdkit, 0}, {"raw", pipe_raw, 0}, {"libuv", pipe_libuv, 0}};
  measure("pipe-1GiB-64KiB", "pipe", "bytes_per_s", pipe_cases, 3, reps);
  contender pp_cases[] = {{"fdkit", pingpong_fdkit, 0}, {"raw", pingpong_raw, 0}, {"libuv", pingpong_libuv, 0}};
  measure("socketpair-pingpong", "pingpong", "round_trips_per_s", pp_cases, 3, reps);
  contender idle_timer_cases[] = {{"fdkit", idle_timers_fdkit, 0}, {"libuv", idle_timers_libuv, 0}};
  measure("idle-timers-1000x1ms", "idle-timers", "loop_cpu_us", idle_timer_cases, 2, reps);
  contender idle_pipe_cases[] = {{"fdkit", idle_pipe_fdkit, 0}, {"libuv", idle_pipe_libuv, 0}};
  measure("idle-pipe-200x5ms", "idle-pipe", "loop_cpu_us", idle_pipe_cases, 2, reps);
  return 0;
}
