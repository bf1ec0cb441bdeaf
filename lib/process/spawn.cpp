// SPDX-License-Identifier: MIT
// The parent side of a spawn: laying the list out for the child, the three backends,
// and turning a child's report into an error.
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/env.h"
#include "core/error.h"
#include "process/actions.h"
#include "process/process.h"

extern char **environ;

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

namespace fdk {
namespace {

using child::FdStep;
using child::Op;

std::atomic<int> g_clone3{-1};      // -1 undecided, 0 plain clone, 1 clone3

// clone3 (with CLONE_CLEAR_SIGHAND, which resets every handler in the kernel instead of
// 64 calls in the child) unless FDKIT_CLONE3=0, the kernel lacks it, or a seccomp filter
// answers ENOSYS.
bool use_clone3() {
#if defined(FDK_HAVE_CLONE_TRAMPOLINES)
  int mode = g_clone3.load(std::memory_order_relaxed);
  if (mode < 0) {
    mode = env_choice("FDKIT_CLONE3", {"0", "1"}) == 0 ? 0 : 1;
    g_clone3.store(mode, std::memory_order_relaxed);
  }
  return mode == 1;
#else
  return false;
#endif
}

// The kernel's struct clone_args, first version (64 bytes).
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

// Cached child stacks: one per concurrent spawn, kept for the next one.
constexpr size_t kStackSize = 64 * 1024;
// Twice the user actions' budget: a frame that overflows the stack lands in it rather
// than beyond it. PROT_NONE, so it costs address space only.
constexpr size_t kGuard = 2 * child::kUserStackBudget;
static_assert(child::kUserStackBudget <= kStackSize / 2, "the child's own frames need room beside a user action");
constexpr int kCachedStacks = 8;

struct StackCache {
  std::mutex mu;
  void *free[kCachedStacks] = {};
  int count = 0;
  ~StackCache() {
    for (int i = 0; i < count; ++i) munmap(free[i], kStackSize + kGuard);
  }
};
StackCache g_stacks;

void *take_stack() {
  {
    std::lock_guard<std::mutex> lock(g_stacks.mu);
    if (g_stacks.count > 0) return g_stacks.free[--g_stacks.count];
  }
  void *mem = mmap(nullptr, kStackSize + kGuard, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  // The stack grows down onto the guard: without it an overflow would write parent memory.
  if (mprotect(mem, kGuard, PROT_NONE) < 0) {
    munmap(mem, kStackSize + kGuard);
    return nullptr;
  }
  return mem;
}

void give_stack(void *mem) {
  {
    std::lock_guard<std::mutex> lock(g_stacks.mu);
    if (g_stacks.count < kCachedStacks) {
      g_stacks.free[g_stacks.count++] = mem;
      return;
    }
  }
  munmap(mem, kStackSize + kGuard);
}

// Every signal blocked in the calling thread, glibc's internal ones included (the raw
// call, since pthread_sigmask leaves those open): no handler may run in a child that
// shares the parent's memory.
struct BlockAllSignals {
  uint64_t old = 0;
  BlockAllSignals() {
    uint64_t all = ~uint64_t{0};
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
  }
  ~BlockAllSignals() { syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof old); }
};

// PATH from the envp given, else the caller's environment, else the default.
const char *search_path(const char *const *envp) {
  if (envp) {
    for (; *envp; ++envp)
      if (strncmp(*envp, "PATH=", 5) == 0) return *envp + 5;
  }
  const char *p = getenv("PATH");
  return p ? p : "/bin:/usr/bin";
}

// execvp's look-up, in the parent: the first executable regular file along PATH, into
// out (PATH_MAX bytes).
int resolve_exec(const fdk_actions *a, char *out) {
  const char *file = a->exec_file;
  if (!*file) return fail(-ENOENT, "spawn: execvp: empty file name");
  size_t flen = strlen(file);
  bool saw_eacces = false;
  const char *dir = search_path(a->exec_envp);
  for (;;) {
    const char *end = strchrnul(dir, ':');
    size_t dlen = static_cast<size_t>(end - dir);
    if (dlen + 1 + flen < PATH_MAX) {
      // An empty entry means the current directory.
      if (dlen == 0) out[0] = '.', dlen = 1;
      else memcpy(out, dir, dlen);
      out[dlen] = '/';
      memcpy(out + dlen + 1, file, flen + 1);
      struct stat st;
      if (stat(out, &st) == 0 && S_ISREG(st.st_mode)) {
        if (faccessat(AT_FDCWD, out, X_OK, AT_EACCESS) == 0) return 0;
        if (errno == EACCES) saw_eacces = true;
      }
    }
    if (!*end) break;
    dir = end + 1;
  }
  if (saw_eacces) return fail(-EACCES, "spawn: execvp: not executable along PATH: '%s'", file);
  return fail(-ENOENT, "spawn: execvp: not found in PATH: '%s'", file);
}

// Reaps a child that failed before exec (it exits at once with 127).
void reap_failed(Launch *l) {
  int status;
  while (waitpid(l->pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (l->pidfd >= 0) close(l->pidfd);
  l->pid = -1;
  l->pidfd = -1;
}

// The list laid out for one spawn, on the spawning thread's stack: fd handles in use
// until it ends.
class Prepared {
 public:
  explicit Prepared(const fdk_actions *a) : a_(a) {}
  Prepared(const Prepared &) = delete;
  Prepared &operator=(const Prepared &) = delete;
  ~Prepared() {
    // The handles were used in this order; the first used_ of them are in use.
    size_t left = used_;
    for (size_t i = 0; i < a_->action_fds.size() && left > 0; ++i)
      if (fdk_fd *fd = a_->action_fds[i]) fd_unuse(fd), --left;
    for (size_t i = 0; i < a_->pairs.size() && left > 0; ++i)
      if (fdk_fd *fd = a_->pairs[i].src_fd) fd_unuse(fd), --left;
  }

  int prepare() {
    if (!a_->has_exec) return fail(-EINVAL, "spawn: the action list has no execve or execvp action");
    for (size_t i = 0; i < a_->actions.size(); ++i) {
      if (fdk_fd *fd = a_->action_fds[i])
        if (use(fd) < 0) return fail(-EBADF, "spawn: %s", action_failure(a_, i, -1, "the handle is closed").c_str());
    }
    for (size_t i = 0; i < a_->pairs.size(); ++i) {
      if (fdk_fd *fd = a_->pairs[i].src_fd)
        if (use(fd) < 0)
          return fail(-EBADF, "spawn: %s",
                      action_failure(a_, a_->inherit_index, static_cast<int32_t>(i), "the source handle is closed").c_str());
    }
    plan.exec_path = static_cast<const char *>(a_->actions.back().ptr);
    if (a_->exec_search) {
      if (int r = resolve_exec(a_, resolved_); r < 0) return r;
      plan.exec_path = resolved_;
    }
    plan.exec_envp = a_->exec_envp ? a_->exec_envp : environ;
    plan.actions = a_->actions.data();
    plan.count = a_->actions.size();
    plan.steps = a_->steps.data();
    plan.nsteps = a_->steps.size();
    plan.dsts = a_->dsts.data();
    plan.ndsts = a_->dsts.size();
    plan.temp_min = a_->temp_min;
    // Only a pdeathsig action reads it (getpid is a system call; skip it otherwise).
    bool has_pdeathsig = std::any_of(a_->actions.begin(), a_->actions.end(),
                                     [](const child::Action &a) { return a.op == child::Op::pdeathsig; });
    plan.parent_pid = has_pdeathsig ? getpid() : 0;
    plan.report_fd = -1;
    plan.handlers_cleared = false;
    plan.report.index = -1;
    plan.report.err = 0;
    plan.report.pair = -1;
    plan.running_user = -1;
    return 0;
  }

  // A child that never came back from user action index: it exec'd or exited there
  // (its own business: the spawn succeeded), or died of a signal, which fails the spawn
  // as that action's failure.
  int died_in_user(size_t index, const char *backend, Launch *out) const {
    siginfo_t info{};
    int r;
    while ((r = waitid(P_PID, static_cast<id_t>(out->pid), &info, WEXITED | WNOWAIT)) < 0 && errno == EINTR) {
    }
    if (r < 0 || (info.si_code != CLD_KILLED && info.si_code != CLD_DUMPED)) return 0;
    reap_failed(out);
    char reason[160];
    snprintf(reason, sizeof reason, "the child died of signal %d (%s) inside the action (a user action has %zu KiB of stack)",
             info.si_status, strsignal(info.si_status), child::kUserStackBudget / 1024);
    return fail(-EFAULT, "spawn%s: %s", backend, action_failure(a_, index, -1, reason).c_str());
  }

  // Turns a child's report into the spawn's error, after its child was reaped.
  int failed(const child::Report &r, const char *backend) const {
    size_t index = static_cast<size_t>(r.index);
    if (index + 1 == a_->actions.size() && r.err == ENOENT)
      if (int e = missing_interpreter(backend, index); e < 0) return e;
    return fail(-r.err, "spawn%s: %s", backend, action_failure(a_, index, r.pair, errno_text(r.err)).c_str());
  }

  // execve's ENOENT for a file that exists: what is missing is its #! interpreter (or the
  // ELF loader it names). 0 when the file itself is missing.
  int missing_interpreter(const char *backend, size_t exec_index) const {
    int fd = open(plan.exec_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    char head[256];
    ssize_t n = read(fd, head, sizeof head - 1);
    close(fd);
    if (n >= 2 && head[0] == '#' && head[1] == '!') {
      head[n] = 0;
      char *name = head + 2 + strspn(head + 2, " \t");
      name[strcspn(name, " \t\n")] = 0;
      std::string reason = std::string("its interpreter '") + name + "' (named by #!) is missing";
      return fail(-ENOENT, "spawn%s: %s", backend, action_failure(a_, exec_index, -1, reason.c_str()).c_str());
    }
    return fail(-ENOENT, "spawn%s: %s", backend,
                action_failure(a_, exec_index, -1, "the file exists but its ELF interpreter (loader) is missing").c_str());
  }

  const fdk_actions *actions() const { return a_; }
  child::Plan plan{};

 private:
  // Keeps the handle (and so its number, which the list recorded) open for the spawn.
  int use(fdk_fd *fd) {
    int raw;
    if (fd_use(fd, &raw) < 0) return -EBADF;
    ++used_;
    return 0;
  }

  const fdk_actions *a_;
  size_t used_ = 0;
  char resolved_[PATH_MAX];  // execvp's path
};

// clone() running child::run on the stack below top: the pid, or -errno.
int plain_clone(unsigned long flags, char *top, int *pidfd, child::Plan *plan) {
#if defined(FDK_HAVE_CLONE_TRAMPOLINES)
  return static_cast<int>(fdk_clone_run(flags, top, pidfd, child::run, plan));
#else
  int pid = clone(child::run, top, static_cast<int>(flags), plan, pidfd);
  return pid < 0 ? neg_errno() : pid;
#endif
}

// vfork-style: the child shares the parent's memory on a cached stack and the parent
// resumes once it has exec'd or exited; the report is written into the plan.
int launch_clone(Prepared &prep, bool want_pidfd, Launch *out) {
  void *stack = take_stack();
  if (!stack) return fail(-ENOMEM, "spawn: cannot map a child stack");
  char *top = static_cast<char *>(stack) + kGuard + kStackSize;
  int pidfd = -1;
  pid_t pid = -1;
  int err = 0;
  {
    BlockAllSignals blocked;
#if defined(FDK_HAVE_CLONE_TRAMPOLINES)
    while (use_clone3()) {
      CloneArgs args{};
      args.flags = CLONE_VM | CLONE_VFORK | CLONE_CLEAR_SIGHAND | (want_pidfd ? CLONE_PIDFD : 0);
      args.pidfd = reinterpret_cast<uintptr_t>(&pidfd);
      args.exit_signal = SIGCHLD;
      args.stack = reinterpret_cast<uintptr_t>(stack) + kGuard;
      args.stack_size = kStackSize;
      prep.plan.handlers_cleared = true;
      long r = fdk_clone3_run(&args, sizeof args, child::run, &prep.plan);
      if (r >= 0) {
        pid = static_cast<pid_t>(r);
        break;
      }
      prep.plan.handlers_cleared = false;
      // ENOSYS: no clone3 (or a seccomp filter); EINVAL: a flag this kernel lacks, which
      // plain clone sorts out. Other errors are the answer.
      if (r != -ENOSYS && r != -EINVAL && r != -EPERM) {
        err = static_cast<int>(r);
        break;
      }
      g_clone3.store(0, std::memory_order_relaxed);
    }
#endif
    if (pid < 0 && err == 0) {
      unsigned long flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
      int r = plain_clone(flags | (want_pidfd ? CLONE_PIDFD : 0), top, &pidfd, &prep.plan);
      // CLONE_PIDFD refused (a filter that hides pidfds): the caller learns it from pidfd -1.
      if (r == -EINVAL && want_pidfd) {
        want_pidfd = false;
        r = plain_clone(flags, top, nullptr, &prep.plan);
      }
      if (r < 0) err = r;
      else pid = r;
    }
  }
  give_stack(stack);
  if (pid < 0) return fail_sys(err, "spawn: clone");
  out->pid = pid;
  out->pidfd = want_pidfd ? pidfd : -1;
  if (prep.plan.report.index >= 0) {
    child::Report r{prep.plan.report.index, prep.plan.report.err, prep.plan.report.pair};
    reap_failed(out);
    return prep.failed(r, "");
  }
  if (prep.plan.running_user >= 0) return prep.died_in_user(static_cast<size_t>(prep.plan.running_user), "", out);
  return 0;
}

// fork-style: a copy of the parent (a raw clone without CLONE_VM, so no atfork handler
// runs) runs the same child code; the report comes through a close-on-exec pipe.
int launch_fork(Prepared &prep, bool want_pidfd, Launch *out) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return fail_sys(neg_errno(), "spawn: pipe2");
  prep.plan.report_fd = pipefd[1];
  int pidfd = -1;
  long pid;
  {
    BlockAllSignals blocked;
    pid = syscall(SYS_clone, SIGCHLD | (want_pidfd ? CLONE_PIDFD : 0), nullptr, &pidfd, nullptr, 0);
    if (pid < 0 && want_pidfd && errno == EINVAL) {  // as in launch_clone
      want_pidfd = false;
      pid = syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0);
    }
    if (pid == 0) child::run(&prep.plan);
  }
  int err = pid < 0 ? neg_errno() : 0;
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    return fail_sys(err, "spawn: fork");
  }
  out->pid = static_cast<pid_t>(pid);
  out->pidfd = want_pidfd ? pidfd : -1;
  // Reports until the pipe closes at exec or exit: user actions announced, or a failure.
  child::Report r{};
  int32_t running_user = -1;
  for (;;) {
    ssize_t n;
    while ((n = read(pipefd[0], &r, sizeof r)) < 0 && errno == EINTR) {
    }
    if (n != sizeof r) break;
    if (r.pair == child::kStarted) {
      running_user = r.index;
    } else if (r.pair == child::kReturned) {
      running_user = -1;
    } else {
      close(pipefd[0]);
      reap_failed(out);
      return prep.failed(r, " (fork)");
    }
  }
  close(pipefd[0]);
  if (running_user >= 0) return prep.died_in_user(static_cast<size_t>(running_user), " (fork)", out);
  return 0;
}

// posix_spawn: only what its attributes and file actions can say.
class PosixSpawn {
 public:
  PosixSpawn() {
    posix_spawn_file_actions_init(&fa_);
    posix_spawnattr_init(&attr_);
  }
  ~PosixSpawn() {
    posix_spawn_file_actions_destroy(&fa_);
    posix_spawnattr_destroy(&attr_);
    if (temp_ >= 0) close(temp_);
  }
  PosixSpawn(const PosixSpawn &) = delete;
  PosixSpawn &operator=(const PosixSpawn &) = delete;

  int launch(Prepared &prep, Launch *out) {
    const fdk_actions *a = prep.actions();
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    sigset_t empty, defaults;
    sigemptyset(&empty);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    const child::Action *exec = nullptr;
    for (size_t i = 0; i < a->actions.size(); ++i) {
      const child::Action &act = a->actions[i];
      int r = 0;
      switch (act.op) {
        case Op::execve: exec = &act; break;
        case Op::chdir: r = posix_spawn_file_actions_addchdir_np(&fa_, static_cast<const char *>(act.ptr)); break;
        case Op::fchdir: r = posix_spawn_file_actions_addfchdir_np(&fa_, act.num); break;
        case Op::setsid: flags |= POSIX_SPAWN_SETSID; break;
        case Op::setpgid:
          flags |= POSIX_SPAWN_SETPGROUP;
          r = posix_spawnattr_setpgroup(&attr_, act.num);
          break;
        case Op::signal_default: sigaddset(&defaults, act.num); break;
        case Op::inherit: r = add_inherit(prep, i); break;
        case Op::close_other_fds: r = add_close_others(a, i); break;
        default: r = fail(-ENOTSUP, "spawn (posix_spawn): %s", action_failure(a, i, -1, "cannot be expressed").c_str());
      }
      if (r > 0) r = fail_sys(-r, "spawn (posix_spawn): file actions");
      if (r < 0) return r;
    }
    posix_spawnattr_setflags(&attr_, flags);
    posix_spawnattr_setsigmask(&attr_, &empty);
    posix_spawnattr_setsigdefault(&attr_, &defaults);
    pid_t pid;
    int r = posix_spawn(&pid, prep.plan.exec_path, &fa_, &attr_, const_cast<char *const *>(exec->argv),
                        const_cast<char *const *>(prep.plan.exec_envp));
    if (r != 0) return failed(prep, r);
    out->pid = pid;
    return 0;
  }

 private:
  int add_inherit(Prepared &prep, size_t index) {
    for (size_t i = 0; i < prep.plan.nsteps; ++i) {
      const FdStep &s = prep.plan.steps[i];
      int r = 0;
      switch (s.kind) {
        case FdStep::dup:
          r = posix_spawn_file_actions_adddup2(&fa_, s.from == child::kTemp ? temp_ : s.from, s.to);
          break;
        case FdStep::save:
          // The temporary's number is reserved in the parent for the time of the spawn.
          if (temp_ < 0 && (temp_ = fcntl(s.from, F_DUPFD_CLOEXEC, prep.plan.temp_min)) < 0) return -errno;
          r = posix_spawn_file_actions_adddup2(&fa_, s.from, temp_);
          break;
        case FdStep::clear_cloexec:
          r = posix_spawn_file_actions_adddup2(&fa_, s.to, s.to);  // clears FD_CLOEXEC
          break;
        default:
          return fail(-ENOTSUP, "spawn (posix_spawn): %s",
                      action_failure(prep.actions(), index, s.pair, "blocking modes cannot be expressed").c_str());
      }
      if (r) return r;
    }
    return temp_ >= 0 ? posix_spawn_file_actions_addclose(&fa_, temp_) : 0;
  }

  // posix_spawn reports only an errno: a directory action that cannot succeed (checked
  // from the parent, for the first one, which the parent's directory resolves) is named,
  // else the exec.
  int failed(const Prepared &prep, int err) {
    const fdk_actions *a = prep.actions();
    for (size_t i = 0; i < a->actions.size(); ++i) {
      const child::Action &act = a->actions[i];
      if (act.op != Op::chdir && act.op != Op::fchdir) continue;
      struct stat st;
      int r = act.op == Op::chdir ? stat(static_cast<const char *>(act.ptr), &st) : fstat(act.num, &st);
      int why = r < 0 ? errno : !S_ISDIR(st.st_mode) ? ENOTDIR : 0;
      if (why == 0 && act.op == Op::chdir && access(static_cast<const char *>(act.ptr), X_OK) < 0) why = errno;
      if (why == err) return fail(-err, "spawn (posix_spawn): %s", action_failure(a, i, -1, errno_text(err)).c_str());
      break;
    }
    if (err == ENOENT && a->actions.size() > 0)
      if (int e = prep.missing_interpreter(" (posix_spawn)", a->actions.size() - 1); e < 0) return e;
    return fail(-err, "spawn (posix_spawn): %s: '%s'", errno_text(err), prep.plan.exec_path);
  }

  // Only "close from N" exists: the kept destinations must be 0..N-1.
  int add_close_others(const fdk_actions *a, size_t index) {
    int32_t next = 3;
    for (int32_t d : a->dsts) {
      if (d < next) continue;
      if (d != next)
        return fail(-ENOTSUP, "spawn (posix_spawn): %s",
                    action_failure(a, index, -1, "destinations above 2 must be contiguous").c_str());
      ++next;
    }
    return posix_spawn_file_actions_addclosefrom_np(&fa_, next);
  }

  posix_spawn_file_actions_t fa_;
  posix_spawnattr_t attr_;
  int temp_ = -1;
};

}  // namespace

int launch(const fdk_actions *a, unsigned backend, bool want_pidfd, Launch *out) {
  Prepared prep(a);
  if (int r = prep.prepare(); r < 0) return r;
  int r;
  switch (backend) {
    case FDK_SPAWN_BACKEND_FORK: r = launch_fork(prep, want_pidfd, out); break;
    case FDK_SPAWN_BACKEND_POSIX_SPAWN: r = PosixSpawn().launch(prep, out); break;
    default: r = launch_clone(prep, want_pidfd, out); break;
  }
  return r;
}

}  // namespace fdk
