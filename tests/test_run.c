/* SPDX-License-Identifier: MIT */
/* run: capture, stdin, limits, timeouts, process groups, early exit, concurrency. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

/* Runs sh -c script with the given setup and returns the result (asserting it ran). */
typedef void (*opts_fn)(fdk_run_opts *opts);

static fdk_run_result *run_sh(const char *script, opts_fn setup) {
  const char *argv[] = {"/bin/sh", "-c", script, NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, argv), 0);
  assert_int_equal(fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE), 0);
  assert_int_equal(fdk_run_opts_set_stderr(opts, FDK_RUN_CAPTURE), 0);
  if (setup) setup(opts);
  fdk_run_result *res = NULL;
  int r = fdk_run(&res, opts);
  if (r < 0) fail_msg("fdk_run: %s: %s", fdk_errname(r), fdk_last_error());
  fdk_run_opts_free(opts);
  return res;
}

static void assert_exit(const fdk_run_result *res, int kind, int value) {
  int k = -1, v = -1;
  assert_int_equal(fdk_run_result_status(res, &k, &v), 0);
  assert_int_equal(k, kind);
  assert_int_equal(v, value);
}

static void assert_stdout(const fdk_run_result *res, const char *expect) {
  size_t len;
  const uint8_t *out = fdk_run_result_stdout(res, &len);
  assert_int_equal(len, strlen(expect));
  if (len) assert_memory_equal(out, expect, len);
}

static void test_capture_and_exit_codes(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("echo out; echo err >&2; exit 3", NULL);
  assert_exit(res, FDK_EXIT_CODE, 3);
  assert_stdout(res, "out\n");
  size_t len;
  const uint8_t *err = fdk_run_result_stderr(res, &len);
  assert_int_equal(len, 4);
  assert_memory_equal(err, "err\n", 4);
  assert_int_equal(fdk_run_result_timed_out(res), 0);
  assert_int_equal(fdk_run_result_truncated(res), 0);
  assert_true(fdk_run_result_pid(res) > 0);
  assert_true(fdk_run_result_duration_ns(res) > 0);
  fdk_run_result_free(res);
  for (int code = 0; code < 256; code += 51) {
    char script[32];
    snprintf(script, sizeof script, "exit %d", code);
    res = run_sh(script, NULL);
    assert_exit(res, FDK_EXIT_CODE, code);
    fdk_run_result_free(res);
  }
}

static void test_killed_by_signal(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("kill -TERM $$", NULL);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGTERM);
  fdk_run_result_free(res);
}

static void merge(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stderr(o, FDK_RUN_MERGE), 0); }

static void test_merged_streams(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("echo a; echo b >&2; echo c", merge);
  assert_stdout(res, "a\nb\nc\n");
  size_t len;
  assert_null(fdk_run_result_stderr(res, &len));
  assert_int_equal(len, 0);
  fdk_run_result_free(res);
}

static void discard_stdout(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stdout(o, FDK_RUN_DISCARD), 0); }

static void test_discard(void **state) {
  (void)state;
  /* Expansion runs before the redirection, so readlink sees the shell's own stdout. */
  fdk_run_result *res = run_sh("echo gone; echo $(readlink /proc/$$/fd/1) >&2", discard_stdout);
  size_t len;
  assert_null(fdk_run_result_stdout(res, &len));
  const uint8_t *err = fdk_run_result_stderr(res, &len);
  assert_int_equal(len, strlen("/dev/null\n"));
  assert_memory_equal(err, "/dev/null\n", len);
  fdk_run_result_free(res);
}

static void env_and_cwd(fdk_run_opts *o) {
  const char *env[] = {"ONLY=this", "PATH=/usr/bin:/bin", NULL};
  assert_int_equal(fdk_run_opts_set_env(o, env), 0);
  assert_int_equal(fdk_run_opts_set_cwd(o, "/proc"), 0);
}

static void test_env_and_cwd(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("echo $ONLY; pwd; env | grep -c HOME || true", env_and_cwd);
  assert_stdout(res, "this\n/proc\n0\n");
  fdk_run_result_free(res);
}

/* Runs pwd with opts and checks it printed expect_dir. */
static void assert_runs_in(fdk_run_opts *opts, const char *expect_dir) {
  assert_int_equal(fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE), 0);
  fdk_run_result *res = NULL;
  int r = fdk_run(&res, opts);
  if (r < 0) fail_msg("fdk_run: %s: %s", fdk_errname(r), fdk_last_error());
  char expect[PATH_MAX + 1];
  snprintf(expect, sizeof expect, "%s\n", expect_dir);
  assert_stdout(res, expect);
  fdk_run_result_free(res);
}

static void test_cwd_fd_and_dir(void **state) {
  (void)state;
  char tmp[] = "/tmp/fdkit-run-cwd-XXXXXX", here[PATH_MAX];
  assert_non_null(mkdtemp(tmp));
  assert_non_null(getcwd(here, sizeof here));
  const char *pwd[] = {"/bin/pwd", "-P", NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, pwd), 0);

  /* A descriptor: the options hold their own reference. */
  int raw = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(raw >= 0);
  fdk_fd *fd;
  assert_int_equal(fdk_fd_adopt(&fd, raw, 0), 0);
  assert_int_equal(fdk_run_opts_set_cwd_fd(opts, fd), 0);
  fdk_fd_unref(fd);
  assert_runs_in(opts, tmp);

  /* A dir handle, released before the run, replaces a path set before it. */
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), tmp), 0);
  assert_int_equal(fdk_run_opts_set_cwd(opts, "/proc"), 0);
  assert_int_equal(fdk_run_opts_set_cwd_dir(opts, dir), 0);
  fdk_dir_unref(dir);
  assert_runs_in(opts, tmp);

  /* The singletons have no descriptor: the caller's directory. */
  assert_int_equal(fdk_run_opts_set_cwd_dir(opts, fdk_dir_cwd()), 0);
  assert_runs_in(opts, here);
  assert_int_equal(fdk_run_opts_set_cwd(opts, "/proc"), 0);
  assert_int_equal(fdk_run_opts_set_cwd_dir(opts, fdk_dir_fs()), 0);
  assert_runs_in(opts, here);

  /* A dir handle whose descriptor was closed cannot start a run. */
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), tmp), 0);
  assert_int_equal(fdk_run_opts_set_cwd_dir(opts, dir), 0);
  assert_int_equal(fdk_fd_close(fdk_dir_handle(dir)), 0);
  fdk_dir_unref(dir);
  fdk_run_result *res = NULL;
  assert_int_equal(fdk_run(&res, opts), -EBADF);
  assert_null(res);

  assert_int_equal(fdk_run_opts_set_cwd_dir(NULL, fdk_dir_cwd()), -EINVAL);
  assert_non_null(strstr(fdk_last_error(), "run_opts_set_cwd_dir"));
  fdk_run_opts_free(opts);
  assert_int_equal(rmdir(tmp), 0);
}

static void cwd_missing(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_cwd(o, "/nonexistent/dir"), 0); }

static void test_start_failures(void **state) {
  (void)state;
  const char *missing[] = {"fdkit-no-such-program", NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, missing), 0);
  fdk_run_result *res = (fdk_run_result *)0x1;
  assert_int_equal(fdk_run(&res, opts), -ENOENT);
  assert_ptr_equal(res, (fdk_run_result *)0x1);
  fdk_run_opts_free(opts);
  const char *sh[] = {"/bin/sh", "-c", "true", NULL};
  assert_int_equal(fdk_run_opts_new(&opts, sh), 0);
  cwd_missing(opts);
  assert_int_equal(fdk_run(&res, opts), -ENOENT);
  assert_non_null(strstr(fdk_last_error(), "/nonexistent/dir"));
  fdk_run_opts_free(opts);
}

static void test_bad_options(void **state) {
  (void)state;
  const char *empty[] = {NULL};
  fdk_run_opts *opts = NULL;
  assert_int_equal(fdk_run_opts_new(&opts, empty), -EINVAL);
  assert_int_equal(fdk_run_opts_new(&opts, NULL), -EINVAL);
  assert_null(opts);
  const char *sh[] = {"/bin/true", NULL};
  assert_int_equal(fdk_run_opts_new(&opts, sh), 0);
  assert_int_equal(fdk_run_opts_set_max_output(opts, -2), -EINVAL);
  assert_int_equal(fdk_run_opts_set_timeout(opts, -1), -EINVAL);
  assert_int_equal(fdk_run_opts_set_cancel(opts, 7, 0), -EINVAL);
  assert_int_equal(fdk_run_opts_set_cancel(opts, FDK_RUN_CANCEL_KILL, -1), -EINVAL);
  assert_int_equal(fdk_run_opts_set_stdout(opts, FDK_RUN_MERGE), -EINVAL);
  assert_int_equal(fdk_run_opts_set_stderr(opts, 9), -EINVAL);
  assert_int_equal(fdk_run_opts_set_group(opts, FDK_RUN_GROUP_JOIN, 0), -EINVAL);
  assert_int_equal(fdk_run_opts_set_fds(opts, FDK_RUN_FDS_ALLOWLIST, NULL, 0), -EINVAL);
  int std[] = {1};
  assert_int_equal(fdk_run_opts_set_fds(opts, FDK_RUN_FDS_ALLOWLIST, std, 1), -EINVAL);
  int twice[] = {5, 6, 5};
  assert_int_equal(fdk_run_opts_set_fds(opts, FDK_RUN_FDS_ALLOWLIST, twice, 3), -EINVAL);
  assert_non_null(strstr(fdk_last_error(), "5 is listed twice"));
  const char *bad_env[] = {"NOEQUALS", NULL};
  assert_int_equal(fdk_run_opts_set_env(opts, bad_env), -EINVAL);
  assert_int_equal(fdk_run_opts_set_stdin_bytes(opts, NULL, 3), -EINVAL);
  assert_int_equal(fdk_run_opts_set_backend(opts, 99), -EINVAL);
  /* An allow-listed descriptor that is not open is refused before anything runs. */
  int closed_fd = 1000;
  assert_int_equal(fdk_run_opts_set_fds(opts, FDK_RUN_FDS_ALLOWLIST, &closed_fd, 1), 0);
  fdk_run_result *res = NULL;
  assert_int_equal(fdk_run(&res, opts), -EBADF);
  assert_null(res);
  fdk_run_opts_free(opts);
  assert_null(fdk_run_opts_free(NULL));
  assert_null(fdk_run_result_free(NULL));
  assert_int_equal(fdk_run(NULL, NULL), -EINVAL);
}

/* stdin larger than a pipe buffer is fed as the child reads it. */
static char *big_input;
enum { BIG = 3 << 20 };
static void feed_big(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stdin_bytes(o, big_input, BIG), 0); }

static void test_stdin_large(void **state) {
  (void)state;
  big_input = malloc(BIG);
  for (size_t i = 0; i < BIG; i++) big_input[i] = (char)('a' + i % 26);
  fdk_run_result *res = run_sh("cat", feed_big);
  size_t len;
  const uint8_t *out = fdk_run_result_stdout(res, &len);
  assert_int_equal(len, BIG);
  assert_memory_equal(out, big_input, BIG);
  fdk_run_result_free(res);
  /* A child that never reads stdin: no deadlock, no SIGPIPE in the caller. */
  res = run_sh("exec 0<&-; echo done", feed_big);
  assert_stdout(res, "done\n");
  assert_exit(res, FDK_EXIT_CODE, 0);
  fdk_run_result_free(res);
  res = run_sh("sleep 0.05; echo done", feed_big);
  assert_stdout(res, "done\n");
  fdk_run_result_free(res);
  free(big_input);
}

/* Both streams at full volume while stdin is fed: drained concurrently, no deadlock. */
static void test_both_streams_large(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("head -c 104857600 /dev/zero & head -c 104857600 /dev/zero >&2; wait", NULL);
  size_t out_len, err_len;
  fdk_run_result_stdout(res, &out_len);
  fdk_run_result_stderr(res, &err_len);
  assert_int_equal(out_len, 104857600);
  assert_int_equal(err_len, 104857600);
  fdk_run_result_free(res);
}

static void limit_1000(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_max_output(o, 1000), 0); }

/* Output past max_output is drained and dropped; the child is not blocked. */
static void test_max_output(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("head -c 5000000 /dev/zero; head -c 5000000 /dev/zero >&2; echo end >&2", limit_1000);
  size_t out_len, err_len;
  fdk_run_result_stdout(res, &out_len);
  fdk_run_result_stderr(res, &err_len);
  assert_int_equal(out_len + err_len, 1000);
  assert_int_equal(fdk_run_result_truncated(res), 1);
  assert_exit(res, FDK_EXIT_CODE, 0);
  fdk_run_result_free(res);
}

static void limit_1000_and_stop(fdk_run_opts *o) {
  limit_1000(o);
  assert_int_equal(fdk_run_opts_set_stop_at_max_output(o, 1), 0);
  /* a guard: without the stop the run would only end here */
  assert_int_equal(fdk_run_opts_set_timeout(o, 20000), 0);
}

/* With stop_at_max_output a child that writes for ever is stopped (KILL by default
 * policy) once its output passes the limit. */
static void test_stop_at_max_output(void **state) {
  (void)state;
  int64_t t0 = fdk_now_ns();
  fdk_run_result *res = run_sh("exec yes", limit_1000_and_stop);
  assert_true(fdk_now_ns() - t0 < 10000000000LL);
  assert_int_equal(fdk_run_result_timed_out(res), 0);
  assert_int_equal(fdk_run_result_truncated(res), 1);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGKILL);
  size_t len;
  fdk_run_result_stdout(res, &len);
  assert_int_equal(len, 1000);
  fdk_run_result_free(res);

  /* Output within the limit does not stop anything. */
  res = run_sh("echo short; exit 3", limit_1000_and_stop);
  assert_exit(res, FDK_EXIT_CODE, 3);
  assert_int_equal(fdk_run_result_truncated(res), 0);
  fdk_run_result_free(res);
}

static void timeout_interrupt(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 100), 0);
  assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_GRACEFUL, 2000), 0);
  assert_int_equal(fdk_run_opts_set_stop_signal(o, SIGINT), 0);
}

/* GRACEFUL sends the stop signal chosen instead of SIGTERM. */
static void test_stop_signal(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("trap 'echo int; exit 9' INT; trap 'echo term; exit 8' TERM; sleep 10 & wait",
                               timeout_interrupt);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_CODE, 9);
  assert_stdout(res, "int\n");
  fdk_run_result_free(res);

  const char *argv[] = {"true", NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, argv), 0);
  assert_int_equal(fdk_run_opts_set_stop_signal(opts, 0), -EINVAL);
  assert_int_equal(fdk_run_opts_set_stop_signal(opts, NSIG), -EINVAL);
  fdk_run_opts_free(opts);
}

static void timeout_kill(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 100), 0);
  assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_KILL, 1000), 0);
}

static void timeout_graceful(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 100), 0);
  assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_GRACEFUL, 200), 0);
}

static void timeout_none(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 50), 0);
  assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_NONE, 0), 0);
}

static void test_timeouts(void **state) {
  (void)state;
  int64_t t0 = fdk_now_ns();
  fdk_run_result *res = run_sh("echo started; exec sleep 10", timeout_kill);
  assert_true(fdk_now_ns() - t0 < 3000000000LL);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGKILL);
  assert_stdout(res, "started\n");
  fdk_run_result_free(res);

  /* GRACEFUL: a child that handles SIGTERM gets to finish. */
  res = run_sh("trap 'echo term; exit 7' TERM; sleep 10 & wait", timeout_graceful);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_CODE, 7);
  assert_stdout(res, "term\n");
  fdk_run_result_free(res);

  /* GRACEFUL: one that ignores SIGTERM is killed after the grace. */
  t0 = fdk_now_ns();
  res = run_sh("trap '' TERM; sleep 10 & wait; sleep 10", timeout_graceful);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGKILL);
  assert_true(fdk_now_ns() - t0 >= 300000000LL);
  fdk_run_result_free(res);

  /* NONE: the child runs to its end; the overrun is reported. */
  res = run_sh("sleep 0.2; echo finished", timeout_none);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_CODE, 0);
  assert_stdout(res, "finished\n");
  fdk_run_result_free(res);
}

/* Every option, each set up together with a KILL timeout of 100 ms below. */
static int combo_fd = -1;
static void with_env(fdk_run_opts *o) {
  const char *env[] = {"PATH=/usr/bin:/bin", NULL};
  assert_int_equal(fdk_run_opts_set_env(o, env), 0);
}
static void with_cwd(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_cwd(o, "/"), 0); }
static void with_cwd_dir(fdk_run_opts *o) {
  fdk_dir *dir;
  assert_int_equal(fdk_dir_open(&dir, fdk_dir_fs(), "/"), 0);
  assert_int_equal(fdk_run_opts_set_cwd_dir(o, dir), 0);
  fdk_dir_unref(dir);
}
static void with_stdin_bytes(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stdin_bytes(o, "x", 1), 0); }
static void with_stdin_fd(fdk_run_opts *o) {
  fdk_fd *r, *w;
  assert_int_equal(fdk_pipe(&r, &w), 0);
  assert_int_equal(fdk_run_opts_set_stdin_fd(o, r), 0);
  fdk_fd_unref(r);
  fdk_fd_unref(w); /* the child sees end of file */
}
static void with_merge(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stderr(o, FDK_RUN_MERGE), 0); }
static void with_discarded_stderr(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_stderr(o, FDK_RUN_DISCARD), 0); }
static void with_max_output(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_max_output(o, 4), 0); }
static void with_graceful(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_GRACEFUL, 100), 0); }
static void with_new_group(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_NEW, 0), 0); }
static void with_session(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_SESSION, 0), 0); }
static void with_close_from_3(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_fds(o, FDK_RUN_FDS_CLOSE_FROM_3, NULL, 0), 0);
}
static void with_allowlist(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_fds(o, FDK_RUN_FDS_ALLOWLIST, &combo_fd, 1), 0);
}
static int never(const void *data, size_t len, void *arg) {
  (void)data, (void)len, (void)arg;
  return 0;
}
static void with_early_exit(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_early_exit(o, never, NULL), 0); }
static void with_fork_backend(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_backend(o, FDK_SPAWN_BACKEND_FORK), 0); }
static void with_posix_spawn_backend(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_backend(o, FDK_SPAWN_BACKEND_POSIX_SPAWN), 0);
}

static opts_fn combo_option;
static void combo_with_timeout(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 100), 0);
  combo_option(o);
}

static void test_every_option_with_a_timeout(void **state) {
  (void)state;
  static const struct {
    const char *name;
    opts_fn setup;
    int signal;         /* how the timeout ends the child */
    const char *stdout; /* what is captured of "started" */
  } cases[] = {
      {"env", with_env, SIGKILL, "started\n"},
      {"cwd", with_cwd, SIGKILL, "started\n"},
      {"cwd_dir", with_cwd_dir, SIGKILL, "started\n"},
      {"stdin_bytes", with_stdin_bytes, SIGKILL, "started\n"},
      {"stdin_fd", with_stdin_fd, SIGKILL, "started\n"},
      {"stderr merged", with_merge, SIGKILL, "started\n"},
      {"stderr discarded", with_discarded_stderr, SIGKILL, "started\n"},
      {"max_output", with_max_output, SIGKILL, "star"},
      {"graceful cancel", with_graceful, SIGTERM, "started\n"},
      {"new group", with_new_group, SIGKILL, "started\n"},
      {"new session", with_session, SIGKILL, "started\n"},
      {"close from 3", with_close_from_3, SIGKILL, "started\n"},
      {"allow-list", with_allowlist, SIGKILL, "started\n"},
      {"early exit", with_early_exit, SIGKILL, "started\n"},
      {"fork backend", with_fork_backend, SIGKILL, "started\n"},
      {"posix_spawn backend", with_posix_spawn_backend, SIGKILL, "started\n"},
  };
  combo_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  assert_true(combo_fd >= 3);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    print_message("with %s\n", cases[i].name);
    combo_option = cases[i].setup;
    int64_t t0 = fdk_now_ns();
    fdk_run_result *res = run_sh("echo started; exec sleep 10", combo_with_timeout);
    assert_true(fdk_now_ns() - t0 < 3000000000LL);
    assert_int_equal(fdk_run_result_timed_out(res), 1);
    assert_exit(res, FDK_EXIT_SIGNAL, cases[i].signal);
    assert_stdout(res, cases[i].stdout);
    assert_int_equal(fdk_run_result_truncated(res), cases[i].setup == with_max_output);
    fdk_run_result_free(res);
  }
  close(combo_fd);
}

static void new_group_timeout(fdk_run_opts *o) {
  timeout_kill(o);
  assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_NEW, 0), 0);
}

static void new_group_graceful(fdk_run_opts *o) {
  timeout_graceful(o);
  assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_NEW, 0), 0);
}

/* 1 when a process of group pgid is still alive. A killed one may linger as a zombie
 * until whoever inherited it reaps it; that one is gone. */
static int group_has_live_process(int pgid) {
  char command[96];
  snprintf(command, sizeof command, "ps -o stat= -g %d | grep -qv '^Z'", pgid);
  int status = system(command);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
  return WEXITSTATUS(status) == 0;
}

static void short_grace(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_KILL, 200), 0); }

/* A grandchild that keeps the pipes open after its parent exited: with a group the
 * timeout kills it; without, the run ends kill_grace_ms after the child's exit. */
static void test_grandchild_holds_pipes(void **state) {
  (void)state;
  int64_t t0 = fdk_now_ns();
  fdk_run_result *res = run_sh("(trap '' HUP; echo grandchild; exec sleep 30) & sleep 10", new_group_timeout);
  assert_true(fdk_now_ns() - t0 < 5000000000LL);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_stdout(res, "grandchild\n");
  fdk_run_result_free(res);

  /* GRACEFUL: the child dies of SIGTERM, the grandchild ignores it and still gets the
   * SIGKILL after the grace; nothing of the group survives the run. */
  t0 = fdk_now_ns();
  res = run_sh("(trap '' TERM HUP; echo grandchild; exec sleep 31) & sleep 30", new_group_graceful);
  assert_true(fdk_now_ns() - t0 < 5000000000LL);
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGTERM);
  assert_false(group_has_live_process(fdk_run_result_pid(res)));
  assert_int_equal(fdk_run_result_pipes_abandoned(res), 0);
  fdk_run_result_free(res);

  t0 = fdk_now_ns();
  res = run_sh("(exec sleep 3) & echo $!", short_grace);
  int64_t took = fdk_now_ns() - t0;
  assert_true(took >= 200000000LL && took < 2500000000LL);
  assert_exit(res, FDK_EXIT_CODE, 0);
  assert_int_equal(fdk_run_result_pipes_abandoned(res), 1);
  size_t len;
  const char *out = (const char *)fdk_run_result_stdout(res, &len);
  int grandchild = atoi(out);
  assert_true(grandchild > 0);
  fdk_run_result_free(res);
  /* The sleeping grandchild is not ours to reap: stop it, by its pid, before the
   * hygiene check. */
  assert_int_equal(kill(grandchild, SIGKILL), 0);
}

static void session_long_grace(fdk_run_opts *o) {
  assert_int_equal(fdk_run_opts_set_timeout(o, 100), 0);
  assert_int_equal(fdk_run_opts_set_cancel(o, FDK_RUN_CANCEL_GRACEFUL, 4000), 0);
  assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_SESSION, 0), 0);
}

/* A group that died of the SIGTERM whole does not hold the run for the grace. */
static void test_group_gone_ends_the_grace(void **state) {
  (void)state;
  int64_t t0 = fdk_now_ns();
  fdk_run_result *res = run_sh("sleep 10 & sleep 10", session_long_grace);
  int64_t took = fdk_now_ns() - t0;
  assert_int_equal(fdk_run_result_timed_out(res), 1);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGTERM);
  assert_true(took < 2000000000LL);
  fdk_run_result_free(res);
}

static int saw_ready(const void *data, size_t len, void *arg) {
  (void)arg;
  return memmem(data, len, "ready\n", 6) != NULL;
}

static void early(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_early_exit(o, saw_ready, NULL), 0); }

static void test_early_exit(void **state) {
  (void)state;
  int64_t t0 = fdk_now_ns();
  fdk_run_result *res = run_sh("echo booting; echo ready; exec sleep 10", early);
  assert_true(fdk_now_ns() - t0 < 3000000000LL);
  assert_int_equal(fdk_run_result_early_exit(res), 1);
  assert_int_equal(fdk_run_result_timed_out(res), 0);
  assert_exit(res, FDK_EXIT_SIGNAL, SIGKILL);
  fdk_run_result_free(res);
}

static int keep_fd = -1;
static void allowlist(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_fds(o, FDK_RUN_FDS_ALLOWLIST, &keep_fd, 1), 0); }
static void close_from_3(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_fds(o, FDK_RUN_FDS_CLOSE_FROM_3, NULL, 0), 0); }

/* Descriptor policies: what the child sees open above 2. */
static void test_fd_policies(void **state) {
  (void)state;
  /* High numbers, so no descriptor the child itself opens can take them. */
  int null = open("/dev/null", O_RDONLY);
  int inheritable = fcntl(null, F_DUPFD, 100); /* no close-on-exec */
  int other = fcntl(null, F_DUPFD, 110);
  close(null);
  assert_true(inheritable >= 100 && other >= 110);
  keep_fd = other;
  char script[128];
  snprintf(script, sizeof script, "ls /proc/self/fd | sort -n | tr '\\n' ' '");
  fdk_run_result *res = run_sh(script, NULL);
  size_t len;
  const char *out = (const char *)fdk_run_result_stdout(res, &len);
  char want[16];
  snprintf(want, sizeof want, " %d ", inheritable);
  assert_non_null(memmem(out, len, want, strlen(want)));
  fdk_run_result_free(res);

  res = run_sh(script, close_from_3);
  out = (const char *)fdk_run_result_stdout(res, &len);
  assert_null(memmem(out, len, want, strlen(want)));
  fdk_run_result_free(res);

  fcntl(other, F_SETFD, FD_CLOEXEC);
  res = run_sh(script, allowlist);
  out = (const char *)fdk_run_result_stdout(res, &len);
  assert_null(memmem(out, len, want, strlen(want)));
  snprintf(want, sizeof want, " %d ", other);
  assert_non_null(memmem(out, len, want, strlen(want)));
  fdk_run_result_free(res);
  close(inheritable);
  close(other);
}

static void new_session(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_SESSION, 0), 0); }
static void new_group(fdk_run_opts *o) { assert_int_equal(fdk_run_opts_set_group(o, FDK_RUN_GROUP_NEW, 0), 0); }

static void test_groups(void **state) {
  (void)state;
  fdk_run_result *res = run_sh("ps -o pid=,pgid=,sid= -p $$", new_session);
  size_t len;
  const char *out = (const char *)fdk_run_result_stdout(res, &len);
  int pid, pgid, sid;
  assert_int_equal(sscanf(out, "%d %d %d", &pid, &pgid, &sid), 3);
  assert_int_equal(pid, pgid);
  assert_int_equal(pid, sid);
  fdk_run_result_free(res);
  res = run_sh("ps -o pid=,pgid=,sid= -p $$", new_group);
  out = (const char *)fdk_run_result_stdout(res, &len);
  assert_int_equal(sscanf(out, "%d %d %d", &pid, &pgid, &sid), 3);
  assert_int_equal(pid, pgid);
  assert_int_equal(sid, getsid(0));
  fdk_run_result_free(res);
}

/* Dozens of runs at once on one loop. */
typedef struct {
  int done;
  int result;
  fdk_run_result *res;
} outcome;

static void on_run(int result, fdk_run_result *res, void *data) {
  outcome *o = data;
  o->done = 1;
  o->result = result;
  o->res = res;
}

static void test_concurrent_runs(void **state) {
  (void)state;
  enum { N = 40 };
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  outcome o[N];
  memset(o, 0, sizeof o);
  for (int i = 0; i < N; i++) {
    char script[64];
    snprintf(script, sizeof script, "sleep 0.0%d; echo %d; exit %d", i % 10, i, i);
    const char *argv[] = {"/bin/sh", "-c", script, NULL};
    fdk_run_opts *opts;
    assert_int_equal(fdk_run_opts_new(&opts, argv), 0);
    fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE);
    assert_int_equal(fdk_run_async(loop, opts, on_run, &o[i], NULL), 0);
    fdk_run_opts_free(opts); /* a started run keeps its own copy */
  }
  int64_t deadline = fdk_now_ns() + 20000000000LL;
  int done = 0;
  while (done < N && fdk_now_ns() < deadline) {
    fdk_loop_run(loop, FDK_RUN_ONCE);
    done = 0;
    for (int i = 0; i < N; i++) done += o[i].done;
  }
  assert_int_equal(done, N);
  for (int i = 0; i < N; i++) {
    assert_int_equal(o[i].result, 0);
    char want[8];
    snprintf(want, sizeof want, "%d\n", i);
    assert_stdout(o[i].res, want);
    assert_exit(o[i].res, FDK_EXIT_CODE, i);
    fdk_run_result_free(o[i].res);
  }
  fdk_loop_free(loop);
}

/* Starts "echo up; exec sleep 10" on loop, capturing stdout; its op. */
static fdk_op *start_sleeper(fdk_loop *loop, outcome *o) {
  const char *argv[] = {"/bin/sh", "-c", "echo up; exec sleep 10", NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, argv), 0);
  fdk_run_opts_set_stdout(opts, FDK_RUN_CAPTURE);
  fdk_op *op;
  assert_int_equal(fdk_run_async(loop, opts, on_run, o, &op), 0);
  fdk_run_opts_free(opts);
  return op;
}

/* Waits for the sleeper's result: killed by sig after printing "up". */
static void assert_sleeper_killed(fdk_loop *loop, outcome *o, int sig) {
  fdkt_run_until(loop, &o->done, 5000);
  assert_int_equal(o->result, 0);
  assert_exit(o->res, FDK_EXIT_SIGNAL, sig);
  assert_stdout(o->res, "up\n");
  fdk_run_result_free(o->res);
}

static void on_sleep(int64_t result, void *data) {
  (void)result;
  *(int *)data = 1;
}

/* fdk_run_signal reaches the running child (here SIGINT, which it dies of); other ops and
 * bad numbers are refused. */
static void test_signal_a_run(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  outcome o = {0};
  fdk_op *op = start_sleeper(loop, &o);
  int slept = 0;
  fdk_op *sleep_op;
  assert_int_equal(fdk_sleep_until(loop, fdk_now_ns() + 100000000, on_sleep, &slept, &sleep_op), 0);
  assert_int_equal(fdk_run_signal(sleep_op, SIGINT), -EINVAL);
  assert_int_equal(fdk_run_signal(NULL, SIGINT), -EINVAL);
  assert_int_equal(fdk_run_signal(op, -1), -EINVAL);
  fdkt_run_until(loop, &slept, 5000);
  assert_int_equal(o.done, 0);
  assert_int_equal(fdk_run_signal(op, 0), 0);
  assert_int_equal(fdk_run_signal(op, SIGINT), 0);
  assert_sleeper_killed(loop, &o, SIGINT);
  fdk_loop_free(loop);
}

/* Cancelling an async run applies the cancel policy and still delivers the result. */
static void test_cancel_async(void **state) {
  (void)state;
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  outcome o = {0};
  fdk_op *op = start_sleeper(loop, &o);
  int64_t deadline = fdk_now_ns() + 200000000;
  while (fdk_now_ns() < deadline) fdk_loop_run(loop, FDK_RUN_NOWAIT);
  assert_int_equal(o.done, 0);
  assert_int_equal(fdk_op_cancel(op), 0);
  assert_sleeper_killed(loop, &o, SIGKILL);
  fdk_loop_free(loop);
}

/* A host that reaps every child (a thread in waitpid(-1), or SIGCHLD ignored) takes the
 * run's status first: the run recovers it through the pidfd where the kernel keeps it,
 * and otherwise fails with -ECHILD; it never reports a success. */
static atomic_int reaper_stop;

static void *host_reaper(void *arg) {
  (void)arg;
  while (!atomic_load(&reaper_stop))
    if (waitpid(-1, NULL, 0) < 0) usleep(100);
  return NULL;
}

static void check_lost_status_run(void) {
  const char *argv[] = {"/bin/sh", "-c", "exit 42", NULL};
  fdk_run_opts *opts;
  assert_int_equal(fdk_run_opts_new(&opts, argv), 0);
  fdk_run_result *res = NULL;
  int r = fdk_run(&res, opts);
  fdk_run_opts_free(opts);
  if (r == 0) {
    assert_exit(res, FDK_EXIT_CODE, 42);
    fdk_run_result_free(res);
  } else {
    assert_int_equal(r, -ECHILD);
    assert_non_null(strstr(fdk_last_error(), "lost"));
  }
}

static void test_status_reaped_by_host(void **state) {
  (void)state;
  pthread_t reaper;
  atomic_store(&reaper_stop, 0);
  assert_int_equal(pthread_create(&reaper, NULL, host_reaper, NULL), 0);
  for (int i = 0; i < 5; i++) check_lost_status_run();
  atomic_store(&reaper_stop, 1);
  /* Wakes the reaper's waitpid. */
  pid_t last = fork();
  if (last == 0) _exit(0);
  pthread_join(reaper, NULL);
  waitpid(last, NULL, 0);
  struct sigaction ign = {0}, old;
  ign.sa_handler = SIG_IGN;
  sigaction(SIGCHLD, &ign, &old);
  for (int i = 0; i < 5; i++) check_lost_status_run();
  sigaction(SIGCHLD, &old, NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      fdkt_test(test_capture_and_exit_codes),
      fdkt_test(test_killed_by_signal),
      fdkt_test(test_merged_streams),
      fdkt_test(test_discard),
      fdkt_test(test_env_and_cwd),
      fdkt_test(test_cwd_fd_and_dir),
      fdkt_test(test_start_failures),
      fdkt_test(test_bad_options),
      fdkt_test(test_stdin_large),
      fdkt_test(test_both_streams_large),
      fdkt_test(test_max_output),
      fdkt_test(test_stop_at_max_output),
      fdkt_test(test_stop_signal),
      fdkt_test(test_timeouts),
      fdkt_test(test_every_option_with_a_timeout),
      fdkt_test(test_grandchild_holds_pipes),
      fdkt_test(test_group_gone_ends_the_grace),
      fdkt_test(test_early_exit),
      fdkt_test(test_fd_policies),
      fdkt_test(test_groups),
      fdkt_test(test_concurrent_runs),
      fdkt_test(test_cancel_async),
      fdkt_test(test_signal_a_run),
      fdkt_test(test_status_reaped_by_host),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
