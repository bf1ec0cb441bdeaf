/* SPDX-License-Identifier: MIT */
// Operations that run a blocking call on libuv's worker pool.
#pragma once

#include <new>
#include <utility>

#include "core/error.h"
#include "loop/loop.h"
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
class WorkOp final : public fdk_op {
 public:
  WorkOp(fdk_loop *loop, Task &&task) : fdk_op(loop), task_(std::move(task)) { req_.data = this; }

  int start(fdk_op **out, const char *what) {
    int fd = -1;
    const char *path = nullptr;
    if constexpr (requires { task_.trace_fd(); }) fd = task_.trace_fd();
    if constexpr (requires { task_.trace_path(); }) path = task_.trace_path();
    span_.begin(what, fd, path, loop);
    return submitted(this, span_, uv_queue_work(loop->uv, &req_, run, after), what, out);
  }

  // after() then sees UV_ECANCELED, or the result of a call that had started.
  void cancel() override { cancel_request(reinterpret_cast<uv_req_t *>(&req_), cancelled_); }

  void deliver(int64_t result) override {
    span_.end(result);
    task_.deliver(result);
  }

 private:
  static void run(uv_work_t *req) {
    auto *op = static_cast<WorkOp *>(req->data);
    op->value_ = op->task_.run();
    if (op->value_ < 0) op->worker_detail_ = error_text();
  }

  static void after(uv_work_t *req, int status) {
    auto *op = static_cast<WorkOp *>(req->data);
    Dispatch scope(op->loop);
    if (status == UV_ECANCELED) {
      op_complete_with_detail(op, -ECANCELED, "operation cancelled");
    } else if (op->cancelled_) {
      if (op->value_ >= 0) op->task_.discard(op->value_);
      op_complete_with_detail(op, -ECANCELED, "operation cancelled");
    } else {
      op_complete_with_detail(op, op->value_, std::move(op->worker_detail_));
    }
  }

  uv_work_t req_{};
  Task task_;
  int64_t value_ = 0;
  bool cancelled_ = false;
  std::string worker_detail_;
  Span span_;
};

// Starts task on the worker pool. On failure nothing runs and the task is dropped.
template <class Task>
int start_work(fdk_loop *loop, Task &&task, fdk_op **out, const char *what) {
  auto *op = new WorkOp<Task>(loop, std::forward<Task>(task));
  int r = op->start(out, what);
  if (r < 0) delete op;
  return r;
}

}  // namespace fdk
