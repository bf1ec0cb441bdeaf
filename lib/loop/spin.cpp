// SPDX-License-Identifier: MIT
#include "loop/spin.h"

#include <sys/epoll.h>

#include <cstdint>

#include "io/ops.h"
#include "loop/deadlines.h"
#include "loop/loop.h"

namespace fdk {
namespace {

// How long a loop about to block polls its set first. A blocking wait that the other side
// ends costs the loop a sleep and a wake-up, 10-15 µs here, and the other side's call that
// wakes it a few µs more; a pipe's writer and reader on their own loops then take turns
// sleeping on each other. A poll of 20 µs that finds nothing costs about what the sleep and
// wake-up it hoped to save would have.
constexpr int64_t kPollForNs = 20000;
// A blocking wait that ended with events within this long of its start says the other side
// acts quickly enough for a poll to catch it: the wake-up itself is part of the wait, 10-15
// µs on a quiet machine and several times that on a busy one (with 50 µs, only a third of a
// pipe reader's waits counted here under load, while 60% of its polls found the data).
// Waits this short keep a loop busy anyway; a loop that waits longer never polls.
constexpr int64_t kQuickWaitNs = 200000;

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

// Polls the set until kPollForNs went by: what epoll_wait returned once that was not 0, else 0.
int poll_briefly(fdk_loop *loop, epoll_event *events, int max) {
  SpinState &spin = loop->spin;
  int64_t until = now_ns() + kPollForNs;
  do {
    int n = epoll_wait(loop->epfd, events, max, 0);
    if (n > 0) spin.backoff.found();
    if (n != 0) return n;
  } while (now_ns() < until);
  spin.backoff.found_nothing();
  return 0;
}

}  // namespace

int wait_for_events(fdk_loop *loop, epoll_event *events, int max, int timeout) {
  if (timeout == 0) return epoll_wait(loop->epfd, events, max, 0);
  if (should_poll_first(loop)) {
    int n = poll_briefly(loop, events, max);
    if (n != 0) return n;
  }
  int64_t start = now_ns();
  int n = epoll_wait(loop->epfd, events, max, timeout);
  loop->spin.pays = n > 0 && now_ns() - start <= kQuickWaitNs;
  return n;
}

}  // namespace fdk
