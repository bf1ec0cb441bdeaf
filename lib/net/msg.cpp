// SPDX-License-Identifier: MIT
// Messages on the I/O engine: sendmsg with an optional destination and descriptors to
// pass, recvmsg with the sender's address and the descriptors that came along.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "io/io.h"
#include "net/net.h"

namespace fdk {
namespace {

// Control buffer with room for the most descriptors a message carries.
union Control {
  cmsghdr align;
  char buf[CMSG_SPACE(sizeof(int) * kMaxPassFds)];
};

// Handles to pass: each is pinned while the task lives, so an
// asynchronous send survives the caller dropping its own.
struct PassedFds {
  std::vector<fdk_fd *> list;

  PassedFds(fdk_fd *const *fds, int n) : list(fds, fds + n) {
    for (fdk_fd *f : list) fd_pin(f);
  }
  PassedFds(PassedFds &&o) noexcept : list(std::move(o.list)) { o.list.clear(); }
  ~PassedFds() {
    for (fdk_fd *f : list) fd_unpin(f);
  }
};

struct SendMsgTask : ResultCallback {
  Iovecs iov;
  sockaddr_storage dest;
  socklen_t destlen;
  PassedFds fds;

  SendMsgTask(Iovecs &&v, const sockaddr *d, socklen_t dlen, fdk_fd *const *f, int n, fdk_result_cb c, void *data)
      : ResultCallback{c, data}, iov(std::move(v)), destlen(d ? dlen : 0), fds(f, n) {
    if (d) memcpy(&dest, d, dlen);
  }

  // Each handle passed is in use for the length of the call, like the socket itself.
  int64_t attempt(fdk_fd *, int raw, bool must_not_block) {
    int flags = MSG_NOSIGNAL | (must_not_block ? MSG_DONTWAIT : 0);
    int n = static_cast<int>(fds.list.size());
    if (n == 0 && destlen == 0 && iov.count == 1) {
      // Plain bytes: send(2) spares the kernel the message header.
      ssize_t sent = ::send(raw, iov.iov[0].iov_base, iov.iov[0].iov_len, flags);
      return sent < 0 ? neg_errno() : sent;
    }
    int raws[kMaxPassFds];
    int used = 0;
    while (used < n && fd_use(fds.list[used], &raws[used]) == 0) ++used;
    int64_t r = -EBADF;
    if (used == n) {
      msghdr msg{};
      iov.into(msg);
      if (destlen) {
        msg.msg_name = &dest;
        msg.msg_namelen = destlen;
      }
      Control control;
      if (n > 0) {
        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        memcpy(CMSG_DATA(c), raws, sizeof(int) * n);
      }
      ssize_t sent = ::sendmsg(raw, &msg, flags);
      r = sent < 0 ? neg_errno() : sent;
    }
    for (int i = 0; i < used; ++i) fd_unuse(fds.list[i]);
    return r;
  }
};

void close_all(std::vector<int> &raws) {
  for (int raw : raws) ::close(raw);
  raws.clear();
}

// recvmsg(MSG_CMSG_CLOEXEC). The descriptors received stay raw in the task until
// finish() turns them into handles for the caller, so a cancelled operation closes them.
struct RecvMsgTask : ResultCallback {
  Iovecs iov;
  RecvOut out;
  socklen_t from_room;
  int fd_room;
  std::vector<int> received;  // reserved up front: collecting never allocates
  socklen_t from_len = 0;
  unsigned flags = 0;

  RecvMsgTask(Iovecs &&v, const RecvOut &o, fdk_result_cb c = nullptr, void *data = nullptr)
      : ResultCallback{c, data},
        iov(std::move(v)),
        out(o),
        from_room(o.from ? *o.fromlen : 0),
        fd_room(o.nfds ? std::min(*o.nfds, kMaxPassFds) : 0) {
    if (fd_room > 0) received.reserve(static_cast<size_t>(fd_room));
  }
  RecvMsgTask(RecvMsgTask &&) = default;
  ~RecvMsgTask() { close_all(received); }

  int64_t attempt(fdk_fd *, int raw, bool must_not_block) {
    int call_flags = MSG_CMSG_CLOEXEC | (must_not_block ? MSG_DONTWAIT : 0);
    if (!out.from && fd_room == 0 && !out.flags && iov.count == 1) {
      // Plain bytes: recv(2) spares the kernel the message header. Descriptors that came
      // along are dropped by the kernel, as recvmsg without room would.
      ssize_t n = ::recv(raw, iov.iov[0].iov_base, iov.iov[0].iov_len, call_flags);
      return n < 0 ? neg_errno() : n;
    }
    msghdr msg{};
    iov.into(msg);
    msg.msg_name = out.from;
    msg.msg_namelen = from_room;
    Control control;
    if (fd_room > 0) {
      msg.msg_control = control.buf;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fd_room);
    }
    ssize_t n = ::recvmsg(raw, &msg, call_flags);
    if (n < 0) return neg_errno();
    collect(msg);
    return n;
  }

  // Keeps the descriptors that arrived, or closes them all when some did not fit (the
  // kernel's MSG_CTRUNC, or one more than fd_room: CMSG_SPACE rounds the room up).
  void collect(const msghdr &msg) {
    from_len = msg.msg_namelen;
    flags = (msg.msg_flags & MSG_TRUNC) ? FDK_MSG_TRUNC : 0;
    bool truncated = msg.msg_flags & MSG_CTRUNC;
    for (cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<msghdr *>(&msg), c)) {
      if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
      size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        int raw;
        memcpy(&raw, CMSG_DATA(c) + i * sizeof(int), sizeof raw);
        if (received.size() < static_cast<size_t>(fd_room)) {
          received.push_back(raw);
        } else {
          ::close(raw);
          truncated = true;
        }
      }
    }
    if (truncated) {
      close_all(received);
      flags |= FDK_MSG_CTRUNC;
    }
  }

  // Hands the results of a successful call to the caller's out-parameters.
  int64_t finish(int64_t r) {
    if (r < 0) return r;
    int stored = 0;
    for (size_t i = 0; i < received.size(); ++i) {
      int raw = received[i];
      int mode = ::fcntl(raw, F_GETFL);
      if (fd_wrap(&out.fds[stored], raw, mode < 0 || !(mode & O_NONBLOCK)) == 0) {
        ++stored;
        continue;
      }
      // Out of memory (fd_wrap closed raw): report it as descriptors that did not fit.
      for (size_t j = i + 1; j < received.size(); ++j) ::close(received[j]);
      while (stored > 0) fd_unref(out.fds[--stored]);
      flags |= FDK_MSG_CTRUNC;
      break;
    }
    received.clear();
    if (out.fromlen) *out.fromlen = from_len;
    if (out.nfds) *out.nfds = stored;
    if (out.flags) *out.flags = flags;
    return r;
  }

  void deliver(int64_t r) { cb(finish(r), data); }
  void discard(int64_t) { close_all(received); }
};

}  // namespace

ssize_t send_msg(fdk_fd *fd, const iovec *iov, int iovcnt, const sockaddr *dest, socklen_t destlen,
                 fdk_fd *const *fds, int nfds) {
  SendMsgTask task(Iovecs(iov, iovcnt, false), dest, destlen, fds, nfds, nullptr, nullptr);
  return sync_io(fd, Direction::write, task, "send_msg");
}

int send_msg_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, const sockaddr *dest, socklen_t destlen,
                   fdk_fd *const *fds, int nfds, fdk_result_cb cb, void *data, fdk_op **op) {
  return start_io(loop, fd, Direction::write, SendMsgTask(Iovecs(iov, iovcnt, true), dest, destlen, fds, nfds, cb, data),
                  op, "send_msg");
}

ssize_t recv_msg(fdk_fd *fd, const iovec *iov, int iovcnt, const RecvOut &out) {
  RecvMsgTask task(Iovecs(iov, iovcnt, false), out);
  return task.finish(sync_io(fd, Direction::read, task, "recv_msg"));
}

int recv_msg_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, const RecvOut &out, fdk_result_cb cb,
                   void *data, fdk_op **op) {
  return start_io(loop, fd, Direction::read, RecvMsgTask(Iovecs(iov, iovcnt, true), out, cb, data), op, "recv_msg");
}

}  // namespace fdk
