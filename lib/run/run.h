/* SPDX-License-Identifier: MIT */
// Run internals: options, results and the engine that drives one run on a loop.
#pragma once

#include <csignal>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "fdkit/run.h"

struct fdk_run_opts {
  fdk_run_opts() = default;
  fdk_run_opts(const fdk_run_opts &other);
  fdk_run_opts &operator=(const fdk_run_opts &) = delete;
  ~fdk_run_opts();

  std::vector<std::string> argv;
  std::optional<std::vector<std::string>> env;  // unset: the caller's environment
  std::string cwd;                              // empty: unchanged
  fdk_fd *cwd_fd = nullptr;
  std::optional<std::string> stdin_bytes;
  fdk_fd *stdin_fd = nullptr;
  int stdout_mode = FDK_RUN_INHERIT;
  int stderr_mode = FDK_RUN_INHERIT;
  int64_t max_output = -1;
  int64_t timeout_ms = 0;
  int cancel = FDK_RUN_CANCEL_KILL;
  int64_t kill_grace_ms = 1000;
  int stop_signal = SIGTERM;
  bool stop_at_max_output = false;
  int group = FDK_RUN_GROUP_INHERIT;
  int32_t leader = 0;
  int fds = FDK_RUN_FDS_CLOEXEC_ONLY;
  std::vector<int> keep;
  fdk_run_early_exit_fn early_exit = nullptr;
  void *early_exit_arg = nullptr;
  int backend = FDK_SPAWN_BACKEND_AUTO;
};

// Captured bytes, read straight into place: the buffer grows by doubling and a read goes
// to its free end, so capturing costs no copy beyond the kernel's.
struct CaptureBuffer {
  CaptureBuffer() = default;
  CaptureBuffer(const CaptureBuffer &) = delete;
  CaptureBuffer &operator=(const CaptureBuffer &) = delete;
  ~CaptureBuffer() { free(data); }
  // Makes room for at least n more bytes; false when out of memory.
  bool reserve(size_t n);

  char *data = nullptr;
  size_t len = 0, cap = 0;
};

struct fdk_run_result {
  int status_kind = 0;
  int status_value = 0;
  fdk_rusage usage{};
  CaptureBuffer out, err;
  bool out_captured = false, err_captured = false;
  bool timed_out = false, truncated = false, early_exit = false, pipes_abandoned = false;
  int32_t pid = 0;
  int64_t duration_ns = 0;
};

namespace fdk {

// Checks options that can only be judged when a run starts (allow-listed descriptors
// open, the executable found). 0 or a negative errno with a detail.
int run_validate(const fdk_run_opts &opts);

int run_async(fdk_loop *loop, const fdk_run_opts &opts, fdk_run_cb cb, void *data, fdk_op **op);
// Sends sig to the child (or the group the run created) of a pending run op; -EINVAL when
// op is not a run, -ESRCH once the child exited.
int run_signal(fdk_op *op, int sig);
int run_sync(fdk_run_result **out, const fdk_run_opts &opts);

}  // namespace fdk
