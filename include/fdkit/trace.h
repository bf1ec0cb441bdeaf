/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — per-operation trace spans.
 *
 * Every fdkit operation is a span: a begin event when it starts and an end event when it
 * completes (for an asynchronous operation, just before its callback runs). A hook
 * installed with fdk_trace_set receives both. Where the library was built with static
 * probes (sys/sdt.h), the same points are USDT probes fdkit:op__begin and fdkit:op__end,
 * usable with perf or bpftrace without a hook:
 *
 *   bpftrace -e 'usdt:/path/libfdkit.so.1:fdkit:op__end { @[str(arg0)] = hist(arg4 / 1000); }'
 *
 * Probe arguments: op__begin(name, fd, path, span_id); op__end(name, fd, span_id,
 * result, duration_ns), so arg3 of op__end is the result and arg4 the duration.
 *
 * Threads: fdk_trace_set may be called from any thread. When it returns, no hook it or an
 * earlier call replaced is called again, so their data may be freed. Called from inside
 * a hook, it takes effect when that hook call returns. A hook
 * runs on the thread that performs the operation (a loop thread, a worker, or a caller of
 * a synchronous call) and may call fdkit: operations it starts produce no events, so a
 * hook never recurses into itself.
 *
 * Without a hook the cost on an operation's path is one predictable branch.
 */
#ifndef FDKIT_TRACE_H
#define FDKIT_TRACE_H

#include "fdkit/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**@{*/
/** The phase of a trace event (fdk_trace_event.phase). */
#define FDK_TRACE_BEGIN 1
#define FDK_TRACE_END 2
/**@}*/

/** One trace event: the begin or the end of an operation's span. The event and its strings
 * are valid only during the hook's call. */
typedef struct fdk_trace_event {
  int phase; /**< FDK_TRACE_BEGIN or FDK_TRACE_END */
  const char *name; /**< "read", "openat", "spawn", "resolve"... */
  uint64_t span_id; /**< the same in a span's begin and end */
  int fd; /**< descriptor involved, or -1 */
  const char *path; /**< path involved, or NULL */
  int64_t result; /**< end: bytes, 0, or a negative errno; begin: 0 */
  const char *detail; /**< end: extra facts ("backend=openat2 retries=1"), or NULL */
  uint64_t thread_id; /**< kernel thread id of the thread the event happens on */
  int64_t time_ns; /**< fdk_now_ns() of the event */
  int64_t duration_ns; /**< end: time since the begin; begin: 0 */
} fdk_trace_event;

/** The event and its strings are valid only during the call. */
typedef void (*fdk_trace_cb)(const fdk_trace_event *event, void *data);

/** Installs cb as the hook for every operation (loop NULL) or for the asynchronous
 * operations started on one loop (both hooks see those). cb NULL removes the hook. A hook
 * that is replaced while a span is open may miss that span's end, and a new hook may see
 * ends of spans that began before it: match events by span_id. fdk_loop_free removes its
 * loop's hook the same way: once it returns, that hook's data may be freed. fdkit never
 * frees data. Returns 0; -ENOTSUP when the library was built with tracing compiled out;
 * -EAGAIN when called from inside a hook more times than one hook call can queue. */
FDK_API int fdk_trace_set(fdk_loop *loop, fdk_trace_cb cb, void *data);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_TRACE_H */
