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
 *                       (libuv's stream keeps reading); per delivered read, the writes
 *                       included (at least MIN_READS reads). Then the floor, in pairs of
 *                       its own with libuv: the same rounds with no library at all, one
 *                       epoll set, level-triggered as both libraries register, epoll_wait
 *                       and a read per event. Its ratio to libuv ("floor/libuv") is the
 *                       best any library could reach: the system calls alone.
 *   open-read-close     one cycle: make a pipe, start a read, write one byte, run the loop
 *                       until the read completed, close both ends (N cycles, at least
 *                       MIN_CYCLES; the same study at every N below MIN_CYCLES)
 * and, at N = 1000, 100000 and 1000000 timers:
 *   timer-start         N one-shot timers between 0 and 100 ms apart in a window far enough
 *                       ahead: fdk_sleep_until against uv_timer_init + uv_timer_start (the
 *                       handle malloc'd, as a program with many timers does); memory per timer
 *   timer-fire          after the window passed, the loop runs until every callback ran
 *                       (libuv's callback closes its handle and the close callback frees it)
 *
 * usage: bench_overhead [PAIRS [STUDY...]]   (default 9; studies: reads cycle timers; the
 * timer studies, seconds long each, run a third as many pairs)
 * A pair is an fdkit child (or the floor's) and a libuv child of one study, alive together
 * and taking turns (A B A B ...): the one-shot cases are one turn each, and the repeated
 * ones (deliver-1pct, open-read-close) are cut into BLOCKS turns whose costs add up, so
 * load from elsewhere on the machine reaches both alike within tens of milliseconds. Each implementation's figures are its medians over the PAIRS pairs;
 * each ratio is the median of the per-pair ratios, with its quartiles (cpu_q1, cpu_q3)
 * telling how far the pairs disagreed. A measured stretch holds at least MIN_READS
 * delivered reads (more rounds at small N) or MIN_CYCLES cycles ("ops" says how many), so
 * it outlasts the scheduler's noise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
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
  double cpu_ns, wall_ns, rss_bytes, heap_bytes, allocs, ops;
} metric;

/* A point between two measured stretches. Reading the memory figures costs about 7 µs
 * (60 the first time) and two allocations (/proc/self/statm through stdio), so the clocks
 * and the allocation count are read on both sides of them: the stretch before the point
 * ends at the first readings (the _end fields), the one after it starts at the second,
 * and neither pays for the sampling. */
typedef struct {
  double cpu_end, wall_end, cpu, wall;
  uint64_t allocs_end, allocs;
  long rss, heap;
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
  sample s;
  s.cpu_end = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  s.wall_end = clock_ns(CLOCK_MONOTONIC);
  s.allocs_end = allocations;
  s.rss = rss_bytes();
  s.heap = heap_bytes();
  s.allocs = allocations;
  s.wall = clock_ns(CLOCK_MONOTONIC);
  s.cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
  return s;
}

/* An empty stretch must measure no allocation and next to no time: otherwise the
 * sampling itself would be counted in every figure (the one-shot ones at small N most:
 * 60 µs over 100 handles is 600 ns each). */
static void check_sampling(void) {
  double least = 1e18;
  for (int i = 0; i < 5; ++i) {
    sample a = take(), b = take();
    if (b.allocs_end != a.allocs) {
      fprintf(stderr, "bench_overhead: an empty stretch counted %llu allocations\n",
              (unsigned long long)(b.allocs_end - a.allocs));
      exit(1);
    }
    if (b.cpu_end - a.cpu < least) least = b.cpu_end - a.cpu;
  }
  if (least > 2000) {
    fprintf(stderr, "bench_overhead: an empty stretch measured %.0f ns of CPU\n", least);
    exit(1);
  }
}

/* Turns: a child waits for the parent's go before each stretch it measures and reports its
 * end, so the two children of a pair never measure at the same time. */
static int turn_channel = -1;

static void turn_begin(void) {
  char go;
  if (recv(turn_channel, &go, 1, 0) != 1) abort();
}

enum { BLOCKS = 10 };

static void turn_end(void) {
  if (send(turn_channel, "d", 1, MSG_NOSIGNAL) != 1) abort();
}

/* Adds what b-a measured to the running total of a stretch cut into turns. */
static void add_stretch(sample *total, sample a, sample b) {
  total->cpu_end += b.cpu_end - a.cpu;
  total->wall_end += b.wall_end - a.wall;
  total->allocs_end += b.allocs_end - a.allocs;
}

/* Runs step(ctx, 0..count-1) in BLOCKS turns; what the steps cost, turns excluded. */
static sample in_turns(int count, void (*step)(void *ctx, int i), void *ctx) {
  sample total = {0};
  for (int block = 0, i = 0; block < BLOCKS; ++block) {
    turn_begin();
    sample a = take();
    for (; i < (int)((long)count * (block + 1) / BLOCKS); ++i) step(ctx, i);
    add_stretch(&total, a, take());
    turn_end();
  }
  return total;
}

/* The cost per op between two samples; memory only when with_memory. */
static metric per_op(sample a, sample b, double n, int with_memory) {
  metric m = {(b.cpu_end - a.cpu) / n, (b.wall_end - a.wall) / n, 0, 0, (double)(b.allocs_end - a.allocs) / n, n};
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

enum { MIN_READS = 20000, MIN_CYCLES = 20000 };

/* n eventfds, the channels of the reads studies (every implementation's alike). */
static int *channels(int n) {
  int *fds = malloc(sizeof *fds * (size_t)n);
  for (int i = 0; i < n; ++i)
    if ((fds[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) abort();
  return fds;
}

/* Rounds of write_round(n) that deliver at least MIN_READS reads. */
static int rounds_for(int n) {
  int k = n / 100 > 0 ? n / 100 : 1;
  return (MIN_READS + k - 1) / k;
}

static int cycles_for(int n) { return n > MIN_CYCLES ? n : MIN_CYCLES; }

/* Writes a value to 1% of the channels (at least one), rotating through them. */
static int write_round(const int *fds, int n, int round) {
  int k = n / 100 > 0 ? n / 100 : 1;
  uint64_t one = 1;
  for (int j = 0; j < k; ++j)
    if (write(fds[(round * k + j) % n], &one, sizeof one) != sizeof one) abort();
  return k;
}

/* The deliver-1pct rounds over the channels fds, with run_once turning the loop once. */
typedef struct {
  const int *fds;
  int n;
  long want;
  void (*run_once)(void);
} rounds;

static void one_round(void *ctx, int round) {
  rounds *c = ctx;
  c->want += write_round(c->fds, c->n, round);
  while (delivered < c->want) c->run_once();
}

static void deliver_rounds(results *r, const int *fds, int n, void (*run_once)(void)) {
  rounds c = {fds, n, 0, run_once};
  sample total = in_turns(rounds_for(n), one_round, &c);
  record(r, "deliver-1pct", per_op((sample){0}, total, (double)c.want, 0), 0);
}

static void fdk_run_once(void) { fdk_loop_run(floop, FDK_RUN_ONCE); }

static void reads_fdkit(int n, results *r) {
  int *fds = channels(n);
  fhandles = malloc(sizeof *fhandles * (size_t)n);
  check(fdk_loop_new(&floop), "loop_new");
  turn_begin();
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
  turn_end();
  deliver_rounds(r, fds, n, fdk_run_once);
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

static uv_loop_t uloop;

static void uv_run_once(void) { uv_run(&uloop, UV_RUN_ONCE); }

static void reads_libuv(int n, results *r) {
  int *fds = channels(n);
  uv_pipe_t **pipes = malloc(sizeof *pipes * (size_t)n);
  uv_loop_init(&uloop);
  turn_begin();
  sample s0 = take();
  for (int i = 0; i < n; ++i) {
    pipes[i] = malloc(sizeof(uv_pipe_t));
    if (uv_pipe_init(&uloop, pipes[i], 0) < 0 || uv_pipe_open(pipes[i], fds[i]) < 0) abort();
  }
  sample s1 = take();
  record(r, "handle-open", per_op(s0, s1, n, 1), 1);
  for (int i = 0; i < n; ++i)
    if (uv_read_start((uv_stream_t *)pipes[i], uv_alloc, uv_on_read) < 0) abort();
  sample s2 = take();
  uv_run(&uloop, UV_RUN_NOWAIT);
  sample s3 = take();
  record_start_and_first_turn(r, s0, s1, s2, s3, n);
  turn_end();
  deliver_rounds(r, fds, n, uv_run_once);
}

/* reads: N channels, no library ----------------------------------------------------- */

static int floor_epoll = -1;
static const int *floor_fds;

static void floor_run_once(void) {
  struct epoll_event events[1024];
  int n = epoll_wait(floor_epoll, events, 1024, -1);
  if (n < 0) abort();
  for (int i = 0; i < n; ++i) {
    if (read(floor_fds[events[i].data.u32], sink, sizeof sink) != 8) abort();
    ++delivered;
  }
}

static void reads_floor(int n, results *r) {
  int *fds = channels(n);
  if ((floor_epoll = epoll_create1(EPOLL_CLOEXEC)) < 0) abort();
  floor_fds = fds;
  turn_begin();
  for (int i = 0; i < n; ++i) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    if (epoll_ctl(floor_epoll, EPOLL_CTL_ADD, fds[i], &ev) < 0) abort();
  }
  turn_end();
  deliver_rounds(r, fds, n, floor_run_once);
}

/* open-read-close cycles ------------------------------------------------------------ */

static int cycle_done;

static void fdk_on_cycle_read(int64_t n, void *data) {
  (void)data;
  if (n != 1) abort();
  cycle_done = 1;
}

static fdk_loop *cycle_loop;

static void fdk_cycle(void *ctx, int i) {
  (void)ctx;
  (void)i;
  fdk_fd *rd, *wr;
  check(fdk_pipe(&rd, &wr), "pipe");
  cycle_done = 0;
  check(fdk_read_async(cycle_loop, rd, sink, sizeof sink, fdk_on_cycle_read, NULL, NULL), "read_async");
  if (fdk_write(wr, "x", 1) != 1) abort();
  while (!cycle_done) fdk_loop_run(cycle_loop, FDK_RUN_ONCE);
  fdk_fd_close(rd);
  fdk_fd_unref(rd);
  fdk_fd_close(wr);
  fdk_fd_unref(wr);
}

static void cycle_fdkit(int n, results *r) {
  check(fdk_loop_new(&cycle_loop), "loop_new");
  int cycles = cycles_for(n);
  sample total = in_turns(cycles, fdk_cycle, NULL);
  record(r, "open-read-close", per_op((sample){0}, total, cycles, 0), 0);
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

static void uv_cycle(void *ctx, int i) {
  (void)ctx;
  (void)i;
  int p[2];
  if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) abort();
  uv_pipe_t *rd = malloc(sizeof *rd);
  if (uv_pipe_init(&uloop, rd, 0) < 0 || uv_pipe_open(rd, p[0]) < 0) abort();
  cycle_done = 0;
  if (uv_read_start((uv_stream_t *)rd, uv_alloc, uv_on_cycle_read) < 0) abort();
  if (write(p[1], "x", 1) != 1) abort();
  while (!cycle_done) uv_run(&uloop, UV_RUN_ONCE);
  uv_run(&uloop, UV_RUN_NOWAIT); /* the close callback */
  close(p[1]);
}

static void cycle_libuv(int n, results *r) {
  uv_loop_init(&uloop);
  int cycles = cycles_for(n);
  sample total = in_turns(cycles, uv_cycle, NULL);
  record(r, "open-read-close", per_op((sample){0}, total, cycles, 0), 0);
}

/* timers ------------------------------------------------------------------------------ */

static long fired;

static void sleep_until_ns(int64_t t) {
  struct timespec ts = {(time_t)(t / 1000000000), (long)(t % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {
  }
}

/* Deadlines spread over 100 ms, starting far enough ahead that every timer is started
 * before the first one is due (at most 4 µs per start assumed, ten times what either
 * takes on a quiet machine, plus 50 ms). The window is awaited outside the turns, so a
 * pair's two children wait for theirs together. */
static int64_t window_start(int n) { return fdk_now_ns() + 50000000 + (int64_t)n * 4000; }

/* Ends the starting turn; the timers must all have been started before the window. */
static void started_before(int64_t base) {
  if (fdk_now_ns() >= base) fprintf(stderr, "bench_overhead: timers started too slowly; the window was reached\n");
  turn_end();
  sleep_until_ns(base + 100000000);
  turn_begin();
}
static int64_t spread_ns(int i) { return (int64_t)((uint32_t)i * 2654435761u % 100000u) * 1000; }


static void fdk_on_timer(int64_t res, void *data) {
  (void)data;
  if (res != 0) abort();
  ++fired;
}

static void timers_fdkit(int n, results *r) {
  fdk_loop *loop;
  check(fdk_loop_new(&loop), "loop_new");
  turn_begin();
  int64_t base = window_start(n);
  sample s0 = take();
  for (int i = 0; i < n; ++i) check(fdk_sleep_until(loop, base + spread_ns(i), fdk_on_timer, NULL, NULL), "sleep_until");
  sample s1 = take();
  record(r, "timer-start", per_op(s0, s1, n, 1), 1);
  started_before(base);
  sample s2 = take();
  fdk_loop_run(loop, FDK_RUN_DEFAULT);
  sample s3 = take();
  if (fired != n) abort();
  record(r, "timer-fire", per_op(s2, s3, n, 0), 0);
  turn_end();
}

static void uv_on_timer_closed(uv_handle_t *h) { free(h); }

static void uv_on_timer(uv_timer_t *t) {
  ++fired;
  uv_close((uv_handle_t *)t, uv_on_timer_closed);
}

static void timers_libuv(int n, results *r) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  turn_begin();
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
  started_before(base);
  sample s2 = take();
  uv_run(&loop, UV_RUN_DEFAULT);
  sample s3 = take();
  if (fired != n) abort();
  record(r, "timer-fire", per_op(s2, s3, n, 0), 0);
  turn_end();
}

/* driver ------------------------------------------------------------------------------ */

typedef void (*study_fn)(int n, results *r);

/* A study in a child process that takes turns with its pair's other child; its results
 * come back through shared memory. */
typedef struct {
  pid_t pid;
  int channel; /* the parent's end of the turn socket, -1 once the child is done */
  results *shared;
} child;

static child start_child(study_fn fn, int n) {
  child c;
  c.shared = mmap(NULL, sizeof *c.shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (c.shared == MAP_FAILED) abort();
  memset(c.shared, 0, sizeof *c.shared);
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) abort();
  fflush(stdout);
  c.pid = fork();
  if (c.pid < 0) abort();
  if (c.pid == 0) {
    close(sv[0]);
    turn_channel = sv[1];
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    fn(n, c.shared);
    _exit(0);
  }
  close(sv[1]);
  c.channel = sv[0];
  return c;
}

/* Gives the child its next turn and waits until it ends; marks it done when it has none. */
static void give_turn(child *c) {
  char done;
  if (send(c->channel, "g", 1, MSG_NOSIGNAL) != 1 || recv(c->channel, &done, 1, 0) != 1) {
    close(c->channel);
    c->channel = -1;
  }
}

static results finish_child(child *c, int n) {
  int status;
  if (waitpid(c->pid, &status, 0) != c->pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "bench_overhead: a study at n=%d failed\n", n);
    exit(1);
  }
  results out = *c->shared;
  munmap(c->shared, sizeof *c->shared);
  return out;
}

/* One pair: a study's child of one implementation (fdkit's or the floor's) and libuv's,
 * taking turns until both are done. */
static void run_one_pair(study_fn mine, study_fn libuv, int n, results *m, results *u) {
  child c[2] = {start_child(mine, n), start_child(libuv, n)};
  while (c[0].channel >= 0 || c[1].channel >= 0)
    for (int k = 0; k < 2; ++k)
      if (c[k].channel >= 0) give_turn(&c[k]);
  *m = finish_child(&c[0], n);
  *u = finish_child(&c[1], n);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The value at fraction q of the sorted v (0.5: the median), interpolated. */
static double quantile(const double *v, int n, double q) {
  double sorted[64];
  memcpy(sorted, v, sizeof *v * (size_t)n);
  qsort(sorted, (size_t)n, sizeof *sorted, cmp_double);
  double at = q * (n - 1);
  int lo = (int)at;
  return lo + 1 < n ? sorted[lo] + (at - lo) * (sorted[lo + 1] - sorted[lo]) : sorted[lo];
}

static double median(const double *v, int n) { return quantile(v, n, 0.5); }

static double ratio(double a, double b) { return b != 0 ? a / b : 0; }

enum { MAX_PAIRS = 31 };

/* One study at one n, measured in pairs pairs: mine (fdkit or the floor) against libuv. */
typedef struct {
  const char *impl;
  results m[MAX_PAIRS], u[MAX_PAIRS];
  int pairs;
} paired;

static void run_pairs(paired *p, const char *impl, study_fn mine, study_fn libuv, int n, int pairs) {
  p->impl = impl;
  p->pairs = pairs;
  for (int i = 0; i < pairs; ++i) run_one_pair(mine, libuv, n, &p->m[i], &p->u[i]);
}

/* Where a side's results hold the case named name, or -1. */
static int case_of(const results *r, const char *name) {
  for (int c = 0; c < r->count; ++c)
    if (strcmp(r->names[c], name) == 0) return c;
  return -1;
}

/* The median over the pairs of each field of the case named name of one side. */
static metric side_medians(const results *side, int pairs, const char *name) {
  int c = case_of(&side[0], name);
  metric out;
  double *fields = (double *)&out;
  for (size_t k = 0; k < sizeof out / sizeof(double); ++k) {
    double v[MAX_PAIRS];
    for (int i = 0; i < pairs; ++i) v[i] = ((const double *)&side[i].m[c])[k];
    fields[k] = median(v, pairs);
  }
  return out;
}

/* The per-pair ratios mine/libuv of one field of the case named name. */
static void pair_ratios(const paired *p, const char *name, size_t field_offset, double *out) {
  int cm = case_of(&p->m[0], name), cu = case_of(&p->u[0], name);
  for (int i = 0; i < p->pairs; ++i) {
    double a = *(const double *)((const char *)&p->m[i].m[cm] + field_offset);
    double b = *(const double *)((const char *)&p->u[i].m[cu] + field_offset);
    out[i] = ratio(a, b);
  }
}

static double median_ratio(const paired *p, const char *name, size_t field_offset) {
  double v[MAX_PAIRS];
  pair_ratios(p, name, field_offset, v);
  return median(v, p->pairs);
}

static void print_figures(const char *unit, int n, const char *impl, const results *side, int pairs, const char *name,
                          int with_memory) {
  metric m = side_medians(side, pairs, name);
  printf("{\"bench\":\"overhead\",\"case\":\"%s\",\"n\":%d,\"unit\":\"%s\",\"impl\":\"%s\",\"ops\":%.0f,"
         "\"cpu_ns_per_op\":%.1f,\"wall_ns_per_op\":%.1f,\"allocs_per_op\":%.3f",
         name, n, unit, impl, m.ops, m.cpu_ns, m.wall_ns, m.allocs);
  if (with_memory) printf(",\"rss_bytes_per_op\":%.1f,\"heap_bytes_per_op\":%.1f", m.rss_bytes, m.heap_bytes);
  printf("}\n");
}

/* Each case of mine: its figures, libuv's (with_libuv; the floor's pairs leave libuv's to
 * fdkit's) and their ratio. */
static void print_pair(const char *unit, int n, const paired *p, int with_libuv) {
  const results *first = &p->m[0];
  for (int c = 0; c < first->count; ++c) {
    const char *name = first->names[c];
    int with_memory = first->has_memory[c];
    print_figures(unit, n, p->impl, p->m, p->pairs, name, with_memory);
    if (with_libuv) print_figures(unit, n, "libuv", p->u, p->pairs, name, with_memory);
    double cpu[MAX_PAIRS];
    pair_ratios(p, name, offsetof(metric, cpu_ns), cpu);
    printf("{\"bench\":\"overhead\",\"case\":\"%s\",\"n\":%d,\"ratio\":\"%s/libuv\",\"pairs\":%d,\"cpu\":%.3f,"
           "\"cpu_q1\":%.3f,\"cpu_q3\":%.3f,\"wall\":%.3f",
           name, n, p->impl, p->pairs, median(cpu, p->pairs), quantile(cpu, p->pairs, 0.25),
           quantile(cpu, p->pairs, 0.75), median_ratio(p, name, offsetof(metric, wall_ns)));
    if (with_memory)
      printf(",\"rss\":%.3f,\"heap\":%.3f", median_ratio(p, name, offsetof(metric, rss_bytes)),
             median_ratio(p, name, offsetof(metric, heap_bytes)));
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
  int pairs = argc > 1 ? atoi(argv[1]) : 9;
  if (pairs < 1 || pairs > MAX_PAIRS) {
    fprintf(stderr, "usage: bench_overhead [PAIRS (1-%d) [reads|cycle|timers...]]\n", MAX_PAIRS);
    return 2;
  }
  check_sampling();
  struct rlimit lim;
  getrlimit(RLIMIT_NOFILE, &lim);
  /* Room for the loops' own descriptors and stdio. */
  int at_limit = lim.rlim_max > 100000 ? 100000 : (int)lim.rlim_max - 64;
  int channel_counts[] = {100, 1000, 10000, at_limit};
  static paired p;
  for (int i = 0; i < 4; ++i) {
    int n = channel_counts[i];
    if (n <= 0 || (i == 3 && n <= channel_counts[2])) continue;
    if (wanted(argc, argv, "reads")) {
      run_pairs(&p, "fdkit", reads_fdkit, reads_libuv, n, pairs);
      print_pair("channel", n, &p, 1);
      run_pairs(&p, "floor", reads_floor, reads_libuv, n, pairs);
      print_pair("channel", n, &p, 0);
    }
    if (wanted(argc, argv, "cycle")) {
      run_pairs(&p, "fdkit", cycle_fdkit, cycle_libuv, n, pairs);
      print_pair("cycle", n, &p, 1);
    }
  }
  /* A million timers take seconds a child: a third of the pairs. */
  int timer_pairs = (pairs + 2) / 3;
  int timer_counts[] = {1000, 100000, 1000000};
  for (int i = 0; i < 3 && wanted(argc, argv, "timers"); ++i) {
    run_pairs(&p, "fdkit", timers_fdkit, timers_libuv, timer_counts[i], timer_pairs);
    print_pair("timer", timer_counts[i], &p, 1);
  }
  return 0;
}
