/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — run a command to completion: capture, stdin, output limits, timeouts,
 * process groups.
 *
 * fdk_run_opts describes a run; fdk_run (blocking, on a private loop) and fdk_run_async
 * (on the caller's loop) carry it out and produce an fdk_run_result.
 *
 * The run ends when the child has exited and every captured pipe reached end of file —
 * or, when a descendant keeps a pipe open after the child exited, kill_grace_ms later
 * (the result then still has everything read until that moment).
 *
 * Ownership: options and results belong to the caller and are freed with their _free
 * functions (which accept NULL and return NULL). Options are copied when a run starts, so
 * one fdk_run_opts may serve several runs, also at the same time, and may be freed as
 * soon as fdk_run / fdk_run_async returned. Strings and arrays given to setters are
 * copied; descriptors given to setters are referenced (fdk_fd_ref) until the options are
 * freed.
 *
 * Threads: an fdk_run_opts or fdk_run_result may be used by one thread at a time;
 * fdk_run may be called from any thread; fdk_run_async belongs to its loop's thread.
 *
 * Errors: every fdk_run_opts_set_* call returns 0, or -EINVAL (and changes nothing) for
 * NULL options or a value out of its range: an unknown mode or policy, a negative size,
 * time or grace (a size below -1, a time over INT64_MAX / 1000000 ms), an environment
 * string without '=', a leader without FDK_RUN_GROUP_JOIN (or the reverse), an allow-list
 * without FDK_RUN_FDS_ALLOWLIST (or the reverse), an entry below 3 or listed twice; and
 * -ENOMEM. What can only be checked when the run
 * starts (a missing executable: -ENOENT; a cwd that cannot be entered; a closed
 * descriptor: -EBADF) is the result of fdk_run or fdk_run_async, with the detail in
 * fdk_last_error(). The fdk_run_result_* accessors that return a number (int, int32_t,
 * int64_t) answer -EINVAL for a NULL result and cannot fail otherwise; the byte accessors
 * answer NULL with *len 0.
 */
#ifndef FDKIT_RUN_H
#define FDKIT_RUN_H

#include "fdkit/loop.h"
#include "fdkit/process.h"

#ifdef __cplusplus
extern "C" {
#endif

/** What happens to one of the child's output streams (fdk_run_opts_set_stdout/stderr). */
#define FDK_RUN_INHERIT 0 /**< the child writes to the caller's own stream (the default) */
#define FDK_RUN_CAPTURE 1 /**< captured into the result */
#define FDK_RUN_DISCARD 2 /**< /dev/null */
#define FDK_RUN_MERGE 3   /**< stderr only: into the same stream as stdout, like 2>&1 */

/** What a timeout or a cancelled fdk_run_async does to the child. */
#define FDK_RUN_CANCEL_NONE 0     /**< nothing: wait for the child, report the overrun */
#define FDK_RUN_CANCEL_KILL 1     /**< SIGKILL at once (the default) */
#define FDK_RUN_CANCEL_GRACEFUL 2 /**< SIGTERM, then SIGKILL after kill_grace_ms */

/** The child's process group. Only a group fdkit created (NEW or SESSION) is signalled as
 * a whole by a timeout or a cancel; otherwise only the child is. */
#define FDK_RUN_GROUP_INHERIT 0 /**< stay in the caller's group (the default) */
#define FDK_RUN_GROUP_NEW 1     /**< setpgid(0, 0): a new group the child leads */
#define FDK_RUN_GROUP_SESSION 2 /**< setsid(): a new session and group */
#define FDK_RUN_GROUP_JOIN 3    /**< setpgid(0, leader): join an existing group */

/** Which of the caller's descriptors the child keeps besides 0, 1 and 2. */
#define FDK_RUN_FDS_CLOEXEC_ONLY 0 /**< those without close-on-exec (the default) */
#define FDK_RUN_FDS_CLOSE_FROM_3 1 /**< none */
#define FDK_RUN_FDS_ALLOWLIST 2    /**< exactly the listed ones, at the same numbers */

/** Called with everything the child wrote to stdout so far (captured bytes only, up to
 * max_output), each time more arrives; returning non-zero stops the child by the cancel
 * policy (KILL when it is NONE) and marks the result early_exit. */
typedef int (*fdk_run_early_exit_fn)(const void *stdout_so_far, size_t len, void *arg);

/** argv: NULL-terminated, at least argv[0]; argv[0] is looked up in PATH when it has no
 * '/'. argv is copied; *out belongs to the caller (fdk_run_opts_free). -EINVAL for a NULL
 * out or argv or an empty argv; -ENOMEM. */
FDK_API int fdk_run_opts_new(fdk_run_opts **out, const char *const *argv);
/** Frees the options and drops their references to handles; accepts NULL, returns NULL. */
FDK_API fdk_run_opts *fdk_run_opts_free(fdk_run_opts *opts);

/** The child's environment (NULL-terminated "K=V" strings); NULL (the default) passes the
 * caller's environment as it is when the run starts. */
FDK_API int fdk_run_opts_set_env(fdk_run_opts *opts, const char *const *envp);
/** The child's working directory as a path (NULL: the caller's). */
FDK_API int fdk_run_opts_set_cwd(fdk_run_opts *opts, const char *path);
/** The child's working directory as an open directory descriptor (fchdir); replaces a
 * path set before. NULL clears it. */
FDK_API int fdk_run_opts_set_cwd_fd(fdk_run_opts *opts, fdk_fd *dir);
/** The child's working directory as a directory handle of fdkit/fs.h (fchdir to its
 * descriptor, which the options reference, so dir may be released at once); replaces a
 * path or descriptor set before. fdk_dir_fs(), fdk_dir_cwd() and NULL have no descriptor
 * and mean the caller's directory. */
FDK_API int fdk_run_opts_set_cwd_dir(fdk_run_opts *opts, fdk_dir *dir);

/**@{*/
/** stdin from bytes (copied; fed as the child reads, then closed) or from a descriptor
 * (the child gets it as fd 0). Without either the child inherits the caller's stdin. */
FDK_API int fdk_run_opts_set_stdin_bytes(fdk_run_opts *opts, const void *data, size_t len);
FDK_API int fdk_run_opts_set_stdin_fd(fdk_run_opts *opts, fdk_fd *fd);
/**@}*/

/**@{*/
/** FDK_RUN_INHERIT, FDK_RUN_CAPTURE or FDK_RUN_DISCARD; stderr also FDK_RUN_MERGE. */
FDK_API int fdk_run_opts_set_stdout(fdk_run_opts *opts, int mode);
FDK_API int fdk_run_opts_set_stderr(fdk_run_opts *opts, int mode);
/**@}*/

/** The most bytes kept over both captured streams (-1, the default: no limit). Output past
 * it is read and dropped, so the child never blocks on a full pipe; the result says
 * truncated. */
FDK_API int fdk_run_opts_set_max_output(fdk_run_opts *opts, int64_t bytes);
/** Milliseconds before the cancel policy applies (0, the default: no timeout). */
FDK_API int fdk_run_opts_set_timeout(fdk_run_opts *opts, int64_t ms);
/** The cancel policy and the grace between SIGTERM and SIGKILL, also the wait for pipes
 * a descendant keeps open after the child exited (default 1000 ms). */
FDK_API int fdk_run_opts_set_cancel(fdk_run_opts *opts, int policy, int64_t kill_grace_ms);
/** The signal FDK_RUN_CANCEL_GRACEFUL sends first (default SIGTERM); SIGKILL still follows
 * kill_grace_ms later. -EINVAL for a number that is no signal. */
FDK_API int fdk_run_opts_set_stop_signal(fdk_run_opts *opts, int sig);
/** stop non-zero: once output past max_output arrives, the child is stopped by the cancel
 * policy (KILL when it is NONE), as an early exit stops it, instead of being read and
 * dropped for as long as it writes. The result says truncated; default 0. */
FDK_API int fdk_run_opts_set_stop_at_max_output(fdk_run_opts *opts, int stop);
/** FDK_RUN_GROUP_*; leader is the group to join with FDK_RUN_GROUP_JOIN, else 0. */
FDK_API int fdk_run_opts_set_group(fdk_run_opts *opts, int mode, int32_t leader);
/** FDK_RUN_FDS_*; keep lists the descriptors of FDK_RUN_FDS_ALLOWLIST (each must be open:
 * -EBADF otherwise, when the run starts). */
FDK_API int fdk_run_opts_set_fds(fdk_run_opts *opts, int policy, const int *keep, size_t count);
/** Installs the early-exit predicate (fdk_run_early_exit_fn) called as stdout arrives;
 * fn NULL removes it. It sees captured stdout only (FDK_RUN_CAPTURE or FDK_RUN_MERGE). */
FDK_API int fdk_run_opts_set_early_exit(fdk_run_opts *opts, fdk_run_early_exit_fn fn, void *arg);
/** One of FDK_SPAWN_BACKEND_* (default FDK_SPAWN_BACKEND_AUTO). */
FDK_API int fdk_run_opts_set_backend(fdk_run_opts *opts, int backend);

/** Runs to completion on a private loop. On success *out holds the result (also when the
 * child failed or timed out); a negative return means the run could not start (the
 * executable is missing, a setting is invalid...) or its exit status is lost (-ECHILD:
 * somebody else reaped the child, on a kernel that keeps no status for its pidfd), and
 * *out is untouched. The errors then: -EINVAL for NULL out or opts or a setting only the
 * start can refuse; -EBADF for a closed stdin, cwd or allow-listed descriptor; the errors
 * of fdk_spawn (process.h: -ENOENT for a missing executable, a failing cwd's errno...);
 * -ECHILD as said; -ENOMEM. *out belongs to the caller (fdk_run_result_free). */
FDK_API int fdk_run(fdk_run_result **out, const fdk_run_opts *opts);

/** result is 0 with a result the callback owns (free it with fdk_run_result_free), or a
 * negative errno with res NULL. */
typedef void (*fdk_run_cb)(int result, fdk_run_result *res, void *data);

/** Starts a run on loop. Cancelling the op applies the cancel policy; the callback then
 * still comes with the result once the child is gone. The call fails, and the callback
 * never runs, with the errors fdk_run returns before its child starts (-EINVAL also for a
 * NULL loop or cb, -ECHILD for a loop of the parent after fork); once started, failures
 * (-ECHILD for a lost status, -ENOMEM) come through the callback with res NULL. */
FDK_API int fdk_run_async(fdk_loop *loop, const fdk_run_opts *opts, fdk_run_cb cb, void *data, fdk_op **op);

/** Sends sig (0 to probe) to the child of a run started by fdk_run_async, or to its whole
 * group when the run created one (as a timeout would), for example to pass on a signal
 * the caller received. op must be the run's op, before its callback ran; loop thread
 * only. 0; -EINVAL when op is NULL or not a run or sig is outside 0..NSIG-1; -ESRCH once
 * the child exited; a refused kill's errno (-EPERM). */
FDK_API int fdk_run_signal(fdk_op *op, int sig);

/** Frees a result and its captured bytes; accepts NULL, returns NULL. */
FDK_API fdk_run_result *fdk_run_result_free(fdk_run_result *res);
/** How the child ended (fdkit/process.h): FDK_EXIT_CODE with its code, or FDK_EXIT_SIGNAL
 * with the signal number. kind and value may be NULL. */
FDK_API int fdk_run_result_status(const fdk_run_result *res, int *kind, int *value);
/** Resource usage of the child (its own, not its descendants'); every field -1 when the
 * status was recovered after somebody else reaped the child (fdkit/process.h). -EINVAL
 * for a NULL usage. */
FDK_API int fdk_run_result_rusage(const fdk_run_result *res, fdk_rusage *usage);
/**@{*/
/** Captured bytes (NULL with *len 0 when the stream was not captured). Valid until the
 * result is freed. With FDK_RUN_MERGE both streams are in stdout. */
FDK_API const uint8_t *fdk_run_result_stdout(const fdk_run_result *res, size_t *len);
FDK_API const uint8_t *fdk_run_result_stderr(const fdk_run_result *res, size_t *len);
/**@}*/
/**@{*/
/** 1 or 0. */
FDK_API int fdk_run_result_timed_out(const fdk_run_result *res);
FDK_API int fdk_run_result_truncated(const fdk_run_result *res);
FDK_API int fdk_run_result_early_exit(const fdk_run_result *res);
/**@}*/
/** 1 when the run stopped waiting for captured pipes (or stdin) a descendant kept open
 * kill_grace_ms after the child exited: the captured output may be incomplete. */
FDK_API int fdk_run_result_pipes_abandoned(const fdk_run_result *res);
/** The pid the child had (already reaped: for logs, never to signal). */
FDK_API int32_t fdk_run_result_pid(const fdk_run_result *res);
/** From the start of the spawn to the end of the run. */
FDK_API int64_t fdk_run_result_duration_ns(const fdk_run_result *res);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_RUN_H */
