/* SPDX-License-Identifier: MIT */
// The engines behind asynchronous file-system calls: which one FDKIT_FS_ENGINE forces, and
// the loop's io_uring (one ring per loop, watched through libuv, submissions sent once per
// loop iteration).
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <utility>

#include "core/hot.h"
#include "loop/loop.h"
#include "trace/trace.h"

#ifndef FDK_HAVE_URING
#define FDK_HAVE_URING 0
#endif
#if FDK_HAVE_URING
#include <liburing.h>
#endif

namespace fdk {

enum class FsEngine : uint8_t { automatic, inline_only, uring, pool };

// The engine FDKIT_FS_ENGINE forces (read once per process), else automatic.
FsEngine fs_engine();
inline bool engine_tries_uring(FsEngine e) { return e == FsEngine::automatic || e == FsEngine::uring; }

// Counts a file-system call as in flight on its loop from its start until its delivery.
class InFlight {
 public:
  explicit InFlight(fdk_loop *loop) : loop_(loop) { ++loop_->fs_in_flight; }
  InFlight(const InFlight &) = delete;
  InFlight &operator=(const InFlight &) = delete;
  ~InFlight() { end(); }
  // Called as the callback is about to run: a call it starts sees the loop idle again.
  void end() {
    if (loop_) --loop_->fs_in_flight;
    loop_ = nullptr;
  }

 private:
  fdk_loop *loop_;
};

// Whether a read that the inline engine can make should take it. Forced: always. Auto:
// only while no other file-system call is in flight on the loop, or io_uring is not
// available here; otherwise the ring takes the whole batch in one submission, where one
// system call per inline call would cost more. (Auto tries every write inline: see
// ring_takes_worker_calls.)
bool inline_first(fdk_loop *loop, FsEngine engine);
// The same for an open. Auto: a lone open (no other file-system call in flight) goes
// inline although it takes one more system call than io_uring's (an fcntl clears the
// O_NONBLOCK it adds): io_uring's own open costs the kernel more than that fcntl, and its
// submission and reaping cost the loop about 300 instructions more than an inline call's
// delivery (measured, chained opens of a cached name: +180 ns over the synchronous open
// against +250 ns). With more in flight one submission carries the batch (at 64 in
// flight +110 ns against +205 ns inline).
bool inline_open_first(fdk_loop *loop, FsEngine engine);
// Whether a call that io_uring can only hand to its own workers goes to the ring: a stat,
// mkdir, unlink, rename, link, symlink or fsync (the kernel cannot make them without
// waiting), or a write (ext4 and tmpfs cannot start a buffered one without waiting).
// Only where the ring is forced: auto sends them to fdkit's pool at every depth (a write
// after its inline RWF_NOWAIT attempt), and keeps the ring for what it completes inside
// the submission (cached opens and reads). io_uring's workers sleep between calls and compete with the
// loop thread for the CPU; the pool's take the next call without sleeping while the loop
// keeps them fed. Measured, 64 in flight on ext4, 2 CPUs at load 2-4, 24 interleaved runs:
// CPU time per stat 1.75 µs on the pool against 2.38 µs on the ring, per 4 KiB pwrite
// 2.06 against 2.98 µs, wall time per op 1.15× (stat) and 1.48× (pwrite) faster on the
// pool (medians). io_uring's workers capped at 1 or 4 (io_uring_register_iowq_max_workers)
// still cost more CPU time per call than the pool (2.2-2.7 µs).
inline bool ring_takes_worker_calls(FsEngine e) { return e == FsEngine::uring; }

// The bytes of reads the loop thread copies itself in one io_uring submission (or one
// inline read): about 50 µs of copying.
inline constexpr size_t kInlineReadBudget = 256 * 1024;

// What a starter answers when its engine cannot serve the call: the next engine takes it.
inline constexpr int kNotServed = 1;

// An op whose result is known when it starts (an inline call); delivered from the loop.
template <class Task>
class KnownOp final : public fdk_op {
 public:
  KnownOp(fdk_loop *l, Task &&task) : fdk_op(l), flight_(l), task_(std::move(task)) {}
  void start(int64_t result, int fd, const char *what, fdk_op **out) {
    span_.begin(what, fd, nullptr, loop);
    op_start(this, out);
    op_complete(this, result);
  }
  void cancel() override {}  // never pending: completed as it started
  void deliver(int64_t result) override {
    span_.end(result);
    flight_.end();
    task_.deliver(result);
  }

 private:
  InFlight flight_;
  Task task_;
  Span span_;
};

// Tears down loop's ring, if it has one (fdk_loop_free, once nothing is pending).
void ring_close(fdk_loop *loop);
// Sends the submissions queued since and hands out the completions already there, as the
// ring's prepare handle does just before libuv polls (fdk_loop_run calls it before it waits
// itself). Loop thread; nothing without a ring.
void ring_before_wait(fdk_loop *loop);

#if FDK_HAVE_URING
struct Ring;

// Whether io_uring serves opcode for loop (probed once per process: setup refused by the
// kernel, kernel.io_uring_disabled or a seccomp filter, then per opcode); creates the
// loop's ring on first use. Loop thread only.
bool ring_serves_first(fdk_loop *loop, int opcode);
inline bool ring_serves(fdk_loop *loop, int opcode) {
  // Once the loop has its ring, one test of its opcodes.
  return (loop->ring_opcodes & (uint64_t{1} << opcode)) || ring_serves_first(loop, opcode);
}

// An operation whose system calls go through the loop's ring. It completes only on the
// completion entry of its own submission (a cancel asks the kernel to hurry, nothing
// more), so the descriptors and buffers it holds stay valid until the kernel is done.
class UringOp : public fdk_op, private PoolJob {
 public:
  explicit UringOp(fdk_loop *l) : fdk_op(l), flight_(l) {}
  // Made with make_recycled (loop/loop.h): at 64 in flight, a malloc and a free per op
  // overflowed the allocator's per-thread cache and cost more than the op's own code.
  void cancel() override;
  // Loop thread: the result of the op's current submission.
  virtual void on_cqe(int res) = 0;

 protected:
  // An entry to fill for this op (ring_serves(loop, ...) answered true), or null when the
  // kernel takes no more entries; call queued() once it is filled.
  io_uring_sqe *next_sqe();
  // Sends the filled entry before the loop next waits.
  void queued();
  // Whether a read of bytes (cached) may be copied inside the submission, on the loop
  // thread: the reads of one submission share kInlineReadBudget, the rest go to io_uring's
  // workers, so that a batch of large reads never holds the loop for milliseconds.
  bool copy_inside(size_t bytes);
  // Whether a read of data known to be cold should be tried inside the submission anyway
  // (now and then, to notice that the data is cached again).
  bool probe_cold_read();
  // A read tried inside the submission found fd's data uncached: learned cold, and the
  // tries of probe_cold_read grow rarer each time a handle turns cold.
  void found_cold(fdk_fd *fd);
  // Starts an op on fd's descriptor: its span (what), its pending state, and a use of the
  // descriptor (*raw) that on_cqe must end. The entry to fill, or null when the op has
  // already completed (-EBADF: the handle is closed) or gone on to the pool (the ring is full).
  io_uring_sqe *begin_on_fd(fdk_fd *fd, Span &span, const char *what, fdk_op **out, int *raw);
  // Runs the rest of the op on fdkit's worker pool (io_uring answered that it cannot do it
  // without waiting): run_blocking() there, then the op completes with its result; a
  // cancel that comes too late has discard() release what it produced.
  void continue_on_pool();
  virtual int64_t run_blocking() { return -ENOTSUP; }
  virtual void discard(int64_t) {}
  bool cancelled_ = false;
  InFlight flight_;  // subclasses end it in deliver()

 private:
  void run() override;  // the pool's side (loop/pool.h)
  void ran() override;

  bool on_pool_ = false;
  int64_t pool_result_ = 0;
  std::string pool_detail_;
};
#endif

}  // namespace fdk
