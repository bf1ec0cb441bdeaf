/* SPDX-License-Identifier: MIT */
/* Capturing a child's stdout: fdk_run against a raw blocking read loop on the same kind of
 * child and pipe, in the same run.
 *
 * The child writes SIZE bytes of zeros to stdout (head -c SIZE /dev/zero). The raw
 * baseline spawns it with posix_spawn, its stdout a pipe, and reads the pipe with blocking
 * 64 KiB reads into a growing buffer, then waits for it — what a program without fdkit
 * writes. fdkit captures with fdk_run (FDK_RUN_CAPTURE).
 *
 * usage: bench_run [REPETITIONS] [MIB]   (defaults 5, 256)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fdkit.h>

extern char **environ;

static long long size_bytes = 256LL << 20;
static char size_arg[32];

static double raw_capture(void) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) abort();
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  char *argv[] = {"head", "-c", size_arg, "/dev/zero", NULL};
  pid_t pid;
  int64_t t0 = fdk_now_ns();
  if (posix_spawnp(&pid, "head", &fa, NULL, argv, environ) != 0) abort();
  posix_spawn_file_actions_destroy(&fa);
  close(p[1]);
  size_t cap = 1 << 20, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (cap - len < 65536) buf = realloc(buf, cap *= 2);
    ssize_t n = read(p[0], buf + len, 65536);
    if (n <= 0) break;
    len += (size_t)n;
  }
  int status;
  waitpid(pid, &status, 0);
  double secs = (double)(fdk_now_ns() - t0) / 1e9;
  close(p[0]);
  free(buf);
  if ((long long)len != size_bytes) abort();
  return (double)len / secs;
}

static double fdkit_capture(void) {
  const char *argv[] = {"head", "-c", size_arg, "/dev/zero", NULL};
  fdk_run_opts *opts;
  fdk_run_opts_new(&opts, argv);
  fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE);
  fdk_run_result *res;
  int64_t t0 = fdk_now_ns();
  if (fdk_run(&res, opts) < 0) abort();
  double secs = (double)(fdk_now_ns() - t0) / 1e9;
  size_t len;
  fdk_run_result_stdout(res, &len);
  fdk_run_result_free(res);
  fdk_run_opts_free(opts);
  if ((long long)len != size_bytes) abort();
  return (double)len / secs;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 5;
  if (reps < 1 || reps > 32) reps = 5;
  if (argc > 2) size_bytes = atoll(argv[2]) << 20;
  snprintf(size_arg, sizeof size_arg, "%lld", size_bytes);
  double raw[32], fdk[32];
  for (int i = 0; i < reps; i++) {
    raw[i] = raw_capture();
    fdk[i] = fdkit_capture();
  }
  qsort(raw, (size_t)reps, sizeof(double), cmp);
  qsort(fdk, (size_t)reps, sizeof(double), cmp);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"bench\":\"run\",\"case\":\"capture-%lldMiB\",\"impl\":\"raw\",\"bytes_per_s\":%.1f}\n", size_bytes >> 20,
         raw[reps / 2]);
  printf("{\"bench\":\"run\",\"case\":\"capture-%lldMiB\",\"impl\":\"fdkit\",\"bytes_per_s\":%.1f}\n", size_bytes >> 20,
         fdk[reps / 2]);
  printf("{\"bench\":\"run\",\"case\":\"capture-%lldMiB\",\"ratio\":\"fdkit/raw\",\"value\":%.3f,\"peak_rss_kib\":%ld}\n",
         size_bytes >> 20, fdk[reps / 2] / raw[reps / 2], ru.ru_maxrss);
  return 0;
}
