/* Spawn + reap in a loop: fdkit (each backend) against glibc posix_spawn, fork+execve, a
 * raw clone(CLONE_VM|CLONE_VFORK) loop (one reused stack, waitpid) and libuv's uv_spawn,
 * for a tiny static child (exit only) and /bin/true, with 10 MiB and 1 GiB of resident
 * parent memory. One JSON object per measurement (median of several timed repetitions),
 * then the ratios DESIGN.md sets targets for.
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
    {"uv_spawn", libuv_spawn},
};
enum { NIMPL = sizeof impls / sizeof impls[0] };

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Spawns per second over one repetition of about rep_s seconds. */
static double measure_once(const impl *im, double rep_s) {
  int n = 0;
  double start = now_s(), t;
  do {
    im->spawn();
    n++;
  } while ((t = now_s() - start) < rep_s || n < 3);
  return n / t;
}

/* Median rate of each implementation; the repetitions of all implementations are
 * interleaved, so that load from elsewhere on the machine hits them alike. */
static void measure_all(int reps, double rep_s, double *out) {
  double rates[NIMPL][32];
  for (int i = 0; i < NIMPL; i++) impls[i].spawn(); /* warm-up */
  for (int r = 0; r < reps; r++)
    for (int i = 0; i < NIMPL; i++) rates[i][r] = measure_once(&impls[i], rep_s);
  for (int i = 0; i < NIMPL; i++) {
    qsort(rates[i], (size_t)reps, sizeof rates[i][0], cmp_double);
    out[i] = rates[i][reps / 2];
  }
}

static long peak_rss_kib(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Grows the parent's resident memory to about mib MiB, every page touched. */
static void grow_rss(size_t mib) {
  static char *block;
  static size_t have;
  size_t want = mib << 20;
  if (want <= have) return;
  block = block ? mremap(block, have, want, MREMAP_MAYMOVE)
                : mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (block == MAP_FAILED) exit(1);
  memset(block + have, 1, want - have);
  have = want;
}

static double results[2][2][NIMPL]; /* [child][rss][impl] */

static void emit_ratio(const char *cas, const char *what, double value, double target) {
  printf("{\"bench\":\"spawn\",\"case\":\"%s\",\"ratio\":\"%s\",\"value\":%.3f,\"target\":%.2f,\"met\":%s}\n", cas, what,
         value, target, value >= target ? "true" : "false");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_spawn TINY_CHILD [reps]\n");
    return 2;
  }
  int reps = argc > 2 ? atoi(argv[2]) : 5;
  if (reps < 1 || reps > 31) reps = 5;
  const char *children[2] = {argv[1], "/bin/true"};
  const char *child_names[2] = {"tiny", "true"};
  const size_t rss_mib[2] = {10, 1024};
  const char *rss_names[2] = {"10MiB", "1GiB"};
  g_stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  uv_loop_init(&g_uv);
  for (int m = 0; m < 2; m++) {
    grow_rss(rss_mib[m]);
    for (int c = 0; c < 2; c++) {
      g_path = children[c];
      g_argv[0] = (char *)children[c];
      g_argv[1] = NULL;
      fdk_actions_new(&g_actions);
      fdk_actions_execve(g_actions, g_path, (const char *const *)g_argv, NULL);
      measure_all(reps, 0.2, results[c][m]);
      for (int i = 0; i < NIMPL; i++) {
        double rate = results[c][m][i];
        printf("{\"bench\":\"spawn\",\"case\":\"%s-%s\",\"impl\":\"%s\",\"ops_per_s\":%.1f,\"peak_rss_kib\":%ld}\n",
               child_names[c], rss_names[m], impls[i].name, rate, peak_rss_kib());
        fflush(stdout);
      }
      g_actions = fdk_actions_free(g_actions);
    }
  }
  /* Indices: 0 fdkit-auto, 3 glibc posix_spawn, 5 clone-vfork, 6 uv_spawn. */
  for (int m = 0; m < 2; m++) {
    char cas[32];
    snprintf(cas, sizeof cas, "tiny-%s", rss_names[m]);
    emit_ratio(cas, "fdkit-auto/glibc-posix_spawn", results[0][m][0] / results[0][m][3], 1.3);
    emit_ratio(cas, "fdkit-auto/clone-vfork", results[0][m][0] / results[0][m][5], 0.85);
  }
  emit_ratio("true-1GiB", "fdkit-auto/uv_spawn", results[1][1][0] / results[1][1][6], 15);
  emit_ratio("true-1GiB", "fdkit-auto@1GiB/fdkit-auto@10MiB", results[1][1][0] / results[1][0][0], 0.9);
  uv_loop_close(&g_uv);
  return 0;
}
