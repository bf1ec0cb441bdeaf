/* SPDX-License-Identifier: MIT */
// fdkit's worker pool: the blocking calls of asynchronous operations that have no
// non-blocking form (file-system calls io_uring cannot make, reads of regular files where
// io_uring is unavailable, name resolution).
//
// A round trip through libuv's pool costs two wake-ups of a sleeping thread (the worker's
// condition variable, then the loop's eventfd), each a cross-CPU wake-up that costs 10-15 µs
// on a virtual machine: ten times a warm stat. This pool keeps both threads awake for as
// long as the loop keeps feeding it, within tight bounds:
// - a worker that finishes a job looks for the next one for a short while before it sleeps,
//   so a loop that starts the next call from the callback hands it over without a system call;
// - a loop with jobs in flight that has nothing else to do checks for their completion for
//   a short while before it blocks (only inside fdk_loop_run, only while it pays off), so the
//   worker hands the result back without writing the loop's eventfd;
// - both look on the CPU (the pause instruction) for at most 30 µs, one worker at a time,
//   and less often after looks that found nothing (sched_yield is not used: the scheduler
//   pushes a thread that yields again and again behind every other process);
// - completions reach the loop as one lock-free list, so a burst of them costs at most one
//   eventfd write and one loop wake-up;
// - a loop waiting itself with many jobs in flight lets results gather before it is woken:
//   half of them, or fewer once the queue runs low, and never longer than 1 ms, which caps
//   its wait (loop/pool.cpp, pool_wait_timeout);
// - a burst of calls from the loop costs it at most one worker wake-up per eager worker: a
//   woken worker wakes the next while calls are left (loop/pool.cpp, more_hands_locked).
//   One wake-up in all kept the second CPU idle at 64 calls in flight while the woken
//   worker waited for the busy CPU that woke it (wake_under_way_locked).
// - without UV_THREADPOOL_SIZE, only one worker per CPU and one more take calls while calls
//   keep finishing (many more only take CPU time from the loop thread and contend on the
//   kernel's locks); the others join in once none has started or finished for 1 ms, which
//   one of them, on standby, checks every millisecond while calls wait (loop/pool.cpp,
//   kStalled, eager_workers).
// - workers run under SCHED_BATCH, so that one the loop wakes does not preempt it, except a
//   worker whose calls mostly take long while all are busy (they wait on a kernel lock):
//   a lock's waiter must not wait for a free CPU (loop/pool.cpp, kLongJob).
#pragma once

#include <uv.h>

#include <atomic>
#include <chrono>

#include "loop/backoff.h"

struct fdk_loop;

namespace fdk {

// A blocking call queued on the pool. Lives inside its operation; belongs to the loop thread
// except while a worker runs it.
class PoolJob {
 public:
  PoolJob() = default;
  PoolJob(const PoolJob &) = delete;
  PoolJob &operator=(const PoolJob &) = delete;

  // Worker thread: the blocking call.
  virtual void run() = 0;
  // Loop thread, inside a dispatch: run() has returned.
  virtual void ran() = 0;

 protected:
  ~PoolJob() = default;

 public:
  // The pool's own (loop/pool.cpp).
  fdk_loop *loop_ = nullptr;
  PoolJob *prev_ = nullptr, *next_ = nullptr;  // the pool's queue (its lock)
  PoolJob *done_next_ = nullptr;               // the loop's list of finished jobs
  bool queued_ = false;                        // on the queue, not yet taken by a worker (the pool's lock)
};

// A loop's side of the pool (a member of fdk_loop).
struct PoolLoop {
  std::atomic<PoolJob *> done{nullptr};  // jobs finished by workers, newest first
  // Set while the loop thread itself watches `done` (it then checks it again before it
  // blocks): a worker that finishes a job need not wake it.
  std::atomic<bool> watching{false};
  // Workers between finishing a job and their last touch of the loop: fdk_loop_free waits
  // for none before it frees the loop.
  std::atomic<int> notifying{0};
  // Results the workers let gather on `done` before they wake the loop: 1 (wake at the
  // first) except while the loop blocks with many jobs in flight (see pool_wait_timeout).
  std::atomic<int> gather{1};
  std::atomic<int> gathered{0};  // results on `done`, counted by the workers after the push
  int in_flight = 0;        // jobs submitted and not yet through ran() (loop thread)
  Backoff gather_backoff;    // of waits that let results gather and ran out before their count
  std::chrono::steady_clock::time_point gather_until{};  // the end of the wait that lets them gather
  bool collected_before_wait = false;  // pool_before_wait collected results (loop thread)
  Backoff watch_backoff;    // of watches for a result that found none
  uv_prepare_t prepare{};   // checks for finished jobs before the loop blocks
};

// Loop thread. Queues job on the pool for loop; on failure (-EAGAIN: no worker thread could
// be started; -ESHUTDOWN: the process is exiting) nothing runs.
int pool_submit(fdk_loop *loop, PoolJob *job);
// Loop thread. Takes job off the queue if no worker has started it: true when it will never
// run (its ran() will not be called either).
bool pool_cancel(PoolJob *job);

// The loop's side: set up with the loop, closed (once nothing is pending) before it is freed.
void pool_loop_init(fdk_loop *loop);
void pool_loop_close(fdk_loop *loop, uv_close_cb on_closed);
// Loop thread, inside a dispatch: calls ran() on every job the workers finished; how many.
int pool_loop_collect(fdk_loop *loop);
// Loop thread, just before the loop polls (its prepare handle, or fdk_loop_run when it
// waits itself): collects what finished, then, while jobs keep finishing within a short
// look, keeps collecting them for a bounded while instead of blocking.
void pool_before_wait(fdk_loop *loop);
// Loop thread, just before the loop blocks in its own wait for up to timeout ms (-1: no
// limit), after pool_before_wait: the timeout to use, 0 in a FDK_RUN_ONCE run when
// pool_before_wait delivered results (the run returns with them). With many jobs in flight the workers
// then wake it once half of them have finished (or the queue runs low) rather than at the
// first, and the wait lasts at most 1 ms, the bound on how long a result waits for a
// wake-up. A loop that libuv runs never lets results gather: nothing would cap its wait.
int pool_wait_timeout(fdk_loop *loop, int timeout);

}  // namespace fdk
