/* SPDX-License-Identifier: MIT */
/* Per-operation overhead as N grows, fdkit against libuv in the same run.
 *
 * Each measurement runs in a fresh child process (so resident memory is that study's
 * alone) and reports per operation: CPU time (the process's), wall time, resident memory
 * growth, heap growth (mallinfo2) and heap allocations (malloc, calloc and realloc calls
 * counted by wrappers in this program); then the ratio fdkit/libuv of each.
 *
 * Studies, at N = 100, 1000, 10000 and as many channels as the descriptor limit allows:
 *   handle-open         wrap N eventfds: fdk_fd_adopt with the mode unknown, against
 *                       uv_pipe_init + uv_pipe_open; memory per handle
 *   read-start-waiting  start one read on each (nothing to read): fdk_read_async against
 *                       uv_read_start; memory per channel (handle + pending read), counted
 *                       after one loop turn, so both registered with the kernel
 *   first-turn          that loop turn (where registrations deferred by either happen)
 *   deliver-1pct        rounds in which 1% of the channels get a value written, then the
 *                       loop runs until their reads completed; each callback re-arms its read
 *                       (libuv's stream keeps reading); per delivered read, the writes included
 *   open-read-close     one cycle: make a pipe, start a read, write one byte, run the loop
 *                       until the read completed, close both ends (N cycles)
 * and, at N = 1000, 100000 and 1000000 timers:
 *   timer-start         N one-shot timers between 0 and 100 ms apart in a window far enough
 *                       ahead: fdk_sleep_until against uv_timer_init + uv_timer_start (the
 *                       handle malloc'd, as a program with many timers does); memory per timer
 *   timer-fire          after the window passed, the loop runs until every callback ran
 *                       (libuv's callback closes its handle and the close callback frees it)
 *
 * usage: bench_overhead [REPETITIONS [STUDY...]]   (default 3; studies: reads cycle timers)
 * Values are medians over the repetitions.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <fdkit.h>

/* Allocation counting: every allocation of the process goes through these. */
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
static uint64_t allocations;
void *malloc(size_t n) {
  ++allocations;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t m) {
  ++allocations;
  return __libc_calloc(n, m);
}
void *realloc(void *p, size_t n) {
  ++allocations;
  return __libc_realloc(p, n);
}

typedef struct {
  double cpu_ns, wall_ns, rss_bytes, heap_bytes, allocs;
} metric;

typedef struct {
  double cpu, wall;
  long rss, heap;
  uint64_t allocs;
} sample;

static double clock_ns(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static long rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f) abort();
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) abort();
  fclose(f);
  return resident * sysconf(_SC_PAGESIZE);
}

static long heap_bytes(void) { return (long)mallinfo2().uordblks; }

static sample take(void) {
  sample s = {clock_ns(CLOCK_PROCESS_CPUTIME_ID), clock_ns(CLOCK_MONOTONIC), rss_bytes(), heap_bytes(), allocations};
  return s;
}

/* The cost per op between two samples; memory only when with_memory. */
static metric per_op(sample a, sample b, double n, int with_memory) {
  metric m = {(b.cpu - a.cpu) / n, (b.wall - a.wall) / n, 0, 0, (double)(b.allocs - a.allocs) / n};
  if (with_memory) {
    m.rss_bytes = (double)(b.rss - a.rss) / n;
    m.heap_bytes = (double)(b.heap - a.heap) / n;
  }
  return m;
}

enum { MAX_CASES = 4 };
typedef struct {
  int count;
  const char *names[MAX_CASES];
  metric m[MAX_CASES];
  int has_memory[MAX_CASES];
} results;

static void record(results *r, const char *name, metric m, int has_memory) {
  r->names[r->count] = name;
  r->has_memory[r->count] = has_memory;
  r->m[r->count++] = m;
}

static void check(int r, const char *what) {
  if (r < 0) {
    fprintf(stderr, "%s: %s\n", what, fdk_strerror(r));
    exit(1);
  }
}

/* Records the start of n reads that must wait (s1..s2; its memory is that of the whole
 * channel, handle included: s0..s3) and the loop's first turn after them (s2..s3). */
static void record_start_and_first_turn(results *r, sample s0, sample s1, sample s2, sample s3, int n) {
  metric start = per_op(s1, s2, n, 0);
  metric whole = per_op(s0, s3, n, 1);
  start.rss_bytes = whole.rss_bytes;
  start.heap_bytes = whole.heap_bytes;
  record(r, "read-start-waiting", start, 1);
  record(r, "first-turn", per_op(s2, s3, n, 0), 0);
}

/* reads: N channels, fdkit ---------------------------------------------------------- */

static char sink[64];
static long delivered;

static fdk_loop *floop;
static fdk_fd **fhandles;

static void fdk_on_read(int64_t n, void *data) {
  if (n != 8) abort();
  ++delivered;
  uintptr_t i = (uintptr_t)data;
  check(fdk_read_async(floop, fhandles[i], sink, sizeof sink, fdk_on_read, data, NULL), "read_async");
}

static int rounds_for(int n) { return n >= 10000 ? 20 : 200; }

/* Writes a value to 1% of the channels (at least one), rotating through them. */
static int write_round(const int *fds, int n, int round) {
  int k = n / 100 > 0 ? n / 100 : 1;
  uint64_t one = 1;
  for (int j = 0; j < k; ++j)
    if (write(fds[(round * k + j) % n], &one, sizeof one) != sizeof one) abort();
  return k;
}

static void reads_fdkit(int n, results *r) {
  int *fds = malloc(sizeof *fds * (size_t)n);
  fhandles = malloc(sizeof *fhandles * (size_t)n);
  for (int i = 0; i < n; ++i)
    if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) abort();
  check(fdk_loop_new(&floop), "loop_new");
  sample s0 = take();
  for (int i = 0; i < n; ++i) check(fdk_fd_adopt(&fhandles[i], fds[i], 0), "fd_adopt");
  sample s1 = take();
  record(r, "handle-open", per_op(s0, s1, n, 1), 1);
  for (int i = 0; i < n; ++i)
    check(fdk_read_async(floop, fhandles[i], sink, sizeof sink, fdk_on_read, (void *)(uintptr_t)i, NULL), "read_async");
  sample s2 = take();
  fdk_loop_run(floop, FDK_RUN_NOWAIT);
  sample s3 = take();
  record_start_and_first_turn(r, s0, s1, s2, s3, n);
  if (delivered != 0) abort();
  int rounds = rounds_for(n);
  long want = 0;
  sample s4 = take();
  for (int round = 0; round < rounds; ++round) {
    want += write_round(fds, n, round);
    while (delivered < want) fdk_loop_run(floop, FDK_RUN_ONCE);
  }
  sample s5 = take();
  record(r, "deliver-1pct", per_op(s4, s5, (double)want, 0), 0);
}

/* reads: N channels, libuv ---------------------------------------------------------- */

static void uv_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
  (void)h;
  (void)suggested;
  *buf = uv_buf_init(sink, sizeof sink);
}

static void uv_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)s;
  (void)buf;
  if (n == 8) ++delivered;
  else if (n < 0) abort();
}

static void reads_libuv(int n, results *r) {
  int *fds = malloc(sizeof *fds * (size_t)n);
  uv_pipe_t **pipes = malloc(sizeof *pipes * (size_t)n);
  for (int i = 0; i < n; ++i)
    if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) abort();
  uv_loop_t loop;
  uv_loop_init(&loop);
  sample s0 = take();
  for (int i = 0; i < n; ++i) {
    pipes[i] = malloc(sizeof(uv_pipe_t));
    if (uv_pipe_init(&loop, pipes[i], 0) < 0 || uv_pipe_open(pipes[i], fds[i]) < 0) abort();
  }
  sample s1 = take();
  record(r, "handle-open", per_op(s0, s1, n, 1), 1);
  for (int i = 0; i < n; ++i)
    if (uv_read_start((uv_stream_t *)pipes[i], uv_alloc, uv_on_read) < 0) abort();
  sample s2 = take();
  uv_run(&loop, UV_RUN_NOWAIT);
  sample s3 = take();
  record_start_and_first_turn(r, s0, s1, s2, s3, n);
  int rounds = rounds_for(n);
  long want = 0;
  sample s4 = take();
  for (int round = 0; round < rounds; ++round) {
    want += write_round(fds, n, round);
    while (delivered < want) uv_run(&loop, UV_RUN_ONCE);
  }
  sample s5 = take();
  record(r, "deliver-1pct", per_op(s4, s5, (double)want, 0), 0);
}

/* open-read-close cycles ------------------------------------------------------------ */

static int cycle_done;

static void fdk_on_cycle_read(int64_t n, void *data) {
  (void)data;
  if (n != 1) abort();
  cycle_done = 1;
}

static void cycle_fdkit(int n, results *r) {
  fdk_loop *loop;
  check(fdk_loop_new(&loop), "loop_new");
  sample s0 = take();
  for (int i = 0; i < n; ++i) {
    fdk_fd *rd, *wr;
    check(fdk_pipe(&rd, &wr), "pipe");
    cycle_done = 0;
    check(fdk_read_async(loop, rd, sink, sizeof sink, fdk_on_cycle_read, NULL, NULL), "read_async");
    if (fdk_write(wr, "x", 1) != 1) abort();
    while (!cycle_done) fdk_loop_run(loop, FDK_RUN_ONCE);
    fdk_fd_close(rd);
    fdk_fd_unref(rd);
    fdk_fd_close(wr);
    fdk_fd_unref(wr);
  }
  fdk_loop_run(loop, FDK_RUN_NOWAIT);
  sample s1 = take();
  record(r, "open-read-close", per_op(s0, s1, n, 0), 0);
}

static void uv_on_cycle_closed(uv_handle_t *h) { free(h); }

static void uv_on_cycle_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  if (n == 0) return;
  if (n != 1) abort();
  cycle_done = 1;
  uv_read_stop(s);
  uv_close((uv_handle_t *)s, uv_on_cycle_closed);
}

static void cycle_libuv(int n, results *r) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  sample s0 = take();
  for (int i = 0; i < n; ++i) {
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) abort();
    uv_pipe_t *rd = malloc(sizeof *rd);
    if (uv_pipe_init(&loop, rd, 0) < 0 || uv_pipe_open(rd, p[0]) < 0) abort();
    cycle_done = 0;
    if (uv_read_start((uv_stream_t *)rd, uv_alloc, uv_on_cycle_read) < 0) abort();
    if (write(p[1], "x", 1) != 1) abort();
    while (!cycle_done) uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_NOWAIT); /* the close callback */
    close(p[1]);
  }
  sample s1 = take();
  record(r, "open-read-close", per_op(s0, s1, n, 0), 0);
}

/* timers ------------------------------------------------------------------------------ */

static long fired;

/* Deadlines spread over 100 ms, starting far enough ahead that every timer is started
 * before the first one is due (at most 10 µs per start assumed, plus 50 ms). */
static int64_t window_start(int n) { return fdk_now_ns() + 50000000 + (int64_t)n * 10000; }
static int64_t spread_ns(int i) { return (int64_t)((uint32_t)i * 2654435761u % 100000u) * 1000; }

static void sleep_until_ns(int64_t t) {
  struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

static void fdk_on_timer(int64_t res, void *data) {
  (void)data;
  if (res != 0) abort();
  ++fired;
}

static void timers_fdkit(int n, results *r) {
  fdk_loop *loop;
  check(fdk_loop_new(&loop), "loop_new");
  int64_t base = window_start(n);
  sample s0 = take();
  for (int i = 0; i < n; ++i) check(fdk_sleep_until(loop, base + spread_ns(i), fdk_on_timer, NULL, NULL), "sleep_until");
  sample s1 = take();
  if (fdk_now_ns() >= base) fprintf(stderr, "bench_overhead: timers started too slowly; the window was reached\n");
  record(r, "timer-start", per_op(s0, s1, n, 1), 1);
  sleep_until_ns(base + 100000000);
  sample s2 = take();
  fdk_loop_run(loop, FDK_RUN_DEFAULT);
  sample s3 = take();
  if (fired != n) abort();
  record(r, "timer-fire", per_op(s2, s3, n, 0), 0);
}

static void uv_on_timer_closed(uv_handle_t *h) { free(h); }

static void uv_on_timer(uv_timer_t *t) {
  ++fired;
  uv_close((uv_handle_t *)t, uv_on_timer_closed);
}

static void timers_libuv(int n, results *r) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  int64_t base = window_start(n);
  sample s0 = take();
  for (int i = 0; i < n; ++i) {
    uv_timer_t *t = malloc(sizeof *t);
    uv_timer_init(&loop, t);
    /* libuv counts whole milliseconds from its cached clock, which it updates here. */
    uv_update_time(&loop);
    int64_t left = base + spread_ns(i) - fdk_now_ns();
    uv_timer_start(t, uv_on_timer, left > 0 ? (uint64_t)(left + 999999) / 1000000 : 0, 0);
  }
  sample s1 = take();
  record(r, "timer-start", per_op(s0, s1, n, 1), 1);
  sleep_until_ns(base + 100000000);
  sample s2 = take();
  uv_run(&loop, UV_RUN_DEFAULT);
  sample s3 = take();
  if (fired != n) abort();
  record(r, "timer-fire", per_op(s2, s3, n, 0), 0);
}

/* driver ------------------------------------------------------------------------------ */

typedef void (*study_fn)(int n, results *r);

/* Runs one study in a child process; its results come back through shared memory. */
static results run_child(study_fn fn, int n) {
  results *shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) abort();
  memset(shared, 0, sizeof *shared);
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) abort();
  if (pid == 0) {
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    fn(n, shared);
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_overhead: a study at n=%d failed\n", n);
    exit(1);
  }
  results out = *shared;
  munmap(shared, sizeof *shared);
  return out;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

enum { MAX_REPS = 15 };

/* The median of each field of each case over reps runs. */
static results run_median(study_fn fn, int n, int reps) {
  results runs[MAX_REPS];
  for (int i = 0; i < reps; ++i) runs[i] = run_child(fn, n);
  results out = runs[0];
  for (int c = 0; c < out.count; ++c) {
    double v[MAX_REPS];
#define MEDIAN_OF(field)                                        \
  for (int i = 0; i < reps; ++i) v[i] = runs[i].m[c].field;     \
  out.m[c].field = median(v, reps);
    MEDIAN_OF(cpu_ns)
    MEDIAN_OF(wall_ns)
    MEDIAN_OF(rss_bytes)
    MEDIAN_OF(heap_bytes)
    MEDIAN_OF(allocs)
#undef MEDIAN_OF
  }
  return out;
}

static double ratio(double a, double b) { return b != 0 ? a / b : 0; }

static void print_pair(const char *unit, int n, results *f, results *u) {
  for (int c = 0; c < f->count; ++c) {
    results *both[2] = {f, u};
    const char *impl[2] = {"fdkit", "libuv"};
    for (int k = 0; k < 2; ++k) {
      metric m = both[k]->m[c];
      printf("{\"bench\":\"overhead\",\"case\":\"%s\",\"n\":%d,\"unit\":\"%s\",\"impl\":\"%s\",\"cpu_ns_per_op\":%.1f,"
             "\"wall_ns_per_op\":%.1f,\"allocs_per_op\":%.3f",
             f->names[c], n, unit, impl[k], m.cpu_ns, m.wall_ns, m.allocs);
      if (f->has_memory[c]) printf(",\"rss_bytes_per_op\":%.1f,\"heap_bytes_per_op\":%.1f", m.rss_bytes, m.heap_bytes);
      printf("}\n");
    }
    metric a = f->m[c], b = u->m[c];
    printf("{\"bench\":\"overhead\",\"case\":\"%s\",\"n\":%d,\"ratio\":\"fdkit/libuv\",\"cpu\":%.3f,\"wall\":%.3f",
           f->names[c], n, ratio(a.cpu_ns, b.cpu_ns), ratio(a.wall_ns, b.wall_ns));
    if (f->has_memory[c])
      printf(",\"rss\":%.3f,\"heap\":%.3f", ratio(a.rss_bytes, b.rss_bytes), ratio(a.heap_bytes, b.heap_bytes));
    printf("}\n");
  }
  fflush(stdout);
}

static int wanted(int argc, char **argv, const char *study) {
  if (argc <= 2) return 1;
  for (int i = 2; i < argc; ++i)
    if (strcmp(argv[i], study) == 0) return 1;
  return 0;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 3;
  if (reps < 1 || reps > MAX_REPS) {
    fprintf(stderr, "usage: bench_overhead [REPETITIONS (1-%d) [reads|cycle|timers...]]\n", MAX_REPS);
    return 2;
  }
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  /* Room for the loops' own descriptors and stdio. */
  int at_limit = lim.rlim_max > 100000 ? 100000 : (int)lim.rlim_max - 64;
  int channel_counts[] = {100, 1000, 10000, at_limit};
  for (int i = 0; i < 4; ++i) {
    int n = channel_counts[i];
    if (n <= 0 || (i == 3 && n <= channel_counts[2])) continue;
    if (wanted(argc, argv, "reads")) {
      results f = run_median(reads_fdkit, n, reps), u = run_median(reads_libuv, n, reps);
      print_pair("channel", n, &f, &u);
    }
    if (wanted(argc, argv, "cycle")) {
      results f = run_median(cycle_fdkit, n, reps), u = run_median(cycle_libuv, n, reps);
      print_pair("cycle", n, &f, &u);
    }
  }
  int timer_counts[] = {1000, 100000, 1000000};
  for (int i = 0; i < 3 && wanted(argc, argv, "timers"); ++i) {
    results f = run_median(timers_fdkit, timer_counts[i], reps), u = run_median(timers_libuv, timer_counts[i], reps);
    print_pair("timer", timer_counts[i], &f, &u);
  }
  return 0;
}
