// SPDX-License-Identifier: MIT
#include "loop/loop.h"

#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstring>

#include "core/error.h"
#include "core/syscall.h"
#include "fd/fd.h"
#include "fd/readiness.h"
#include "io/ops.h"
#include "io/uring.h"
#include "loop/deadlines.h"
#include "loop/remote.h"
#include "loop/spin.h"
#include "trace/trace.h"

namespace fdk {
namespace {

// Ready callbacks delivered in one go before I/O gets a turn again.
constexpr int kDeliverBatch = 1024;

// The wake-up handle keeps libuv's loop alive exactly while operations are pending: it is
// referenced and unreferenced only when the count leaves and reaches zero.
FDK_ASYNC_HOT void pending_added(fdk_loop *loop) {
  if (++loop->pending_count == 1) uv_ref(reinterpret_cast<uv_handle_t *>(&loop->wake));
}
FDK_ASYNC_HOT void pending_removed(fdk_loop *loop) {
  if (--loop->pending_count == 0) uv_unref(reinterpret_cast<uv_handle_t *>(&loop->wake));
}

// One libuv turn that polls without blocking even with nothing alive, when libuv itself
// skips its poll: libuv adds new descriptors to its backend and reads a wake-up already
// sent only there. The wake handle's reference is the pending operations' again after it.
void poll_libuv_once(fdk_loop *loop) {
  uv_ref(reinterpret_cast<uv_handle_t *>(&loop->wake));
  uv_run(loop->uv, UV_RUN_NOWAIT);
  if (loop->pending_count == 0) uv_unref(reinterpret_cast<uv_handle_t *>(&loop->wake));
}

// A completed operation leaves the pending list, if it is on it (op_start_watched), for
// the ready queue (through the same links); it still counts as pending until its callback
// ran.
FDK_ASYNC_HOT void unlink_pending(fdk_op *op) {
  fdk_loop *loop = op->loop;
  if (op->prev) op->prev->next = op->next;
  else if (loop->pending_head == op) loop->pending_head = op->next;
  if (op->next) op->next->prev = op->prev;
  op->prev = op->next = nullptr;
}

void deliver_ready(fdk_loop *loop);

// Work that appears while no run is under way (host code started or cancelled an
// operation, or armed a timer) makes the backend descriptor readable, so a host that
// waits on it comes back and runs the loop. Inside a run the caller asks
// fdk_loop_backend_timeout again afterwards, which sees the work. A loop on its own libuv
// loop whose backend descriptor and libuv loop nobody was given is only ever run by
// fdk_loop_run, which sees the work by itself: no eventfd write and read per operation
// started between runs.
void wake_host(fdk_loop *loop) {
  if (loop->owns_uv && !loop->backend_handed_out) return;
  if (!loop->running && loop->dispatch_depth == 0 && !loop->freeing) uv_async_send(&loop->wake);
}

void on_idle(uv_idle_t *handle) {
  auto *loop = static_cast<fdk_loop *>(handle->data);
  { Dispatch scope(loop); }
  if (!loop->ready_head) uv_idle_stop(handle);
}

FDK_ASYNC_HOT void deliver_ready(fdk_loop *loop) {
  for (int n = 0; loop->ready_head && n < kDeliverBatch; ++n) {
    fdk_op *op = loop->ready_head;
    loop->ready_head = op->next;
    if (!loop->ready_head) loop->ready_tail = nullptr;
    op->next = nullptr;
    op->state = fdk_op::State::done;
    if (op->result < 0) set_error_text(op->detail ? op->detail.get() : "");
    op->deliver(op->result);
    ++loop->callbacks_run;
    loop->rearmable = nullptr;
    // A read re-armed from its own callback took the operation over (pending or ready
    // again, op_rearmed): it stays counted, and the loop's reference is that read's now.
    // Counted down only after the callback, so that one starting the next operation does
    // not take the count to 0 and back (a uv_unref and a uv_ref).
    if (op->state != fdk_op::State::done) continue;
    pending_removed(loop);
    op_unref(op);
  }
  if (loop->ready_head && !loop->freeing) uv_idle_start(&loop->idle, on_idle);
}

void run_posts(fdk_loop *loop) {
  std::vector<fdk_loop::Post> batch;
  {
    std::lock_guard<std::mutex> lock(loop->post_mu);
    batch.swap(loop->posts);
    loop->has_posts.store(false, std::memory_order_relaxed);
  }
  loop->callbacks_run += batch.size();
  for (const auto &p : batch) p.fn(p.data);
}

void on_wake(uv_async_t *handle) {
  auto *loop = static_cast<fdk_loop *>(handle->data);
  Dispatch scope(loop);
  run_posts(loop);
  pool_loop_collect(loop);
}

void on_epoll(uv_poll_t *handle, int, int) {
  auto *loop = static_cast<fdk_loop *>(handle->data);
  Dispatch scope(loop);
  // One descriptor in the set (a connection per loop): no second epoll_wait per wake-up.
  if (report_sole_watch(loop)) return;
  epoll_event events[64];
  int n;
  do {
    n = hot_epoll_wait(loop->epfd, events, 64, 0);
    for (int i = 0; i < n; ++i) watch_events(static_cast<Watch *>(events[i].data.ptr), events[i].events);
  } while (n == 64);
}

// fdk_loop_run on a loop whose libuv loop and backend descriptor nobody else was given
// waits on the epoll set of descriptor watches itself, with libuv's backend descriptor
// inside it, instead of libuv waiting on a backend that holds the set: a wake-up for ready
// descriptors then costs one epoll_wait, not two (libuv's, then the set's). libuv gets a
// turn (uv_run NOWAIT, one more epoll_wait) only when it has something: its backend
// readable (posts, the pool's results, signals, the ring's completions), a timer due,
// idle or pending work; fdkit's sleeps are expired without it. What libuv's prepare handles
// do before it polls is done before this wait. Only with every watch in the set (a watch
// with a libuv poll handle of its own would be seen through libuv's turn, one call more).
// Set up with the loop, so its first run pays nothing for it; handing the backend
// descriptor or the libuv loop out ends it for good.
bool may_wait_itself(const fdk_loop *loop) {
  return loop->owns_uv && !loop->backend_handed_out && readiness_backend() == ReadinessBackend::epoll;
}

// libuv's backend descriptor among the events of the set.
void *backend_mark(fdk_loop *loop) { return &loop->own_uv; }

// A waker among the events of the set: its address with the low bit set (watches, like
// wakers, are at least 8-byte aligned).
constexpr uint64_t kWakerTag = 1;

void on_waker_poll(uv_poll_t *handle, int, int) {
  auto *waker = static_cast<Waker *>(handle->data);
  Dispatch scope(waker->loop);
  waker->on_wake(waker, true);
}

// Into the loop's own set, edge-triggered (loop/waker.h); false when epoll refuses it, and
// libuv's poll then goes on (seen through libuv's turn).
bool waker_into_set(Waker *waker) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = reinterpret_cast<uintptr_t>(waker) | kWakerTag;
  if (epoll_ctl(waker->loop->epfd, EPOLL_CTL_ADD, waker->fd, &ev) < 0) return false;
  // Stopping costs libuv an epoll_ctl even for a poll never started.
  if (uv_is_active(reinterpret_cast<uv_handle_t *>(&waker->poll))) uv_poll_stop(&waker->poll);
  waker->in_set = true;
  return true;
}

// Back under libuv's poll; a count left from the set's edge-triggered watch only makes
// libuv's first poll call on_wake once more.
void waker_out_of_set(Waker *waker) {
  if (!waker->in_set) return;
  epoll_event unused{};
  epoll_ctl(waker->loop->epfd, EPOLL_CTL_DEL, waker->fd, &unused);
  waker->in_set = false;
  uv_poll_start(&waker->poll, UV_READABLE, on_waker_poll);
}

// A set cannot hold a set that holds it: libuv's poll of the set is stopped first (libuv
// then takes the set out of its backend at once). When the backend cannot be added (not
// seen), libuv goes on polling the set.
void begin_own_wait(fdk_loop *loop) {
  uv_poll_stop(&loop->epoll_poll);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = backend_mark(loop);
  if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, uv_backend_fd(loop->uv), &ev) < 0) {
    uv_poll_start(&loop->epoll_poll, UV_READABLE, on_epoll);
    return;
  }
  loop->own_wait = true;
  for (Waker *w = loop->wakers; w; w = w->next) waker_into_set(w);
}

// Back to libuv polling the set (the backend descriptor is being handed out): libuv adds
// the set to its backend when it polls next, and answers a timeout of 0 until then.
void end_own_wait(fdk_loop *loop) {
  if (!loop->own_wait) return;
  for (Waker *w = loop->wakers; w; w = w->next) waker_out_of_set(w);
  epoll_event unused{};
  epoll_ctl(loop->epfd, EPOLL_CTL_DEL, uv_backend_fd(loop->uv), &unused);
  uv_poll_start(&loop->epoll_poll, UV_READABLE, on_epoll);
  loop->own_wait = false;
  register_before_libuv_polls(loop);
}

// libuv's turn inside an own-wait iteration: it never blocks, so the pool's prepare must
// not watch for results during it. The run's mode stays what it is: the ring's wake-up
// handler asks it whether another iteration follows.
void libuv_turn(fdk_loop *loop) {
  loop->in_libuv_turn = true;
  uv_run(loop->uv, UV_RUN_NOWAIT);
  loop->in_libuv_turn = false;
}

// fdkit's sleeps that are due expire here, without a libuv turn: libuv's timeout after them
// (0 when libuv has a timer or other work due).
int expire_sleeps(fdk_loop *loop) {
  if (!loop->deadlines.empty()) deadlines_expire(loop);
  uv_update_time(loop->uv);
  return uv_backend_timeout(loop->uv);
}

// epoll_wait on the loop's set for up to timeout ms (-1: no limit, 0: a poll that never
// blocks); when the wait may block and recent waits say the events come quickly, the set
// is first polled without blocking for kPollForNs (loop/spin.h). Returns what epoll_wait
// returns, -errno on failure. Inline in own_wait_turn, with the calls made by the
// instruction (core/syscall.h): the wait then returns into no frame entered before it.
[[gnu::always_inline]] inline int wait_for_events(fdk_loop *loop, epoll_event *events, int max, int timeout) {
  if (timeout == 0) return hot_epoll_wait(loop->epfd, events, max, 0);
  SpinState &spin = loop->spin;
  if (should_poll_first(loop)) {
    int64_t until = now_ns() + kPollForNs;
    do {
      int n = hot_epoll_wait(loop->epfd, events, max, 0);
      if (n > 0) spin.backoff.found();
      if (n != 0) return n;
    } while (now_ns() < until);
    spin.backoff.found_nothing();
  }
  int64_t start = now_ns();
  int n = hot_epoll_wait(loop->epfd, events, max, timeout);
  spin.pays = n > 0 && now_ns() - start <= kQuickWaitNs;
  return n;
}

// One iteration of an own-wait run, blocking (may_block) as libuv's would: until a watch,
// libuv's backend or libuv's next timer is due. Work that callbacks of this iteration leave
// to libuv (idle: a long ready queue; a handle closing; a timer due) gets its turn in the
// next iteration, which does not block: libuv's own idle and pending work waits so too.
// Before it blocks, the wait may poll the set for a few microseconds (loop/spin.h).
// True when the wait was to block and something other than its timeout ended it.
bool own_wait_turn(fdk_loop *loop, bool may_block) {
  uv_loop_t *uv = loop->uv;
  // Sleeps that came due while the loop did not run expire first: what their callbacks
  // start (a wait on a descriptor, a ring submission) must go out before this wait, which
  // would otherwise block without them.
  if (!loop->deadlines.empty()) {
    uv_update_time(uv);
    if (uv_backend_timeout(uv) == 0) deadlines_expire(loop);
  }
  register_watches(loop);
  pool_before_wait(loop);
  ring_before_wait(loop);
  uv_update_time(uv);
  int libuv_timeout = uv_backend_timeout(uv);
  bool libuv_due = libuv_timeout == 0;
  int timeout = pool_wait_timeout(loop, may_block ? libuv_timeout : 0);
  // As many as libuv takes per epoll_wait (12 KiB of stack): a turn with more ready than
  // one batch pays another epoll_wait (at 200 ready, one more call per turn with 128).
  constexpr int kBatch = 1024;
  epoll_event events[kBatch];
  int n = wait_for_events(loop, events, kBatch, timeout);
  bool woken = timeout != 0 && n != 0;
  if (n < 0) libuv_due = true;  // a signal (-EINTR): libuv's handler wrote to its backend
  // A timer is due: libuv runs only for a timer of its own.
  if (n == 0 && timeout > 0) libuv_due = expire_sleeps(loop) == 0;
  if (n > 0) {
    Dispatch scope(loop);
    for (;;) {
      for (int i = 0; i < n; ++i) {
        if (events[i].data.ptr == backend_mark(loop)) {
          libuv_due = true;
        } else if (events[i].data.u64 & kWakerTag) {
          auto *waker = reinterpret_cast<Waker *>(events[i].data.u64 & ~kWakerTag);
          waker->on_wake(waker, false);
        } else {
          watch_events(static_cast<Watch *>(events[i].data.ptr), events[i].events);
        }
      }
      if (n < kBatch) break;
      n = hot_epoll_wait(loop->epfd, events, kBatch, 0);
    }
  }
  if (libuv_due) libuv_turn(loop);
  return woken;
}

// An fdk_loop_run in mode that waits itself. False when a callback handed the backend out
// during a FDK_RUN_DEFAULT run: libuv's own run goes on from there.
bool run_own_wait(fdk_loop *loop, int mode) {
  uv_loop_t *uv = loop->uv;
  for (;;) {
    // fdk_loop_stop, during this run or before it.
    if (uv->stop_flag || loop->stop_requested) break;
    if (!uv_loop_alive(uv)) return true;
    uint64_t callbacks_before = loop->callbacks_run;
    bool woken = own_wait_turn(loop, mode != FDK_RUN_NOWAIT);
    if (!loop->own_wait) return mode != FDK_RUN_DEFAULT || loop->stop_requested;
    // Woken for nothing of the caller's: a pool result's wake-up that an earlier turn took
    // the result of, or a signal none of libuv's handlers took (EINTR). libuv's loop is
    // fdkit's alone here, so nothing ran for the caller: FDK_RUN_ONCE waits on, as libuv's
    // own run does after EINTR.
    if (mode == FDK_RUN_ONCE && woken && loop->callbacks_run == callbacks_before) continue;
    if (mode != FDK_RUN_DEFAULT) break;
  }
  // A uv_run with libuv's stop flag set resets it and does nothing else.
  if (uv->stop_flag) uv_run(uv, UV_RUN_NOWAIT);
  return true;
}

void on_handle_closed(uv_handle_t *handle) { handle_closed(static_cast<fdk_loop *>(handle->data)); }

void cancel_posted(void *data) {
  auto *op = static_cast<fdk_op *>(data);
  if (op->state == fdk_op::State::pending) op->cancel();
  op_unref(op);
}

int init_loop(fdk_loop *loop) {
  loop->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  loop->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (loop->epfd < 0) return fail_sys(neg_errno(), "loop_new: epoll_create1");
  int r = uv_async_init(loop->uv, &loop->wake, on_wake);
  if (r < 0) {
    close(loop->epfd);
    return fail(r, "loop_new: uv_async_init: %s", uv_strerror(r));
  }
  loop->wake.data = loop;
  handle_opened(loop);
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->wake));
  uv_idle_init(loop->uv, &loop->idle);
  loop->idle.data = loop;
  handle_opened(loop);
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->idle));
  uv_prepare_init(loop->uv, &loop->register_prepare);
  loop->register_prepare.data = loop;
  handle_opened(loop);
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->register_prepare));
  r = deadlines_init(loop);
  if (r < 0) {
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->register_prepare), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->wake), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->idle), on_handle_closed);
    close(loop->epfd);
    loop->epfd = -1;
    return r;
  }
  r = uv_poll_init(loop->uv, &loop->epoll_poll, loop->epfd);
  if (r == 0) {
    loop->epoll_poll.data = loop;
    handle_opened(loop);
    r = uv_poll_start(&loop->epoll_poll, UV_READABLE, on_epoll);
    if (r < 0) uv_close(reinterpret_cast<uv_handle_t *>(&loop->epoll_poll), on_handle_closed);
  }
  if (r < 0) {
    // The caller runs the loop until the handles closed here are through.
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->wake), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->idle), on_handle_closed);
    uv_close(reinterpret_cast<uv_handle_t *>(&loop->register_prepare), on_handle_closed);
    deadlines_close(loop);
    close(loop->epfd);
    loop->epfd = -1;
    return fail(r, "loop_new: uv_poll_start: %s", uv_strerror(r));
  }
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->epoll_poll));
  pool_loop_init(loop);
  return 0;
}

// Runs the libuv loop without blocking until fdkit's close callbacks ran.
void drain_closes(fdk_loop *loop) {
  while (loop->open_handles > 0) uv_run(loop->uv, UV_RUN_NOWAIT);
}

std::once_flag g_atfork_once;

void on_fork_child() { g_fork_generation.fetch_add(1, std::memory_order_relaxed); }

}  // namespace

std::atomic<uint64_t> g_fork_generation{0};

int fail_forked(const char *what) {
  return fail(-ECHILD, "%s: the loop belongs to the parent process (used after fork)", what);
}

void loop_abandon(fdk_loop *loop) {
  // Pending operations and libuv's own memory stay allocated: releasing them would run
  // teardown code that acts on descriptors shared with the parent.
  delete loop;
}

FDK_ASYNC_HOT void op_start_watched(fdk_op *op, fdk_op **out) {
  fdk_loop *loop = op->loop;
  pending_added(loop);
  wake_host(loop);
  if (out) *out = op;
}

// A new operation, its back link still null, goes first on its loop's pending list.
FDK_ASYNC_HOT void op_start(fdk_op *op, fdk_op **out) {
  fdk_loop *loop = op->loop;
  op->next = loop->pending_head;
  if (loop->pending_head) loop->pending_head->prev = op;
  loop->pending_head = op;
  op_start_watched(op, out);
}

namespace {

// Queues a completed operation's callback.
[[gnu::always_inline]] inline void queue_ready(fdk_op *op, int64_t result) {
  unlink_pending(op);
  op_ready(op, result);
}

}  // namespace

void ready_outside_dispatch(fdk_loop *loop) {
  uv_idle_start(&loop->idle, on_idle);
  wake_host(loop);
}

void op_complete_with_detail(fdk_op *op, int64_t result, std::string detail) {
  if (result < 0) {
    op->detail.reset(new char[detail.size() + 1]);
    std::memcpy(op->detail.get(), detail.c_str(), detail.size() + 1);
  }
  queue_ready(op, result);
}

namespace {
// A failure takes the thread's error text as its detail: out of line, so that a success
// (every delivered read) needs no frame.
[[gnu::cold, gnu::noinline]] void op_fail(fdk_op *op, int64_t result) {
  op_complete_with_detail(op, result, error_text());
}
}  // namespace

FDK_ASYNC_HOT void op_complete(fdk_op *op, int64_t result) {
  if (result < 0) op_fail(op, result);
  else queue_ready(op, result);
}

FDK_ASYNC_HOT void op_unref(fdk_op *op) {
  if (op->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  if (!op->recycled_size) {
    delete op;
    return;
  }
  // The last reference is dropped on the loop thread (after delivery, or by the posted
  // cancel), so the loop's Recycler may take the memory back.
  fdk_loop *loop = op->loop;
  size_t size = op->recycled_size;
  op->~fdk_op();
  loop->recycler.give(op, size);
}

Recycler::~Recycler() {
  for (Bin &bin : bins_) {
    while (Block *b = bin.head) {
      ASAN_UNPOISON_MEMORY_REGION(b, bin.size);
      bin.head = b->next;
      ::operator delete(b);
    }
  }
}

void Recycler::give_new_size(void *block, size_t size) {
  for (Bin &bin : bins_) {
    if (!bin.head) {
      bin.size = size;
      keep(bin, block);
      return;
    }
  }
  ::operator delete(block);
}

FDK_ASYNC_HOT Dispatch::Dispatch(fdk_loop *loop) : loop_(loop) { ++loop_->dispatch_depth; }

FDK_ASYNC_HOT Dispatch::~Dispatch() {
  if (loop_->dispatch_depth == 1) deliver_ready(loop_);
  --loop_->dispatch_depth;
}

void poll_without_blocking(fdk_loop *loop) {
  if (!loop->freeing) uv_idle_start(&loop->idle, on_idle);
}

void post(fdk_loop *loop, fdk_post_fn fn, void *data) {
  {
    std::lock_guard<std::mutex> lock(loop->post_mu);
    loop->posts.push_back({fn, data});
    loop->has_posts.store(true, std::memory_order_relaxed);
  }
  uv_async_send(&loop->wake);
}


int waker_start(Waker *waker) {
  fdk_loop *loop = waker->loop;
  int r = uv_poll_init(loop->uv, &waker->poll, waker->fd);
  if (r < 0) return r;
  waker->poll.data = waker;
  handle_opened(loop);
  waker->next = loop->wakers;
  loop->wakers = waker;
  if (!loop->own_wait || !waker_into_set(waker)) uv_poll_start(&waker->poll, UV_READABLE, on_waker_poll);
  // Pending operations keep the loop running, not their wake-ups.
  uv_unref(reinterpret_cast<uv_handle_t *>(&waker->poll));
  return 0;
}

void waker_close(Waker *waker, uv_close_cb on_closed) {
  fdk_loop *loop = waker->loop;
  Waker **link = &loop->wakers;
  while (*link != waker) link = &(*link)->next;
  *link = waker->next;
  if (waker->in_set) {
    epoll_event unused{};
    epoll_ctl(loop->epfd, EPOLL_CTL_DEL, waker->fd, &unused);
    waker->in_set = false;
  }
  waker->poll.data = waker->owner;
  uv_close(reinterpret_cast<uv_handle_t *>(&waker->poll), on_closed);
}

int loop_create(fdk_loop **out, uv_loop_t *borrowed) {
  std::call_once(g_atfork_once, [] { pthread_atfork(nullptr, nullptr, on_fork_child); });
  auto *loop = new fdk_loop;
  loop->fork_generation = g_fork_generation.load(std::memory_order_relaxed);
  if (borrowed) {
    loop->uv = borrowed;
  } else {
    int r = uv_loop_init(&loop->own_uv);
    if (r < 0) {
      delete loop;
      return fail(r, "loop_new: uv_loop_init: %s", uv_strerror(r));
    }
    loop->uv = &loop->own_uv;
    loop->owns_uv = true;
  }
  int r = init_loop(loop);
  if (r < 0) {
    std::string detail = error_text();
    drain_closes(loop);
    if (loop->owns_uv) uv_loop_close(loop->uv);
    delete loop;
    set_error_text(detail.c_str());
    return r;
  }
  if (loop->owns_uv) {
    // libuv adds descriptors to its backend only when it polls: one turn now puts the
    // wake-up and the readiness set there, so a host may wait on the backend descriptor
    // before the loop ever ran.
    poll_libuv_once(loop);
    if (may_wait_itself(loop)) begin_own_wait(loop);
  }
  *out = loop;
  return 0;
}

int loop_destroy(fdk_loop *loop) {
  if (loop->running || loop->dispatch_depth > 0)
    return fail(-EBUSY, "loop_free: called from inside the loop's own run");
  if (trace_in_hook()) return fail(-EBUSY, "loop_free: called from inside a trace hook");
  remote_detach_loop(loop);
  loop->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  loop->freeing = true;
  {
    Dispatch scope(loop);
    run_posts(loop);
    teardown_loop_watches(loop);
  }
  // Callbacks may start new operations and posts may arrive meanwhile: cancel until
  // nothing is pending. Operations whose system call runs on a worker complete when it
  // returns.
  while (loop->pending_count > 0 || loop->has_posts.load()) {
    {
      Dispatch scope(loop);
      run_posts(loop);
      teardown_loop_watches(loop);
      for (fdk_op *op = loop->pending_head; op; op = op->next)
        if (op->state == fdk_op::State::pending) op->cancel();
    }
    if (loop->pending_count == 0 || loop->ready_head) continue;
    // What is left runs on a worker or waits for a post: sleep until the loop hears of it
    // (through its own set while the wakers are there).
    if (loop->own_wait) own_wait_turn(loop, true);
    else uv_run(loop->uv, UV_RUN_ONCE);
  }
  trace_drop_loop_hook(loop);
  ring_close(loop);
  pool_loop_close(loop, on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->wake), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->idle), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->epoll_poll), on_handle_closed);
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->register_prepare), on_handle_closed);
  deadlines_close(loop);
  drain_closes(loop);
  close(loop->epfd);
  free_write_queues(loop->write_queues);
  loop->write_queues = nullptr;
  if (loop->owns_uv) {
    int r = uv_loop_close(loop->uv);
    if (r < 0) {
      // Handles the caller opened on fdk_loop_uv(loop) are still open: the libuv loop
      // cannot be freed under them, so its memory is left to them.
      return fail(-EBUSY, "loop_free: libuv handles opened on fdk_loop_uv() are still open");
    }
  }
  delete loop;
  return 0;
}

int loop_run(fdk_loop *loop, int mode) {
  if (loop->running) return fail(-EBUSY, "loop_run: the loop is already running");
  uv_run_mode uv_mode = mode == FDK_RUN_ONCE ? UV_RUN_ONCE : mode == FDK_RUN_NOWAIT ? UV_RUN_NOWAIT : UV_RUN_DEFAULT;
  loop->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  loop->running = true;
  loop->run_mode = mode;
  loop->stop_requested = false;
  for (;;) {
    if (loop->has_posts.load(std::memory_order_relaxed)) {
      Dispatch scope(loop);
      run_posts(loop);
    }
    bool waited_itself = loop->own_wait && run_own_wait(loop, mode);
    // With nothing alive, libuv would return without polling, leaving a wake-up already
    // sent (a post this run delivered) unread, and a host's poll of the backend readable.
    if (!waited_itself && uv_loop_alive(loop->uv)) uv_run(loop->uv, uv_mode);
    else if (!waited_itself) poll_libuv_once(loop);
    if (mode != FDK_RUN_DEFAULT || loop->stop_requested || !loop->has_posts.load(std::memory_order_relaxed)) break;
  }
  loop->running = false;
  return loop->pending_count > 0 || loop->ready_head || loop->has_posts.load() ? 1 : 0;
}

void loop_stop(fdk_loop *loop) {
  loop->stop_requested = true;
  uv_stop(loop->uv);
}

int loop_backend_fd(fdk_loop *loop) {
  if (!loop->backend_handed_out) {
    loop->backend_handed_out = true;
    end_own_wait(loop);
    // Work started before the host had the descriptor did not wake it. Without such work,
    // no wake-up: libuv, with nothing alive, would return from the host's run without
    // polling, never read its wake-up, and the descriptor would stay readable for good.
    if (loop->pending_count > 0 || loop->ready_head || loop->has_posts.load()) wake_host(loop);
  }
  return uv_backend_fd(loop->uv);
}

int loop_backend_timeout(fdk_loop *loop) {
  if (!loop->backend_handed_out) loop_backend_fd(loop);
  if (loop->ready_head || loop->has_posts.load(std::memory_order_relaxed)) return 0;
  // libuv answers 0 for a loop with nothing active; a host should then wait until the
  // backend descriptor wakes it (posts and fdkit's own handles do).
  if (!uv_loop_alive(loop->uv)) return -1;
  if (loop->unregistered > 0) return 0;
  // libuv's clock moves only inside uv_run: a host asking again later must be told what
  // is left, not the same wait again. libuv itself answers 0 while it holds descriptor
  // watches not yet added to the backend descriptor (since 1.44, the minimum here).
  uv_update_time(loop->uv);
  return uv_backend_timeout(loop->uv);
}

int op_cancel(fdk_op *op) {
  if (on_loop_thread(op->loop)) {
    if (op->state == fdk_op::State::pending) op->cancel();
    return 0;
  }
  op->refs.fetch_add(1, std::memory_order_relaxed);
  post(op->loop, cancel_posted, op);
  return 0;
}

}  // namespace fdk
