# SPDX-License-Identifier: MIT
"""Spawning a child from an ordered list of actions (process.h).

spawn(argv, ...) builds the actions (chdir, descriptors to inherit, a new session,
closing the others, then execvp) and starts the child. Without a loop, collect the status
with wait(); with one, on_exit(None or Error) runs from Loop.run once the child exited (it
is reaped when the status is collected, or at free()). A failing action raises an Error
naming it, and the failed child is already reaped."""
import ctypes

from . import _native as n
from ._owned import Owned
from .errors import Error, check
from .loop import _deliver, _keys, _pending

INHERIT_PRESERVE, INHERIT_BLOCKING, INHERIT_NONBLOCKING = (n.FDK_INHERIT_PRESERVE, n.FDK_INHERIT_BLOCKING,
                                                           n.FDK_INHERIT_NONBLOCKING)


@n.EXIT_CB
def _on_exit(_proc, result, key):
    _deliver(key, result)


class Status:
    """exit_code (None when killed) or signal (None unless killed)."""

    def __init__(self, st):
        self.exit_code = st.value if st.kind == n.FDK_EXIT_CODE else None
        self.signal = st.value if st.kind == n.FDK_EXIT_SIGNAL else None

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

    def signal(self, sig):
        """ESRCH once the child was reaped: a recycled pid is never signalled."""
        check(n.fdk_process_signal(self._live, sig))

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
        # reaps it when it exits (process.h: fdk_process_detach). Until fdkit reaps children
        # spawned without a loop, detach refuses those and free still kills them.
        if self._raw:
            n.fdk_process_detach(self._raw)
        self.dispose()


def spawn(argv, loop=None, on_exit=None, cwd=None, fds=None, setsid=False, close_other_fds=False):
    """Starts argv[0] (PATH searched) with argv. fds maps child descriptor numbers to Fd
    objects (inherit_fd, modes preserved)."""
    actions = n.handle()
    check(n.fdk_actions_new(ctypes.byref(actions)))
    try:
        if cwd is not None:
            check(n.fdk_actions_chdir(actions, n.c_string(cwd)))
        for dst, fd in (fds or {}).items():
            check(n.fdk_actions_inherit_fd(actions, dst, fd._raw, INHERIT_PRESERVE))
        if setsid:
            check(n.fdk_actions_setsid(actions))
        if close_other_fds:
            check(n.fdk_actions_close_other_fds(actions))
        check(n.fdk_actions_execvp(actions, n.c_string(argv[0]), _argv(argv), None))
        key = next(_keys) if on_exit else 0
        if on_exit:
            if loop is None:
                raise ValueError("on_exit needs a loop")
            _pending[key] = (loop, lambda r: on_exit(None if r >= 0 else Error.last(r)), None)
        raw = n.handle()
        r = n.fdk_spawn(ctypes.byref(raw), loop._raw if loop else None, actions, 0,
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
