// SPDX-License-Identifier: MIT
// The child side of a spawn. Rules for everything in this file:
// - It runs in a child that may share the parent's memory (clone with CLONE_VM|CLONE_VFORK)
//   on a small private stack, while other parent threads keep running.
// - Raw system calls only (inline assembly where available, so not even errno is
//   written): no allocation, no locks, no libc state, no stdio, no C++ runtime, no
//   exceptions. It only reads the Plan the parent laid out, and writes the Report.
// - No sanitizer instrumentation (FDK_CHILD marks every function): the sanitizers'
//   runtime state belongs to the parent thread whose memory the child shares.
// - A failing action is reported (index, errno) and the child exits with status 127.
#include "process/child_plan.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "core/syscall.h"

#define FDK_CHILD \
  __attribute__((no_sanitize_address, no_sanitize_thread, no_sanitize_undefined, no_stack_protector))

#if defined(__clang__) || __GNUC__ < 11
#undef FDK_CHILD
#define FDK_CHILD __attribute__((no_sanitize("address", "thread", "undefined")))
#endif

#if defined(FDK_HAVE_CLONE_TRAMPOLINES)
// A child on a new stack cannot return into C code: each trampoline keeps fn and arg in
// registers the system call preserves, calls fn on the new stack and exits with its result.
asm(R"(
    .text
    .globl fdk_clone3_run
    .hidden fdk_clone3_run
    .type fdk_clone3_run, @function
fdk_clone3_run:
    mov %rdx, %r8
    mov %rcx, %r9
    mov $435, %eax
    syscall
    test %rax, %rax
    jnz 1f
    xor %ebp, %ebp
    mov %r9, %rdi
    call *%r8
    mov %eax, %edi
    mov $231, %eax
    syscall
    hlt
1:
    ret
    .size fdk_clone3_run, .-fdk_clone3_run

    .globl fdk_clone_run
    .hidden fdk_clone_run
    .type fdk_clone_run, @function
fdk_clone_run:
    push %rbx
    mov %rcx, %r9
    mov %r8, %rbx
    xor %r10d, %r10d
    xor %r8d, %r8d
    mov $56, %eax
    syscall
    test %rax, %rax
    jnz 1f
    xor %ebp, %ebp
    mov %rbx, %rdi
    call *%r9
    mov %eax, %edi
    mov $231, %eax
    syscall
    hlt
1:
    pop %rbx
    ret
    .size fdk_clone_run, .-fdk_clone_run
)");
#endif

namespace fdk::child {
namespace {

// A raw system call (core/syscall.h): the kernel's result, -errno on failure, and errno
// untouched where the architecture's instruction is used (elsewhere the parent thread
// ignores the errno the C library writes).
FDK_CHILD inline long sys(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
  return raw_syscall(n, a, b, c, d, e);
}

// The kernel's struct sigaction (handler, flags, restorer, mask).
struct KernelSigaction {
  void *handler;
  unsigned long flags;
  void *restorer;
  uint64_t mask;
};
constexpr int kSignals = 64;

FDK_CHILD long set_default(int sig) {
  KernelSigaction sa{};
  sa.handler = reinterpret_cast<void *>(SIG_DFL);
  return sys(SYS_rt_sigaction, sig, syscall_arg(&sa), 0, sizeof(uint64_t));
}

FDK_CHILD long set_ignore(int sig) {
  KernelSigaction sa{};
  sa.handler = reinterpret_cast<void *>(SIG_IGN);
  return sys(SYS_rt_sigaction, sig, syscall_arg(&sa), 0, sizeof(uint64_t));
}

// Handled signals back to default: their handlers are parent code.
FDK_CHILD void reset_handlers() {
  for (int sig = 1; sig <= kSignals; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    KernelSigaction old{};
    if (sys(SYS_rt_sigaction, sig, 0, syscall_arg(&old), sizeof(uint64_t)) < 0) continue;
    if (old.handler != reinterpret_cast<void *>(SIG_DFL) && old.handler != reinterpret_cast<void *>(SIG_IGN))
      set_default(sig);
  }
}

// Reports the failing action to the parent and exits with status 127.
[[noreturn]] FDK_CHILD void report_and_exit(Plan *plan, size_t index, long err, int32_t pair = -1) {
  plan->report.index = static_cast<int32_t>(index);
  plan->report.err = static_cast<int32_t>(-err);
  plan->report.pair = pair;
  if (plan->report_fd >= 0) {
    Report r{static_cast<int32_t>(index), static_cast<int32_t>(-err), pair};
    sys(SYS_write, plan->report_fd, syscall_arg(&r), sizeof r);
  }
  for (;;) sys(SYS_exit_group, 127);
}

// Fork backend: tells the parent through the report pipe that a user action starts or
// returned (the shared-memory marker does it for the clone backend).
FDK_CHILD void announce(const Plan *plan, size_t index, int32_t what) {
  if (plan->report_fd < 0) return;
  Report r{static_cast<int32_t>(index), 0, what};
  sys(SYS_write, plan->report_fd, syscall_arg(&r), sizeof r);
}

FDK_CHILD bool is_dst(const Plan *plan, long fd) {
  for (size_t i = 0; i < plan->ndsts; ++i)
    if (plan->dsts[i] == fd) return true;
  return false;
}

FDK_CHILD long set_cloexec(long fd) {
  long flags = sys(SYS_fcntl, fd, F_GETFD);
  if (flags < 0 || (flags & FD_CLOEXEC)) return flags;
  return sys(SYS_fcntl, fd, F_SETFD, flags | FD_CLOEXEC);
}

// Applies the inherit steps; the temporary descriptor is closed at the end.
FDK_CHILD void inherit(Plan *plan, size_t index) {
  // The report pipe must not be overwritten by a destination.
  if (plan->report_fd >= 0 && is_dst(plan, plan->report_fd)) {
    long moved = sys(SYS_fcntl, plan->report_fd, F_DUPFD_CLOEXEC, plan->temp_min);
    if (moved < 0) report_and_exit(plan, index, moved);
    plan->report_fd = static_cast<int32_t>(moved);
  }
  long temp = -1;
  for (size_t i = 0; i < plan->nsteps; ++i) {
    const FdStep &s = plan->steps[i];
    long r = 0;
    switch (s.kind) {
      case FdStep::dup:
        do r = sys(SYS_dup3, s.from == kTemp ? temp : s.from, s.to, 0);
        while (r == -EINTR || r == -EBUSY);
        break;
      case FdStep::save:
        if (temp < 0) r = temp = sys(SYS_fcntl, s.from, F_DUPFD_CLOEXEC, plan->temp_min);
        else r = sys(SYS_dup3, s.from, temp, O_CLOEXEC);
        break;
      case FdStep::clear_cloexec:
        r = sys(SYS_fcntl, s.to, F_SETFD, 0);
        break;
      case FdStep::set_blocking:
      case FdStep::set_nonblocking:
        r = sys(SYS_fcntl, s.to, F_GETFL);
        if (r >= 0) r = sys(SYS_fcntl, s.to, F_SETFL, s.kind == FdStep::set_blocking ? (r & ~O_NONBLOCK) : (r | O_NONBLOCK));
        break;
    }
    if (r < 0) report_and_exit(plan, index, r, s.pair);
  }
  if (temp >= 0) sys(SYS_close, temp);
}

// Marks every descriptor but 0-2 and the destinations close-on-exec.
FDK_CHILD long close_others(const Plan *plan) {
  // Gaps between the kept numbers (the destinations are sorted).
  long lo = 3;
  bool range_ok = true;
  for (size_t i = 0; i <= plan->ndsts && range_ok; ++i) {
    long hi = i < plan->ndsts ? plan->dsts[i] - 1 : ~0u;
    if (i < plan->ndsts && plan->dsts[i] < 3) continue;
    if (hi >= lo && sys(SYS_close_range, lo, hi, CLOSE_RANGE_CLOEXEC) < 0) range_ok = false;
    if (i < plan->ndsts) lo = plan->dsts[i] + 1;
  }
  if (range_ok) return 0;
  // No close_range (or no CLOSE_RANGE_CLOEXEC): one by one up to the descriptor limit.
  rlimit64 lim{};
  if (long r = sys(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, syscall_arg(&lim)); r < 0) return r;
  long max = lim.rlim_cur > (1u << 20) ? (1u << 20) : static_cast<long>(lim.rlim_cur);
  for (long fd = 3; fd < max; ++fd)
    if (!is_dst(plan, fd)) set_cloexec(fd);
  return 0;
}

FDK_CHILD long run_action(Plan *plan, size_t index) {
  const Action &a = plan->actions[index];
  switch (a.op) {
    case Op::execve: {
      uint64_t empty = 0;
      sys(SYS_rt_sigprocmask, SIG_SETMASK, syscall_arg(&empty), 0, sizeof empty);
      return sys(SYS_execve, syscall_arg(plan->exec_path), syscall_arg(a.argv), syscall_arg(plan->exec_envp));
    }
    case Op::chdir:
      return sys(SYS_chdir, syscall_arg(a.ptr));
    case Op::fchdir:
      return sys(SYS_fchdir, a.num);
    case Op::inherit:
      inherit(plan, index);
      return 0;
    case Op::setsid:
      return sys(SYS_setsid);
    case Op::setpgid:
      return sys(SYS_setpgid, 0, a.num);
    case Op::setuid:
      return sys(SYS_setuid, a.num);
    case Op::setgid:
      return sys(SYS_setgid, a.num);
    case Op::setgroups:
      return sys(SYS_setgroups, static_cast<long>(a.a), syscall_arg(a.ptr));
    case Op::umask:
      sys(SYS_umask, a.num);
      return 0;
    case Op::rlimit: {
      rlimit64 lim{a.a, a.b};
      return sys(SYS_prlimit64, 0, a.num, syscall_arg(&lim), 0);
    }
    case Op::pdeathsig: {
      long r = sys(SYS_prctl, PR_SET_PDEATHSIG, a.num);
      // The parent may have died before the call: then nobody will send the signal.
      if (r == 0 && sys(SYS_getppid) != plan->parent_pid) sys(SYS_kill, sys(SYS_getpid), a.num);
      return r;
    }
    case Op::no_new_privs:
      return sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    case Op::signal_default:
      return set_default(a.num);
    case Op::signal_ignore:
      return set_ignore(a.num);
    case Op::close_other_fds:
      return close_others(plan);
    case Op::login_tty: {
      long r = sys(SYS_setsid);
      return r < 0 ? r : sys(SYS_ioctl, a.num, TIOCSCTTY, 0);
    }
    case Op::user: {
      // Marked while it runs: a child that dies inside it is reported as its failure.
      plan->running_user = static_cast<int32_t>(index);
      announce(plan, index, kStarted);
      long r = reinterpret_cast<int (*)(void *)>(const_cast<void *>(a.ptr))(a.arg);
      plan->running_user = -1;
      announce(plan, index, kReturned);
      return r > 0 ? -r : r;
    }
  }
  return -EINVAL;
}

}  // namespace

FDK_CHILD int run(void *data) {
  auto *plan = static_cast<Plan *>(data);
  if (!plan->handlers_cleared) reset_handlers();
  // Ignored SIGPIPE and SIGXFSZ would otherwise stay ignored across exec.
  set_default(SIGPIPE);
  set_default(SIGXFSZ);
  for (size_t i = 0; i < plan->count; ++i) {
    long r = run_action(plan, i);
    if (r < 0) report_and_exit(plan, i, r);
  }
  // The list always ends in an exec action, which only returns on failure.
  report_and_exit(plan, plan->count - 1, -ENOEXEC);
}

}  // namespace fdk::child
