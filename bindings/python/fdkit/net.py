# SPDX-License-Identifier: MIT
"""Sockets, messages with descriptor passing, and name resolution (net.h). Sockets are Fd
objects: close-on-exec and non-blocking; the synchronous calls wait with poll(2) when needed.

Addresses are written as the socket module writes them: (host, port) for AF_INET,
(host, port, flowinfo, scope_id) or (host, port) for AF_INET6, a path (str or bytes; a
leading NUL byte for the abstract namespace) for AF_UNIX. A host that is no numeric address
is resolved first (getaddrinfo), as socket.connect does."""
import ctypes
import errno
import os
import socket as _socket
import struct

from . import _native as n
from .errors import Error, check
from .fd import Fd
from .io import _iovecs, _method, _outcome
from .loop import Loop, _on_pointer

SHUT_RD, SHUT_WR, SHUT_RDWR = n.FDK_SHUT_RD, n.FDK_SHUT_WR, n.FDK_SHUT_RDWR
MSG_TRUNC, MSG_CTRUNC = n.FDK_MSG_TRUNC, n.FDK_MSG_CTRUNC

# Descriptors one message can carry (fdkit's limit).
MAX_PASS_FDS = 253

# getaddrinfo flags: fdkit's own values, not the socket module's AI_*.
AI_PASSIVE, AI_CANONNAME, AI_NUMERICHOST, AI_NUMERICSERV = (n.FDK_AI_PASSIVE, n.FDK_AI_CANONNAME,
                                                            n.FDK_AI_NUMERICHOST, n.FDK_AI_NUMERICSERV)
AI_ADDRCONFIG, AI_V4MAPPED, AI_ALL = n.FDK_AI_ADDRCONFIG, n.FDK_AI_V4MAPPED, n.FDK_AI_ALL

_SOCKADDR_MAX = 128  # sizeof(struct sockaddr_storage)
_UNIX_PATH_MAX = 108
_FAMILY = struct.Struct("=H")  # sa_family_t, in host order


def _host(family, host):
    """The packed address of a numeric host, "" (any), or a name resolved by getaddrinfo."""
    if host == "":
        return bytes(4 if family == _socket.AF_INET else 16)
    try:
        return _socket.inet_pton(family, host)
    except OSError:
        entries = getaddrinfo(host, None, family)
        return _socket.inet_pton(family, entries[0][4][0])


def _encode(family, address):
    """(struct sockaddr buffer, its length) for a socket-module style address."""
    if family == _socket.AF_UNIX:
        path = os.fsencode(address)
        if not path.startswith(b"\0"):
            path += b"\0"
        if len(path) > _UNIX_PATH_MAX:
            raise OSError(errno.ENAMETOOLONG, "AF_UNIX path too long")
        raw = _FAMILY.pack(family) + path
    elif family == _socket.AF_INET:
        host, port = address
        raw = _FAMILY.pack(family) + struct.pack("!H", port) + _host(family, host) + bytes(8)
    elif family == _socket.AF_INET6:
        host, port, flowinfo, scope_id = (tuple(address) + (0, 0))[:4]
        raw = (_FAMILY.pack(family) + struct.pack("!HI", port, flowinfo) + _host(family, host)
               + struct.pack("=I", scope_id))
    else:
        raise ValueError(f"no address encoding for family {family}")
    return ctypes.create_string_buffer(raw, len(raw)), len(raw)


def _decode(buf, length):
    """The socket-module style address in a struct sockaddr buffer."""
    raw = bytes(buf)[:length]
    if length < _FAMILY.size:
        return None
    family = _FAMILY.unpack_from(raw)[0]
    if family == _socket.AF_UNIX:
        path = raw[2:]
        return path if path.startswith(b"\0") else os.fsdecode(path.split(b"\0", 1)[0])
    if family == _socket.AF_INET:
        return _socket.inet_ntop(family, raw[4:8]), struct.unpack_from("!H", raw, 2)[0]
    if family == _socket.AF_INET6:
        port, flowinfo = struct.unpack_from("!HI", raw, 2)
        return _socket.inet_ntop(family, raw[8:24]), port, flowinfo, struct.unpack_from("=I", raw, 24)[0]
    return family, raw


def _family(fd):
    return fd.getsockopt(_socket.SOL_SOCKET, _socket.SO_DOMAIN)


def _address_out():
    return ctypes.create_string_buffer(_SOCKADDR_MAX), n.socklen(_SOCKADDR_MAX)


def socket(family=_socket.AF_INET, type=_socket.SOCK_STREAM, proto=0):
    raw = n.handle()
    check(n.fdk_socket(ctypes.byref(raw), family, type, proto))
    return Fd(raw)


def socketpair(family=_socket.AF_UNIX, type=_socket.SOCK_STREAM, proto=0):
    a, b = n.handle(), n.handle()
    check(n.fdk_socketpair(ctypes.byref(a), ctypes.byref(b), family, type, proto))
    return Fd(a), Fd(b)


@_method(Fd)
def bind(self, address):
    buf, length = _encode(_family(self), address)
    check(n.fdk_bind(self._live, buf, length))


@_method(Fd)
def listen(self, backlog=128):
    check(n.fdk_listen(self._live, backlog))


@_method(Fd)
def connect(self, address):
    """Connects, waiting for the connection (ConnectionRefusedError, TimeoutError...)."""
    buf, length = _encode(_family(self), address)
    check(n.fdk_connect(self._live, buf, length))


@_method(Fd)
def accept(self):
    """(Fd of the new connection, the peer's address); the Fd is non-blocking."""
    conn, (buf, length) = n.handle(), _address_out()
    check(n.fdk_accept(ctypes.byref(conn), self._live, buf, ctypes.byref(length)))
    return Fd(conn), _decode(buf, length.value)


def _name(call, fd):
    buf, length = _address_out()
    check(call(fd._live, buf, ctypes.byref(length)))
    return _decode(buf, length.value)


@_method(Fd)
def getsockname(self):
    return _name(n.fdk_getsockname, self)


@_method(Fd)
def getpeername(self):
    """The peer's address; OSError ENOTCONN when not connected."""
    return _name(n.fdk_getpeername, self)


@_method(Fd)
def setsockopt(self, level, name, value):
    """An option whose value is an int (socket.SO_REUSEADDR, TCP_NODELAY...)."""
    check(n.fdk_setsockopt_int(self._live, level, name, int(value)))


@_method(Fd)
def getsockopt(self, level, name):
    value = ctypes.c_int()
    check(n.fdk_getsockopt_int(self._live, level, name, ctypes.byref(value)))
    return value.value


@_method(Fd)
def shutdown(self, how):
    check(n.fdk_shutdown(self._live, how))


def _message(fd, buffers, fds, address):
    """The C arguments of a send: iovecs, count, destination, its length, handles, and what
    must stay alive meanwhile."""
    iov, count, keep = _iovecs(buffers)
    handles = (n.handle * max(len(fds), 1))(*[f._live for f in fds])
    dest, destlen = _encode(_family(fd), address) if address is not None else (None, 0)
    return (iov, count, dest, destlen, handles if fds else None, len(fds)), (keep, iov, handles, dest, list(fds))


@_method(Fd)
def send_msg(self, buffers, fds=(), address=None):
    """Sends the buffers as one message with the Fd objects in fds passed along (the
    receiver gets its own descriptors), to address on an unconnected datagram socket.
    Returns the count of bytes sent."""
    args, _keep = _message(self, buffers, fds, address)
    return check(n.fdk_send_msg(self._live, *args))


class _Receive:
    """The out-parameters of one fdk_recv_msg call and the tuple they make."""

    def __init__(self, size, max_fds, with_address):
        self.buf = ctypes.create_string_buffer(size)
        self.iov = (n.iovec * 1)(n.iovec(ctypes.cast(self.buf, ctypes.c_void_p), size))
        self.handles = (n.handle * max(max_fds, 1))()
        self.nfds, self.flags = ctypes.c_int(max_fds), ctypes.c_uint()
        self.max_fds = max_fds
        self.addr, self.addrlen = _address_out() if with_address else (None, None)

    def args(self):
        """The C arguments after the handle: iov, iovcnt, from, fromlen, fds, nfds, flags."""
        return (self.iov, 1, self.addr, ctypes.byref(self.addrlen) if self.addr else None,
                self.handles if self.max_fds else None, ctypes.byref(self.nfds) if self.max_fds else None,
                ctypes.byref(self.flags))

    def result(self, count):
        fds = [Fd(n.handle(self.handles[i])) for i in range(self.nfds.value)] if self.max_fds else []
        out = (self.buf.raw[:count], fds, self.flags.value)
        return out + (_decode(self.addr, self.addrlen.value),) if self.addr else out


@_method(Fd)
def recv_msg(self, size, max_fds=0, with_address=False):
    """(data, [Fd], flags) of one message: up to size bytes, and up to max_fds descriptors
    (close-on-exec on arrival). flags has MSG_CTRUNC when more descriptors came than fit:
    those were closed. with_address adds the sender's address (as socket.recvfrom gives
    it) as a fourth item."""
    receive = _Receive(size, max_fds, with_address)
    return receive.result(check(n.fdk_recv_msg(self._live, *receive.args())))


@_method(Loop)
def recv_msg_async(self, fd, size, done, max_fds=0, with_address=False):
    """done(the tuple Fd.recv_msg returns) or done(Error) once a message arrived."""
    receive = _Receive(size, max_fds, with_address)
    return self._start(lambda r: done(_outcome(r, receive.result)), (fd.ref(), receive),
                       lambda cb, key, op: n.fdk_recv_msg_async(self._live, fd._live, *receive.args(), cb, key, op))


@_method(Loop)
def send_msg_async(self, fd, buffers, done, fds=(), address=None):
    """done(count sent) or done(Error); the arguments of Fd.send_msg."""
    args, keep = _message(fd, buffers, fds, address)
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), keep),
                       lambda cb, key, op: n.fdk_send_msg_async(self._live, fd._live, *args, cb, key, op))


@_method(Loop)
def connect_async(self, fd, address, done):
    """done(None) once connected, or done(Error) (ConnectionRefusedError...)."""
    buf, length = _encode(_family(fd), address)
    return self._start(lambda r: done(_outcome(r, lambda _: None)), (fd.ref(), buf),
                       lambda cb, key, op: n.fdk_connect_async(self._live, fd._live, buf, length, cb, key, op))


@_method(Loop)
def accept_async(self, listener, done):
    """done((Fd, peer address)) or done(Error)."""
    buf, length = _address_out()

    def finish(result, conn):
        done(Error.last(result) if result < 0 else (Fd(n.handle(conn)), _decode(buf, length.value)))
    return self._start(finish, (listener.ref(), buf, length),
                       lambda _cb, key, op: n.fdk_accept_async(self._live, listener._live, buf, ctypes.byref(length),
                                                               _on_pointer, key, op))


@_method(Loop)
def shutdown_async(self, fd, how, done):
    return self._start(lambda r: done(_outcome(r, lambda _: None)), fd.ref(),
                       lambda cb, key, op: n.fdk_shutdown_async(self._live, fd._live, how, cb, key, op))


def _service(port):
    return None if port is None else n.c_string(str(port))


def _take_addrinfo(ai):
    """socket.getaddrinfo's list of (family, type, proto, canonname, address) from an
    fdk_addrinfo, which is then freed; canonname is on the first entry only, as there."""
    try:
        canon = n.fdk_addrinfo_canonname(ai)
        out = []
        for i in range(n.fdk_addrinfo_count(ai)):
            family, socktype, proto = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            addr, length = ctypes.c_void_p(), n.socklen()
            check(n.fdk_addrinfo_entry(ai, i, ctypes.byref(family), ctypes.byref(socktype), ctypes.byref(proto),
                                       ctypes.byref(addr), ctypes.byref(length)))
            name = canon.decode() if canon and i == 0 else ""
            out.append((family.value, socktype.value, proto.value, name,
                        _decode(ctypes.string_at(addr, length.value), length.value)))
        return out
    finally:
        n.fdk_addrinfo_free(ai)


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """As socket.getaddrinfo: [(family, type, proto, canonname, address)]. flags are this
    module's AI_* values. A name that does not resolve raises FileNotFoundError (ENOENT),
    with the resolver's text in detail."""
    ai = n.handle()
    check(n.fdk_getaddrinfo(ctypes.byref(ai), None if host is None else n.c_string(host), _service(port),
                            family, type, proto, flags), host)
    return _take_addrinfo(ai)


@_method(Loop)
def getaddrinfo_async(self, host, port, done, family=0, type=0, proto=0, flags=0):
    """done(list as getaddrinfo returns it) or done(Error); the resolver runs on the
    worker pool."""
    h, serv = None if host is None else n.c_string(host), _service(port)

    def finish(result, ai):
        done(Error.last(result, host) if result < 0 else _take_addrinfo(n.handle(ai)))
    return self._start(finish, (h, serv),
                       lambda _cb, key, op: n.fdk_getaddrinfo_async(self._live, h, serv, family, type, proto, flags,
                                                                    _on_pointer, key, op))
