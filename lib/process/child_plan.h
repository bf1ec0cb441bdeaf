/* SPDX-License-Identifier: MIT */
// What the parent lays out for the child of a spawn, and the child's entry point. The
// child only reads this data; see child.cpp for the rules its code follows.
#pragma once

#include <cstddef>
#include <cstdint>

namespace fdk::child {

enum class Op : uint8_t {
  execve,
  chdir,
  fchdir,
  inherit,  // the whole inherit_fd set, at the position of the first mapping
  setsid,
  setpgid,
  setuid,
  setgid,
  setgroups,
  umask,
  rlimit,
  pdeathsig,
  no_new_privs,
  signal_default,
  signal_ignore,
  close_other_fds,
  user,
  login_tty,
};

struct Action {
  Op op;
  int32_t num = 0;  // descriptor (fchdir: the handle's), pgid, id, mask, signal, resource
  uint64_t a = 0, b = 0;        // rlimit soft and hard; setgroups count
  const void *ptr = nullptr;    // path, gid array, user function
  void *arg = nullptr;          // user argument
  const char *const *argv = nullptr;
  const char *const *envp = nullptr;  // execve: as given (the plan has the one to use)
};

// One step of applying the inherit set, computed by the parent at spawn.
struct FdStep {
  enum Kind : uint8_t { dup, save, clear_cloexec, set_blocking, set_nonblocking } kind;
  int32_t from;   // dup: source (kTemp for the temporary); save: descriptor to keep aside
  int32_t to;     // dup, clear_cloexec, set_*: destination
  int32_t pair;   // index of the mapping, for the error report
};
inline constexpr int32_t kTemp = -2;

// Where a failing action is reported: the action's index, its errno and, for the inherit
// set, the index of the mapping. Through the fork backend's pipe a user action is also
// announced before it runs (err 0, pair kStarted) and after it returned (pair kReturned),
// so that a child dying inside it is told from one that exec'd.
struct Report {
  int32_t index;
  int32_t err;
  int32_t pair;
};
inline constexpr int32_t kStarted = -2;
inline constexpr int32_t kReturned = -3;

struct Plan {
  const Action *actions;
  size_t count;
  const char *exec_path;          // the exec action's file (execvp: as found at spawn)
  const char *const *exec_envp;   // its environment (the caller's at spawn if none given)
  const FdStep *steps;
  size_t nsteps;
  const int32_t *dsts;  // inherit destinations, sorted: kept by close_other_fds
  size_t ndsts;
  int32_t temp_min;     // the temporary descriptor goes at or above this number
  int32_t parent_pid;   // for the pdeathsig race check
  int32_t report_fd;    // fork backend: write end of the report pipe; -1 otherwise
  bool handlers_cleared;  // clone3 already reset every handler
  volatile Report report;  // shared-memory report (vfork-style clone)
  volatile int32_t running_user;  // the user action running now, else -1 (vfork-style clone)
};

// Stack a user action may use (documented in fdkit/process.h); below the child's stack a
// guard region at least this large makes a deeper use crash instead of writing the
// parent's memory.
inline constexpr size_t kUserStackBudget = 32 * 1024;

#if defined(__x86_64__)
#define FDK_HAVE_CLONE_TRAMPOLINES 1
// clone3 and clone with a new stack (child.cpp): the child starts on that stack, calls
// fn(arg) and exits with its result; the parent gets the kernel's answer (pid or -errno).
// Not glibc's clone(): a sanitizer intercepts that one and runs its fork bookkeeping in
// the child, which here shares the parent's memory and so corrupts the parent's state.
extern "C" long fdk_clone3_run(void *args, size_t size, int (*fn)(void *), void *arg);
extern "C" long fdk_clone_run(unsigned long flags, void *stack_top, int *pidfd, int (*fn)(void *), void *arg);
#endif

// The child's entry point: runs the plan's actions and execs; on failure reports and
// exits with status 127. Never returns.
int run(void *plan);

}  // namespace fdk::child
