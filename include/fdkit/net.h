/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — sockets: create, bind, listen, connect, accept, shut down, messages that carry
 * descriptors, and name resolution.
 *
 * Values the operating system defines pass through as the platform defines them: socket
 * domains (AF_*), types (SOCK_*), protocols, option levels and names (SOL_SOCKET, SO_*,
 * IPPROTO_*, TCP_*...) and addresses (struct sockaddr_in, _in6, _un). fdkit's own flags
 * (FDK_SHUT_*, FDK_MSG_*, FDK_AI_*) have fdkit's values.
 *
 * Sockets fdkit creates (fdk_socket, fdk_socketpair, fdk_accept) are close-on-exec and
 * non-blocking handles (fdkit/fd.h). The calls below also work on sockets adopted with
 * fdk_fd_adopt, blocking or not.
 *
 * Synchronous and asynchronous forms follow fdkit/io.h: a synchronous call blocks the
 * calling thread until done (poll(2) on a non-blocking socket) and may be made from any
 * thread; an asynchronous call tries at once, waits for readiness on the loop, and
 * completes from the loop, never inside the call. Buffers, iovec targets, address buffers
 * and the other out-pointers of an asynchronous call must stay valid until its callback;
 * iovec arrays, destination addresses and descriptor lists are copied by the call. Results
 * are negative errno values on failure, with a detail in fdk_last_error().
 *
 * Semantics:
 * - Sends use MSG_NOSIGNAL: a gone peer gives -EPIPE or -ECONNRESET, never SIGPIPE.
 * - Addresses fdkit copies (connect, and a send's destination) are read only as far as their
 *   family needs: an addrlen larger than the address (up to sizeof(struct sockaddr_storage))
 *   is cut to sizeof(struct sockaddr_in) or _in6; a length no address of the family has
 *   (shorter than sa_family_t, longer than struct sockaddr_un for AF_UNIX) is -EINVAL.
 * - A failed connect reports the real error (-ECONNREFUSED, -ENOENT for a missing unix
 *   path, -ETIMEDOUT...); the handle stays usable. A non-blocking AF_UNIX connect to a
 *   listener whose backlog is full returns -EAGAIN at once (the socket polls writable, so
 *   waiting would spin): try again later.
 * - Received descriptors arrive close-on-exec as new handles whose blocking mode is read
 *   from each descriptor. When more arrive than the caller has room for, the bytes are
 *   still returned, every descriptor that did arrive is closed, and FDK_MSG_CTRUNC is set.
 * - fdk_op_cancel on a pending accept, connect or receive completes it with -ECANCELED and
 *   leaves the socket usable (a cancelled connect goes on in the kernel: a later
 *   fdk_connect to the same address waits for it to finish).
 *
 * Ownership: handles returned through out-pointers or callbacks (fdk_socket, fdk_accept,
 * received descriptors) carry one reference each, which the caller owns. An fdk_addrinfo
 * belongs to the caller and is freed with fdk_addrinfo_free; it is never modified, so any
 * number of threads may read it at once.
 *
 * Threads: every synchronous call may be made from any thread; an asynchronous call
 * belongs to its loop's thread.
 *
 * Errors every call here may return, besides the system call's own (passed through) and
 * the common ones (common.h: -EINVAL for a NULL handle, loop, callback or out-pointer,
 * -ENOMEM): -EBADF for a handle that is closing or closed; -EINVAL for an address that is
 * NULL, empty or longer than struct sockaddr_storage, an address buffer given without its
 * length (or the reverse), or iovcnt outside 0..IOV_MAX (iov NULL with iovcnt > 0). An
 * asynchronous call checks its arguments as its synchronous form does and fails with the
 * same errors before anything starts (its callback then never runs); failures after that
 * reach the callback, -ECANCELED when cancelled or when the handle is closed meanwhile.
 */
#ifndef FDKIT_NET_H
#define FDKIT_NET_H

#include <sys/socket.h>
#include <sys/uio.h>

#include "fdkit/fd.h"
#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Directions of fdk_shutdown (fdkit's own values; mapped to SHUT_*). */
#define FDK_SHUT_RD 0x1u   /**< no more receiving */
#define FDK_SHUT_WR 0x2u   /**< no more sending: the peer reads end of stream */
#define FDK_SHUT_RDWR 0x3u /**< both */

/** Output flags of fdk_recv_msg. */
#define FDK_MSG_TRUNC 0x1u  /**< a datagram was longer than the buffers; the rest is lost */
#define FDK_MSG_CTRUNC 0x2u /**< descriptors came that did not fit; all that arrived were
                               closed (the bytes are returned all the same) */

/** Creates a socket (socket(2) arguments as the platform defines them), close-on-exec and
 * non-blocking; the caller owns its reference. socket(2)'s errors pass through
 * (-EAFNOSUPPORT, -EPROTONOSUPPORT, -EINVAL, -EMFILE). */
FDK_API int fdk_socket(fdk_fd **out, int domain, int type, int protocol);

/** Creates a connected pair (socketpair(2)), both close-on-exec and non-blocking. Both
 * out-pointers are left untouched on failure; on success the caller owns a reference to
 * each. socketpair(2)'s errors pass through (-EOPNOTSUPP for a domain without pairs). */
FDK_API int fdk_socketpair(fdk_fd **a, fdk_fd **b, int domain, int type, int protocol);

/** bind(2): -EADDRINUSE when the address (or a unix socket's path) is taken, -EACCES,
 * -EINVAL for a NULL address or a socket already bound. */
FDK_API int fdk_bind(fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen);
/** listen(2); backlog is capped by the kernel (somaxconn). Only the header's errors and
 * listen's own (-EOPNOTSUPP for a socket type that cannot listen). */
FDK_API int fdk_listen(fdk_fd *fd, int backlog);

/**@{*/
/** The local (getsockname) or peer (getpeername) address. *addrlen: the buffer's size on
 * entry, the address's size on return (larger than the buffer when it was cut short).
 * -ENOTCONN from getpeername on an unconnected socket. */
FDK_API int fdk_getsockname(fdk_fd *fd, struct sockaddr *addr, socklen_t *addrlen);
FDK_API int fdk_getpeername(fdk_fd *fd, struct sockaddr *addr, socklen_t *addrlen);
/**@}*/

/**@{*/
/** Options whose value is an int (SO_REUSEADDR, SO_RCVBUF, TCP_NODELAY, IPV6_V6ONLY...).
 * -ENOPROTOOPT for an option the level does not know; -EINVAL for a NULL value. */
FDK_API int fdk_setsockopt_int(fdk_fd *fd, int level, int name, int value);
FDK_API int fdk_getsockopt_int(fdk_fd *fd, int level, int name, int *value);
/**@}*/

/** Connects to addr: 0, or the error the connection failed with (see Semantics above:
 * -ECONNREFUSED, -ETIMEDOUT, -EAGAIN for a full AF_UNIX backlog; -EINVAL for an address
 * length its family does not have). On a non-blocking socket the synchronous form waits
 * for the connection with poll(2). */
FDK_API int fdk_connect(fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen);
/** addr is copied by the call. On a blocking-mode socket the asynchronous connect runs on
 * the worker pool (connect(2) cannot be told not to block). */
FDK_API int fdk_connect_async(fdk_loop *loop, fdk_fd *fd, const struct sockaddr *addr, socklen_t addrlen,
                              fdk_result_cb cb, void *data, fdk_op **op);

/** Accepts a connection: *conn is a new close-on-exec, non-blocking handle. addr and
 * addrlen (both NULL, or both set) receive the peer's address as with getpeername. The
 * caller owns the new handle's reference. accept4's errors pass through (-EINVAL for a
 * socket that is not listening, -EMFILE...). */
FDK_API int fdk_accept(fdk_fd **conn, fdk_fd *listener, struct sockaddr *addr, socklen_t *addrlen);

/** Completion of fdk_accept_async: result 0 with conn (the caller owns its reference), or
 * a negative errno with conn NULL. */
typedef void (*fdk_accept_cb)(int result, fdk_fd *conn, void *data);

/** addr and *addrlen are written before the callback runs. A connection accepted by a
 * cancelled operation is closed, never leaked. On a blocking-mode listener shared with
 * another process that takes the connection between readiness and accept4, the call
 * blocks until the next connection. */
FDK_API int fdk_accept_async(fdk_loop *loop, fdk_fd *listener, struct sockaddr *addr, socklen_t *addrlen,
                             fdk_accept_cb cb, void *data, fdk_op **op);

/**@{*/
/** Shuts down one or both directions: FDK_SHUT_RD, FDK_SHUT_WR or FDK_SHUT_RDWR. -EINVAL
 * for any other value, -ENOTCONN on an unconnected socket. */
FDK_API int fdk_shutdown(fdk_fd *fd, unsigned how);
FDK_API int fdk_shutdown_async(fdk_loop *loop, fdk_fd *fd, unsigned how, fdk_result_cb cb, void *data,
                               fdk_op **op);
/**@}*/

/** Sends one message: iovcnt buffers (0 allowed, with iov NULL), to dest when given (an
 * unconnected datagram socket; NULL and 0 otherwise), with nfds descriptors passed along
 * (SCM_RIGHTS; fds NULL and nfds 0 for none; at most 253 on Linux). Each handle in fds is
 * used for the length of the call (-EBADF if one is closed); the caller keeps its
 * references. Returns the bytes sent (a stream socket may take fewer than offered).
 * -EINVAL for nfds outside 0..253, fds NULL with nfds > 0, a NULL entry in fds, a destlen
 * without dest, or a dest length its family does not have; -EPIPE or -ECONNRESET when the
 * peer is gone. */
FDK_API ssize_t fdk_send_msg(fdk_fd *fd, const struct iovec *iov, int iovcnt, const struct sockaddr *dest,
                             socklen_t destlen, fdk_fd *const *fds, int nfds);
/** The asynchronous form pins each handle in fds until its callback (fd.h); each is used
 * only for the length of the send, so a closed one fails it with -EBADF. */
FDK_API int fdk_send_msg_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                               const struct sockaddr *dest, socklen_t destlen, fdk_fd *const *fds, int nfds,
                               fdk_result_cb cb, void *data, fdk_op **op);

/** Receives one message into iovcnt buffers (0 allowed, with iov NULL); returns the bytes
 * received (0 at end of stream).
 * - from, fromlen (both NULL, or both set): the sender's address, as with getpeername.
 * - fds, nfds (both NULL, or both set): *nfds is the room in fds on entry and the number
 *   of handles stored on return; each is a new handle the caller owns.
 * - flags (may be NULL): FDK_MSG_TRUNC and FDK_MSG_CTRUNC bits.
 * The out-parameters are written only when the call succeeds. Control messages other than
 * descriptors (credentials with SO_PASSCRED...) are dropped. -EINVAL for fds without nfds
 * (or the reverse) or a negative *nfds. */
FDK_API ssize_t fdk_recv_msg(fdk_fd *fd, const struct iovec *iov, int iovcnt, struct sockaddr *from,
                             socklen_t *fromlen, fdk_fd **fds, int *nfds, unsigned *flags);
/** The out-parameters are written before the callback runs; descriptors received by a
 * cancelled operation are closed, never leaked. */
FDK_API int fdk_recv_msg_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                               struct sockaddr *from, socklen_t *fromlen, fdk_fd **fds, int *nfds, unsigned *flags,
                               fdk_result_cb cb, void *data, fdk_op **op);

/** Flags of fdk_getaddrinfo (fdkit's own values; mapped to AI_*). */
#define FDK_AI_PASSIVE 0x01u     /**< host NULL means the wildcard address (for bind) */
#define FDK_AI_CANONNAME 0x02u   /**< look up the canonical name (fdk_addrinfo_canonname) */
#define FDK_AI_NUMERICHOST 0x04u /**< host must be a numeric address: no lookup at all */
#define FDK_AI_NUMERICSERV 0x08u /**< service must be a port number */
#define FDK_AI_ADDRCONFIG 0x10u  /**< only families the host has an address of */
#define FDK_AI_V4MAPPED 0x20u    /**< with AF_INET6: IPv4 addresses as IPv4-mapped IPv6 ones */
#define FDK_AI_ALL 0x40u         /**< with FDK_AI_V4MAPPED: IPv6 and mapped IPv4 ones */

/** Resolves host and service (either may be NULL, not both) to socket addresses, filtered
 * by family (AF_UNSPEC for any), socktype and protocol (0 for any). Failures of the
 * resolver map to errno values, the resolver's own text in fdk_last_error():
 * -ENOENT (no such name or service, or no address of the family), -EAGAIN (temporary
 * failure, try later), -EIO (permanent failure), -EAFNOSUPPORT (family),
 * -ESOCKTNOSUPPORT (socktype), -EINVAL (flags), -ENOMEM, -EOVERFLOW, or the errno of a
 * failed system call. fdkit itself returns -EINVAL for unknown flags or host and service
 * both NULL. *out belongs to the caller (fdk_addrinfo_free). */
FDK_API int fdk_getaddrinfo(fdk_addrinfo **out, const char *host, const char *service, int family, int socktype,
                            int protocol, unsigned flags);

/** Completion of fdk_getaddrinfo_async: result 0 with res (the caller frees it), or a
 * negative errno with res NULL. */
typedef void (*fdk_addrinfo_cb)(int result, fdk_addrinfo *res, void *data);

/** Runs the resolver on libuv's worker pool (through uv_getaddrinfo); host and service are
 * copied. Lookups belong to libuv's slow-I/O class: together they hold at most half of the
 * pool's threads ((UV_THREADPOOL_SIZE + 1) / 2), so a slow resolver never starves file I/O
 * and the other work queued there. libuv converts a non-ASCII host name to its IDNA
 * (punycode) form first. The call fails with fdk_getaddrinfo's argument errors; the
 * resolver's errors, and -ECANCELED, come through the callback. */
FDK_API int fdk_getaddrinfo_async(fdk_loop *loop, const char *host, const char *service, int family,
                                  int socktype, int protocol, unsigned flags, fdk_addrinfo_cb cb, void *data,
                                  fdk_op **op);

/** Number of addresses (at least 1; 0 for NULL). Never fails. */
FDK_API size_t fdk_addrinfo_count(const fdk_addrinfo *ai);
/** Entry index (0 .. count-1), in the resolver's order: any out-pointer may be NULL;
 * *addr points into ai and lives as long as it. -EINVAL for an index out of range or a
 * NULL ai. */
FDK_API int fdk_addrinfo_entry(const fdk_addrinfo *ai, size_t index, int *family, int *socktype, int *protocol,
                               const struct sockaddr **addr, socklen_t *addrlen);
/** The canonical name when FDK_AI_CANONNAME was given, else NULL (also for a NULL ai);
 * lives as long as ai. Never fails. */
FDK_API const char *fdk_addrinfo_canonname(const fdk_addrinfo *ai);
/** Frees what fdk_getaddrinfo returned; pointers into it become invalid. Accepts NULL,
 * returns NULL. */
FDK_API fdk_addrinfo *fdk_addrinfo_free(fdk_addrinfo *ai);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_NET_H */
