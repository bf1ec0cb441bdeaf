/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — descriptor handles that are safe to close while other threads use them.
 *
 * An fdk_fd wraps one descriptor. Every fdkit operation *uses* the descriptor for the
 * length of its system call; fdk_fd_close marks the handle closing, operations already
 * inside a system call finish normally, and the descriptor is closed when the last of
 * them ends. Every later use fails with -EBADF. So a descriptor number is never closed,
 * and reused by the kernel, under a running operation.
 *
 * Ownership: a handle is reference counted: a reference keeps the descriptor open. A new
 * handle has one reference; fdk_fd_ref adds one, fdk_fd_unref drops one, and dropping the
 * last closes the descriptor if nobody did. Where fdkit only *pins* a handle, it keeps
 * the handle's memory valid but not the descriptor open: once the caller closes it or
 * drops the last reference, calls on the pinned handle fail with -EBADF. Typical use: fdk_fd_close(fd) when you want
 * the close's result, then fdk_fd_unref(fd); or just fdk_fd_unref(fd).
 *
 * Threads: every call here may be made from any thread. A close from a thread other than
 * the loop's posts to the loops that watch the descriptor and the descriptor is closed
 * once they stopped watching it (when they next run). Pending readiness waits on a closed
 * handle complete with -ECANCELED.
 *
 * Descriptors fdkit creates are close-on-exec; pipes and sockets are non-blocking.
 *
 * Errors: besides the common ones (common.h: -EINVAL for a NULL handle or out-pointer,
 * -ENOMEM), every call taking a handle returns -EBADF once the handle is closing, closed
 * or released.
 */
#ifndef FDKIT_FD_H
#define FDKIT_FD_H

#include "fdkit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Flags of fdk_fd_adopt. */
#define FDK_FD_BLOCKING 0x1u /**< the descriptor is in blocking mode and fdkit must leave it
                                so (its open file description may be shared, like an
                                inherited stdout); async I/O makes only calls that cannot
                                block for long: a read tries preadv2 with RWF_NOWAIT, other
                                calls wait for readiness first. Without this
                                flag the mode is read from the descriptor at the first use
                                that needs it (an asynchronous write, a wait's
                                registration, or fdk_fd_is_blocking; an asynchronous read
                                that finds data only where the kernel refuses preadv2
                                with RWF_NOWAIT for it). */
#define FDK_FD_BORROW 0x2u   /**< fdkit never closes it: close and the last unref only stop
                                fdkit from using it */

/** Takes ownership of raw (unless FDK_FD_BORROW). On failure the caller still owns raw.
 * The handle is in blocking mode when FDK_FD_BLOCKING is given or the descriptor lacks
 * O_NONBLOCK when fdkit first needs to know; fdkit never changes a descriptor's mode. Makes
 * no system call: a number that is not open is adopted, and its first use answers -EBADF.
 * -EBADF for a negative number, -EINVAL for unknown flags. */
FDK_API int fdk_fd_adopt(fdk_fd **out, int raw, unsigned flags);

/** The descriptor number, or -EBADF once closing. Calling your own system call on the
 * number this returns reintroduces the reuse race fdkit exists to prevent: another
 * thread may close the handle and the kernel hand the number to a new file. Prefer
 * fdk_fd_use. */
FDK_API int fdk_fd_raw(fdk_fd *fd);

/** Marks the descriptor in use and stores its number in *raw, so the caller can make its
 * own system call with the same protection as fdkit's operations. Must be paired with
 * fdk_fd_unuse. -EBADF once the handle is closing. */
FDK_API int fdk_fd_use(fdk_fd *fd, int *raw);
/** Ends a use begun by a successful fdk_fd_use; a close requested meanwhile happens now
 * if this was the last use. Never fails; ignores NULL. */
FDK_API void fdk_fd_unuse(fdk_fd *fd);

/** Closes the descriptor, now or when the last running operation ends. Returns 0 (also
 * when the close is deferred), the close's error (such as -EIO) when it ran now, or
 * -EBADF when the handle was already closed or released. Does not drop a reference. */
FDK_API int fdk_fd_close(fdk_fd *fd);

/** Adds a reference (the descriptor stays open until the last is dropped, or a close);
 * returns fd. Never fails; returns NULL for
 * NULL. */
FDK_API fdk_fd *fdk_fd_ref(fdk_fd *fd);
/** Drops a reference; the last one closes the descriptor if nobody did. Accepts NULL,
 * returns NULL. */
FDK_API fdk_fd *fdk_fd_unref(fdk_fd *fd);

/** Waits until no operation uses the descriptor, then hands it back unclosed in *raw,
 * owned by the caller from then on; the handle then behaves as closed (the caller still
 * drops its reference with fdk_fd_unref). Loops that watch the descriptor must run for the
 * wait to end (a release from the loop's own thread stops its watch at once).
 * -EBADF when already closed or released. */
FDK_API int fdk_fd_release(fdk_fd *fd, int *raw);

/** 1 if the handle is in blocking mode, 0 if not (read from the descriptor the first time
 * when adopt was not told), -EBADF once closing or when the number is not open. */
FDK_API int fdk_fd_is_blocking(fdk_fd *fd);

/** Creates a pipe: both ends close-on-exec and non-blocking. The caller owns one
 * reference to each end. pipe2's errors pass through (-EMFILE, -ENFILE); on failure
 * neither out-pointer is written. */
FDK_API int fdk_pipe(fdk_fd **read_end, fdk_fd **write_end);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_FD_H */
