/* SPDX-License-Identifier: MIT */
/* Spawn + reap in a loop: fdkit (each backend) against glibc posix_spawn, fork+execve, a
 * raw clone(CLONE_VM|CLONE_VFORK) loop (one reused stack, waitpid; once more holding a
 * pidfd per child, as fdkit does) and libuv's uv_spawn,
 * for a tiny static child (exit only) and /bin/true, with 10 MiB and 1 GiB of resident
 * parent memory. One JSON object per measurement (median of several timed repetitions),
 * then the ratios doc/spawn.md states targets for.
 *
 * Each parent size lives in its own worker process, forked before either grows; the
 * coordinator interleaves the repetitions of every implementation at both sizes, so load
 * from elsewhere on the machine hits them alike and the ratio between the sizes compares
 * measurements made side by side. Each ratio line also carries the same ratio for the raw
 * clone loop ("clone_vfork_value", "clone_vfork_met"): what this kernel and machine allow
 * any vfork-style spawn, which tells an fdkit shortfall from a target the machine itself
 * cannot reach.
 *
 * usage: bench_spawn TINY_CHILD [reps]
 */
#define _GNU_SOURCE
#include <fdkit.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

extern char **environ;

static const char *g_path;
static char *g_argv[2];

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void reap(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "child %d failed\n", (int)pid);
    exit(1);
  }
}

/* ---- the implementations: each spawns and reaps one child ---- */

static fdk_actions *g_actions;
static void fdkit_backend(unsigned backend) {
  fdk_process *p;
  fdk_exit_status st;
  if (fdk_spawn(&p, NULL, g_actions, backend, NULL, NULL) < 0 || fdk_process_wait(p, &st) < 0 || st.value != 0) {
    fprintf(stderr, "fdkit spawn failed: %s\n", fdk_last_error());
    exit(1);
  }
  fdk_process_free(p);
}
static void fdkit_auto(void) { fdkit_backend(FDK_SPAWN_BACKEND_AUTO); }
static void fdkit_fork(void) { fdkit_backend(FDK_SPAWN_BACKEND_FORK); }
static void fdkit_posix_spawn(void) { fdkit_backend(FDK_SPAWN_BACKEND_POSIX_SPAWN); }

static void glibc_posix_spawn(void) {
  pid_t pid;
  if (posix_spawn(&pid, g_path, NULL, NULL, g_argv, environ) != 0) exit(1);
  reap(pid);
}

static void fork_execve(void) {
  pid_t pid = fork();
  if (pid == 0) {
    execve(g_path, g_argv, environ);
    _exit(127);
  }
  reap(pid);
}

static char *g_stack;
enum { STACK_SIZE = 64 * 1024 };
static int vfork_child(void *arg) {
  (void)arg;
  execve(g_path, g_argv, environ);
  _exit(127);
}
static void clone_vfork(void) {
  pid_t pid = clone(vfork_child, g_stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
  if (pid < 0) exit(1);
  reap(pid);
}

/* The same loop holding a pidfd for each child (CLONE_PIDFD), as fdkit does for every child
 * so that it never signals a pid somebody else reaped: the reference for what that costs. */
static void clone_vfork_pidfd(void) {
  int pidfd = -1;
  pid_t pid = clone(vfork_child, g_stack + STACK_SIZE, CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD, NULL, &pidfd);
  if (pid < 0 || pidfd < 0) exit(1);
  reap(pid);
  close(pidfd);
}

static uv_loop_t g_uv;
static void uv_on_exit(uv_process_t *p, int64_t status, int sig) {
  if (status != 0 || sig != 0) exit(1);
  uv_close((uv_handle_t *)p, NULL);
}
static void libuv_spawn(void) {
  uv_process_t proc;
  uv_process_options_t opts;
  memset(&opts, 0, sizeof opts);
  opts.file = g_path;
  opts.args = g_argv;
  opts.exit_cb = uv_on_exit;
  if (uv_spawn(&g_uv, &proc, &opts) != 0) exit(1);
  uv_run(&g_uv, UV_RUN_DEFAULT);
}

typedef struct {
  const char *name;
  void (*spawn)(void);
} impl;

static const impl impls[] = {
    {"fdkit-auto", fdkit_auto},       {"fdkit-fork", fdkit_fork}, {"fdkit-posix_spawn", fdkit_posix_spawn},
    {"glibc-posix_spawn", glibc_posix_spawn}, {"fork-execve", fork_execve}, {"clone-vfork", clone_vfork},
    {"uv_spawn", libuv_spawn}, {"clone-vfork-pidfd", clone_vfork_pidfd},
};
enum { NIMPL = sizeof impls / sizeof impls[0] };

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], cmp_double);
  return v[n / 2];
}

/* Spawns per second over one repetition of about rep_s seconds (at least 3 spawns). */
static double measure_once(const impl *im, double rep_s) {
  int n = 0;
  double start = now_s(), t;
  do {
    im->spawn();
    n++;
  } while ((t = now_s() - start) < rep_s || n < 3);
  return n / t;
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Grows this process's resident memory to about mib MiB, every page touched. */
static void grow_rss(size_t mib) {
  size_t size = mib << 20;
  char *block = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) exit(1);
  memset(block, 1, size);
}

static void read_full(int fd, void *buf, size_t len) {
  for (char *p = buf; len > 0;) {
    ssize_t n = read(fd, p, len);
    if (n <= 0) {
      fprintf(stderr, "bench_spawn: a worker went away\n");
      exit(1);
    }
    p += n;
    len -= (size_t)n;
  }
}

static void write_full(int fd, const void *buf, size_t len) {
  if (write(fd, buf, len) != (ssize_t)len) exit(1); /* pipe writes this small are atomic */
}

/* ---- a worker: one parent size, measuring what the coordinator asks for ---- */

enum { NCHILD = 2, NRSS = 2 };
static const char *g_children[NCHILD];

typedef struct {
  int child, impl; /* impl < 0: exit */
  double rep_s;    /* 0: a warm-up of 3 spawns */
} request;

typedef struct {
  double ops_per_s;
  long peak_rss_kib;
} reply;

static void worker(size_t mib, int in, int out) {
  fdk_actions *lists[NCHILD];
  char *argvs[NCHILD][2];
  grow_rss(mib);
  g_stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (g_stack == MAP_FAILED || uv_loop_init(&g_uv) != 0) exit(1);
  for (int c = 0; c < NCHILD; c++) {
    argvs[c][0] = (char *)g_children[c];
    argvs[c][1] = NULL;
    if (fdk_actions_new(&lists[c]) < 0 || fdk_actions_execve(lists[c], g_children[c], (const char *const *)argvs[c], NULL) < 0)
      exit(1);
  }
  request rq;
  for (;;) {
    read_full(in, &rq, sizeof rq);
    if (rq.impl < 0) break;
    g_path = g_children[rq.child];
    g_argv[0] = argvs[rq.child][0];
    g_argv[1] = NULL;
    g_actions = lists[rq.child];
    reply rp = {measure_once(&impls[rq.impl], rq.rep_s), 0};
    rp.peak_rss_kib = peak_rss_kib();
    write_full(out, &rp, sizeof rp);
  }
  for (int c = 0; c < NCHILD; c++) fdk_actions_free(lists[c]);
  uv_loop_close(&g_uv);
  exit(0);
}

typedef struct {
  pid_t pid;
  int to, from;
  long peak_rss_kib;
} worker_link;

static worker_link start_worker(size_t mib) {
  int down[2], up[2];
  if (pipe(down) < 0 || pipe(up) < 0) exit(1);
  pid_t pid = fork();
  if (pid < 0) exit(1);
  if (pid == 0) {
    close(down[1]);
    close(up[0]);
    worker(mib, down[0], up[1]);
  }
  close(down[0]);
  close(up[1]);
  return (worker_link){pid, down[1], up[0], 0};
}

static double ask(worker_link *w, int child, int impl, double rep_s) {
  request rq = {child, impl, rep_s};
  reply rp;
  write_full(w->to, &rq, sizeof rq);
  read_full(w->from, &rp, sizeof rp);
  w->peak_rss_kib = rp.peak_rss_kib;
  return rp.ops_per_s;
}

static void stop_worker(worker_link *w) {
  request rq = {0, -1, 0};
  write_full(w->to, &rq, sizeof rq);
  reap(w->pid);
  close(w->to);
  close(w->from);
}

/* ---- the coordinator ---- */

static double results[NCHILD][NRSS][NIMPL];

/* One target ratio, with the same ratio for the raw clone loop where that differs, and
 * whether that loop itself reaches the target on this machine. */
static void emit_ratio(const char *cas, const char *what, double value, double target, double clone_vfork_value) {
  printf("{\"bench\":\"spawn\",\"case\":\"%s\",\"ratio\":\"%s\",\"value\":%.3f,\"target\":%.2f,\"met\":%s", cas, what,
         value, target, value >= target ? "true" : "false");
  if (clone_vfork_value > 0)
    printf(",\"clone_vfork_value\":%.3f,\"clone_vfork_met\":%s", clone_vfork_value,
           clone_vfork_value >= target ? "true" : "false");
  printf("}\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_spawn TINY_CHILD [reps]\n");
    return 2;
  }
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1 || reps > 31) reps = 5;
  g_children[0] = argv[1];
  g_children[1] = "/bin/true";
  const char *child_names[NCHILD] = {"tiny", "true"};
  const size_t rss_mib[NRSS] = {10, 1024};
  const char *rss_names[NRSS] = {"10MiB", "1GiB"};
  worker_link workers[NRSS];
  for (int m = 0; m < NRSS; m++) workers[m] = start_worker(rss_mib[m]);

  for (int c = 0; c < NCHILD; c++) {
    double rates[NRSS][NIMPL][32];
    for (int m = 0; m < NRSS; m++)
      for (int i = 0; i < NIMPL; i++) ask(&workers[m], c, i, 0);
    for (int r = 0; r < reps; r++)
      for (int i = 0; i < NIMPL; i++)
        for (int m = 0; m < NRSS; m++) rates[m][i][r] = ask(&workers[m], c, i, 0.2);
    for (int m = 0; m < NRSS; m++)
      for (int i = 0; i < NIMPL; i++) {
        results[c][m][i] = median(rates[m][i], reps);
        printf("{\"bench\":\"spawn\",\"case\":\"%s-%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"peak_rss_kib\":%ld}\n",
               child_names[c], rss_names[m], impls[i].name, results[c][m][i], workers[m].peak_rss_kib);
        fflush(stdout);
      }
  }
  for (int m = 0; m < NRSS; m++) stop_worker(&workers[m]);

  /* Indices: 0 fdkit-auto, 3 glibc posix_spawn, 5 clone-vfork, 6 uv_spawn, 7 clone-vfork-pidfd. */
  for (int m = 0; m < NRSS; m++) {
    char cas[32];
    const double *tiny = results[0][m];
    snprintf(cas, sizeof cas, "tiny-%s", rss_names[m]);
    emit_ratio(cas, "fdkit-auto/glibc-posix_spawn", tiny[0] / tiny[3], 1.3, tiny[5] / tiny[3]);
    emit_ratio(cas, "fdkit-auto/clone-vfork", tiny[0] / tiny[5], 0.85, 0);
    emit_ratio(cas, "fdkit-auto/clone-vfork-pidfd", tiny[0] / tiny[7], 0.85, 0);
  }
  const double *true10 = results[1][0], *true1g = results[1][1];
  emit_ratio("true-1GiB", "fdkit-auto/uv_spawn", true1g[0] / true1g[6], 15, true1g[5] / true1g[6]);
  emit_ratio("true-1GiB", "fdkit-auto@1GiB/fdkit-auto@10MiB", true1g[0] / true10[0], 0.9, true1g[5] / true10[5]);
  return 0;
}
