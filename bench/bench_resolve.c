/* SPDX-License-Identifier: MIT */
/* Confined resolution, fdkit against plain openat / fstatat in the same run.
 *
 * open-depthN: open(O_RDONLY) + close of a file N components below a directory
 *   descriptor: plain openat(2) (no confinement); fdk_openat + fdk_fd_unref through
 *   openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS); the same through the userspace
 *   fallback (one O_PATH open per component); and the raw openat2 system call with those
 *   flags, which tells the kernel's share of the confined open's cost from fdkit's own.
 * stat-depthN: plain statx(2) (the call fdkit makes, same mask) against fdk_statat
 *   (follow) with each backend.
 * Depth 1 is a single component: the confined call makes the same one system call as the
 * plain one (O_NOFOLLOW / AT_SYMLINK_NOFOLLOW), and resolves further only for a symlink.
 * Every case alternates the implementations within each repetition and reports the
 * median rate; fdkit lines carry the ratio of their time per operation to the plain call
 * (and the fallback's to the openat2 path).
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

enum { MAX_REPS = 31 };

static int reps = 7;
static long ops = 20000;
static int base_fd;
static fdk_dir *base_dir;
static fdk_stat *st;
static char top[PATH_MAX];

static double now_s(void) { return (double)fdk_now_ns() / 1e9; }

static void plain_open(const char *path) {
  int fd = openat(base_fd, path, O_RDONLY | O_CLOEXEC);
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
  if (statx(base_fd, path, 0, STATX_BASIC_STATS | STATX_BTIME, &s) != 0) abort();
}

static void fdkit_stat(const char *path) {
  if (fdk_statat(st, base_dir, path, 1) != 0) abort();
}

typedef struct {
  const char *impl;
  void (*call)(const char *path);
  int backend; /* 0: not fdkit */
} impl;

static double rate(const impl *im, const char *path) {
  if (im->backend && fdk_resolve_set_backend(im->backend) != 0) abort();
  double t0 = now_s();
  for (long i = 0; i < ops; i++) im->call(path);
  return (double)ops / (now_s() - t0);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* impls: the plain call, fdkit-openat2, fdkit-fallback, and optionally (n == 4) the raw
 * openat2 system call. */
static void run_case(const char *name, const char *path, const impl *impls, int n) {
  double samples[4][MAX_REPS];
  for (int i = 0; i < n; i++) rate(&impls[i], path); /* warm the caches */
  for (int r = 0; r < reps; r++)
    for (int i = 0; i < n; i++) samples[i][r] = rate(&impls[i], path);
  double median[4];
  for (int i = 0; i < n; i++) {
    qsort(samples[i], (size_t)reps, sizeof(double), cmp_double);
    median[i] = samples[i][reps / 2];
  }
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f}\n", name, impls[0].impl, median[0]);
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f}\n", name,
         impls[1].impl, median[1], impls[0].impl, median[0] / median[1]);
  printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f,"
         "\"time_vs_%s\":%.3f}\n",
         name, impls[2].impl, median[2], impls[0].impl, median[0] / median[2], impls[1].impl, median[1] / median[2]);
  if (n == 4)
    printf("{\"bench\":\"resolve\",\"case\":\"%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"time_vs_%s\":%.3f,"
           "\"fdkit-openat2_time_vs_this\":%.3f}\n",
           name, impls[3].impl, median[3], impls[0].impl, median[0] / median[3], median[3] / median[1]);
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
