/* SPDX-License-Identifier: MIT */
// Operations that run a blocking call on fdkit's worker pool (loop/pool.h).
#pragma once

#include <new>
#include <utility>

#include "core/error.h"
#include "loop/loop.h"
#include "loop/pool.h"
#include "trace/trace.h"

namespace fdk {

// Ends the start of an operation whose libuv request was submitted with result r: on
// failure the span ends and the error is returned, else the op becomes pending.
inline int submitted(fdk_op *op, Span &span, int r, const char *what, fdk_op **out) {
  if (r < 0) {
    span.end(r);
    return fail(r, "%s: %s", what, uv_strerror(r));
  }
  op_start(op, out);
  return 0;
}

// Asks libuv to drop a queued request, once. It succeeds only while the request has not
// started; its completion then reports the cancellation.
inline void cancel_request(uv_req_t *req, bool &cancelled) {
  if (cancelled) return;
  cancelled = true;
  uv_cancel(req);
}

// Task is a movable object with:
//   int64_t run();              worker thread: the blocking call; negative errno on failure
//                               (with a detail recorded by fail()).
//   void deliver(int64_t r);    loop thread: calls the user's callback with the result.
//   void discard(int64_t r);    loop thread: releases what a successful run produced when
//                               the operation was cancelled while it ran.
// and optionally, for its trace span, int trace_fd() const and const char *trace_path()
// const.
template <class Task>
class WorkOp final : public fdk_op, private PoolJob {
 public:
  WorkOp(fdk_loop *loop, Task &&task) : fdk_op(loop), task_(std::move(task)) {}

  int start(fdk_op **out, const char *what) {
    int fd = -1;
    const char *path = nullptr;
    if constexpr (requires { task_.trace_fd(); }) fd = task_.trace_fd();
    if constexpr (requires { task_.trace_path(); }) path = task_.trace_path();
    span_.begin(what, fd, path, loop);
    if (int r = pool_submit(loop, this); r < 0) {
      span_.end(r);
      return r;
    }
    op_start(this, out);
    return 0;
  }

  // A job still queued never runs; one already running finishes first, its result discarded.
  void cancel() override {
    if (cancelled_) return;
    cancelled_ = true;
    if (pool_cancel(this)) op_complete_with_detail(this, -ECANCELED, "operation cancelled");
  }

  void deliver(int64_t result) override {
    span_.end(result);
    task_.deliver(result);
  }

 private:
  void run() override {
    value_ = task_.run();
    if (value_ < 0) worker_detail_ = error_text();
  }

  void ran() override {
    if (cancelled_) {
      if (value_ >= 0) task_.discard(value_);
      op_complete_with_detail(this, -ECANCELED, "operation cancelled");
    } else {
      op_complete_with_detail(this, value_, std::move(worker_detail_));
    }
  }

  Task task_;
  int64_t value_ = 0;
  bool cancelled_ = false;
  std::string worker_detail_;
  Span span_;
};

// Starts task on the worker pool. On failure nothing runs and the task is dropped. The op
// lives in the loop's Recycler, as the io_uring ops do: with many calls in flight a malloc
// and a free per call overflow the allocator's per-thread cache.
template <class Task>
int start_work(fdk_loop *loop, Task &&task, fdk_op **out, const char *what) {
  auto *op = make_recycled<WorkOp<Task>>(loop, std::forward<Task>(task));
  int r = op->start(out, what);
  if (r < 0) op_unref(op);
  return r;
}

}  // namespace fdk
