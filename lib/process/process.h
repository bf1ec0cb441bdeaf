/* SPDX-License-Identifier: MIT */
// Process area internals: the action list, the spawn backends and the process handle.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fd/fd.h"
#include "fdkit/process.h"
#include "process/child_plan.h"

// Read-only once the exec action completed it: any number of threads may spawn from one
// list at once (each spawn's scratch lives on its own stack).
struct fdk_actions {
  struct Pair {
    int32_t dst;
    int32_t src;          // raw number (a handle's number, read when the mapping is added)
    fdk_fd *src_fd;       // pinned handle, or null for a raw source
    int32_t mode;         // FDK_INHERIT_*
  };

  std::vector<fdk::child::Action> actions;
  std::vector<fdk_fd *> action_fds;      // per action: the fchdir handle, else null
  std::deque<std::string> strings;       // stable storage for every copied string
  std::deque<std::vector<const char *>> arrays;
  std::deque<std::vector<uint32_t>> id_arrays;
  std::vector<std::string> names;        // per action: what fdk_last_error() calls it
  std::vector<std::string> paths;        // per action: its path or name argument, else ""

  std::vector<Pair> pairs;
  size_t inherit_index = SIZE_MAX;       // the action that applies the set
  bool has_session_change = false;       // setsid, setpgid or login_tty (which exclude one another)
  bool has_exec = false;
  bool exec_search = false;              // execvp: look the file up at spawn
  const char *exec_file = nullptr;       // execvp: the name as given
  const char *const *exec_envp = nullptr;  // as given (null: the environment at spawn)

  // The inherit plan, made when the exec action completes the list: descriptor numbers
  // are known then, and nothing can be added after it.
  std::vector<fdk::child::FdStep> steps;
  std::vector<int32_t> dsts;             // destinations, sorted
  int32_t temp_min = 3;                  // above every number the mappings name
};

struct fdk_process {
  enum class State : uint8_t { running, exited, reaped };

  std::atomic<int> refs{1};  // the caller's + each internal holder's (watch, exit op, list)
  pid_t pid = -1;
  int pidfd = -1;  // owned; fixed at spawn (-1 where the kernel gives none)
  fdk_exit_cb exit_cb = nullptr;
  void *data = nullptr;

  std::mutex mu;  // everything below but the loop-thread-only fields
  std::condition_variable callback_done;
  fdk_loop *loop = nullptr;  // null once the loop was freed
  State state = State::running;
  bool detached = false;
  bool freed = false;
  bool in_callback = false;  // the exit callback runs (on callback_thread)
  std::thread::id callback_thread;
  int reap_err = 0;  // -ECHILD when somebody else reaped the child and the status is lost
  fdk_exit_status status{};

  // Loop thread only.
  fdk_fd *watch = nullptr;  // pidfd mode: a borrowing handle on pidfd, watched by the loop
  struct PidfdWaiter : fdk::Waiter {
    fdk_process *process;
  } waiter;
  fdk_op *exit_op = nullptr;  // pending exit callback (or, for a freed detached child, the
                              // operation that keeps the loop running until it is reaped)
};

namespace fdk {

// What a spawn's parent learned: the pid and, if asked and the kernel gave one, the pidfd.
struct Launch {
  pid_t pid = -1;
  int pidfd = -1;
};

// Lays out the list for one spawn, launches the child with a backend and returns its pid
// and, when want_pidfd is set and the backend can (clone with CLONE_PIDFD), its pidfd; a
// failed action is reported and its child reaped.
int launch(const fdk_actions *a, unsigned backend, bool want_pidfd, Launch *out);

// Process handles (process.cpp).
int process_start(fdk_process **out, fdk_loop *loop, const fdk_actions *actions, unsigned flags, fdk_exit_cb cb, void *data);
int process_signal(fdk_process *p, int sig, bool group);
int process_wait(fdk_process *p, fdk_exit_status *status, bool block);
int process_detach(fdk_process *p);
int process_pidfd(fdk_process *p);
void process_free(fdk_process *p);
int process_reap_detached();

}  // namespace fdk
