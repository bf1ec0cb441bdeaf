/* SPDX-License-Identifier: MIT */
// Descriptors through which the kernel wakes a loop: the ring's eventfd (io/uring.cpp).
// The worker pool still wakes the loop through libuv's async handle: with its eventfd here,
// the loop woke 2.4 times as often at 64 calls in flight (each wake-up cheaper, so the loop
// slept between results it used to take together), and the pool's throughput there fell
// by a third.
#pragma once

#include <uv.h>

struct fdk_loop;

namespace fdk {

// While fdk_loop_run waits on the loop's own epoll set (loop.cpp: begin_own_wait), the
// descriptor sits in that set, edge-triggered: a wake-up costs that one epoll_wait, with no
// libuv turn (a second epoll_wait, on libuv's backend), and its count is never read (every
// write to an eventfd signals the set again, and 2^64 writes are out of reach). Otherwise
// libuv polls it, level-triggered, and on_wake resets its count.
struct Waker {
  uv_poll_t poll{};  // libuv's watch of fd, set up with the waker (poll.data: the waker)
  fdk_loop *loop = nullptr;
  void *owner = nullptr;  // the ring
  int fd = -1;            // non-blocking
  // Loop thread, inside a dispatch: fd was signalled; reset: its count must be read (libuv
  // polls it, level-triggered).
  void (*on_wake)(Waker *waker, bool reset) = nullptr;
  bool in_set = false;     // in the loop's own epoll set rather than polled by libuv
  Waker *next = nullptr;   // the loop's wakers
};

// Loop thread. Watches waker->fd (loop, owner, fd and on_wake set) for its loop. Negative
// errno from libuv when the descriptor cannot be polled; nothing is watched then.
int waker_start(Waker *waker);
// Loop thread. Stops the watch and closes the poll handle: on_closed receives it with
// data set to the owner. The descriptor stays open (the owner closes it).
void waker_close(Waker *waker, uv_close_cb on_closed);

}  // namespace fdk
