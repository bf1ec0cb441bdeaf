/* SPDX-License-Identifier: MIT */
/* Asynchronous file-system calls, warm (page-cached), on the file system of the current
 * directory: fdkit's engines against the plain system call, fdkit's synchronous call,
 * libuv's uv_fs_* and raw liburing, in the same run.
 *
 * Cases: stat, open+close, pread 4 KiB, pwrite 4 KiB, readdir of a small directory,
 * mkdir+rmdir; each with 1 call in flight (the next one started from the callback, all in
 * one FDK_RUN_DEFAULT run) and with 64. The engine of fdkit is chosen once per process, so
 * each engine (auto, inline, uring, pool) runs in a child started with FDKIT_FS_ENGINE,
 * once per repetition, between the other implementations' runs; the parent prints the
 * medians with their ratios. Plus cold-read-timer: 64 reads of uncached data in flight
 * (evicted with POSIX_FADV_DONTNEED, checked with mincore) while a 1 ms repeating timer runs
 * on the same loop, over as many passes of the file as it takes for TICKS ticks (after one
 * pass not counted, which makes the loop's ring and io_uring's workers and faults the
 * buffers in: a program's loop does that once): its p99 lateness, next to the same timer's
 * lateness on the same loop without reads (the machine's own noise, measured in the same
 * child just before). Every pass starts on a file mincore finds wholly evicted. Each is also given less
 * the time the loop thread waited on the run queue for a CPU since the tick before
 * (/proc/thread-self/schedstat): on a loaded machine that wait is the other tenants' doing
 * (and the readers'), the rest is what the loop's own work and system calls made it late.
 *
 * Warm also means that every implementation's buffers were written by the kernel once before
 * its timing starts (see warm_buffer). A run's timing includes the setup of its ring, for
 * liburing as for fdkit, whose loop makes its ring at its first call.
 *
 * Each fdkit, libuv and liburing figure also gives the process's CPU time per op (user and
 * system, worker threads included): on a loaded machine wall time mostly measures the
 * other tenants, CPU time what each implementation costs. A run with 64 in flight lasts a
 * few milliseconds, about one time slice of another tenant: whether one falls into it
 * decides its wall time, so the ratio against raw liburing is also given from each
 * side's fastest repetition (vs_liburing_throughput_best; the load only ever adds time).
 *
 * usage: bench_fs_async [REPETITIONS] [OPS]     (defaults 5, 20000; medians are printed)
 * BENCH_FS_ASYNC_CASE=NAME (one of the case names above, as printed) runs that case alone,
 * without the cold-read case: for profiling one case, e.g. under callgrind;
 * BENCH_FS_ASYNC_CASE=cold-read-64-timer-1ms runs the cold-read case alone.
 * Run it from a directory on the disk file system to measure (tmpfs ignores
 * POSIX_FADV_DONTNEED and refuses RWF_NOWAIT). A full run there then runs mkdir+rmdir
 * again on /dev/shm (its lines say "fs":"tmpfs"): on a disk the pair is mostly the
 * device's wait, and each one-in-flight libuv line gives the plain calls' latency over
 * libuv's (syscall_vs_libuv_latency), the floor of any asynchronous engine's ratio.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include <uv.h>

#include <fdkit.h>
#include <fdkit/uv.h>

enum { SLOTS_MAX = 64, BLOCK = 4096, FILE_SIZE = 1 << 20, COLD_SIZE = 64 << 20, COLD_CHUNK = 64 << 10, TICKS = 2000 };

static const char *const cases[] = {"stat", "open+close", "pread-4KiB", "pwrite-4KiB", "readdir-small", "mkdir+rmdir"};
enum { STAT, OPEN, PREAD, PWRITE, READDIR, MKDIR, NCASES };

static int total_ops = 20000;
static int reps = 5;
static char scratch[] = "bench_fs_async.XXXXXX";
static int rfd = -1, wfd = -1; /* the warm file, read and written by every implementation */

/* BENCH_FS_ASYNC_CASE: the one case to run, or null for all. */
static const char *only_case;
static const char cold_case[] = "cold-read-64-timer-1ms";
static int case_selected(int c) { return !only_case || strcmp(only_case, cases[c]) == 0; }
static int cold_selected(void) { return !only_case || strcmp(only_case, cold_case) == 0; }

static double now_ns(void) { return (double)fdk_now_ns(); }

/* CPU time of the whole process (every thread, io_uring's workers included). */
static double cpu_ns(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e9 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e3;
}
static double last_cpu_ns; /* per op, of the last run_* call */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

static double largest(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] > m ? v[i] : m;
  return m;
}

static double smallest(const double *v, int n) {
  double m = v[0];
  for (int i = 1; i < n; i++) m = v[i] < m ? v[i] : m;
  return m;
}

static void slot_name(char *out, int slot) { snprintf(out, 32, "m%d", slot); }

/* The kernel's first write to a page of a fresh process costs several µs on some virtual
 * machines (5-7 µs here, against 2 µs for a later 4 KiB read into it): the parent's buffers
 * paid it in the first repetition, each engine's child would pay it in every one. Every
 * implementation's buffers get one read before its timing starts. */
static void warm_buffer(char *buf) {
  if (pread(rfd, buf, BLOCK, 0) != BLOCK) abort();
}

/* Plain system calls and fdkit's synchronous calls ------------------------------------ */

static double run_sync(int c, int use_fdkit) {
  static char buf[BLOCK];
  fdk_stat *st;
  fdk_stat_new(&st);
  fdk_fd *rf, *wf;
  fdk_fd_adopt(&rf, rfd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  fdk_fd_adopt(&wf, wfd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  struct iovec iov = {buf, BLOCK};
  double t0 = now_ns();
  for (int i = 0; i < total_ops; i++) {
    int64_t off = (int64_t)(i % (FILE_SIZE / BLOCK)) * BLOCK;
    int r = 0;
    if (use_fdkit) {
      switch (c) {
        case STAT: r = fdk_statat(st, fdk_dir_cwd(), "f", 1); break;
        case OPEN: {
          fdk_fd *fd;
          r = fdk_openat(&fd, fdk_dir_cwd(), "f", FDK_O_RDONLY, 0);
          if (r == 0) fdk_fd_unref(fd);
          break;
        }
        case PREAD: r = fdk_preadv(rf, &iov, 1, off) == BLOCK ? 0 : -1; break;
        case PWRITE: r = fdk_pwritev(wf, &iov, 1, off) == BLOCK ? 0 : -1; break;
        case READDIR: {
          fdk_dirents *list;
          r = fdk_readdir(&list, fdk_dir_cwd(), "d") == 8 ? 0 : -1;
          fdk_dirents_free(list);
          break;
        }
        case MKDIR:
          r = fdk_mkdirat(fdk_dir_cwd(), "m0", 0755);
          if (r == 0) r = fdk_rmdirat(fdk_dir_cwd(), "m0");
          break;
      }
    } else {
      switch (c) {
        case STAT: {
          struct statx sx;
          r = statx(AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &sx);
          break;
        }
        case OPEN: {
          int fd = openat(AT_FDCWD, "f", O_RDONLY | O_CLOEXEC);
          r = fd < 0 ? -1 : close(fd);
          break;
        }
        case PREAD: r = pread(rfd, buf, BLOCK, off) == BLOCK ? 0 : -1; break;
        case PWRITE: r = pwrite(wfd, buf, BLOCK, off) == BLOCK ? 0 : -1; break;
        case READDIR: {
          DIR *d = opendir("d");
          int n = 0;
          while (readdir(d)) n++;
          closedir(d);
          r = n == 10 ? 0 : -1;
          break;
        }
        case MKDIR:
          r = mkdir("m0", 0755);
          if (r == 0) r = rmdir("m0");
          break;
      }
    }
    if (r != 0) {
      fprintf(stderr, "bench_fs_async: %s %s failed\n", use_fdkit ? "fdkit" : "syscall", cases[c]);
      exit(1);
    }
  }
  double ns = (now_ns() - t0) / total_ops;
  fdk_fd_unref(rf);
  fdk_fd_unref(wf);
  fdk_stat_free(st);
  return ns;
}

/* fdkit asynchronous calls --------------------------------------------------------------- */

typedef struct {
  int c, index, step;
  char name[32];
  char buf[BLOCK];
  struct iovec iov;
  fdk_stat *st;
} fdk_slot;

static struct {
  fdk_loop *loop;
  fdk_fd *rf, *wf;
  int started, done, failed;
  fdk_slot slots[SLOTS_MAX];
} fk;

static void fk_start(fdk_slot *s);

static void fk_next(fdk_slot *s, int64_t r) {
  if (r < 0) {
    fprintf(stderr, "bench_fs_async: fdkit %s: %s\n", cases[s->c], fdk_last_error());
    fk.failed = 1;
    return;
  }
  fk.done++;
  if (fk.started < total_ops) fk_start(s);
}

static void fk_on_result(int64_t r, void *data) { fk_next(data, r); }
static void fk_on_open(int r, fdk_fd *fd, void *data) {
  if (fd) fdk_fd_unref(fd);
  fk_next(data, r);
}
static void fk_on_list(int r, fdk_dirents *list, void *data) {
  fdk_dirents_free(list);
  fk_next(data, r);
}
static void fk_on_mkdir(int64_t r, void *data) {
  fdk_slot *s = data;
  if (r < 0) return fk_next(s, r);
  if (fdk_rmdirat_async(fk.loop, fdk_dir_cwd(), s->name, fk_on_result, s, NULL) < 0) abort();
}

static void fk_start(fdk_slot *s) {
  fk.started++;
  int64_t off = (int64_t)((fk.started + s->index) % (FILE_SIZE / BLOCK)) * BLOCK;
  int r = 0;
  switch (s->c) {
    case STAT: r = fdk_statat_async(fk.loop, s->st, fdk_dir_cwd(), "f", 1, fk_on_result, s, NULL); break;
    case OPEN: r = fdk_openat_async(fk.loop, fdk_dir_cwd(), "f", FDK_O_RDONLY, 0, fk_on_open, s, NULL); break;
    case PREAD: r = fdk_preadv_async(fk.loop, fk.rf, &s->iov, 1, off, fk_on_result, s, NULL); break;
    case PWRITE: r = fdk_pwritev_async(fk.loop, fk.wf, &s->iov, 1, off, fk_on_result, s, NULL); break;
    case READDIR: r = fdk_readdir_async(fk.loop, fdk_dir_cwd(), "d", fk_on_list, s, NULL); break;
    case MKDIR: r = fdk_mkdirat_async(fk.loop, fdk_dir_cwd(), s->name, 0755, fk_on_mkdir, s, NULL); break;
  }
  if (r < 0) abort();
}

static double run_fdkit(int c, int inflight) {
  fdk_loop_new(&fk.loop);
  fdk_fd_adopt(&fk.rf, rfd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  fdk_fd_adopt(&fk.wf, wfd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  fk.started = fk.done = fk.failed = 0;
  for (int i = 0; i < inflight; i++) {
    fdk_slot *s = &fk.slots[i];
    s->c = c;
    s->index = i;
    s->iov = (struct iovec){s->buf, BLOCK};
    slot_name(s->name, i);
    fdk_stat_new(&s->st);
    warm_buffer(s->buf);
  }
  double t0 = now_ns(), c0 = cpu_ns();
  for (int i = 0; i < inflight; i++) fk_start(&fk.slots[i]);
  fdk_loop_run(fk.loop, FDK_RUN_DEFAULT);
  double ns = (now_ns() - t0) / fk.done;
  last_cpu_ns = (cpu_ns() - c0) / fk.done;
  if (fk.failed || fk.done != total_ops) exit(1);
  for (int i = 0; i < inflight; i++) fdk_stat_free(fk.slots[i].st);
  fdk_fd_unref(fk.rf);
  fdk_fd_unref(fk.wf);
  fdk_loop_free(fk.loop);
  return ns;
}

/* libuv uv_fs_* -------------------------------------------------------------------------- */

typedef struct {
  uv_fs_t req;
  int c, index;
  char name[32];
  char buf[BLOCK];
} uv_slot;

static struct {
  uv_loop_t loop;
  int started, done;
  uv_slot slots[SLOTS_MAX];
} lu;

static void lu_start(uv_slot *s);

static void lu_check(uv_fs_t *req) {
  if (req->result < 0) {
    fprintf(stderr, "bench_fs_async: libuv: %s\n", uv_strerror((int)req->result));
    exit(1);
  }
}

static void lu_done(uv_fs_t *req) {
  uv_slot *s = req->data;
  lu_check(req);
  if (s->c == OPEN) {
    uv_fs_t close_req;
    uv_fs_close(NULL, &close_req, (uv_file)req->result, NULL);
  } else if (s->c == READDIR) {
    uv_dirent_t ent;
    while (uv_fs_scandir_next(req, &ent) != UV_EOF) {
    }
  }
  uv_fs_req_cleanup(req);
  lu.done++;
  if (lu.started < total_ops) lu_start(s);
}

static void lu_on_mkdir(uv_fs_t *req) {
  uv_slot *s = req->data;
  lu_check(req);
  uv_fs_req_cleanup(req);
  uv_fs_rmdir(&lu.loop, &s->req, s->name, lu_done);
  s->req.data = s;
}

static void lu_start(uv_slot *s) {
  lu.started++;
  int64_t off = (int64_t)((lu.started + s->index) % (FILE_SIZE / BLOCK)) * BLOCK;
  uv_buf_t b = uv_buf_init(s->buf, BLOCK);
  int r = 0;
  switch (s->c) {
    case STAT: r = uv_fs_stat(&lu.loop, &s->req, "f", lu_done); break;
    case OPEN: r = uv_fs_open(&lu.loop, &s->req, "f", O_RDONLY, 0, lu_done); break;
    case PREAD: r = uv_fs_read(&lu.loop, &s->req, rfd, &b, 1, off, lu_done); break;
    case PWRITE: r = uv_fs_write(&lu.loop, &s->req, wfd, &b, 1, off, lu_done); break;
    case READDIR: r = uv_fs_scandir(&lu.loop, &s->req, "d", 0, lu_done); break;
    case MKDIR: r = uv_fs_mkdir(&lu.loop, &s->req, s->name, 0755, lu_on_mkdir); break;
  }
  if (r < 0) abort();
  s->req.data = s;
}

static double run_libuv(int c, int inflight) {
  uv_loop_init(&lu.loop);
  lu.started = lu.done = 0;
  for (int i = 0; i < inflight; i++) {
    lu.slots[i].c = c;
    lu.slots[i].index = i;
    slot_name(lu.slots[i].name, i);
    warm_buffer(lu.slots[i].buf);
  }
  double t0 = now_ns(), c0 = cpu_ns();
  for (int i = 0; i < inflight; i++) lu_start(&lu.slots[i]);
  uv_run(&lu.loop, UV_RUN_DEFAULT);
  double ns = (now_ns() - t0) / lu.done;
  last_cpu_ns = (cpu_ns() - c0) / lu.done;
  uv_loop_close(&lu.loop);
  return ns;
}

/* raw liburing: submit what is ready, wait for one, reap all, refill ---------------------- */

static double run_liburing(int c, int inflight) {
  static char bufs[SLOTS_MAX][BLOCK];
  for (int i = 0; i < inflight; i++) warm_buffer(bufs[i]);
  /* The ring's setup is timed, as fdkit's is: fdkit makes its loop's ring at the first call. */
  double t0 = now_ns(), c0 = cpu_ns();
  struct io_uring ring;
  if (io_uring_queue_init(128, &ring, 0) < 0) return -1;
  static int step[SLOTS_MAX];
  static struct statx sx[SLOTS_MAX];
  int started = 0, done = 0;
  char names[SLOTS_MAX][32];
  for (int i = 0; i < inflight; i++) slot_name(names[i], i);
  /* What fdkit's open of a name beneath fdk_dir_cwd() asks the kernel: the same flags,
   * confined the same way. */
  static struct open_how confined_open = {
      .flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
#define PREP(slot)                                                                                        \
  do {                                                                                                    \
    struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);                                                   \
    int64_t off = (int64_t)((started + (slot)) % (FILE_SIZE / BLOCK)) * BLOCK;                            \
    switch (c) {                                                                                          \
      case STAT: io_uring_prep_statx(sqe, AT_FDCWD, "f", 0, STATX_BASIC_STATS | STATX_BTIME, &sx[slot]); break; \
      case OPEN: io_uring_prep_openat2(sqe, AT_FDCWD, "f", &confined_open); break;                       \
      case PREAD: io_uring_prep_read(sqe, rfd, bufs[slot], BLOCK, (uint64_t)off); break;                  \
      case PWRITE: io_uring_prep_write(sqe, wfd, bufs[slot], BLOCK, (uint64_t)off); break;                \
      case MKDIR:                                                                                         \
        if (step[slot] == 0) io_uring_prep_mkdirat(sqe, AT_FDCWD, names[slot], 0755);                     \
        else io_uring_prep_unlinkat(sqe, AT_FDCWD, names[slot], AT_REMOVEDIR);                            \
        break;                                                                                            \
    }                                                                                                     \
    io_uring_sqe_set_data64(sqe, (uint64_t)(slot));                                                       \
  } while (0)
  for (int i = 0; i < inflight; i++) {
    step[i] = 0;
    started++;
    PREP(i);
  }
  while (done < total_ops) {
    io_uring_submit_and_wait(&ring, 1);
    struct io_uring_cqe *cqe;
    unsigned head, n = 0;
    io_uring_for_each_cqe(&ring, head, cqe) {
      n++;
      int slot = (int)cqe->user_data;
      if (cqe->res < 0) {
        fprintf(stderr, "bench_fs_async: liburing %s: %s\n", cases[c], strerror(-cqe->res));
        exit(1);
      }
      if (c == OPEN) close(cqe->res);
      if (c == MKDIR && step[slot] == 0) {
        step[slot] = 1;
        PREP(slot);
        continue;
      }
      step[slot] = 0;
      done++;
      if (started < total_ops) {
        started++;
        PREP(slot);
      }
    }
    io_uring_cq_advance(&ring, n);
  }
#undef PREP
  double ns = (now_ns() - t0) / done;
  last_cpu_ns = (cpu_ns() - c0) / done;
  io_uring_queue_exit(&ring);
  return ns;
}

/* cold reads against a 1 ms timer -------------------------------------------------------- */

static struct {
  fdk_loop *loop;
  fdk_fd *fd;
  int reading, recording, started, done, chunks;
  char (*bufs)[COLD_CHUNK];
  struct iovec iov[SLOTS_MAX];
  uv_timer_t timer;
  double expected, wait_at_last_tick;
  double *late, *late_own;
  int nlate, cap;
} cold;

/* The calling thread's time spent runnable but waiting for a CPU, in ns: the scheduler's
 * doing (other tenants of the machine), not the loop's. */
static double runqueue_wait_ns(void) {
  FILE *f = fopen("/proc/thread-self/schedstat", "r");
  unsigned long long run = 0, wait = 0;
  if (f) {
    if (fscanf(f, "%llu %llu", &run, &wait) != 2) wait = 0;
    fclose(f);
  }
  return (double)wait;
}

static void cold_on_read(int64_t r, void *data);

static void cold_start(int slot) {
  int64_t off = (int64_t)cold.started++ * COLD_CHUNK;
  cold.iov[slot] = (struct iovec){cold.bufs[slot], COLD_CHUNK};
  if (fdk_preadv_async(cold.loop, cold.fd, &cold.iov[slot], 1, off, cold_on_read, (void *)(intptr_t)slot, NULL) < 0)
    abort();
}

static void cold_on_read(int64_t r, void *data) {
  if (r != COLD_CHUNK) abort();
  cold.done++;
  if (cold.started < cold.chunks) cold_start((int)(intptr_t)data);
  else if (cold.done == cold.chunks) uv_timer_stop(&cold.timer);
}

/* Each tick's lateness, and the same less the time the loop thread waited for a CPU
 * since the tick before (what the loop's own work and system calls cost it). */
static void cold_on_timer(uv_timer_t *t) {
  double now = now_ns(), wait = runqueue_wait_ns();
  if (cold.recording && cold.nlate < cold.cap) {
    double late = now - cold.expected, own = late - (wait - cold.wait_at_last_tick);
    cold.late[cold.nlate] = late / 1e6;
    cold.late_own[cold.nlate++] = (own > 0 ? own : 0) / 1e6;
  }
  cold.expected = now + 1e6;
  cold.wait_at_last_tick = wait;
  if (!cold.reading && cold.nlate == TICKS) uv_timer_stop(t);
}

/* Evicts the file; the pages mincore still finds cached. */
static int evict_once(int fd) {
  fdatasync(fd);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  void *map = mmap(NULL, COLD_SIZE, PROT_READ, MAP_SHARED, fd, 0);
  static unsigned char vec[COLD_SIZE / 4096];
  mincore(map, COLD_SIZE, vec);
  munmap(map, COLD_SIZE);
  int resident = 0;
  for (size_t i = 0; i < sizeof vec; i++) resident += vec[i] & 1;
  return resident;
}

/* Evicts the file until mincore finds none of it cached: a pass over cached data would not
 * measure cold reads, so the bench stops rather than report one. */
static void evict(int fd) {
  int resident = 0;
  for (int attempt = 0; attempt < 10; attempt++) {
    resident = evict_once(fd);
    if (resident == 0) return;
    usleep(10000); /* pages under writeback or locked by a late reader are dropped next time */
  }
  fprintf(stderr, "bench_fs_async: %d pages of the cold file still cached after POSIX_FADV_DONTNEED\n", resident);
  exit(1);
}

/* One pass of the timer on the loop: with the whole file read cold by 64 reads in flight
 * (reading), or alone for TICKS ticks; record: whether its ticks count. */
static void cold_pass(int fd, int reading, int record) {
  if (reading) evict(fd);
  cold.started = cold.done = 0;
  cold.recording = record;
  uv_loop_t *uv = fdk_loop_uv(cold.loop);
  uv_timer_init(uv, &cold.timer);
  uv_update_time(uv); /* the loop's clock stood still since its last run */
  cold.expected = now_ns() + 1e6;
  cold.wait_at_last_tick = runqueue_wait_ns();
  uv_timer_start(&cold.timer, cold_on_timer, 1, 1);
  if (reading)
    for (int i = 0; i < SLOTS_MAX; i++) cold_start(i);
  fdk_loop_run(cold.loop, FDK_RUN_DEFAULT);
  uv_close((uv_handle_t *)&cold.timer, NULL);
  fdk_loop_run(cold.loop, FDK_RUN_DEFAULT);
}

/* The timer's p99 lateness (and the same less the loop thread's run-queue waits, *own)
 * with cold reads in flight, passes over the file repeated on one loop until TICKS ticks
 * were taken, or (reading 0) alone for TICKS ticks. */
static double run_cold(int reading, double *own) {
  int fd = open("cold", O_RDONLY | O_CLOEXEC);
  cold.reading = reading;
  cold.chunks = COLD_SIZE / COLD_CHUNK;
  cold.nlate = 0;
  cold.cap = 100000;
  cold.late = malloc(sizeof(double) * (size_t)cold.cap);
  cold.late_own = malloc(sizeof(double) * (size_t)cold.cap);
  cold.bufs = malloc((size_t)SLOTS_MAX * COLD_CHUNK);
  fdk_loop_new(&cold.loop);
  fdk_fd_adopt(&cold.fd, fd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  if (reading) cold_pass(fd, reading, 0);
  for (int pass = 0; pass < 200 && cold.nlate < TICKS; pass++) cold_pass(fd, reading, 1);
  fdk_fd_unref(cold.fd);
  fdk_loop_free(cold.loop);
  qsort(cold.late, (size_t)cold.nlate, sizeof(double), cmp_double);
  qsort(cold.late_own, (size_t)cold.nlate, sizeof(double), cmp_double);
  double p99 = cold.nlate ? cold.late[cold.nlate * 99 / 100] : 0;
  *own = cold.nlate ? cold.late_own[cold.nlate * 99 / 100] : 0;
  close(fd);
  free(cold.late);
  free(cold.late_own);
  free(cold.bufs);
  return p99;
}

/* the driver ------------------------------------------------------------------------------ */

static const char *fs_name(void) {
  static char name[32];
  struct statfs fs;
  statfs(".", &fs);
  switch (fs.f_type) {
    case EXT4_SUPER_MAGIC: return "ext4";
    case TMPFS_MAGIC: return "tmpfs";
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    default: snprintf(name, sizeof name, "0x%lx", (unsigned long)fs.f_type); return name;
  }
}

static void setup_files(void) {
  static char block[BLOCK];
  memset(block, 'x', sizeof block);
  int fd = open("f", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  for (int i = 0; i < FILE_SIZE / BLOCK; i++)
    if (write(fd, block, BLOCK) != BLOCK) abort();
  close(fd);
  mkdir("d", 0755);
  for (int i = 0; i < 8; i++) {
    char p[32];
    snprintf(p, sizeof p, "d/e%d", i);
    close(open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
  }
  fd = open("cold", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  static char chunk[COLD_CHUNK];
  memset(chunk, 'c', sizeof chunk);
  for (int i = 0; i < COLD_SIZE / COLD_CHUNK; i++)
    if (write(fd, chunk, COLD_CHUNK) != COLD_CHUNK) abort();
  close(fd);
}

/* Child mode: one repetition of fdkit's async figures under the engine in FDKIT_FS_ENGINE,
 * as "case inflight ns cpu_ns" lines, then "idle p99_ms" and "cold p99_ms". */
static void child(void) {
  for (int c = 0; c < NCASES; c++) {
    if (!case_selected(c)) continue;
    for (int k = 0; k < 2; k++) {
      double ns = run_fdkit(c, k ? 64 : 1);
      printf("%d %d %.1f %.1f\n", c, k ? 64 : 1, ns, last_cpu_ns);
    }
  }
  if (!cold_selected()) return;
  double own;
  double p99 = run_cold(0, &own);
  printf("idle %.3f %.3f\n", p99, own);
  p99 = run_cold(1, &own);
  printf("cold %.3f %.3f\n", p99, own);
}

/* On a disk the pair of mkdir+rmdir is mostly the disk's (an rmdir on a file system mounted
 * with discard waits for the device, holding the directory's lock): the same case on tmpfs,
 * where nothing waits for a device, measures what each implementation adds to the calls. */
static void mkdir_rmdir_on_tmpfs(void) {
  struct statfs shm;
  if (statfs("/dev/shm", &shm) < 0 || shm.f_type != TMPFS_MAGIC) return;
  char cmd[256];
  snprintf(cmd, sizeof cmd, "cd /dev/shm && BENCH_FS_ASYNC_CASE=mkdir+rmdir /proc/%d/exe %d %d", getpid(), reps,
           total_ops);
  fflush(stdout);
  if (system(cmd) != 0) fprintf(stderr, "bench_fs_async: the mkdir+rmdir run on /dev/shm failed\n");
}

static const char *const engines[] = {"auto", "inline", "uring", "pool"};
enum { NENGINES = 4 };

int main(int argc, char **argv) {
  if (argc > 1) reps = atoi(argv[1]);
  if (argc > 2) total_ops = atoi(argv[2]);
  if (reps < 1 || reps > 31 || total_ops < 64) {
    fprintf(stderr, "usage: bench_fs_async [REPETITIONS (1-31)] [OPS (>= 64)]\n");
    return 2;
  }
  only_case = getenv("BENCH_FS_ASYNC_CASE");
  int known_case = cold_selected();
  for (int c = 0; c < NCASES; c++) known_case |= only_case && strcmp(only_case, cases[c]) == 0;
  if (!known_case) {
    fprintf(stderr, "bench_fs_async: BENCH_FS_ASYNC_CASE=%s is not a case name\n", only_case);
    return 2;
  }
  const char *child_mode = getenv("BENCH_FS_ASYNC_CHILD");
  if (!child_mode) {
    if (!mkdtemp(scratch) || chdir(scratch) < 0) return 1;
    setup_files();
  }
  rfd = open("f", O_RDONLY | O_CLOEXEC);
  wfd = open("f", O_WRONLY | O_CLOEXEC);
  if (child_mode) {
    child();
    return 0;
  }

  /* Repetitions interleave every implementation, so that the load of a noisy machine
   * falls on all of them alike; the medians are printed. Each engine runs in a child. */
  static double engine_ns[NENGINES][NCASES][2][32], engine_cpu[NENGINES][NCASES][2][32];
  static double engine_cold[NENGINES][32], engine_idle[NENGINES][32];
  static double engine_cold_own[NENGINES][32], engine_idle_own[NENGINES][32];
  static double sys_ns[NCASES][32], sync_ns[NCASES][32], uv_ns[NCASES][2][32], ring_ns[NCASES][2][32];
  static double uv_cpu[NCASES][2][32], ring_cpu[NCASES][2][32];
  for (int r = 0; r < reps; r++) {
    /* Each repetition starts with another engine: the first child of a repetition runs
     * right after the previous repetition's libuv and liburing runs and their workers. */
    for (int turn = 0; turn < NENGINES; turn++) {
      int e = (turn + r) % NENGINES;
      char cmd[4096];
      snprintf(cmd, sizeof cmd, "BENCH_FS_ASYNC_CHILD=1 FDKIT_FS_ENGINE=%s /proc/%d/exe 1 %d", engines[e], getpid(),
               total_ops);
      FILE *p = popen(cmd, "r");
      char line[256];
      while (fgets(line, sizeof line, p)) {
        int c, inflight;
        double ns, cpu;
        if (sscanf(line, "cold %lf %lf", &ns, &cpu) == 2) {
          engine_cold[e][r] = ns;
          engine_cold_own[e][r] = cpu;
        } else if (sscanf(line, "idle %lf %lf", &ns, &cpu) == 2) {
          engine_idle[e][r] = ns;
          engine_idle_own[e][r] = cpu;
        } else if (sscanf(line, "%d %d %lf %lf", &c, &inflight, &ns, &cpu) == 4) {
          engine_ns[e][c][inflight == 64][r] = ns;
          engine_cpu[e][c][inflight == 64][r] = cpu;
        }
      }
      if (pclose(p) != 0) {
        fprintf(stderr, "bench_fs_async: the %s child failed\n", engines[e]);
        return 1;
      }
    }
    for (int c = 0; c < NCASES; c++) {
      if (!case_selected(c)) continue;
      sys_ns[c][r] = run_sync(c, 0);
      sync_ns[c][r] = run_sync(c, 1);
      for (int k = 0; k < 2; k++) {
        uv_ns[c][k][r] = run_libuv(c, k ? 64 : 1);
        uv_cpu[c][k][r] = last_cpu_ns;
        ring_ns[c][k][r] = c == READDIR ? -1 : run_liburing(c, k ? 64 : 1);
        ring_cpu[c][k][r] = c == READDIR ? -1 : last_cpu_ns;
      }
    }
  }

  const char *fs = fs_name();
  for (int c = 0; c < NCASES; c++) {
    if (!case_selected(c)) continue;
    double sys = median(sys_ns[c], reps), sync = median(sync_ns[c], reps);
    printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"%s\",\"inflight\":1,\"impl\":\"syscall\",\"ns_per_op\":%.1f}\n",
           fs, cases[c], sys);
    printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"%s\",\"inflight\":1,\"impl\":\"fdkit-sync\",\"ns_per_op\":%.1f,"
           "\"vs_syscall\":%.3f}\n", fs, cases[c], sync, sync / sys);
    for (int k = 0; k < 2; k++) {
      int inflight = k ? 64 : 1;
      double uv = median(uv_ns[c][k], reps), ring = median(ring_ns[c][k], reps);
      double uvc = median(uv_cpu[c][k], reps), ringc = median(ring_cpu[c][k], reps);
      printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"%s\",\"inflight\":%d,\"impl\":\"libuv\",\"ns_per_op\":%.1f,"
             "\"cpu_ns_per_op\":%.1f", fs, cases[c], inflight, uv, uvc);
      /* The plain system call's latency over libuv's: no engine, which adds a hand-off to
       * the call, can go below it (the pair of mkdir+rmdir on a disk that discards). */
      if (!k) printf(",\"syscall_vs_libuv_latency\":%.3f", sys / uv);
      printf("}\n");
      if (ring > 0)
        printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"%s\",\"inflight\":%d,\"impl\":\"liburing\",\"ns_per_op\":%.1f,"
               "\"cpu_ns_per_op\":%.1f}\n", fs, cases[c], inflight, ring, ringc);
      for (int e = 0; e < NENGINES; e++) {
        double ns = median(engine_ns[e][c][k], reps), cpu = median(engine_cpu[e][c][k], reps);
        printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"%s\",\"inflight\":%d,\"impl\":\"fdkit-%s\",\"ns_per_op\":%.1f,"
               "\"minus_sync_ns\":%.1f,\"vs_libuv_latency\":%.3f,\"vs_libuv_throughput\":%.3f,\"cpu_ns_per_op\":%.1f,"
               "\"vs_libuv_cpu\":%.3f",
               fs, cases[c], inflight, engines[e], ns, ns - sync, ns / uv, uv / ns, cpu, uvc / cpu);
        if (ring > 0)
          printf(",\"vs_liburing_throughput\":%.3f,\"vs_liburing_throughput_best\":%.3f,\"vs_liburing_cpu\":%.3f",
                 ring / ns, smallest(ring_ns[c][k], reps) / smallest(engine_ns[e][c][k], reps), ringc / cpu);
        printf("}\n");
      }
    }
  }
  for (int e = 0; e < NENGINES && cold_selected(); e++)
    printf("{\"bench\":\"fs_async\",\"fs\":\"%s\",\"case\":\"cold-read-64-timer-1ms\",\"impl\":\"fdkit-%s\","
           "\"timer_p99_late_ms\":%.3f,\"timer_p99_late_ms_worst_rep\":%.3f,\"idle_timer_p99_late_ms\":%.3f,"
           "\"timer_p99_late_less_runqueue_ms\":%.3f,\"idle_timer_p99_late_less_runqueue_ms\":%.3f}\n",
           fs, engines[e], median(engine_cold[e], reps), largest(engine_cold[e], reps), median(engine_idle[e], reps),
           median(engine_cold_own[e], reps), median(engine_idle_own[e], reps));
  close(rfd);
  close(wfd);
  if (!only_case && strcmp(fs, "tmpfs") != 0) mkdir_rmdir_on_tmpfs();
  if (chdir("..") == 0) {
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", scratch);
    if (system(cmd) != 0) fprintf(stderr, "bench_fs_async: could not remove %s\n", scratch);
  }
  return 0;
}
