# SPDX-License-Identifier: MIT
"""Reading, writing and the other calls on an open descriptor, and timers (io.h).

Synchronous calls are methods of Fd: they block the calling thread (ctypes releases the
GIL meanwhile) and may be made from any thread. Asynchronous calls are methods of Loop:
done(result) runs on the loop thread with the value, or with an Error instance when the
operation failed. Every call is one system call's worth (short counts are reported)."""
import ctypes

from . import _native as n
from .errors import Error, check
from .fd import Fd
from .loop import Loop

SEEK_SET, SEEK_CUR, SEEK_END = n.FDK_SEEK_SET, n.FDK_SEEK_CUR, n.FDK_SEEK_END


def _method(cls):
    def attach(fn):
        # Two areas giving a method one name would silently replace the first one.
        if fn.__name__ in vars(cls):
            raise TypeError(f"{cls.__name__}.{fn.__name__} is defined twice")
        setattr(cls, fn.__name__, fn)
        return fn
    return attach


def _source(data):
    """(pointer, length, keepalive) of bytes or any buffer, without copying."""
    view = memoryview(data).cast("B")
    if view.readonly:
        keep = bytes(view) if not isinstance(data, bytes) else data
        return ctypes.cast(ctypes.c_char_p(keep), ctypes.c_void_p), len(keep), keep
    array = (ctypes.c_char * len(view)).from_buffer(view)
    return ctypes.addressof(array), len(view), (view, array)


def _target(buffer, what):
    """(pointer, length, keepalive) of a writable buffer; a read-only one (bytes, a
    read-only memoryview) raises TypeError as io.RawIOBase.readinto does: writing into it
    would change an immutable object, and reading into a copy would lose the data."""
    view = memoryview(buffer)
    if view.readonly:
        raise TypeError(f"{what}() argument must be read-write bytes-like object, "
                        f"not {type(buffer).__name__}")
    view = view.cast("B")
    array = (ctypes.c_char * len(view)).from_buffer(view)
    return ctypes.addressof(array), len(view), (view, array)


def _iovecs(buffers, writable_as=None):
    """An iovec array over buffers; writable_as names the reading call for _target."""
    sources = [_target(b, writable_as) if writable_as else _source(b) for b in buffers]
    iov = (n.iovec * len(sources))(*[n.iovec(p, size) for p, size, _ in sources])
    return iov, len(sources), sources


def _sink(size):
    buf = ctypes.create_string_buffer(size)
    return buf, size


@_method(Fd)
def read(self, size):
    """Up to size bytes; b"" at end of file."""
    buf, size = _sink(size)
    count = check(n.fdk_read(self._live, buf, size))
    return buf.raw[:count]


@_method(Fd)
def readinto(self, buffer):
    """Reads into a writable buffer (bytearray, writable memoryview, array, mmap); returns
    the count. A read-only buffer raises TypeError."""
    ptr, size, _keep = _target(buffer, "readinto")
    return check(n.fdk_read(self._live, ptr, size))


@_method(Fd)
def write(self, data):
    ptr, size, _keep = _source(data)
    return check(n.fdk_write(self._live, ptr, size))


@_method(Fd)
def readv(self, buffers):
    """Scatters into writable buffers; returns the count. A read-only one raises TypeError."""
    iov, count, _keep = _iovecs(buffers, "readv")
    return check(n.fdk_readv(self._live, iov, count))


@_method(Fd)
def writev(self, buffers):
    iov, count, _keep = _iovecs(buffers)
    return check(n.fdk_writev(self._live, iov, count))


@_method(Fd)
def pread(self, size, offset):
    buf, size = _sink(size)
    iov = n.iovec(ctypes.cast(buf, ctypes.c_void_p), size)
    count = check(n.fdk_preadv(self._live, ctypes.byref(iov), 1, offset))
    return buf.raw[:count]


@_method(Fd)
def pwrite(self, data, offset):
    iov, count, _keep = _iovecs([data])
    return check(n.fdk_pwritev(self._live, iov, count, offset))


@_method(Fd)
def seek(self, offset, whence=SEEK_SET):
    return check(n.fdk_lseek(self._live, offset, whence))


@_method(Fd)
def fsync(self, data_only=False):
    check(n.fdk_fsync(self._live, n.FDK_FSYNC_DATA if data_only else 0))


@_method(Fd)
def truncate(self, length):
    check(n.fdk_ftruncate(self._live, length))


def getrandom(size, nonblock=False):
    """size random bytes (at most 33554431 per call)."""
    buf, size = _sink(size)
    count = check(n.fdk_getrandom(buf, size, n.FDK_RANDOM_NONBLOCK if nonblock else 0))
    return buf.raw[:count]


def now_ns():
    """Nanoseconds on the monotonic clock."""
    return n.fdk_now_ns()


def _outcome(result, value=None):
    """What done() receives: an Error for a failure (its detail is the loop thread's last
    error, set before the callback), else value(result)."""
    if result < 0:
        return Error.last(result)
    return value(result) if value else result


@_method(Loop)
def read_async(self, fd, size, done):
    """done(bytes read) or done(Error)."""
    buf, size = _sink(size)
    return self._start(lambda r: done(_outcome(r, lambda k: buf.raw[:k])), (fd.ref(), buf),
                       lambda cb, key, op: n.fdk_read_async(self._live, fd._live, buf, size, cb, key, op))


@_method(Loop)
def write_async(self, fd, data, done):
    """done(count written) or done(Error). data is referenced, not copied, until then."""
    ptr, size, keep = _source(data)
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), keep),
                       lambda cb, key, op: n.fdk_write_async(self._live, fd._live, ptr, size, cb, key, op))


@_method(Loop)
def getrandom_async(self, size, done):
    """done(random bytes) or done(Error), filled on the worker pool."""
    buf, size = _sink(size)
    return self._start(lambda r: done(_outcome(r, lambda k: buf.raw[:k])), buf,
                       lambda cb, key, op: n.fdk_getrandom_async(self._live, buf, size, 0, cb, key, op))


@_method(Loop)
def sleep_until(self, deadline_ns, done):
    """done(None) once now_ns() >= deadline_ns (never earlier), or done(Error)."""
    return self._start(lambda r: done(_outcome(r, lambda _: None)), None,
                       lambda cb, key, op: n.fdk_sleep_until(self._live, deadline_ns, cb, key, op))


@_method(Loop)
def readv_async(self, fd, buffers, done):
    """done(count) or done(Error): scatters into the writable buffers, which stay
    referenced until then. A read-only one raises TypeError."""
    iov, count, keep = _iovecs(buffers, "readv_async")
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), iov, keep),
                       lambda cb, key, op: n.fdk_readv_async(self._live, fd._live, iov, count, cb, key, op))


@_method(Loop)
def writev_async(self, fd, buffers, done):
    iov, count, keep = _iovecs(buffers)
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), iov, keep),
                       lambda cb, key, op: n.fdk_writev_async(self._live, fd._live, iov, count, cb, key, op))


@_method(Loop)
def pread_async(self, fd, size, offset, done):
    """done(bytes) or done(Error), read at offset without moving the file position."""
    buf, size = _sink(size)
    iov = (n.iovec * 1)(n.iovec(ctypes.cast(buf, ctypes.c_void_p), size))
    return self._start(lambda r: done(_outcome(r, lambda k: buf.raw[:k])), (fd.ref(), buf, iov),
                       lambda cb, key, op: n.fdk_preadv_async(self._live, fd._live, iov, 1, offset, cb, key, op))


@_method(Loop)
def pwrite_async(self, fd, data, offset, done):
    iov, count, keep = _iovecs([data])
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), iov, keep),
                       lambda cb, key, op: n.fdk_pwritev_async(self._live, fd._live, iov, count, offset, cb, key, op))


@_method(Loop)
def seek_async(self, fd, offset, whence, done):
    """done(new offset) or done(Error), on the worker pool."""
    return self._start(lambda r: done(_outcome(r)), fd.ref(),
                       lambda cb, key, op: n.fdk_lseek_async(self._live, fd._live, offset, whence, cb, key, op))


@_method(Loop)
def fsync_async(self, fd, done, data_only=False):
    flags = n.FDK_FSYNC_DATA if data_only else 0
    return self._start(lambda r: done(_outcome(r, lambda _: None)), fd.ref(),
                       lambda cb, key, op: n.fdk_fsync_async(self._live, fd._live, flags, cb, key, op))


@_method(Loop)
def truncate_async(self, fd, length, done):
    return self._start(lambda r: done(_outcome(r, lambda _: None)), fd.ref(),
                       lambda cb, key, op: n.fdk_ftruncate_async(self._live, fd._live, length, cb, key, op))


@_method(Loop)
def write_all_async(self, fd, data, done):
    """done(len(data)) once every byte is written, or done(Error). Writes on one handle
    are queued in order and never interleave (fdk_write_all_async)."""
    ptr, size, keep = _source(data)
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), keep),
                       lambda cb, key, op: n.fdk_write_all_async(self._live, fd._live, ptr, size, cb, key, op))


@_method(Loop)
def writev_all_async(self, fd, buffers, done):
    """done(total length) once every byte of every buffer is written, or done(Error);
    queued with write_all_async's writes on the same handle, in order."""
    iov, count, keep = _iovecs(buffers)
    return self._start(lambda r: done(_outcome(r)), (fd.ref(), iov, keep),
                       lambda cb, key, op: n.fdk_writev_all_async(self._live, fd._live, iov, count, cb, key, op))


@_method(Loop)
def write_queue_size(self, fd):
    """Bytes queued on fd by write_all_async and not yet written."""
    return check(n.fdk_write_queue_size(self._live, fd._live))
