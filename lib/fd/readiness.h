// How a loop learns that a watched descriptor became ready. Two backends:
// - epoll (Linux, the default): every watch is registered edge-triggered in the loop's own
//   epoll set, which libuv polls as one handle. A registration costs one epoll_ctl for the
//   life of the watch, never changes the descriptor's flags, and cannot collide with a
//   libuv handle the host has on the same descriptor number.
// - uv_poll (portable): one libuv poll handle per watch, started only for the directions
//   that have waiters. libuv switches the descriptor to non-blocking in uv_poll_init; for a
//   blocking-mode handle fdkit restores the flags at once. FDKIT_READINESS=uv_poll selects
//   it on Linux so that the test suites cover it; a port without epoll starts here.
#pragma once

#include <uv.h>

#include <cstdint>

#include "fd/fd.h"

namespace fdk {

enum class ReadinessBackend : uint8_t { epoll, uv_poll };

// Decided once per process, from FDKIT_READINESS (epoll | uv_poll).
ReadinessBackend readiness_backend();

// One readiness registration of a descriptor in one loop. It holds a use of the
// descriptor, so the number cannot be closed and reused while the loop polls it, and a
// memory reference of the handle.
struct Watch {
  fdk_fd *fd = nullptr;
  fdk_loop *loop = nullptr;
  Watch *next_in_fd = nullptr;
  Watch *prev_in_loop = nullptr, *next_in_loop = nullptr;
  Waiter *head[2] = {nullptr, nullptr};
  Waiter *tail[2] = {nullptr, nullptr};
  uint32_t interest = 0;      // directions registered (bit per Dir)
  uv_poll_t *poll = nullptr;  // uv_poll backend only
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
