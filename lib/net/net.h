/* SPDX-License-Identifier: MIT */
// Sockets: the bodies of the fdkit/net.h entry points (arguments already checked by the
// boundary) and the pieces the socket and message files share.
#pragma once

#include <sys/socket.h>

#include <string>
#include <vector>

#include "fdkit/net.h"

struct fdk_addrinfo {
  struct Entry {
    int family;
    int socktype;
    int protocol;
    socklen_t addrlen;
    sockaddr_storage addr;
  };
  std::vector<Entry> entries;
  std::string canonname;
  bool has_canonname = false;
};

namespace fdk {

// The most descriptors one message carries (Linux's SCM_MAX_FD).
inline constexpr int kMaxPassFds = 253;

// The completion of an asynchronous call whose result is one number.
struct ResultCallback {
  fdk_result_cb cb = nullptr;
  void *data = nullptr;
  void deliver(int64_t r) const { cb(r, data); }
  void discard(int64_t) const {}
};

// The bytes of addr that connect and sendmsg pass on (and fdkit copies): addrlen, cut to
// the size of the family's address for AF_INET and AF_INET6, so an addrlen larger than
// the caller's buffer is never read past the address. -EINVAL for a length the family
// cannot have (shorter than a family, longer than sockaddr_un or sockaddr_storage).
int address_length(const sockaddr *addr, socklen_t addrlen);

int socket(fdk_fd **out, int domain, int type, int protocol);
int socketpair(fdk_fd **a, fdk_fd **b, int domain, int type, int protocol);
int bind(fdk_fd *fd, const sockaddr *addr, socklen_t addrlen);
int listen(fdk_fd *fd, int backlog);
int getsockname(fdk_fd *fd, sockaddr *addr, socklen_t *addrlen);
int getpeername(fdk_fd *fd, sockaddr *addr, socklen_t *addrlen);
int setsockopt_int(fdk_fd *fd, int level, int name, int value);
int getsockopt_int(fdk_fd *fd, int level, int name, int *value);
int connect(fdk_fd *fd, const sockaddr *addr, socklen_t addrlen);
int connect_async(fdk_loop *loop, fdk_fd *fd, const sockaddr *addr, socklen_t addrlen, fdk_result_cb cb, void *data,
                  fdk_op **op);
int accept(fdk_fd **conn, fdk_fd *listener, sockaddr *addr, socklen_t *addrlen);
int accept_async(fdk_loop *loop, fdk_fd *listener, sockaddr *addr, socklen_t *addrlen, fdk_accept_cb cb, void *data,
                 fdk_op **op);
int shutdown(fdk_fd *fd, unsigned how);
int shutdown_async(fdk_loop *loop, fdk_fd *fd, unsigned how, fdk_result_cb cb, void *data, fdk_op **op);

// Where a received message's extras go: all optional (see fdk_recv_msg).
struct RecvOut {
  sockaddr *from = nullptr;
  socklen_t *fromlen = nullptr;
  fdk_fd **fds = nullptr;
  int *nfds = nullptr;
  unsigned *flags = nullptr;
};

ssize_t send_msg(fdk_fd *fd, const iovec *iov, int iovcnt, const sockaddr *dest, socklen_t destlen,
                 fdk_fd *const *fds, int nfds);
int send_msg_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, const sockaddr *dest, socklen_t destlen,
                   fdk_fd *const *fds, int nfds, fdk_result_cb cb, void *data, fdk_op **op);
ssize_t recv_msg(fdk_fd *fd, const iovec *iov, int iovcnt, const RecvOut &out);
int recv_msg_async(fdk_loop *loop, fdk_fd *fd, const iovec *iov, int iovcnt, const RecvOut &out, fdk_result_cb cb,
                   void *data, fdk_op **op);

int getaddrinfo(fdk_addrinfo **out, const char *host, const char *service, int family, int socktype, int protocol,
                unsigned flags);
int getaddrinfo_async(fdk_loop *loop, const char *host, const char *service, int family, int socktype, int protocol,
                      unsigned flags, fdk_addrinfo_cb cb, void *data, fdk_op **op);

}  // namespace fdk
