/* SPDX-License-Identifier: MIT */
// Asynchronous reads and writes of descriptors epoll refuses (regular files above all):
// inline when the kernel promises not to wait (RWF_NOWAIT), else on the loop's io_uring,
// else on fdkit's worker pool (loop/pool.h). A part done inline is never reported as the
// whole: the rest goes to the next engine.
#pragma once

#include <sys/uio.h>

#include <string>
#include <utility>

#include "io/io.h"
#include "io/uring.h"

namespace fdk {

// What a file task moves: its iovecs (a copy the task owns) and its offset (-1: the file
// position, used and advanced).
struct FileRequest {
  Iovecs *v;
  int64_t *offset;
  bool write;

  size_t bytes() const {
    size_t sum = 0;
    for (int i = 0; i < v->count; ++i) sum += v->iov[i].iov_len;
    return sum;
  }
};

// One preadv2/pwritev2 with RWF_NOWAIT: the bytes moved, a negative errno, or kNotServed
// when the kernel would have had to wait (or the file refuses RWF_NOWAIT: remembered per
// handle).
int64_t nowait_attempt(fdk_fd *fd, const FileRequest &req);

// A file task whose first `done` bytes were moved inline: it moves the rest and reports
// the sum (the bytes already moved even if the rest fails).
template <class Task>
struct FileRest {
  Task task;
  int64_t done = 0;
  int64_t attempt(fdk_fd *fd, int raw, bool nb) { return task.attempt(fd, raw, nb); }
  int64_t total(int64_t r) const { return done == 0 ? r : r < 0 ? done : done + r; }
  void deliver(int64_t r) { task.deliver(total(r)); }
  void discard(int64_t r) { task.discard(r); }
};

#if FDK_HAVE_URING
// The opcode that moves req on loop's ring, or -1 when the ring serves none: READ/WRITE
// for one buffer (the kernel then has no iovec array to copy and check; their length
// field has 32 bits), else READV/WRITEV.
inline int uring_file_opcode(fdk_loop *loop, const FileRequest &req) {
  int single = req.write ? IORING_OP_WRITE : IORING_OP_READ;
  if (req.v->count == 1 && req.v->iov[0].iov_len <= UINT32_MAX && ring_serves(loop, single)) return single;
  int vectored = req.write ? IORING_OP_WRITEV : IORING_OP_READV;
  return ring_serves(loop, vectored) ? vectored : -1;
}
inline bool uring_serves_file_io(fdk_loop *loop, const FileRequest &req) { return uring_file_opcode(loop, req) >= 0; }

template <class Task>
class UringFileOp final : public UringOp {
 public:
  UringFileOp(fdk_loop *l, fdk_fd *fd, Direction dir, Task &&task, int64_t done, const char *what)
      : UringOp(l), fd_(fd), dir_(dir), rest_{std::move(task), done}, what_(what) {
    fd_pin(fd_);
  }
  ~UringFileOp() override { fd_unpin(fd_); }

  void start(fdk_op **out) {
    Try how = first_try();
    if (how == Try::pool) {
      span_.begin(what_, fd_->raw, nullptr, loop);
      op_start(this, out);
      continue_on_pool();
    } else if (io_uring_sqe *sqe = begin_on_fd(fd_, span_, what_, out, &raw_)) {
      issue(sqe, how);
    }
  }

  void on_cqe(int res) override {
    // A read tried without waiting that could not move everything goes on elsewhere (or,
    // where the file refuses the flag, as io_uring itself chooses).
    if (try_ == Try::nowait && !cancelled_) {
      FileRequest req = rest_.task.file_request();
      if (res == -EOPNOTSUPP) {
        fd_learn(fd_, fdk_fd::kNoNowaitRead);
        return reissue(Try::plain);
      }
      if (res == -EAGAIN || (res > 0 && static_cast<size_t>(res) < req.bytes())) {
        found_cold(fd_);
        if (res > 0) {
          // Only part was cached (or the file ends there: the next try reads 0).
          rest_.done += res;
          req.v->advance(static_cast<size_t>(res));
          if (*req.offset >= 0) *req.offset += res;
        }
        return reissue(elsewhere());
      }
      // The whole read was cached: a read of data found cold before was a probe that hit.
      if (res > 0 && fd_learned(fd_, fdk_fd::kColdData)) fd_unlearn(fd_, fdk_fd::kColdData);
    }
    fd_unuse(fd_);
    if (cancelled_) {
      op_complete_with_detail(this, -ECANCELED, std::string(what_) + ": operation cancelled");
    } else if (res == -EAGAIN || res == -EINTR) {
      // An O_NONBLOCK file answers EAGAIN on io_uring where a blocking call would wait.
      continue_on_pool();
    } else {
      op_complete(this, rest_.total(res < 0 ? fail_sys(res, what_) : res));
    }
  }

  void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    rest_.task.deliver(result);
  }
  void discard(int64_t result) override { rest_.task.discard(result); }

 private:
  // How a read is made. nowait: issued inside the submission with RWF_NOWAIT, which copies
  // cached data there and answers EAGAIN (or a short count) for the rest rather than start
  // the disk reads on the loop thread and finish them there (io_uring's own retry of a
  // buffered read runs as task work on the submitting thread: 64 reads of 64 KiB held
  // the loop for milliseconds). pool: fdkit's worker pool, whose workers yield the CPU to
  // the loop thread (loop/pool.h). async: io_uring's workers (IOSQE_ASYNC), the ring
  // being forced: a read sent there with a descriptor of its own goes to their unbounded
  // side, one new thread per read in flight (64 for 64), which compete with the loop
  // thread for the CPU and which the loop thread itself creates (task work). plain:
  // io_uring's own choice (writes; files that refuse RWF_NOWAIT, whose reads io_uring
  // hands to its workers itself).
  enum class Try : uint8_t { nowait, pool, async, plain };

  // Uncached data (found so before, but a read now and then is tried to notice that it is
  // cached again: probe_cold_read) and, past the submission's copy budget, cached data too
  // go elsewhere.
  Try first_try() {
    FileRequest req = rest_.task.file_request();
    if (req.write) return Try::plain;
    if ((fd_learned(fd_, fdk_fd::kColdData) && !probe_cold_read()) || !copy_inside(req.bytes())) return elsewhere();
    return fd_learned(fd_, fdk_fd::kNoNowaitRead) ? Try::plain : Try::nowait;
  }
  Try elsewhere() const { return fs_engine() == FsEngine::automatic ? Try::pool : Try::async; }

  void issue(io_uring_sqe *sqe, Try how) {
    try_ = how;
    FileRequest req = rest_.task.file_request();
    auto offset = static_cast<uint64_t>(*req.offset);
    const iovec *iov = req.v->iov;
    auto count = static_cast<unsigned>(req.v->count);
    switch (uring_file_opcode(loop, req)) {
      case IORING_OP_WRITE:
        io_uring_prep_write(sqe, raw_, iov->iov_base, static_cast<unsigned>(iov->iov_len), offset);
        break;
      case IORING_OP_READ:
        io_uring_prep_read(sqe, raw_, iov->iov_base, static_cast<unsigned>(iov->iov_len), offset);
        break;
      case IORING_OP_WRITEV: io_uring_prep_writev(sqe, raw_, iov, count, offset); break;
      default: io_uring_prep_readv(sqe, raw_, iov, count, offset); break;
    }
    if (how == Try::nowait) sqe->rw_flags = RWF_NOWAIT;
    if (how == Try::async) sqe->flags |= IOSQE_ASYNC;
    queued();
  }

  // Sends the rest of the op again, keeping its use of the descriptor, or to the pool.
  void reissue(Try how) {
    io_uring_sqe *sqe = how == Try::pool ? nullptr : next_sqe();
    if (sqe) return issue(sqe, how);
    fd_unuse(fd_);
    continue_on_pool();
  }

  int64_t run_blocking() override { return rest_.total(sync_io(fd_, dir_, rest_.task, what_)); }

  fdk_fd *fd_;
  Direction dir_;
  FileRest<Task> rest_;
  const char *what_;
  Span span_;
  int raw_ = -1;  // the descriptor, in use from start() until the last completion
  Try try_ = Try::plain;
};
#else
inline bool uring_serves_file_io(fdk_loop *, const FileRequest &) { return false; }
#endif

// Starts a read or write of a descriptor epoll refused (see the top of this file).
template <class Task>
int start_file_io(fdk_loop *loop, fdk_fd *fd, Direction dir, Task &&task, fdk_op **out, const char *what) {
  FsEngine engine = fs_engine();
  int64_t done = 0;
  FileRequest req = task.file_request();
  size_t want = req.bytes();
  // A read too large to copy on the loop thread, or of data found uncached before (whose
  // attempt here would start the disk reads here), goes to the ring's workers when there
  // is a ring; the ring notices when the data is cached again.
  bool copy_here = engine == FsEngine::inline_only || req.write ||
                   (want <= kInlineReadBudget && !fd_learned(fd, fdk_fd::kColdData));
  // Auto tries a write inline at every depth: one it cannot make goes to the pool, never
  // to the ring (ring_takes_worker_calls), so there is no batch for the ring to save. A
  // handle whose file system refuses RWF_NOWAIT writes (ext4) costs no system call here.
  bool try_inline = (req.write && engine == FsEngine::automatic) || inline_first(loop, engine);
  if (try_inline && (copy_here || !uring_serves_file_io(loop, req))) {
    int64_t r = nowait_attempt(fd, req);
    // Done: an error, everything, or the end of the file.
    if (r != kNotServed && (r <= 0 || static_cast<size_t>(r) == want)) {
      auto *op = make_recycled<KnownOp<Task>>(loop, std::move(task));
      op->start(r < 0 ? fail_sys(static_cast<int>(r), what) : r, fd->raw, what, out);
      return 0;
    }
    if (r != kNotServed) {
      // A short count: only part was cached. The rest goes on.
      done = r;
      req.v->advance(static_cast<size_t>(r));
      if (*req.offset >= 0) *req.offset += r;
    }
  }
#if FDK_HAVE_URING
  bool ring_takes = req.write ? ring_takes_worker_calls(engine) : engine_tries_uring(engine);
  if (ring_takes && uring_serves_file_io(loop, task.file_request())) {
    auto *op = make_recycled<UringFileOp<Task>>(loop, fd, dir, std::move(task), done, what);
    op->start(out);
    return 0;
  }
#endif
  return start_work(loop, WorkerIo<FileRest<Task>>(fd, dir, FileRest<Task>{std::move(task), done}, what), out, what);
}

}  // namespace fdk
