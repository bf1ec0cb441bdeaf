// SPDX-License-Identifier: MIT
#include "fd/fd.h"

#include <fcntl.h>
#include <sanitizer/asan_interface.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>

#include "core/error.h"
#include "core/hot.h"
#include "core/syscall.h"
#include "fd/readiness.h"
#include "trace/trace.h"

namespace fdk {
namespace {

// The lock of a stripe: held for a few list operations and nearly never contended, so its
// uncontended lock and unlock are one atomic instruction each, inline (a std::mutex is a
// call into the C library each way: a third of a delivered read's own instructions went to
// its lookups' locks). A thread that finds it held sleeps on the word (a futex).
class StripeLock {
 public:
  void lock() {
    int free = 0;
    if (state_.compare_exchange_strong(free, kHeld, std::memory_order_acquire, std::memory_order_relaxed)) return;
    while (state_.exchange(kContended, std::memory_order_acquire) != 0) state_.wait(kContended, std::memory_order_relaxed);
  }
  void unlock() {
    if (state_.exchange(0, std::memory_order_release) == kContended) state_.notify_one();
  }

 private:
  static constexpr int kHeld = 1, kContended = 2;  // 0: free
  std::atomic<int> state_{0};
};

// Striped locks guard each handle's watch list, so a handle stays small.
StripeLock g_stripes[64];
StripeLock &stripe(const fdk_fd *fd) { return g_stripes[(reinterpret_cast<uintptr_t>(fd) >> 5) % 64]; }

// A direction's waiters form a circular list: head[d] is the first, its prev the last.
void link_waiter(Watch *w, Waiter *waiter, Direction dir) {
  Waiter *&head = w->head[static_cast<int>(dir)];
  waiter->watch = w;
  if (!head) {
    head = waiter->prev = waiter->next = waiter;
    return;
  }
  waiter->prev = head->prev;
  waiter->next = head;
  head->prev->next = waiter;
  head->prev = waiter;
}

void unlink_waiter(Waiter *waiter) {
  // Only a first waiter is a head, and it tells its direction.
  Waiter **head = waiter->watch->head;
  Waiter *&first = head[0] == waiter ? head[0] : head[1];
  if (waiter->next == waiter) {
    first = nullptr;
  } else {
    waiter->prev->next = waiter->next;
    waiter->next->prev = waiter->prev;
    if (first == waiter) first = waiter->next;
  }
  waiter->prev = waiter->next = nullptr;
  waiter->watch = nullptr;
}

// A new watch goes first in its loop's list, so the ones not registered yet are always
// among the first (fdk_loop::unregistered).
void link_into_loop(Watch *w) {
  Watch *&head = w->loop->watches;
  w->set_prev_in_loop(nullptr);
  w->set_next_in_loop(head);
  if (head) head->set_prev_in_loop(w);
  head = w;
  if (!w->registered()) ++w->loop->unregistered;
}

// Its links are left as they were: the watch is freed next.
void unlink_from_loop(Watch *w) {
  Watch *prev = w->prev_in_loop(), *next = w->next_in_loop();
  if (prev) prev->set_next_in_loop(next);
  else w->loop->watches = next;
  if (next) next->set_prev_in_loop(prev);
  if (!w->registered()) --w->loop->unregistered;
}

// Watches live in their loop's Recycler: a descriptor opened, read and closed in a cycle
// reuses the same memory.
Watch *new_watch(fdk_loop *loop, fdk_fd *fd) {
  void *memory = loop->recycler.take(watch_size());
  Watch *w = readiness_backend() == ReadinessBackend::epoll ? new (memory) Watch : new (memory) PolledWatch;
  w->fd = fd;
  w->loop = loop;
  return w;
}

void free_watch(Watch *w) {
  fdk_loop *loop = w->loop;
  w->~Watch();
  loop->recycler.give(w, watch_size());
}

// The first watch's loop after the handle's list changed (under the stripe lock); it
// changes only so and in add_watch (find_watch).
void update_first_watch_loop(fdk_fd *fd) {
  fd->first_watch_loop.store(fd->watches ? fd->watches->loop : nullptr, std::memory_order_release);
}

// Ends a watch already taken off its handle's list, all but the use and the pin it holds;
// its waiters complete with status (-ECANCELED when the handle closed).
[[gnu::always_inline]] inline void retire_watch(Watch *w, int status) {
  unlink_from_loop(w);
  if (w->registered()) readiness_remove(w);
  fire_ending(w, Direction::read, status);
  fire_ending(w, Direction::write, status);
  free_watch(w);
}

// Ends a watch already taken off its handle's list, as retire_watch, and drops its use
// and pin.
void end_watch(Watch *w, int status) {
  fdk_fd *fd = w->fd;
  retire_watch(w, status);
  fd_unuse(fd);
  fd_unpin(fd);
}

// Ends a watch still on its handle's list.
void teardown_watch(Watch *w, int status = -ECANCELED) {
  fdk_fd *fd = w->fd;
  {
    std::lock_guard<StripeLock> lock(stripe(fd));
    // It is there: only stop_watches takes a watch off before ending it, and it ends them
    // before it returns, running no code of the user's meanwhile (fire's waiters queue).
    Watch **p = &fd->watches;
    while (*p != w) p = &(*p)->next_in_fd;
    *p = w->next_in_fd;
    update_first_watch_loop(fd);
  }
  end_watch(w, status);
}

[[gnu::noinline]] Watch *find_watch_locked(fdk_fd *fd, fdk_loop *loop) {
  std::lock_guard<StripeLock> lock(stripe(fd));
  for (Watch *w = fd->watches; w; w = w->next_in_fd)
    if (w->loop == loop) return w;
  return nullptr;
}

// Loop thread only. The first watch, the common one, is found without the stripe lock (two
// atomic instructions): when its loop is this one, nobody else can unlink it nor change
// which watch is first (fdk_fd::first_watch_loop). A handle with no watch at all, as every
// new one, is found so too: a watch of this loop is made by this thread alone. Inline:
// every wait and every re-armed read asks.
inline Watch *find_watch(fdk_fd *fd, fdk_loop *loop) {
  fdk_loop *first = fd->first_watch_loop.load(std::memory_order_acquire);
  if (first == loop) return fd->watches;
  return first ? find_watch_locked(fd, loop) : nullptr;
}

// Tears down fd's watch on loop, if it still has one (loop thread).
void teardown_fd_on_loop(fdk_fd *fd, fdk_loop *loop) {
  if (Watch *w = find_watch(fd, loop)) teardown_watch(w);
}

struct PostedTeardown {
  fdk_fd *fd;
  fdk_loop *loop;
};

void run_posted_teardown(void *data) {
  auto *t = static_cast<PostedTeardown *>(data);
  teardown_fd_on_loop(t->fd, t->loop);
  fd_unpin(t->fd);
  delete t;
}

// Stops every loop's watch of a handle that is now closing: by a post on other threads'
// loops, then at once on the calling thread's own loops, whose watches are taken off the
// handle's list in the same pass. Posting happens under the stripe lock so a loop that is
// being freed has either already dropped the watch or will run the post. The closing
// handle gets no new watch meanwhile (add_watch). Returns how many watches it ended here,
// whose uses and pins the caller drops (drop_watch_holds). Inline in fd_close and
// fd_release, so that the removal from the epoll set and the close that follows are made
// in one frame (core/hot.h).
[[gnu::always_inline]] inline uint32_t stop_watches(fdk_fd *fd) {
  Watch *own = nullptr;  // linked by next_in_fd
  {
    std::lock_guard<StripeLock> lock(stripe(fd));
    Watch **link = &fd->watches;
    while (Watch *w = *link) {
      if (on_loop_thread(w->loop)) {
        *link = w->next_in_fd;
        w->next_in_fd = own;
        own = w;
      } else {
        fd_pin(fd);
        post(w->loop, run_posted_teardown, new PostedTeardown{fd, w->loop});
        link = &w->next_in_fd;
      }
    }
    update_first_watch_loop(fd);
  }
  uint32_t ended = 0;
  while (Watch *w = own) {
    own = w->next_in_fd;
    retire_watch(w, -ECANCELED);
    ++ended;
  }
  return ended;
}

// Drops the uses and pins of the count watches stop_watches ended, one atomic step each:
// the state before, whose uses tell whether these were the last. The pins never run out
// here: the closing or releasing caller holds a reference, which keeps one.
uint32_t drop_watch_holds(fdk_fd *fd, uint32_t count) {
  fd->pins.fetch_sub(count, std::memory_order_acq_rel);
  return fd->state.fetch_sub(count, std::memory_order_acq_rel);
}

}  // namespace

void fd_last_use_ended(fdk_fd *fd, uint32_t state_before) {
  // Nobody can start a new use.
  if (state_before & fdk_fd::kReleasing) fd->state.notify_all();
  else close_raw(fd);
}

void fd_pin(fdk_fd *fd) { fd->pins.fetch_add(1, std::memory_order_relaxed); }

// Handles live in malloc'd memory rather than operator new's, and a freed one is kept in
// a spare slot for the next handle: a descriptor opened and closed in a cycle (a pipe's
// two ends) then runs no allocator at all, whose code and data (the thread's cache, the
// arena, libc's globals) would be half the pages such a cycle touches after each system
// call. The slots sit with the hot globals, two spares to a cache line, and a thread uses
// the line its thread pointer picks, so that threads seldom share one. A spare is filled
// or emptied by one atomic operation on a single pointer: there is no list link to read,
// hence no ABA, and no lock.
namespace {

constexpr size_t kSpareSlots = 8;
struct alignas(64) SpareSlot {
  std::atomic<void *> memory[2] = {nullptr, nullptr};
};
FDK_HOT_DATA SpareSlot g_spare_handles[kSpareSlots];

SpareSlot &spare_slot() {
#if __has_builtin(__builtin_thread_pointer)
  // Thread pointers lie whole stacks apart: a multiplicative hash spreads them.
  auto tp = reinterpret_cast<uintptr_t>(__builtin_thread_pointer());
  return g_spare_handles[((tp >> 12) * 0x9E3779B97F4A7C15u) >> 61];
#else
  return g_spare_handles[0];
#endif
}
static_assert(kSpareSlots == 8, "the slot hash keeps 3 bits");

void *take_spare() {
  for (std::atomic<void *> &spare : spare_slot().memory) {
    void *memory = spare.load(std::memory_order_relaxed) ? spare.exchange(nullptr, std::memory_order_acquire) : nullptr;
    if (!memory) continue;
    ASAN_UNPOISON_MEMORY_REGION(memory, sizeof(fdk_fd));
    return memory;
  }
  return nullptr;
}

void free_handle(fdk_fd *fd) {
  fd->~fdk_fd();
  for (std::atomic<void *> &spare : spare_slot().memory) {
    void *empty = nullptr;
    if (spare.load(std::memory_order_relaxed)) continue;
    // Poisoned before it is visible in the slot, so a use after free is still caught
    // under ASan, and a thread that takes it at once unpoisons after this.
    ASAN_POISON_MEMORY_REGION(fd, sizeof(fdk_fd));
    if (spare.compare_exchange_strong(empty, fd, std::memory_order_release, std::memory_order_relaxed)) return;
    ASAN_UNPOISON_MEMORY_REGION(fd, sizeof(fdk_fd));
  }
  free(fd);
}

// Frees the spares when the library is unloaded (dlclose) or the process exits. Safe
// while other threads still run: a spare emptied here is simply found empty.
struct SpareSweep {
  ~SpareSweep() {
    for (SpareSlot &s : g_spare_handles) {
      for (std::atomic<void *> &spare : s.memory) {
        void *memory = spare.exchange(nullptr, std::memory_order_acquire);
        if (memory) ASAN_UNPOISON_MEMORY_REGION(memory, sizeof(fdk_fd));
        free(memory);
      }
    }
  }
} g_spare_sweep;

}  // namespace

void fd_unpin(fdk_fd *fd) {
  if (fd->pins.fetch_sub(1, std::memory_order_acq_rel) == 1) free_handle(fd);
}

fdk_fd *fd_ref(fdk_fd *fd) {
  if (fd) fd->user_refs.fetch_add(1, std::memory_order_relaxed);
  return fd;
}

namespace {
// fd_unref of a handle that others still hold, pin or use.
[[gnu::noinline]] void unref_shared(fdk_fd *fd) {
  if (fd->user_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // The last reference: close if nobody did.
    if (!fd_is_closing(fd)) traced("close", fd->raw, nullptr, [&] { return fd_close(fd); });
    fd_unpin(fd);
  }
}
}  // namespace

FDK_HOT fdk_fd *fd_unref(fdk_fd *fd) {
  if (!fd) return nullptr;
  // The last reference, no other pin, no use in flight: every holder of a handle keeps a
  // reference or a pin, so nothing else can reach this one. It is closed, unless a close or
  // release already ended it, and freed without the read-modify-write steps of unref_shared
  // (three locked instructions, most of what a short-lived handle costs beyond its system
  // calls). The state is read after the counts: the holder whose unref left the last
  // reference synchronizes with this load of it, so its close (kClosing, set before that
  // unref) is seen here. Read before them, it could predate that close, and the number,
  // closed by then and perhaps reused, would be closed a second time.
  if (fd->user_refs.load(std::memory_order_acquire) == 1 && fd->pins.load(std::memory_order_acquire) == 1) {
    uint32_t state = fd->state.load(std::memory_order_acquire);
    if ((state & fdk_fd::kUseMask) == 0) {
      if (!(state & fdk_fd::kClosing)) traced("close", fd->raw, nullptr, [&] { return close_raw(fd); });
      free_handle(fd);
      return nullptr;
    }
  }
  unref_shared(fd);
  return nullptr;
}

int fd_blocking_mode(fdk_fd *fd) {
  if (int known = fd_known_mode(fd); known >= 0) return known;
  int raw;
  if (fd_use(fd, &raw) < 0) return -EBADF;
  int mode = fcntl(raw, F_GETFL);
  int err = mode < 0 ? neg_errno() : 0;
  fd_unuse(fd);
  if (mode < 0) return err;
  bool blocking = !(mode & O_NONBLOCK);
  fd_learn(fd, fdk_fd::kModeRead | (blocking ? fdk_fd::kModeBlocking : 0));
  return blocking ? 1 : 0;
}

namespace {

[[gnu::cold]] int wrap_failed(int raw) {
  close(raw);
  return fail(-ENOMEM, "fd_wrap: out of memory");
}

fdk_fd *init_handle(void *memory, int raw, uint8_t flags, uint16_t learned) {
  auto *fd = new (memory) fdk_fd;
  fd->raw = raw;
  fd->flags = flags;
  // The counts again, as atomic stores: the compiler merges the plain initial {1, 1} into
  // a vector constant loaded from .rodata, one more page per handle created (hot.h). What
  // is learned is stored, not or'ed: nobody else sees the handle yet.
  fd->user_refs.store(1, std::memory_order_relaxed);
  fd->pins.store(1, std::memory_order_relaxed);
  if (!(flags & fdk_fd::kModeUnread))
    learned |= fdk_fd::kModeRead | ((flags & FDK_FD_BLOCKING) ? fdk_fd::kModeBlocking : 0);
  fd->learned.store(learned, std::memory_order_relaxed);
  return fd;
}

// Out of line: with a spare at hand, fd_alloc calls nothing.
[[gnu::noinline]] fdk_fd *alloc_handle(int raw, uint8_t flags, uint16_t learned) {
  void *memory = malloc(sizeof(fdk_fd));
  return memory ? init_handle(memory, raw, flags, learned) : nullptr;
}

}  // namespace

FDK_HOT fdk_fd *fd_alloc(int raw, uint8_t flags, uint16_t learned) {
  void *memory = take_spare();
  if (__builtin_expect(!memory, 0)) return alloc_handle(raw, flags, learned);
  return init_handle(memory, raw, flags, learned);
}

// Flattened: fd_alloc runs inside it, without a call, on every open.
[[gnu::flatten]] FDK_HOT int fd_wrap(fdk_fd **out, int raw, bool blocking, uint16_t learned) {
  fdk_fd *fd = fd_alloc(raw, blocking ? FDK_FD_BLOCKING : 0, learned);
  if (__builtin_expect(!fd, 0)) return wrap_failed(raw);
  *out = fd;
  return 0;
}

int close_in_use(fdk_fd *fd) {
  uint32_t ended = stop_watches(fd);
  if (ended == 0) return 0;
  // Those were the last uses: nobody else will close.
  if ((drop_watch_holds(fd, ended) & fdk_fd::kUseMask) == ended) return close_raw(fd);
  return 0;
}

int fd_release(fdk_fd *fd, int *raw) {
  bool idle = false;
  if (begin_close(fd, fdk_fd::kClosing | fdk_fd::kReleasing, &idle) < 0)
    return fail(-EBADF, "release: the handle is already closed");
  if (!idle) {
    if (uint32_t ended = stop_watches(fd)) drop_watch_holds(fd, ended);
    for (uint32_t s = fd->state.load(std::memory_order_acquire); s & fdk_fd::kUseMask;
         s = fd->state.load(std::memory_order_acquire))
      fd->state.wait(s, std::memory_order_acquire);
  }
  *raw = fd->raw;
  return 0;
}

namespace {

void on_register_prepare(uv_prepare_t *prepare) {
  register_watches(static_cast<fdk_loop *>(prepare->data));
  uv_prepare_stop(prepare);
}

}  // namespace

void register_before_libuv_polls(fdk_loop *loop) {
  if (loop->unregistered > 0) uv_prepare_start(&loop->register_prepare, on_register_prepare);
}

namespace {

// Creates fd's watch on loop with no direction yet: registered now, or, when deferred, just
// before the loop polls next (the registration's system calls leave the call that waits).
int add_watch(fdk_loop *loop, fdk_fd *fd, Watch **out, bool deferred) {
  int raw;
  if (fd_use(fd, &raw) < 0) return fail(-EBADF, "watch: the handle is closed");
  Watch *w = new_watch(loop, fd);
  if (!deferred) {
    if (int err = readiness_add(w, raw); err < 0) {
      free_watch(w);
      fd_unuse(fd);
      if (err == -EPERM) {
        fd_learn(fd, fdk_fd::kUnpollable);
        return -EPERM;
      }
      return fail_sys(err, "poll registration");
    }
    w->set_registered(true);
  }
  bool closing;
  {
    std::lock_guard<StripeLock> lock(stripe(fd));
    closing = fd_is_closing(fd);
    if (!closing) {
      if (Watch *first = fd->watches) {
        w->next_in_fd = first->next_in_fd;
        first->next_in_fd = w;
      } else {
        fd->watches = w;
        fd->first_watch_loop.store(loop, std::memory_order_release);
      }
    }
  }
  if (closing) {
    // A close that started meanwhile did not see this watch: undo it here.
    if (w->registered()) readiness_remove(w);
    free_watch(w);
    fd_unuse(fd);
    return fail(-EBADF, "watch: the handle is closed");
  }
  // A deferred watch of a kind not yet known learns it at its registration.
  if (w->registered()) fd_learn(fd, fdk_fd::kPollable);
  fd_pin(fd);
  link_into_loop(w);
  // A loop that waits itself registers before each wait (no libuv call per new watch).
  if (!w->registered() && loop->unregistered == 1 && !loop->own_wait) register_before_libuv_polls(loop);
  *out = w;
  return 0;
}

// Registers a watch that waited for the next batch. On failure the caller ends the watch,
// whose waiters are woken with the error (-EPERM when epoll refuses the descriptor, which
// the handle then remembers), which is returned. Inline: the batch makes the registration
// in its own frame, one return short of the loop's (core/hot.h).
[[gnu::always_inline]] inline int register_deferred(Watch *w) {
  int err = readiness_add(w, w->fd->raw);
  if (err < 0) {
    if (err == -EPERM) fd_learn(w->fd, fdk_fd::kUnpollable);
    return fail_sys(err, "poll registration");
  }
  w->set_registered(true);
  --w->loop->unregistered;
  if (!fd_learned(w->fd, fdk_fd::kPollable)) fd_learn(w->fd, fdk_fd::kPollable);
  // The mode, where adopt was not told it: once known non-blocking, the handle's reads
  // are read(2) calls rather than preadv2(RWF_NOWAIT), which costs the kernel a vector
  // copy more (30 ns a read on the test machine). Read here, with the registration, once
  // per handle: the read that starts a wait makes its one failed call and nothing else.
  fd_blocking_mode(w->fd);  // reads nothing when the mode is known
  // The epoll set took the waited directions with the descriptor; a poll handle starts now.
  return watch_poll(w) ? readiness_update(w) : 0;
}

// The watches not registered yet are among the first of the list (link_into_loop).
[[gnu::noinline]] void register_batch(fdk_loop *loop) {
  Watch *w = loop->watches;
  while (loop->unregistered > 0) {
    Watch *next = w->next_in_loop();
    if (!w->registered()) {
      if (int err = register_deferred(w); err < 0) {
        {
          // The waiters' callbacks run at the end of the scope; waits they start belong
          // to this poll too, and are first in the list.
          Dispatch scope(loop);
          teardown_watch(w, err);
        }
        // Callbacks ran: the poll that follows must not block (a FDK_RUN_ONCE run returns
        // with them, as after results its preparation delivered).
        poll_without_blocking(loop);
        next = loop->watches;
      }
    }
    w = next;
  }
}

}  // namespace

// Every loop iteration asks: nearly always nothing to do, for no saved register.
void register_watches(fdk_loop *loop) {
  if (loop->unregistered > 0) register_batch(loop);
}

int ensure_watch(fdk_loop *loop, fdk_fd *fd) {
  if (fd_learned(fd, fdk_fd::kUnpollable)) return -EPERM;
  // A watch of a kind not yet known, left for the next batch by a read, must answer now.
  if (Watch *w = find_watch(fd, loop)) {
    if (w->registered()) return 0;
    int err = register_deferred(w);
    if (err < 0) teardown_watch(w, err);
    return err;
  }
  Watch *w;
  return add_watch(loop, fd, &w, false);
}

namespace {

// Waits for dir on w, the watch of its loop and descriptor. A registration that already
// covers dir stays as it is (level-triggered): a read re-armed from its callback changes
// nothing in the kernel nor in the watch.
[[gnu::always_inline]] inline int wait_on(Watch *w, Waiter *waiter, Direction dir) {
  link_waiter(w, waiter, dir);
  if (!w->registered() || (w->interest() & (1u << static_cast<int>(dir)))) return 0;
  if (int r = readiness_update(w); r < 0) {
    unlink_waiter(waiter);
    return r;
  }
  return 0;
}

}  // namespace

int wait_ready(fdk_loop *loop, fdk_fd *fd, Waiter *waiter, Direction dir, bool refusal_later) {
  if (fd_learned(fd, fdk_fd::kUnpollable)) return -EPERM;
  Watch *w = find_watch(fd, loop);
  if (!w) {
    // A descriptor known to be pollable is registered with the next batch.
    int r = add_watch(loop, fd, &w, refusal_later || fd_learned(fd, fdk_fd::kPollable));
    if (r < 0) return r;
  }
  return wait_on(w, waiter, dir);
}

void cancel_wait(Waiter *waiter) {
  Watch *w = waiter->watch;
  if (!w) return;
  unlink_waiter(waiter);
  if (w->registered()) readiness_update(w);
}

int wait_ready_if_read_spent(fdk_loop *loop, fdk_fd *fd, Waiter *waiter) {
  Watch *w = find_watch(fd, loop);
  if (!w || !w->read_spent()) return 0;
  int r = wait_on(w, waiter, Direction::read);
  return r < 0 ? r : 1;
}

void note_read_attempt(fdk_loop *loop, fdk_fd *fd) {
  if (Watch *w = find_watch(fd, loop)) w->set_read_spent(true);
}

void note_read_filled(fdk_loop *loop, fdk_fd *fd) {
  // A handle with data without end must not keep the loop from polling (the other handles,
  // its timers): as libuv's stream reads, at most 32 such reads in a row.
  if (++loop->full_reads_since_report > kFullReadsPerReport) return;
  if (Watch *w = find_watch(fd, loop)) w->set_read_spent(false);
}

void teardown_loop_watches(fdk_loop *loop) {
  while (loop->watches) teardown_watch(loop->watches);
}

}  // namespace fdk
