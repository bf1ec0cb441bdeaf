/* SPDX-License-Identifier: MIT */
// Loop internals shared by every area: pending operations, the ready queue that delivers
// callbacks outside the call that started them, cross-thread posts, and the epoll set
// through which descriptor readiness reaches libuv.
#pragma once

#include <sanitizer/asan_interface.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "fdkit/loop.h"
#include "loop/pool.h"
#include "loop/spin.h"
#include "loop/waker.h"

namespace fdk {
struct Deadline;
struct Watch;
struct TraceHook;
struct WriteQueues;
// Frees the loop's ordered-write queues (all empty by then); accepts null.
void free_write_queues(WriteQueues *queues);
struct Ring;

// Memory of a loop's finished operations and ended watches, kept for the next ones of the
// same size (loop thread only): a read re-armed from its own callback, or a descriptor
// opened, read once and closed, then allocates nothing; so do the io_uring engine's ops at
// 64 in flight, where a malloc and a free per op overflowed the allocator's per-thread
// cache. A size is rounded up to what the allocator's chunk for it holds anyway (chunks of
// 16-byte multiples with an 8-byte header), so sizes that share a chunk share blocks and no
// block is bigger than a plain malloc's; a few sizes, a bounded number of blocks each;
// everything else goes back to the allocator. Under ASan a kept block is poisoned, so a use after reuse is reported.
class Recycler {
 public:
  Recycler() = default;
  Recycler(const Recycler &) = delete;
  Recycler &operator=(const Recycler &) = delete;
  ~Recycler();

  // Inline, where the size is most often a constant: rounded at compile time, and the bin
  // of that size is nearly always the first or second looked at.
  void *take(size_t size) {
    size = usable(size);
    for (Bin &bin : bins_) {
      if (bin.size == size && bin.head) {
        Block *b = bin.head;
        ASAN_UNPOISON_MEMORY_REGION(b, size);
        bin.head = b->next;
        --bin.count;
        return b;
      }
    }
    return ::operator new(size);
  }
  void give(void *block, size_t size) {
    size = usable(size);
    for (Bin &bin : bins_) {
      if (bin.size == size) {
        keep(bin, block);
        return;
      }
    }
    give_new_size(block, size);
  }

 private:
  struct Block {
    Block *next;
  };
  struct Bin {
    size_t size = 0;
    Block *head = nullptr;
    uint32_t count = 0;
  };
  // Puts block in bin, or back to the allocator when the bin is full.
  static void keep(Bin &bin, void *block) {
    if (bin.count >= kKeep) {
      ::operator delete(block);
      return;
    }
    auto *b = static_cast<Block *>(block);
    b->next = bin.head;
    bin.head = b;
    ++bin.count;
    ASAN_POISON_MEMORY_REGION(b, bin.size);
  }
  // A block of a size no bin holds: the first empty bin takes the size.
  void give_new_size(void *block, size_t size);
  static constexpr size_t kGrain = 16, kChunkHeader = sizeof(size_t);
  static size_t usable(size_t size) { return (size + kChunkHeader + kGrain - 1) / kGrain * kGrain - kChunkHeader; }
  static constexpr int kBins = 8;
  static constexpr uint32_t kKeep = 128;
  Bin bins_[kBins];
};
}

// Base of every asynchronous operation. Lives on the heap; the loop holds one reference
// and a cross-thread fdk_op_cancel holds another while its request is in flight.
struct fdk_op {
  enum class State : uint8_t { pending, ready, done };

  explicit fdk_op(fdk_loop *l) : loop(l) {}
  fdk_op(const fdk_op &) = delete;
  fdk_op &operator=(const fdk_op &) = delete;
  virtual ~fdk_op() = default;

  // Loop thread. Stops the operation's wait and leads to fdk::op_complete (now or once a
  // running system call returns). Only called while the state is pending.
  virtual void cancel() = 0;
  // Loop thread. Hands the result to the user's callback; called exactly once.
  virtual void deliver(int64_t result) = 0;

  fdk_loop *loop;
  // The loop's pending list while pending (but for a readiness wait's operation, which its
  // descriptor watch reaches: fdk::op_start_watched); next links the ready queue once
  // completed, and the result takes the back link's place (set once the operation is off
  // the list).
  union {
    fdk_op *prev = nullptr;
    int64_t result;
  };
  fdk_op *next = nullptr;
  std::atomic<int> refs{1};
  State state = State::pending;
  // Set for an operation made in its loop's Recycler (fdk::make_recycled): its size.
  uint16_t recycled_size = 0;
  // Failure detail, set as fdk_last_error() before deliver; allocated only on failure,
  // so a pending operation carries one pointer.
  std::unique_ptr<char[]> detail;
};

struct fdk_loop {
  struct Post {
    fdk_post_fn fn;
    void *data;
  };

  uv_loop_t *uv = nullptr;
  uv_loop_t own_uv{};
  bool owns_uv = false;

  uv_async_t wake{};       // posts and cross-thread requests
  uv_idle_t idle{};        // delivers ready callbacks queued outside a dispatch
  uv_poll_t epoll_poll{};  // the epoll set of descriptor watches, as one libuv handle
  int epfd = -1;
  int open_handles = 0;  // fdkit's libuv handles not yet through their close callback

  std::mutex post_mu;
  std::vector<Post> posts;
  std::atomic<bool> has_posts{false};
  fdk_loop_remote *remote = nullptr;  // shared by every remote of this loop (post_mu)
  bool remote_shut = false;           // fdk_loop_free began: no new remote (post_mu)

  fdk_op *pending_head = nullptr;
  size_t pending_count = 0;
  fdk_op *ready_head = nullptr, *ready_tail = nullptr;
  // While a read's callback runs: that read, which a read of the same handle started from
  // the callback takes over instead of making an operation of its own (io/io.h: IoOp::rearm).
  fdk_op *rearmable = nullptr;
  // Reads that filled their buffer and tried again at once since a readiness report of this
  // loop (fd.cpp: note_read_filled): past kFullReadsPerReport, a read waits for the next.
  uint32_t full_reads_since_report = 0;

  uv_timer_t deadline_timer{};              // armed for the earliest of deadlines
  std::vector<fdk::Deadline *> deadlines;   // pending sleeps, a binary heap (loop/deadlines.h)
  uint64_t deadline_seq = 0;

  fdk::Watch *watches = nullptr;  // every descriptor watch, the newest first
  // Watches created since the loop last polled, the first of the list, registered together
  // just before it polls again (by register_prepare), so starting a wait makes no system
  // call: how many are left.
  size_t unregistered = 0;
  uv_prepare_t register_prepare{};
  fdk::WriteQueues *write_queues = nullptr;  // ordered writes per handle, made on first use
  std::atomic<fdk::TraceHook *> trace_hook{nullptr};  // fdk_trace_set(loop, ...)
  fdk::Ring *ring = nullptr;  // the io_uring of asynchronous file-system calls (io/uring.h)
  int fs_in_flight = 0;       // those calls on the inline and io_uring engines not yet delivered
  uint64_t ring_opcodes = 0;  // bit n: the loop's ring serves IORING_OP n (0 until it has one)
  fdk::PoolLoop pool;         // jobs on fdkit's worker pool (loop/pool.h)
  fdk::Waker *wakers = nullptr;  // the ring's wake-up descriptor (loop/waker.h)
  fdk::SpinState spin;           // whether its own wait polls before it blocks (loop/spin.h)

  int dispatch_depth = 0;
  bool running = false;
  int run_mode = FDK_RUN_DEFAULT;  // of the fdk_loop_run under way
  bool in_libuv_turn = false;      // libuv's non-blocking turn inside an own-wait iteration
  // The caller's callbacks run so far (operations delivered, posts run): a FDK_RUN_ONCE run
  // that waited itself ends once one ran (loop.cpp: run_own_wait).
  uint64_t callbacks_run = 0;
  bool stop_requested = false;
  bool freeing = false;
  // fdk_loop_backend_fd, _timeout or fdk_loop_uv was called: a host may wait on the
  // backend descriptor, so work started between runs must wake it.
  bool backend_handed_out = false;
  // fdk_loop_run waits on the epoll set itself, with libuv's backend descriptor and the
  // wakers inside it (loop.cpp: run_own_wait); libuv's poll of the set is stopped meanwhile.
  bool own_wait = false;
  // The thread that drives the loop; read by other threads to decide whether to post.
  std::atomic<std::thread::id> owner;
  uint64_t fork_generation = 0;  // the process's fork generation when the loop was made
  fdk::Recycler recycler;         // memory of finished operations and ended watches
};

namespace fdk {

// The process's fork generation: forks survived by this process (a pthread_atfork handler).
extern std::atomic<uint64_t> g_fork_generation;

// True in a child forked after the loop was made: the loop's descriptors (its epoll set,
// libuv's) are shared with the parent, so the child must not act on them. Counted by a
// pthread_atfork handler, so checking costs no system call; inline, as every
// asynchronous call checks it.
inline bool loop_forked(const fdk_loop *loop) {
  return loop->fork_generation != g_fork_generation.load(std::memory_order_relaxed);
}
// -ECHILD with a detail naming what.
int fail_forked(const char *what);
// fdk_loop_free in such a child: frees fdkit's memory, touches none of the descriptors.
void loop_abandon(fdk_loop *loop);

// True when the calling thread is the one that drives loop.
inline bool on_loop_thread(const fdk_loop *loop) {
  return loop->owner.load(std::memory_order_relaxed) == std::this_thread::get_id();
}

// Registers a started operation as pending (it keeps fdk_loop_run(DEFAULT) going).
void op_start(fdk_op *op, fdk_op **out);
// The same for an operation that, while pending, is always reached otherwise: it waits on a
// descriptor watch of its loop (which fdk_loop_free tears down, cancelling its waiters), or
// has handed its work to an operation that is on the list. It stays off the pending list,
// so a read that completes and is re-armed from its callback links and unlinks nothing
// there: the list's neighbours are other channels' operations, cold cache lines.
void op_start_watched(fdk_op *op, fdk_op **out);

// An operation whose callback runs now, taken over by a call that callback made for a new
// operation (fdk_loop::rearmable): pending again, off the list as it started
// (op_start_watched). It was never counted out (the count drops after the callback,
// deliver_ready), and inside a callback the host needs no wake-up.
inline void op_rearmed(fdk_op *op, fdk_op **out) {
  op->state = fdk_op::State::pending;
  op->prev = nullptr;  // its slot held the result: off the list, as unlink_pending must see
  if (out) *out = op;
}
// A callback queued while no dispatch runs (host code completed an operation): the loop's
// next poll returns at once to deliver it, and a host waiting on the backend wakes.
void ready_outside_dispatch(fdk_loop *loop);

// Records the result of an operation off the pending list (op_start_watched), a success
// or a failure whose detail is set, and queues its callback: inline where a woken read
// completes (forced: the compiler called it there, from a function it found too large).
[[gnu::always_inline]] inline void op_ready(fdk_op *op, int64_t result) {
  fdk_loop *loop = op->loop;
  op->state = fdk_op::State::ready;
  op->result = result;
  if (loop->ready_tail) loop->ready_tail->next = op;
  else loop->ready_head = op;
  loop->ready_tail = op;
  if (__builtin_expect(loop->dispatch_depth == 0 && !loop->freeing, 0)) ready_outside_dispatch(loop);
}

// Records the result of a pending operation and queues its callback. A negative result
// takes the calling thread's fdk_last_error() as the detail, unless one is given.
void op_complete(fdk_op *op, int64_t result);
void op_complete_with_detail(fdk_op *op, int64_t result, std::string detail);
void op_unref(fdk_op *op);

// Makes an operation of type Op in loop's Recycler; op_unref gives its memory back.
template <class Op, class... Args>
Op *make_recycled(fdk_loop *loop, Args &&...args) {
  static_assert(sizeof(Op) <= UINT16_MAX);
  Op *op = new (loop->recycler.take(sizeof(Op))) Op(loop, std::forward<Args>(args)...);
  op->recycled_size = sizeof(Op);
  return op;
}

// Marks the stretch of a libuv callback: ready callbacks are delivered when the
// outermost one ends, never inside the call that queued them.
class Dispatch {
 public:
  explicit Dispatch(fdk_loop *loop);
  ~Dispatch();
  Dispatch(const Dispatch &) = delete;
  Dispatch &operator=(const Dispatch &) = delete;

 private:
  fdk_loop *loop_;
};

// Makes the loop's next poll return at once (its idle handle runs), so the loop does not
// block while it has work of its own to go on with.
void poll_without_blocking(fdk_loop *loop);

// Runs fn(data) on the loop thread (internal counterpart of fdk_loop_post).
void post(fdk_loop *loop, fdk_post_fn fn, void *data);

// Count of fdkit's libuv handles on a loop: every handle fdkit initialises calls
// handle_opened, and its close callback calls handle_closed, so fdk_loop_free can run a
// borrowed loop until all of them are closed.
inline void handle_opened(fdk_loop *loop) { ++loop->open_handles; }
inline void handle_closed(fdk_loop *loop) { --loop->open_handles; }

}  // namespace fdk

namespace fdk {
// Bodies of the fdk_loop_* entry points (arguments already checked).
int loop_create(fdk_loop **out, uv_loop_t *borrowed);
int loop_destroy(fdk_loop *loop);
int loop_run(fdk_loop *loop, int mode);
void loop_stop(fdk_loop *loop);
int loop_backend_fd(fdk_loop *loop);
int loop_backend_timeout(fdk_loop *loop);
int op_cancel(fdk_op *op);
}  // namespace fdk
