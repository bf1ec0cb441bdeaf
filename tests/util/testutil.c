/* SPDX-License-Identifier: MIT */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

static int baseline_fds = -1;

int fdkt_count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1;
}

static void list_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = 0;
    print_message("  fd %s -> %s\n", e->d_name, target);
  }
  if (d) closedir(d);
}

int fdkt_setup(void **state) {
  (void)state;
  if (baseline_fds < 0) {
    fdk_loop *loop = NULL;
    if (fdk_loop_new(&loop) == 0) fdk_loop_free(loop);
  }
  baseline_fds = fdkt_count_fds();
  return 0;
}

int fdkt_teardown(void **state) {
  (void)state;
  int now = fdkt_count_fds();
  if (now != baseline_fds) {
    print_error("descriptor leak: %d open before the test, %d after\n", baseline_fds, now);
    list_fds();
    return -1;
  }
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0) {
    print_error("unreaped child %d left by the test\n", (int)info.si_pid);
    return -1;
  }
  return 0;
}

void fdkt_run_until(fdk_loop *loop, const int *flag, int timeout_ms) {
  int64_t deadline = fdk_now_ns() + (int64_t)timeout_ms * 1000000;
  while (!*flag) {
    if (fdk_now_ns() > deadline) fail_msg("loop did not complete within %d ms", timeout_ms);
    assert_true(fdk_loop_run(loop, FDK_RUN_ONCE) >= 0);
  }
}

void fdkt_record(int64_t result, void *data) {
  fdkt_result *r = data;
  r->calls++;
  r->result = result;
  snprintf(r->detail, sizeof r->detail, "%s", result < 0 ? fdk_last_error() : "");
}

static void *run_later(void *data) {
  fdkt_later *later = data;
  usleep(later->delay_us);
  later->result = later->fn(later->arg);
  return NULL;
}

void fdkt_later_start(fdkt_later *later, unsigned delay_us, int (*fn)(void *), void *arg) {
  *later = (fdkt_later){.delay_us = delay_us, .fn = fn, .arg = arg};
  assert_int_equal(pthread_create(&later->thread, NULL, run_later, later), 0);
}

int fdkt_later_join(fdkt_later *later) {
  assert_int_equal(pthread_join(later->thread, NULL), 0);
  return later->result;
}

fdk_loop *fdkt_loop_new(void) {
  fdk_loop *loop;
  assert_int_equal(fdk_loop_new(&loop), 0);
  return loop;
}

int fdkt_loop_setup(void **state) {
  fdkt_setup(state);
  *state = fdkt_loop_new();
  return 0;
}

int fdkt_loop_teardown(void **state) {
  assert_int_equal(fdk_loop_free(*state), 0);
  return fdkt_teardown(state);
}

void fdkt_pipe_open(fdkt_pipe *p) {
  memset(p, 0, sizeof *p);
  p->loop = fdkt_loop_new();
  assert_int_equal(fdk_pipe(&p->r, &p->w), 0);
}

void fdkt_pipe_start_read(fdkt_pipe *p) {
  assert_int_equal(fdk_read_async(p->loop, p->r, &p->c, 1, fdkt_record, &p->res, NULL), 0);
}

void fdkt_pipe_close(fdkt_pipe *p) {
  fdk_fd_unref(p->r);
  fdk_fd_unref(p->w);
  assert_int_equal(fdk_loop_free(p->loop), 0);
}

int fdkt_pipe_setup(void **state) {
  fdkt_setup(state);
  fdkt_pipe *p = malloc(sizeof *p);
  assert_non_null(p);
  fdkt_pipe_open(p);
  *state = p;
  return 0;
}

int fdkt_pipe_reading_setup(void **state) {
  fdkt_pipe_setup(state);
  fdkt_pipe_start_read(*state);
  return 0;
}

int fdkt_pipe_teardown(void **state) {
  fdkt_pipe_close(*state);
  free(*state);
  return fdkt_teardown(state);
}

static fdkt_fs_result *fs_note(void *data, int64_t result) {
  fdkt_fs_result *r = data;
  r->calls++;
  r->result = result;
  snprintf(r->detail, sizeof r->detail, "%s", result < 0 ? fdk_last_error() : "");
  return r;
}
void fdkt_fs_on_result(int64_t result, void *data) { fs_note(data, result); }
void fdkt_fs_on_open(int result, fdk_fd *fd, void *data) { fs_note(data, result)->fd = fd; }
void fdkt_fs_on_dir(int result, fdk_dir *dir, void *data) { fs_note(data, result)->dir = dir; }
void fdkt_fs_on_text(ssize_t result, char *text, void *data) { fs_note(data, result)->text = text; }
void fdkt_fs_on_list(int result, fdk_dirents *list, void *data) { fs_note(data, result)->list = list; }

void fdkt_in_child(int (*fn)(void *), void *arg, int private_mounts) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (private_mounts && (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
      _exit(77);
    _exit(fn(arg));
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) == 77) skip();
  assert_int_equal(WEXITSTATUS(status), 0);
}
