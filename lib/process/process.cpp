// SPDX-License-Identifier: MIT
// Process handles: learning of the exit (a pidfd polled through the loop, or a SIGCHLD
// watcher where pidfds are missing), reaping only when the status is collected or the
// handle freed, signalling only a child that is not reaped yet, and reaping detached
// children whose handle is gone.
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "core/env.h"
#include "core/error.h"
#include "trace/trace.h"
#include "process/process.h"

namespace fdk {
namespace {

// ---- exit watching mode: pidfds, or SIGCHLD where the kernel gives none ----

std::atomic<int> g_pidfd_mode{-1};  // -1 undecided, 0 no pidfds, 1 pidfds

// Whether the kernel gives pidfds fdkit can use: pidfd_open, and waitid(P_PIDFD), which
// came one release later. Probed on the calling process: it is no child of itself, so a
// kernel that knows P_PIDFD answers ECHILD. 1 or 0 once known; a negative errno when the
// moment gives no answer (a full descriptor table, no memory): then nothing is decided.
int probe_pidfds() {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, getpid(), 0));
  if (fd < 0) {
    int err = neg_errno();
    if (err == -EMFILE || err == -ENFILE || err == -ENOMEM)
      return fail_sys(err, "spawn: pidfd_open (probing for pidfds)");
    return 0;
  }
  siginfo_t info{};
  bool ok = waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(fd), &info, WEXITED | WNOHANG) < 0 &&
            errno == ECHILD;
  close(fd);
  return ok ? 1 : 0;
}

// 1 when exits are watched through pidfds, 0 through SIGCHLD (FDKIT_PIDFD=0, or a
// kernel without pidfds), or a negative errno when the probe could not decide yet.
int pidfd_mode() {
  int mode = g_pidfd_mode.load(std::memory_order_relaxed);
  if (mode >= 0) return mode;
  if (env_choice("FDKIT_PIDFD", {"0", "1"}) == 0) mode = 0;
  else if ((mode = probe_pidfds()) < 0) return mode;
  int expected = -1;
  g_pidfd_mode.compare_exchange_strong(expected, mode);
  return g_pidfd_mode.load(std::memory_order_relaxed);
}

// pidfd_open(pid). ENOSYS (an old kernel) or EPERM (a seccomp filter installed after the
// probe) switch SIGCHLD watching on for good and answer -ENOTSUP.
int open_pidfd(pid_t pid) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd >= 0) return fd;
  int err = neg_errno();
  if (err != -ENOSYS && err != -EPERM) return fail_sys(err, "pidfd_open");
  g_pidfd_mode.store(0, std::memory_order_relaxed);
  return fail(-ENOTSUP, "pidfd_open: this kernel gives no pidfds (%s)", errno_text(err));
}

// ---- statuses ----

// PIDFD_GET_INFO (Linux 6.15): glibc 2.36's headers lack it. The kernel takes any size
// from the first version (64 bytes) on.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;  // a raw wait status
  uint32_t coredump_mask;
  uint32_t spare;
};
constexpr uint64_t kPidfdInfoExit = 1u << 3;
constexpr unsigned long kPidfdGetInfo = _IOWR(0xFF, 11, PidfdInfo);

// The wait status of a child that someone else reaped, through the pidfd held since the
// spawn. The kernel records it just after the reap, so a waitid answering ECHILD can come
// a moment before it is there: retry briefly. False on a kernel without it.
bool recover_status(int pidfd, int *wstatus) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    PidfdInfo info{};
    info.mask = kPidfdInfoExit;
    if (ioctl(pidfd, kPidfdGetInfo, &info) < 0) return false;
    if (info.mask & kPidfdInfoExit) {
      *wstatus = info.exit_code;
      return true;
    }
    usleep(50);
  }
  return false;
}

int64_t ns_of(const timeval &tv) { return static_cast<int64_t>(tv.tv_sec) * 1000000000 + tv.tv_usec * 1000; }

constexpr fdk_rusage kNoUsage = {-1, -1, -1, -1, -1, -1, -1, -1, -1};

// ru null: the status came without resource usage (every field -1).
void fill_status(fdk_exit_status *st, int status, const rusage *ru) {
  *st = {};
  if (WIFSIGNALED(status)) {
    st->kind = FDK_EXIT_SIGNAL;
    st->value = WTERMSIG(status);
    st->core_dumped = WCOREDUMP(status) ? 1 : 0;
  } else {
    st->kind = FDK_EXIT_CODE;
    st->value = WEXITSTATUS(status);
  }
  if (!ru) st->usage = kNoUsage;
  else
    st->usage = {ns_of(ru->ru_utime), ns_of(ru->ru_stime), ru->ru_maxrss, ru->ru_minflt, ru->ru_majflt,
                 ru->ru_inblock, ru->ru_oublock, ru->ru_nvcsw, ru->ru_nivcsw};
}

// A waitid answer as a wait status.
int wait_status_of(const siginfo_t &info) {
  switch (info.si_code) {
    case CLD_EXITED: return (info.si_status & 0xff) << 8;
    case CLD_DUMPED: return info.si_status | 0x80;
    default: return info.si_status;
  }
}

// Records that somebody else reaped the child: the status from the pidfd where the
// kernel keeps it, else unknown (with p->mu held).
void reaped_elsewhere_locked(fdk_process *p) {
  int wstatus;
  if (p->pidfd >= 0 && recover_status(p->pidfd, &wstatus)) {
    fill_status(&p->status, wstatus, nullptr);
  } else {
    p->status = {};
    p->status.kind = FDK_EXIT_UNKNOWN;
    p->status.usage = kNoUsage;
    p->reap_err = -ECHILD;
  }
  p->state = fdk_process::State::reaped;
}

// Reaps the child if it has exited (with p->mu held). True once it is reaped. Through
// the pidfd where there is one: a pid alone could name another child of this process
// once somebody else reaped ours.
bool reap_locked(fdk_process *p) {
  if (p->state == fdk_process::State::reaped) return true;
  rusage ru{};
  int wstatus = 0;
  long r;
  if (p->pidfd >= 0) {
    siginfo_t info{};
    while ((r = syscall(SYS_waitid, P_PIDFD, p->pidfd, &info, WEXITED | WNOHANG, &ru)) < 0 && errno == EINTR) {
    }
    if (r == 0 && info.si_pid == 0) return false;
    wstatus = wait_status_of(info);
  } else {
    while ((r = wait4(p->pid, &wstatus, WNOHANG, &ru)) < 0 && errno == EINTR) {
    }
    if (r == 0) return false;
  }
  if (r >= 0) {
    fill_status(&p->status, wstatus, &ru);
    p->state = fdk_process::State::reaped;
  } else if (errno == ECHILD) {
    // The host reaped it (waitpid(-1), or SIGCHLD ignored).
    reaped_elsewhere_locked(p);
  } else {
    return false;
  }
  return true;
}

// waitid(WEXITED | WNOWAIT) on the child, through its pidfd if it has one.
int peek_exit(const fdk_process *p, siginfo_t *info, int options) {
  return p->pidfd >= 0 ? waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(p->pidfd), info, WEXITED | WNOWAIT | options)
                       : waitid(P_PID, static_cast<id_t>(p->pid), info, WEXITED | WNOWAIT | options);
}

// Whether the child has exited, without reaping it (with p->mu held).
bool exited_locked(fdk_process *p) {
  if (p->state != fdk_process::State::running) return true;
  siginfo_t info{};
  int r = peek_exit(p, &info, WNOHANG);
  if (r == 0 && info.si_pid != 0) {
    p->state = fdk_process::State::exited;
    return true;
  }
  if (r < 0 && errno == ECHILD) return reap_locked(p);
  return false;
}

// Closes the pidfd's watch unless it is closing already (the loop's teardown, or an
// earlier close).
void close_watch(fdk_process *p) {
  if (!fd_is_closing(p->watch)) fd_close(p->watch);
}

void destroy(fdk_process *p) {
  // A watch the loop still holds keeps the handle until it is torn down; the handle
  // only borrows the pidfd.
  if (p->watch) {
    close_watch(p);
    fd_unpin(p->watch);
  }
  if (p->pidfd >= 0) close(p->pidfd);
  delete p;
}

void process_ref(fdk_process *p) { p->refs.fetch_add(1, std::memory_order_relaxed); }

void process_unref(fdk_process *p) {
  if (p->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy(p);
}

void unref_posted(void *data) { process_unref(static_cast<fdk_process *>(data)); }

// ---- detached children without a loop ----

// Detached children whose handle was freed and that had no loop to be reaped on: each
// holds a reference here until it is reaped. Swept at every spawn and wait (as CPython's
// subprocess does), and by fdk_process_reap_detached.
std::mutex g_orphans_mu;
std::vector<fdk_process *> g_orphans;
std::atomic<size_t> g_orphan_count{0};

void adopt_orphan(fdk_process *p) {
  process_ref(p);
  std::lock_guard<std::mutex> lock(g_orphans_mu);
  g_orphans.push_back(p);
  g_orphan_count.store(g_orphans.size(), std::memory_order_relaxed);
}

// Reaps the orphans that exited; the count still running.
size_t sweep_orphans() {
  if (g_orphan_count.load(std::memory_order_relaxed) == 0) return 0;
  std::vector<fdk_process *> reaped;
  size_t left;
  {
    std::lock_guard<std::mutex> lock(g_orphans_mu);
    for (size_t i = 0; i < g_orphans.size();) {
      fdk_process *p = g_orphans[i];
      bool done;
      {
        std::lock_guard<std::mutex> plock(p->mu);
        done = reap_locked(p);
      }
      if (!done) {
        ++i;
        continue;
      }
      reaped.push_back(p);
      g_orphans[i] = g_orphans.back();
      g_orphans.pop_back();
    }
    left = g_orphans.size();
    g_orphan_count.store(left, std::memory_order_relaxed);
  }
  for (fdk_process *p : reaped) process_unref(p);
  return left;
}

// ---- exit callback ----

// The exit callback as an operation of the loop, so a pending one keeps the loop running
// and loop teardown cancels it. Without a callback it only keeps the loop running for a
// freed detached child until it is reaped.
class ExitOp final : public fdk_op {
 public:
  // Its span lasts from the spawn to the exit callback.
  ExitOp(fdk_loop *loop, fdk_process *p) : fdk_op(loop), proc_(p) {
    process_ref(p);
    span_.begin("exit", p->pidfd, nullptr, loop);
  }
  ~ExitOp() override { process_unref(proc_); }

  void cancel() override { finish(-ECANCELED); }
  // Never runs the callback once fdk_process_free began, and free waits for a callback
  // that already runs, so none runs after free returned.
  void deliver(int64_t result) override {
    span_.end(result);
    if (!proc_->exit_cb) return;
    {
      std::lock_guard<std::mutex> lock(proc_->mu);
      if (proc_->freed) return;
      proc_->in_callback = true;
      proc_->callback_thread = std::this_thread::get_id();
    }
    proc_->exit_cb(proc_, static_cast<int>(result), proc_->data);
    {
      std::lock_guard<std::mutex> lock(proc_->mu);
      proc_->in_callback = false;
    }
    proc_->callback_done.notify_all();
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

void start_exit_op(fdk_process *p, fdk_loop *loop) {
  auto *op = new ExitOp(loop, p);
  p->exit_op = op;
  op_start(op, nullptr);
}

// Loop thread: the child has exited.
void on_exited(fdk_process *p) {
  if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(0);
  std::lock_guard<std::mutex> lock(p->mu);
  // A freed (detached) child is reaped as soon as it exits.
  if (p->freed) reap_locked(p);
}

// Loop thread: the loop no longer watches the child; its exit callback is cancelled.
void on_unwatched(fdk_process *p) {
  if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(-ECANCELED);
}

// Loop thread: the process is done with its loop, which it may outlive: nothing reads the
// loop from it again (a detached child still running is left to the loop-less reaper).
void forget_loop(fdk_process *p) {
  std::lock_guard<std::mutex> lock(p->mu);
  p->loop = nullptr;
}

// Loop thread: a freed detached child that still runs keeps the loop running until it is
// reaped, whatever the loop's run mode.
void keep_loop_for(void *data) {
  auto *p = static_cast<fdk_process *>(data);
  fdk_loop *loop;
  bool running;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    loop = p->loop;
    running = p->state == fdk_process::State::running;
  }
  if (loop && running && !p->exit_op) start_exit_op(p, loop);
  process_unref(p);
}

// ---- pidfd mode ----

void close_watch_posted(void *data) {
  auto *p = static_cast<fdk_process *>(data);
  close_watch(p);
  process_unref(p);
}

// Loop thread, outside the readiness engine's wake-up: a watch that ended (the child
// exited, or the watch could not be renewed) is closed here, on its loop's thread, and
// only then is the loop forgotten, so that a free on another thread never closes a watch
// the loop is still using.
void retire_watch_posted(void *data) {
  auto *p = static_cast<fdk_process *>(data);
  close_watch(p);
  forget_loop(p);
  process_unref(p);
}

void on_pidfd_ready(Waiter *w, int status) {
  fdk_process *p = static_cast<fdk_process::PidfdWaiter *>(w)->process;
  fdk_loop *loop;
  {
    std::lock_guard<std::mutex> lock(p->mu);
    loop = p->loop;
  }
  if (status == 0) {
    cancel_wait(w);  // a report leaves the waiter on the list: it waits again below, or not at all
    bool exited;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      exited = exited_locked(p);
    }
    if (exited) on_exited(p);
    else if (wait_ready(loop, p->watch, &p->waiter, Direction::read) == 0) return;  // keeps its reference
    else on_unwatched(p);
    post(loop, retire_watch_posted, p);
    return;
  }
  // The watch was closed, or the loop is going away.
  on_unwatched(p);
  forget_loop(p);
  // Dropped outside the readiness engine's wake-up, which must not see the handle closed.
  post(loop, unref_posted, p);
}

int watch_pidfd(fdk_process *p, fdk_loop *loop) {
  // Blocking: waits use the pidfd with waitid(P_PIDFD). Borrowed: the process owns it.
  p->watch = fd_alloc(p->pidfd, FDK_FD_BLOCKING | FDK_FD_BORROW);
  if (!p->watch) return fail(-ENOMEM, "spawn: out of memory");
  p->waiter.on_ready = on_pidfd_ready;
  p->waiter.process = p;
  process_ref(p);
  if (int r = wait_ready(loop, p->watch, &p->waiter, Direction::read); r < 0) {
    process_unref(p);
    return fail_sys(r, "spawn: watching the pidfd");
  }
  return 0;
}

// ---- SIGCHLD fallback ----

// One libuv SIGCHLD watcher per loop, alive while fdkit children on that loop run. As an
// operation, loop teardown reaches it. Adding a child costs O(1); every wake-up with
// signals scans the loop's children once (waitid on each of their pids, never -1), after
// libuv delivered all the signals of that wake-up.
class SigchldWatch final : public fdk_op {
 public:
  explicit SigchldWatch(fdk_loop *loop) : fdk_op(loop) {}

  int start();
  // Adds a child and looks at it once (O(1)): one that exited before the watcher could
  // hear of it is finished now; its callback still comes from the loop.
  void add(fdk_process *p) {
    bool exited;
    {
      std::lock_guard<std::mutex> lock(p->mu);
      exited = exited_locked(p);
    }
    if (exited) {
      on_exited(p);
      stop_if_idle();
      return;
    }
    process_ref(p);
    procs_.push_back(p);
  }
  void stop_if_idle() {
    if (procs_.empty()) stop(0);
  }
  void scan_now() {
    check();
    stop_if_idle();
  }
  void cancel() override { stop(-ECANCELED); }
  void deliver(int64_t) override {}

 private:
  static void on_signal(uv_signal_t *handle, int);
  static void on_scan(uv_check_t *handle);
  static void on_poll(uv_timer_t *handle);
  template <class Handle>
  static void close_handle(Handle *handle) {
    uv_close(reinterpret_cast<uv_handle_t *>(handle), [](uv_handle_t *h) {
      auto *loop = static_cast<fdk_loop *>(h->data);
      delete reinterpret_cast<Handle *>(h);
      handle_closed(loop);
    });
  }
  void check();
  void stop(int result);

  uv_signal_t *signal_ = nullptr;
  uv_check_t *scan_ = nullptr;
  uv_timer_t *poll_ = nullptr;
  std::vector<fdk_process *> procs_;
};

std::mutex g_sigchld_mu;
std::vector<SigchldWatch *> g_sigchld_watches;
int g_sigchld_active = 0;
// While fdkit watches, SIGCHLD runs fdkit's handler, which calls libuv's (the wake-up of
// the watchers) and then the host's, with the real arguments. Written only while fdkit's
// handler is not installed.
struct sigaction g_host_sigchld;
struct sigaction g_libuv_sigchld;

void call_action(const struct sigaction &act, int sig, siginfo_t *info, void *context) {
  if (act.sa_flags & SA_SIGINFO) {
    if (act.sa_sigaction) act.sa_sigaction(sig, info, context);
  } else if (act.sa_handler != SIG_DFL && act.sa_handler != SIG_IGN) {
    act.sa_handler(sig);
  }
}

void on_sigchld(int sig, siginfo_t *info, void *context) {
  int saved = errno;
  call_action(g_libuv_sigchld, sig, info, context);
  call_action(g_host_sigchld, sig, info, context);
  errno = saved;
}

bool is_fdkit_action(const struct sigaction &act) {
  return (act.sa_flags & SA_SIGINFO) && act.sa_sigaction == on_sigchld;
}

// Whether SIGCHLD still reaches fdkit: a host may install its own handler over fdkit's.
bool sigchld_reaches_fdkit() {
  struct sigaction now;
  sigaction(SIGCHLD, nullptr, &now);
  return is_fdkit_action(now);
}

// Polling period of the loop's children once fdkit's handler was replaced.
constexpr uint64_t kReplacedPollMs = 50;

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
  scan_ = new uv_check_t;
  uv_check_init(loop->uv, scan_);
  scan_->data = this;
  handle_opened(loop);
  poll_ = new uv_timer_t;
  uv_timer_init(loop->uv, poll_);
  poll_->data = this;
  handle_opened(loop);
  uv_timer_start(poll_, on_poll, kReplacedPollMs, kReplacedPollMs);
  uv_unref(reinterpret_cast<uv_handle_t *>(poll_));  // the watcher's operation keeps the loop
  std::lock_guard<std::mutex> lock(g_sigchld_mu);
  // libuv installs its own handler without keeping the host's: fdkit keeps the host's,
  // puts its own handler over libuv's and chains to both.
  if (g_sigchld_active == 0) sigaction(SIGCHLD, nullptr, &g_host_sigchld);
  int r = uv_signal_start(signal_, on_signal, SIGCHLD);
  if (r == 0 && g_sigchld_active == 0) {
    struct sigaction ours{};
    sigaction(SIGCHLD, nullptr, &g_libuv_sigchld);
    ours.sa_sigaction = on_sigchld;
    ours.sa_flags = SA_SIGINFO | SA_RESTART | (g_libuv_sigchld.sa_flags & SA_ONSTACK);
    sigfillset(&ours.sa_mask);
    sigaction(SIGCHLD, &ours, nullptr);
  }
  if (r < 0) {
    poll_->data = loop;
    close_handle(poll_);
    signal_->data = loop;
    scan_->data = loop;
    close_handle(signal_);
    close_handle(scan_);
    return fail(r, "spawn: SIGCHLD watcher: %s", uv_strerror(r));
  }
  ++g_sigchld_active;
  g_sigchld_watches.push_back(this);
  op_start(this, nullptr);
  return 0;
}

void SigchldWatch::on_signal(uv_signal_t *handle, int) {
  auto *self = static_cast<SigchldWatch *>(handle->data);
  // The scan comes once per wake-up, after every signal of it.
  uv_check_start(self->scan_, on_scan);
}

// A host that installed its own SIGCHLD handler over fdkit's keeps fdkit from hearing of
// exits: from then on the loop's children are polled.
void SigchldWatch::on_poll(uv_timer_t *handle) {
  auto *self = static_cast<SigchldWatch *>(handle->data);
  if (sigchld_reaches_fdkit()) return;
  Dispatch scope(self->loop);
  self->scan_now();
}

void SigchldWatch::on_scan(uv_check_t *handle) {
  auto *self = static_cast<SigchldWatch *>(handle->data);
  uv_check_stop(handle);
  Dispatch scope(self->loop);
  self->scan_now();
}

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
    procs_[i] = procs_.back();
    procs_.pop_back();
    on_exited(p);
    process_unref(p);
  }
}

void SigchldWatch::stop(int result) {
  if (state != State::pending || !signal_) return;
  {
    std::lock_guard<std::mutex> lock(g_sigchld_mu);
    g_sigchld_watches.erase(std::find(g_sigchld_watches.begin(), g_sigchld_watches.end(), this));
    // The last watcher puts the host's handler back, unless the host installed one since:
    // that one stays (libuv's stop resets the action to SIG_DFL, so it is put back too).
    struct sigaction now;
    sigaction(SIGCHLD, nullptr, &now);
    uv_signal_stop(signal_);
    if (--g_sigchld_active == 0) sigaction(SIGCHLD, is_fdkit_action(now) ? &g_host_sigchld : &now, nullptr);
  }
  signal_->data = loop;
  scan_->data = loop;
  poll_->data = loop;
  close_handle(signal_);
  close_handle(scan_);
  close_handle(poll_);
  signal_ = nullptr;
  scan_ = nullptr;
  poll_ = nullptr;
  for (fdk_process *p : procs_) {
    on_unwatched(p);
    forget_loop(p);
    process_unref(p);
  }
  procs_.clear();
  if (result < 0) op_complete_with_detail(this, result, "process: loop freed");
  else op_complete(this, result);
}

// The loop's SIGCHLD watcher, started if needed.
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

// Stops the loop's SIGCHLD watcher if it watches no child (one started before a clone
// whose child needs no watching).
void stop_idle_sigchld(fdk_loop *loop) {
  if (SigchldWatch *w = find_sigchld(loop)) w->stop_if_idle();
}

// Watches a child on its loop: through its pidfd, else through the loop's SIGCHLD watcher
// (normally started before the clone; started now when pidfds went missing during the
// spawn, a seccomp filter installed after fdkit probed for them). The steps that can
// fail come first, so that a failure leaves nothing to undo but the child.
int watch_exit(fdk_process *p, fdk_loop *loop) {
  bool running = p->state != fdk_process::State::reaped;
  SigchldWatch *sigchld = nullptr;
  if (running)
    if (int r = p->pidfd >= 0 ? watch_pidfd(p, loop) : acquire_sigchld(loop, &sigchld); r < 0) return r;
  if (p->exit_cb) start_exit_op(p, loop);
  if (sigchld) {
    sigchld->add(p);
  } else if (!running) {
    // Lost before it could be watched: the callback comes from the loop, as for any exit.
    if (p->exit_op) static_cast<ExitOp *>(p->exit_op)->finish(0);
    stop_idle_sigchld(loop);
  }
  return 0;
}

// Signals the child, never a stranger: through the pidfd, else by pid only while the
// pid is still this process's child (with p->mu held).
int kill_child_locked(fdk_process *p, int sig, bool group) {
  if (p->pidfd >= 0 && !group) return static_cast<int>(syscall(SYS_pidfd_send_signal, p->pidfd, sig, nullptr, 0));
  // A pid (or group id) is safe to use only while the child is not reaped; somebody else
  // may have reaped it.
  siginfo_t info{};
  if (peek_exit(p, &info, WNOHANG) < 0 && errno == ECHILD) {
    reaped_elsewhere_locked(p);
    errno = ESRCH;
    return -1;
  }
  return kill(group ? -p->pid : p->pid, sig);
}

// A child whose spawn fails after the clone (its exit cannot be watched) is killed and
// reaped at once, leaving the spawn's error text as it is.
void discard_child(fdk_process *p) {
  {
    std::lock_guard<std::mutex> lock(p->mu);
    if (!reap_locked(p)) {
      kill_child_locked(p, SIGKILL, false);
      siginfo_t info{};
      while (peek_exit(p, &info, 0) < 0 && errno == EINTR) {
      }
      reap_locked(p);
    }
  }
  process_unref(p);
}

}  // namespace

int process_start(fdk_process **out, fdk_loop *loop, const fdk_actions *actions, unsigned flags, fdk_exit_cb cb, void *data) {
  sweep_orphans();
  int mode = pidfd_mode();
  if (mode < 0) return mode;
  // The watcher runs before the clone: fdkit's SIGCHLD handler is in place when a fast
  // child exits (under a host that ignores SIGCHLD the kernel would reap it unseen).
  SigchldWatch *sigchld = nullptr;
  if (loop && mode == 0)
    if (int r = acquire_sigchld(loop, &sigchld); r < 0) return r;
  Launch l;
  Span span;
  span.begin("spawn", -1, nullptr, loop);
  int r = launch(actions, flags & FDK_SPAWN_BACKEND_MASK, mode == 1, &l);
  // A backend without CLONE_PIDFD (posix_spawn): the pidfd is opened now. Only a child
  // that somebody else reaped meanwhile can be missing (or its pid already reused), which
  // waitid on the pidfd tells: then its status is lost, and it is never signalled.
  bool lost = false;
  if (r == 0 && mode == 1 && l.pidfd < 0) {
    l.pidfd = open_pidfd(l.pid);
    siginfo_t info{};
    if (l.pidfd == -ESRCH) {
      lost = true;
    } else if (l.pidfd >= 0 && waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(l.pidfd), &info,
                                      WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
      close(l.pidfd);
      lost = true;
    }
    if (l.pidfd < 0 || lost) l.pidfd = -1;
  }
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
  if (lost) reaped_elsewhere_locked(p);
  if (loop) {
    if (r = watch_exit(p, loop); r < 0) {
      discard_child(p);
      stop_idle_sigchld(loop);
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
  int r = kill_child_locked(p, sig, group);
  if (r < 0) return fail_sys(neg_errno(), group ? "process_signal_group" : "process_signal");
  return 0;
}

int process_wait(fdk_process *p, fdk_exit_status *status, bool block) {
  sweep_orphans();
  // A blocking wait on a running child starts with the wait itself: a WNOHANG reap first
  // would be one more system call per spawn that almost always finds nothing.
  for (bool try_reap = !block;; try_reap = true) {
    {
      std::lock_guard<std::mutex> lock(p->mu);
      if ((try_reap || p->state != fdk_process::State::running) && reap_locked(p)) {
        if (status) *status = p->status;
        if (p->reap_err)
          return fail(p->reap_err, "process_wait: the exit status of process %d is lost: somebody else reaped it",
                      static_cast<int>(p->pid));
        return 1;
      }
    }
    if (!block) return 0;
    // Wait without the lock (signals must still get through), and without reaping.
    siginfo_t info{};
    if (peek_exit(p, &info, 0) < 0 && errno != EINTR && errno != ECHILD)
      return fail_sys(neg_errno(), "process_wait: waitid");
  }
}

int process_pidfd(fdk_process *p) {
  if (p->pidfd >= 0) return p->pidfd;
  if (g_pidfd_mode.load(std::memory_order_relaxed) != 1)
    return fail(-ENOTSUP, "process_pidfd: no pidfd (FDKIT_PIDFD=0 or not supported)");
  return fail(-ESRCH, "process_pidfd: process %d has no pidfd: somebody else reaped it before fdkit held one, or none "
              "could be opened", static_cast<int>(p->pid));
}

int process_detach(fdk_process *p) {
  std::lock_guard<std::mutex> lock(p->mu);
  p->detached = true;
  return 0;
}

void process_free(fdk_process *p) {
  std::unique_lock<std::mutex> lock(p->mu);
  p->freed = true;
  // An exit callback that runs on another thread ends before free returns (one that
  // frees its own process does not wait for itself).
  p->callback_done.wait(lock, [p] { return !p->in_callback || p->callback_thread == std::this_thread::get_id(); });
  bool running = !reap_locked(p);
  if (running && !p->detached) {
    kill_child_locked(p, SIGKILL, false);
    lock.unlock();
    process_wait(p, nullptr, true);
    lock.lock();
    running = false;
  }
  bool orphan = running && !p->loop;
  // Stop watching a reaped child: its callback is cancelled and the pidfd closes with the
  // process. On the loop thread (outside p->mu: the watch ends inside the close), so that
  // the watch is gone before the process, and with it the pidfd, can be.
  bool close_watch_now = false;
  if (running && p->loop) {
    // Reaped on its loop when it exits, which keeps the loop running till then. Posted
    // under the lock: the loop's teardown takes it to forget the loop.
    process_ref(p);
    post(p->loop, keep_loop_for, p);
  } else if (!running && p->watch) {
    if (!p->loop || on_loop_thread(p->loop)) {
      close_watch_now = true;
    } else {
      process_ref(p);
      post(p->loop, close_watch_posted, p);
    }
  }
  lock.unlock();
  if (close_watch_now) close_watch(p);
  if (orphan) adopt_orphan(p);  // outside p->mu: a sweep takes the list's lock first
  process_unref(p);
}

int process_reap_detached() { return static_cast<int>(std::min<size_t>(sweep_orphans(), INT32_MAX)); }

}  // namespace fdk
