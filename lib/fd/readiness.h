/* SPDX-License-Identifier: MIT */
// How a loop learns that a watched descriptor became ready. Two mechanisms, both
// level-triggered: a direction stays registered while waits keep coming and is dropped
// when it reports readiness nobody waits for.
// - the loop's own epoll set (Linux), polled by libuv as one handle (the default): one
//   epoll_ctl when a watch is registered (batched just before the loop polls), none per
//   wait; a watch costs only its own small record; it never touches the descriptor's
//   flags and never collides with a host's handle. A wake-up costs one more epoll_wait,
//   shared by every descriptor ready in that turn.
// - a libuv poll handle per watch (portable): one level of kernel wakeup, but a 160-byte
//   uv_poll_t per descriptor, an ioctl and a probing epoll_ctl pair at registration;
//   uv_poll_init switches the descriptor to non-blocking, and libuv allows one handle per
//   descriptor number and loop.
// FDKIT_READINESS=uv_poll|epoll|mixed forces one for every watch (mixed: a poll handle for
// a non-blocking descriptor, the epoll set for a blocking-mode one or a number libuv
// already watches), so the suites cover both; a port without epoll uses poll handles.
#pragma once

#include <uv.h>

#include <cstdint>

#include "fd/fd.h"

namespace fdk {

enum class ReadinessBackend : uint8_t { mixed, epoll, uv_poll };

// Decided once per process, from FDKIT_READINESS (uv_poll | epoll | mixed; unset: epoll).
ReadinessBackend readiness_backend();

// One readiness registration of a descriptor in one loop. It holds a use of the
// descriptor, so the number cannot be closed and reused while the loop polls it, and a
// pin of the handle.
struct Watch {
  fdk_fd *fd = nullptr;
  fdk_loop *loop = nullptr;
  Watch *next_in_fd = nullptr;
  // The loop's list this watch is on: watches once registered, unregistered until then.
  Watch *prev_in_loop = nullptr, *next_in_loop = nullptr;
  Waiter *head[2] = {nullptr, nullptr};  // per Direction, circular (head->prev is the last)
  uv_poll_t *poll = nullptr;  // set when the watch uses a libuv poll handle
  uint8_t interest = 0;       // directions registered (bit per Direction)
  bool read_spent = false;    // a read was attempted since the last readable report
  bool registered = false;    // readiness_add ran (deferred to the next loop iteration)
};

// Registers the watch's descriptor with no direction yet. 0, -EPERM when the descriptor
// cannot be polled, or another negative errno.
int readiness_add(Watch *w, int raw);
// Makes the registration cover the directions that have waiters.
int readiness_update(Watch *w);
// Ends the registration; afterwards the descriptor may be closed.
void readiness_remove(Watch *w);

// Wakes the waiters of each ready direction (defined with the watch lists in fd.cpp).
void watch_fire(Watch *w, bool readable, bool writable);

}  // namespace fdk
