/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — reading, writing and the other calls on an open descriptor, and timers.
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
 *   the loop's io_uring, else on fdkit's worker pool (FDKIT_FS_ENGINE=auto|inline|uring|pool
 *   forces one). fsync, ftruncate, lseek and getrandom always run on the pool.
 * - Every call is one system call's worth: short reads and writes are reported as such,
 *   never completed by a hidden loop (except the ordered writes below, which exist for it,
 *   and a regular file whose data could be moved only in part inline: the next engine
 *   moves the rest, so a short count on a regular file still means its end).
 * - Writing to a pipe or socket whose reader has gone returns -EPIPE and never raises
 *   SIGPIPE in the process (the disposition is not changed).
 * - Buffers and the memory iovecs point to must stay valid until the callback; the iovec
 *   arrays themselves are copied.
 * - Results: bytes transferred, the new offset, or 0; negative errno on failure
 *   (-EBADF for a closed handle, -ECANCELED for a cancelled operation or one whose handle
 *   was closed while it waited), and the common errors of common.h (-EINVAL for a NULL
 *   handle, loop, callback or buffer of nonzero length, -ENOMEM). The op out-pointer of an
 *   async call may be NULL; the op belongs to fdkit (loop.h).
 * - A read (fdk_read_async, fdk_readv_async) started from the callback of a read of the
 *   same handle on the same loop may carry on in that read's op (it does unless a cancel
 *   of that op from another thread is on its way), which the call then returns again:
 *   from then on that op names the new read, and an fdk_op_cancel of it cancels the new
 *   read.
 */
#ifndef FDKIT_IO_H
#define FDKIT_IO_H

#include <sys/uio.h>

#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/**@{*/
/** Whence values of fdk_lseek (fdkit's own; mapped to SEEK_*). */
#define FDK_SEEK_SET 0
#define FDK_SEEK_CUR 1
#define FDK_SEEK_END 2
/**@}*/

/** Flags of fdk_getrandom (fdkit's own; mapped to GRND_*). */
#define FDK_RANDOM_NONBLOCK 0x1u /**< -EAGAIN instead of waiting for the entropy pool */

/** Flags of fdk_fsync. */
#define FDK_FSYNC_DATA 0x1u /**< fdatasync: skip metadata not needed to read the data back */

/**@{*/
/** Synchronous I/O, one system call's worth each (a short count is returned as it is); on
 * a non-blocking descriptor the call waits for readiness with poll(2), and EINTR is retried.
 * Returns the bytes transferred (0 at end of file for reads), or a negative errno: -EBADF
 * for a handle that is closing or closed, -EINVAL for bad arguments (a NULL handle or
 * buffer, a length above SSIZE_MAX, iovcnt outside 1..IOV_MAX, a negative offset), -EPIPE
 * for a write to a pipe or socket whose reader is gone (never SIGPIPE), and otherwise the
 * system call's own error (-EIO, -ENOSPC, -EISDIR...). Any thread. */
FDK_API ssize_t fdk_read(fdk_fd *fd, void *buf, size_t len);
FDK_API ssize_t fdk_write(fdk_fd *fd, const void *buf, size_t len);
FDK_API ssize_t fdk_readv(fdk_fd *fd, const struct iovec *iov, int iovcnt);
FDK_API ssize_t fdk_writev(fdk_fd *fd, const struct iovec *iov, int iovcnt);
FDK_API ssize_t fdk_preadv(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset);
FDK_API ssize_t fdk_pwritev(fdk_fd *fd, const struct iovec *iov, int iovcnt, int64_t offset);
/**@}*/
/** Moves the file position (whence: FDK_SEEK_*); returns the new position. -EINVAL for an
 * unknown whence or a resulting negative position, -ESPIPE on a pipe or socket. */
FDK_API int64_t fdk_lseek(fdk_fd *fd, int64_t offset, int whence);
/** Flushes the file to its device (flags: FDK_FSYNC_DATA for fdatasync). -EINVAL for
 * unknown flags or a descriptor that cannot be synced (a pipe, a socket). */
FDK_API int fdk_fsync(fdk_fd *fd, unsigned flags);
/** Sets the file's size. -EINVAL for a negative length or a descriptor that is not a
 * regular file open for writing. */
FDK_API int fdk_ftruncate(fdk_fd *fd, int64_t length);
/** Fills buf with random bytes; returns the count (at most 33554431 per call). -EINVAL for
 * unknown flags, -EAGAIN with FDK_RANDOM_NONBLOCK before the entropy pool is ready. */
FDK_API ssize_t fdk_getrandom(void *buf, size_t len, unsigned flags);

/**@{*/
/** Asynchronous forms of the calls above: the call is tried at once and, on EAGAIN,
 * retried when the loop reports readiness; a descriptor the loop cannot poll (a regular
 * file) runs on the engines above, the worker pool last. The callback gets what the synchronous form would
 * return, or -ECANCELED when the op was cancelled or the handle closed. The call itself
 * returns 0, or a negative errno and then the callback never runs: the synchronous form's
 * -EINVAL checks, -EINVAL for a NULL loop or cb, -EBADF for a closed handle.
 * Buffers must stay valid until the callback; iovec arrays are copied. Loop thread only. */
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
/**@}*/

/**@{*/
/** Ordered, complete writes (what libuv's uv_write gives a stream). The write completes
 * only when all len bytes (all the iovecs' bytes) are written, with that total, or with a
 * negative errno. Writes of one handle on one loop queue in submission order and never
 * interleave: only the oldest runs, the next starts when it is done. The plain
 * fdk_write_async / fdk_writev_async calls keep reporting short writes.
 * - A write that ends before all its bytes went out (an error, the handle closed, a
 *   cancel once its first bytes were written) ends every write queued behind it with the
 *   same result, since their bytes would no longer follow in order. Closing the handle
 *   completes each queued write with -ECANCELED, once.
 * - fdk_op_cancel on a write that has not started writing removes it alone from the queue.
 * - The call checks its arguments as fdk_write_async / fdk_writev_async do (-EINVAL). If
 *   the handle is closed and nothing is queued, the call fails (-EBADF) and the
 *   callback never runs; otherwise a later failure comes through the callback.
 * - Buffers must stay valid until the callback; the iovec array is copied.
 * Loop thread only. */
FDK_API int fdk_write_all_async(fdk_loop *loop, fdk_fd *fd, const void *buf, size_t len, fdk_result_cb cb,
                                void *data, fdk_op **op);
FDK_API int fdk_writev_all_async(fdk_loop *loop, fdk_fd *fd, const struct iovec *iov, int iovcnt,
                                 fdk_result_cb cb, void *data, fdk_op **op);
/**@}*/

/** Bytes queued on fd by fdk_write_all_async / fdk_writev_all_async on this loop and not
 * yet written (0 when none): a server stops producing while it is above its own limit
 * (back-pressure, like uv_stream_get_write_queue_size). Loop thread only. Only the common
 * errors (-EINVAL for a NULL loop or fd). */
FDK_API int64_t fdk_write_queue_size(fdk_loop *loop, fdk_fd *fd);

/** Nanoseconds on the monotonic clock. Never fails. */
FDK_API int64_t fdk_now_ns(void);

/** Completes with 0 once fdk_now_ns() >= deadline_ns (never earlier), or -ECANCELED. A deadline
 * already past, however far back (INT64_MIN included), completes at the next turn of the loop.
 * The call fails only with the common errors (-EINVAL for a NULL loop or cb). */
FDK_API int fdk_sleep_until(fdk_loop *loop, int64_t deadline_ns, fdk_result_cb cb, void *data, fdk_op **op);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_IO_H */
