# SPDX-License-Identifier: MIT
"""Descriptor handles safe to close while other threads use them (fd.h).

Each Fd object holds one reference to the C handle and drops it when garbage collected
(or at dispose()); the last reference closes the descriptor if nobody did. Every call may
be made from any thread."""
import contextlib
import ctypes

from . import _native as n
from ._owned import Owned
from .errors import check


class Fd(Owned):
    def __init__(self, raw):
        """Wraps a C handle whose reference the caller gives up."""
        self._raw = raw

    @classmethod
    def adopt(cls, fd, blocking=False, borrow=False):
        """Takes ownership of descriptor fd (borrow: never close it). blocking: it is in
        blocking mode and its open file description may be shared, so fdkit must leave it
        so. On failure the caller still owns fd."""
        flags = (n.FDK_FD_BLOCKING if blocking else 0) | (n.FDK_FD_BORROW if borrow else 0)
        raw = n.handle()
        check(n.fdk_fd_adopt(ctypes.byref(raw), fd, flags))
        return cls(raw)

    def ref(self):
        """Another Fd object on the same handle."""
        return Fd(n.handle(n.fdk_fd_ref(self._live)))

    def _release(self, raw):
        n.fdk_fd_unref(raw)

    def fileno(self):
        """The descriptor number (EBADF once closing). A system call made on it can race
        with a close from another thread: prefer use()."""
        return check(n.fdk_fd_raw(self._live))

    @contextlib.contextmanager
    def use(self):
        """Yields the descriptor number marked in use: a concurrent close waits for the
        block to end before the number can be reused."""
        raw = ctypes.c_int()
        check(n.fdk_fd_use(self._live, ctypes.byref(raw)))
        try:
            yield raw.value
        finally:
            n.fdk_fd_unuse(self._raw)

    def close(self):
        """Closes the descriptor now or when the last running operation ends; later uses
        through any reference raise EBADF."""
        check(n.fdk_fd_close(self._live))

    def release(self):
        """Waits until no operation uses the descriptor and returns it open; the handle
        then behaves as closed."""
        raw = ctypes.c_int()
        check(n.fdk_fd_release(self._live, ctypes.byref(raw)))
        return raw.value

    @property
    def blocking(self):
        return check(n.fdk_fd_is_blocking(self._live)) == 1


def pipe():
    """(read end, write end), both close-on-exec and non-blocking."""
    r, w = n.handle(), n.handle()
    check(n.fdk_pipe(ctypes.byref(r), ctypes.byref(w)))
    return Fd(r), Fd(w)
