/* SPDX-License-Identifier: MIT */
/** @file
 * fdkit — spawning processes from an ordered list of fork actions, and process handles.
 *
 * An fdk_actions list is built in the parent. Every string and array it is given is
 * copied; the child only reads what the parent laid out. At spawn the actions run in the
 * order they were added, in the child, by code that makes raw system calls only (no
 * allocation, no locks, no libc state). The list must end with one execve or execvp action.
 * The first action that fails makes fdk_spawn return its negative errno, with
 * fdk_last_error() naming the action, its index and its argument
 * ("spawn: action 2 (chdir \"/nope\"): No such file or directory"); the failed child is
 * reaped before fdk_spawn returns.
 *
 * Signals in the child: every signal the parent handles goes back to the default action,
 * ignored signals stay ignored except SIGPIPE and SIGXFSZ (reset to default), and the
 * signal mask is cleared just before exec. signal_default / signal_ignore change that.
 *
 * Ownership: an fdk_actions belongs to its creator (fdk_actions_free). fdk_fd handles given
 * to it are pinned by the list until it is freed (fd.h: the caller must keep them open
 * until the spawns). A complete list (one that ends with
 * its exec action) is only read by fdk_spawn: any number of spawns, from any number of
 * threads at once, may use it; each keeps its scratch on its own stack and allocates
 * nothing. An fdk_process belongs to its creator and is freed with fdk_process_free.
 *
 * Threads: building a list, fdk_spawn and the fdk_process calls may be made from any
 * thread. fdk_process_signal, fdk_process_signal_group, fdk_process_pid and
 * fdk_process_pidfd may run concurrently with any call on the same process; the others
 * (wait, try_wait, detach, free) one at a time. A spawn given a loop must be made on that
 * loop's thread; the exit callback runs there.
 *
 * Errors: besides the common ones (common.h: -EINVAL for a NULL list, process, path, argv
 * or out-pointer, -ENOMEM), every call states its own below. A spawn fails with the
 * first failing action's errno (execve's -ENOENT, -EACCES, -ENOEXEC..., chdir's,
 * setuid's -EPERM...), whatever it is.
 */
#ifndef FDKIT_PROCESS_H
#define FDKIT_PROCESS_H

#include "fdkit/loop.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Blocking mode of an inherited descriptor (fdkit's own values). The mode belongs to the
 * open file description, which the parent shares: changing it changes it for both. */
#define FDK_INHERIT_PRESERVE 0    /**< leave the mode alone */
#define FDK_INHERIT_BLOCKING 1    /**< clear O_NONBLOCK in the child */
#define FDK_INHERIT_NONBLOCKING 2 /**< set O_NONBLOCK in the child */

/** rlimit value meaning "no limit". */
#define FDK_RLIM_INFINITY UINT64_MAX

/** An async-signal-safe function run in the child (fdk_actions_user): 0 on success or a
 * negative errno, which fails the spawn like any other action. It runs on a small private
 * stack in a child that may share the parent's memory: it must not allocate, take locks,
 * touch errno or stdio, or return into code it did not call; build it without sanitizer
 * instrumentation. Its stack budget is 32 KiB, with no single frame over 64 KiB: below
 * the stack lies a 64 KiB guard region, so a deeper use kills the child (SIGSEGV). A child
 * that dies of a signal inside a user action fails the spawn with -EFAULT, the detail
 * naming the action and the signal; one that exits or execs there is a spawned child. */
typedef int (*fdk_child_fn)(void *arg);

/** An empty action list, owned by the caller (fdk_actions_free). Fails only with the
 * common errors. One thread at a time may use a list; it may serve any number of spawns,
 * one at a time. */
FDK_API int fdk_actions_new(fdk_actions **out);
/** Unpins the fdk_fd handles. Accepts NULL, returns NULL. */
FDK_API fdk_actions *fdk_actions_free(fdk_actions *actions);

/** Every adder returns 0, or -EINVAL (a NULL list or required pointer, a bad argument as
 * each adder says, an action after the exec action, a second exec action) or -ENOMEM; a
 * failed adder leaves the list unchanged. Strings and arrays are copied; fdk_fd handles
 * are pinned until the list is freed, and checked only at spawn time. */

/** Executes path. argv is a NULL-terminated array (it may be empty); envp NULL passes the
 * environment as it is at spawn time. -EINVAL for a NULL path or argv. */
FDK_API int fdk_actions_execve(fdk_actions *actions, const char *path, const char *const *argv,
                               const char *const *envp);
/** Like execve, but a file without '/' is looked up, in the parent at spawn time, in PATH
 * taken from envp if it has one, else from the caller's environment, else "/bin:/usr/bin".
 * Not found is -ENOENT before any child is created (-EACCES when only files that are not
 * executable were found); there is no /bin/sh retry. */
FDK_API int fdk_actions_execvp(fdk_actions *actions, const char *file, const char *const *argv,
                               const char *const *envp);
/** chdir(path) in the child; the path is copied. */
FDK_API int fdk_actions_chdir(fdk_actions *actions, const char *path);
/** Changes directory to the one fd refers to; a handle closed by spawn time fails the spawn
 * with -EBADF. The number is the one fd has in the parent: put fchdir before inherit_fd
 * when a destination could take that number. */
FDK_API int fdk_actions_fchdir(fdk_actions *actions, fdk_fd *fd);

/** Maps src to descriptor dst in the child. All mappings of a list are applied together
 * at the position of the first one: identity maps (dst == src) only clear close-on-exec,
 * cycles (3<->4, longer rings) are broken with one temporary descriptor, and each
 * destination's blocking mode (FDK_INHERIT_*) is applied after all the duplications.
 * One source may go to several destinations. -EINVAL for a negative dst, an unknown
 * blocking mode, or a destination mapped twice; a src handle closed by spawn time fails
 * the spawn with -EBADF. */
FDK_API int fdk_actions_inherit_fd(fdk_actions *actions, int dst, fdk_fd *src, int blocking);
/** The same with a raw descriptor number the caller keeps open until the spawn returns
 * (fdkit never closes it). -EINVAL also for a negative src. */
FDK_API int fdk_actions_inherit_raw(fdk_actions *actions, int dst, int src, int blocking);

/** setsid(): the child leads a new session and process group. */
FDK_API int fdk_actions_setsid(fdk_actions *actions);
/** Prepares a login on a terminal, as BSD's login_tty does for the session: the child
 * starts a new session (setsid) and makes tty its controlling terminal (TIOCSCTTY). Mapping
 * the terminal onto 0, 1 and 2 stays the inherit actions' job. As with fchdir, the number
 * is the one tty has in the parent: put it before inherit_fd. -EINVAL when the list also
 * has setsid or setpgid (a child that changed its group cannot start a session); a tty
 * that is not a terminal fails the spawn with -ENOTTY, the action named. Not with the
 * posix_spawn backend (-ENOTSUP). */
FDK_API int fdk_actions_login_tty(fdk_actions *actions, fdk_fd *tty);
/** setpgid(0, pgid): 0 makes the child lead a new group. -EINVAL for a negative pgid. */
FDK_API int fdk_actions_setpgid(fdk_actions *actions, int32_t pgid);
/** The raw setuid, setgid and setgroups system calls in the child (only the child changes;
 * glibc's wrappers would signal every thread of the process). A spawn fails with -EPERM
 * when the caller may not take those ids. Order matters: setgroups and setgid before
 * setuid. -EINVAL for more than 65536 groups or NULL gids with a nonzero count. */
/**@{*/
FDK_API int fdk_actions_setuid(fdk_actions *actions, uint32_t uid);
FDK_API int fdk_actions_setgid(fdk_actions *actions, uint32_t gid);
FDK_API int fdk_actions_setgroups(fdk_actions *actions, size_t count, const uint32_t *gids);
/**@}*/
/** umask(mask) in the child (mask: permission bits, 0777 at most: -EINVAL above). */
FDK_API int fdk_actions_umask(fdk_actions *actions, uint32_t mask);
/** resource is the platform's RLIMIT_* number; FDK_RLIM_INFINITY for no limit. -EINVAL
 * for an unknown resource or soft above hard; a hard limit above the caller's fails the
 * spawn with -EPERM. */
FDK_API int fdk_actions_rlimit(fdk_actions *actions, int resource, uint64_t soft, uint64_t hard);
/** Linux: sig is sent to the child when the thread that spawned it exits (the kernel
 * tracks the parent thread, not the process). Any signal, SIGKILL included; -EINVAL for
 * 0 or a number past the last signal. */
FDK_API int fdk_actions_pdeathsig(fdk_actions *actions, int sig);
/** prctl(PR_SET_NO_NEW_PRIVS): exec can grant no privilege (setuid bits are ignored). */
FDK_API int fdk_actions_no_new_privs(fdk_actions *actions);
/** Sets sig to its default disposition or to ignored in the child (-EINVAL at once for a
 * bad signal, SIGKILL or SIGSTOP). Without them, handled signals go back to default and
 * ignored ones stay ignored, except SIGPIPE and SIGXFSZ, which go back to default. */
/**@{*/
FDK_API int fdk_actions_signal_default(fdk_actions *actions, int sig);
FDK_API int fdk_actions_signal_ignore(fdk_actions *actions, int sig);
/**@}*/
/** Every descriptor but 0, 1, 2 and the inherit_fd destinations is closed at exec
 * (marked close-on-exec with close_range, or one by one where it is missing). */
FDK_API int fdk_actions_close_other_fds(fdk_actions *actions);
/** Runs fn(arg) in the child; name (copied; may be NULL) appears in fdk_last_error() when
 * it fails. -EINVAL for a NULL fn. */
FDK_API int fdk_actions_user(fdk_actions *actions, fdk_child_fn fn, void *arg, const char *name);

/** Backends (fdkit's own values), in the flags of fdk_spawn. */
#define FDK_SPAWN_BACKEND_AUTO 0x0u        /**< vfork-style clone on a cached stack */
#define FDK_SPAWN_BACKEND_FORK 0x1u        /**< fork(), then the same child code */
#define FDK_SPAWN_BACKEND_POSIX_SPAWN 0x2u /**< posix_spawn: -ENOTSUP for actions it cannot
                                              express; failures name no action */
/** The bits of fdk_spawn's flags that choose the backend. */
#define FDK_SPAWN_BACKEND_MASK 0x3u

/** How a process ended. */
#define FDK_EXIT_CODE 1   /**< exited; value is the exit code 0..255 */
#define FDK_EXIT_SIGNAL 2 /**< killed; value is the signal number */
#define FDK_EXIT_UNKNOWN 3 /**< the status is lost: somebody else reaped the child (a host
                              that ignores SIGCHLD or calls waitpid(-1)) on a kernel that
                              keeps no exit status for its pidfd; value 0 */

/** Resource usage of a reaped child (its own, not its descendants'). Every field is -1
 * when there is none: the status was recovered through the pidfd after somebody else
 * reaped the child (Linux 6.15's PIDFD_GET_INFO keeps no usage), or it is unknown. */
typedef struct fdk_rusage {
  /** CPU time in user and kernel mode, in nanoseconds. */
  /**@{*/
  int64_t utime_ns;
  int64_t stime_ns;
  /**@}*/
  /** Peak resident set size in KiB. */
  int64_t maxrss_kib;
  /** Page faults without and with I/O. */
  /**@{*/
  int64_t minflt;
  int64_t majflt;
  /**@}*/
  /** File system blocks read and written (512-byte units). */
  /**@{*/
  int64_t inblock;
  int64_t oublock;
  /**@}*/
  /** Voluntary and involuntary context switches. */
  /**@{*/
  int64_t nvcsw;
  int64_t nivcsw;
  /**@}*/
} fdk_rusage;

/** How a process ended, and its resource usage (fdk_process_wait, fdk_process_try_wait). */
typedef struct fdk_exit_status {
  int32_t kind; /**< FDK_EXIT_CODE, FDK_EXIT_SIGNAL or FDK_EXIT_UNKNOWN */
  int32_t value; /**< exit code or signal number */
  int32_t core_dumped; /**< 1 when a signal left a core dump */
  /** resource usage of the reaped child */
  fdk_rusage usage;
} fdk_exit_status;

/** Runs on the loop once the child has exited (result 0; it has not been reaped: collect
 * the status with fdk_process_try_wait, or free the process), or with -ECANCELED when the
 * loop was freed first. Never runs after fdk_process_free. */
typedef void (*fdk_exit_cb)(fdk_process *proc, int result, void *data);

/** Spawns a child that runs actions. flags: one FDK_SPAWN_BACKEND_*. loop may be NULL (no
 * exit callback then; use fdk_process_wait). With a loop, exit_cb (may be NULL) runs on it
 * when the child exits, and while it is pending the loop's DEFAULT run goes on. *out
 * belongs to the caller (fdk_process_free); actions stay the caller's and may be freed
 * once the call returns. Errors: -EINVAL for unknown flags, an exit_cb without a loop, or
 * a list without an exec action; -ECHILD for a loop of the parent after fork; -EBADF for a
 * handle of an action closed meanwhile; -ENOENT or -EACCES from execvp's PATH search;
 * -ENOTSUP for what the posix_spawn backend cannot express; -EFAULT when the child died
 * of a signal in a user action; otherwise the failing action's errno (see above). */
FDK_API int fdk_spawn(fdk_process **out, fdk_loop *loop, const fdk_actions *actions, unsigned flags,
                      fdk_exit_cb exit_cb, void *data);

/** The child's pid; it stays reserved for this process until the status is collected
 * or the process is freed. Any thread. Fails only for a NULL proc (-EINVAL). */
FDK_API int32_t fdk_process_pid(const fdk_process *proc);
/** The pidfd (owned by the process, valid until fdk_process_free, also after the reap),
 * held since the spawn whatever the backend; -ENOTSUP where the kernel gives none (or
 * FDKIT_PIDFD=0 is set), -ESRCH when somebody else reaped the child before fdkit could
 * hold one (posix_spawn backend only). */
FDK_API int fdk_process_pidfd(fdk_process *proc);

/** Sends sig (0 only checks) to the child; -EINVAL for a signal outside 0..NSIG-1, -ESRCH
 * once it has been reaped (nothing is signalled then). Through the pidfd where there is
 * one, so this never hits another process, even when somebody else reaped the child.
 * Without pidfds (old kernels, FDKIT_PIDFD=0) the pid is signalled only after waitid finds
 * it still a child of this process; a host reaping it in between is the one race left
 * there. */
FDK_API int fdk_process_signal(fdk_process *proc, int sig);
/** Sends sig to the process group whose id is the child's pid (the group it leads after
 * setsid or setpgid(0)); -EINVAL for a bad signal, -ESRCH if there is none or the child
 * has been reaped, -EPERM when the caller may not signal it. */
FDK_API int fdk_process_signal_group(fdk_process *proc, int sig);

/** Waits for the child to exit, reaps it and fills *status. Once reaped, every wait returns
 * the same status. When somebody else reaped the child, the status comes from the pidfd
 * where the kernel keeps it (usage all -1); otherwise *status has kind FDK_EXIT_UNKNOWN and
 * the call returns -ECHILD with a detail. status may be NULL. A failing waitid's errno
 * passes through. */
FDK_API int fdk_process_wait(fdk_process *proc, fdk_exit_status *status);
/** 1 with *status filled (the child is reaped) if it has exited, 0 if it still runs;
 * -ECHILD as fdk_process_wait. */
FDK_API int fdk_process_try_wait(fdk_process *proc, fdk_exit_status *status);

/** Makes fdk_process_free leave a running child alive; fdkit still reaps it when it exits,
 * so it never stays a zombie. With a loop, on that loop: a freed detached child keeps the
 * loop's run going (as a pending exit callback does) until it is reaped. Without a loop,
 * freeing it puts it on fdkit's list of detached children, which every later fdk_spawn,
 * fdk_process_wait / try_wait and fdk_process_reap_detached sweeps (waitid on each of its
 * own pids, never waitpid(-1)). Returns 0; only the common errors. */
FDK_API int fdk_process_detach(fdk_process *proc);

/** Reaps the detached children without a loop that have exited; returns how many still
 * run. Thread-safe. A host that spawns rarely can call it from a timer or at exit. Never
 * fails (-ENOMEM aside). */
FDK_API int fdk_process_reap_detached(void);

/** Kills (SIGKILL) and reaps a child that still runs, unless it was detached, and frees the
 * handle (and its pidfd). The exit callback never runs afterwards. Accepts NULL, returns
 * NULL. */
FDK_API fdk_process *fdk_process_free(fdk_process *proc);

#ifdef __cplusplus
}
#endif

#endif /* FDKIT_PROCESS_H */
