/* SPDX-License-Identifier: MIT */
// The loop's deadlines: a binary heap of pending sleeps behind one libuv timer, armed for
// the earliest. A sleep then costs a heap slot and no libuv handle of its own (a uv_timer_t
// is 152 bytes and its start and close cost more than a heap push and pop).
#pragma once

#include <cstdint>

struct fdk_loop;
struct fdk_op;

namespace fdk {

struct Deadline {
  static constexpr uint32_t kNoSlot = UINT32_MAX;
  fdk_op *op = nullptr;     // completed with 0 once at_ns has passed on the monotonic clock
  int64_t at_ns = 0;
  uint64_t seq = 0;         // start order, which breaks ties between equal deadlines
  uint32_t slot = kNoSlot;  // index in the heap while queued
};

// Sets up and closes the loop's timer (loop creation and fdk_loop_free; the heap is
// empty by the time it closes, every sleep having been cancelled).
int deadlines_init(fdk_loop *loop);
void deadlines_close(fdk_loop *loop);

// Queues d (loop thread). Its op completes from a later timer callback, never inside this
// call, even when at_ns has already passed.
void deadline_add(fdk_loop *loop, Deadline *d);
// Takes d out of the heap if it is queued (loop thread).
void deadline_remove(fdk_loop *loop, Deadline *d);
// Completes the sleeps whose deadline passed and arms the timer for the next (loop thread):
// the timer's callback, or fdk_loop_run when its own wait timed out.
void deadlines_expire(fdk_loop *loop);

}  // namespace fdk
