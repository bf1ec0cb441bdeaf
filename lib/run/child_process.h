/* SPDX-License-Identifier: MIT */
// What a run needs from the process area: spawn the described child with its standard
// streams mapped, signal it or its group, collect it.
#pragma once

#include "run/run.h"

namespace fdk {

struct ChildSpec {
  const fdk_run_opts *opts;
  // Descriptors the child gets as 0, 1 and 2; -1 leaves the caller's in place.
  int stdio[3];
};

// Spawns the child through fdkit's public spawn API; on_exit runs on the loop once it
// exited. 0 or a negative errno with a detail (the child was not started).
int child_spawn(fdk_loop *loop, const ChildSpec &spec, fdk_exit_cb on_exit, void *ctx, fdk_process **out);

// Signals the child, or its whole group when the run created one.
int child_signal(fdk_process *child, const fdk_run_opts &opts, int sig);

// Whether a process of the group the (exited, unreaped) child leads is still alive: 1, 0
// when every member has exited (zombies count as gone), -1 when it cannot be told.
int child_group_alive(fdk_process *child);

// Reaps an exited child into res (pid, status, rusage) and frees it. -ECHILD with a
// detail when its status is lost (somebody else reaped it and the kernel kept none).
int child_collect(fdk_process *child, fdk_run_result *res);

}  // namespace fdk
