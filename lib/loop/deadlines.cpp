// SPDX-License-Identifier: MIT
#include "loop/deadlines.h"

#include "core/error.h"
#include "io/ops.h"
#include "loop/loop.h"

namespace fdk {
namespace {

bool before(const Deadline *a, const Deadline *b) { return a->at_ns < b->at_ns || (a->at_ns == b->at_ns && a->seq < b->seq); }

void place(std::vector<Deadline *> &heap, uint32_t i, Deadline *d) {
  heap[i] = d;
  d->slot = i;
}

void sift_up(std::vector<Deadline *> &heap, uint32_t i) {
  Deadline *d = heap[i];
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!before(d, heap[parent])) break;
    place(heap, i, heap[parent]);
    i = parent;
  }
  place(heap, i, d);
}

void sift_down(std::vector<Deadline *> &heap, uint32_t i) {
  Deadline *d = heap[i];
  auto n = static_cast<uint32_t>(heap.size());
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap[child + 1], heap[child])) ++child;
    if (!before(heap[child], d)) break;
    place(heap, i, heap[child]);
    i = child;
  }
  place(heap, i, d);
}

void on_timer(uv_timer_t *timer);

// libuv counts whole milliseconds on a cached clock: refresh it and round up, so the
// timer never fires before the earliest deadline on the real clock.
void arm(fdk_loop *loop) {
  if (loop->deadlines.empty()) {
    uv_timer_stop(&loop->deadline_timer);
    return;
  }
  int64_t at = loop->deadlines.front()->at_ns, now = now_ns();
  uint64_t left = at <= now ? 0 : static_cast<uint64_t>(at) - static_cast<uint64_t>(now);  // no overflow
  uint64_t ms = left / 1000000 + (left % 1000000 != 0);
  uv_update_time(loop->uv);
  uv_timer_start(&loop->deadline_timer, on_timer, ms, 0);
}

Deadline *pop_front(std::vector<Deadline *> &heap) {
  Deadline *d = heap.front();
  Deadline *last = heap.back();
  heap.pop_back();
  d->slot = Deadline::kNoSlot;
  if (last != d) {
    place(heap, 0, last);
    sift_down(heap, 0);
  }
  return d;
}

void on_timer(uv_timer_t *timer) { deadlines_expire(static_cast<fdk_loop *>(timer->data)); }

}  // namespace

void deadlines_expire(fdk_loop *loop) {
  Dispatch scope(loop);
  auto &heap = loop->deadlines;
  int64_t now = now_ns();
  while (!heap.empty() && heap.front()->at_ns <= now) op_complete(pop_front(heap)->op, 0);
  // A burst of sleeps leaves no large, empty heap behind.
  if (heap.empty() && heap.capacity() > 1024) std::vector<Deadline *>().swap(heap);
  arm(loop);
}

int deadlines_init(fdk_loop *loop) {
  int r = uv_timer_init(loop->uv, &loop->deadline_timer);
  if (r < 0) return fail(r, "uv_timer_init: %s", uv_strerror(r));
  loop->deadline_timer.data = loop;
  handle_opened(loop);
  // Pending sleeps keep the loop running as pending operations; the timer alone must not.
  uv_unref(reinterpret_cast<uv_handle_t *>(&loop->deadline_timer));
  return 0;
}

void deadlines_close(fdk_loop *loop) {
  uv_close(reinterpret_cast<uv_handle_t *>(&loop->deadline_timer),
           [](uv_handle_t *h) { handle_closed(static_cast<fdk_loop *>(h->data)); });
}

void deadline_add(fdk_loop *loop, Deadline *d) {
  auto &heap = loop->deadlines;
  d->seq = loop->deadline_seq++;
  heap.push_back(d);
  sift_up(heap, static_cast<uint32_t>(heap.size() - 1));
  // Only a new earliest deadline moves the timer.
  if (d->slot == 0) arm(loop);
}

void deadline_remove(fdk_loop *loop, Deadline *d) {
  if (d->slot == Deadline::kNoSlot) return;
  auto &heap = loop->deadlines;
  uint32_t i = d->slot;
  Deadline *last = heap.back();
  heap.pop_back();
  d->slot = Deadline::kNoSlot;
  if (last != d) {
    place(heap, i, last);
    sift_up(heap, i);
    sift_down(heap, last->slot);
  }
  // A timer left armed for a removed deadline fires, finds nothing due and re-arms.
  if (heap.empty()) uv_timer_stop(&loop->deadline_timer);
}

}  // namespace fdk
