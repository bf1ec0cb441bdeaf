// SPDX-License-Identifier: MIT
#include "fd/readiness.h"

#include <fcntl.h>
#include <sys/epoll.h>

#include <cstdlib>
#include <cstring>

#include "core/env.h"
#include "core/error.h"

namespace fdk {
namespace {

constexpr uint32_t kRead = 1u << static_cast<int>(Direction::read);
constexpr uint32_t kWrite = 1u << static_cast<int>(Direction::write);

uint32_t wanted(const Watch *w) { return (w->head[0] ? kRead : 0) | (w->head[1] ? kWrite : 0); }

ReadinessBackend choose_backend() {
  switch (env_choice("FDKIT_READINESS", {"uv_poll", "epoll", "mixed"})) {
    case 0: return ReadinessBackend::uv_poll;
    case 1: return ReadinessBackend::epoll;
    default: return ReadinessBackend::mixed;
  }
}

int epoll_add(Watch *w, int raw) {
  epoll_event ev{};
  ev.events = EPOLLET;
  ev.data.ptr = w;
  return epoll_ctl(w->loop->epfd, EPOLL_CTL_ADD, raw, &ev) < 0 ? neg_errno() : 0;
}

int uv_poll_add(Watch *w, int raw) {
  // uv_poll_init makes the descriptor non-blocking; a blocking-mode one gets its flags back.
  bool restore = fd_is_blocking(w->fd);
  int flags = restore ? fcntl(raw, F_GETFL) : -1;
  auto *poll = new uv_poll_t;
  int r = uv_poll_init(w->loop->uv, poll, raw);
  if (restore && flags >= 0) fcntl(raw, F_SETFL, flags);
  if (r < 0) {
    delete poll;
    return r;
  }
  handle_opened(w->loop);
  // Pending operations keep the loop running; a registration alone must not.
  uv_unref(reinterpret_cast<uv_handle_t *>(poll));
  poll->data = w;
  w->poll = poll;
  return 0;
}

uint32_t epoll_events(uint32_t dirs) {
  uint32_t events = EPOLLET;
  if (dirs & kRead) events |= EPOLLIN | EPOLLRDHUP;
  if (dirs & kWrite) events |= EPOLLOUT;
  return events;
}

void on_uv_poll(uv_poll_t *handle, int status, int events);

int uv_events(uint32_t dirs) {
  return ((dirs & kRead) ? UV_READABLE | UV_DISCONNECT : 0) | ((dirs & kWrite) ? UV_WRITABLE : 0);
}

int set_uv_interest(Watch *w, uint32_t dirs) {
  if (dirs == w->interest) return 0;
  int r = dirs ? uv_poll_start(w->poll, uv_events(dirs), on_uv_poll) : uv_poll_stop(w->poll);
  if (r < 0) return fail(r, "uv_poll_start: %s", uv_strerror(r));
  w->interest = dirs;
  return 0;
}

void on_uv_poll(uv_poll_t *handle, int status, int events) {
  auto *w = static_cast<Watch *>(handle->data);
  Dispatch scope(w->loop);
  // An error status wakes everyone: the retried calls report the real error.
  bool err = status < 0;
  bool readable = err || (events & (UV_READABLE | UV_DISCONNECT | UV_PRIORITIZED));
  bool writable = err || (events & UV_WRITABLE);
  // Level-triggered: a direction stays registered while waits keep coming (no libuv
  // restart per wait), and is dropped once it reports readiness nobody waits for. The
  // waiters woken now re-wait only after their callbacks ran, later in this dispatch, so
  // whether anybody waits must be judged before they are woken.
  uint32_t unwanted = (readable && !w->head[0] ? kRead : 0) | (writable && !w->head[1] ? kWrite : 0);
  watch_fire(w, readable, writable);
  set_uv_interest(w, (w->interest & ~unwanted) | wanted(w));
}

void on_uv_poll_closed(uv_handle_t *handle) {
  handle_closed(static_cast<fdk_loop *>(handle->data));
  delete reinterpret_cast<uv_poll_t *>(handle);
}

}  // namespace

ReadinessBackend readiness_backend() {
  static const ReadinessBackend backend = choose_backend();
  return backend;
}

int readiness_add(Watch *w, int raw) {
  switch (readiness_backend()) {
    case ReadinessBackend::epoll:
      return epoll_add(w, raw);
    case ReadinessBackend::uv_poll:
      return uv_poll_add(w, raw);
    case ReadinessBackend::mixed:
      break;
  }
  // A blocking-mode descriptor must never be switched, not even for a moment; a number
  // libuv already watches on this loop (a host's handle) cannot get a second poll handle.
  if (fd_is_blocking(w->fd)) return epoll_add(w, raw);
  int r = uv_poll_add(w, raw);
  return r == UV_EEXIST ? epoll_add(w, raw) : r;
}

int readiness_update(Watch *w) {
  uint32_t want = wanted(w);
  if (!w->poll) {
    // Edge-triggered: a direction stays registered once added, which costs nothing.
    if ((w->interest | want) == w->interest) return 0;
    epoll_event ev{};
    ev.events = epoll_events(w->interest | want);
    ev.data.ptr = w;
    if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd->raw, &ev) < 0) return fail_sys(neg_errno(), "epoll_ctl");
    w->interest |= want;
    return 0;
  }
  return set_uv_interest(w, w->interest | want);
}

void readiness_remove(Watch *w) {
  if (!w->poll) {
    epoll_event unused{};
    epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd->raw, &unused);
    return;
  }
  // uv_close stops the poll at once (the descriptor leaves libuv's epoll set now); the
  // handle's memory goes in its close callback.
  w->poll->data = w->loop;
  uv_close(reinterpret_cast<uv_handle_t *>(w->poll), on_uv_poll_closed);
  w->poll = nullptr;
}

}  // namespace fdk
