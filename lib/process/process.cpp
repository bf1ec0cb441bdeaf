// Process handles: learning of the exit (a pidfd polled through the loop, or a SIGCHLD
// watcher where pidfds are missing), reaping only when the status is collected or the
// handle freed, and signalling only a child that is not reaped yet.
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "core/error.h"
#include "trace/trace.h"
#include "process/process.h"

namespace fdk {
namespace {

void destroy(fdk_process *p) {
  if (p->pidfd_handle) {
    // A watch the loop still holds keeps the descriptor open until it is torn down.
    if (!(p->pidfd_handle->state.load(std::memory_order_acquire) & fdk_fd::kClosing)) fd_close(p->pidfd_handle);
    fd_mem_unref(p->pidfd_handle);
  } else if (p->pidfd >= 0) {
    close(p->pidfd);
  }
  delete p;
}

void process_ref(fdk_process *p) { p->refs.fetch_add(1, std::memory_order_relaxed); }

void process_unref(fdk_process *p) {
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(p);
}

void unref_posted(void *data) { process_unref(static_cast<fdk_process *>(data)); }

int64_t ns_of(const timeval &tv) { return static_cast<int64_t>(tv.tv_sec) * 1000000000 + tv.tv_usec * 1000; }

void fill_status(fdk_exit_status *st, int status, const rusage &ru) {
  *st = {};
  if (WIFSIGNALED(status)) {
    st->kind = FDK_EXIT_SIGNAL;
    st->value = WTERMSIG(status);
    st->core_dumped = WCOREDUMP(status) ? 1 : 0;
  } else {
    st->kind = FDK_EXIT_CODE;
    st->value = WEXITSTATUS(status);
  }
  st->usage = {ns_of(ru.ru_utime), ns_of(ru.ru_stime), ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt,
               ru.ru_inblock, ru.ru_oublock, ru.ru_nvcsw, ru.ru_nivcsw};
}

// Reaps the child if it has exited (with p->mu held). True once it is reaped.
bool reap_locked(fdk_process *p) {
  if (p->state == fdk_process::State::reaped) return true;
  int status;
  rusage ru{};
  pid_t r;
  while ((r = wait4(p->pid, &status, WNOHANG, &ru)) < 0 && errno == EINTR) {
  }
  if (r == p->pid) {
    fill_status(&p->status, status, ru);
  } else if (r < 0 && errno == ECHILD) {
    // The host reaped it (waitpid(-1), or SIGCHLD ignored): the status is lost.
    p->reap_err = -ECHILD;
  } else {
    return false;
  }
  p->state = fdk_process::State::reaped;
  return true;
}

// Whether the child has exited, without reaping it (with p->mu held).
bool exited_locked(fdk_process *p) {
  if (p->state != fdk_process::State::running) return true;
  siginfo_t info{};
  int r = waitid(P_PID, static_cast<id_t>(p->pid), &info, WEXITED | WNOHANG | WNOWAIT);
  if (r == 0 && info.si_pid == p->pid) {
    p->state = fdk_process::State::exited;
    return true;
  }
  if (r < 0 && errno == ECHILD) return reap_locked(p);
  return false;
}

// The exit callback as an operation of the loop, so a pending one keeps the loop running
// and loop teardown cancels it.
class ExitOp final : public fdk_op {
 public:
  // Its span lasts from the spawn to the exit callback.
  ExitOp(fdk_loop *loop, fdk_process *p) : fdk_op(loop), proc_(p) {
    process_ref(p);
    span_.begin("exit", p->pidfd, nullptr, loop);
  }
  ~ExitOp() override { process_unref(proc_); }

  void cancel() override { finish(-ECANCELED); }
  void deliver(int64_t result) override {
    span_.end(result);
    bool freed;
    {
      std::lock_guard<std::mutex> lock(proc_->mu);
      freed = proc_->freed;
    }
    if (!freed) proc_->exit_cb(proc_, static_cast<int>(result), proc_->data);
  }

  // Queues the callback (loop thread).
  void finish(int result) {
    if (proc_->exit_op == this) proc_->exit_op = nullptr;
    if (result < 0) op_complete_with_detail(this, result, "process: the loop stopped watching the child before it exited");
    else op_complete(this, result);
  }

 private:
  fdk_process *proc_;
  Span span_;
};

// Loop thread: the child has exited.
void on_exited(fdk_process *p) {
  if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(0);
  std::lock_guard<std::mutex> lock(p->mu);
  // A freed (detached) child is reaped as soon as it exits.
  if (p->freed) reap_locked(p);
}

// Loop thread: the loop no longer watches the child (its teardown, or the handle's close).
void on_unwatched(fdk_process *p, bool loop_gone) {
  if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(-ECANCELED);
  if (loop_gone) p->loop = nullptr;
}

// ---- pidfd mode ----

void on_pidfd_ready(Waiter *w, int status);

int arm_pidfd(fdk_process *p) {
  process_ref(p);
  int r = wait_ready(p->loop, p->pidfd_handle, &p->waiter, Dir::read);
  if (r < 0) process_unref(p);
  return r;
}

void on_pidfd_ready(Waiter *w, int status) {
  auto *p = static_cast<fdk_process *>(w->owner);
  fdk_loop *loop = p->loop;
  if (status == 0) {
    bool exited;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      exited = exited_locked(p);
    }
    if (exited) on_exited(p);
    else if (wait_ready(p->loop, p->pidfd_handle, &p->waiter, Dir::read) == 0) return;  // keeps its reference
    else on_unwatched(p, false);
  } else {
    bool closing = p->pidfd_handle->state.load(std::memory_order_acquire) & fdk_fd::kClosing;
    on_unwatched(p, !closing);
  }
  // Dropped outside the readiness engine's wake-up, which must not see the handle closed.
  post(loop, unref_posted, p);
}

// ---- SIGCHLD fallback ----

// One libuv SIGCHLD watcher per loop, alive while fdkit children on that loop run. As an
// operation, loop teardown reaches it.
class SigchldWatch final : public fdk_op {
 public:
  explicit SigchldWatch(fdk_loop *loop) : fdk_op(loop) {}

  int start();
  void add(fdk_process *p) {
    process_ref(p);
    procs_.push_back(p);
    check();
  }
  void stop_if_idle() {
    if (procs_.empty()) stop(0);
  }
  void cancel() override { stop(-ECANCELED); }
  void deliver(int64_t) override {}

 private:
  static void on_signal(uv_signal_t *handle, int);
  static void on_closed(uv_handle_t *handle) {
    auto *loop = static_cast<fdk_loop *>(handle->data);
    delete reinterpret_cast<uv_signal_t *>(handle);
    handle_closed(loop);
  }
  void check();
  void stop(int result);

  uv_signal_t *signal_ = nullptr;
  std::vector<fdk_process *> procs_;
};

std::mutex g_sigchld_mu;
std::vector<SigchldWatch *> g_sigchld_watches;
int g_sigchld_active = 0;
struct sigaction g_host_sigchld;

SigchldWatch *find_sigchld(fdk_loop *loop) {
  std::lock_guard<std::mutex> lock(g_sigchld_mu);
  for (SigchldWatch *w : g_sigchld_watches)
    if (w->loop == loop) return w;
  return nullptr;
}

int SigchldWatch::start() {
  signal_ = new uv_signal_t;
  uv_signal_init(loop->uv, signal_);
  signal_->data = this;
  handle_opened(loop);
  std::lock_guard<std::mutex> lock(g_sigchld_mu);
  // libuv installs its own handler without keeping the host's: fdkit keeps it, calls it
  // on each SIGCHLD, and puts it back with the last watcher.
  if (g_sigchld_active == 0) sigaction(SIGCHLD, nullptr, &g_host_sigchld);
  int r = uv_signal_start(signal_, on_signal, SIGCHLD);
  if (r < 0) {
    signal_->data = loop;
    uv_close(reinterpret_cast<uv_handle_t *>(signal_), on_closed);
    return fail(r, "spawn: SIGCHLD watcher: %s", uv_strerror(r));
  }
  ++g_sigchld_active;
  g_sigchld_watches.push_back(this);
  op_start(this, nullptr);
  return 0;
}

void SigchldWatch::on_signal(uv_signal_t *handle, int) {
  auto *self = static_cast<SigchldWatch *>(handle->data);
  Dispatch scope(self->loop);
  struct sigaction host;
  {
    std::lock_guard<std::mutex> lock(g_sigchld_mu);
    host = g_host_sigchld;
  }
  if (host.sa_flags & SA_SIGINFO) {
    siginfo_t info{};
    info.si_signo = SIGCHLD;
    host.sa_sigaction(SIGCHLD, &info, nullptr);
  } else if (host.sa_handler != SIG_DFL && host.sa_handler != SIG_IGN) {
    host.sa_handler(SIGCHLD);
  }
  self->check();
  self->stop_if_idle();
}

// Learns which of the loop's children exited: waitid on each of their pids, never -1.
void SigchldWatch::check() {
  for (size_t i = 0; i < procs_.size();) {
    fdk_process *p = procs_[i];
    bool exited;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      exited = exited_locked(p);
    }
    if (!exited) {
      ++i;
      continue;
    }
    procs_.erase(procs_.begin() + static_cast<ptrdiff_t>(i));
    on_exited(p);
    process_unref(p);
  }
}

void SigchldWatch::stop(int result) {
  if (state != State::pending || !signal_) return;
  {
    std::lock_guard<std::mutex> lock(g_sigchld_mu);
    g_sigchld_watches.erase(std::find(g_sigchld_watches.begin(), g_sigchld_watches.end(), this));
    uv_signal_stop(signal_);
    if (--g_sigchld_active == 0) sigaction(SIGCHLD, &g_host_sigchld, nullptr);
  }
  signal_->data = loop;
  uv_close(reinterpret_cast<uv_handle_t *>(signal_), on_closed);
  signal_ = nullptr;
  for (fdk_process *p : procs_) {
    on_unwatched(p, true);
    process_unref(p);
  }
  procs_.clear();
  if (result < 0) op_complete_with_detail(this, result, "process: loop freed");
  else op_complete(this, result);
}

// The loop's SIGCHLD watcher, started if needed (before the child exists, so that no
// exit goes unnoticed).
int acquire_sigchld(fdk_loop *loop, SigchldWatch **out) {
  if ((*out = find_sigchld(loop))) return 0;
  auto *w = new SigchldWatch(loop);
  if (int r = w->start(); r < 0) {
    delete w;
    return r;
  }
  *out = w;
  return 0;
}

int watch_exit(fdk_process *p, SigchldWatch *sigchld) {
  if (p->exit_cb) {
    auto *op = new ExitOp(p->loop, p);
    p->exit_op = op;
    op_start(op, nullptr);
  }
  if (p->pidfd >= 0) {
    // The pidfd stays in blocking mode: blocking waits use it with waitid(P_PIDFD).
    if (int r = fd_wrap(&p->pidfd_handle, p->pidfd, true); r < 0) {
      p->pidfd = -1;
      return r;
    }
    p->waiter.on_ready = on_pidfd_ready;
    p->waiter.owner = p;
    if (int r = arm_pidfd(p); r < 0) return fail_sys(r, "spawn: watching the pidfd");
    return 0;
  }
  // Normally the watcher runs before the clone. It starts only now when pidfds went
  // missing during the spawn (a seccomp filter installed after fdkit probed for them);
  // then a child that is already gone sent its SIGCHLD before anyone listened, so nothing
  // would come to stop the watcher, and it stops here. (Had libuv caught that signal
  // between the start and this check, the host's chained handler misses that one call.)
  bool late = !sigchld;
  if (late)
    if (int r = acquire_sigchld(p->loop, &sigchld); r < 0) return r;
  sigchld->add(p);
  if (late) sigchld->stop_if_idle();
  return 0;
}

int kill_child(fdk_process *p, int sig) {
  if (p->pidfd >= 0) return static_cast<int>(syscall(SYS_pidfd_send_signal, p->pidfd, sig, nullptr, 0));
  return kill(p->pid, sig);
}

void free_on_loop(fdk_process *p) {
  if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(-ECANCELED);
  bool reaped;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    reaped = p->state == fdk_process::State::reaped;
  }
  // Stop watching a reaped child now, so its pidfd closes with the handle; a detached
  // one that runs stays watched and is reaped when it exits.
  if (reaped && p->pidfd_handle && !(p->pidfd_handle->state.load() & fdk_fd::kClosing)) fd_close(p->pidfd_handle);
  process_unref(p);
}

void free_posted(void *data) { free_on_loop(static_cast<fdk_process *>(data)); }

}  // namespace

int process_start(fdk_process **out, fdk_loop *loop, fdk_actions *actions, unsigned flags, fdk_exit_cb cb, void *data) {
  SigchldWatch *sigchld = nullptr;
  if (loop && !pidfd_mode())
    if (int r = acquire_sigchld(loop, &sigchld); r < 0) return r;
  Launch l;
  Span span;
  span.begin("spawn", -1, nullptr, loop);
  // Only a watched child needs its pidfd at once; fdk_process_pidfd opens one on demand.
  int r = launch(actions, flags & FDK_SPAWN_BACKEND_MASK, loop != nullptr, &l);
  // The end carries the child's pid, or the error with the failing action named.
  span.end(r < 0 ? r : l.pid, r < 0 ? error_text() : nullptr);
  if (r < 0) {
    if (sigchld) sigchld->stop_if_idle();
    return r;
  }
  auto *p = new fdk_process;
  p->pid = l.pid;
  p->pidfd = l.pidfd;
  p->loop = loop;
  p->exit_cb = cb;
  p->data = data;
  if (loop) {
    if (r = watch_exit(p, sigchld); r < 0) {
      std::string detail = error_text();
      process_free(p);
      set_error_text(detail.c_str());
      return r;
    }
  }
  *out = p;
  return 0;
}

int process_signal(fdk_process *p, int sig, bool group) {
  std::lock_guard<std::mutex> lock(p->mu);
  if (p->state == fdk_process::State::reaped)
    return fail(-ESRCH, "process_signal: process %d has been reaped", static_cast<int>(p->pid));
  int r = group ? kill(-p->pid, sig) : kill_child(p, sig);
  if (r < 0) return fail_sys(neg_errno(), group ? "process_signal_group" : "process_signal");
  return 0;
}

int process_wait(fdk_process *p, fdk_exit_status *status, bool block) {
  // A blocking wait on a running child starts with the wait itself: a WNOHANG reap first
  // would be one more system call per spawn that almost always finds nothing.
  for (bool try_reap = !block;; try_reap = true) {
    int pidfd;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      pidfd = p->pidfd;
      if ((try_reap || p->state != fdk_process::State::running) && reap_locked(p)) {
        if (p->reap_err) return fail(p->reap_err, "process_wait: process %d was reaped by someone else", static_cast<int>(p->pid));
        if (status) *status = p->status;
        return 1;
      }
    }
    if (!block) return 0;
    // Wait without the lock (signals must still get through), and without reaping.
    siginfo_t info{};
    int r = pidfd >= 0 ? waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info, WEXITED | WNOWAIT)
                          : waitid(P_PID, static_cast<id_t>(p->pid), &info, WEXITED | WNOWAIT);
    if (r < 0 && errno != EINTR && errno != ECHILD) return fail_sys(neg_errno(), "process_wait: waitid");
  }
}

int process_pidfd(fdk_process *p) {
  std::lock_guard<std::mutex> lock(p->mu);
  if (p->pidfd >= 0) return p->pidfd;
  if (!pidfd_mode()) return fail(-ENOTSUP, "process_pidfd: no pidfd (FDKIT_PIDFD=0 or not supported)");
  if (p->state == fdk_process::State::reaped)
    return fail(-ESRCH, "process_pidfd: process %d has been reaped", static_cast<int>(p->pid));
  int fd = open_pidfd(p->pid);
  if (fd >= 0) p->pidfd = fd;
  return fd;
}

int process_detach(fdk_process *p) {
  if (!p->loop) return fail(-EINVAL, "process_detach: process %d has no loop to be reaped on", static_cast<int>(p->pid));
  std::lock_guard<std::mutex> lock(p->mu);
  p->detached = true;
  return 0;
}

void process_free(fdk_process *p) {
  bool running;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    p->freed = true;
    running = !reap_locked(p) && !p->detached;
    if (running) kill_child(p, SIGKILL);
  }
  if (running) process_wait(p, nullptr, true);
  if (!p->loop) {
    process_unref(p);
  } else if (on_loop_thread(p->loop)) {
    free_on_loop(p);
  } else {
    post(p->loop, free_posted, p);
  }
}

}  // namespace fdk
