// SPDX-License-Identifier: MIT
// Ordered, complete writes (fdk_write_all_async): each handle has a queue of writes per
// loop; only the write at its head runs, through the I/O engine (readiness waits, or the
// worker pool for descriptors epoll refuses), and it goes on until every byte is written,
// so writes never interleave and arrive in submission order.
#include <limits.h>

#include <atomic>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "io/io.h"
#include "io/ops.h"

namespace fdk {

struct WriteQueue;

namespace {

class QueuedWrite final : public fdk_op {
 public:
  QueuedWrite(fdk_loop *l, WriteQueue *q, const iovec *v, int n, fdk_result_cb cb, void *data)
      : fdk_op(l), queue(q), iov(v, v + n), cb_(cb), data_(data) {
    for (const iovec &e : iov) total += e.iov_len;
  }

  void cancel() override;
  void deliver(int64_t result) override { cb_(result, data_); }

  // Worker or loop thread (whichever runs the head's system calls): writes what is left;
  // the byte count or a negative errno, -EAGAIN to wait for readiness.
  int64_t write_rest(fdk_fd *fd, int raw, bool must_not_block) {
    for (;;) {
      while (next < iov.size() && iov[next].iov_len == 0) ++next;
      if (next == iov.size()) return static_cast<int64_t>(total);
      int count = static_cast<int>(std::min<size_t>(iov.size() - next, IOV_MAX));
      int64_t r = writev_attempt(fd, raw, Iovecs(&iov[next], count, false), must_not_block);
      if (r < 0) return r;
      written.store(written.load(std::memory_order_relaxed) + static_cast<size_t>(r), std::memory_order_relaxed);
      for (size_t left = static_cast<size_t>(r); left > 0; ++next) {
        size_t take = std::min(left, iov[next].iov_len);
        iov[next].iov_base = static_cast<char *>(iov[next].iov_base) + take;
        iov[next].iov_len -= take;
        left -= take;
        if (iov[next].iov_len > 0) break;
      }
      // A blocking-mode descriptor took what it could without blocking: wait again.
      if (must_not_block && written.load(std::memory_order_relaxed) < total) return -EAGAIN;
    }
  }

  WriteQueue *queue;
  std::vector<iovec> iov;  // the caller's vector, advanced as bytes go out
  size_t next = 0;         // first entry with bytes left
  size_t total = 0;
  std::atomic<size_t> written{0};  // read by fdk_write_queue_size while a worker writes
  fdk_op *inner = nullptr;         // the engine's operation while this write is the head
  bool cancel_requested = false;

 private:
  fdk_result_cb cb_;
  void *data_;
};

// The engine's task for the head write; its completion moves the queue on.
struct WriteRestTask {
  QueuedWrite *write;
  int64_t attempt(fdk_fd *fd, int raw, bool must_not_block) { return write->write_rest(fd, raw, must_not_block); }
  void deliver(int64_t r);
  void discard(int64_t) {}
};

}  // namespace

struct WriteQueue {
  fdk_loop *loop;
  fdk_fd *fd;
  std::deque<QueuedWrite *> writes;  // the head runs; the others wait their turn
  uint64_t bytes = 0;                // total of the writes in the queue
};

struct WriteQueues {
  std::unordered_map<fdk_fd *, WriteQueue> by_fd;
};

void free_write_queues(WriteQueues *queues) { delete queues; }

namespace {

// Drops an empty queue, unpinning the handle it held.
void drop_if_empty(WriteQueue *q) {
  if (!q->writes.empty()) return;
  fdk_fd *fd = q->fd;
  q->loop->write_queues->by_fd.erase(fd);
  fd_unpin(fd);
}

void remove(WriteQueue *q, QueuedWrite *w) {
  for (auto it = q->writes.begin(); it != q->writes.end(); ++it) {
    if (*it != w) continue;
    q->writes.erase(it);
    q->bytes -= w->total;
    return;
  }
}

// Ends every write still queued with the same result.
void fail_all(WriteQueue *q, int64_t result, const std::string &detail) {
  while (!q->writes.empty()) {
    QueuedWrite *w = q->writes.front();
    remove(q, w);
    op_complete_with_detail(w, result, detail);
  }
}

// Starts the head's engine operation: 0, or the negative errno that start_io returned.
int start_head(WriteQueue *q) {
  QueuedWrite *w = q->writes.front();
  return start_io(q->loop, q->fd, Direction::write, WriteRestTask{w}, &w->inner, "write_all");
}

// Starts the next head; a write that cannot start takes the queue down with it.
void start_next(WriteQueue *q) {
  if (!q->writes.empty()) {
    if (q->loop->freeing) {
      fail_all(q, -ECANCELED, "write_all: the loop is being freed");
    } else if (int r = start_head(q); r < 0) {
      fail_all(q, r, error_text());
    }
  }
  drop_if_empty(q);
}

void QueuedWrite::cancel() {
  if (inner) {
    // The head: its engine operation ends it (or has finished and keeps its result).
    cancel_requested = true;
    if (inner->state == fdk_op::State::pending) inner->cancel();
    return;
  }
  remove(queue, this);
  op_complete_with_detail(this, -ECANCELED, "write_all: operation cancelled");
}

// A head that ended before all its bytes went out (an error, a closed handle, or a
// cancel after it started writing) leaves part of its bytes in the stream: the writes
// behind it would no longer follow in order, so they end with the same result.
void WriteRestTask::deliver(int64_t r) {
  QueuedWrite *w = write;
  WriteQueue *q = w->queue;
  w->inner = nullptr;
  remove(q, w);
  bool broken = r < 0 && !(w->cancel_requested && w->written.load(std::memory_order_relaxed) == 0);
  std::string detail = r < 0 ? std::string(error_text()) : std::string();
  op_complete_with_detail(w, r, detail);
  if (broken) fail_all(q, r, "write_all: a write queued before this one failed: " + detail);
  start_next(q);
}

}  // namespace

int writev_all_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, fdk_result_cb cb, void *data,
                     fdk_op **op) {
  if (!loop->write_queues) loop->write_queues = new WriteQueues;
  if (!loop->write_queues->by_fd.count(fd)) {
    // A write that would start at once on a closed handle fails here, like the plain calls.
    int raw;
    if (fd_use(fd, &raw) < 0) return fail(-EBADF, "write_all: the handle is closed");
    fd_unuse(fd);
  }
  auto [it, created] = loop->write_queues->by_fd.try_emplace(fd, WriteQueue{loop, fd, {}, 0});
  WriteQueue *q = &it->second;
  if (created) fd_pin(fd);
  auto *w = new QueuedWrite(loop, q, iov, iovcnt, cb, data);
  q->writes.push_back(w);
  q->bytes += w->total;
  if (q->writes.size() == 1) {
    if (int r = start_head(q); r < 0) {
      remove(q, w);
      delete w;
      drop_if_empty(q);
      return r;
    }
  }
  op_start(w, op);
  return 0;
}

int write_all_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb, void *data,
                    fdk_op **op) {
  iovec one{const_cast<void *>(buf), len};
  return writev_all_async(loop, fd, &one, 1, cb, data, op);
}

int64_t write_queue_size(fdk_loop *loop, fdk_fd *fd) {
  if (!loop->write_queues) return 0;
  auto it = loop->write_queues->by_fd.find(fd);
  if (it == loop->write_queues->by_fd.end()) return 0;
  const WriteQueue &q = it->second;
  return static_cast<int64_t>(q.bytes - q.writes.front()->written.load(std::memory_order_relaxed));
}

}  // namespace fdk
