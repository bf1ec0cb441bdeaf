// SPDX-License-Identifier: MIT
// Sockets on the I/O engine: creation, addresses, options, connect, accept, shutdown.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "io/io.h"
#include "net/net.h"

namespace fdk {
namespace {

// A call that never waits (bind, listen, addresses, options), run through the engine for
// its use of the handle, its trace span and its error detail.
template <class Call>
struct OnceTask {
  Call call;
  int64_t attempt(fdk_fd *, int raw, bool) { return call(raw) < 0 ? neg_errno() : 0; }
};

template <class Call>
int once(fdk_fd *fd, const char *what, Call call) {
  OnceTask<Call> task{std::move(call)};
  return static_cast<int>(sync_io(fd, Direction::read, task, what));
}

// connect(2) answers EAGAIN when an AF_UNIX listener's backlog is full, and the socket
// then polls writable at once: waiting for readiness and retrying would spin. The task
// reports that case under this private code, which cannot be an errno, so the engine
// ends the operation; connect_result turns it back into -EAGAIN.
constexpr int64_t kConnectAgain = -(1 << 20);

int64_t connect_result(int64_t r) {
  if (r == kConnectAgain) return fail(-EAGAIN, "connect: the listener's backlog is full; try again later");
  return r;
}

// The first attempt calls connect(2). A connection under way (EINPROGRESS, EALREADY
// after a cancelled connect, EINTR on a blocking socket) is finished once the socket
// polls writable, with the result read from SO_ERROR.
struct ConnectTask : ResultCallback {
  sockaddr_storage addr;
  socklen_t addrlen;
  bool under_way = false;

  ConnectTask(const sockaddr *a, socklen_t len, fdk_result_cb c = nullptr, void *d = nullptr)
      : ResultCallback{c, d}, addrlen(len) {
    memcpy(&addr, a, len);
  }

  int64_t attempt(fdk_fd *fd, int raw, bool) {
    if (!under_way) {
      if (::connect(raw, reinterpret_cast<const sockaddr *>(&addr), addrlen) == 0) return 0;
      int err = errno;
      if (err == EAGAIN) return kConnectAgain;
      if (err != EINPROGRESS && err != EALREADY && err != EINTR) return -err;
      under_way = true;
      return err == EINTR ? -EINTR : -EAGAIN;
    }
    // A blocking-mode socket is only connected synchronously (or on a worker): wait here.
    if (int r = poll_wait(raw, Direction::write, fd_is_blocking(fd) ? -1 : 0); r < 0) return r;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(raw, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return neg_errno();
    return -err;
  }

  int64_t reported(int64_t r) const { return r == kConnectAgain ? -EAGAIN : r; }
  void deliver(int64_t r) const { cb(connect_result(r), data); }
};

// accept4(2) with the new descriptor close-on-exec and non-blocking. The descriptor
// becomes a handle only when it is delivered, so a cancelled operation closes it.
struct AcceptTask {
  sockaddr *addr;
  socklen_t *addrlen;
  fdk_accept_cb cb = nullptr;
  void *data = nullptr;
  socklen_t peer_len = 0;

  int64_t attempt(fdk_fd *, int raw, bool) {
    socklen_t len = addrlen ? *addrlen : 0;
    int conn = ::accept4(raw, addr, addr ? &len : nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    // A connection reset before it was taken: take the next one (-EINTR means "again").
    if (conn < 0) return errno == ECONNABORTED ? -EINTR : neg_errno();
    peer_len = len;
    return conn;
  }

  int finish(int64_t r, fdk_fd **conn) {
    if (r < 0) return static_cast<int>(r);
    int w = fd_wrap(conn, static_cast<int>(r), false, kSocketKind);
    if (w == 0 && addrlen) *addrlen = peer_len;
    return w;
  }

  void deliver(int64_t r) {
    fdk_fd *conn = nullptr;
    int result = finish(r, &conn);
    cb(result, conn, data);
  }
  void discard(int64_t r) { ::close(static_cast<int>(r)); }
};

int map_how(unsigned how) {
  return how == FDK_SHUT_RD ? SHUT_RD : how == FDK_SHUT_WR ? SHUT_WR : SHUT_RDWR;
}

struct ShutdownTask : ResultCallback {
  int how;
  int64_t attempt(fdk_fd *, int raw, bool) { return ::shutdown(raw, how) < 0 ? neg_errno() : 0; }
};

}  // namespace

int address_length(const sockaddr *addr, socklen_t addrlen) {
  if (addrlen < sizeof(sa_family_t)) return -EINVAL;
  sa_family_t family;
  memcpy(&family, addr, sizeof family);
  switch (family) {
    case AF_INET: return static_cast<int>(std::min<socklen_t>(addrlen, sizeof(sockaddr_in)));
    case AF_INET6: return static_cast<int>(std::min<socklen_t>(addrlen, sizeof(sockaddr_in6)));
    case AF_UNIX: return addrlen <= sizeof(sockaddr_un) ? static_cast<int>(addrlen) : -EINVAL;
    default: return addrlen <= sizeof(sockaddr_storage) ? static_cast<int>(addrlen) : -EINVAL;
  }
}

int socket(fdk_fd **out, int domain, int type, int protocol) {
  int raw = ::socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
  if (raw < 0) return fail_sys(neg_errno(), "socket");
  return fd_wrap(out, raw, false, kSocketKind);
}

int socketpair(fdk_fd **a, fdk_fd **b, int domain, int type, int protocol) {
  int sv[2];
  if (::socketpair(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol, sv) < 0)
    return fail_sys(neg_errno(), "socketpair");
  fdk_fd *first;
  if (int r = fd_wrap(&first, sv[0], false, kSocketKind); r < 0) {
    ::close(sv[1]);
    return r;
  }
  if (int r = fd_wrap(b, sv[1], false, kSocketKind); r < 0) {
    fd_unref(first);
    return r;
  }
  *a = first;
  return 0;
}

int bind(fdk_fd *fd, const sockaddr *addr, socklen_t addrlen) {
  return once(fd, "bind", [&](int raw) { return ::bind(raw, addr, addrlen); });
}

int listen(fdk_fd *fd, int backlog) {
  return once(fd, "listen", [&](int raw) { return ::listen(raw, backlog); });
}

int getsockname(fdk_fd *fd, sockaddr *addr, socklen_t *addrlen) {
  return once(fd, "getsockname", [&](int raw) { return ::getsockname(raw, addr, addrlen); });
}

int getpeername(fdk_fd *fd, sockaddr *addr, socklen_t *addrlen) {
  return once(fd, "getpeername", [&](int raw) { return ::getpeername(raw, addr, addrlen); });
}

int setsockopt_int(fdk_fd *fd, int level, int name, int value) {
  return once(fd, "setsockopt", [&](int raw) { return ::setsockopt(raw, level, name, &value, sizeof value); });
}

int getsockopt_int(fdk_fd *fd, int level, int name, int *value) {
  int v = 0;
  socklen_t len = sizeof v;
  int r = once(fd, "getsockopt", [&](int raw) { return ::getsockopt(raw, level, name, &v, &len); });
  if (r == 0) *value = v;
  return r;
}

int connect(fdk_fd *fd, const sockaddr *addr, socklen_t addrlen) {
  ConnectTask task(addr, addrlen);
  return static_cast<int>(connect_result(sync_io(fd, Direction::write, task, "connect")));
}

int connect_async(fdk_loop *loop, fdk_fd *fd, const sockaddr *addr, socklen_t addrlen, fdk_result_cb cb, void *data,
                  fdk_op **op) {
  ConnectTask task(addr, addrlen, cb, data);
  if (fd_is_blocking(fd))
    return start_work(loop, WorkerIo<ConnectTask>(fd, Direction::write, std::move(task), "connect"), op, "connect");
  return start_io(loop, fd, Direction::write, std::move(task), op, "connect");
}

int accept(fdk_fd **conn, fdk_fd *listener, sockaddr *addr, socklen_t *addrlen) {
  AcceptTask task{addr, addrlen};
  return task.finish(sync_io(listener, Direction::read, task, "accept"), conn);
}

int accept_async(fdk_loop *loop, fdk_fd *listener, sockaddr *addr, socklen_t *addrlen, fdk_accept_cb cb, void *data,
                 fdk_op **op) {
  return start_io(loop, listener, Direction::read, AcceptTask{addr, addrlen, cb, data}, op, "accept");
}

int shutdown(fdk_fd *fd, unsigned how) {
  ShutdownTask task{{}, map_how(how)};
  return static_cast<int>(sync_io(fd, Direction::write, task, "shutdown"));
}

int shutdown_async(fdk_loop *loop, fdk_fd *fd, unsigned how, fdk_result_cb cb, void *data, fdk_op **op) {
  return start_io(loop, fd, Direction::write, ShutdownTask{{cb, data}, map_how(how)}, op, "shutdown");
}

}  // namespace fdk
