// SPDX-License-Identifier: MIT
#include <fcntl.h>

#include "core/error.h"
#include "fd/fd.h"
#include "run/run.h"

fdk_run_opts::fdk_run_opts(const fdk_run_opts &o)
    : argv(o.argv),
      env(o.env),
      cwd(o.cwd),
      cwd_fd(o.cwd_fd ? fdk::fd_ref(o.cwd_fd) : nullptr),
      stdin_bytes(o.stdin_bytes),
      stdin_fd(o.stdin_fd ? fdk::fd_ref(o.stdin_fd) : nullptr),
      stdout_mode(o.stdout_mode),
      stderr_mode(o.stderr_mode),
      max_output(o.max_output),
      timeout_ms(o.timeout_ms),
      cancel(o.cancel),
      kill_grace_ms(o.kill_grace_ms),
      stop_signal(o.stop_signal),
      stop_at_max_output(o.stop_at_max_output),
      group(o.group),
      leader(o.leader),
      fds(o.fds),
      keep(o.keep),
      early_exit(o.early_exit),
      early_exit_arg(o.early_exit_arg),
      backend(o.backend) {}

fdk_run_opts::~fdk_run_opts() {
  fdk::fd_unref(cwd_fd);
  fdk::fd_unref(stdin_fd);
}

bool CaptureBuffer::reserve(size_t n) {
  if (cap - len >= n) return true;
  size_t want = cap ? cap : 64 * 1024;
  while (want - len < n) want *= 2;
  char *grown = static_cast<char *>(realloc(data, want));
  if (!grown) return false;
  data = grown;
  cap = want;
  return true;
}

namespace fdk {

int run_validate(const fdk_run_opts &opts) {
  for (int fd : opts.keep)
    if (fcntl(fd, F_GETFD) < 0) return fail(-EBADF, "run: allow-listed descriptor %d is not open", fd);
  if (opts.group == FDK_RUN_GROUP_JOIN && opts.leader <= 0)
    return fail(-EINVAL, "run: joining a process group needs a leader");
  return 0;
}

}  // namespace fdk
