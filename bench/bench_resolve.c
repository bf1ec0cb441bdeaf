/* SPDX-License-Identifier: MIT */
/* Confined resolution, fdkit against plain openat / fstatat in the same run.
 *
 * open-depthN: open(O_RDONLY) + close of a file N components below a directory
 *   descriptor: plain openat(2) (no confinement; with O_NOFOLLOW, the flags of the one
 *   openat fdkit makes for a single name: the file is no symlink, so at every depth it
 *   opens what the confined calls open); fdk_openat + fdk_fd_unref through
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); the same through the userspace
 *   fallback (one O_PATH open per component); and the raw openat2 system call with those
 *   flags, which tells the kernel's share of the confined open's cost from fdkit's own.
 * stat-depthN: plain statx(2) (the call fdkit makes, same mask and AT_SYMLINK_NOFOLLOW)
 *   against fdk_statat (follow) with each backend.
 * Depth 1 is a single component: the confined call makes the same one system call as the
 * plain one (O_NOFOLLOW / AT_SYMLINK_NOFOLLOW), and resolves further only for a symlink,
 * so fdkit-openat2 and fdkit-fallback run the same code there: their ratio shows the
 * bench's noise. Every repetition interleaves the implementations in 40 rounds of
 * OPS/40 calls each; a line reports the median rate over the repetitions and the median
 * of the per-repetition ratios of its time per operation to the plain call (and the
 * fallback's to the openat2 path).
 * call_median_ns: each line also gives the median time of one call, from OPS calls of the
 * implementation alternated one by one with OPS plain calls and timed one by one (less the
 * median of an empty timing), and call_time_vs_<plain>, the ratio of the two medians (the
 * ratios between fdkit's paths divide those ratios). A loaded machine
 * stretches some calls, by preemption or interrupts, but hardly their median: where other
 * processes compete for the cores the rates and their ratios above swing by several per
 * cent, these much less.
 *
 * usage: bench_resolve [REPETITIONS] [OPS]     (defaults 7, 20000)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fdkit.h>

enum { MAX_REPS = 31, MAX_IMPLS = 4, ROUNDS = 40 };

static int reps = 7;
static long ops = 20000;
static int base_fd;
static fdk_dir *base_dir;
static fdk_stat *st;
static char top[PATH_MAX];

static double now_s(void) { return (double)fdk_now_ns() / 1e9; }

static void plain_open(const char *path) {
  int fd = openat(base_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) abort();
  close(fd);
}

static void raw_openat2(const char *path) {
  struct open_how how = {.flags = O_RDONLY | O_CLOEXEC, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
  long fd = syscall(SYS_openat2, base_fd, path, &how, sizeof how);
  if (fd < 0) abort();
  close((int)fd);
}

static void fdkit_open(const char *path) {
  fdk_fd *fd;
  if (fdk_openat(&fd, base_dir, path, FDK_O_RDONLY, 0) != 0) abort();
  fdk_fd_unref(fd);
}

static void plain_stat(const char *path) {
  struct statx s;
  if (statx(base_fd, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS | STATX_BTIME, &s) != 0) abort();
}

static void fdkit_stat(const char *path) {
  if (fdk_statat(st, base_dir, path, 1) != 0) abort();
}

typedef struct {
  const char *impl;
  void (*call)(const char *path);
  int backend; /* 0: not fdkit */
} impl;

/* Seconds per operation of each implementation in one repetition. Its ops are split into
 * ROUNDS chunks; every round runs one chunk of each implementation, starting with a
 * different one each round, so that a change of the machine's load falls on all of them
 * alike rather than on whichever ran during it. */
static void one_repetition(const impl *impls, int n, const char *path, double *per_op) {
  long chunk = ops / ROUNDS > 0 ? ops / ROUNDS : 1;
  double total[MAX_IMPLS] = {0};
  for (int round = 0; round < ROUNDS; round++)
    for (int k = 0; k < n; k++) {
      int i = (round + k) % n;
      if (impls[i].backend && fdk_resolve_set_backend(impls[i].backend) != 0) abort();
      double t0 = now_s();
      for (long op = 0; op < chunk; op++) impls[i].call(path);
      total[i] += now_s() - t0;
    }
  for (int i = 0; i < n; i++) per_op[i] = total[i] / (double)(chunk * ROUNDS);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, long n) {
  qsort(v, (size_t)n, sizeof(double), cmp_double);
  return v[n / 2];
}

/* call[i]: the median nanoseconds of one call of impls[i] (i >= 1), over OPS calls
 * alternated one by one with OPS plain calls, whose median is plain[i]; both less the
 * median of an empty timing. The backend is set once per implementation, outside the
 * timed calls (setting it probes openat2). */
static void call_medians(const impl *impls, int n, const char *path, double *call, double *plain) {
  double *ns[3];
  for (int k = 0; k < 3; k++)
    if (!(ns[k] = malloc(sizeof(double) * (size_t)ops))) abort();
  for (int i = 1; i < n; i++) {
    if (impls[i].backend && fdk_resolve_set_backend(impls[i].backend) != 0) abort();
    for (long op = 0; op < ops; op++) {
      for (int k = 0; k < 2; k++) {
        int which = (int)((op + k) % 2); /* 0: the plain call, 1: impls[i] */
        int64_t t0 = fdk_now_ns();
        impls[which ? i : 0].call(path);
        ns[which][op] = (double)(fdk_now_ns() - t0);
      }
      int64_t t0 = fdk_now_ns();
      ns[2][op] = (double)(fdk_now_ns() - t0);
    }
    double timer = median(ns[2], ops);
    plain[i] = median(ns[0], ops) - timer;
    call[i] = median(ns[1], ops) - timer;
  }
  for (int k = 0; k < 3; k++) free(ns[k]);
}


/* The median over the repetitions of the time of impls[a] divided by that of impls[b],
 * each ratio taken within one repetition. */
static double ratio(double per_op[][MAX_REPS], int a, int b) {
  double r[MAX_REPS];
  for (int i = 0; i < reps; i++) r[i] = per_op[a][i] / per_op[b][i];
  return median(r, reps);
}

static double ops_per_s(double per_op[][MAX_REPS], int i) {
  double t[MAX_REPS];
  memcpy(t, per_op[i], sizeof(double) * (size_t)reps);
  return 1.0 / median(t, reps);
}

/* impls: the plain call, fdkit-openat2, fdkit-fallback, and optionally (n == 4) the raw
 * openat2 system call. */
static void run_case(const char *name, const char *path, const impl *impls, int n) {
  double per_op[MAX_IMPLS][MAX_REPS], one[MAX_IMPLS], call_ns[MAX_IMPLS], plain_ns[MAX_IMPLS];
  one_repetition(impls, n, path, one); /* warm the caches */
  for (int r = 0; r < reps; r++) {
    one_repetition(impls, n, path, one);
    for (int i = 0; i < n; i++) per_op[i][r] = one[i];
  }
  call_medians(impls, n, path, call_ns, plain_ns);
  const char *plain = impls[0].impl;
  double vs_plain[MAX_IMPLS];
  for (int i = 1; i < n; i++) vs_plain[i] = call_ns[i] / plain_ns[i];
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"call_median_ns\":%.0f}\n",
         name, plain, ops_per_s(per_op, 0), plain_ns[1]);
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f,"
         "\"call_median_ns\":%.0f,\"call_time_vs_%s\":%.3f}\n",
         name, impls[1].impl, ops_per_s(per_op, 1), plain, ratio(per_op, 1, 0), call_ns[1], plain, vs_plain[1]);
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f,"
         "\"time_vs_%s\":%.3f,\"call_median_ns\":%.0f,\"call_time_vs_%s\":%.3f,\"call_time_vs_%s\":%.3f}\n",
         name, impls[2].impl, ops_per_s(per_op, 2), plain, ratio(per_op, 2, 0), impls[1].impl, ratio(per_op, 2, 1),
         call_ns[2], plain, vs_plain[2], impls[1].impl, vs_plain[2] / vs_plain[1]);
  if (n == 4)
    printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f,"
           "\"fdkit-openat2_time_vs_this\":%.3f,\"call_median_ns\":%.0f,\"call_time_vs_%s\":%.3f,"
           "\"fdkit-openat2_call_time_vs_this\":%.3f}\n",
           name, impls[3].impl, ops_per_s(per_op, 3), plain, ratio(per_op, 3, 0), ratio(per_op, 1, 3), call_ns[3],
           plain, vs_plain[3], vs_plain[1] / vs_plain[3]);
  fflush(stdout);
}

/* top/d1/.../d19 with a file "f" at depths 1, 5 and 20 (counting the file). */
static void make_tree(void) {
  snprintf(top, sizeof top, "/tmp/fdkit-bench-resolve-XXXXXX");
  if (!mkdtemp(top)) abort();
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s", top);
  for (int depth = 1; depth <= 20; depth++) {
    if (depth == 1 || depth == 5 || depth == 20) {
      char file[PATH_MAX + 8];
      snprintf(file, sizeof file, "%s/f", path);
      int fd = open(file, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd < 0) abort();
      close(fd);
    }
    size_t n = strlen(path);
    snprintf(path + n, sizeof path - n, "/d%d", depth);
    if (depth < 20 && mkdir(path, 0755) < 0) abort();
  }
}

static void remove_tree(void) {
  char cmd[PATH_MAX + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", top);
}

static void rel_path(int depth, char *out, size_t len) {
  out[0] = '\0';
  for (int i = 1; i < depth; i++) snprintf(out + strlen(out), len - strlen(out), "d%d/", i);
  snprintf(out + strlen(out), len - strlen(out), "f");
}

int main(int argc, char **argv) {
  if (argc > 1) reps = atoi(argv[1]);
  if (argc > 2) ops = atol(argv[2]);
  if (reps < 1 || reps > MAX_REPS || ops < 1) {
    fprintf(stderr, "usage: bench_resolve [REPETITIONS 1..%d] [OPS]\n", MAX_REPS);
    return 2;
  }
  if (fdk_resolve_set_backend(FDK_RESOLVE_OPENAT2) != 0) {
    fprintf(stderr, "openat2 is not available: nothing to compare\n");
    return 1;
  }
  make_tree();
  base_fd = open(top, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0 || fdk_dir_open(&base_dir, fdk_dir_fs(), top) != 0 || fdk_stat_new(&st) != 0) abort();

  static const impl open_impls[4] = {
      {"openat", plain_open, 0},
      {"fdkit-openat2", fdkit_open, FDK_RESOLVE_OPENAT2},
      {"fdkit-fallback", fdkit_open, FDK_RESOLVE_FALLBACK},
      {"openat2-raw", raw_openat2, 0},
  };
  static const impl stat_impls[3] = {
      {"statx", plain_stat, 0},
      {"fdkit-openat2", fdkit_stat, FDK_RESOLVE_OPENAT2},
      {"fdkit-fallback", fdkit_stat, FDK_RESOLVE_FALLBACK},
  };
  static const int depths[] = {1, 5, 20};
  for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
    char path[PATH_MAX], name[32];
    rel_path(depths[i], path, sizeof path);
    snprintf(name, sizeof name, "open-depth%d", depths[i]);
    run_case(name, path, open_impls, 4);
  }
  for (size_t i = 0; i < sizeof depths / sizeof depths[0]; i++) {
    char path[PATH_MAX], name[32];
    rel_path(depths[i], path, sizeof path);
    snprintf(name, sizeof name, "stat-depth%d", depths[i]);
    run_case(name, path, stat_impls, 3);
  }

  fdk_stat_free(st);
  fdk_dir_unref(base_dir);
  close(base_fd);
  remove_tree();
  return 0;
}
