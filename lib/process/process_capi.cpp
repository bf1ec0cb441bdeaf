// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/process.h.
#include <signal.h>

#include "core/guard.h"
#include "process/actions.h"
#include "process/process.h"
#include "trace/trace.h"

using fdk::fail;
using fdk::guard;
using fdk::traced;
using fdk::child::Op;

namespace {

int check_list(const char *what, const fdk_actions *a) { return a ? 0 : fail(-EINVAL, "%s: actions is NULL", what); }

int check_proc(const char *what, const fdk_process *p) { return p ? 0 : fail(-EINVAL, "%s: process is NULL", what); }

int check_signal(const char *what, int sig) {
  return sig >= 0 && sig < NSIG ? 0 : fail(-EINVAL, "%s: bad signal %d", what, sig);
}

int simple(const char *what, fdk_actions *a, Op op, int32_t num, const char *text = nullptr) {
  if (int r = check_list(what, a)) return r;
  return guard(what, [&] { return fdk::actions_simple(a, op, num, text); });
}

int exec(const char *what, fdk_actions *a, const char *path, const char *const *argv, const char *const *envp, bool search) {
  if (int r = check_list(what, a)) return r;
  if (!path || !argv) return fail(-EINVAL, "%s: path or argv is NULL", what);
  return guard(what, [&] { return fdk::actions_exec(a, path, argv, envp, search); });
}

}  // namespace

extern "C" {

FDK_API int fdk_actions_new(fdk_actions **out) {
  if (!out) return fail(-EINVAL, "actions_new: out is NULL");
  return guard("actions_new", [&] {
    *out = new fdk_actions;
    return 0;
  });
}

FDK_API fdk_actions *fdk_actions_free(fdk_actions *actions) {
  if (actions) fdk::actions_release(actions);
  return nullptr;
}

FDK_API int fdk_actions_execve(fdk_actions *a, const char *path, const char *const *argv, const char *const *envp) {
  return exec("actions_execve", a, path, argv, envp, false);
}

FDK_API int fdk_actions_execvp(fdk_actions *a, const char *file, const char *const *argv, const char *const *envp) {
  return exec("actions_execvp", a, file, argv, envp, true);
}

FDK_API int fdk_actions_chdir(fdk_actions *a, const char *path) {
  if (!path) return fail(-EINVAL, "actions_chdir: path is NULL");
  return simple("actions_chdir", a, Op::chdir, 0, path);
}

FDK_API int fdk_actions_fchdir(fdk_actions *a, fdk_fd *fd) {
  if (int r = check_list("actions_fchdir", a)) return r;
  if (!fd) return fail(-EINVAL, "actions_fchdir: fd is NULL");
  return guard("actions_fchdir", [&] { return fdk::actions_with_fd(a, Op::fchdir, fd); });
}

FDK_API int fdk_actions_login_tty(fdk_actions *a, fdk_fd *tty) {
  if (int r = check_list("actions_login_tty", a)) return r;
  if (!tty) return fail(-EINVAL, "actions_login_tty: tty is NULL");
  return guard("actions_login_tty", [&] { return fdk::actions_with_fd(a, Op::login_tty, tty); });
}

FDK_API int fdk_actions_inherit_fd(fdk_actions *a, int dst, fdk_fd *src, int blocking) {
  if (int r = check_list("actions_inherit_fd", a)) return r;
  if (!src) return fail(-EINVAL, "actions_inherit_fd: src is NULL");
  return guard("actions_inherit_fd", [&] { return fdk::actions_inherit(a, dst, -1, src, blocking); });
}

FDK_API int fdk_actions_inherit_raw(fdk_actions *a, int dst, int src, int blocking) {
  if (int r = check_list("actions_inherit_raw", a)) return r;
  return guard("actions_inherit_raw", [&] { return fdk::actions_inherit(a, dst, src, nullptr, blocking); });
}

FDK_API int fdk_actions_setsid(fdk_actions *a) { return simple("actions_setsid", a, Op::setsid, 0); }
FDK_API int fdk_actions_setpgid(fdk_actions *a, int32_t pgid) { return simple("actions_setpgid", a, Op::setpgid, pgid); }
FDK_API int fdk_actions_setuid(fdk_actions *a, uint32_t uid) {
  return simple("actions_setuid", a, Op::setuid, static_cast<int32_t>(uid));
}
FDK_API int fdk_actions_setgid(fdk_actions *a, uint32_t gid) {
  return simple("actions_setgid", a, Op::setgid, static_cast<int32_t>(gid));
}

FDK_API int fdk_actions_setgroups(fdk_actions *a, size_t count, const uint32_t *gids) {
  if (int r = check_list("actions_setgroups", a)) return r;
  if (count && !gids) return fail(-EINVAL, "actions_setgroups: gids is NULL");
  return guard("actions_setgroups", [&] { return fdk::actions_setgroups(a, count, gids); });
}

FDK_API int fdk_actions_umask(fdk_actions *a, uint32_t mask) {
  if (mask > 0777) return fail(-EINVAL, "actions_umask: bad mask 0%o", mask);
  return simple("actions_umask", a, Op::umask, static_cast<int32_t>(mask));
}

FDK_API int fdk_actions_rlimit(fdk_actions *a, int resource, uint64_t soft, uint64_t hard) {
  if (int r = check_list("actions_rlimit", a)) return r;
  if (soft > hard) return fail(-EINVAL, "actions_rlimit: soft limit above hard limit");
  return guard("actions_rlimit", [&] { return fdk::actions_rlimit(a, resource, soft, hard); });
}

FDK_API int fdk_actions_pdeathsig(fdk_actions *a, int sig) { return simple("actions_pdeathsig", a, Op::pdeathsig, sig); }
FDK_API int fdk_actions_no_new_privs(fdk_actions *a) { return simple("actions_no_new_privs", a, Op::no_new_privs, 0); }
FDK_API int fdk_actions_signal_default(fdk_actions *a, int sig) {
  return simple("actions_signal_default", a, Op::signal_default, sig);
}
FDK_API int fdk_actions_signal_ignore(fdk_actions *a, int sig) {
  return simple("actions_signal_ignore", a, Op::signal_ignore, sig);
}
FDK_API int fdk_actions_close_other_fds(fdk_actions *a) {
  return simple("actions_close_other_fds", a, Op::close_other_fds, 0);
}

FDK_API int fdk_actions_user(fdk_actions *a, fdk_child_fn fn, void *arg, const char *name) {
  if (int r = check_list("actions_user", a)) return r;
  if (!fn) return fail(-EINVAL, "actions_user: fn is NULL");
  return guard("actions_user", [&] { return fdk::actions_user(a, fn, arg, name); });
}

FDK_API int fdk_spawn(fdk_process **out, fdk_loop *loop, const fdk_actions *actions, unsigned flags, fdk_exit_cb exit_cb,
                      void *data) {
  if (!out) return fail(-EINVAL, "spawn: out is NULL");
  if (int r = check_list("spawn", actions)) return r;
  if (flags & ~FDK_SPAWN_BACKEND_MASK || (flags & FDK_SPAWN_BACKEND_MASK) == FDK_SPAWN_BACKEND_MASK)
    return fail(-EINVAL, "spawn: unknown flags 0x%x", flags);
  if (exit_cb && !loop) return fail(-EINVAL, "spawn: an exit callback needs a loop");
  if (loop && fdk::loop_forked(loop)) return fdk::fail_forked("spawn");
  return guard("spawn", [&] { return fdk::process_start(out, loop, actions, flags, exit_cb, data); });
}

FDK_API int32_t fdk_process_pid(const fdk_process *proc) {
  if (int r = check_proc("process_pid", proc)) return r;
  return proc->pid;
}

FDK_API int fdk_process_pidfd(fdk_process *proc) {
  if (int r = check_proc("process_pidfd", proc)) return r;
  return guard("process_pidfd", [&] { return fdk::process_pidfd(proc); });
}

FDK_API int fdk_process_signal(fdk_process *proc, int sig) {
  if (int r = check_proc("process_signal", proc)) return r;
  if (int r = check_signal("process_signal", sig)) return r;
  return traced("signal", proc->pidfd, nullptr, [&] { return fdk::process_signal(proc, sig, false); });
}

FDK_API int fdk_process_signal_group(fdk_process *proc, int sig) {
  if (int r = check_proc("process_signal_group", proc)) return r;
  if (int r = check_signal("process_signal_group", sig)) return r;
  return traced("signal_group", proc->pidfd, nullptr, [&] { return fdk::process_signal(proc, sig, true); });
}

FDK_API int fdk_process_wait(fdk_process *proc, fdk_exit_status *status) {
  if (int r = check_proc("process_wait", proc)) return r;
  return traced("wait", proc->pidfd, nullptr, [&] {
    int r = fdk::process_wait(proc, status, true);
    return r < 0 ? r : 0;
  });
}

FDK_API int fdk_process_try_wait(fdk_process *proc, fdk_exit_status *status) {
  if (int r = check_proc("process_try_wait", proc)) return r;
  return traced("try_wait", proc->pidfd, nullptr, [&] { return fdk::process_wait(proc, status, false); });
}

FDK_API int fdk_process_detach(fdk_process *proc) {
  if (int r = check_proc("process_detach", proc)) return r;
  return guard("process_detach", [&] { return fdk::process_detach(proc); });
}

FDK_API int fdk_process_reap_detached(void) {
  return guard("process_reap_detached", [&] { return fdk::process_reap_detached(); });
}

FDK_API fdk_process *fdk_process_free(fdk_process *proc) {
  if (proc)
    guard("process_free", [&] {
      fdk::process_free(proc);
      return 0;
    });
  return nullptr;
}

}  // extern "C"
