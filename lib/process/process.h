// Process area internals: the action list, the spawn backends and the process handle.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fd/fd.h"
#include "fdkit/process.h"
#include "process/child.h"

struct fdk_actions {
  struct Pair {
    int32_t dst;
    int32_t src;          // raw number (resolved from src_fd at spawn)
    fdk_fd *src_fd;       // referenced handle, or null for a raw source
    int32_t mode;         // FDK_INHERIT_*
  };

  std::vector<fdk::child::Action> actions;
  std::vector<fdk_fd *> action_fds;      // per action: the fchdir handle, else null
  std::deque<std::string> strings;       // stable storage for every copied string
  std::deque<std::vector<const char *>> arrays;
  std::deque<std::vector<uint32_t>> id_arrays;
  std::vector<std::string> names;        // per action: what fdk_last_error() calls it

  std::vector<Pair> pairs;
  size_t inherit_index = SIZE_MAX;       // the action that applies the set
  bool has_exec = false;
  bool exec_search = false;              // execvp: look the file up at spawn
  const char *exec_file = nullptr;       // execvp: the name as given
  const char *const *exec_envp = nullptr;  // as given (null: the environment at spawn)

  // Scratch written at each spawn; capacity reserved when the list grows, so a spawn
  // allocates nothing.
  std::vector<fdk::child::FdStep> steps;
  std::vector<int32_t> dsts;
  std::vector<uint8_t> done;
  std::vector<fdk_fd *> in_use;          // handles used for the length of a spawn
  std::unique_ptr<char[]> resolved;      // execvp's path
};

struct fdk_process {
  enum class State : uint8_t { running, exited, reaped };

  std::atomic<int> refs{1};  // the caller's + each internal holder's (watch, exit op, list)
  pid_t pid = -1;
  int pidfd = -1;  // from the spawn when a loop watches the child, else opened on demand
  fdk_loop *loop = nullptr;
  fdk_exit_cb exit_cb = nullptr;
  void *data = nullptr;

  std::mutex mu;  // state, status, reap
  State state = State::running;
  bool detached = false;
  bool freed = false;
  int reap_err = 0;  // -ECHILD when somebody else reaped the child
  fdk_exit_status status{};

  // Loop thread only.
  fdk_fd *pidfd_handle = nullptr;  // pidfd mode with a loop: the watched handle
  fdk::Waiter waiter;
  fdk_op *exit_op = nullptr;       // pending exit callback
};

namespace fdk {

// True when exits are watched through pidfds (not disabled by FDKIT_PIDFD=0, and the
// kernel gives them).
bool pidfd_mode();

// What a spawn's parent learned: the pid, the pidfd (-1 without) or the failure.
struct Launch {
  pid_t pid = -1;
  int pidfd = -1;  // from the spawn when a loop watches the child, else opened on demand
};

// Lays out the list for one spawn, launches the child with a backend and returns its pid
// (and a pidfd if asked and available); a failed action is reported and reaped.
int launch(fdk_actions *a, unsigned backend, bool want_pidfd, Launch *out);

// pidfd_open(pid); -ENOSYS also switches pidfd mode off.
int open_pidfd(pid_t pid);

// Describes action i (and mapping pair for inherit) for error texts.
std::string describe_action(const fdk_actions *a, size_t i, int32_t pair);

// Process handles (process.cpp).
int process_start(fdk_process **out, fdk_loop *loop, fdk_actions *actions, unsigned flags, fdk_exit_cb cb, void *data);
int process_signal(fdk_process *p, int sig, bool group);
int process_wait(fdk_process *p, fdk_exit_status *status, bool block);
int process_detach(fdk_process *p);
int process_pidfd(fdk_process *p);
void process_free(fdk_process *p);

}  // namespace fdk
