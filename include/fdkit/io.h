/** fdkit — reading, writing and the other calls on an open descriptor, and timers.
 *
 * Each operation has a synchronous form (fdk_read) and an asynchronous one
 * (fdk_read_async(loop, ..., cb, data, &op)):
 * - Synchronous forms block the calling thread until done and may be called from any
 *   thread. On a non-blocking descriptor they wait for readiness with poll(2).
 * - Asynchronous forms try the system call at once; on EAGAIN they wait for readiness
 *   on the loop and retry. EINTR is retried. A descriptor adopted with FDK_FD_BLOCKING is
 *   waited on first and then read or written with a call that cannot block for long
 *   (sockets: MSG_DONTWAIT; pipes and others: at most PIPE_BUF bytes per write).
 * - Descriptors epoll refuses (regular files, /dev/null...) never block the loop: their
 *   reads and writes run inline where the kernel promises not to wait (RWF_NOWAIT), else on
 *   the loop's io_uring, else on libuv's worker pool (FDKIT_FS_ENGINE=auto|inline|uring|pool
 *   forces one). fsync, ftruncate, lseek and getrandom always run on the pool.
 * - Every call is one system call's worth: short reads and writes are reported as such,
 *   never completed by a hidden loop; except that when only part of a file's data could
 *   be moved inline, the next engine moves the rest, so a short count on a regular file
 *   still means its end.
 * - Writing to a pipe or socket whose reader has gone returns -EPIPE and never raises
 *   SIGPIPE in the process (the disposition is not changed).
 * - Buffers and the memory iovecs point to must stay valid until the callback; the iovec
 *   arrays themselves are copied.
 * - Results: bytes transferred, the new offset, or 0; negative errno on failure
 *   (-EBADF for a closed handle, -ECANCELED for a cancelled operation or one whose handle
 *   was closed while it waited).
 */
#ifndef FDKIT_IO_H
#define FDKIT_IO_H

#include <sys/uio.h>

#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Whence values of fdk_lseek (fdkit's own; mapped to SEEK_*). */
#define FDK_SEEK_SET 0
#define FDK_SEEK_CUR 1
#define FDK_SEEK_END 2

/** Flags of fdk_getrandom (fdkit's own; mapped to GRND_*). */
#define FDK_RANDOM_NONBLOCK 0x1u /**< -EAGAIN instead of waiting for the entropy pool */

/** Flags of fdk_fsync. */
#define FDK_FSYNC_DATA 0x1u /**< fdatasync: skip metadata not needed to read the data back */

FDK_API ssize_t fdk_read(fdk_fd *fd, void *buf, size_t len);
FDK_API ssize_t fdk_write(fdk_fd *fd, const void *buf, size_t len);
FDK_API ssize_t fdk_readv(fdk_fd *fd, const struct iovec *iov, int iovcnt);
FDK_API ssize_t fdk_writev(fdk_fd *fd, const struct iovec *iov, int iovcnt);
FDK_API ssize_t fdk_preadv(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset);
FDK_API ssize_t fdk_pwritev(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset);
FDK_API int64_t fdk_lseek(fdk_fd *fd, int64_t offset, int whence);
FDK_API int fdk_fsync(fdk_fd *fd, unsigned flags);
FDK_API int fdk_ftruncate(fdk_fd *fd, int64_t length);
/** Fills buf with random bytes; returns the count (at most 33554431 per call). */
FDK_API ssize_t fdk_getrandom(void *buf, size_t len, unsigned flags);

FDK_API int fdk_read_async(fdk_loop *loop, fdk_fd *fd, void *buf, size_t len, fdk_result_cb cb, void *data,
                           fdk_op **op);
FDK_API int fdk_write_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb,
                            void *data, fdk_op **op);
FDK_API int fdk_readv_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, fdk_result_cb cb,
                            void *data, fdk_op **op);
FDK_API int fdk_writev_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, fdk_result_cb cb,
                             void *data, fdk_op **op);
FDK_API int fdk_preadv_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset,
                             fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_pwritev_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset,
                              fdk_result_cb cb, void *data, fdk_op **op);
FDK_API int fdk_lseek_async(fdk_loop *loop, fdk_fd *fd, int64_t offset, int whence, fdk_result_cb cb, void *data,
                            fdk_op **op);
FDK_API int fdk_fsync_async(fdk_loop *loop, fdk_fd *fd, unsigned flags, fdk_result_cb cb, void *data,
                            fdk_op **op);
FDK_API int fdk_ftruncate_async(fdk_loop *loop, fdk_fd *fd, int64_t length, fdk_result_cb cb, void *data,
                                fdk_op **op);
FDK_API int fdk_getrandom_async(fdk_loop *loop, void *buf, size_t len, unsigned flags, fdk_result_cb cb,
                                void *data, fdk_op **op);

/** Nanoseconds on the monotonic clock. */
FDK_API int64_t fdk_now_ns(void);

/** Completes with 0 once fdk_now_ns() >= deadline_ns (never earlier), or -ECANCELED. */
FDK_API int fdk_sleep_until(fdk_loop *loop, int64_t deadline_ns, fdk_result_cb cb, void *data, fdk_op **op);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_IO_H */
