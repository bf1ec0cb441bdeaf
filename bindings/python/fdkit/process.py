# SPDX-License-Identifier: MIT
"""Spawning a child from an ordered list of actions (process.h).

spawn(argv, ...) builds the actions from its keyword arguments, in a fixed order that
works (login_tty, cwd, the descriptors to inherit, session and group, groups, gid, uid,
umask, limits, pdeathsig, no_new_privs, signal dispositions, closing the others, then the
exec) and starts the child. Without a loop, collect the status with wait(); with one,
on_exit(None or Error) runs from Loop.run once the child exited (it is reaped when the
status is collected, or at free()). A failing action raises an Error naming it, and the
failed child is already reaped.

Not offered: the user action (a C function run in the child). The child shares the
parent's memory and runs before exec on a small stack where nothing may allocate or take a
lock; a Python callable needs the interpreter, its lock and its allocator, so it cannot run
there (subprocess's preexec_fn is documented unsafe with threads for the same reason)."""
import ctypes

from . import _native as n
from ._owned import Owned
from .errors import Error, check
from .fd import Fd
from .fs import Dir
from .loop import _deliver, _keys, _pending

INHERIT_PRESERVE, INHERIT_BLOCKING, INHERIT_NONBLOCKING = (n.FDK_INHERIT_PRESERVE, n.FDK_INHERIT_BLOCKING,
                                                           n.FDK_INHERIT_NONBLOCKING)


@n.EXIT_CB
def _on_exit(_proc, result, key):
    _deliver(key, result)


BACKEND_AUTO, BACKEND_FORK, BACKEND_POSIX_SPAWN = (n.FDK_SPAWN_BACKEND_AUTO, n.FDK_SPAWN_BACKEND_FORK,
                                                  n.FDK_SPAWN_BACKEND_POSIX_SPAWN)
RLIM_INFINITY = n.FDK_RLIM_INFINITY


class Usage:
    """Resource usage of a reaped child: utime_ns, stime_ns, maxrss_kib, minflt, majflt,
    inblock, oublock, nvcsw, nivcsw (each -1 when unknown)."""

    def __init__(self, usage):
        for name, _ in n.rusage._fields_:
            setattr(self, name, getattr(usage, name))

    def __repr__(self):
        return f"Usage(utime_ns={self.utime_ns}, stime_ns={self.stime_ns}, maxrss_kib={self.maxrss_kib})"


class Status:
    """exit_code (None when killed), signal (None unless killed), core_dumped, usage (a
    Usage), and returncode as subprocess gives it (-signal when killed). Both codes are
    None when the status was lost (somebody else reaped the child)."""

    def __init__(self, st):
        self.exit_code = st.value if st.kind == n.FDK_EXIT_CODE else None
        self.signal = st.value if st.kind == n.FDK_EXIT_SIGNAL else None
        self.core_dumped = bool(st.core_dumped)
        self.usage = Usage(st.usage)

    @property
    def returncode(self):
        return self.exit_code if self.signal is None else -self.signal

    def __repr__(self):
        return f"Status(exit_code={self.exit_code}, signal={self.signal})"


def _argv(args):
    encoded = [n.c_string(a) for a in args]
    return (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None)


class Process(Owned):
    def __init__(self, raw, key):
        self._raw, self._key = raw, key

    @property
    def pid(self):
        return n.fdk_process_pid(self._live)

    @property
    def pidfd(self):
        """The child's pidfd (owned by the Process, valid until free()), for select or
        os.waitid(P_PIDFD...); OSError ENOTSUP where the kernel gives none."""
        return check(n.fdk_process_pidfd(self._live))

    def signal(self, sig):
        """ESRCH once the child was reaped: a recycled pid is never signalled."""
        check(n.fdk_process_signal(self._live, sig))

    def signal_group(self, sig):
        """Signals the process group the child leads (spawned with setsid or
        process_group=0); ESRCH when there is none or the child was reaped."""
        check(n.fdk_process_signal_group(self._live, sig))

    def detach(self):
        """free() (and collection) will then leave the running child alive; fdkit still
        reaps it when it exits: on its loop, or, spawned without one, at later spawns,
        waits and reap_detached()."""
        check(n.fdk_process_detach(self._live))

    def wait(self):
        """Waits for the exit (the GIL is released), reaps, and returns the Status."""
        st = n.exit_status()
        check(n.fdk_process_wait(self._live, ctypes.byref(st)))
        return Status(st)

    def try_wait(self):
        """The Status if the child exited (it is reaped then), else None."""
        st = n.exit_status()
        return Status(st) if check(n.fdk_process_try_wait(self._live, ctypes.byref(st))) else None

    def _release(self, raw):
        n.fdk_process_free(raw)
        _pending.pop(self._key, None)

    def free(self):
        """Kills and reaps a child still running; its on_exit never runs after this."""
        self.dispose()

    def __del__(self):
        # As with subprocess.Popen, collecting the handle leaves the child running: fdkit
        # reaps it when it exits (on its loop, or from its list of detached children).
        if self._raw:
            n.fdk_process_detach(self._raw)
        self.dispose()


def reap_detached():
    """Reaps the detached children spawned without a loop that have exited (as later spawns
    and waits do anyway); returns how many still run."""
    return check(n.fdk_process_reap_detached())


def _add_inherit(actions, dst, src):
    """src: an Fd, a raw descriptor number (kept open by the caller until spawn returns),
    or (either, INHERIT_* mode)."""
    src, mode = src if isinstance(src, tuple) else (src, INHERIT_PRESERVE)
    if isinstance(src, int):
        check(n.fdk_actions_inherit_raw(actions, dst, src, mode))
    else:
        check(n.fdk_actions_inherit_fd(actions, dst, src._live, mode))


def _add_cwd(actions, cwd):
    """A path (chdir), or an Fd or Dir open on a directory (fchdir)."""
    fd = cwd.fd() if isinstance(cwd, Dir) else cwd
    if isinstance(cwd, Dir) and fd is None:  # Dir.fs() and Dir.cwd(): the caller's directory
        return
    if isinstance(fd, Fd):
        check(n.fdk_actions_fchdir(actions, fd._live))
    else:
        check(n.fdk_actions_chdir(actions, n.c_string(cwd)))


def _add_ids(actions, user, group, extra_groups):
    # setgroups and setgid before setuid, which may take the right to change them away.
    if extra_groups is not None:
        gids = (ctypes.c_uint32 * max(len(extra_groups), 1))(*extra_groups)
        check(n.fdk_actions_setgroups(actions, len(extra_groups), gids))
    if group is not None:
        check(n.fdk_actions_setgid(actions, group))
    if user is not None:
        check(n.fdk_actions_setuid(actions, user))


def _env(env):
    return None if env is None else _argv(f"{k}={v}" for k, v in env.items())


def spawn(argv, loop=None, on_exit=None, cwd=None, fds=None, setsid=False, close_other_fds=False, *,
          executable=None, env=None, login_tty=None, process_group=None, user=None, group=None, extra_groups=None,
          umask=None, rlimits=None, pdeathsig=None, no_new_privs=False, signal_default=(), signal_ignore=(),
          backend=BACKEND_AUTO):
    """Starts argv[0] (PATH searched) with argv. Keywords, named as subprocess.Popen's where
    it has them:
    - cwd: a path, or an Fd or Dir open on the directory (fchdir).
    - fds: {child descriptor number: Fd, raw number, or (either, INHERIT_* mode)}.
    - executable: the file to run, used as is (no PATH search); argv[0] is then only the
      name the child sees. env: a dict replacing the environment.
    - setsid (Popen's start_new_session), process_group (setpgid; 0 leads a new group),
      login_tty (an Fd on a terminal: a new session with it as controlling terminal; map
      it onto 0-2 with fds).
    - user, group (numeric ids), extra_groups (a list of gids), umask.
    - rlimits: {resource.RLIMIT_*: (soft, hard)}, RLIM_INFINITY for none.
    - pdeathsig: a signal the child gets when the spawning thread exits. no_new_privs.
    - signal_default, signal_ignore: signals set to their default action or ignored.
    - close_other_fds: every descriptor but 0-2 and the fds destinations is closed.
    - backend: BACKEND_AUTO, BACKEND_FORK or BACKEND_POSIX_SPAWN."""
    actions = n.handle()
    check(n.fdk_actions_new(ctypes.byref(actions)))
    try:
        if login_tty is not None:
            check(n.fdk_actions_login_tty(actions, login_tty._live))
        if cwd is not None:
            _add_cwd(actions, cwd)
        for dst, src in (fds or {}).items():
            _add_inherit(actions, dst, src)
        if setsid:
            check(n.fdk_actions_setsid(actions))
        if process_group is not None:
            check(n.fdk_actions_setpgid(actions, process_group))
        _add_ids(actions, user, group, extra_groups)
        if umask is not None:
            check(n.fdk_actions_umask(actions, umask))
        for resource, (soft, hard) in (rlimits or {}).items():
            check(n.fdk_actions_rlimit(actions, resource, soft, hard))
        if pdeathsig is not None:
            check(n.fdk_actions_pdeathsig(actions, pdeathsig))
        if no_new_privs:
            check(n.fdk_actions_no_new_privs(actions))
        for sig in signal_default:
            check(n.fdk_actions_signal_default(actions, sig))
        for sig in signal_ignore:
            check(n.fdk_actions_signal_ignore(actions, sig))
        if close_other_fds:
            check(n.fdk_actions_close_other_fds(actions))
        if executable is not None:
            check(n.fdk_actions_execve(actions, n.c_string(executable), _argv(argv), _env(env)))
        else:
            check(n.fdk_actions_execvp(actions, n.c_string(argv[0]), _argv(argv), _env(env)))
        key = next(_keys) if on_exit else 0
        if on_exit:
            if loop is None:
                raise ValueError("on_exit needs a loop")
            _pending[key] = (loop, lambda r: on_exit(None if r >= 0 else Error.last(r)), None)
        raw = n.handle()
        r = n.fdk_spawn(ctypes.byref(raw), loop._live if loop else None, actions, backend,
                        _on_exit if on_exit else n.EXIT_CB(), key)
        if r < 0:
            _pending.pop(key, None)
            raise Error.last(r)
        process = Process(raw, key)
        if on_exit:
            # The pending entry roots the process until on_exit ran, so the callback runs
            # even when the caller keeps no reference.
            _pending[key] = _pending[key][:2] + (process,)
        return process
    finally:
        n.fdk_actions_free(actions)
