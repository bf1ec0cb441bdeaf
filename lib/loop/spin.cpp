// SPDX-License-Identifier: MIT
#include "loop/spin.h"

#include <cstdint>

#include "io/ops.h"
#include "loop/deadlines.h"
#include "loop/loop.h"

namespace fdk {

// Whether a wait that may block polls first: only while the last waits paid (a loop with
// nothing to do blocks for long and stops polling after its first such wait), not during
// the back-off after fruitless polls, not while calls are on the worker pool (its own
// watch for their results runs before the wait, pool.cpp: should_watch), and not when one
// of the loop's sleeps comes due within the poll. FDK_RUN_NOWAIT and a timer of libuv's
// that is due pass a timeout of 0 and never get here; libuv's other timers are whole
// milliseconds away, and the timed wait after a fruitless poll ends at most the poll's
// 20 µs later, within the kernel's own slack on it (50 µs).
bool should_poll_first(fdk_loop *loop) {
  SpinState &spin = loop->spin;
  if (!spin.pays || !loop->running || loop->stop_requested || loop->pool.in_flight > 0) return false;
  if (spin.backoff.passes_up()) return false;
  return loop->deadlines.empty() || loop->deadlines.front()->at_ns - now_ns() > kPollForNs;
}

}  // namespace fdk
