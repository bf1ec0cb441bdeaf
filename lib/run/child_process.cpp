// SPDX-License-Identifier: MIT
#include "run/child_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "core/error.h"

namespace fdk {
namespace {

struct ActionsDeleter {
  void operator()(fdk_actions *a) const { fdk_actions_free(a); }
};

// A NULL-terminated view of strings for the C API.
std::vector<const char *> c_strings(const std::vector<std::string> &v) {
  std::vector<const char *> out;
  out.reserve(v.size() + 1);
  for (const auto &s : v) out.push_back(s.c_str());
  out.push_back(nullptr);
  return out;
}

// Adds the actions a run's options ask for, in the order the child needs them: the
// group first, the directory before the descriptor mappings (fchdir uses the parent's
// number), then the mappings, the descriptor policy and the exec.
int build_actions(fdk_actions *a, const ChildSpec &spec) {
  const fdk_run_opts &o = *spec.opts;
  int r = 0;
  if (o.group == FDK_RUN_GROUP_SESSION) r = fdk_actions_setsid(a);
  else if (o.group == FDK_RUN_GROUP_NEW) r = fdk_actions_setpgid(a, 0);
  else if (o.group == FDK_RUN_GROUP_JOIN) r = fdk_actions_setpgid(a, o.leader);
  if (r == 0 && o.cwd_fd) r = fdk_actions_fchdir(a, o.cwd_fd);
  else if (r == 0 && !o.cwd.empty()) r = fdk_actions_chdir(a, o.cwd.c_str());
  for (int i = 0; r == 0 && i < 3; ++i)
    if (spec.stdio[i] >= 0) r = fdk_actions_inherit_raw(a, i, spec.stdio[i], FDK_INHERIT_PRESERVE);
  if (o.fds == FDK_RUN_FDS_ALLOWLIST)
    for (size_t i = 0; r == 0 && i < o.keep.size(); ++i)
      r = fdk_actions_inherit_raw(a, o.keep[i], o.keep[i], FDK_INHERIT_PRESERVE);
  if (r == 0 && o.fds != FDK_RUN_FDS_CLOEXEC_ONLY) r = fdk_actions_close_other_fds(a);
  if (r == 0) {
    std::vector<const char *> argv = c_strings(o.argv);
    std::vector<const char *> env;
    if (o.env) env = c_strings(*o.env);
    r = fdk_actions_execvp(a, argv[0], argv.data(), o.env ? env.data() : nullptr);
  }
  return r;
}

}  // namespace

int child_spawn(fdk_loop *loop, const ChildSpec &spec, fdk_exit_cb on_exit, void *ctx, fdk_process **out) {
  fdk_actions *raw_actions;
  if (int r = fdk_actions_new(&raw_actions); r < 0) return r;
  std::unique_ptr<fdk_actions, ActionsDeleter> actions(raw_actions);
  if (int r = build_actions(actions.get(), spec); r < 0) return r;
  return fdk_spawn(out, loop, actions.get(), static_cast<unsigned>(spec.opts->backend), on_exit, ctx);
}

int child_signal(fdk_process *child, const fdk_run_opts &opts, int sig) {
  bool own_group = opts.group == FDK_RUN_GROUP_NEW || opts.group == FDK_RUN_GROUP_SESSION;
  return own_group ? fdk_process_signal_group(child, sig) : fdk_process_signal(child, sig);
}

int child_group_alive(fdk_process *child) {
  // Linux keeps no list of a group's members: read each process's state and group from
  // /proc/PID/stat, where the fields after the command name's closing ')' are
  // "STATE PPID PGRP".
  int pgid = fdk_process_pid(child);
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  int alive = 0;
  while (struct dirent *e = readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    char path[300], stat[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;  // it exited meanwhile
    ssize_t n = read(fd, stat, sizeof stat - 1);
    close(fd);
    if (n <= 0) continue;
    stat[n] = '\0';
    const char *fields = strrchr(stat, ')');
    char state;
    int ppid, pgrp;
    if (!fields || sscanf(fields + 1, " %c %d %d", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') {
      alive = 1;
      break;
    }
  }
  closedir(proc);
  return alive;
}

int child_collect(fdk_process *child, fdk_run_result *res) {
  fdk_exit_status status{};
  res->pid = fdk_process_pid(child);
  // The exit callback said it exited; the wait only reaps. A lost status is the run's
  // failure, never a success.
  int r = fdk_process_wait(child, &status);
  std::string detail = r < 0 ? fdk_last_error() : "";
  res->status_kind = status.kind;
  res->status_value = status.value;
  res->usage = status.usage;
  fdk_process_free(child);
  if (r == -ECHILD)
    return fail(r, "run: the exit status of process %d is lost: somebody else reaped it (SIGCHLD ignored, or "
                "waitpid(-1) in the host)", static_cast<int>(res->pid));
  if (r < 0) return fail(r, "%s", detail.c_str());
  return 0;
}

}  // namespace fdk
