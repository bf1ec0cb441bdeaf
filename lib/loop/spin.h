/* SPDX-License-Identifier: MIT */
// The loop's blocking wait on its own epoll set, and the short poll before it that spares
// the loop a sleep and a wake-up when the other side of its descriptors acts within
// microseconds (loop.cpp: own_wait_turn).
#pragma once

#include "loop/backoff.h"

struct fdk_loop;
struct epoll_event;

namespace fdk {

// What a loop learned from its recent waits (loop thread; a member of fdk_loop).
struct SpinState {
  // The last blocking wait ended with events soon after it began (kQuickWait), or the last
  // poll before blocking found some: polling before the next one may pay.
  bool pays = false;
  // Of polls that found nothing: a loop whose waits end quickly but not within the poll (a
  // peer that answers in 50-200 µs) spends at most one poll in 64 waits.
  Backoff backoff;
};

// Loop thread. epoll_wait on the loop's set for up to timeout ms (-1: no limit, 0: a poll
// that never blocks), with the loop's own event buffer; when the wait may block and recent
// waits say the events come quickly, the set is first polled without blocking for a few
// microseconds (spin.cpp has the rule). Returns what epoll_wait returns.
int wait_for_events(fdk_loop *loop, epoll_event *events, int max, int timeout);

}  // namespace fdk
