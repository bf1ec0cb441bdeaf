/* SPDX-License-Identifier: MIT */
// The engine behind every descriptor operation: try the call, wait for readiness on
// EAGAIN, retry; or, for descriptors epoll refuses, run it on the worker pool.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "fd/fd.h"
#include "fd/readiness.h"
#include "loop/work.h"
#include "trace/trace.h"

namespace fdk {

// An I/O task is a movable object with:
//   int64_t attempt(fdk_fd *fd, int raw, bool must_not_block);
//       one system call on raw; -EAGAIN when it would block. must_not_block is set for an
//       asynchronous call on a blocking-mode descriptor that poll(2) just found ready: the
//       call must then take only what is there (MSG_DONTWAIT, at most PIPE_BUF bytes...).
//   optionally int64_t attempt_nonblocking(int raw): the same call for an asynchronous
//       operation on a non-blocking descriptor, which cannot block (so it need not be a
//       cancellation point: made inline, core/syscall.h).
//   void deliver(int64_t result);   loop thread: the user's callback.
//   void discard(int64_t result);   loop thread: undo a success nobody will receive.
//   optionally, for a read: bool fills_buffer(int64_t result) const;   whether result filled
//       a buffer large enough that more is most likely waiting (note_read_filled, fd.h).

// The iovecs an operation passes on: the caller's array for a synchronous call, a copy for
// an asynchronous one (the caller's array may be gone before the call is made). A single
// buffer, the common case, is kept inline, so a typical operation allocates nothing for
// it and a pending read stays small.
struct Iovecs {
  const iovec *iov;
  int count;

  // Inline but for the heap copy: every new asynchronous read and write makes one.
  [[gnu::always_inline]] Iovecs(const iovec *v, int n, bool keep_copy) : iov(v), count(n) {
    if (!keep_copy || n == 0) return;
    if (n == 1) {
      one_ = v[0];
      iov = &one_;
      kept_ = Kept::inline_one;
    } else {
      keep_on_heap(v, n);
    }
  }
  Iovecs(Iovecs &&o) noexcept : iov(o.iov), count(o.count), kept_(o.kept_) {
    if (kept_ == Kept::inline_one) {
      one_ = o.one_;
      iov = &one_ + (o.iov - &o.one_);  // advance() may have moved past it
    } else if (kept_ == Kept::heap) {
      heap_ = o.heap_;
      o.kept_ = Kept::none;
    }
  }
  Iovecs(const Iovecs &) = delete;
  Iovecs &operator=(const Iovecs &) = delete;
  ~Iovecs() {
    if (kept_ == Kept::heap) delete[] heap_;
  }

  // A kept copy of v now, in place of what this one held: one buffer without a call nor
  // anything that can throw; an array's copy is made before the old one goes, so a
  // failure (it throws) leaves this one as it was.
  void assign_one(const iovec &v) noexcept {
    if (kept_ == Kept::heap) delete[] heap_;
    one_ = v;
    iov = &one_;
    count = 1;
    kept_ = Kept::inline_one;
  }
  void assign(const iovec *v, int n) {
    if (n == 1) return assign_one(v[0]);
    Iovecs fresh(v, n, true);
    this->~Iovecs();
    new (this) Iovecs(std::move(fresh));
  }

  // Drops the first n bytes, of a copy only (what a short transfer already moved).
  void advance(size_t n) {
    auto *v = const_cast<iovec *>(iov);
    while (count > 0 && n >= v->iov_len) {
      n -= v->iov_len;
      ++v;
      --count;
    }
    if (count > 0) {
      v->iov_base = static_cast<char *>(v->iov_base) + n;
      v->iov_len -= n;
    }
    iov = v;
  }

  // The bytes the vector holds.
  size_t bytes() const {
    size_t n = 0;
    for (int i = 0; i < count; ++i) n += iov[i].iov_len;
    return n;
  }

  // Whether a copy is on the heap (assigning another frees it).
  bool on_heap() const { return kept_ == Kept::heap; }

  void into(msghdr &msg) const {
    msg.msg_iov = const_cast<iovec *>(iov);
    msg.msg_iovlen = static_cast<size_t>(count);
  }

  // At most limit bytes' worth of the vector, for a write that must not block.
  std::vector<iovec> capped(size_t limit) const {
    std::vector<iovec> out;
    for (int i = 0; i < count && limit > 0; ++i) {
      size_t n = std::min(iov[i].iov_len, limit);
      out.push_back({iov[i].iov_base, n});
      limit -= n;
    }
    return out;
  }

 private:
  [[gnu::noinline]] void keep_on_heap(const iovec *v, int n) {
    heap_ = new iovec[static_cast<size_t>(n)];
    std::copy(v, v + n, heap_);
    iov = heap_;
    kept_ = Kept::heap;
  }

  // The copy: one buffer inline, more on the heap (iov may move past heap_'s start).
  enum class Kept : uint8_t { none, inline_one, heap };
  Kept kept_ = Kept::none;
  union {
    iovec one_;
    iovec *heap_;
  };
};

// One write of v on raw: send(MSG_NOSIGNAL) on a socket, otherwise pwritev2(RWF_NOSIGNAL),
// or write(2) with SIGPIPE held back where the flag is refused; with must_not_block, at
// most what cannot block (see the task contract).
int64_t writev_attempt(fdk_fd *fd, int raw, const Iovecs &v, bool must_not_block);

// Waits with poll(2) for dir on raw: 0 once ready, -EAGAIN when timeout_ms passed first;
// EINTR is retried.
int poll_wait(int raw, Direction dir, int timeout_ms);

// The result a task's trace span reports: the task may map private codes of its own
// (int64_t reported(int64_t) const) to the errno its caller will see.
template <class Task>
int64_t reported(const Task &task, int64_t r) {
  if constexpr (requires { task.reported(r); }) return task.reported(r);
  else return r;
}

// What a synchronous call goes on with after its first attempt failed: EINTR is retried,
// and EAGAIN on a non-blocking descriptor waits with poll(2); a failure gets its detail.
// Out of line, so the call that succeeds at once runs a short straight path.
template <class Task>
[[gnu::noinline]] int64_t sync_io_retry(fdk_fd *fd, int raw, Direction dir, Task &task, const char *what, int64_t r) {
  for (;;) {
    if (r == -EAGAIN && !fd_is_blocking(fd)) {
      r = poll_wait(raw, dir, -1);
      if (r == 0) r = -EINTR;
    }
    if (r != -EINTR) break;
    r = task.attempt(fd, raw, false);
  }
  if (r < 0 && r != -EAGAIN) fail_sys(static_cast<int>(r), what);
  return r;
}

// The synchronous form: one call, waiting with poll(2) while a non-blocking descriptor
// answers EAGAIN.
template <class Task>
int64_t sync_io(fdk_fd *fd, Direction dir, Task &task, const char *what) {
  Span span;
  span.begin(what, fd->raw, nullptr);
  int raw;
  if (fd_use(fd, &raw) < 0) {
    span.end(-EBADF);
    return fail(-EBADF, "%s: the handle is closed", what);
  }
  int64_t r = task.attempt(fd, raw, false);
  if (__builtin_expect(r < 0, 0)) r = sync_io_retry(fd, raw, dir, task, what, r);
  fd_unuse(fd);
  span.end(reported(task, r));
  return r;
}

// The worker-pool form of an I/O task.
template <class Task>
struct WorkerIo {
  fdk_fd *fd;
  Direction dir;
  Task task;
  const char *what;

  WorkerIo(fdk_fd *f, Direction d, Task &&t, const char *w) : fd(f), dir(d), task(std::move(t)), what(w) { fd_pin(fd); }
  WorkerIo(WorkerIo &&o) noexcept : fd(std::exchange(o.fd, nullptr)), dir(o.dir), task(std::move(o.task)), what(o.what) {}
  ~WorkerIo() {
    if (fd) fd_unpin(fd);
  }
  int64_t run() { return sync_io(fd, dir, task, what); }
  void deliver(int64_t r) { task.deliver(r); }
  void discard(int64_t r) { task.discard(r); }
};

// Reads and writes of descriptors epoll refuses, for tasks with a file_request() (io/file_io.h).
template <class Task>
int start_file_io(fdk_loop *loop, fdk_fd *fd, Direction dir, Task &&task, fdk_op **out, const char *what);

// Starts task on the engines of descriptors epoll refuses: the file engines for a task with
// a file_request(), else the worker pool.
template <class Task>
int start_unpollable(fdk_loop *loop, fdk_fd *fd, Direction dir, Task &&task, fdk_op **out, const char *what) {
  if constexpr (requires { task.file_request(); })
    return start_file_io(loop, fd, dir, std::move(task), out, what);
  else
    return start_work(loop, WorkerIo<Task>(fd, dir, std::move(task), what), out, what);
}

// True, and remembered, when fd is of a kind epoll always accepts (a pipe, a socket, an
// anonymous inode such as an eventfd), so its registration can wait for the next batch.
bool learn_pollable_kind(fdk_fd *fd);

// Whether a read of task can be tried before fd's kind is known: a task with an
// attempt_nowait (preadv2 with RWF_NOWAIT) never blocks whatever the descriptor, so its
// try needs neither the kind (fstat) nor the mode (fcntl), where the kernel takes the flag
// for the descriptor.
template <class Task>
bool tries_before_kind(fdk_fd *fd, const Task &task) {
  if constexpr (requires { task.attempt_nowait(0); }) return !fd_learned(fd, fdk_fd::kNoNowaitRead);
  else return false;
}

// The direction is a template argument, so a pending operation does not carry it.
//
// The operation holds no pin of the handle: it reads fd_ only inside its starting call (the
// caller holds a reference) and inside a wake-up by the watch of its loop (the watch holds
// a pin until its waiters were woken, fd.h); an engine it is rerouted to pins its own. A
// read re-armed from its callback so pays no atomic pin and unpin.
template <class Task, Direction Dir>
class IoOp final : public fdk_op, private Waiter {
 public:
  IoOp(fdk_loop *loop, fdk_fd *fd, Task &&task, const char *what)
      : fdk_op(loop), fd_(fd), task_(std::move(task)), what_(what) {
    Waiter::on_ready = on_ready;
  }
  // A completed operation may still be on the watch that woke it (on_ready).
  ~IoOp() override { cancel_wait(this); }

  void begin(fdk_op **out) {
    span_.begin(what_, fd_->raw, nullptr, loop);
    // Pending, it waits on the loop's watch of fd_ or has handed its task to a file
    // engine's operation, which is on the list (reroute): cancel reaches it through either.
    op_start_watched(this, out);
    wait_or_try();
  }

  void cancel() override {
    if (fdk_op *inner = rerouted_to()) {
      // On a file engine: its completion, -ECANCELED or what it did before, completes this.
      if (inner->state == State::pending) inner->cancel();
      return;
    }
    cancel_wait(this);
    op_complete_with_detail(this, -ECANCELED, std::string(what_) + ": operation cancelled");
  }

  void deliver(int64_t result) override {
    if (__builtin_expect(span_.open(), 0)) end_span(result);  // out of line: no frame here
    if constexpr (requires { Task::kKeptOnRearm; }) loop->rearmable = this;
    task_.deliver(result);
  }

  // Whether a read of fd started from this operation's callback (loop->rearmable) can take
  // this operation over: same handle, still open, not rerouted to a file engine, of a kind
  // for which start_io would make this same operation without asking anything, and no
  // cancel from another thread on its way (its request holds a reference; it must not
  // land on the new read).
  bool takes_rearm(fdk_fd *fd) const {
    if (rerouted_to() || fd != fd_ || fd_is_closing(fd) || refs.load(std::memory_order_relaxed) != 1) return false;
    uint16_t kind = fd->learned.load(std::memory_order_relaxed) & (fdk_fd::kPollable | fdk_fd::kUnpollable);
    return kind == fdk_fd::kPollable || (kind == 0 && tries_before_kind(fd, task_));
  }

  // rearm() of the common case, inline and without a call: the same handle, still open and
  // known pollable and non-blocking, no cancel on its way, the operation still on the watch
  // that woke it with the readiness spent since (so the read waits on there, as
  // wait_or_try would have it), no failure detail to drop, nobody tracing, and nothing of
  // the task's to free. False, with nothing changed, when any of that does not hold:
  // rearm() then does what the rules ask.
  template <class... Args>
  [[gnu::always_inline]] bool rearm_at_once(fdk_fd *fd, const char *what, fdk_op **out, Args &&...args) {
    // The atomic loads first: the fields tested after them are then not loaded again.
    if (fd_is_closing(fd) || !tries_plainly(fd->learned.load(std::memory_order_relaxed)) ||
        refs.load(std::memory_order_relaxed) != 1 || trace_listening())
      return false;
    Watch *watch = Waiter::watch;  // null once rerouted to a file engine (reroute)
    if (fd != fd_ || !watch || !watch->read_spent() || detail || !task_.retargets_freely()) return false;
    task_.retarget(std::forward<Args>(args)...);
    loop->rearmable = nullptr;
    what_ = what;
    op_rearmed(this, out);
    return true;
  }

  // Starts the read that task_.retarget(args...) makes of the finished task, on this
  // operation, whose callback is running: no allocation and no new operation, and every
  // rule of a fresh start (begin) holds. The caller's fdk_op is this one again, and names
  // the new read from now on. retarget may throw (an iovec array copied) only before it
  // changed anything: the operation must then stay whole for deliver_ready to drop.
  template <class... Args>
  void rearm(const char *what, fdk_op **out, Args &&...args) {
    task_.retarget(std::forward<Args>(args)...);
    loop->rearmable = nullptr;
    what_ = what;
    detail.reset();
    span_.begin(what_, fd_->raw, nullptr, loop);
    op_rearmed(this, out);
    wait_or_try();
  }

 private:
  // The operation's task, lent to a file engine once epoll refused the descriptor: the
  // engine's operation moves the task's bytes and completes this one, which the caller holds.
  struct Lent {
    IoOp *op;
    int64_t attempt(fdk_fd *fd, int raw, bool nb) { return op->task_.attempt(fd, raw, nb); }
    auto file_request()
      requires requires(Task &t) { t.file_request(); }
    {
      return op->task_.file_request();
    }
    void deliver(int64_t r) { op_complete(op, r); }  // a failure's detail is the engine's, set now
    void discard(int64_t r) { op->task_.discard(r); }
  };

  // What attempt() answers when the kernel refused RWF_NOWAIT for the descriptor (now
  // remembered): never a result of a call.
  static constexpr int64_t kNowaitRefused = INT64_MIN;

  // Woken by a report, the operation stays on the watch's list whatever it does next: it
  // waits on when its try finds nothing; completed, it stays there until its callback
  // re-arms it for the same handle (wait_or_try), or it goes (~IoOp). A report that finds
  // it completed still makes it leave: otherwise the direction, wanted by nobody, would
  // stay registered and be reported again and again before its callback runs.
  //
  // A read woken on a handle known pollable and non-blocking, the wake-up of every read a
  // busy loop delivers, makes its call and queues its result here, calling nothing and
  // saving two registers: anything else (a failure, a full buffer, a handle not known so
  // well) goes on out of line, as step() would.
  static void on_ready(Waiter *w, int status) {
    auto &op = static_cast<IoOp &>(*w);  // a reference: no test for a null pointer
    if constexpr (requires { op.task_.attempt_nonblocking(0); }) {
      fdk_fd *fd = op.fd_;
      if (__builtin_expect(status == 0 && op.state == State::pending && !fd_is_closing(fd) &&
                               tries_plainly(fd->learned.load(std::memory_order_relaxed)),
                           1)) {
        int64_t r = op.task_.attempt_nonblocking(fd->raw);
        if (__builtin_expect(r >= 0 && r < static_cast<int64_t>(kFullReadMin), 1)) return op_ready(&op, r);
        if (r != -EAGAIN) op.conclude_woken(r);  // else it waits on, still on the list
        return;
      }
      op.woken_out_of_line(status);
    } else {
      op.woken(status);
    }
  }

  // Every wake-up but the plain read's: gone on with as the rules of on_ready say.
  [[gnu::always_inline]] void woken(int status) {
    if (__builtin_expect(state != State::pending, 0)) {
      cancel_wait(this);  // off the list already when the watch ended
      return;
    }
    if (__builtin_expect(status < 0, 0)) not_ready(status);
    else step(true);
  }
  [[gnu::noinline]] void woken_out_of_line(int status) { woken(status); }

  // What a woken try that neither completed plainly nor found nothing goes on with.
  [[gnu::noinline]] void conclude_woken(int64_t r) {
    if (r == -EINTR) step(true);
    else conclude(r);
  }

  // The end of a try that completed (r is neither -EAGAIN nor -EINTR).
  [[gnu::always_inline]] void conclude(int64_t r) {
    if constexpr (requires { task_.fills_buffer(r); })
      if (task_.fills_buffer(r)) note_read_filled(loop, fd_);
    // Never on the pending list (op_start_watched): a success is queued inline.
    if (r < 0) op_complete(this, fail_sys(static_cast<int>(r), what_));
    else op_ready(this, r);
  }

  [[gnu::noinline]] void end_span(int64_t result) { span_.end(reported(task_, result)); }

  // Woken with a failure instead of readiness.
  [[gnu::cold, gnu::noinline]] void not_ready(int status) {
    if (status == -ECANCELED) {
      op_complete_with_detail(this, status, std::string(what_) + ": the handle was closed while waiting");
      return;
    }
    if (status == -EPERM && fd_learned(fd_, fdk_fd::kUnpollable)) {
      // Refused at the deferred registration: a read of a descriptor of unknown kind found
      // no data, and it is a file (or block device) whose data is not cached.
      if (Dir == Direction::read) fd_learn(fd_, fdk_fd::kColdData);
      reroute();
      return;
    }
    op_complete(this, status);  // the registration failed; its detail is set
  }

  // A started operation's first step. A read waits first when the loop reported the
  // descriptor readable no more since a read tried it (wait_ready_if_read_spent), unless
  // its try polls a blocking-mode descriptor with poll(2) anyway (where the kernel refuses
  // RWF_NOWAIT for it).
  void wait_or_try() {
    bool may_wait = Dir == Direction::read && (fd_known_mode(fd_) != 1 || tries_before_kind(fd_, task_));
    if (Watch *watch = Waiter::watch) {
      // Re-armed from its callback, still on the watch of fd_ that woke it (on_ready):
      // waiting on there takes nothing more.
      if (may_wait && watch->read_spent()) return;
      cancel_wait(this);
    }
    if (may_wait) {
      int w = wait_ready_if_read_spent(loop, fd_, this);
      if (w < 0) op_complete(this, w);
      if (w != 0) return;
    }
    step(false);
  }

  // Tries the call until it completes or must wait; after_report: woken by a readiness
  // report, which the watch already counts as spent by this try (watch_fire).
  //
  // Woken by a report, the try marks no use of its own: the watch that reported holds one
  // (fd.h), and only this loop's thread, which runs the try, can drop it. A close begun
  // on another thread still stops the try, as it stops a new use. Inline in both callers,
  // each with its own after_report.
  [[gnu::always_inline]] void step(bool after_report) {
    for (;;) {
      int raw;
      if (after_report ? fd_is_closing(fd_) : fd_use(fd_, &raw) < 0) {
        op_complete(this, fail(-EBADF, "%s: the handle is closed", what_));
        return;
      }
      if (after_report) raw = fd_->raw;
      int64_t r = attempt(raw, after_report);
      if (!after_report) fd_unuse(fd_);
      if (r == -EINTR) continue;
      if (r == kNowaitRefused) {
        // A plain read comes next: it must not be one of a file that waits for its disk.
        if (int k = settle_kind(); k == -EPERM) reroute();
        else if (k < 0) op_complete(this, k);
        else continue;
        return;
      }
      if (r != -EAGAIN) {
        conclude(r);
        return;
      }
      // Woken by a report, it is still on the watch's list (on_ready): it waits on there.
      if (after_report) return;
      int w = wait_ready(loop, fd_, this, Dir, true);
      if (w == 0) return;
      if (w == -EPERM) reroute();
      else op_complete(this, w);
      return;
    }
  }

  // One try that cannot block the loop. A read tries preadv2(RWF_NOWAIT) first unless the
  // descriptor is known to be non-blocking and pollable (a file's read may wait for its
  // disk whatever the mode): it never blocks whatever the mode or kind, so neither need be
  // read (fcntl, fstat) nor the descriptor polled first. Otherwise, or where the kernel
  // refuses the flag, a blocking-mode descriptor is polled and then given a call that takes
  // only what is there.
  [[gnu::always_inline]] int64_t attempt(int raw, bool after_report) {
    // Read once: the handle's learned bits are atomic, so each test would load them again.
    int mode = fd_known_mode(fd_);
    if constexpr (Dir == Direction::read && requires { task_.attempt_nowait(raw); }) {
      if ((mode != 0 || !fd_learned(fd_, fdk_fd::kPollable)) && tries_before_kind(fd_, task_)) {
        int64_t r = task_.attempt_nowait(raw);
        if (r != -EOPNOTSUPP) {
          if (!after_report) note_read_attempt(loop, fd_);
          return r;
        }
        fd_learn(fd_, fdk_fd::kNoNowaitRead);
        return kNowaitRefused;
      }
    }
    if (fd_is_blocking(fd_, mode)) {
      int64_t r = poll_wait(raw, Dir, 0);
      return r == 0 ? task_.attempt(fd_, raw, true) : r;
    }
    int64_t r;
    if constexpr (requires { task_.attempt_nonblocking(raw); }) r = task_.attempt_nonblocking(raw);
    else r = task_.attempt(fd_, raw, false);
    if (Dir == Direction::read && !after_report) note_read_attempt(loop, fd_);
    return r;
  }

  // 0 when the descriptor is (now) known to be pollable, -EPERM when epoll refuses it, or
  // another negative errno.
  int settle_kind() {
    if (fd_learned(fd_, fdk_fd::kPollable) || learn_pollable_kind(fd_)) return 0;
    if (fd_learned(fd_, fdk_fd::kUnpollable)) return -EPERM;
    return ensure_watch(loop, fd_);
  }

  // Goes on on the engines of descriptors epoll refuses, as the operation would have
  // started had the descriptor's kind been known.
  void reroute() {
    cancel_wait(this);  // it never waits again
    fdk_op *inner = nullptr;
    if (int r = start_unpollable(loop, fd_, Dir, Lent{this}, &inner, what_); r < 0) {
      op_complete(this, r);
      return;
    }
    // The waiter never waits again, and the handle's slot keeps the engine's operation: a
    // pending read stays within its memory bound (doc/loop.md).
    Waiter::on_ready = nullptr;
    rerouted_ = inner;
  }

  // The file engine's operation after reroute(), while this one is pending; else null.
  fdk_op *rerouted_to() const { return Waiter::on_ready ? nullptr : rerouted_; }

  // The handle while the operation waits or tries; once rerouted to a file engine
  // (on_ready null: the waiter never waits again), that engine's operation.
  union {
    fdk_fd *fd_;
    fdk_op *rerouted_;
  };
  Task task_;
  const char *what_;
  Span span_;
};

// Starts an asynchronous I/O operation; the callback never runs inside this call.
template <class Task>
int start_io(fdk_loop *loop, fdk_fd *fd, Direction dir, Task &&task, fdk_op **out, const char *what) {
  if (fd_is_closing(fd)) return fail(-EBADF, "%s: the handle is closed", what);
  if (!fd_learned(fd, fdk_fd::kPollable | fdk_fd::kUnpollable) && !tries_before_kind(fd, task) &&
      !learn_pollable_kind(fd)) {
    // Registering is how the rest (regular files, character devices...) find out.
    int r = ensure_watch(loop, fd);
    if (r < 0 && r != -EPERM) return r;
  }
  if (fd_learned(fd, fdk_fd::kUnpollable)) return start_unpollable(loop, fd, dir, std::move(task), out, what);
  if (dir == Direction::read) make_recycled<IoOp<Task, Direction::read>>(loop, fd, std::move(task), what)->begin(out);
  else make_recycled<IoOp<Task, Direction::write>>(loop, fd, std::move(task), what)->begin(out);
  return 0;
}

}  // namespace fdk
