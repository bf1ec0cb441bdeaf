// SPDX-License-Identifier: MIT
#include "io/uring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <mutex>

#include "core/error.h"
#include "fd/fd.h"

namespace fdk {

namespace {

// The forced engine once read; a plain atomic load on the hot path (std::call_once costs
// a thread-local lookup per call in a shared library).
std::atomic<bool> g_engine_read{false};
FsEngine g_engine;
std::once_flag g_engine_once;

// Reads FDKIT_FS_ENGINE; a value it does not know is reported once and ignored.
FsEngine read_engine_setting() {
  const char *env = secure_getenv("FDKIT_FS_ENGINE");
  if (!env || !*env || strcmp(env, "auto") == 0) return FsEngine::automatic;
  if (strcmp(env, "inline") == 0) return FsEngine::inline_only;
  if (strcmp(env, "uring") == 0) return FsEngine::uring;
  if (strcmp(env, "pool") == 0) return FsEngine::pool;
  fprintf(stderr, "fdkit: FDKIT_FS_ENGINE=%s is not one of auto, inline, uring, pool; using auto\n", env);
  return FsEngine::automatic;
}

}  // namespace

FsEngine fs_engine() {
  if (!g_engine_read.load(std::memory_order_acquire)) {
    std::call_once(g_engine_once, [] {
      g_engine = read_engine_setting();
      g_engine_read.store(true, std::memory_order_release);
    });
  }
  return g_engine;
}

bool inline_first(fdk_loop *loop, FsEngine engine) {
  if (engine == FsEngine::inline_only) return true;
  if (engine != FsEngine::automatic) return false;
#if FDK_HAVE_URING
  return loop->fs_in_flight == 0 || !ring_serves(loop, IORING_OP_READV);
#else
  (void)loop;
  return true;
#endif
}

bool inline_open_first(fdk_loop *loop, FsEngine engine) {
  if (engine == FsEngine::inline_only) return true;
  if (engine != FsEngine::automatic) return false;
#if FDK_HAVE_URING
  return !ring_serves(loop, IORING_OP_OPENAT2);
#else
  (void)loop;
  return true;
#endif
}

bool pool_first(fdk_loop *loop, FsEngine engine) {
  // Two at most: the pool's loop watches for results only with one or two in flight.
  return engine == FsEngine::automatic && loop->fs_in_flight + loop->pool.in_flight < 2;
}

#if !FDK_HAVE_URING

void ring_close(fdk_loop *) {}
void ring_before_wait(fdk_loop *) {}

#else

struct Ring {
  io_uring ring{};
  // Submissions sent so far, and the completion queue's tail as the latest one returned:
  // an entry of that submission whose completion lies before it completed inside it.
  uint64_t submits = 0;
  unsigned tail_after_submit = 0;
  bool handing_inside = false;  // the completion being handed lies before that tail
  unsigned cold_reads = 0;  // reads sent to io_uring's workers as cold, to re-probe now and then
  size_t inline_read_bytes = 0;  // bytes of the reads in the next submission that it may copy itself
  uv_poll_t poll{};        // the ring's descriptor: readable while completions wait
  uv_prepare_t prepare{};  // sends the iteration's submissions before the loop waits
  fdk_loop *loop = nullptr;
  int open_handles = 0;
};

namespace {

// Entries of a loop's ring; completions get twice as many (the kernel's default).
constexpr unsigned kRingEntries = 256;
// Submit-and-reap rounds one loop iteration makes before it lets other handles run, and
// the time they may take together (a timer due meanwhile waits for them).
constexpr int kRounds = 64;
constexpr uint64_t kRoundsNs = 250 * 1000;
// loop->ring after a failed setup on that loop: do not try again.
Ring *const kNoRing = reinterpret_cast<Ring *>(uintptr_t{1});

// The opcodes this kernel (and sandbox) serves: bit n for IORING_OP n; 0 when io_uring
// is unavailable. Probed once per process (g_probed says when; see g_engine_read).
std::atomic<uint64_t> g_opcodes{0};
std::atomic<bool> g_probed{false};
std::once_flag g_probe_once;

uint64_t probe_opcodes() {
  io_uring ring;
  // Fails under kernel.io_uring_disabled, a seccomp filter that denies io_uring_setup,
  // or a kernel without io_uring.
  if (io_uring_queue_init(4, &ring, 0) < 0) return 0;
  uint64_t bits = 0;
  if (io_uring_probe *probe = io_uring_get_probe_ring(&ring)) {
    for (int op = 0; op < IORING_OP_LAST && op < 64; ++op)
      if (io_uring_opcode_supported(probe, op)) bits |= uint64_t{1} << op;
    io_uring_free_probe(probe);
  }
  io_uring_queue_exit(&ring);
  // Every op relies on cancellation.
  return bits & (uint64_t{1} << IORING_OP_ASYNC_CANCEL) ? bits : 0;
}

void submit(Ring *r) {
  io_uring_submit(&r->ring);
  ++r->submits;
  r->tail_after_submit = io_uring_smp_load_acquire(r->ring.cq.ktail);
  r->inline_read_bytes = 0;
}

// Hands every waiting completion to its op: the number handed.
unsigned reap(Ring *r) {
  unsigned total = 0;
  for (;;) {
    io_uring_cqe *cqes[64];
    unsigned head = *r->ring.cq.khead;
    unsigned n = io_uring_peek_batch_cqe(&r->ring, cqes, 64);
    if (n == 0) return total;
    UringOp *ops[64];
    int res[64];
    for (unsigned i = 0; i < n; ++i) {
      ops[i] = static_cast<UringOp *>(io_uring_cqe_get_data(cqes[i]));
      res[i] = cqes[i]->res;
    }
    io_uring_cq_advance(&r->ring, n);
    // A cancel request carries no op: its answer is of no interest, the op's own entry is.
    for (unsigned i = 0; i < n; ++i) {
      if (!ops[i]) continue;
      r->handing_inside = static_cast<int>(r->tail_after_submit - (head + i)) > 0;
      ops[i]->on_cqe(res[i]);
    }
    total += n;
  }
}

void on_poll(uv_poll_t *handle, int, int) {
  auto *r = static_cast<Ring *>(handle->data);
  Dispatch scope(r->loop);
  reap(r);
}

// Sends what the iteration queued and hands out what completed at once (page-cache reads
// and cached lookups complete inside the submission); callbacks that start new ops get
// their submissions sent in the next round.
void before_wait(Ring *r) {
  uint64_t start = uv_hrtime();
  for (int round = 0; round < kRounds && uv_hrtime() - start < kRoundsNs; ++round) {
    if (!io_uring_sq_ready(&r->ring) && !io_uring_cq_ready(&r->ring)) return;
    Dispatch scope(r->loop);
    if (io_uring_sq_ready(&r->ring)) submit(r);
    if (reap(r) == 0) return;
  }
  if (io_uring_sq_ready(&r->ring)) submit(r);
}

void on_prepare(uv_prepare_t *handle) { before_wait(static_cast<Ring *>(handle->data)); }

void on_ring_handle_closed(uv_handle_t *handle) {
  auto *r = static_cast<Ring *>(handle->data);
  handle_closed(r->loop);
  if (--r->open_handles == 0) {
    io_uring_queue_exit(&r->ring);
    delete r;
  }
}

Ring *ring_create(fdk_loop *loop) {
  auto *r = new Ring;
  r->loop = loop;
  // The ring's descriptor is close-on-exec (the kernel creates it so), so spawned children
  // never inherit it.
  if (io_uring_queue_init(kRingEntries, &r->ring, 0) < 0) {
    delete r;
    return kNoRing;
  }
  if (uv_poll_init(loop->uv, &r->poll, r->ring.ring_fd) < 0) {
    io_uring_queue_exit(&r->ring);
    delete r;
    return kNoRing;
  }
  r->poll.data = r;
  uv_prepare_init(loop->uv, &r->prepare);
  r->prepare.data = r;
  r->open_handles = 2;
  handle_opened(loop);
  handle_opened(loop);
  // Pending ops keep the loop running; the ring's own handles do not.
  uv_poll_start(&r->poll, UV_READABLE, on_poll);
  uv_unref(reinterpret_cast<uv_handle_t *>(&r->poll));
  uv_prepare_start(&r->prepare, on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t *>(&r->prepare));
  // Made inside a prepare callback (a read rerouted when epoll refused its descriptor at
  // the batched registration), the ring's own prepare missed this pass: libuv runs only the
  // handles started before the pass began. Its first submission then goes out at the next
  // iteration, which must come without the loop blocking.
  if (loop->dispatch_depth > 0) poll_without_blocking(loop);
  return r;
}

io_uring_sqe *sqe_of(Ring *r) {
  io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
  if (!sqe) {
    // The queue is full: send it now to make room.
    submit(r);
    sqe = io_uring_get_sqe(&r->ring);
  }
  return sqe;
}

}  // namespace

bool ring_serves_first(fdk_loop *loop, int opcode) {
  if (!g_probed.load(std::memory_order_acquire)) {
    std::call_once(g_probe_once, [] {
      g_opcodes.store(probe_opcodes(), std::memory_order_relaxed);
      g_probed.store(true, std::memory_order_release);
    });
  }
  uint64_t opcodes = g_opcodes.load(std::memory_order_relaxed);
  if (!(opcodes & (uint64_t{1} << opcode))) return false;
  if (!loop->ring) loop->ring = ring_create(loop);
  if (loop->ring == kNoRing) return false;
  loop->ring_opcodes = opcodes;
  return true;
}

void ring_before_wait(fdk_loop *loop) {
  if (loop->ring && loop->ring != kNoRing) before_wait(loop->ring);
}

void ring_close(fdk_loop *loop) {
  Ring *r = loop->ring;
  loop->ring = nullptr;
  loop->ring_opcodes = 0;
  if (!r || r == kNoRing) return;
  uv_close(reinterpret_cast<uv_handle_t *>(&r->poll), on_ring_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&r->prepare), on_ring_handle_closed);
}

io_uring_sqe *UringOp::next_sqe() {
  io_uring_sqe *sqe = sqe_of(loop->ring);
  if (sqe) io_uring_sqe_set_data(sqe, this);
  return sqe;
}

io_uring_sqe *UringOp::begin_on_fd(fdk_fd *fd, Span &span, const char *what, fdk_op **out, int *raw) {
  span.begin(what, fd->raw, nullptr, loop);
  op_start(this, out);
  if (fd_use(fd, raw) < 0) {
    op_complete(this, fail(-EBADF, "%s: the handle is closed", what));
    return nullptr;
  }
  io_uring_sqe *sqe = next_sqe();
  if (!sqe) {
    fd_unuse(fd);
    continue_on_pool();
    return nullptr;
  }
  return sqe;
}

void UringOp::queued() {
  // Outside a libuv callback of fdkit (a start before the loop runs, or from the host's
  // own handle) no prepare pass is sure to come before the host waits: send it at once.
  if (loop->dispatch_depth == 0) submit(loop->ring);
}

uint64_t UringOp::submission() const { return loop->ring->submits; }

bool UringOp::completed_inside(uint64_t submission) const {
  Ring *r = loop->ring;
  return r->handing_inside && submission + 1 == r->submits;
}

bool UringOp::copy_inside(size_t bytes) {
  Ring *r = loop->ring;
  if (r->inline_read_bytes + bytes > kInlineReadBudget) return false;
  r->inline_read_bytes += bytes;
  return true;
}

bool UringOp::probe_cold_read() {
  // One cold read in 16 is tried inside the submission, so that data which has become
  // cached since is noticed.
  return ++loop->ring->cold_reads % 16 == 0;
}

void UringOp::continue_on_pool() {
  on_pool_ = true;
  if (int r = pool_submit(loop, this); r < 0) op_complete(this, r);
}

void UringOp::run() {
  pool_result_ = run_blocking();
  if (pool_result_ < 0) pool_detail_ = error_text();
}

void UringOp::ran() {
  if (cancelled_) {
    if (pool_result_ >= 0) discard(pool_result_);
    op_complete_with_detail(this, -ECANCELED, "operation cancelled");
  } else {
    op_complete_with_detail(this, pool_result_, std::move(pool_detail_));
  }
}

void UringOp::cancel() {
  if (cancelled_) return;
  cancelled_ = true;
  if (on_pool_) {
    // Still queued: it never runs. Running: ran() discards its result.
    if (pool_cancel(this)) op_complete_with_detail(this, -ECANCELED, "operation cancelled");
    return;
  }
  Ring *r = loop->ring;
  io_uring_sqe *sqe = sqe_of(r);
  if (!sqe) return;  // the op completes on its own entry all the same
  io_uring_prep_cancel64(sqe, reinterpret_cast<uintptr_t>(this), 0);
  io_uring_sqe_set_data(sqe, nullptr);
  submit(r);
}

#endif

}  // namespace fdk
