/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — the event loop and asynchronous operations.
 *
 * Ownership: an fdk_loop is owned by whoever created it and freed with fdk_loop_free.
 * An fdk_op belongs to fdkit: it is valid from the return of the *_async call that
 * created it until its callback returns, and is never freed by the caller.
 *
 * Threads: a loop and the async calls made on it belong to the one thread that runs it.
 * From any other thread only fdk_loop_post, fdk_op_cancel (and, in other headers,
 * fdk_fd_ref/unref/close, fdk_process_signal, fdk_trace_set) may be called, and only while
 * the loop is known not to be freed. A thread that cannot know that posts through an
 * fdk_loop_remote instead (below).
 *
 * Callbacks: a callback never runs inside the call that started its operation; it runs
 * once, from the loop. When the starting call fails (negative return) the callback never
 * runs. Before a callback that reports a failure runs, its detail is set as the loop
 * thread's fdk_last_error().
 *
 * After fork(), a child process must not use its parent's loops (their descriptors, the
 * epoll set among them, are shared with the parent): fdk_loop_run, fdk_loop_post,
 * fdk_loop_backend_fd / _timeout, fdk_spawn and every asynchronous call (the _async calls
 * and fdk_sleep_until) with such a loop answer -ECHILD in the child and act on none of
 * those descriptors; fdk_loop_free there frees fdkit's memory without libuv's teardown
 * (which would act on the parent's descriptors). fdkit does not support re-using a loop in
 * the child (uv_loop_fork); the fork is noticed by a pthread_atfork handler, so a raw fork
 * system call bypasses the check.
 *
 * Errors: besides the common ones (common.h: -EINVAL for a NULL loop, op, function or
 * out-pointer, -ENOMEM), the calls named above return -ECHILD in a forked child. An
 * operation that fdk_op_cancel or fdk_loop_free stops completes with -ECANCELED.
 */
#ifndef FDKIT_LOOP_H
#define FDKIT_LOOP_H

#include "fdkit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Modes of fdk_loop_run (values match nothing in libuv on purpose: they are fdkit's). */
#define FDK_RUN_DEFAULT 0 /**< run until no operation is pending or fdk_loop_stop */
#define FDK_RUN_ONCE 1    /**< wait for events once, run their callbacks; with 8 or more pool
                              calls in flight the wait lasts at most 1 ms and may end with
                              no callback run (their results gather); on a loop libuv waits
                              for, an internal wake-up may end it too (doc/loop.md) */
#define FDK_RUN_NOWAIT 2  /**< run what is ready without waiting */

/** Completion callback shared by operations whose result is a single number: a byte
 * count, an offset, 0, or a negative errno. */
typedef void (*fdk_result_cb)(int64_t result, void *data);

/** A function posted to the loop thread. */
typedef void (*fdk_post_fn)(void *data);

/** Creates a loop with its own libuv loop, owned by the caller (fdk_loop_free). libuv's
 * errors while creating it pass through (-EMFILE...). */
FDK_API int fdk_loop_new(fdk_loop **out);

/** Completes every pending operation with -ECANCELED (their callbacks run), closes every
 * libuv handle fdkit opened and frees the loop; for a borrowed libuv loop, runs it with
 * UV_RUN_NOWAIT until fdkit's close callbacks ran, and leaves it open. Returns 0, or
 * -EBUSY when called from inside a callback of this loop or a trace hook (nothing is freed
 * then). For a borrowed libuv loop, call it outside uv_run.
 * Accepts NULL (returns 0). Unlike other destructors this one can refuse, so it returns
 * int. */
FDK_API int fdk_loop_free(fdk_loop *loop);

/** Runs the loop in one of the FDK_RUN_* modes. Returns 1 if operations are still
 * pending, 0 if none, -EBUSY if the loop is already running, -EINVAL for a bad mode. */
FDK_API int fdk_loop_run(fdk_loop *loop, int mode);

/** Makes the current (or next) fdk_loop_run return early. Loop thread only. Never fails;
 * ignores NULL. */
FDK_API void fdk_loop_stop(fdk_loop *loop);

/** For hosts with their own event loop (asyncio, GLib, a plain epoll loop...), on a loop
 * made by fdk_loop_new. The rule the host follows:
 * 1. Watch this descriptor for readability, level-triggered (never EPOLLET: fdkit may
 *    leave events for its next run, and an edge would not come again).
 * 2. Keep one timer armed with fdk_loop_backend_timeout.
 * 3. When the descriptor is readable or the timer expires, call
 *    fdk_loop_run(loop, FDK_RUN_NOWAIT), then ask fdk_loop_backend_timeout again and re-arm
 *    the timer.
 * Calls the host makes into fdkit outside fdk_loop_run (starting or cancelling an
 * operation, fdk_sleep_until, fdk_loop_post from any thread) make the descriptor readable
 * when they leave work for the loop, so the host needs nothing more after them.
 * Returns the descriptor (the loop keeps it: never close it), or -ECHILD. */
FDK_API int fdk_loop_backend_fd(fdk_loop *loop);

/** How long (milliseconds) the host may wait on the backend descriptor before calling
 * fdk_loop_run again, counted from now (the loop's clock is brought up to date); -1 means
 * no timer is pending, 0 means work is ready now. -ECHILD in a forked child. */
FDK_API int fdk_loop_backend_timeout(fdk_loop *loop);

/** Queues fn(data) to run on the loop thread during fdk_loop_run. Safe from any thread
 * (not from a signal handler: it takes a lock); wakes a loop that is waiting. A post counts as pending
 * work: FDK_RUN_DEFAULT does not return before it ran. Functions posted before
 * fdk_loop_free run during it. Returns 0, or -ECHILD; fdkit never frees data. */
FDK_API int fdk_loop_post(fdk_loop *loop, fdk_post_fn fn, void *data);

/** A cross-thread handle to a loop that may be freed at any time by its own thread.
 *
 * Ownership: reference counted on its own, independently of the loop. fdk_loop_remote_new
 * returns a handle holding one reference; fdk_loop_remote_ref adds one, fdk_loop_remote_unref
 * drops one and the last drop frees the handle. A remote never keeps its loop alive, and the
 * loop never frees a remote someone still references, so either may go first.
 *
 * Threads: every fdk_loop_remote_* call is safe from any thread (not from a signal handler:
 * they take a lock). fdk_loop_remote_new needs a loop that is not being freed meanwhile;
 * afterwards the remote is the only thing another thread needs to hold.
 *
 * Once fdk_loop_free of its loop has begun (and did not refuse with -EBUSY), a post through a
 * remote fails with -ESHUTDOWN without touching the loop; functions posted before that
 * still run, during fdk_loop_free at the latest. */
typedef struct fdk_loop_remote fdk_loop_remote;

/** Creates a remote for loop. Call it from the loop's thread or while the loop is otherwise
 * known to be alive. Returns 0, or -EINVAL for a NULL argument, or -ESHUTDOWN when loop is
 * being freed. *out is untouched on failure. */
FDK_API int fdk_loop_remote_new(fdk_loop_remote **out, fdk_loop *loop);

/** Queues fn(data) on the remote's loop exactly as fdk_loop_post does. Returns 0 when queued
 * (fn will run once, on the loop thread), -ESHUTDOWN when the loop is freed or being freed
 * (fn never runs: data stays the caller's), -EINVAL for a NULL remote or fn. */
FDK_API int fdk_loop_remote_post(fdk_loop_remote *remote, fdk_post_fn fn, void *data);

/** Adds a reference and returns remote (NULL for NULL). */
FDK_API fdk_loop_remote *fdk_loop_remote_ref(fdk_loop_remote *remote);

/** Drops a reference; the last one frees the handle. Accepts NULL; returns NULL. */
FDK_API fdk_loop_remote *fdk_loop_remote_unref(fdk_loop_remote *remote);

/** Asks a pending operation to complete with -ECANCELED. Safe from any thread while the
 * op is valid (its callback has not returned). Returns 0 when the request was taken; the
 * callback's result tells whether it took effect (an operation that had already finished
 * keeps its result). A system call already running on a worker thread finishes first; its
 * result is discarded and anything it opened is closed. Returns 0 (or a common error). */
FDK_API int fdk_op_cancel(fdk_op *op);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_LOOP_H */
