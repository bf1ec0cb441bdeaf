// SPDX-License-Identifier: MIT
// extern "C" entry points of fdkit/net.h.
#include <limits.h>
#include <sys/socket.h>

#include "core/guard.h"
#include "loop/async_entry.h"
#include "fd/fd.h"
#include "net/net.h"
#include "trace/trace.h"

using fdk::check_fd;
using fdk::fail;
using fdk::guard;
using fdk::guard_async;
using fdk::traced;

namespace {

// An address given to the kernel: present, and no larger than any address can be.
int check_addr_in(const char *what, const sockaddr *addr, socklen_t addrlen) {
  if (!addr || addrlen == 0) return fail(-EINVAL, "%s: address is NULL or empty", what);
  if (addrlen > sizeof(sockaddr_storage)) return fail(-EINVAL, "%s: address length %u is too large", what, addrlen);
  return 0;
}

// An address fdkit copies: checked as above, and *addrlen cut to what its family needs.
int check_addr_copied(const char *what, const sockaddr *addr, socklen_t *addrlen) {
  if (int r = check_addr_in(what, addr, *addrlen)) return r;
  int len = fdk::address_length(addr, *addrlen);
  if (len < 0) return fail(len, "%s: address length %u does not fit its family", what, *addrlen);
  *addrlen = static_cast<socklen_t>(len);
  return 0;
}

// An address the kernel fills in: both pointers or neither, when optional.
int check_addr_out(const char *what, const sockaddr *addr, const socklen_t *addrlen, bool optional) {
  if (!addr && !addrlen && optional) return 0;
  if (!addr || !addrlen) return fail(-EINVAL, "%s: address and its length must be given together", what);
  return 0;
}

int check_iov(const char *what, const iovec *iov, int iovcnt) {
  if (iovcnt < 0 || iovcnt > IOV_MAX || (!iov && iovcnt > 0))
    return fail(-EINVAL, "%s: bad iovec count %d", what, iovcnt);
  return 0;
}

int check_how(unsigned how) {
  return how == FDK_SHUT_RD || how == FDK_SHUT_WR || how == FDK_SHUT_RDWR
             ? 0
             : fail(-EINVAL, "shutdown: unknown direction 0x%x", how);
}

int check_send(const fdk_fd *fd, const iovec *iov, int iovcnt, const sockaddr *dest, socklen_t *destlen,
               fdk_fd *const *fds, int nfds) {
  if (int r = check_fd("send_msg", fd)) return r;
  if (int r = check_iov("send_msg", iov, iovcnt)) return r;
  if (dest) {
    if (int r = check_addr_copied("send_msg", dest, destlen)) return r;
  } else if (*destlen) {
    return fail(-EINVAL, "send_msg: destination length without a destination");
  }
  if (nfds < 0 || nfds > fdk::kMaxPassFds || (nfds > 0 && !fds))
    return fail(-EINVAL, "send_msg: bad descriptor count %d (at most %d)", nfds, fdk::kMaxPassFds);
  for (int i = 0; i < nfds; ++i)
    if (!fds[i]) return fail(-EINVAL, "send_msg: descriptor %d to pass is NULL", i);
  return 0;
}

int check_recv(const fdk_fd *fd, const iovec *iov, int iovcnt, const fdk::RecvOut &out) {
  if (int r = check_fd("recv_msg", fd)) return r;
  if (int r = check_iov("recv_msg", iov, iovcnt)) return r;
  if (int r = check_addr_out("recv_msg", out.from, out.fromlen, true)) return r;
  if (!out.fds != !out.nfds) return fail(-EINVAL, "recv_msg: fds and nfds must be given together");
  if (out.nfds && *out.nfds < 0) return fail(-EINVAL, "recv_msg: negative room for descriptors");
  return 0;
}

int check_hints(const char *host, const char *service, unsigned flags) {
  constexpr unsigned known = FDK_AI_PASSIVE | FDK_AI_CANONNAME | FDK_AI_NUMERICHOST | FDK_AI_NUMERICSERV |
                             FDK_AI_ADDRCONFIG | FDK_AI_V4MAPPED | FDK_AI_ALL;
  if (flags & ~known) return fail(-EINVAL, "getaddrinfo: unknown flags 0x%x", flags);
  if (!host && !service) return fail(-EINVAL, "getaddrinfo: host and service are both NULL");
  return 0;
}

}  // namespace

extern "C" {

FDK_API int fdk_socket(fdk_fd **out, int domain, int type, int protocol) {
  if (!out) return fail(-EINVAL, "socket: out is NULL");
  return traced("socket", -1, nullptr, [&] { return fdk::socket(out, domain, type, protocol); });
}

FDK_API int fdk_socketpair(fdk_fd **a, fdk_fd **b, int domain, int type, int protocol) {
  if (!a || !b) return fail(-EINVAL, "socketpair: out is NULL");
  return traced("socketpair", -1, nullptr, [&] { return fdk::socketpair(a, b, domain, type, protocol); });
}

FDK_API int fdk_bind(fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen) {
  if (int r = check_fd("bind", fd)) return r;
  if (int r = check_addr_in("bind", addr, addrlen)) return r;
  return guard("bind", [&] { return fdk::bind(fd, addr, addrlen); });
}

FDK_API int fdk_listen(fdk_fd *fd, int backlog) {
  if (int r = check_fd("listen", fd)) return r;
  return guard("listen", [&] { return fdk::listen(fd, backlog); });
}

FDK_API int fdk_getsockname(fdk_fd *fd, struct sockaddr *addr, socklen_t *addrlen) {
  if (int r = check_fd("getsockname", fd)) return r;
  if (int r = check_addr_out("getsockname", addr, addrlen, false)) return r;
  return guard("getsockname", [&] { return fdk::getsockname(fd, addr, addrlen); });
}

FDK_API int fdk_getpeername(fdk_fd *fd, struct sockaddr *addr, socklen_t *addrlen) {
  if (int r = check_fd("getpeername", fd)) return r;
  if (int r = check_addr_out("getpeername", addr, addrlen, false)) return r;
  return guard("getpeername", [&] { return fdk::getpeername(fd, addr, addrlen); });
}

FDK_API int fdk_setsockopt_int(fdk_fd *fd, int level, int name, int value) {
  if (int r = check_fd("setsockopt", fd)) return r;
  return guard("setsockopt", [&] { return fdk::setsockopt_int(fd, level, name, value); });
}

FDK_API int fdk_getsockopt_int(fdk_fd *fd, int level, int name, int *value) {
  if (int r = check_fd("getsockopt", fd)) return r;
  if (!value) return fail(-EINVAL, "getsockopt: value is NULL");
  return guard("getsockopt", [&] { return fdk::getsockopt_int(fd, level, name, value); });
}

FDK_API int fdk_connect(fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen) {
  if (int r = check_fd("connect", fd)) return r;
  if (int r = check_addr_copied("connect", addr, &addrlen)) return r;
  return guard("connect", [&] { return fdk::connect(fd, addr, addrlen); });
}

FDK_API int fdk_connect_async(fdk_loop *loop, fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen,
                              fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_fd("connect", fd)) return r;
  if (int r = check_addr_copied("connect", addr, &addrlen)) return r;
  return guard_async("connect", loop, cb, [&] { return fdk::connect_async(loop, fd, addr, addrlen, cb, data, op); });
}

FDK_API int fdk_accept(fdk_fd **conn, fdk_fd *listener, struct sockaddr *addr, socklen_t *addrlen) {
  if (!conn) return fail(-EINVAL, "accept: conn is NULL");
  if (int r = check_fd("accept", listener)) return r;
  if (int r = check_addr_out("accept", addr, addrlen, true)) return r;
  return guard("accept", [&] { return fdk::accept(conn, listener, addr, addrlen); });
}

FDK_API int fdk_accept_async(fdk_loop *loop, fdk_fd *listener, struct sockaddr *addr, socklen_t *addrlen,
                             fdk_accept_cb cb, void *data, fdk_op **op) {
  if (int r = check_fd("accept", listener)) return r;
  if (int r = check_addr_out("accept", addr, addrlen, true)) return r;
  return guard_async("accept", loop, cb,
                     [&] { return fdk::accept_async(loop, listener, addr, addrlen, cb, data, op); });
}

FDK_API int fdk_shutdown(fdk_fd *fd, unsigned how) {
  if (int r = check_fd("shutdown", fd)) return r;
  if (int r = check_how(how)) return r;
  return guard("shutdown", [&] { return fdk::shutdown(fd, how); });
}

FDK_API int fdk_shutdown_async(fdk_loop *loop, fdk_fd *fd, unsigned how, fdk_result_cb cb, void *data,
                               fdk_op **op) {
  if (int r = check_fd("shutdown", fd)) return r;
  if (int r = check_how(how)) return r;
  return guard_async("shutdown", loop, cb, [&] { return fdk::shutdown_async(loop, fd, how, cb, data, op); });
}

FDK_API ssize_t fdk_send_msg(fdk_fd *fd, const struct iovec *iov, int iovcnt, const struct sockaddr *dest,
                             socklen_t destlen, fdk_fd *const *fds, int nfds) {
  if (int r = check_send(fd, iov, iovcnt, dest, &destlen, fds, nfds)) return r;
  return guard("send_msg", [&] { return fdk::send_msg(fd, iov, iovcnt, dest, destlen, fds, nfds); });
}

FDK_API int fdk_send_msg_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                               const struct sockaddr *dest, socklen_t destlen, fdk_fd *const *fds, int nfds,
                               fdk_result_cb cb, void *data, fdk_op **op) {
  if (int r = check_send(fd, iov, iovcnt, dest, &destlen, fds, nfds)) return r;
  return guard_async("send_msg", loop, cb, [&] {
    return fdk::send_msg_async(loop, fd, iov, iovcnt, dest, destlen, fds, nfds, cb, data, op);
  });
}

FDK_API ssize_t fdk_recv_msg(fdk_fd *fd, const struct iovec *iov, int iovcnt, struct sockaddr *from,
                             socklen_t *fromlen, fdk_fd **fds, int *nfds, unsigned *flags) {
  fdk::RecvOut out{from, fromlen, fds, nfds, flags};
  if (int r = check_recv(fd, iov, iovcnt, out)) return r;
  return guard("recv_msg", [&] { return fdk::recv_msg(fd, iov, iovcnt, out); });
}

FDK_API int fdk_recv_msg_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                               struct sockaddr *from, socklen_t *fromlen, fdk_fd **fds, int *nfds, unsigned *flags,
                               fdk_result_cb cb, void *data, fdk_op **op) {
  fdk::RecvOut out{from, fromlen, fds, nfds, flags};
  if (int r = check_recv(fd, iov, iovcnt, out)) return r;
  return guard_async("recv_msg", loop, cb,
                     [&] { return fdk::recv_msg_async(loop, fd, iov, iovcnt, out, cb, data, op); });
}

FDK_API int fdk_getaddrinfo(fdk_addrinfo **out, const char *host, const char *service, int family, int socktype,
                            int protocol, unsigned flags) {
  if (!out) return fail(-EINVAL, "getaddrinfo: out is NULL");
  if (int r = check_hints(host, service, flags)) return r;
  return traced("getaddrinfo", -1, host,
                [&] { return fdk::getaddrinfo(out, host, service, family, socktype, protocol, flags); });
}

FDK_API int fdk_getaddrinfo_async(fdk_loop *loop, const char *host, const char *service, int family,
                                  int socktype, int protocol, unsigned flags, fdk_addrinfo_cb cb, void *data,
                                  fdk_op **op) {
  if (int r = check_hints(host, service, flags)) return r;
  return guard_async("getaddrinfo", loop, cb, [&] {
    return fdk::getaddrinfo_async(loop, host, service, family, socktype, protocol, flags, cb, data, op);
  });
}

FDK_API size_t fdk_addrinfo_count(const fdk_addrinfo *ai) { return ai ? ai->entries.size() : 0; }

FDK_API int fdk_addrinfo_entry(const fdk_addrinfo *ai, size_t index, int *family, int *socktype, int *protocol,
                               const struct sockaddr **addr, socklen_t *addrlen) {
  if (!ai || index >= ai->entries.size())
    return fail(-EINVAL, "addrinfo_entry: no entry %zu", index);
  const fdk_addrinfo::Entry &e = ai->entries[index];
  if (family) *family = e.family;
  if (socktype) *socktype = e.socktype;
  if (protocol) *protocol = e.protocol;
  if (addr) *addr = reinterpret_cast<const sockaddr *>(&e.addr);
  if (addrlen) *addrlen = e.addrlen;
  return 0;
}

FDK_API const char *fdk_addrinfo_canonname(const fdk_addrinfo *ai) {
  return ai && ai->has_canonname ? ai->canonname.c_str() : nullptr;
}

FDK_API fdk_addrinfo *fdk_addrinfo_free(fdk_addrinfo *ai) {
  delete ai;
  return nullptr;
}

}  // extern "C"
