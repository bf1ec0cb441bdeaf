/* SPDX-License-Identifier: MIT */
/* What tracing costs: the same operations through libfdkit (tracing compiled in, no hook;
 * then with a counting hook) and through a build with tracing compiled out, both loaded
 * with dlopen into this one process so they run side by side. Cases: read/write on a pipe,
 * synchronous and asynchronous, and a confined open.
 *
 * usage: bench_trace LIBFDKIT LIBFDKIT_NOTRACE [ITERATIONS]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fdkit.h>

typedef struct {
  const char *label;
  void *handle;
  int (*pipe)(fdk_fd **, fdk_fd **);
  ssize_t (*write)(fdk_fd *, const void *, size_t);
  ssize_t (*read)(fdk_fd *, void *, size_t);
  fdk_fd *(*unref)(fdk_fd *);
  int (*trace_set)(fdk_loop *, fdk_trace_cb, void *);
  int (*loop_new)(fdk_loop **);
  int (*loop_free)(fdk_loop *);
  int (*loop_run)(fdk_loop *, int);
  int (*read_async)(fdk_loop *, fdk_fd *, void *, size_t, fdk_result_cb, void *, fdk_op **);
  int (*write_async)(fdk_loop *, fdk_fd *, const void *, size_t, fdk_result_cb, void *, fdk_op **);
  int64_t (*now_ns)(void);
  fdk_dir *(*dir_fs)(void);
  int (*dir_open)(fdk_dir **, fdk_dir *, const char *);
  fdk_dir *(*dir_unref)(fdk_dir *);
  int (*openat)(fdk_fd **, fdk_dir *, const char *, unsigned, unsigned);
} api;

static void *must(void *handle, const char *name) {
  void *p = dlsym(handle, name);
  if (!p) {
    fprintf(stderr, "bench_trace: %s: %s\n", name, dlerror());
    exit(1);
  }
  return p;
}

static void load(api *a, const char *label, const char *path) {
  a->label = label;
  a->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!a->handle) {
    fprintf(stderr, "bench_trace: %s\n", dlerror());
    exit(1);
  }
  a->pipe = must(a->handle, "fdk_pipe");
  a->write = must(a->handle, "fdk_write");
  a->read = must(a->handle, "fdk_read");
  a->unref = must(a->handle, "fdk_fd_unref");
  a->trace_set = must(a->handle, "fdk_trace_set");
  a->loop_new = must(a->handle, "fdk_loop_new");
  a->loop_free = must(a->handle, "fdk_loop_free");
  a->loop_run = must(a->handle, "fdk_loop_run");
  a->read_async = must(a->handle, "fdk_read_async");
  a->write_async = must(a->handle, "fdk_write_async");
  a->now_ns = must(a->handle, "fdk_now_ns");
  a->dir_fs = must(a->handle, "fdk_dir_fs");
  a->dir_open = must(a->handle, "fdk_dir_open");
  a->dir_unref = must(a->handle, "fdk_dir_unref");
  a->openat = must(a->handle, "fdk_openat");
}

static long iterations = 200000;

/* One write and one read of a byte on a pipe, synchronous: 2 operations. */
static double sync_rw(const api *a) {
  fdk_fd *r, *w;
  a->pipe(&r, &w);
  char c = 'x';
  int64_t t0 = a->now_ns();
  for (long i = 0; i < iterations; i++) {
    if (a->write(w, &c, 1) != 1 || a->read(r, &c, 1) != 1) abort();
  }
  double secs = (double)(a->now_ns() - t0) / 1e9;
  a->unref(r);
  a->unref(w);
  return 2.0 * (double)iterations / secs;
}

typedef struct {
  const api *a;
  fdk_loop *loop;
  fdk_fd *r, *w;
  char c;
  long left;
} chain;

static void on_read(int64_t result, void *data);

static void on_write(int64_t result, void *data) {
  chain *ch = data;
  if (result != 1 || ch->a->read_async(ch->loop, ch->r, &ch->c, 1, on_read, ch, NULL) < 0) abort();
}

static void on_read(int64_t result, void *data) {
  chain *ch = data;
  if (result != 1) abort();
  if (--ch->left > 0 && ch->a->write_async(ch->loop, ch->w, &ch->c, 1, on_write, ch, NULL) < 0) abort();
}

/* The same through async calls on a loop: each completes at once, so this measures the
 * per-operation path (start, span, ready queue, callback) rather than waiting. */
static double async_rw(const api *a) {
  chain ch = {a, NULL, NULL, NULL, 'x', iterations};
  a->loop_new(&ch.loop);
  a->pipe(&ch.r, &ch.w);
  int64_t t0 = a->now_ns();
  a->write_async(ch.loop, ch.w, &ch.c, 1, on_write, &ch, NULL);
  a->loop_run(ch.loop, FDK_RUN_DEFAULT);
  double secs = (double)(a->now_ns() - t0) / 1e9;
  a->unref(ch.r);
  a->unref(ch.w);
  a->loop_free(ch.loop);
  return 2.0 * (double)iterations / secs;
}

static char confined_dir[] = "/tmp/fdkit-bench-trace-XXXXXX";

/* A confined open (openat through a dir handle: the openat, resolve and close spans) of
 * a file two levels down, and its close: counted as one operation. */
static double confined_open(const api *a) {
  fdk_dir *dir;
  if (a->dir_open(&dir, a->dir_fs(), confined_dir) < 0) abort();
  long n = iterations / 4;
  int64_t t0 = a->now_ns();
  for (long i = 0; i < n; i++) {
    fdk_fd *fd;
    if (a->openat(&fd, dir, "sub/../sub/file", FDK_O_RDONLY, 0) < 0) abort();
    a->unref(fd);
  }
  double secs = (double)(a->now_ns() - t0) / 1e9;
  a->dir_unref(dir);
  return (double)n / secs;
}

static void make_confined_dir(void) {
  char path[sizeof confined_dir + 16];
  if (!mkdtemp(confined_dir)) abort();
  snprintf(path, sizeof path, "%s/sub", confined_dir);
  if (mkdir(path, 0755) < 0) abort();
  snprintf(path, sizeof path, "%s/sub/file", confined_dir);
  FILE *f = fopen(path, "w");
  if (!f) abort();
  fclose(f);
}

static void remove_confined_dir(void) {
  char path[sizeof confined_dir + 16];
  snprintf(path, sizeof path, "%s/sub/file", confined_dir);
  unlink(path);
  snprintf(path, sizeof path, "%s/sub", confined_dir);
  rmdir(path);
  rmdir(confined_dir);
}

static long hook_events;
static void counting_hook(const fdk_trace_event *e, void *data) {
  (void)e;
  (void)data;
  hook_events++;
}

static int cmp(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

enum { REPS = 7 };

static double median(double (*fn)(const api *), const api *a) {
  double v[REPS];
  for (int i = 0; i < REPS; i++) v[i] = fn(a);
  qsort(v, REPS, sizeof v[0], cmp);
  return v[REPS / 2];
}

static void report(const char *bench_case, const char *impl, double ops) {
  printf("{\"bench\":\"trace\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f}\n", bench_case, impl, ops);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_trace LIBFDKIT LIBFDKIT_NOTRACE [ITERATIONS]\n");
    return 2;
  }
  if (argc > 3) iterations = atol(argv[3]);
  api traced, untraced;
  load(&traced, "no-hook", argv[1]);
  load(&untraced, "compiled-out", argv[2]);
  struct {
    const char *name;
    double (*fn)(const api *);
  } cases[] = {{"sync-pipe-rw", sync_rw}, {"async-pipe-rw", async_rw}, {"confined-open", confined_open}};
  make_confined_dir();
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    /* Interleave the builds so drift on the machine hits both alike. */
    double out = median(cases[i].fn, &untraced);
    double none = median(cases[i].fn, &traced);
    traced.trace_set(NULL, counting_hook, NULL);
    double hooked = median(cases[i].fn, &traced);
    traced.trace_set(NULL, NULL, NULL);
    report(cases[i].name, "compiled-out", out);
    report(cases[i].name, "no-hook", none);
    report(cases[i].name, "hook", hooked);
    printf("{\"bench\":\"trace\",\"case\":\"%s\",\"ratio\":\"no-hook/compiled-out\",\"value\":%.3f}\n",
           cases[i].name, none / out);
    printf("{\"bench\":\"trace\",\"case\":\"%s\",\"ratio\":\"hook/no-hook\",\"value\":%.3f,"
           "\"hook_ns_per_op\":%.1f}\n",
           cases[i].name, hooked / none, 1e9 / hooked - 1e9 / none);
  }
  remove_confined_dir();
  if (hook_events == 0) {
    fprintf(stderr, "bench_trace: the hook saw no event: the traced build is not tracing\n");
    return 1;
  }
  return 0;
}
