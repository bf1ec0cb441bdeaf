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

  // opcode: from uring_file_opcode.
  void start(fdk_op **out, int opcode) {
    int raw;
    io_uring_sqe *sqe = begin_on_fd(fd_, span_, what_, out, &raw);
    if (!sqe) return;
    FileRequest req = rest_.task.file_request();
    auto offset = static_cast<uint64_t>(*req.offset);
    const iovec *iov = req.v->iov;
    auto count = static_cast<unsigned>(req.v->count);
    switch (opcode) {
      case IORING_OP_WRITE:
        io_uring_prep_write(sqe, raw, iov->iov_base, static_cast<unsigned>(iov->iov_len), offset);
        break;
      case IORING_OP_READ:
        io_uring_prep_read(sqe, raw, iov->iov_base, static_cast<unsigned>(iov->iov_len), offset);
        break;
      case IORING_OP_WRITEV: io_uring_prep_writev(sqe, raw, iov, count, offset); break;
      default: io_uring_prep_readv(sqe, raw, iov, count, offset); break;
    }
    // Uncached data: a read issued inside the submission would start the disk reads
    // (readahead) there, and its completion would copy the data on the loop thread
    // (io_uring's task work); past the submission's copy budget, cached data too: io_uring's
    // workers do those instead.
    if (!req.write) {
      size_t bytes = 0;
      for (unsigned i = 0; i < count; ++i) bytes += iov[i].iov_len;
      sent_async_ = (fd_learned(fd_, fdk_fd::kColdData) && !probe_cold_read()) || !copy_inside(bytes);
    }
    if (sent_async_) sqe->flags |= IOSQE_ASYNC;
    submission_ = submission();
    queued();
  }

  void on_cqe(int res) override {
    fd_unuse(fd_);
    if (!rest_.task.file_request().write && res > 0) learn_coldness();
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
  int64_t run_blocking() override { return rest_.total(sync_io(fd_, dir_, rest_.task, what_)); }

  // A read that io_uring could not complete inside its submission found its data uncached
  // (it went on from the page cache's wait or a worker); one completed there found it cached.
  // (A plain load first: most reads change nothing, and a locked update costs more.)
  void learn_coldness() {
    bool cold = fd_learned(fd_, fdk_fd::kColdData);
    if (completed_inside(submission_)) {
      if (cold) fd_unlearn(fd_, fdk_fd::kColdData);
    } else if (!sent_async_ && !cold) {
      fd_learn(fd_, fdk_fd::kColdData);
    }
  }

  fdk_fd *fd_;
  Direction dir_;
  FileRest<Task> rest_;
  const char *what_;
  Span span_;
  uint64_t submission_ = 0;
  bool sent_async_ = false;
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
  size_t want = 0;
  for (int i = 0; i < req.v->count; ++i) want += req.v->iov[i].iov_len;
  // A read too large to copy on the loop thread, or of data found uncached before (whose
  // attempt here would start the disk reads here), goes to the ring's workers when there
  // is a ring; the ring notices when the data is cached again.
  bool copy_here = engine == FsEngine::inline_only || req.write ||
                   (want <= kInlineReadBudget && !fd_learned(fd, fdk_fd::kColdData));
  bool tried_inline = false;
  if (inline_first(loop, engine) && (copy_here || !uring_serves_file_io(loop, req))) {
    tried_inline = true;
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
  // A write the inline attempt could not make (whole) would go to io_uring's workers.
  bool to_pool = req.write && tried_inline && pool_first(loop, engine);
  if (int opcode = engine_tries_uring(engine) && !to_pool ? uring_file_opcode(loop, task.file_request()) : -1;
      opcode >= 0) {
    auto *op = make_recycled<UringFileOp<Task>>(loop, fd, dir, std::move(task), done, what);
    op->start(out, opcode);
    return 0;
  }
#endif
  return start_work(loop, WorkerIo<FileRest<Task>>(fd, dir, FileRest<Task>{std::move(task), done}, what), out, what);
}

}  // namespace fdk
