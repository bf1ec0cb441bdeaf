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

ReadinessBackend choose_backend() {
  switch (env_choice("FDKIT_READINESS", {"uv_poll", "epoll", "mixed"})) {
    case 0: return ReadinessBackend::uv_poll;
    case 2: return ReadinessBackend::mixed;
    default: return ReadinessBackend::epoll;
  }
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
  static_cast<PolledWatch *>(w)->poll = poll;
  return 0;
}

void on_uv_poll(uv_poll_t *handle, int status, int events);

int uv_events(uint32_t dirs) {
  return ((dirs & kRead) ? UV_READABLE | UV_DISCONNECT : 0) | ((dirs & kWrite) ? UV_WRITABLE : 0);
}

int set_uv_interest(Watch *w, uint32_t dirs) {
  if (dirs == w->interest()) return 0;
  uv_poll_t *poll = watch_poll(w);
  int r = dirs ? uv_poll_start(poll, uv_events(dirs), on_uv_poll) : uv_poll_stop(poll);
  if (r < 0) return fail(r, "uv_poll_start: %s", uv_strerror(r));
  w->set_interest(dirs);
  return 0;
}

// Sets the directions a watch is registered for, by either mechanism.
int set_interest(Watch *w, uint32_t dirs) {
  if (dirs == w->interest()) return 0;
  if (!watch_poll(w)) {
    int r = epoll_set(w, EPOLL_CTL_MOD, w->fd->raw, dirs);
    return r < 0 ? fail_sys(r, "epoll_ctl") : 0;
  }
  return set_uv_interest(w, dirs);
}

void on_uv_poll(uv_poll_t *handle, int status, int events) {
  auto *w = static_cast<Watch *>(handle->data);
  Dispatch scope(w->loop);
  // An error status wakes everyone: the retried calls report the real error.
  bool err = status < 0;
  watch_report(w, err || (events & (UV_READABLE | UV_DISCONNECT | UV_PRIORITIZED)), err || (events & UV_WRITABLE));
}

void on_uv_poll_closed(uv_handle_t *handle) {
  handle_closed(static_cast<fdk_loop *>(handle->data));
  delete reinterpret_cast<uv_poll_t *>(handle);
}

}  // namespace

std::atomic<ReadinessBackend> g_readiness_backend{};

ReadinessBackend decide_readiness_backend() {
  // Threads that ask at once each read the same environment: the same answer.
  static const ReadinessBackend backend = choose_backend();
  g_readiness_backend.store(backend, std::memory_order_relaxed);
  return backend;
}

int readiness_add_elsewhere(Watch *w, int raw) {
  if (readiness_backend() == ReadinessBackend::uv_poll) return uv_poll_add(w, raw);
  // A blocking-mode descriptor must never be switched, not even for a moment; a number
  // libuv already watches on this loop (a host's handle) cannot get a second poll handle.
  if (fd_is_blocking(w->fd)) return epoll_set(w, EPOLL_CTL_ADD, raw, wanted(w));
  int r = uv_poll_add(w, raw);
  return r == UV_EEXIST ? epoll_set(w, EPOLL_CTL_ADD, raw, wanted(w)) : r;
}

int readiness_update(Watch *w) { return set_interest(w, w->interest() | wanted(w)); }

bool report_sole_watch(fdk_loop *loop) {
  Watch *w = loop->watches;
  if (!w || w->next_in_loop() || watch_poll(w)) return false;
  uint32_t dirs = w->interest();
  if (dirs != kRead && dirs != kWrite) return false;
  watch_report(w, dirs == kRead, dirs == kWrite);
  return true;
}

void drop_unwanted(Watch *w, uint32_t unwanted) {
  set_interest(w, (w->interest() & ~unwanted) | wanted(w));
}

void close_poll_handle(Watch *w, uv_poll_t *poll) {
  // uv_close stops the poll at once (the descriptor leaves libuv's epoll set now); the
  // handle's memory goes in its close callback.
  poll->data = w->loop;
  uv_close(reinterpret_cast<uv_handle_t *>(poll), on_uv_poll_closed);
  static_cast<PolledWatch *>(w)->poll = nullptr;
}

}  // namespace fdk
