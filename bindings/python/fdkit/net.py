# SPDX-License-Identifier: MIT
"""Sockets and messages with descriptor passing (net.h). Sockets are Fd objects:
close-on-exec and non-blocking; the synchronous calls wait with poll(2) when needed."""
import ctypes
import socket as _socket

from . import _native as n
from .errors import check
from .fd import Fd
from .io import _iovecs, _method, _outcome
from .loop import Loop

SHUT_RD, SHUT_WR, SHUT_RDWR = n.FDK_SHUT_RD, n.FDK_SHUT_WR, n.FDK_SHUT_RDWR
MSG_TRUNC, MSG_CTRUNC = n.FDK_MSG_TRUNC, n.FDK_MSG_CTRUNC

# Descriptors one message can carry (fdkit's limit).
MAX_PASS_FDS = 253


def socket(family=_socket.AF_INET, type=_socket.SOCK_STREAM, proto=0):
    raw = n.handle()
    check(n.fdk_socket(ctypes.byref(raw), family, type, proto))
    return Fd(raw)


def socketpair(family=_socket.AF_UNIX, type=_socket.SOCK_STREAM, proto=0):
    a, b = n.handle(), n.handle()
    check(n.fdk_socketpair(ctypes.byref(a), ctypes.byref(b), family, type, proto))
    return Fd(a), Fd(b)


@_method(Fd)
def shutdown(self, how):
    check(n.fdk_shutdown(self._raw, how))


@_method(Fd)
def send_msg(self, buffers, fds=()):
    """Sends the buffers as one message with the Fd objects in fds passed along (the
    receiver gets its own descriptors). Returns the count of bytes sent."""
    iov, count, _keep = _iovecs(buffers)
    handles = (n.handle * max(len(fds), 1))(*[f._raw for f in fds])
    return check(n.fdk_send_msg(self._raw, iov, count, None, 0, handles if fds else None, len(fds)))


def _received(handles, nfds):
    return [Fd(n.handle(handles[i])) for i in range(nfds.value)]


@_method(Fd)
def recv_msg(self, size, max_fds=0):
    """(data, [Fd], flags) of one message: up to size bytes, and up to max_fds descriptors
    (close-on-exec on arrival). flags has MSG_CTRUNC when more descriptors came than fit:
    those were closed."""
    buf = ctypes.create_string_buffer(size)
    iov = (n.iovec * 1)(n.iovec(ctypes.cast(buf, ctypes.c_void_p), size))
    handles = (n.handle * max(max_fds, 1))()
    nfds, flags = ctypes.c_int(max_fds), ctypes.c_uint()
    got = check(n.fdk_recv_msg(self._raw, iov, 1, None, None, handles if max_fds else None,
                               ctypes.byref(nfds) if max_fds else None, ctypes.byref(flags)))
    return buf.raw[:got], _received(handles, nfds) if max_fds else [], flags.value


@_method(Loop)
def recv_msg_async(self, fd, size, done, max_fds=0):
    """done((data, [Fd], flags)) or done(Error) once a message arrived."""
    buf = ctypes.create_string_buffer(size)
    iov = (n.iovec * 1)(n.iovec(ctypes.cast(buf, ctypes.c_void_p), size))
    handles = (n.handle * max(max_fds, 1))()
    nfds, flags = ctypes.c_int(max_fds), ctypes.c_uint()

    def finish(result):
        done(_outcome(result, lambda k: (buf.raw[:k], _received(handles, nfds) if max_fds else [], flags.value)))

    return self._start(finish, (fd.ref(), buf, iov, handles, nfds, flags),
                       lambda cb, key, op: n.fdk_recv_msg_async(
                           self._raw, fd._raw, iov, 1, None, None, handles if max_fds else None,
                           ctypes.byref(nfds) if max_fds else None, ctypes.byref(flags), cb, key, op))
