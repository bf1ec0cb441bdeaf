// SPDX-License-Identifier: MIT
#include "io/uring.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/error.h"
#include "core/syscall.h"
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

FDK_ASYNC_HOT FsEngine fs_engine() {
  if (!g_engine_read.load(std::memory_order_acquire)) {
    std::call_once(g_engine_once, [] {
      g_engine = read_engine_setting();
      g_engine_read.store(true, std::memory_order_release);
    });
  }
  return g_engine;
}

FDK_ASYNC_HOT bool inline_first(fdk_loop *loop, FsEngine engine) {
  if (engine == FsEngine::inline_only) return true;
  if (engine != FsEngine::automatic) return false;
#if FDK_HAVE_URING
  return loop->fs_in_flight == 0 || !ring_serves(loop, IORING_OP_READV);
#else
  (void)loop;
  return true;
#endif
}

FDK_ASYNC_HOT bool inline_open_first(fdk_loop *loop, FsEngine engine) {
  if (engine == FsEngine::inline_only) return true;
  if (engine != FsEngine::automatic) return false;
#if FDK_HAVE_URING
  return loop->fs_in_flight == 0 || !ring_serves(loop, IORING_OP_OPENAT2);
#else
  (void)loop;
  return true;
#endif
}

#if !FDK_HAVE_URING

void ring_close(fdk_loop *) {}
void ring_before_wait(fdk_loop *) {}

#else

// Reads of data known cold per read tried inside a submission anyway, at first and at most.
constexpr unsigned kFirstColdReadsPerProbe = 16;
constexpr unsigned kMostColdReadsPerProbe = 1024;

struct Ring {
  io_uring ring{};
  // Reads of data known cold since the last one tried inside a submission anyway (to notice
  // that the data is cached again), and how many such reads make one try.
  unsigned cold_reads = 0;
  unsigned cold_reads_per_probe = kFirstColdReadsPerProbe;
  size_t inline_read_bytes = 0;  // bytes of the reads in the next submission that it may copy itself
  size_t pass_copy_bytes = 0;    // the same for the submissions of the current prepare pass
  // An eventfd the kernel signals when it posts completions, polled by the loop; signals
  // are off while the ring's prepare pass submits and reaps itself (see on_prepare).
  bool reset_queued = false;  // a read of the eventfd waits in the queue for the next submission
  Waker waker;                // the eventfd (waker.fd) and its watch (loop/waker.h)
  uv_prepare_t prepare{};  // sends the iteration's submissions before the loop waits
  fdk_loop *loop = nullptr;
  int open_handles = 0;
};

namespace {

// Entries of a loop's ring; completions get twice as many (the kernel's default).
constexpr unsigned kRingEntries = 256;
// Submit-and-reap rounds one loop iteration makes before it lets other handles run, the
// time they may take together (a timer due meanwhile waits for them), and the bytes their
// reads may copy on the loop thread together (four submissions' worth, about 200 µs here:
// the clock, read after every few completions, would let a round of large reads run long
// past the time).
constexpr int kRounds = 64;
constexpr uint64_t kRoundsNs = 250 * 1000;
constexpr unsigned kCompletionsPerClockRead = 16;
constexpr size_t kPassCopyBudget = 4 * kInlineReadBudget;
// loop->ring after a failed setup on that loop: do not try again.
Ring *const kNoRing = reinterpret_cast<Ring *>(uintptr_t{1});

// The opcodes this kernel (and sandbox) serves: bit n for IORING_OP n; 0 when io_uring
// is unavailable. Probed once per process, on the first loop's own ring (g_probed says
// when; see g_engine_read): a ring made only to probe would cost a second io_uring_setup
// and teardown, each of which here flips a kernel static key (text patching with an
// interrupt to every CPU: hundreds of µs on a busy virtual machine).
std::atomic<uint64_t> g_opcodes{0};
std::atomic<bool> g_probed{false};
std::once_flag g_probe_once;

// ring: null when its setup failed (kernel.io_uring_disabled, a seccomp filter that denies
// io_uring_setup, a kernel without io_uring).
uint64_t probe_opcodes(io_uring *ring) {
  uint64_t bits = 0;
  if (!ring) return 0;
  if (io_uring_probe *probe = io_uring_get_probe_ring(ring)) {
    for (int op = 0; op < IORING_OP_LAST && op < 64; ++op)
      if (io_uring_opcode_supported(probe, op)) bits |= uint64_t{1} << op;
    io_uring_free_probe(probe);
  }
  // Every op relies on cancellation.
  return bits & (uint64_t{1} << IORING_OP_ASYNC_CANCEL) ? bits : 0;
}

// io_uring_enter made inline (core/syscall.h), not through liburing's io_uring_submit: a
// call into another library is one more page of code before the system call and after it,
// each a page walk where the kernel flushes the TLB at every call (core/hot.h). getevents:
// also flush the completions the kernel kept aside when the completion queue was full.
void enter(Ring *r, unsigned to_submit, bool getevents) {
  (void)raw_syscall(SYS_io_uring_enter, r->ring.ring_fd, to_submit, 0, getevents ? IORING_ENTER_GETEVENTS : 0, 0);
}

bool completions_kept_aside(const Ring *r) {
  return IO_URING_READ_ONCE(*r->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW;
}

// Publishes the entries filled since the last submission (liburing's io_uring_get_sqe hands
// them out in order, and its setup maps each slot of the submission array to its own entry)
// and sends them. An error leaves them queued: the next submission sends them again.
FDK_ASYNC_HOT void submit(Ring *r) {
  io_uring_sq &sq = r->ring.sq;
  unsigned tail = sq.sqe_tail;
  if (sq.sqe_head != tail) {
    sq.sqe_head = tail;
    io_uring_smp_store_release(sq.ktail, tail);
  }
  unsigned to_submit = tail - *sq.khead;
  if (bool flush = completions_kept_aside(r); to_submit || flush) enter(r, to_submit, flush);
  r->reset_queued = false;
  r->pass_copy_bytes += r->inline_read_bytes;
  r->inline_read_bytes = 0;
}

FDK_ASYNC_HOT io_uring_sqe *sqe_of(Ring *r) {
  io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
  if (!sqe) {
    // The queue is full: send it now to make room.
    submit(r);
    sqe = io_uring_get_sqe(&r->ring);
  }
  return sqe;
}

// Hands every waiting completion to its op: the number handed.
// Read inline rather than with liburing's io_uring_peek_batch_cqe, for the same reason as
// submit's system call.
FDK_ASYNC_HOT unsigned reap(Ring *r) {
  io_uring_cq &cq = r->ring.cq;
  unsigned total = 0;
  // Whether the kernel was asked for the completions it kept aside and gave none since: it
  // is not asked twice in a row for nothing.
  bool flushed = false;
  for (;;) {
    unsigned head = *cq.khead;
    unsigned n = std::min(io_uring_smp_load_acquire(cq.ktail) - head, 64u);
    if (n == 0) {
      // Completions the kernel kept aside (a full queue) come back with one more call, a
      // queue's worth at a time: asked again each time the queue was emptied.
      if (flushed || !completions_kept_aside(r)) return total;
      enter(r, 0, true);
      flushed = true;
      continue;
    }
    flushed = false;
    UringOp *ops[64];
    int res[64];
    for (unsigned i = 0; i < n; ++i) {
      const io_uring_cqe &cqe = cq.cqes[(head + i) & cq.ring_mask];
      ops[i] = static_cast<UringOp *>(io_uring_cqe_get_data(&cqe));
      res[i] = cqe.res;
    }
    io_uring_cq_advance(&r->ring, n);
    // A cancel request and a read of the eventfd carry no op: their answers are of no
    // interest (a cancelled op's own entry is).
    for (unsigned i = 0; i < n; ++i) {
      if (ops[i]) ops[i]->on_cqe(res[i]);
    }
    total += n;
    // Fewer than asked: the queue was empty. An entry a handler's own submission (a cancel,
    // a full queue sent) completed since is handed in the next round, or after the wake-up
    // it signalled; entries kept aside are asked for now.
    if (n < 64 && !completions_kept_aside(r)) return total;
  }
}

// Whether the ring has anything for a pass: entries to send, completions to hand out, or
// completions the kernel kept aside, for which it signals nothing more.
FDK_ASYNC_HOT bool has_work(Ring *r) {
  return io_uring_sq_ready(&r->ring) || io_uring_cq_ready(&r->ring) || completions_kept_aside(r);
}

// Where the reads of the eventfd put its count, which nobody needs. Never a ring's own member: a
// read could in principle outlive its ring.
uint64_t g_discarded_count;

// Resets the eventfd's count before the loop next waits. Inside fdk_loop_run(FDK_RUN_DEFAULT),
// with a read queued in the ring: the prepare pass of the next iteration sends it with the
// calls that the woken callbacks start, so it costs no system call of its own (the eventfd
// is non-blocking: the read completes inside the submission). Else (a run that ends after
// this iteration, or a host's own uv_run) with read(2), so that a host waiting on the
// backend descriptor is not woken again by the count left.
void reset_wake_count(Ring *r) {
  if (r->reset_queued) return;
  fdk_loop *loop = r->loop;
  bool iteration_follows = loop->running && loop->run_mode == FDK_RUN_DEFAULT;
  if (iteration_follows && (loop->ring_opcodes & (uint64_t{1} << IORING_OP_READ))) {
    if (io_uring_sqe *sqe = sqe_of(r)) {
      io_uring_prep_read(sqe, r->waker.fd, &g_discarded_count, sizeof g_discarded_count, 0);
      io_uring_sqe_set_data(sqe, nullptr);  // its completion is of no interest (see reap)
      r->reset_queued = true;
      return;
    }
  }
  uint64_t count;
  if (::read(r->waker.fd, &count, sizeof count) < 0) {
    // EAGAIN: the count was reset already. Nothing else can fail on an eventfd.
  }
}

// reset: libuv polls the eventfd (level-triggered); in the loop's own set its count is left.
FDK_ASYNC_HOT void on_wake(Waker *waker, bool reset) {
  auto *r = static_cast<Ring *>(waker->owner);
  if (reset) reset_wake_count(r);
  Dispatch scope(r->loop);
  reap(r);
}

// Whether the kernel signals the eventfd for the completions it posts. Off, an idle ring costs
// nothing, and a submission whose calls complete inside it (a cached open or read) is not
// followed by a wake-up of the loop's epoll set: about 0.15 µs per submission here.
void signal_completions(Ring *r, bool on) {
  // -EOPNOTSUPP on kernels before 5.8, which always signal.
  (void)io_uring_cq_eventfd_toggle(&r->ring, on);
}

// Makes the loop's next wait return at once, as if the kernel had signalled a completion.
void wake_soon(Ring *r) {
  // fdk_loop_free's own runs have no idle pass.
  if (r->loop->freeing) eventfd_write(r->waker.fd, 1);
  else poll_without_blocking(r->loop);
}

// Sends what the iteration queued and hands out what completed at once (page-cache reads
// and cached lookups complete inside the submission); callbacks that start new ops get
// their submissions sent in the next round. What is still queued when the rounds stop goes
// out in the next iteration's pass.
FDK_ASYNC_HOT void submit_and_reap(Ring *r) {
  uint64_t start = uv_hrtime();
  r->pass_copy_bytes = 0;
  // The clock is read once kCompletionsPerClockRead completions were handed since the last
  // read: a completion of a cached open or read takes a few µs, and a clock read (libuv's
  // code, the vDSO's and the clock's page, each a page walk after the round's system call)
  // cost a round of one such completion a tenth of that.
  unsigned handed_since_clock = 0;
  for (int round = 0; round < kRounds; ++round) {
    if (handed_since_clock >= kCompletionsPerClockRead) {
      if (uv_hrtime() - start >= kRoundsNs) break;
      handed_since_clock = 0;
    }
    if (!has_work(r)) return;
    Dispatch scope(r->loop);
    if (io_uring_sq_ready(&r->ring)) submit(r);
    unsigned handed = reap(r);
    if (handed == 0 || r->pass_copy_bytes >= kPassCopyBudget) return;
    handed_since_clock += handed;
  }
}

// Before the loop waits (its prepare handle, or fdk_loop_run's own wait).
FDK_ASYNC_HOT void before_wait(Ring *r) {
  if (!has_work(r)) return;
  // This pass hands out what completes while it runs; the loop may wait only once
  // signals are on again and no completion came meanwhile (the kernel orders its
  // posting before its test of the flag with a full barrier, this side with the fence).
  signal_completions(r, false);
  submit_and_reap(r);
  signal_completions(r, true);
  io_uring_smp_mb();
  if (has_work(r)) wake_soon(r);
}

FDK_ASYNC_HOT void on_prepare(uv_prepare_t *handle) { before_wait(static_cast<Ring *>(handle->data)); }

void on_ring_handle_closed(uv_handle_t *handle) {
  auto *r = static_cast<Ring *>(handle->data);
  handle_closed(r->loop);
  if (--r->open_handles == 0) {
    io_uring_queue_exit(&r->ring);
    ::close(r->waker.fd);
    delete r;
  }
}

Ring *ring_create(fdk_loop *loop) {
  auto *r = new Ring;
  r->loop = loop;
  // The ring's descriptor is close-on-exec (the kernel creates it so), and so is its
  // eventfd: spawned children never inherit them.
  if (io_uring_queue_init(kRingEntries, &r->ring, 0) < 0) {
    delete r;
    return kNoRing;
  }
  r->waker.fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  r->waker.loop = loop;
  r->waker.owner = r;
  r->waker.on_wake = on_wake;
  if (r->waker.fd < 0 || io_uring_register_eventfd(&r->ring, r->waker.fd) < 0 || waker_start(&r->waker) < 0) {
    io_uring_queue_exit(&r->ring);
    if (r->waker.fd >= 0) ::close(r->waker.fd);
    delete r;
    return kNoRing;
  }
  uv_prepare_init(loop->uv, &r->prepare);
  r->prepare.data = r;
  r->open_handles = 2;
  handle_opened(loop);
  // Pending ops keep the loop running; the ring's own handles do not.
  uv_prepare_start(&r->prepare, on_prepare);
  uv_unref(reinterpret_cast<uv_handle_t *>(&r->prepare));
  // Made inside a prepare callback (a read rerouted when epoll refused its descriptor at
  // the batched registration), the ring's own prepare missed this pass: libuv runs only the
  // handles started before the pass began. Its first submission then goes out at the next
  // iteration, which must come without the loop blocking.
  if (loop->dispatch_depth > 0) poll_without_blocking(loop);
  return r;
}

}  // namespace

bool ring_serves_first(fdk_loop *loop, int opcode) {
  uint64_t bit = uint64_t{1} << opcode;
  bool probed = g_probed.load(std::memory_order_acquire);
  if (probed && !(g_opcodes.load(std::memory_order_relaxed) & bit)) return false;
  if (!loop->ring) loop->ring = ring_create(loop);
  if (!probed) {
    std::call_once(g_probe_once, [loop] {
      g_opcodes.store(probe_opcodes(loop->ring == kNoRing ? nullptr : &loop->ring->ring), std::memory_order_relaxed);
      g_probed.store(true, std::memory_order_release);
    });
  }
  uint64_t opcodes = g_opcodes.load(std::memory_order_relaxed);
  if (loop->ring == kNoRing || !(opcodes & bit)) return false;
  loop->ring_opcodes = opcodes;
  return true;
}

FDK_ASYNC_HOT void ring_before_wait(fdk_loop *loop) {
  if (loop->ring && loop->ring != kNoRing) before_wait(loop->ring);
}

void ring_close(fdk_loop *loop) {
  Ring *r = loop->ring;
  loop->ring = nullptr;
  loop->ring_opcodes = 0;
  if (!r || r == kNoRing) return;
  waker_close(&r->waker, on_ring_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&r->prepare), on_ring_handle_closed);
}

FDK_ASYNC_HOT io_uring_sqe *UringOp::next_sqe() {
  io_uring_sqe *sqe = sqe_of(loop->ring);
  if (sqe) io_uring_sqe_set_data(sqe, this);
  return sqe;
}

FDK_ASYNC_HOT io_uring_sqe *UringOp::begin_on_fd(fdk_fd *fd, Span &span, const char *what, fdk_op **out, int *raw) {
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

FDK_ASYNC_HOT void UringOp::queued() {
  // Outside a libuv callback of fdkit (a start before the loop runs, or from the host's
  // own handle, maybe a prepare handle run after the ring's) the ring's prepare pass may
  // already be over: the loop's next wait must not block, so that a pass comes first and
  // sends the whole batch (64 calls started before the loop runs: one system call, not 64).
  // A host that waits on the backend descriptor is woken by op_start, and then sees a zero
  // timeout.
  if (loop->dispatch_depth == 0) wake_soon(loop->ring);
}

FDK_ASYNC_HOT bool UringOp::copy_inside(size_t bytes) {
  Ring *r = loop->ring;
  if (r->inline_read_bytes + bytes > kInlineReadBudget) return false;
  r->inline_read_bytes += bytes;
  return true;
}

bool UringOp::probe_cold_read() {
  Ring *r = loop->ring;
  if (++r->cold_reads < r->cold_reads_per_probe) return false;
  r->cold_reads = 0;
  return true;
}

void UringOp::found_cold(fdk_fd *fd) {
  if (fd_learned(fd, fdk_fd::kColdData)) return;
  fd_learn(fd, fdk_fd::kColdData);
  // Each time a handle turns cold, the tries grow rarer on this loop: mostly it is the
  // same file again, read from the disk in sequence, whose readahead keeps the next reads
  // cached (a try finds them so) while the ones after are not; each such turn costs the
  // loop thread the copies and readahead of the reads tried meanwhile.
  Ring *r = loop->ring;
  r->cold_reads_per_probe = std::min(r->cold_reads_per_probe * 2, kMostColdReadsPerProbe);
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
