/* SPDX-License-Identifier: MIT */
// fd handle internals: the use count that defers close, and the per-loop readiness watch.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "core/syscall.h"
#include "fdkit/fd.h"
#include "loop/loop.h"

struct fdk_fd {
  // state: low bits count the uses in flight; kClosing forbids new uses; kReleasing means
  // the last use must hand the descriptor back instead of closing it.
  static constexpr uint32_t kClosing = 1u << 31;
  static constexpr uint32_t kReleasing = 1u << 30;
  static constexpr uint32_t kUseMask = kReleasing - 1;

  // What fdkit learned about the descriptor on first use (bits, set once each).
  static constexpr uint16_t kUnpollable = 1;  // epoll refuses it: async I/O on workers
  static constexpr uint16_t kSocket = 2;      // send/recv work on it
  static constexpr uint16_t kNotSocket = 4;
  static constexpr uint16_t kPollable = 8;  // epoll accepted it
  static constexpr uint16_t kNoNowaitRead = 16;   // preadv2(RWF_NOWAIT) answered EOPNOTSUPP
  static constexpr uint16_t kNoNowaitWrite = 32;  // pwritev2(RWF_NOWAIT) answered EOPNOTSUPP
  static constexpr uint16_t kColdData = 64;  // the last RWF_NOWAIT read found data uncached (unset again when cached)
  static constexpr uint16_t kModeRead = 128;      // the blocking mode was read from the descriptor...
  static constexpr uint16_t kModeBlocking = 256;  // ... and it is blocking
  // pwritev2(RWF_NOSIGNAL) was refused by this file alone (no write_iter): its writes hold
  // SIGPIPE back instead (the top bit, clear of the ones above as they grow).
  static constexpr uint16_t kNoNosignalWrite = 1u << 15;

  // In the flags given to fd_alloc: adopt was not told the mode, which is read from the
  // descriptor at the first use that needs it (an fcntl at every adopt would cost more than
  // the adopt itself). A mode given is learned at once (kModeRead), so the mode is asked
  // of learned alone.
  static constexpr uint8_t kModeUnread = 0x80;

  // Two counts with two words: a reference keeps the descriptor open (the last one closes
  // it); a pin keeps only the memory (a pinned handle may be closed). All references
  // together hold one pin.
  std::atomic<uint32_t> user_refs{1};
  std::atomic<uint32_t> pins{1};
  std::atomic<uint32_t> state{0};
  int raw = -1;
  uint8_t flags = 0;  // FDK_FD_* given at adopt, and kModeUnread
  std::atomic<uint16_t> learned{0};
  // The loops' watches, guarded by the handle's stripe lock; a watch is linked after the
  // first, which stays first until its own loop drops it.
  fdk::Watch *watches = nullptr;
  // The loop of the first watch, set under the lock: the loop thread that finds its own loop
  // here reaches its watch without the lock, since only that thread can unlink it.
  std::atomic<fdk_loop *> first_watch_loop{nullptr};
};

// The memory bound doc/fd.md states for a handle.
static_assert(sizeof(fdk_fd) <= 64, "an fd handle must stay within 64 bytes");

namespace fdk {

// Marks a use; -EBADF once closing. On success *raw holds the descriptor. Inline, as
// fd_unuse: every open and stat beneath a dir runs both, a call each otherwise.
inline int fd_use(fdk_fd *fd, int *raw) {
  uint32_t s = fd->state.load(std::memory_order_acquire);
  do {
    if (s & fdk_fd::kClosing) return -EBADF;
  } while (!fd->state.compare_exchange_weak(s, s + 1, std::memory_order_acq_rel));
  *raw = fd->raw;
  return 0;
}

// The last use of a closing handle ended: the close or release proceeds (fd_unuse).
void fd_last_use_ended(fdk_fd *fd, uint32_t state_before);

inline void fd_unuse(fdk_fd *fd) {
  uint32_t prev = fd->state.fetch_sub(1, std::memory_order_acq_rel);
  if (__builtin_expect((prev & fdk_fd::kUseMask) == 1 && (prev & fdk_fd::kClosing), 0)) fd_last_use_ended(fd, prev);
}

// Pins the handle's memory (not the descriptor); the last unpin frees it.
void fd_pin(fdk_fd *fd);
void fd_unpin(fdk_fd *fd);

// Bodies of fdk_fd_ref and fdk_fd_unref, for fdkit's own holders (NULL is ignored; both
// return what the export returns).
fdk_fd *fd_ref(fdk_fd *fd);
fdk_fd *fd_unref(fdk_fd *fd);

// A new handle with one reference, or null when out of memory; learned as fd_wrap's.
fdk_fd *fd_alloc(int raw, uint8_t flags, uint16_t learned = 0);

// Creates a handle for a descriptor fdkit just created (owned, non-blocking unless
// blocking is set). learned gives what is already known of its kind (kPollable with kSocket
// or kNotSocket for a socket or pipe: its first wait and first write then make no system
// call to find out). On failure closes raw and returns the error.
int fd_wrap(fdk_fd **out, int raw, bool blocking, uint16_t learned = 0);
// What fd_wrap is told of the kinds fdkit creates.
constexpr uint16_t kSocketKind = fdk_fd::kPollable | fdk_fd::kSocket;
constexpr uint16_t kPipeKind = fdk_fd::kPollable | fdk_fd::kNotSocket;

// Closes the descriptor (unless borrowed): 0 or the close's error. Linux releases the
// descriptor even when close reports EINTR; never retry.
[[gnu::always_inline]] inline int close_raw(fdk_fd *fd) {
  if (fd->flags & FDK_FD_BORROW) return 0;
  int r = hot_close(fd->raw);
  return r < 0 && r != -EINTR ? fail_sys(r, "close") : 0;
}

// Sets the closing bits; -EBADF if already set. *idle tells whether no use was in flight.
inline int begin_close(fdk_fd *fd, uint32_t bits, bool *idle) {
  uint32_t s = fd->state.load(std::memory_order_acquire);
  do {
    if (s & fdk_fd::kClosing) return -EBADF;
  } while (!fd->state.compare_exchange_weak(s, s | bits, std::memory_order_acq_rel));
  *idle = (s & fdk_fd::kUseMask) == 0;
  return 0;
}

// The close of a handle with uses in flight: its watches on the calling thread's loops
// end now, and the descriptor is closed here when they held its last uses (0, or the
// close's error), else by the last use (0).
int close_in_use(fdk_fd *fd);

// Body of fdk_fd_close. Inline, so that a close is made in the caller's frame or in
// close_in_use's, which also removes the descriptor from the epoll set: each frame left
// after a system call costs a mispredicted return (core/hot.h).
[[gnu::always_inline]] inline int fd_close(fdk_fd *fd) {
  bool idle = false;
  if (begin_close(fd, fdk_fd::kClosing, &idle) < 0) return fail(-EBADF, "close: the handle is already closed");
  return idle ? close_raw(fd) : close_in_use(fd);
}
// Body of fdk_fd_release.
int fd_release(fdk_fd *fd, int *raw);

inline bool fd_learned(const fdk_fd *fd, uint16_t bit) { return fd->learned.load(std::memory_order_relaxed) & bit; }
inline void fd_learn(fdk_fd *fd, uint16_t bit) { fd->learned.fetch_or(bit, std::memory_order_relaxed); }
inline void fd_unlearn(fdk_fd *fd, uint16_t bit) { fd->learned.fetch_and(static_cast<uint16_t>(~bit), std::memory_order_relaxed); }

// Whether a close or release began: no new use can start.
inline bool fd_is_closing(const fdk_fd *fd) { return fd->state.load(std::memory_order_acquire) & fdk_fd::kClosing; }

// The boundary's check of a handle argument: -EINVAL with the call named for NULL.
inline int check_fd(const char *what, const fdk_fd *fd) { return fd ? 0 : fail(-EINVAL, "%s: fd is NULL", what); }

// 1 when the handle is in blocking mode, 0 when not, or a negative errno when its mode
// was never given and cannot be read (-EBADF once closing or for a number not open).
int fd_blocking_mode(fdk_fd *fd);
// The blocking mode as far as it is known without a system call: 1 blocking, 0 not, -1
// not read yet.
inline int fd_known_mode(const fdk_fd *fd) {
  uint16_t learned = fd->learned.load(std::memory_order_relaxed);
  if (learned & fdk_fd::kModeRead) return (learned & fdk_fd::kModeBlocking) ? 1 : 0;
  return -1;
}
// Whether a handle with these learned bits is known pollable and non-blocking: its
// asynchronous calls are then plain non-blocking system calls, tried without asking
// anything else (one load and one test on the hot paths of a read).
inline bool tries_plainly(uint16_t learned) {
  constexpr uint16_t kAsked = fdk_fd::kPollable | fdk_fd::kModeRead | fdk_fd::kModeBlocking;
  return (learned & kAsked) == (fdk_fd::kPollable | fdk_fd::kModeRead);
}
// The blocking mode, false when it cannot be read (the call that follows then fails);
// known is what fd_known_mode answered, the mode read only when that was -1.
inline bool fd_is_blocking(fdk_fd *fd, int known) { return known >= 0 ? known : fd_blocking_mode(fd) > 0; }
inline bool fd_is_blocking(fdk_fd *fd) { return fd_is_blocking(fd, fd_known_mode(fd)); }

enum class Direction : uint8_t { read = 0, write = 1 };

// A pending readiness wait, a base of the operation that waits (on_ready finds it with a
// static_cast). on_ready runs on the loop thread with 0 when the direction became ready,
// the waiter still on the watch's list (it waits on, or leaves with cancel_wait), or with
// -ECANCELED when the handle was closed (or the registration's error), the waiter off the
// list. Its direction is given to wait_ready, not kept, and its operation is not pointed
// to: a pending read stays small.
struct Waiter {
  Waiter *prev = nullptr, *next = nullptr;
  Watch *watch = nullptr;  // the watch whose list holds it, or null
  void (*on_ready)(Waiter *self, int status) = nullptr;
};

// Registers fd in loop's epoll set if it is not yet, or not yet for a watch waiting for
// the next batch (loop thread only), so the handle learns whether it can be polled. 0,
// -EPERM when epoll refuses it, or -EBADF.
int ensure_watch(fdk_loop *loop, fdk_fd *fd);

// Waits for dir on fd with loop (loop thread only). Returns 0 when waiting, -EPERM when
// epoll refuses the descriptor (the caller then uses the worker pool; the handle
// remembers it), -EBADF when the handle is closing, or another negative errno. With
// refusal_later, a descriptor of a kind not yet known is registered with the next batch
// too, like a known pollable one: a refusal then reaches the waiter's on_ready as -EPERM
// (with the handle's kUnpollable learned), never this call.
int wait_ready(fdk_loop *loop, fdk_fd *fd, Waiter *waiter, Direction dir, bool refusal_later = false);
// Takes a waiter off its watch's list, if it is on one (loop thread only).
void cancel_wait(Waiter *waiter);

// Makes an asynchronous read on fd wait for readiness before its first attempt when the
// loop watches fd (level-triggered) and has not reported it readable since the last read
// attempt (loop thread only): 1 when waiting so, 0 when the read should be tried first, or
// a negative errno as wait_ready. Such an attempt would most likely answer EAGAIN, and
// waiting is safe because a level-triggered poll reports data that is already there.
// Writes are always tried first: sockets are nearly always writable.
int wait_ready_if_read_spent(fdk_loop *loop, fdk_fd *fd, Waiter *waiter);
// Records a read attempt on fd (loop thread only): the readiness last reported is spent.
// A read woken by a readable report need not: the report counts as spent by the reads it
// wakes, which try at once (watch_fire).
void note_read_attempt(fdk_loop *loop, fdk_fd *fd);
// Records a read on fd that filled a buffer of at least kFullReadMin bytes (loop thread
// only): more is most likely there, so the readiness is not spent and the next read tries
// at once, as a stream reader that keeps reading while its buffer fills would; at most
// kFullReadsPerReport such reads of the loop between two readable reports, after which
// reads wait for the next report, so the loop polls its other handles and runs its timers.
void note_read_filled(fdk_loop *loop, fdk_fd *fd);
constexpr size_t kFullReadMin = 4096;
constexpr uint32_t kFullReadsPerReport = 32;

// Registers the watches created since the loop last polled, and those that the callbacks
// of failed registrations start (loop thread; called just before each poll while there are
// any: by the loop's prepare handle, or by fdk_loop_run when it waits itself).
void register_watches(fdk_loop *loop);
// Has libuv run register_watches before it polls next (its prepare handle), when watches
// wait for it: for a loop that libuv polls from now on (loop thread).
void register_before_libuv_polls(fdk_loop *loop);
// Called by the loop when its epoll set became readable: true when the set holds one
// watch, registered for one direction, which is then reported ready without asking the
// set which (libuv's poll checks the descriptor through the set, so the set is readable
// only while that direction is ready, or hung up: the retried call reports that). A
// report made stale by a callback earlier in the same turn costs one call that answers
// EAGAIN and waits again.
bool report_sole_watch(fdk_loop *loop);
// Stops every watch of loop (loop thread; during fdk_loop_free).
void teardown_loop_watches(fdk_loop *loop);

}  // namespace fdk
