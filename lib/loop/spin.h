/* SPDX-License-Identifier: MIT */
// The short poll before the loop's blocking wait on its own epoll set, which spares the
// loop a sleep and a wake-up when the other side of its descriptors acts within
// microseconds. The waits themselves are made in own_wait_turn's frame (loop.cpp:
// wait_for_events), so that epoll_wait returns into no frame entered before it.
#pragma once

#include <cstdint>

#include "loop/backoff.h"

struct fdk_loop;

namespace fdk {

// What a loop learned from its recent waits (loop thread; a member of fdk_loop).
struct SpinState {
  // The last blocking wait ended with events soon after it began (kQuickWaitNs), or the
  // last poll before blocking found some: polling before the next one may pay.
  bool pays = false;
  // Of polls that found nothing: a loop whose waits end quickly but not within the poll (a
  // peer that answers in 50-200 µs) spends at most one poll in 64 waits.
  Backoff backoff;
};

// How long a loop about to block polls its set first. A blocking wait that the other side
// ends costs the loop a sleep and a wake-up, 10-15 µs here, and the other side's call that
// wakes it a few µs more; a pipe's writer and reader on their own loops then take turns
// sleeping on each other. A poll of 20 µs that finds nothing costs about what the sleep and
// wake-up it hoped to save would have.
inline constexpr int64_t kPollForNs = 20000;
// A blocking wait that ended with events within this long of its start says the other side
// acts quickly enough for a poll to catch it: the wake-up itself is part of the wait, 10-15
// µs on a quiet machine and several times that on a busy one (with 50 µs, only a third of a
// pipe reader's waits counted here under load, while 60% of its polls found the data).
// Waits this short keep a loop busy anyway; a loop that waits longer never polls.
inline constexpr int64_t kQuickWaitNs = 200000;

// Loop thread. Whether a wait that may block polls the set first (spin.cpp has the rule).
bool should_poll_first(fdk_loop *loop);

}  // namespace fdk
