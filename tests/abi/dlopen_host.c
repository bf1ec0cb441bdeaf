/* SPDX-License-Identifier: MIT */
/* A plugin host: loads libfdkit with dlopen, uses a loop with async I/O, worker-pool
 * calls, timers, a spawn watched on the loop and confined opens, frees everything and
 * unloads it, 100 times (run in both exit-watch modes: pidfd, and FDKIT_PIDFD=0). Afterwards the library is
 * no longer mapped, no thread of it is left, and no signal disposition points into code
 * that was unloaded; the host's own handlers are intact and still run. TAP output.
 *
 * usage: dlopen_host PATH_TO_LIBFDKIT
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fdkit.h>

enum { ROUNDS = 100, MAX_RANGES = 64 };

static int tests_run, tests_failed;

static void check(int ok, const char *what) {
  tests_run++;
  if (!ok) tests_failed++;
  printf("%s %d - %s\n", ok ? "ok" : "not ok", tests_run, what);
  fflush(stdout);
}

/* Address ranges of every mapping whose path contains name. */
typedef struct {
  uintptr_t lo[MAX_RANGES], hi[MAX_RANGES];
  int n;
} ranges;

static void find_mappings(const char *name, ranges *r) {
  FILE *maps = fopen("/proc/self/maps", "r");
  char line[512];
  while (maps && fgets(line, sizeof line, maps)) {
    unsigned long lo, hi;
    if (strstr(line, name) && sscanf(line, "%lx-%lx", &lo, &hi) == 2 && r->n < MAX_RANGES) {
      r->lo[r->n] = lo;
      r->hi[r->n] = hi;
      r->n++;
    }
  }
  if (maps) fclose(maps);
}

static int in_ranges(const ranges *r, uintptr_t p) {
  for (int i = 0; i < r->n; i++)
    if (p >= r->lo[i] && p < r->hi[i]) return 1;
  return 0;
}

/* The process's threads, less the kernel's io_uring workers ("iou-wrk-N"): they belong to
 * the kernel, run no library code, and stay up to a few seconds after a ring that punted
 * work to them (an fsync) is gone, for the next ring of the same process. */
static int count_threads(void) {
  DIR *d = opendir("/proc/self/task");
  int n = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[64], comm[32] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "re");
    if (f) {
      if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
      fclose(f);
    }
    n += strncmp(comm, "iou-", 4) != 0;
  }
  if (d) closedir(d);
  return n;
}

static volatile sig_atomic_t usr1_seen, chld_seen;
static void host_usr1(int sig) { (void)sig; usr1_seen++; }
static void host_chld(int sig) { (void)sig; chld_seen++; }

typedef struct {
  int (*loop_new)(fdk_loop **);
  int (*loop_free)(fdk_loop *);
  int (*loop_run)(fdk_loop *, int);
  int (*pipe)(fdk_fd **, fdk_fd **);
  fdk_fd *(*unref)(fdk_fd *);
  int (*adopt)(fdk_fd **, int, unsigned);
  int (*read_async)(fdk_loop *, fdk_fd *, void *, size_t, fdk_result_cb, void *, fdk_op **);
  int (*write_async)(fdk_loop *, fdk_fd *, const void *, size_t, fdk_result_cb, void *, fdk_op **);
  int (*fsync_async)(fdk_loop *, fdk_fd *, unsigned, fdk_result_cb, void *, fdk_op **);
  int (*getrandom_async)(fdk_loop *, void *, size_t, unsigned, fdk_result_cb, void *, fdk_op **);
  int (*sleep_until)(fdk_loop *, int64_t, fdk_result_cb, void *, fdk_op **);
  int64_t (*now_ns)(void);
  const char *(*last_error)(void);
  int (*actions_new)(fdk_actions **);
  int (*actions_execve)(fdk_actions *, const char *, const char *const *, const char *const *);
  fdk_actions *(*actions_free)(fdk_actions *);
  int (*spawn)(fdk_process **, fdk_loop *, fdk_actions *, unsigned, fdk_exit_cb, void *);
  int (*process_wait)(fdk_process *, fdk_exit_status *);
  fdk_process *(*process_free)(fdk_process *);
  fdk_dir *(*dir_fs)(void);
  int (*dir_open)(fdk_dir **, fdk_dir *, const char *);
  fdk_dir *(*dir_unref)(fdk_dir *);
  int (*openat)(fdk_fd **, fdk_dir *, const char *, unsigned, unsigned);
} api;

static int resolve(void *lib, api *a) {
#define SYM(field, name) \
  if (!(*(void **)&a->field = dlsym(lib, name))) return -1;
  SYM(loop_new, "fdk_loop_new")
  SYM(loop_free, "fdk_loop_free")
  SYM(loop_run, "fdk_loop_run")
  SYM(pipe, "fdk_pipe")
  SYM(unref, "fdk_fd_unref")
  SYM(adopt, "fdk_fd_adopt")
  SYM(read_async, "fdk_read_async")
  SYM(write_async, "fdk_write_async")
  SYM(fsync_async, "fdk_fsync_async")
  SYM(getrandom_async, "fdk_getrandom_async")
  SYM(sleep_until, "fdk_sleep_until")
  SYM(now_ns, "fdk_now_ns")
  SYM(last_error, "fdk_last_error")
  SYM(actions_new, "fdk_actions_new")
  SYM(actions_execve, "fdk_actions_execve")
  SYM(actions_free, "fdk_actions_free")
  SYM(spawn, "fdk_spawn")
  SYM(process_wait, "fdk_process_wait")
  SYM(process_free, "fdk_process_free")
  SYM(dir_fs, "fdk_dir_fs")
  SYM(dir_open, "fdk_dir_open")
  SYM(dir_unref, "fdk_dir_unref")
  SYM(openat, "fdk_openat")
#undef SYM
  return 0;
}

static int completions;
static int64_t results[6];
static void done(int64_t result, void *data) {
  results[(intptr_t)data] = result;
  completions++;
}
static void exited(fdk_process *p, int result, void *data) {
  (void)p;
  done(result, data);
}

/* The directory the confined opens happen in, with the file "inside" in it. */
static char confined[] = "/tmp/fdkit-dlopen-dir-XXXXXX";

/* A confined open inside the directory works, one that climbs out is refused. */
static int confined_opens(const api *a) {
  fdk_dir *dir;
  fdk_fd *fd;
  if (a->dir_open(&dir, a->dir_fs(), confined) < 0) return -1;
  int ok = a->openat(&fd, dir, "inside", FDK_O_RDONLY, 0) == 0;
  if (ok) a->unref(fd);
  ok = ok && a->openat(&fd, dir, "../inside", FDK_O_RDONLY, 0) == -EXDEV;
  a->dir_unref(dir);
  return ok ? 0 : -1;
}

/* One use of the library: every kind of operation, everything freed. 0 when all worked. */
static int use_once(const api *a) {
  fdk_loop *loop;
  fdk_fd *r, *w, *file;
  if (a->loop_new(&loop) < 0 || a->pipe(&r, &w) < 0) return -1;
  char path[] = "/tmp/fdkit-dlopen-XXXXXX";
  int raw = mkostemp(path, O_CLOEXEC);
  unlink(path);
  if (raw < 0 || a->adopt(&file, raw, FDK_FD_BLOCKING) < 0) return -1;
  char buf[8], rnd[16];
  completions = 0;
  a->read_async(loop, r, buf, sizeof buf, done, (void *)0, NULL);
  a->write_async(loop, w, "plugin", 6, done, (void *)1, NULL);
  a->getrandom_async(loop, rnd, sizeof rnd, 0, done, (void *)2, NULL);
  a->fsync_async(loop, file, 0, done, (void *)3, NULL);
  a->sleep_until(loop, a->now_ns() + 1000000, done, (void *)4, NULL);
  fdk_actions *actions;
  fdk_process *child;
  const char *argv[] = {"true", NULL};
  if (a->actions_new(&actions) < 0 || a->actions_execve(actions, "/bin/true", argv, NULL) < 0 ||
      a->spawn(&child, loop, actions, 0, exited, (void *)5) < 0)
    return -1;
  a->actions_free(actions);
  while (completions < 6) a->loop_run(loop, FDK_RUN_ONCE);
  fdk_exit_status status;
  int ok = results[0] == 6 && results[1] == 6 && results[2] == 16 && results[3] == 0 && results[4] == 0 &&
           results[5] == 0 && a->process_wait(child, &status) == 0 && status.kind == FDK_EXIT_CODE &&
           status.value == 0;
  a->process_free(child);
  ok = ok && confined_opens(a) == 0;
  a->unref(r);
  a->unref(w);
  a->unref(file);
  if (a->loop_free(loop) < 0) ok = 0;
  return ok ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: dlopen_host PATH_TO_LIBFDKIT\n");
    return 2;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = host_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = host_chld;
  sigaction(SIGCHLD, &sa, NULL);
  if (!mkdtemp(confined)) return 2;
  char inside[sizeof confined + 8];
  snprintf(inside, sizeof inside, "%s/inside", confined);
  int made = open(inside, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (made < 0) return 2;
  close(made);
  int threads_before = count_threads();
  printf("1..7\n");

  ranges lib_ranges = {0};
  int rounds_ok = 0;
  for (int round = 0; round < ROUNDS; round++) {
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      fprintf(stderr, "dlopen: %s\n", dlerror());
      break;
    }
    api a;
    if (resolve(lib, &a) < 0) {
      fprintf(stderr, "dlsym: %s\n", dlerror());
      dlclose(lib);
      break;
    }
    if (round == 0) {
      find_mappings("libfdkit", &lib_ranges);
      find_mappings("libuv", &lib_ranges);
    }
    if (use_once(&a) == 0) rounds_ok++;
    else fprintf(stderr, "round %d failed: %s\n", round, a.last_error());
    dlclose(lib);
  }
  check(rounds_ok == ROUNDS, "100 rounds of load, async I/O, worker pool, timers, spawn, confined open, unload");
  unlink(inside);
  rmdir(confined);

  ranges after = {0};
  find_mappings("libfdkit", &after);
  check(after.n == 0, "libfdkit is no longer mapped");
  check(lib_ranges.n > 0, "the library's mappings were seen while loaded");
  check(count_threads() == threads_before, "no thread is left behind");

  int dangling = 0;
  for (int sig = 1; sig < NSIG; sig++) {
    struct sigaction cur;
    if (sigaction(sig, NULL, &cur) < 0) continue;
    uintptr_t h = (uintptr_t)cur.sa_handler;
    if (cur.sa_handler != SIG_DFL && cur.sa_handler != SIG_IGN && in_ranges(&lib_ranges, h)) {
      fprintf(stderr, "signal %d points into unloaded code\n", sig);
      dangling++;
    }
  }
  check(dangling == 0, "no signal disposition points into unloaded code");

  struct sigaction cur;
  sigaction(SIGUSR1, NULL, &cur);
  int usr1_intact = cur.sa_handler == host_usr1;
  sigaction(SIGCHLD, NULL, &cur);
  check(usr1_intact && cur.sa_handler == host_chld, "the host's own handlers are still installed");
  /* fdkit's children raised SIGCHLD too: count only this one. */
  int chld_before = chld_seen;
  raise(SIGUSR1);
  raise(SIGCHLD);
  check(usr1_seen == 1 && chld_seen == chld_before + 1, "the host's handlers run");
  return tests_failed ? 1 : 0;
}
