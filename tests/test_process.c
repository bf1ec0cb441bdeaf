/* SPDX-License-Identifier: MIT */
/* Spawn and process handles: every action and its failure under each backend that
 * supports it, inherit_fd permutations, exit statuses, exit watching (pidfd or SIGCHLD,
 * depending on FDKIT_PIDFD), signalling, detaching. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "old_kernel_filter.h"
#include "testutil.h"

/* Counts waitid calls, the library's included: this definition takes the place of glibc's
 * for the whole process (see test_sigchld_add_is_constant). */
static atomic_long waitid_calls;
int waitid(idtype_t idtype, id_t id, siginfo_t *info, int options) {
  atomic_fetch_add(&waitid_calls, 1);
  return (int)syscall(SYS_waitid, idtype, id, info, options, NULL);
}

static void on_exit_cb(fdk_process *p, int result, void *data);
static fdk_actions *gated_child(int gate_read, int devnull);

/* pid is no child of this process any more: reaped, no zombie left. */
static void assert_reaped(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT), -1);
  assert_int_equal(errno, ECHILD);
}

static const unsigned backends[] = {FDK_SPAWN_BACKEND_AUTO, FDK_SPAWN_BACKEND_FORK, FDK_SPAWN_BACKEND_POSIX_SPAWN};
static const char *backend_names[] = {"auto", "fork", "posix_spawn"};
#define NBACKENDS 3

/* An action list whose child's stdout goes to a pipe the test reads. */
typedef struct {
  fdk_actions *a;
  int out[2];
} capture;

static void cap_begin(capture *c) {
  assert_int_equal(pipe2(c->out, O_CLOEXEC), 0);
  assert_int_equal(fdk_actions_new(&c->a), 0);
  assert_int_equal(fdk_actions_inherit_raw(c->a, 1, c->out[1], FDK_INHERIT_PRESERVE), 0);
}

static void cap_exec(capture *c, const char *const *argv) {
  assert_int_equal(fdk_actions_execve(c->a, CHILD_PATH, argv, NULL), 0);
}

/* Spawns without a loop, reads all the child wrote, waits. Returns the spawn's result. */
static int cap_run(capture *c, unsigned backend, char *buf, size_t size, fdk_exit_status *st) {
  fdk_process *p = NULL;
  int r = fdk_spawn(&p, NULL, c->a, backend, NULL, NULL);
  close(c->out[1]);
  size_t len = 0;
  ssize_t n;
  while (len + 1 < size && (n = read(c->out[0], buf + len, size - 1 - len)) > 0) len += (size_t)n;
  buf[len] = 0;
  close(c->out[0]);
  if (r == 0) {
    fdk_exit_status tmp;
    assert_int_equal(fdk_process_wait(p, st ? st : &tmp), 0);
    fdk_process_free(p);
  }
  c->a = fdk_actions_free(c->a);
  return r;
}

/* Runs the child with args and checks it exits 0, returning its output. */
static void run_child(unsigned backend, const char *const *argv, char *buf, size_t size) {
  capture c;
  cap_begin(&c);
  cap_exec(&c, argv);
  fdk_exit_status st;
  assert_int_equal(cap_run(&c, backend, buf, size, &st), 0);
  assert_int_equal(st.kind, FDK_EXIT_CODE);
  assert_int_equal(st.value, 0);
}

static int spawn_wait(fdk_actions *a, unsigned backend, fdk_exit_status *st) {
  fdk_process *p = NULL;
  int r = fdk_spawn(&p, NULL, a, backend, NULL, NULL);
  if (r == 0) {
    assert_int_equal(fdk_process_wait(p, st), 0);
    fdk_process_free(p);
  }
  return r;
}

/* A spawn of a under backend that fails with err, its detail naming the failed step when
 * given (posix_spawn names none); frees a. */
static void spawn_fails(fdk_actions *a, unsigned backend, int err, const char *detail) {
  assert_int_equal(spawn_wait(a, backend, NULL), err);
  if (detail) assert_non_null(strstr(fdk_last_error(), detail));
  fdk_actions_free(a);
}

static void test_exit_codes(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    for (int code = 0; code < 256; code += (b == 0 ? 1 : 17)) {
      char arg[8];
      snprintf(arg, sizeof arg, "%d", code);
      const char *argv[] = {"child", "exit", arg, NULL};
      fdk_actions *a;
      assert_int_equal(fdk_actions_new(&a), 0);
      assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
      fdk_exit_status st;
      assert_int_equal(spawn_wait(a, backends[b], &st), 0);
      assert_int_equal(st.kind, FDK_EXIT_CODE);
      assert_int_equal(st.value, code);
      fdk_actions_free(a);
    }
  }
}

static void test_killed_by_signal(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    const char *argv[] = {"child", "kill", "15", NULL};
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    fdk_exit_status st;
    assert_int_equal(spawn_wait(a, backends[b], &st), 0);
    assert_int_equal(st.kind, FDK_EXIT_SIGNAL);
    assert_int_equal(st.value, SIGTERM);
    assert_true(st.usage.utime_ns >= 0 && st.usage.maxrss_kib > 0);
    fdk_actions_free(a);
  }
}

static void test_environment(void **state) {
  (void)state;
  setenv("FDKT_FROM_PARENT", "yes", 1);
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[256];
    const char *argv[] = {"child", "env", "FDKT_FROM_PARENT", "FDKT_GIVEN", NULL};
    run_child(backends[b], argv, buf, sizeof buf);
    assert_string_equal(buf, "FDKT_FROM_PARENT=yes\nFDKT_GIVEN=(unset)\n");

    capture c;
    cap_begin(&c);
    const char *envp[] = {"FDKT_GIVEN=given value", "OTHER=1", NULL};
    assert_int_equal(fdk_actions_execve(c.a, CHILD_PATH, argv, envp), 0);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "FDKT_FROM_PARENT=(unset)\nFDKT_GIVEN=given value\n");
  }
  unsetenv("FDKT_FROM_PARENT");
}

static void test_argv_empty_long_and_e2big(void **state) {
  (void)state;
  size_t big = 100000;
  char *long_arg = malloc(big + 1);
  memset(long_arg, 'x', big);
  long_arg[big] = 0;
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[256];
    const char *argv[] = {"child", "args", "", long_arg, "", NULL};
    run_child(backends[b], argv, buf, sizeof buf);
    assert_string_equal(buf, "5 0 100000 0\n");
    /* One argument over the kernel's 128 KiB string limit. */
    char *huge = malloc(200001);
    memset(huge, 'y', 200000);
    huge[200000] = 0;
    const char *argv2[] = {"child", "args", huge, NULL};
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv2, NULL), 0);
    spawn_fails(a, backends[b], -E2BIG, b != 2 ? "action 0 (execve" : NULL);
    free(huge);
  }
  free(long_arg);
}

static void test_exec_failures(void **state) {
  (void)state;
  char dir[] = "/tmp/fdkt-exec-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char noexec[300], badfmt[300];
  snprintf(noexec, sizeof noexec, "%s/noexec", dir);
  snprintf(badfmt, sizeof badfmt, "%s/badfmt", dir);
  int fd = open(noexec, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  assert_true(write(fd, "#!/bin/sh\n", 10) == 10);
  close(fd);
  fd = open(badfmt, O_CREAT | O_WRONLY | O_CLOEXEC, 0755);
  assert_true(write(fd, "\x01\x02\x03\x04garbage", 11) == 11);
  close(fd);
  struct {
    const char *path;
    int err;
  } cases[] = {{"/nonexistent/prog", -ENOENT}, {noexec, -EACCES}, {badfmt, -ENOEXEC}, {dir, -EACCES}};
  for (int b = 0; b < NBACKENDS; b++) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      const char *argv[] = {"x", NULL};
      fdk_actions *a;
      assert_int_equal(fdk_actions_new(&a), 0);
      assert_int_equal(fdk_actions_chdir(a, "/"), 0);
      assert_int_equal(fdk_actions_execve(a, cases[i].path, argv, NULL), 0);
      char want[400];
      snprintf(want, sizeof want, "action 1 (execve): %s: '%s'", strerror(-cases[i].err), cases[i].path);
      spawn_fails(a, backends[b], cases[i].err, b != 2 ? want : NULL);
    }
  }
  unlink(noexec);
  unlink(badfmt);
  rmdir(dir);
}

static void test_execvp(void **state) {
  (void)state;
  char dir[] = "/tmp/fdkt-path-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char link[300], noexec[300], path_env[400];
  snprintf(link, sizeof link, "%s/fdkt-child", dir);
  snprintf(noexec, sizeof noexec, "%s/fdkt-noexec", dir);
  assert_int_equal(symlink(CHILD_PATH, link), 0);
  close(open(noexec, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
  snprintf(path_env, sizeof path_env, "PATH=/nonexistent::%s", dir);
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[64];
    capture c;
    cap_begin(&c);
    const char *argv[] = {"fdkt-child", "args", "a", NULL};
    const char *envp[] = {path_env, NULL};
    assert_int_equal(fdk_actions_execvp(c.a, "fdkt-child", argv, envp), 0);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "3 1\n");

    /* Not found: -ENOENT before any child exists; found but not executable: -EACCES. */
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_execvp(a, "fdkt-no-such-program", argv, envp), 0);
    fdk_process *p = (fdk_process *)0x1;
    assert_int_equal(fdk_spawn(&p, NULL, a, backends[b], NULL, NULL), -ENOENT);
    assert_ptr_equal(p, (fdk_process *)0x1);
    assert_non_null(strstr(fdk_last_error(), "fdkt-no-such-program"));
    fdk_actions_free(a);
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_execvp(a, "fdkt-noexec", argv, envp), 0);
    assert_int_equal(fdk_spawn(&p, NULL, a, backends[b], NULL, NULL), -EACCES);
    fdk_actions_free(a);
  }
  unlink(link);
  unlink(noexec);
  rmdir(dir);
}

static void test_chdir_and_fchdir(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[4096];
    const char *argv[] = {"child", "cwd", NULL};
    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_chdir(c.a, "/usr"), 0);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "/usr\n");

    int raw = open("/var", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    fdk_fd *dirfd;
    assert_int_equal(fdk_fd_adopt(&dirfd, raw, 0), 0);
    cap_begin(&c);
    assert_int_equal(fdk_actions_fchdir(c.a, dirfd), 0);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "/var\n");

    /* A missing directory, and a handle closed before the spawn. */
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_chdir(a, "/nope"), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -ENOENT, b != 2 ? "action 0 (chdir): No such file or directory: '/nope'" : NULL);

    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_fchdir(a, dirfd), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    assert_int_equal(fdk_fd_close(dirfd), 0);
    spawn_fails(a, backends[b], -EBADF, "action 0 (fchdir ");
    fdk_fd_unref(dirfd);
  }
}

static void test_session_and_group(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    for (int which = 0; which < 2; which++) {
      char buf[256];
      const char *argv[] = {"child", "proc", NULL};
      capture c;
      cap_begin(&c);
      if (which == 0) assert_int_equal(fdk_actions_setsid(c.a), 0);
      else assert_int_equal(fdk_actions_setpgid(c.a, 0), 0);
      cap_exec(&c, argv);
      assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
      int pid, pgid, sid;
      assert_int_equal(sscanf(buf, "pid=%d pgid=%d sid=%d", &pid, &pgid, &sid), 3);
      assert_int_equal(pgid, pid);
      if (which == 0) assert_int_equal(sid, pid);
      else assert_int_equal(sid, getsid(0));
    }
    /* Joining a group that does not exist in this session. */
    fdk_actions *a;
    const char *argv[] = {"child", "exit", "0", NULL};
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_setpgid(a, 1), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -EPERM, b != 2 ? "action 0 (setpgid 1)" : NULL);
  }
}

/* Actions only the clone and fork backends run; posix_spawn answers -ENOTSUP. */
static void test_credentials(void **state) {
  (void)state;
  if (geteuid() != 0) skip();
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[256];
    const char *argv[] = {"child", "ids", NULL};
    capture c;
    cap_begin(&c);
    uint32_t groups[] = {65534, 100};
    assert_int_equal(fdk_actions_setgroups(c.a, 2, groups), 0);
    assert_int_equal(fdk_actions_setgid(c.a, 65534), 0);
    assert_int_equal(fdk_actions_setuid(c.a, 65534), 0);
    /* /bin/sh, not the test's own child: uid 65534 may not reach the build directory
     * (a checkout under a 0700 directory). id prints the effective gid first. */
    const char *sh_argv[] = {"sh", "-c", "echo $(id -u) $(id -g) $(id -G)", NULL};
    assert_int_equal(fdk_actions_execve(c.a, "/bin/sh", sh_argv, NULL), 0);
    int r = cap_run(&c, backends[b], buf, sizeof buf, NULL);
    if (b == 2) {
      assert_int_equal(r, -ENOTSUP);
      continue;
    }
    assert_int_equal(r, 0);
    assert_string_equal(buf, "65534 65534 65534 100\n");

    /* Once the uid is dropped, a group that is neither real nor saved is refused. */
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_setuid(a, 65534), 0);
    assert_int_equal(fdk_actions_setgid(a, 12345), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -EPERM, "action 1 (setgid 12345)");
    /* setgroups without the privilege. */
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_setuid(a, 65534), 0);
    assert_int_equal(fdk_actions_setgroups(a, 1, groups), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -EPERM, "action 1 (setgroups (1 groups))");
  }
}

static void test_umask_rlimit_pdeathsig_nnp(void **state) {
  (void)state;
  for (int b = 0; b < 2; b++) {
    char buf[256];
    const char *argv[] = {"child", "proc", NULL};
    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_umask(c.a, 027), 0);
    assert_int_equal(fdk_actions_rlimit(c.a, RLIMIT_NOFILE, 200, 300), 0);
    assert_int_equal(fdk_actions_pdeathsig(c.a, SIGUSR1), 0);
    assert_int_equal(fdk_actions_no_new_privs(c.a), 0);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_non_null(strstr(buf, "umask=027 nofile=200/300 pdeathsig=10 nnp=1"));

    /* A hard limit above what the kernel allows. */
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_rlimit(a, RLIMIT_NOFILE, 1u << 30, 1u << 30), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -EPERM, "action 0 (rlimit 7)");
  }
  /* Any signal the kernel takes for it, SIGKILL (the usual choice) and SIGSTOP included;
   * 0 and numbers past the last signal are refused when the list is built. */
  for (int i = 0; i < 2; i++) {
    int sig = i ? SIGSTOP : SIGKILL;
    char buf[256], want[32];
    const char *argv[] = {"child", "proc", NULL};
    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_pdeathsig(c.a, sig), 0);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, FDK_SPAWN_BACKEND_AUTO, buf, sizeof buf, NULL), 0);
    snprintf(want, sizeof want, "pdeathsig=%d ", sig);
    assert_non_null(strstr(buf, want));
  }
  fdk_actions *bad;
  assert_int_equal(fdk_actions_new(&bad), 0);
  assert_int_equal(fdk_actions_pdeathsig(bad, 0), -EINVAL);
  assert_int_equal(fdk_actions_pdeathsig(bad, NSIG), -EINVAL);
  assert_int_equal(fdk_actions_signal_default(bad, SIGKILL), -EINVAL);
  fdk_actions_free(bad);
  /* posix_spawn cannot express them. */
  int (*adders[])(fdk_actions *) = {fdk_actions_no_new_privs};
  fdk_actions *a;
  const char *argv[] = {"child", "exit", "0", NULL};
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(adders[0](a), 0);
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  assert_int_equal(spawn_wait(a, FDK_SPAWN_BACKEND_POSIX_SPAWN, NULL), -ENOTSUP);
  assert_non_null(strstr(fdk_last_error(), "no_new_privs"));
  fdk_actions_free(a);
}

static void on_usr1(int sig) { (void)sig; }

static void test_signals_in_child(void **state) {
  (void)state;
  struct sigaction sa = {0}, old_usr1, old_pipe, old_int;
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, &old_usr1);
  sa.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &sa, &old_pipe);
  sigaction(SIGINT, &sa, &old_int);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  for (int b = 0; b < NBACKENDS; b++) {
    char buf[256];
    const char *argv[] = {"child", "signals", NULL};
    run_child(backends[b], argv, buf, sizeof buf);
    /* SIGUSR1 (10) handled -> default; SIGINT (2) stays ignored; SIGPIPE (13) -> default. */
    assert_int_equal(buf[SIGUSR1 - 1], 'D');
    assert_int_equal(buf[SIGINT - 1], 'I');
    assert_int_equal(buf[SIGPIPE - 1], 'D');
    assert_non_null(strstr(buf, " 0\n"));

    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_signal_default(c.a, SIGINT), 0);
    int r = fdk_actions_signal_ignore(c.a, SIGTERM);
    assert_int_equal(r, 0);
    cap_exec(&c, argv);
    r = cap_run(&c, backends[b], buf, sizeof buf, NULL);
    if (b == 2) {
      assert_int_equal(r, -ENOTSUP); /* signal_ignore */
      continue;
    }
    assert_int_equal(r, 0);
    assert_int_equal(buf[SIGINT - 1], 'D');
    assert_int_equal(buf[SIGTERM - 1], 'I');
  }
  pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  sigaction(SIGUSR1, &old_usr1, NULL);
  sigaction(SIGPIPE, &old_pipe, NULL);
  sigaction(SIGINT, &old_int, NULL);
}

static int user_ok(void *arg) {
  (void)arg;
  return 0;
}
static int user_fails(void *arg) {
  (void)arg;
  return -EDOM;
}

/* Uses the stack without end: the guard below the child's stack must stop it. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
__attribute__((noinline, no_sanitize_address, no_sanitize_undefined)) static int user_overflows(void *arg) {
  volatile char frame[4096];
  frame[0] = (char)(uintptr_t)arg;
  int r = user_overflows((void *)(uintptr_t)(frame[0] + 1));
  return r + frame[100];
}
#pragma GCC diagnostic pop

/* A fault is delivered even though every signal is blocked in the child (a sent signal
 * would wait for the exec). */
static int user_traps(void *arg) {
  (void)arg;
  __builtin_trap();
}

/* A child that dies inside a user action (stack overflow, a signal) fails the spawn as
 * that action's failure, every backend that runs user actions; no zombie is left. */
static void test_user_action_crash(void **state) {
  (void)state;
  for (int b = 0; b < 2; b++) {
    fdk_child_fn fns[] = {user_overflows, user_traps};
    int sigs[] = {SIGSEGV, SIGILL};
    for (int f = 0; f < 2; f++) {
      const char *argv[] = {"child", "exit", "3", NULL};
      fdk_actions *a;
      assert_int_equal(fdk_actions_new(&a), 0);
      assert_int_equal(fdk_actions_user(a, user_ok, NULL, "ok"), 0);
      assert_int_equal(fdk_actions_user(a, fns[f], NULL, "deep"), 0);
      assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
      assert_int_equal(spawn_wait(a, backends[b], NULL), -EFAULT);
      assert_non_null(strstr(fdk_last_error(), "action 1 (user): the child died of signal"));
      char sig[32];
      snprintf(sig, sizeof sig, "signal %d", sigs[f]);
      assert_non_null(strstr(fdk_last_error(), sig));
      fdk_actions_free(a);
    }
  }
}

static void test_user_action(void **state) {
  (void)state;
  for (int b = 0; b < 2; b++) {
    const char *argv[] = {"child", "exit", "3", NULL};
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_user(a, user_ok, NULL, "ok"), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    fdk_exit_status st;
    assert_int_equal(spawn_wait(a, backends[b], &st), 0);
    assert_int_equal(st.value, 3);
    fdk_actions_free(a);
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_user(a, user_fails, NULL, "my-step"), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -EDOM, "action 0 (user): ");
    assert_non_null(strstr(fdk_last_error(), ": 'my-step'"));
  }
}

static void test_bad_arguments(void **state) {
  (void)state;
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(NULL), -EINVAL);
  assert_int_equal(fdk_actions_new(&a), 0);
  const char *argv[] = {"x", NULL};
  assert_int_equal(fdk_actions_inherit_raw(a, 5, 1, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_inherit_raw(a, 5, 2, FDK_INHERIT_PRESERVE), -EINVAL);
  assert_string_equal(fdk_last_error(), "actions_inherit_fd: destination 5 is mapped twice");
  /* Every argument failure names its call first and replaces the previous detail. */
  assert_int_equal(fdk_actions_setpgid(a, -3), -EINVAL);
  assert_string_equal(fdk_last_error(), "actions_setpgid: negative group -3");
  assert_int_equal(fdk_actions_pdeathsig(a, 999), -EINVAL);
  assert_string_equal(fdk_last_error(), "actions_pdeathsig: bad signal 999");
  assert_int_equal(fdk_actions_inherit_raw(a, 6, 2, 7), -EINVAL);
  assert_int_equal(fdk_actions_inherit_raw(a, -1, 2, 0), -EINVAL);
  assert_int_equal(fdk_actions_inherit_fd(a, 7, NULL, 0), -EINVAL);
  assert_int_equal(fdk_actions_signal_default(a, 0), -EINVAL);
  assert_int_equal(fdk_actions_signal_ignore(a, SIGKILL), -EINVAL);
  assert_int_equal(fdk_actions_umask(a, 01000), -EINVAL);
  assert_int_equal(fdk_actions_rlimit(a, RLIMIT_NOFILE, 10, 5), -EINVAL);
  assert_int_equal(fdk_actions_rlimit(a, 999, 1, 1), -EINVAL);
  assert_int_equal(fdk_actions_chdir(a, NULL), -EINVAL);
  assert_int_equal(fdk_actions_user(a, NULL, NULL, "x"), -EINVAL);
  assert_int_equal(fdk_actions_execve(a, NULL, argv, NULL), -EINVAL);
  assert_int_equal(fdk_actions_execve(NULL, "/bin/true", argv, NULL), -EINVAL);
  fdk_process *p = (fdk_process *)0x1;
  /* No exec action yet. */
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_actions_execve(a, "/bin/true", argv, NULL), 0);
  assert_int_equal(fdk_actions_setsid(a), -EINVAL); /* after the exec */
  assert_int_equal(fdk_actions_execve(a, "/bin/true", argv, NULL), -EINVAL);
  assert_int_equal(fdk_spawn(&p, NULL, a, 0x10, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_spawn(&p, NULL, a, 3, NULL, NULL), -EINVAL);
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, on_exit_cb, NULL), -EINVAL);
  assert_int_equal(fdk_spawn(NULL, NULL, a, 0, NULL, NULL), -EINVAL);
  assert_ptr_equal(p, (fdk_process *)0x1);
  fdk_actions_free(a);
  assert_null(fdk_actions_free(NULL));
  assert_null(fdk_process_free(NULL));
  assert_int_equal(fdk_process_pid(NULL), -EINVAL);
  assert_int_equal(fdk_process_signal(NULL, 0), -EINVAL);
  assert_int_equal(fdk_process_wait(NULL, NULL), -EINVAL);
  assert_int_equal(fdk_process_try_wait(NULL, NULL), -EINVAL);
  assert_int_equal(fdk_process_detach(NULL), -EINVAL);
}

/* ---- inherit_fd ---- */

#define BASE_FD 100

/* Puts a pipe whose read end holds marker "m<i>" at descriptor BASE_FD + i, for i < n.
 * The write ends are closed: each read returns the marker, then EOF. */
static void place_markers(int n) {
  for (int i = 0; i < n; i++) {
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    char m[8];
    int len = snprintf(m, sizeof m, "m%d", i);
    assert_int_equal(write(p[1], m, (size_t)len), len);
    close(p[1]);
    assert_int_equal(dup3(p[0], BASE_FD + i, O_CLOEXEC), BASE_FD + i);
    close(p[0]);
  }
}

static void close_markers(int n) {
  for (int i = 0; i < n; i++) close(BASE_FD + i);
}

/* Maps dst BASE+perm[i] <- src BASE+i for i < n and checks in the child that each
 * destination reads its source's marker; with close_fds, that nothing else is open. */
static void check_mapping(unsigned backend, const int *perm, int n, int close_fds) {
  place_markers(n);
  capture c;
  cap_begin(&c);
  char *argv[40];
  char args[32][16];
  int k = 0;
  argv[k++] = "child";
  argv[k++] = "read";
  for (int i = 0; i < n; i++) {
    assert_int_equal(fdk_actions_inherit_raw(c.a, BASE_FD + perm[i], BASE_FD + i, FDK_INHERIT_PRESERVE), 0);
    snprintf(args[i], sizeof args[i], "%d", BASE_FD + perm[i]);
    argv[k++] = args[i];
  }
  argv[k] = NULL;
  if (close_fds) assert_int_equal(fdk_actions_close_other_fds(c.a), 0);
  cap_exec(&c, (const char *const *)argv);
  char buf[1024];
  assert_int_equal(cap_run(&c, backend, buf, sizeof buf, NULL), 0);
  char want[1024];
  size_t len = 0;
  for (int i = 0; i < n; i++) len += (size_t)snprintf(want + len, sizeof want - len, "%d=m%d ", BASE_FD + perm[i], i);
  snprintf(want + len, sizeof want - len, "\n");
  assert_string_equal(buf, want);
  close_markers(n);
}

static void test_inherit_swaps_rings_identity(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    int swap[] = {1, 0};
    check_mapping(backends[b], swap, 2, 0);
    int identity[] = {0, 1, 2};
    check_mapping(backends[b], identity, 3, 0);
    for (int n = 3; n <= 8; n++) {
      int ring[8];
      for (int i = 0; i < n; i++) ring[i] = (i + 1) % n;
      check_mapping(backends[b], ring, n, 0);
    }
    /* Two cycles and a fixed point: the temporary is reused. */
    int two[] = {1, 0, 2, 4, 5, 3};
    check_mapping(backends[b], two, 6, 0);
  }
}

static uint32_t rng_state = 12345;
static uint32_t rng(void) {
  rng_state = rng_state * 1103515245u + 12345u;
  return rng_state >> 8;
}

/* Hundreds of random permutations (cycles of every shape) of up to 16 descriptors,
 * with and without close_other_fds. */
static void test_inherit_random_permutations(void **state) {
  (void)state;
  for (int iter = 0; iter < 300; iter++) {
    int n = 1 + (int)(rng() % 16);
    int perm[16];
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
      int j = (int)(rng() % (uint32_t)(i + 1));
      int t = perm[i];
      perm[i] = perm[j];
      perm[j] = t;
    }
    unsigned backend = iter % 3 == 2 ? FDK_SPAWN_BACKEND_FORK : FDK_SPAWN_BACKEND_AUTO;
    check_mapping(backend, perm, n, iter % 2);
  }
}

/* Under close_other_fds the child has 0-2 and the destinations open, nothing else. */
static void test_close_other_fds(void **state) {
  (void)state;
  int extra = open("/dev/null", O_RDONLY); /* not close-on-exec: would leak without the action */
  for (int b = 0; b < NBACKENDS; b++) {
    place_markers(2);
    char buf[256];
    const char *argv[] = {"child", "fds", NULL};
    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_inherit_raw(c.a, 3, BASE_FD, FDK_INHERIT_PRESERVE), 0);
    assert_int_equal(fdk_actions_inherit_raw(c.a, 4, BASE_FD + 1, FDK_INHERIT_PRESERVE), 0);
    assert_int_equal(fdk_actions_close_other_fds(c.a), 0);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    assert_string_equal(buf, "0 1 2 3 4 \n");
    close_markers(2);

    /* Without it, the descriptor without close-on-exec is inherited. */
    cap_begin(&c);
    cap_exec(&c, argv);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    char want[32];
    snprintf(want, sizeof want, " %d ", extra);
    assert_non_null(strstr(buf, want));
  }
  /* A destination gap posix_spawn cannot express. */
  capture c;
  cap_begin(&c);
  const char *argv[] = {"child", "fds", NULL};
  assert_int_equal(fdk_actions_inherit_raw(c.a, 9, 0, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_close_other_fds(c.a), 0);
  cap_exec(&c, argv);
  char buf[64];
  assert_int_equal(cap_run(&c, FDK_SPAWN_BACKEND_POSIX_SPAWN, buf, sizeof buf, NULL), -ENOTSUP);
  close(extra);
}

static void test_inherit_blocking_modes_and_handles(void **state) {
  (void)state;
  for (int b = 0; b < NBACKENDS; b++) {
    fdk_fd *r, *w;
    assert_int_equal(fdk_pipe(&r, &w), 0);
    capture c;
    cap_begin(&c);
    assert_int_equal(fdk_actions_inherit_fd(c.a, 5, r, FDK_INHERIT_PRESERVE), 0);
    assert_int_equal(fdk_actions_inherit_fd(c.a, 6, r, FDK_INHERIT_PRESERVE), 0); /* one source, two dsts */
    int raw_r = fdk_fd_raw(r);
    assert_int_equal(fdk_actions_inherit_raw(c.a, raw_r, raw_r, FDK_INHERIT_PRESERVE), 0); /* identity */
    const char *argv[] = {"child", "fdflags", "5", "6", NULL};
    char rs[8];
    snprintf(rs, sizeof rs, "%d", raw_r);
    const char *argv2[] = {"child", "fdflags", "5", "6", rs, NULL};
    (void)argv;
    cap_exec(&c, argv2);
    char buf[256], want[256];
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
    snprintf(want, sizeof want, "5:nonblock:inherit 6:nonblock:inherit %d:nonblock:inherit \n", raw_r);
    assert_string_equal(buf, want);
    /* The identity map left the parent's descriptor close-on-exec. */
    assert_true(fcntl(raw_r, F_GETFD) & FD_CLOEXEC);

    cap_begin(&c);
    assert_int_equal(fdk_actions_inherit_fd(c.a, 5, w, FDK_INHERIT_BLOCKING), 0);
    const char *argv3[] = {"child", "fdflags", "5", NULL};
    cap_exec(&c, argv3);
    int rr = cap_run(&c, backends[b], buf, sizeof buf, NULL);
    if (b == 2) {
      assert_int_equal(rr, -ENOTSUP);
    } else {
      assert_int_equal(rr, 0);
      assert_string_equal(buf, "5:block:inherit \n");
      /* The mode belongs to the shared open file description. */
      assert_int_equal(fcntl(fdk_fd_raw(w), F_GETFL) & O_NONBLOCK, 0);
      cap_begin(&c);
      assert_int_equal(fdk_actions_inherit_fd(c.a, 5, w, FDK_INHERIT_NONBLOCKING), 0);
      cap_exec(&c, argv3);
      assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), 0);
      assert_string_equal(buf, "5:nonblock:inherit \n");
    }
    /* A source handle closed before the spawn. */
    cap_begin(&c);
    assert_int_equal(fdk_actions_inherit_fd(c.a, 5, w, FDK_INHERIT_PRESERVE), 0);
    cap_exec(&c, argv3);
    fdk_fd_close(w);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), -EBADF);
    assert_non_null(strstr(fdk_last_error(), "inherit_fd 5"));
    /* A raw source that is not open fails in the child and names the mapping. */
    cap_begin(&c);
    assert_int_equal(fdk_actions_inherit_raw(c.a, 5, 900, FDK_INHERIT_PRESERVE), 0);
    cap_exec(&c, argv3);
    assert_int_equal(cap_run(&c, backends[b], buf, sizeof buf, NULL), -EBADF);
    if (b != 2) assert_non_null(strstr(fdk_last_error(), "action 0 (inherit_fd 5 <- 900)"));
    fdk_fd_unref(r);
    fdk_fd_unref(w);
  }
}

/* ---- process handles and exit watching ---- */

typedef struct {
  int calls;
  int result;
  fdk_exit_status status;
  int waited;
} exit_record;

static void on_exit_cb(fdk_process *p, int result, void *data) {
  exit_record *r = data;
  r->calls++;
  r->result = result;
  if (result == 0) r->waited = fdk_process_try_wait(p, &r->status);
}

static fdk_actions *child_actions(const char *cmd, const char *arg) {
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  const char *argv[] = {"child", cmd, arg, NULL};
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  return a;
}

/* A new loop and "child cmd arg" spawned on it, its exit recorded in rec: the fixture of
 * the lifetime tests. */
static fdk_process *spawn_on_new_loop(fdk_loop **loop, fdk_actions **a, const char *cmd, const char *arg,
                                      exit_record *rec) {
  assert_int_equal(fdk_loop_new(loop), 0);
  *a = child_actions(cmd, arg);
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, *loop, *a, 0, on_exit_cb, rec), 0);
  return p;
}

/* Waits for p, killed by SIGKILL, and frees it. */
static void reap_killed(fdk_process *p) {
  fdk_exit_status st;
  assert_int_equal(fdk_process_wait(p, &st), 0);
  assert_int_equal(st.kind, FDK_EXIT_SIGNAL);
  assert_int_equal(st.value, SIGKILL);
  fdk_process_free(p);
}

/* The teardown of spawn_on_new_loop: the process, its actions, then the loop. */
static void free_spawned(fdk_loop *loop, fdk_actions *a, fdk_process *p) {
  fdk_process_free(p);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* A user action that ends the child before exec: raw exit_group, nothing else. */
static int user_exits_at_once(void *arg) {
  (void)arg;
  syscall(SYS_exit_group, 5);
  return 0;
}

/* A child that is gone before fdk_spawn returns is still reported. */
static void spawn_gone_child_on_loop(void) {
  fdk_loop *loop = fdkt_loop_new();
  const char *argv[] = {CHILD_PATH, NULL};
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_user(a, user_exits_at_once, NULL, "exit"), 0);
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  exit_record rec = {0};
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, loop, a, FDK_SPAWN_BACKEND_AUTO, on_exit_cb, &rec), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(rec.calls, 1);
  assert_int_equal(rec.waited, 1);
  assert_int_equal(rec.status.value, 5);
  free_spawned(loop, a, p);
}

static void test_child_gone_before_watch(void **state) {
  (void)state;
  spawn_gone_child_on_loop();
}

/* pidfds withdrawn after fdkit chose them (a host that installs a seccomp filter late):
 * the spawn that finds out starts the SIGCHLD watcher only after its child, which may be
 * gone by then, and the loop must still see the exit and then stop waiting. In forked
 * copies, where the filter cannot reach the rest of the suite; many, for both orders. */
static void test_pidfds_withdrawn(void **state) {
  (void)state;
  for (int i = 0; i < 20; i++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      alarm(10); /* a missed exit leaves the loop waiting forever */
      spawn_gone_child_on_loop();
      if (fdkt_emulate_old_kernel() < 0) _exit(3);
      spawn_gone_child_on_loop();
      spawn_gone_child_on_loop();
      _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
  }
}

static void test_exit_callback(void **state) {
  fdk_loop *loop = *state;
  for (int b = 0; b < NBACKENDS; b++) {
    fdk_actions *a = child_actions("exit", "7");
    exit_record rec = {0};
    fdk_process *p;
    assert_int_equal(fdk_spawn(&p, loop, a, backends[b], on_exit_cb, &rec), 0);
    assert_int_equal(rec.calls, 0); /* never inside the call */
    assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    assert_int_equal(rec.calls, 1);
    assert_int_equal(rec.result, 0);
    assert_int_equal(rec.waited, 1);
    assert_int_equal(rec.status.kind, FDK_EXIT_CODE);
    assert_int_equal(rec.status.value, 7);
    /* Reaped: signals are refused and nothing is sent. */
    assert_int_equal(fdk_process_signal(p, SIGKILL), -ESRCH);
    assert_int_equal(fdk_process_signal_group(p, SIGKILL), -ESRCH);
    fdk_exit_status again;
    assert_int_equal(fdk_process_wait(p, &again), 0);
    assert_int_equal(again.value, 7);
    fdk_process_free(p);
    fdk_actions_free(a);
  }
}

/* The status is collected by a blocking wait before the loop runs: the callback still
 * comes, once. */
static void test_wait_before_callback_and_signal(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  fdk_actions *a = child_actions("sleep", NULL);
  assert_int_equal(fdk_actions_setpgid(a, 0) == -EINVAL, 1); /* after exec */
  fdk_actions_free(a);
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_setpgid(a, 0), 0);
  const char *argv[] = {"child", "sleep", NULL};
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  exit_record rec = {0};
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, loop, a, 0, on_exit_cb, &rec), 0);
  fdk_exit_status st;
  assert_int_equal(fdk_process_try_wait(p, &st), 0);
  assert_int_equal(fdk_process_signal(p, 0), 0);
  /* The child leads its own group: a group signal reaches it. */
  int pid = fdk_process_pid(p);
  for (int i = 0; i < 1000 && getpgid(pid) != pid; i++) usleep(1000);
  assert_int_equal(fdk_process_signal_group(p, SIGTERM), 0);
  assert_int_equal(fdk_process_wait(p, &st), 0);
  assert_int_equal(st.kind, FDK_EXIT_SIGNAL);
  assert_int_equal(st.value, SIGTERM);
  assert_int_equal(fdk_process_signal(p, SIGTERM), -ESRCH);
  fdkt_run_until(loop, &rec.calls, 5000);
  assert_int_equal(rec.result, 0);
  assert_int_equal(rec.waited, 1);
  assert_int_equal(rec.status.value, SIGTERM);
  free_spawned(loop, a, p);
}

/* Freeing a running child kills and reaps it; the callback never runs. */
static void test_free_kills_running_child(void **state) {
  (void)state;
  fdk_loop *loop;
  fdk_actions *a;
  exit_record rec = {0};
  fdk_process *p = spawn_on_new_loop(&loop, &a, "sleep", NULL, &rec);
  int pid = fdk_process_pid(p);
  fdk_process_free(p);
  assert_int_equal(kill(pid, 0), -1);
  assert_int_equal(errno, ESRCH);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(rec.calls, 0);
  /* Without a loop too. */
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, NULL, NULL), 0);
  free_spawned(loop, a, p);
}

/* Freeing the loop before the child exits cancels the callback; the child is still
 * collected through the handle. */
static void test_loop_freed_first(void **state) {
  (void)state;
  fdk_loop *loop;
  fdk_actions *a;
  exit_record rec = {0};
  fdk_process *p = spawn_on_new_loop(&loop, &a, "sleep", NULL, &rec);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(rec.calls, 1);
  assert_int_equal(rec.result, -ECANCELED);
  assert_int_equal(fdk_process_signal(p, SIGKILL), 0);
  reap_killed(p);
  fdk_actions_free(a);
}

/* A process outlives its loop: freed after the loop whose callback reported its exit, or
 * detached and freed after the loop was freed under a running child. Nothing of the freed
 * loop is touched (the ASan build reads freed memory otherwise). */
static void test_process_outlives_its_loop(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  fdk_actions *quick = child_actions("exit", "3");
  exit_record rec = {0};
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, loop, quick, 0, on_exit_cb, &rec), 0);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(rec.calls, 1);
  assert_int_equal(fdk_loop_free(loop), 0);
  fdk_exit_status st;
  assert_int_equal(fdk_process_try_wait(p, &st), 1);
  assert_int_equal(st.value, 3);
  fdk_process_free(p);
  fdk_actions_free(quick);

  assert_int_equal(fdk_loop_new(&loop), 0);
  fdk_actions *slow = child_actions("sleep", NULL);
  memset(&rec, 0, sizeof rec);
  assert_int_equal(fdk_spawn(&p, loop, slow, 0, on_exit_cb, &rec), 0);
  pid_t pid = fdk_process_pid(p);
  assert_int_equal(fdk_loop_free(loop), 0);
  assert_int_equal(rec.result, -ECANCELED);
  assert_int_equal(fdk_process_detach(p), 0);
  fdk_process_free(p);
  assert_int_equal(kill(pid, SIGKILL), 0);
  /* Reaped by the loop-less reaper once it died (other tests' orphans may go first). */
  siginfo_t info;
  for (int i = 0; i < 2000; i++, usleep(1000)) {
    fdk_process_reap_detached();
    if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) break;
  }
  assert_reaped(pid);
  fdk_actions_free(slow);
}

static volatile sig_atomic_t host_sigchld_calls;
static void host_on_sigchld(int sig) {
  (void)sig;
  host_sigchld_calls++;
}

/* The host's SIGCHLD handler: untouched in pidfd mode; with SIGCHLD watching, chained to
 * while fdkit watches and put back after its last child. Children the host spawned
 * itself are never reaped by fdkit. */
static void test_host_sigchld_handler(void **state) {
  (void)state;
  struct sigaction sa = {0}, old, now;
  sa.sa_handler = host_on_sigchld;
  sigaction(SIGCHLD, &sa, &old);
  host_sigchld_calls = 0;
  pid_t own = fork();
  if (own == 0) {
    pause();
    _exit(0);
  }
  fdk_loop *loop;
  fdk_actions *a;
  exit_record rec = {0};
  fdk_process *p = spawn_on_new_loop(&loop, &a, "exit", "0", &rec);
  int pidfd_mode = fdk_process_pidfd(p) >= 0;
  fdkt_run_until(loop, &rec.calls, 5000);
  assert_int_equal(rec.waited, 1);
  sigaction(SIGCHLD, NULL, &now);
  assert_ptr_equal(now.sa_handler, host_on_sigchld);
  if (!pidfd_mode) assert_true(host_sigchld_calls >= 1);
  /* The host's own child is untouched: still there to be reaped by the host. */
  kill(own, SIGKILL);
  int status;
  assert_int_equal(waitpid(own, &status, 0), own);
  fdk_process_free(p);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
  sigaction(SIGCHLD, &old, NULL);
}

/* A child spawned without a loop has its pidfd too, held since the spawn and still
 * there after the reap (somebody else's reap cannot make it name a stranger). */
static void test_pidfd_held_from_spawn(void **state) {
  (void)state;
  /* None with FDKIT_PIDFD=0, nor on a kernel without them (tests/old_kernel.c): then the
   * first call already answers -ENOTSUP. */
  const char *forced = getenv("FDKIT_PIDFD");
  int pidfd_mode = !(forced && strcmp(forced, "0") == 0) && !getenv("FDKIT_TEST_OLD_KERNEL");
  fdk_actions *a = child_actions("sleep", NULL);
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, NULL, NULL), 0);
  int fd = fdk_process_pidfd(p);
  if (!pidfd_mode) {
    assert_int_equal(fd, -ENOTSUP);
    assert_int_equal(fdk_process_signal(p, SIGKILL), 0);
  } else {
    assert_true(fd >= 0);
    assert_int_equal(fdk_process_pidfd(p), fd);
    struct pollfd pfd = {fd, POLLIN, 0};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    assert_int_equal(fdk_process_signal(p, SIGKILL), 0);
    assert_int_equal(poll(&pfd, 1, 5000), 1);
  }
  reap_killed(p);
  /* Asked only after the reap: still the child's pidfd. */
  a = fdk_actions_free(a);
  a = child_actions("exit", "0");
  assert_int_equal(fdk_spawn(&p, NULL, a, 0, NULL, NULL), 0);
  assert_int_equal(fdk_process_wait(p, NULL), 0);
  if (pidfd_mode) assert_true(fdk_process_pidfd(p) >= 0);
  else assert_int_equal(fdk_process_pidfd(p), -ENOTSUP);
  fdk_process_free(p);
  fdk_actions_free(a);
}

/* Many children on one loop, exiting in any order. */
static void test_many_children_on_loop(void **state) {
  fdk_loop *loop = *state;
  enum { N = 40 };
  fdk_process *procs[N];
  exit_record recs[N];
  memset(recs, 0, sizeof recs);
  for (int i = 0; i < N; i++) {
    char code[8];
    snprintf(code, sizeof code, "%d", i);
    fdk_actions *a = child_actions("exit", code);
    assert_int_equal(fdk_spawn(&procs[i], loop, a, backends[i % NBACKENDS], on_exit_cb, &recs[i]), 0);
    fdk_actions_free(a);
  }
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  for (int i = 0; i < N; i++) {
    assert_int_equal(recs[i].calls, 1);
    assert_int_equal(recs[i].status.value, i);
    fdk_process_free(procs[i]);
  }
}

/* One complete list spawned from several threads at once (execvp look-up and an inherit
 * plan with a cycle): every spawn's scratch is its own. */
typedef struct {
  const fdk_actions *a;
  int failures;
} shared_list_job;

static void *spawn_shared_list(void *arg) {
  shared_list_job *job = arg;
  for (int i = 0; i < 100; i++) {
    fdk_process *p;
    fdk_exit_status st;
    if (fdk_spawn(&p, NULL, job->a, (unsigned)(i % 2), NULL, NULL) != 0) {
      job->failures++;
      continue;
    }
    if (fdk_process_wait(p, &st) != 0 || st.kind != FDK_EXIT_CODE || st.value != 7) job->failures++;
    fdk_process_free(p);
  }
  return NULL;
}

static void test_one_list_many_threads(void **state) {
  (void)state;
  char dir[4096], path_env[4200];
  snprintf(dir, sizeof dir, "%s", CHILD_PATH);
  *strrchr(dir, '/') = 0;
  snprintf(path_env, sizeof path_env, "PATH=/nonexistent:%s", dir);
  const char *envp[] = {path_env, NULL};
  const char *argv[] = {"spawn_child", "exit", "7", NULL};
  int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  int other = open("/dev/null", O_RDONLY | O_CLOEXEC);
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_inherit_raw(a, devnull, other, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_inherit_raw(a, other, devnull, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_execvp(a, "spawn_child", argv, envp), 0);
  enum { THREADS = 4 };
  pthread_t t[THREADS];
  shared_list_job jobs[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i].a = a;
    jobs[i].failures = 0;
    assert_int_equal(pthread_create(&t[i], NULL, spawn_shared_list, &jobs[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(jobs[i].failures, 0);
  }
  fdk_actions_free(a);
  close(devnull);
  close(other);
}

/* login_tty: a new session whose controlling terminal is the given tty (the shell can
 * open /dev/tty); never with setsid or setpgid; a non-terminal fails the spawn with the
 * action named. */
static int spawn_tty_check(fdk_fd *tty, int with_login) {
  const char *argv[] = {"/bin/sh", "-c", "exec 2>/dev/null; : </dev/tty", NULL};
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  if (with_login) assert_int_equal(fdk_actions_login_tty(a, tty), 0);
  else assert_int_equal(fdk_actions_setsid(a), 0);
  assert_int_equal(fdk_actions_execve(a, "/bin/sh", argv, NULL), 0);
  fdk_exit_status st;
  int r = spawn_wait(a, 0, &st);
  fdk_actions_free(a);
  return r < 0 ? r : st.value;
}

static void test_login_tty(void **state) {
  (void)state;
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(master >= 0);
  assert_int_equal(grantpt(master), 0);
  assert_int_equal(unlockpt(master), 0);
  int slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  assert_true(slave >= 0);
  fdk_fd *tty;
  assert_int_equal(fdk_fd_adopt(&tty, slave, FDK_FD_BLOCKING), 0);
  assert_int_equal(spawn_tty_check(tty, 1), 0);
  assert_int_not_equal(spawn_tty_check(tty, 0), 0); /* a new session alone has no terminal */
  /* Exclusive with setsid and setpgid, in either order. */
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_setsid(a), 0);
  assert_int_equal(fdk_actions_login_tty(a, tty), -EINVAL);
  fdk_actions_free(a);
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_login_tty(a, tty), 0);
  assert_int_equal(fdk_actions_setpgid(a, 0), -EINVAL);
  const char *argv[] = {"child", "exit", "0", NULL};
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  assert_int_equal(spawn_wait(a, FDK_SPAWN_BACKEND_POSIX_SPAWN, NULL), -ENOTSUP);
  fdk_actions_free(a);
  fdk_fd_close(tty);
  fdk_fd_unref(tty);
  /* Not a terminal. */
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  fdk_fd *notty;
  assert_int_equal(fdk_fd_adopt(&notty, p[0], FDK_FD_BLOCKING), 0);
  for (int b = 0; b < 2; b++) {
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_login_tty(a, notty), 0);
    assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
    spawn_fails(a, backends[b], -ENOTTY, "action 0 (login_tty");
  }
  fdk_fd_close(notty);
  fdk_fd_unref(notty);
  close(p[1]);
  close(master);
}

/* Error texts: a script whose #! interpreter is missing says so (not that the script is
 * missing), every backend; posix_spawn's failed chdir names chdir. */
static void test_error_texts(void **state) {
  (void)state;
  char script[] = "/tmp/fdkt-script-XXXXXX";
  int fd = mkstemp(script);
  assert_true(fd >= 0);
  const char body[] = "#!/nonexistent/interp -x\nexit 0\n";
  assert_int_equal(write(fd, body, sizeof body - 1), (ssize_t)(sizeof body - 1));
  close(fd);
  chmod(script, 0755);
  for (int b = 0; b < NBACKENDS; b++) {
    const char *argv[] = {script, NULL};
    fdk_actions *a;
    assert_int_equal(fdk_actions_new(&a), 0);
    assert_int_equal(fdk_actions_execve(a, script, argv, NULL), 0);
    spawn_fails(a, backends[b], -ENOENT, "its interpreter '/nonexistent/interp' (named by #!) is missing: '");
  }
  unlink(script);
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_chdir(a, "/nonexistent-dir"), 0);
  const char *argv[] = {"child", "exit", "0", NULL};
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  assert_int_equal(spawn_wait(a, FDK_SPAWN_BACKEND_POSIX_SPAWN, NULL), -ENOENT);
  assert_non_null(strstr(fdk_last_error(), "action 0 (chdir): No such file or directory: '/nonexistent-dir'"));
  fdk_actions_free(a);
  /* A mapping from a handle shows the handle's number. */
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  fdk_fd *h;
  assert_int_equal(fdk_fd_adopt(&h, p[0], 0), 0);
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_inherit_fd(a, 5, h, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  fdk_fd_close(h);
  assert_int_equal(spawn_wait(a, 0, NULL), -EBADF);
  char expect[64];
  snprintf(expect, sizeof expect, "inherit_fd 5 <- %d", p[0]);
  assert_non_null(strstr(fdk_last_error(), expect));
  fdk_actions_free(a);
  fdk_fd_unref(h);
  close(p[1]);
}

static volatile sig_atomic_t late_handler_calls;
static volatile sig_atomic_t early_info_pid;
static void late_host_handler(int sig) {
  (void)sig;
  late_handler_calls++;
}
static void early_host_action(int sig, siginfo_t *info, void *context) {
  (void)sig;
  (void)context;
  early_info_pid = info ? info->si_pid : -1;
}

/* A host SIGCHLD handler: one installed before fdkit watches gets each SIGCHLD with its
 * real siginfo; one installed while fdkit watches neither stops fdkit from seeing exits
 * nor is overwritten when fdkit stops. In pidfd mode fdkit installs nothing at all. */
static void test_host_handler_installed_later(void **state) {
  (void)state;
  struct sigaction early = {0}, late = {0}, old, now;
  early.sa_sigaction = early_host_action;
  early.sa_flags = SA_SIGINFO;
  sigaction(SIGCHLD, &early, &old);
  early_info_pid = 0;
  fdk_loop *loop = fdkt_loop_new();
  int gate[2];
  assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
  int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  fdk_actions *a = gated_child(gate[0], devnull);
  exit_record rec = {0};
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, loop, a, 0, on_exit_cb, &rec), 0);
  close(gate[0]);
  close(devnull);
  /* The host installs its own handler while the child runs. */
  late.sa_handler = late_host_handler;
  sigaction(SIGCHLD, &late, NULL);
  close(gate[1]);
  fdkt_run_until(loop, &rec.calls, 5000);
  assert_int_equal(rec.waited, 1);
  assert_int_equal(rec.status.value, 0);
  fdk_process_free(p);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
  sigaction(SIGCHLD, NULL, &now);
  assert_ptr_equal(now.sa_handler, late_host_handler); /* never restored over */
  assert_true(late_handler_calls >= 1);
  /* The early handler: real siginfo through fdkit's chaining in SIGCHLD mode. */
  sigaction(SIGCHLD, &early, NULL);
  assert_int_equal(fdk_loop_new(&loop), 0);
  a = child_actions("exit", "0");
  memset(&rec, 0, sizeof rec);
  early_info_pid = 0;
  assert_int_equal(fdk_spawn(&p, loop, a, 0, on_exit_cb, &rec), 0);
  fdkt_run_until(loop, &rec.calls, 5000);
  assert_int_equal(early_info_pid, fdk_process_pid(p));
  fdk_process_free(p);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
  sigaction(SIGCHLD, NULL, &now);
  assert_true((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == early_host_action);
  sigaction(SIGCHLD, &old, NULL);
}

/* The parent's loop in a forked child answers -ECHILD and is freed without touching the
 * parent's descriptors: the parent's loop still works afterwards. */
static void noop_post(void *data) { (void)data; }

static void test_loop_after_fork(void **state) {
  (void)state;
  fdk_loop *loop = fdkt_loop_new();
  fdk_actions *a = child_actions("exit", "4");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    fdk_process *p;
    int ok = fdk_loop_run(loop, FDK_RUN_NOWAIT) == -ECHILD && fdk_loop_post(loop, noop_post, NULL) == -ECHILD &&
             fdk_spawn(&p, loop, a, 0, NULL, NULL) == -ECHILD && fdk_loop_backend_timeout(loop) == -ECHILD &&
             strstr(fdk_last_error(), "fork") != NULL && fdk_loop_free(loop) == 0;
    _exit(ok ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  exit_record rec = {0};
  fdk_process *p;
  assert_int_equal(fdk_spawn(&p, loop, a, 0, on_exit_cb, &rec), 0);
  fdkt_run_until(loop, &rec.calls, 5000);
  assert_int_equal(rec.status.value, 4);
  free_spawned(loop, a, p);
}

/* Re-executed as "env-probe": two spawns, under bad FDKIT_* values. */
static int env_probe_main(void) {
  const char *argv[] = {"child", "exit", "0", NULL};
  fdk_actions *a;
  if (fdk_actions_new(&a) < 0 || fdk_actions_execve(a, CHILD_PATH, argv, NULL) < 0) return 2;
  for (int i = 0; i < 2; i++) {
    fdk_process *p;
    if (fdk_spawn(&p, NULL, a, 0, NULL, NULL) != 0 || fdk_process_wait(p, NULL) != 0) return 3;
    fdk_process_free(p);
  }
  fdk_actions_free(a);
  return 0;
}

/* A bad FDKIT_* value is reported once on stderr, never silently ignored. */
static void test_bad_environment_values(void **state) {
  (void)state;
  int err[2];
  assert_int_equal(pipe2(err, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(err[1], 2);
    setenv("FDKIT_PIDFD", "no", 1);
    setenv("FDKIT_CLONE3", "off", 1);
    execl("/proc/self/exe", "test_process", "env-probe", (char *)NULL);
    _exit(99);
  }
  close(err[1]);
  char buf[1024];
  size_t len = 0;
  ssize_t n;
  while (len + 1 < sizeof buf && (n = read(err[0], buf + len, sizeof buf - 1 - len)) > 0) len += (size_t)n;
  buf[len] = 0;
  close(err[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  const char *pidfd_line = strstr(buf, "fdkit: ignoring FDKIT_PIDFD=\"no\": expected one of 0, 1\n");
  assert_non_null(pidfd_line);
  assert_null(strstr(strchr(pidfd_line, '\n'), "FDKIT_PIDFD")); /* once */
  assert_non_null(strstr(buf, "FDKIT_CLONE3=\"off\""));
}

/* ---- lifecycle: statuses somebody else collected, signals that must not reach a stranger ---- */

/* Whether this run has pidfds (not FDKIT_PIDFD=0, not under the old-kernel filter). */
static int have_pidfds(void) {
  const char *forced = getenv("FDKIT_PIDFD");
  return !(forced && strcmp(forced, "0") == 0) && !getenv("FDKIT_TEST_OLD_KERNEL");
}

/* Watching a new child costs O(1) in either mode: a spawn beside 300 watched children
 * makes at most the one waitid that looks at the new child (without pidfds, a scan of
 * every child would make 300). Counted by the waitid defined at the top of the file. */
static void test_sigchld_add_is_constant(void **state) {
  (void)state;
  enum { kLive = 300 };
  fdk_loop *loop = fdkt_loop_new();
  fdk_actions *a = child_actions("sleep", NULL);
  fdk_process *live[kLive];
  for (int i = 0; i < kLive; i++) assert_int_equal(fdk_spawn(&live[i], loop, a, 0, NULL, NULL), 0);
  fdk_process *p;
  long before = atomic_load(&waitid_calls);
  assert_int_equal(fdk_spawn(&p, loop, a, 0, NULL, NULL), 0);
  long made = atomic_load(&waitid_calls) - before;
  assert_in_range(made, 0, 1);
  fdk_process_free(p);
  for (int i = 0; i < kLive; i++) fdk_process_free(live[i]);
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
  assert_int_equal(fdk_loop_free(loop), 0);
}

/* Whether the kernel keeps the exit status of a reaped child for its pidfd (6.15+). */
static int kernel_keeps_exit_info(void) {
  struct {
    uint64_t mask, cgroupid;
    uint32_t ids[11];
    int32_t exit_code;
    uint32_t coredump_mask, spare;
  } info = {0};
  info.mask = 1u << 3;
  int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (fd < 0) return 0;
  int r = ioctl(fd, _IOWR(0xFF, 11, info), &info);
  close(fd);
  return r == 0;
}

/* Waits until pid has exited (a zombie), without reaping it. */
static void wait_zombie(pid_t pid) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
}

/* A host that reaps every child (waitpid(-1)) takes the status first: fdkit recovers it
 * through the pidfd where the kernel keeps it, and otherwise says it is unknown, never a
 * success. Every backend. */
static void test_status_reaped_by_host(void **state) {
  (void)state;
  int recover = have_pidfds() && kernel_keeps_exit_info();
  for (int b = 0; b < NBACKENDS; b++) {
    fdk_actions *a = child_actions("exit", "42");
    fdk_process *p;
    assert_int_equal(fdk_spawn(&p, NULL, a, backends[b], NULL, NULL), 0);
    int pid = fdk_process_pid(p);
    int status;
    assert_int_equal(waitpid(-1, &status, 0), pid);
    fdk_exit_status st;
    int r = fdk_process_wait(p, &st);
    if (recover) {
      assert_int_equal(r, 0);
      assert_int_equal(st.kind, FDK_EXIT_CODE);
      assert_int_equal(st.value, 42);
      assert_true(st.usage.utime_ns == -1 && st.usage.maxrss_kib == -1);
    } else {
      assert_int_equal(r, -ECHILD);
      assert_int_equal(st.kind, FDK_EXIT_UNKNOWN);
      assert_non_null(strstr(fdk_last_error(), "lost"));
    }
    assert_int_equal(fdk_process_signal(p, SIGKILL), -ESRCH);
    fdk_process_free(p);
    fdk_actions_free(a);
  }
}

/* Puts a process that is no child of this one on pid target (a grandchild, through
 * ns_last_pid; root only): returns the helper's pid, whose own child sleeps on target,
 * or -1 when another process took the number first. */
static pid_t stranger_on(pid_t target) {
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  pid_t helper = fork();
  assert_true(helper >= 0);
  if (helper == 0) {
    int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY);
    char num[16];
    int len = snprintf(num, sizeof num, "%d", target - 1);
    if (fd < 0 || write(fd, num, (size_t)len) != len) _exit(1);
    pid_t s = fork();
    if (s == 0) {
      for (;;) pause();
    }
    if (s != target && s > 0) {
      kill(s, SIGKILL);
      waitpid(s, NULL, 0);
    }
    char ok = s == target ? 'y' : 'n';
    if (write(ready[1], &ok, 1) != 1) _exit(1);
    int st;
    waitpid(s, &st, 0);
    _exit(WIFSIGNALED(st) ? 100 + WTERMSIG(st) : 0);
  }
  close(ready[1]);
  char ok = 0;
  assert_int_equal(read(ready[0], &ok, 1), 1);
  close(ready[0]);
  if (ok == 'y') return helper;
  kill(helper, SIGKILL);
  waitpid(helper, NULL, 0);
  return -1;
}

/* The host reaped fdkit's child and its pid went to another process: a signal through
 * the handle never reaches that process. */
static void test_signal_never_hits_stranger(void **state) {
  (void)state;
  if (geteuid() != 0 || access("/proc/sys/kernel/ns_last_pid", W_OK) != 0) skip();
  for (int b = 0; b < NBACKENDS; b++) {
    pid_t helper = -1;
    for (int attempt = 0; attempt < 50 && helper < 0; attempt++) {
      fdk_actions *a = child_actions("exit", "0");
      fdk_process *p;
      assert_int_equal(fdk_spawn(&p, NULL, a, backends[b], NULL, NULL), 0);
      pid_t pid = fdk_process_pid(p);
      assert_int_equal(waitpid(-1, NULL, 0), pid);
      helper = stranger_on(pid);
      if (helper >= 0) {
        int r = fdk_process_signal(p, SIGTERM);
        assert_int_equal(r, -ESRCH);
        assert_int_equal(fdk_process_signal_group(p, SIGTERM), -ESRCH);
        /* The stranger (the helper's child) is still alive: only the helper's own kill ends it. */
        usleep(20000);
        kill(pid, SIGKILL);
        int st;
        assert_int_equal(waitpid(helper, &st, 0), helper);
        assert_int_equal(WEXITSTATUS(st), 100 + SIGKILL);
      }
      fdk_process_free(p);
      fdk_actions_free(a);
    }
    if (helper < 0) skip(); /* the machine kept taking the pid number */
  }
}

/* posix_spawn with a loop, a host that ignores SIGCHLD (the kernel reaps at once) and a
 * child that exits at once: the spawn succeeded, so it is reported, and the exit too. */
static void test_posix_spawn_instant_exit_reaped(void **state) {
  (void)state;
  struct sigaction ign = {0}, old;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGCHLD, &ign, &old);
  fdk_loop *loop = fdkt_loop_new();
  const char *argv[] = {TINY_CHILD_PATH, NULL};
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_execve(a, TINY_CHILD_PATH, argv, NULL), 0);
  for (int i = 0; i < 100; i++) {
    exit_record rec = {0};
    fdk_process *p;
    int r = fdk_spawn(&p, loop, a, FDK_SPAWN_BACKEND_POSIX_SPAWN, on_exit_cb, &rec);
    assert_int_equal(r, 0);
    fdkt_run_until(loop, &rec.calls, 5000);
    assert_int_equal(rec.result, 0);
    /* The status was recovered, collected normally, or is unknown: never a failed spawn. */
    assert_true(rec.waited == 1 || (rec.waited == -ECHILD && rec.status.kind == FDK_EXIT_UNKNOWN));
    if (rec.waited == 1) assert_int_equal(rec.status.value, 0);
    fdk_process_free(p);
  }
  fdk_actions_free(a);
  assert_int_equal(fdk_loop_free(loop), 0);
  sigaction(SIGCHLD, &old, NULL);
}

/* A child that reads descriptor 3 (the read end of gate) and exits at its end of file. */
static fdk_actions *gated_child(int gate_read, int devnull) {
  fdk_actions *a;
  assert_int_equal(fdk_actions_new(&a), 0);
  assert_int_equal(fdk_actions_inherit_raw(a, 3, gate_read, FDK_INHERIT_PRESERVE), 0);
  assert_int_equal(fdk_actions_inherit_raw(a, 1, devnull, FDK_INHERIT_PRESERVE), 0);
  const char *argv[] = {"child", "read", "3", NULL};
  assert_int_equal(fdk_actions_execve(a, CHILD_PATH, argv, NULL), 0);
  return a;
}

/* A detached child outlives its handle, and once it exits it is reaped by a run of its
 * loop even when the loop has nothing else to do (DEFAULT waits for it, NOWAIT polls it),
 * in both exit-watch modes. */
static void test_detached_reaped_by_idle_loop(void **state) {
  (void)state;
  for (int mode = 0; mode < 2; mode++) {
    fdk_loop *loop = fdkt_loop_new();
    int gate[2];
    assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fdk_actions *a = gated_child(gate[0], devnull);
    fdk_process *p;
    assert_int_equal(fdk_spawn(&p, loop, a, 0, NULL, NULL), 0);
    pid_t pid = fdk_process_pid(p);
    assert_int_equal(fdk_process_detach(p), 0);
    fdk_process_free(p);
    close(gate[0]);
    close(devnull);
    assert_int_equal(kill(pid, 0), 0); /* detached: not killed */
    close(gate[1]);
    wait_zombie(pid);
    if (mode == 0) {
      assert_int_equal(fdk_loop_run(loop, FDK_RUN_DEFAULT), 0);
    } else {
      for (int i = 0; i < 5000 && fdk_loop_run(loop, FDK_RUN_NOWAIT) != 0; i++) usleep(1000);
    }
    assert_reaped(pid);
    fdk_actions_free(a);
    assert_int_equal(fdk_loop_free(loop), 0);
  }
}

/* Detached children spawned without a loop: reaped by fdkit once they exited, at the next
 * spawn, wait or fdk_process_reap_detached; never a zombie, and never another's child. */
static void test_detached_without_loop(void **state) {
  (void)state;
  pid_t own = fork();
  if (own == 0) _exit(9); /* the host's own child: fdkit must leave it */
  for (int how = 0; how < 3; how++) {
    int gate[2];
    assert_int_equal(pipe2(gate, O_CLOEXEC), 0);
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    fdk_actions *a = gated_child(gate[0], devnull);
    fdk_process *p;
    assert_int_equal(fdk_spawn(&p, NULL, a, backends[how], NULL, NULL), 0);
    pid_t pid = fdk_process_pid(p);
    assert_int_equal(fdk_process_detach(p), 0);
    fdk_process_free(p);
    close(gate[0]);
    close(devnull);
    assert_int_equal(kill(pid, 0), 0); /* not killed */
    assert_int_equal(fdk_process_reap_detached(), 1);
    close(gate[1]);
    wait_zombie(pid);
    if (how == 0) {
      assert_int_equal(fdk_process_reap_detached(), 0);
    } else {
      /* A later spawn and wait sweep the list. */
      fdk_actions *b = child_actions("exit", "0");
      fdk_exit_status st;
      assert_int_equal(spawn_wait(b, 0, &st), 0);
      fdk_actions_free(b);
    }
    assert_reaped(pid);
    fdk_actions_free(a);
  }
  int status;
  assert_int_equal(waitpid(own, &status, 0), own);
  assert_int_equal(WEXITSTATUS(status), 9);
}

/* Re-executed as "emfile-probe": a process whose very first spawn finds the descriptor
 * table full must fail that spawn (with pidfds, which need a descriptor), not give up
 * pidfds for good; without pidfds the spawn needs none and succeeds. */
static int emfile_probe_main(void) {
  int pidfds = have_pidfds();
  int fds[65536];
  int n = 0;
  struct rlimit lim = {256, 256};
  setrlimit(RLIMIT_NOFILE, &lim);
  while (n < 65536 && (fds[n] = dup(0)) >= 0) n++;
  const char *argv[] = {"child", "exit", "0", NULL};
  fdk_actions *a;
  if (fdk_actions_new(&a) < 0 || fdk_actions_execve(a, CHILD_PATH, argv, NULL) < 0) return 2;
  fdk_process *p;
  int r = fdk_spawn(&p, NULL, a, 0, NULL, NULL);
  if (r == 0) {
    fdk_process_wait(p, NULL);
    fdk_process_free(p);
  }
  while (n > 0) close(fds[--n]);
  if (fdk_spawn(&p, NULL, a, 0, NULL, NULL) != 0) return 3;
  int pidfd = fdk_process_pidfd(p);
  fdk_process_wait(p, NULL);
  fdk_process_free(p);
  fdk_actions_free(a);
  if (r != (pidfds ? -EMFILE : 0)) return 4;
  return (pidfds ? pidfd >= 0 : pidfd == -ENOTSUP) ? 0 : 5;
}

static void test_full_table_at_first_spawn(void **state) {
  (void)state;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    execl("/proc/self/exe", "test_process", "emfile-probe", (char *)NULL);
    _exit(99);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "emfile-probe") == 0) return emfile_probe_main();
  if (argc > 1 && strcmp(argv[1], "env-probe") == 0) return env_probe_main();
  const struct CMUnitTest tests[] = {
      fdkt_test(test_exit_codes),
      fdkt_test(test_killed_by_signal),
      fdkt_test(test_environment),
      fdkt_test(test_argv_empty_long_and_e2big),
      fdkt_test(test_exec_failures),
      fdkt_test(test_execvp),
      fdkt_test(test_chdir_and_fchdir),
      fdkt_test(test_session_and_group),
      fdkt_test(test_credentials),
      fdkt_test(test_umask_rlimit_pdeathsig_nnp),
      fdkt_test(test_signals_in_child),
      fdkt_test(test_user_action),
      fdkt_test(test_user_action_crash),
      fdkt_test(test_bad_arguments),
      fdkt_test(test_inherit_swaps_rings_identity),
      fdkt_test(test_inherit_random_permutations),
      fdkt_test(test_close_other_fds),
      fdkt_test(test_inherit_blocking_modes_and_handles),
      fdkt_test(test_child_gone_before_watch),
      fdkt_test(test_pidfds_withdrawn),
      fdkt_test(test_sigchld_add_is_constant),
      fdkt_test(test_process_outlives_its_loop),
      fdkt_loop_test(test_exit_callback),
      fdkt_test(test_wait_before_callback_and_signal),
      fdkt_test(test_free_kills_running_child),
      fdkt_test(test_loop_freed_first),
      fdkt_test(test_host_sigchld_handler),
      fdkt_test(test_pidfd_held_from_spawn),
      fdkt_loop_test(test_many_children_on_loop),
      fdkt_test(test_one_list_many_threads),
      fdkt_test(test_login_tty),
      fdkt_test(test_error_texts),
      fdkt_test(test_host_handler_installed_later),
      fdkt_test(test_loop_after_fork),
      fdkt_test(test_bad_environment_values),
      fdkt_test(test_status_reaped_by_host),
      fdkt_test(test_signal_never_hits_stranger),
      fdkt_test(test_posix_spawn_instant_exit_reaped),
      fdkt_test(test_detached_reaped_by_idle_loop),
      fdkt_test(test_detached_without_loop),
      fdkt_test(test_full_table_at_first_spawn),
  };
  (void)backend_names;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
