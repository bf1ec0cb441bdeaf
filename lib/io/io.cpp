// SPDX-License-Identifier: MIT
#include "io/io.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <vector>

#include "core/syscall.h"
#include "io/file_io.h"
#include "io/ops.h"
#include "loop/deadlines.h"

#ifndef RWF_NOSIGNAL
#define RWF_NOSIGNAL 0x00000100  // the kernel uapi value (2025); older C library headers lack it
#endif

namespace fdk {

int poll_wait(int raw, Direction dir, int timeout_ms) {
  pollfd p{raw, static_cast<short>(dir == Direction::read ? POLLIN : POLLOUT), 0};
  for (;;) {
    int n = ::poll(&p, 1, timeout_ms);
    if (n > 0) return (p.revents & POLLNVAL) ? -EBADF : 0;
    if (n == 0) return -EAGAIN;
    if (errno != EINTR) return neg_errno();
  }
}

bool learn_pollable_kind(fdk_fd *fd) {
  int raw;
  if (fd_use(fd, &raw) < 0) return false;
  struct stat st;
  int r = ::fstat(raw, &st);
  fd_unuse(fd);
  // An anonymous inode (eventfd, timerfd, signalfd, pidfd...) has no file type.
  mode_t kind = st.st_mode & S_IFMT;
  if (r < 0 || !(kind == S_IFIFO || kind == S_IFSOCK || kind == 0)) return false;
  fd_learn(fd, fdk_fd::kPollable);
  return true;
}

int64_t nowait_attempt(fdk_fd *fd, const FileRequest &req) {
  uint8_t refused = req.write ? fdk_fd::kNoNowaitWrite : fdk_fd::kNoNowaitRead;
  if (fd_learned(fd, refused)) return kNotServed;
  int raw;
  if (fd_use(fd, &raw) < 0) return -EBADF;
  const Iovecs &v = *req.v;
  ssize_t r = req.write ? ::pwritev2(raw, v.iov, v.count, *req.offset, RWF_NOWAIT)
                        : ::preadv2(raw, v.iov, v.count, *req.offset, RWF_NOWAIT);
  int err = r < 0 ? errno : 0;
  fd_unuse(fd);
  // Whether the file's data is in the page cache: io_uring then queues its reads to its
  // workers at once rather than start the disk reads inside the loop's submission.
  if (!req.write && r > 0) fd_unlearn(fd, fdk_fd::kColdData);
  if (!req.write && err == EAGAIN) fd_learn(fd, fdk_fd::kColdData);
  if (r >= 0) return r;
  if (err == EOPNOTSUPP) fd_learn(fd, refused);
  if (err == EOPNOTSUPP || err == EAGAIN || err == EINTR) return kNotServed;
  return -err;
}

namespace {

int64_t result_of(ssize_t r) { return r < 0 ? neg_errno() : r; }

// Blocks SIGPIPE in this thread around a write and consumes the one it raised, so a gone
// reader gives -EPIPE and no signal, without touching the process-wide disposition. A
// thread that already blocks SIGPIPE keeps its mask and its pending signal: one system
// call less. Two system calls more per write: only for kernels or files that refuse
// RWF_NOSIGNAL.
template <class Call>
int64_t without_sigpipe(Call &&call) {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  int64_t r = result_of(call());
  if (sigismember(&old, SIGPIPE)) return r;
  // A SIGPIPE pending for this thread now is ours.
  if (r == -EPIPE) {
    timespec zero{};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return r;
}

// Whether the kernel takes RWF_NOSIGNAL, found out once per process at the first refusal.
// A refusal means either a kernel (or a sandbox) that does not know the flag, for every
// descriptor, or a file without the write_iter method the flag needs, for that descriptor
// alone: a pipe has write_iter on every kernel with pwritev2, so a pipe of our own tells
// the two apart.
enum class NosignalFlag : uint8_t { untried, taken, refused };
std::atomic<NosignalFlag> g_nosignal_flag{NosignalFlag::untried};

// The errors of a write the flag (or pwritev2 itself) was refused with, before anything
// was written: unknown RWF flags and files without write_iter give EOPNOTSUPP (glibc
// turns a kernel without pwritev2 into it too); ENOSYS and EPERM come from C libraries
// that pass ENOSYS on and from sandboxes that refuse the call.
bool maybe_flag_refused(int err) { return err == EOPNOTSUPP || err == ENOSYS || err == EPERM; }

bool kernel_takes_nosignal() {
  NosignalFlag known = g_nosignal_flag.load(std::memory_order_relaxed);
  if (known != NosignalFlag::untried) return known == NosignalFlag::taken;
  int p[2];
  // Out of descriptors: no answer, and the refusing handle alone is marked.
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return true;
  char byte = 0;
  iovec one{&byte, 1};
  bool taken = ::pwritev2(p[1], &one, 1, -1, RWF_NOSIGNAL) == 1;
  ::close(p[0]);
  ::close(p[1]);
  g_nosignal_flag.store(taken ? NosignalFlag::taken : NosignalFlag::refused, std::memory_order_relaxed);
  return taken;
}

// The write of write_without_sigpipe where the flag is refused; out of line, so that the
// flag's write sets up no frame for it.
[[gnu::noinline]] int64_t write_holding_sigpipe(int raw, const iovec *iov, int count, int64_t offset) {
  return without_sigpipe([&] {
    if (offset >= 0) return ::pwritev(raw, iov, count, offset);
    return count == 1 ? ::write(raw, iov[0].iov_base, iov[0].iov_len) : ::writev(raw, iov, count);
  });
}

// One write of iov at offset, -1 for the file position (pwritev2 then is exactly
// write/writev), that never raises SIGPIPE: pwritev2(RWF_NOSIGNAL), one system call, where
// the kernel and the file take the flag; else the write with SIGPIPE held back. A refused
// flag writes nothing, so the write is made again the other way.
//
// On a descriptor known to be non-blocking the write cannot block, so it need not be a
// cancellation point: it is made by the system call instruction (core/syscall.h), not the
// C library's wrapper.
int64_t write_without_sigpipe(fdk_fd *fd, int raw, const iovec *iov, int count, int64_t offset) {
  if (!fd_learned(fd, fdk_fd::kNoNosignalWrite) &&
      g_nosignal_flag.load(std::memory_order_relaxed) != NosignalFlag::refused) {
    int64_t r = fd_known_mode(fd) == 0 ? hot_pwritev2(raw, iov, count, offset, RWF_NOSIGNAL)
                                       : result_of(::pwritev2(raw, iov, count, offset, RWF_NOSIGNAL));
    if (r >= 0 || !maybe_flag_refused(static_cast<int>(-r))) return r;
    if (kernel_takes_nosignal()) fd_learn(fd, fdk_fd::kNoNosignalWrite);
  }
  return write_holding_sigpipe(raw, iov, count, offset);
}

struct Callback {
  fdk_result_cb cb = nullptr;
  void *data = nullptr;
  void deliver(int64_t r) const { cb(r, data); }
  void discard(int64_t) const {}
};

// Reads through recv(MSG_DONTWAIT) when the descriptor is a socket and must not block.
int64_t recv_if_socket(fdk_fd *fd, int raw, const Iovecs &v, bool must_not_block, bool *done) {
  *done = false;
  if (!must_not_block || fd_learned(fd, fdk_fd::kNotSocket)) return 0;
  msghdr msg{};
  v.into(msg);
  ssize_t r = ::recvmsg(raw, &msg, MSG_DONTWAIT);
  if (r < 0 && errno == ENOTSOCK) {
    fd_learn(fd, fdk_fd::kNotSocket);
    return 0;
  }
  *done = true;
  return result_of(r);
}

int64_t readv_attempt(fdk_fd *fd, int raw, const Iovecs &v, bool must_not_block) {
  bool done;
  int64_t r = recv_if_socket(fd, raw, v, must_not_block, &done);
  if (done) return r;
  return result_of(v.count == 1 ? ::read(raw, v.iov[0].iov_base, v.iov[0].iov_len) : ::readv(raw, v.iov, v.count));
}

// send(MSG_NOSIGNAL) of v, or -ENOTSOCK (then remembered) when raw is not a socket.
[[gnu::noinline]] int64_t send_attempt(fdk_fd *fd, int raw, const Iovecs &v, bool must_not_block) {
  int flags = MSG_NOSIGNAL | (must_not_block ? MSG_DONTWAIT : 0);
  ssize_t r;
  if (v.count == 1) {
    r = ::send(raw, v.iov[0].iov_base, v.iov[0].iov_len, flags);  // no message header to copy in
  } else {
    msghdr msg{};
    v.into(msg);
    r = ::sendmsg(raw, &msg, flags);
  }
  if (r < 0 && errno == ENOTSOCK) fd_learn(fd, fdk_fd::kNotSocket);
  return result_of(r);
}

// At most PIPE_BUF bytes of v, which a pipe found writable always takes.
[[gnu::noinline]] int64_t write_capped(fdk_fd *fd, int raw, const Iovecs &v) {
  std::vector<iovec> cut = v.capped(PIPE_BUF);
  return write_without_sigpipe(fd, raw, cut.data(), static_cast<int>(cut.size()), -1);
}

}  // namespace

// Sockets get send(MSG_NOSIGNAL); other descriptors a write that never raises SIGPIPE. A
// write that must not block writes at most PIPE_BUF bytes to a non-socket. The helpers
// are out of line so that the write of a known non-socket, a pipe's, sets up no frame.
int64_t writev_attempt(fdk_fd *fd, int raw, const Iovecs &v, bool must_not_block) {
  if (!fd_learned(fd, fdk_fd::kNotSocket)) {
    int64_t r = send_attempt(fd, raw, v, must_not_block);
    if (r != -ENOTSOCK) return r;
  }
  if (must_not_block) return write_capped(fd, raw, v);
  return write_without_sigpipe(fd, raw, v.iov, v.count, -1);
}

namespace {

// Reads and writes at the file position give the file engines offset -1, which they never
// advance; a pending read carries no offset of its own.
int64_t g_at_file_position = -1;

struct ReadTask : Callback {
  // A read of the same handle started from this one's callback keeps the operation (start_read).
  static constexpr bool kKeptOnRearm = true;
  Iovecs v;
  int64_t attempt(fdk_fd *fd, int raw, bool nb) { return readv_attempt(fd, raw, v, nb); }
  // The try of an asynchronous read (io.h): -EOPNOTSUPP where the kernel refuses the flag.
  int64_t attempt_nowait(int raw) const { return hot_preadv2(raw, v.iov, v.count, -1, RWF_NOWAIT); }
  int64_t attempt_nonblocking(int raw) const { return hot_readv(raw, v.iov, v.count); }
  // A read that filled a buffer of kFullReadMin bytes or more leaves the readiness unspent (fd.h).
  bool fills_buffer(int64_t r) const { return r >= static_cast<int64_t>(kFullReadMin) && static_cast<size_t>(r) == v.bytes(); }
  FileRequest file_request() { return {&v, &g_at_file_position, false}; }
  // Whether retarget of one buffer frees nothing (IoOp::rearm_at_once).
  bool retargets_freely() const { return !v.on_heap(); }
  // The next read of a re-arm (IoOp::rearm): of one buffer, or of an array (which may
  // throw before anything changed).
  void retarget(fdk_result_cb to, void *with, const iovec &one) noexcept {
    v.assign_one(one);
    cb = to;
    data = with;
  }
  void retarget(fdk_result_cb to, void *with, const iovec *iov, int iovcnt) {
    v.assign(iov, iovcnt);
    cb = to;
    data = with;
  }
};

struct WriteTask : Callback {
  Iovecs v;
  int64_t attempt(fdk_fd *fd, int raw, bool nb) { return writev_attempt(fd, raw, v, nb); }
  FileRequest file_request() { return {&v, &g_at_file_position, true}; }
};

struct PreadTask : Callback {
  Iovecs v;
  int64_t offset;
  int64_t attempt(fdk_fd *, int raw, bool) { return result_of(::preadv(raw, v.iov, v.count, offset)); }
  FileRequest file_request() { return {&v, &offset, false}; }
};

struct PwriteTask : Callback {
  Iovecs v;
  int64_t offset;
  int64_t attempt(fdk_fd *fd, int raw, bool) { return write_without_sigpipe(fd, raw, v.iov, v.count, offset); }
  FileRequest file_request() { return {&v, &offset, true}; }
};

int map_whence(int whence) { return whence == FDK_SEEK_SET ? SEEK_SET : whence == FDK_SEEK_CUR ? SEEK_CUR : SEEK_END; }

struct SeekTask : Callback {
  int64_t offset;
  int whence;
  int64_t attempt(fdk_fd *, int raw, bool) { return result_of(::lseek(raw, offset, map_whence(whence))); }
};

struct FsyncTask : Callback {
  unsigned flags;
  int64_t attempt(fdk_fd *, int raw, bool) {
    return result_of((flags & FDK_FSYNC_DATA) ? ::fdatasync(raw) : ::fsync(raw));
  }
};

struct TruncateTask : Callback {
  int64_t length;
  int64_t attempt(fdk_fd *, int raw, bool) { return result_of(::ftruncate(raw, length)); }
};

struct RandomTask : Callback {
  void *buf;
  size_t len;
  unsigned flags;
  int64_t run() {
    for (;;) {
      ssize_t r = ::getrandom(buf, len, (flags & FDK_RANDOM_NONBLOCK) ? GRND_NONBLOCK : 0);
      if (r >= 0) return r;
      if (errno != EINTR) return fail_sys(neg_errno(), "getrandom");
    }
  }
};

// Calls that block on the file itself, not on readiness, always go to the worker pool.
template <class Task>
int start_on_worker(fdk_loop *loop, fdk_fd *fd, Task &&task, fdk_op **op, const char *what) {
  return start_work(loop, WorkerIo<Task>(fd, Direction::read, std::move(task), what), op, what);
}

#if FDK_HAVE_URING
// fsync on the loop's ring (IORING_OP_FSYNC). The handle stays in use until the op's own
// completion entry, as for the ring's reads and writes.
class UringFsyncOp final : public UringOp {
 public:
  UringFsyncOp(fdk_loop *l, fdk_fd *fd, FsyncTask &&task) : UringOp(l), fd_(fd), task_(std::move(task)) {
    fd_pin(fd_);
  }
  ~UringFsyncOp() override { fd_unpin(fd_); }

  void start(fdk_op **out) {
    int raw;
    io_uring_sqe *sqe = begin_on_fd(fd_, span_, "fsync", out, &raw);
    if (!sqe) return;
    io_uring_prep_fsync(sqe, raw, (task_.flags & FDK_FSYNC_DATA) ? IORING_FSYNC_DATASYNC : 0);
    queued();
  }

  void on_cqe(int res) override {
    fd_unuse(fd_);
    if (cancelled_) op_complete_with_detail(this, -ECANCELED, "fsync: operation cancelled");
    else if (res == -EINTR || res == -EAGAIN) continue_on_pool();  // the pool's call retries EINTR
    else op_complete(this, res < 0 ? fail_sys(res, "fsync") : res);
  }

  void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    task_.deliver(result);
  }

 private:
  int64_t run_blocking() override { return sync_io(fd_, Direction::write, task_, "fsync"); }

  fdk_fd *fd_;
  FsyncTask task_;
  Span span_;
};
#endif

// A sleep is a slot in the loop's deadline heap (loop/deadlines.h), not a libuv timer.
class SleepOp final : public fdk_op {
 public:
  SleepOp(fdk_loop *loop, int64_t deadline, fdk_result_cb cb, void *data) : fdk_op(loop), cb_(cb), data_(data) {
    deadline_.op = this;
    deadline_.at_ns = deadline;
  }

  void start(fdk_op **out) {
    span_.begin("sleep_until", -1, nullptr, loop);
    op_start(this, out);
    deadline_add(loop, &deadline_);
  }

  void cancel() override {
    deadline_remove(loop, &deadline_);
    op_complete_with_detail(this, -ECANCELED, "sleep_until: operation cancelled");
  }

  void deliver(int64_t result) override {
    span_.end(result);
    cb_(result, data_);
  }

 private:
  Deadline deadline_;
  fdk_result_cb cb_;
  void *data_;
  Span span_;
};

}  // namespace

namespace {

using ReadOp = IoOp<ReadTask, Direction::read>;

// A read that takes no finished read's operation over: out of line, off the re-arm's path.
[[gnu::noinline]] int start_new_read(fdk_loop *loop, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **out,
                                     const char *what, const iovec *iov, int iovcnt) noexcept {
  return guard(what, [&] {
    return start_io(loop, fd, Direction::read, ReadTask{{cb, data}, Iovecs(iov, iovcnt, true)}, out, what);
  });
}
[[gnu::noinline]] int start_new_read(fdk_loop *loop, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **out,
                                     const char *what, const iovec &one) noexcept {
  return start_new_read(loop, fd, cb, data, out, what, &one, 1);
}

// The memory of a pending read (doc/loop.md): its operation fits a 160-byte heap chunk.
static_assert(sizeof(ReadOp) <= 152, "a pending read must stay within libuv's memory");

// A read started from the callback of a read of the same handle, the common way to keep
// reading, takes that read's operation over (ReadTask::retarget); any other starts one of
// its own. Inline in each entry point, where the buffers' form is known: the re-arm of one
// buffer only stores it.
template <class... Buffers>
[[gnu::always_inline]] inline int start_read(fdk_loop *loop, fdk_fd *fd, fdk_result_cb cb, void *data, fdk_op **out,
                                             const char *what, const Buffers &...buffers) noexcept {
  // Only a ReadOp's deliver sets rearmable (ReadTask::kKeptOnRearm).
  auto *kept = static_cast<ReadOp *>(loop->rearmable);
  if (kept && kept->takes_rearm(fd)) {
    return guard(what, [&] {
      kept->rearm(what, out, cb, data, buffers...);
      return 0;
    });
  }
  return start_new_read(loop, fd, cb, data, out, what, buffers...);
}

}  // namespace

ssize_t read(fdk_fd *fd, void *buf, size_t len) {
  iovec one{buf, len};
  ReadTask t{{}, Iovecs(&one, 1, false)};
  return sync_io(fd, Direction::read, t, "read");
}

ssize_t write(fdk_fd *fd, const void *buf, size_t len) {
  iovec one{const_cast<void *>(buf), len};
  WriteTask t{{}, Iovecs(&one, 1, false)};
  return sync_io(fd, Direction::write, t, "write");
}

ssize_t readv(fdk_fd *fd, const iovec *iov, int iovcnt) {
  ReadTask t{{}, Iovecs(iov, iovcnt, false)};
  return sync_io(fd, Direction::read, t, "readv");
}

ssize_t writev(fdk_fd *fd, const iovec *iov, int iovcnt) {
  WriteTask t{{}, Iovecs(iov, iovcnt, false)};
  return sync_io(fd, Direction::write, t, "writev");
}

ssize_t preadv(fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset) {
  PreadTask t{{}, Iovecs(iov, iovcnt, false), offset};
  return sync_io(fd, Direction::read, t, "preadv");
}

ssize_t pwritev(fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset) {
  PwriteTask t{{}, Iovecs(iov, iovcnt, false), offset};
  return sync_io(fd, Direction::write, t, "pwritev");
}

int64_t lseek(fdk_fd *fd, int64_t offset, int whence) {
  SeekTask t{{}, offset, whence};
  return sync_io(fd, Direction::read, t, "lseek");
}

int fsync(fdk_fd *fd, unsigned flags) {
  FsyncTask t{{}, flags};
  return static_cast<int>(sync_io(fd, Direction::write, t, "fsync"));
}

int ftruncate(fdk_fd *fd, int64_t length) {
  TruncateTask t{{}, length};
  return static_cast<int>(sync_io(fd, Direction::write, t, "ftruncate"));
}

ssize_t getrandom(void *buf, size_t len, unsigned flags) {
  RandomTask t{{}, buf, len, flags};
  return t.run();
}

namespace {
// read_async but for the common re-arm: out of line, so that one needs no frame.
[[gnu::noinline]] int read_async_otherwise(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb,
                                           void *data, fdk_op **op) noexcept {
  return start_read(loop, fd, cb, data, op, "read", iovec{buf, len});
}
}  // namespace

int read_async(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb, void *data,
               fdk_op **op) noexcept {
  // Only a ReadOp's deliver sets rearmable (ReadTask::kKeptOnRearm).
  auto *kept = static_cast<ReadOp *>(loop->rearmable);
  if (kept && kept->rearm_at_once(fd, "read", op, cb, data, iovec{buf, len})) return 0;
  return read_async_otherwise(loop, fd, buf, len, cb, data, op);
}

int write_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb, void *data, fdk_op **op) {
  iovec one{const_cast<void *>(buf), len};
  return start_io(loop, fd, Direction::write, WriteTask{{cb, data}, Iovecs(&one, 1, true)}, op, "write");
}

int readv_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                fdk_op **op) noexcept {
  return start_read(loop, fd, cb, data, op, "readv", iov, iovcnt);
}

int writev_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                 fdk_op **op) {
  return start_io(loop, fd, Direction::write, WriteTask{{cb, data}, Iovecs(iov, iovcnt, true)}, op, "writev");
}

int preadv_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset, fdk_result_cb cb,
                 void *data, fdk_op **op) {
  return start_io(loop, fd, Direction::read, PreadTask{{cb, data}, Iovecs(iov, iovcnt, true), offset}, op, "preadv");
}

int pwritev_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, int64_t offset, fdk_result_cb cb,
                  void *data, fdk_op **op) {
  return start_io(loop, fd, Direction::write, PwriteTask{{cb, data}, Iovecs(iov, iovcnt, true), offset}, op, "pwritev");
}

int lseek_async(fdk_loop *loop, fdk_fd *fd, int64_t offset, int whence, fdk_result_cb cb, void *data, fdk_op **op) {
  return start_on_worker(loop, fd, SeekTask{{cb, data}, offset, whence}, op, "lseek");
}

int fsync_async(fdk_loop *loop, fdk_fd *fd, unsigned flags, fdk_result_cb cb, void *data, fdk_op **op) {
#if FDK_HAVE_URING
  if (ring_takes_worker_calls(fs_engine()) && ring_serves(loop, IORING_OP_FSYNC)) {
    make_recycled<UringFsyncOp>(loop, fd, FsyncTask{{cb, data}, flags})->start(op);
    return 0;
  }
#endif
  return start_on_worker(loop, fd, FsyncTask{{cb, data}, flags}, op, "fsync");
}

int ftruncate_async(fdk_loop *loop, fdk_fd *fd, int64_t length, fdk_result_cb cb, void *data, fdk_op **op) {
  return start_on_worker(loop, fd, TruncateTask{{cb, data}, length}, op, "ftruncate");
}

int getrandom_async(fdk_loop *loop, void *buf, size_t len, unsigned flags, fdk_result_cb cb, void *data,
                    fdk_op **op) {
  return start_work(loop, RandomTask{{cb, data}, buf, len, flags}, op, "getrandom");
}

int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

int sleep_until(fdk_loop *loop, int64_t deadline_ns, fdk_result_cb cb, void *data, fdk_op **op) {
  (new SleepOp(loop, deadline_ns, cb, data))->start(op);
  return 0;
}

}  // namespace fdk
