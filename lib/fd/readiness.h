/* SPDX-License-Identifier: MIT */
// How a loop learns that a watched descriptor became ready. Two mechanisms, both
// level-triggered: a direction stays registered while waits keep coming and is dropped
// when it reports readiness nobody waits for.
// - the loop's own epoll set (Linux), polled by libuv as one handle (the default): one
//   epoll_ctl when a watch is registered (batched just before the loop polls), none per
//   wait; a watch costs only its own small record; it never touches the descriptor's
//   flags and never collides with a host's handle. A wake-up costs one more epoll_wait,
//   shared by every descriptor ready in that turn (none while the set holds one watch
//   registered for one direction: report_sole_watch).
// - a libuv poll handle per watch (portable): one level of kernel wakeup, but a 160-byte
//   uv_poll_t per descriptor, an ioctl and a probing epoll_ctl pair at registration;
//   uv_poll_init switches the descriptor to non-blocking, and libuv allows one handle per
//   descriptor number and loop.
// FDKIT_READINESS=uv_poll|epoll|mixed forces one for every watch (mixed: a poll handle for
// a non-blocking descriptor, the epoll set for a blocking-mode one or a number libuv
// already watches), so the suites cover both; a port without epoll uses poll handles.
#pragma once

#include <sys/epoll.h>
#include <uv.h>

#include <atomic>
#include <cstdint>

#include "core/syscall.h"
#include "fd/fd.h"
#include "loop/loop.h"

namespace fdk {

// 0 stands for not decided yet.
enum class ReadinessBackend : uint8_t { mixed = 1, epoll, uv_poll };

// Decided once per process, from FDKIT_READINESS (uv_poll | epoll | mixed; unset: epoll),
// when first asked. Inline, a load and a test: every watch made, ended and reported asks.
extern std::atomic<ReadinessBackend> g_readiness_backend;
ReadinessBackend decide_readiness_backend();
inline ReadinessBackend readiness_backend() {
  ReadinessBackend decided = g_readiness_backend.load(std::memory_order_relaxed);
  return decided != ReadinessBackend{} ? decided : decide_readiness_backend();
}

// One readiness registration of a descriptor in one loop. It holds a use of the
// descriptor, so the number cannot be closed and reused while the loop polls it, and a
// pin of the handle. 56 bytes: its flags live in the low bits of its two loop links
// (watches are at least 8-byte aligned), which only the loop thread touches.
struct Watch {
  fdk_fd *fd = nullptr;
  fdk_loop *loop = nullptr;
  Watch *next_in_fd = nullptr;           // guarded by the handle's stripe lock
  Waiter *head[2] = {nullptr, nullptr};  // per Direction, circular (head->prev is the last)

  // The loop's list of watches (fdk_loop::watches).
  Watch *prev_in_loop() const { return reinterpret_cast<Watch *>(prev_bits_ & ~kFlagMask); }
  Watch *next_in_loop() const { return reinterpret_cast<Watch *>(next_bits_ & ~kFlagMask); }
  void set_prev_in_loop(Watch *w) { prev_bits_ = reinterpret_cast<uintptr_t>(w) | (prev_bits_ & kFlagMask); }
  void set_next_in_loop(Watch *w) { next_bits_ = reinterpret_cast<uintptr_t>(w) | (next_bits_ & kFlagMask); }

  // The directions registered (bit per Direction).
  uint32_t interest() const { return static_cast<uint32_t>(prev_bits_ & kFlagMask); }
  void set_interest(uint32_t dirs) { prev_bits_ = (prev_bits_ & ~kFlagMask) | (dirs & kFlagMask); }
  // A read was attempted since the last readable report.
  bool read_spent() const { return next_bits_ & kReadSpent; }
  void set_read_spent(bool on) { next_bits_ = on ? next_bits_ | kReadSpent : next_bits_ & ~kReadSpent; }
  // readiness_add ran (deferred to the next loop iteration).
  bool registered() const { return next_bits_ & kRegistered; }
  void set_registered(bool on) { next_bits_ = on ? next_bits_ | kRegistered : next_bits_ & ~kRegistered; }

 private:
  static constexpr uintptr_t kFlagMask = 7, kReadSpent = 1, kRegistered = 2;
  uintptr_t prev_bits_ = 0, next_bits_ = 0;
};

// The memory of a pending read (doc/loop.md) counts on it.
static_assert(sizeof(Watch) <= 56, "a watch must stay within 56 bytes");

// The memory of a watch that may use a libuv poll handle (any mechanism but the epoll set
// alone): the handle is kept beside it.
struct PolledWatch : Watch {
  uv_poll_t *poll = nullptr;
};

// How big a watch is under the mechanism chosen for the process.
inline size_t watch_size() {
  return readiness_backend() == ReadinessBackend::epoll ? sizeof(Watch) : sizeof(PolledWatch);
}
// The watch's libuv poll handle, or null when it uses the epoll set.
inline uv_poll_t *watch_poll(const Watch *w) {
  if (readiness_backend() == ReadinessBackend::epoll) return nullptr;
  return static_cast<const PolledWatch *>(w)->poll;
}

constexpr uint32_t kRead = 1u << static_cast<int>(Direction::read);
constexpr uint32_t kWrite = 1u << static_cast<int>(Direction::write);

// The directions a watch has waiters for (bit per Direction).
inline uint32_t wanted(const Watch *w) { return (w->head[0] ? kRead : 0) | (w->head[1] ? kWrite : 0); }

inline uint32_t epoll_events(uint32_t dirs) {
  uint32_t events = 0;
  if (dirs & kRead) events |= EPOLLIN | EPOLLRDHUP;
  if (dirs & kWrite) events |= EPOLLOUT;
  return events;
}

// Sets the directions of an epoll registration (op EPOLL_CTL_ADD or EPOLL_CTL_MOD); 0 or a
// negative errno. Level-triggered, so a read that finds the descriptor spent can wait
// without trying again (wait_ready_if_read_spent). With no direction left it is one-shot:
// a hang-up nobody waits for is reported once, not at every poll. Inline with its system
// call, as readiness_add and readiness_remove: the loop's registration of a watch and a
// close's removal make it in their own frames (core/hot.h: each frame left after a system
// call costs a mispredicted return).
[[gnu::always_inline]] inline int epoll_set(Watch *w, int op, int raw, uint32_t dirs) {
  epoll_event ev{};
  ev.events = dirs ? epoll_events(dirs) : EPOLLONESHOT;
  ev.data.ptr = w;
  if (int r = hot_epoll_ctl(w->loop->epfd, op, raw, &ev); r < 0) return r;
  w->set_interest(dirs);
  return 0;
}

// readiness_add where a watch may get a libuv poll handle (any mechanism but the epoll set).
int readiness_add_elsewhere(Watch *w, int raw);
// Registers the watch's descriptor with the directions that have waiters. 0, -EPERM when
// the descriptor cannot be polled, or another negative errno.
[[gnu::always_inline]] inline int readiness_add(Watch *w, int raw) {
  if (readiness_backend() != ReadinessBackend::epoll) return readiness_add_elsewhere(w, raw);
  return epoll_set(w, EPOLL_CTL_ADD, raw, wanted(w));
}
// Makes the registration cover the directions that have waiters.
int readiness_update(Watch *w);
// Closes a watch's libuv poll handle (readiness_remove).
void close_poll_handle(Watch *w, uv_poll_t *poll);
// Ends the registration; afterwards the descriptor may be closed.
[[gnu::always_inline]] inline void readiness_remove(Watch *w) {
  if (uv_poll_t *poll = watch_poll(w)) return close_poll_handle(w, poll);
  epoll_event unused{};
  hot_epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd->raw, &unused);
}

// Ends every wait of one direction with status (the watch is ending): each waiter is
// off the list before it hears of it.
inline void fire_ending(Watch *w, Direction dir, int status) {
  int d = static_cast<int>(dir);
  Waiter *list = w->head[d];
  if (!list) return;
  w->head[d] = nullptr;
  list->prev->next = nullptr;  // the taken list ends at its last waiter
  while (list) {
    Waiter *waiter = list;
    list = list->next;
    waiter->prev = waiter->next = nullptr;
    waiter->watch = nullptr;
    waiter->on_ready(waiter, status);
  }
}

// Tells every waiter of one direction that it is ready. Each stays on the list, which is
// what a read that finds nothing, or completes and is re-armed from its callback, wants
// (no unlink and link again per delivered read); a waiter that is done waiting leaves it
// itself (cancel_wait). Waiters linked meanwhile land after the last one, so each is told
// once per event.
inline void fire(Watch *w, Direction dir) {
  Waiter *waiter = w->head[static_cast<int>(dir)];
  if (!waiter) return;
  Waiter *last = waiter->prev;
  for (;;) {
    // Read first: a waiter told may leave the list (but never takes another off it).
    Waiter *next = waiter->next;
    bool was_last = waiter == last;
    waiter->on_ready(waiter, 0);
    if (was_last) return;
    waiter = next;
  }
}

// Wakes the waiters of the read direction, reported readable.
inline void fire_readable(Watch *w) {
  w->loop->full_reads_since_report = 0;
  // The reads woken now try at once (a pidfd's exit watch is the one waiter that does
  // not read: a read of that descriptor then waits for the next report).
  w->set_read_spent(w->head[static_cast<int>(Direction::read)] != nullptr);
  fire(w, Direction::read);
}

// Wakes the waiters of each ready direction. Inline in the report of either mechanism
// (watch_report), which every delivered read runs through.
inline void watch_fire(Watch *w, bool readable, bool writable) {
  if (readable) fire_readable(w);
  if (writable) fire(w, Direction::write);
}

// The rare part of a report: directions reported that nobody waits for leave the
// registration (readiness.cpp).
void drop_unwanted(Watch *w, uint32_t unwanted);

// One report of either mechanism. Level-triggered: a direction stays registered while
// waits keep coming (no system call per wait), and is dropped once it reports readiness
// nobody waits for. The waiters woken now re-wait only after their callbacks ran, later
// in this dispatch, so whether anybody waits must be judged before they are woken.
[[gnu::always_inline]] inline void watch_report(Watch *w, bool readable, bool writable) {
  uint32_t unwanted = (readable && !w->head[0] ? kRead : 0) | (writable && !w->head[1] ? kWrite : 0);
  watch_fire(w, readable, writable);
  // A registered watch's interest covers every direction with a waiter (wait_on adds one
  // at once), so it changes only when it holds an unwanted direction: nearly never, as
  // the waiters woken wait again, after their callbacks, for what they were woken for.
  if (__builtin_expect((w->interest() & unwanted) != 0, 0)) drop_unwanted(w, unwanted);
}

// One epoll event of a watch in the loop's own set. Inline in the loop's dispatch of its
// events: a read woken here makes its system call in the woken waiter's frame, which then
// returns straight into the loop's (each frame a system call returns through costs about
// 6 ns, core/syscall.h).
[[gnu::always_inline]] inline void watch_events(Watch *w, uint32_t events) {
  // The report of nearly every delivered read: readable alone, with reads waiting, so no
  // direction is unwanted (watch_report).
  if (__builtin_expect(events == EPOLLIN && w->head[static_cast<int>(Direction::read)], 1)) return fire_readable(w);
  watch_report(w, events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI), events & (EPOLLOUT | EPOLLHUP | EPOLLERR));
}

}  // namespace fdk
