# SPDX-License-Identifier: MIT
"""Directories that confine path resolution, and the calls made beneath them (fs.h).

A Dir stands for a directory every path given to it is resolved beneath: "..", absolute
paths and symlinks that would lead out are refused with an Error whose errno is EXDEV.
Dir.fs() is the unconfined file system (absolute paths allowed), Dir.cwd() the current
directory (confined to it). Every call may be made from any thread."""
import ctypes

from . import _native as n
from ._owned import Owned
from .errors import Error, check
from .fd import Fd
from .loop import Loop, _deliver

O_RDONLY, O_WRONLY, O_RDWR, O_APPEND = n.FDK_O_RDONLY, n.FDK_O_WRONLY, n.FDK_O_RDWR, n.FDK_O_APPEND
O_CREAT, O_EXCL, O_TRUNC, O_DIRECTORY = n.FDK_O_CREAT, n.FDK_O_EXCL, n.FDK_O_TRUNC, n.FDK_O_DIRECTORY
O_NOFOLLOW, O_NONBLOCK, O_PATH = n.FDK_O_NOFOLLOW, n.FDK_O_NONBLOCK, n.FDK_O_PATH


def _path(path):
    return n.c_string(path)


def _take_text(ptr, length):
    """The bytes of a buffer fdkit allocated, which it then frees."""
    try:
        return ctypes.string_at(ptr, length)
    finally:
        n.fdk_free(ptr)


class Stat:
    """What statat found: kind ("regular", "dir", "symlink"...), size, perm, ino."""

    def __init__(self, kind, size, perm, ino):
        self.kind, self.size, self.perm, self.ino = kind, size, perm, ino

    def __repr__(self):
        return f"Stat(kind={self.kind!r}, size={self.size}, perm={oct(self.perm)}, ino={self.ino})"


class Dir(Owned):
    def __init__(self, raw):
        """Wraps a C dir handle whose reference the caller gives up."""
        self._raw = raw

    @classmethod
    def fs(cls):
        return cls(n.handle(n.fdk_dir_fs()))

    @classmethod
    def cwd(cls):
        return cls(n.handle(n.fdk_dir_cwd()))

    @classmethod
    def at(cls, path, base=None):
        """The directory at path (beneath base, default the unconfined file system)."""
        raw = n.handle()
        check(n.fdk_dir_open(ctypes.byref(raw), (base or cls.fs())._raw, _path(path)), path)
        return cls(raw)

    def _release(self, raw):
        n.fdk_dir_unref(raw)

    def subdir(self, path):
        """The directory at path beneath this one, as a Dir confining in turn."""
        return Dir.at(path, self)

    def open(self, path, flags=O_RDONLY, mode=0o644):
        """An Fd on the file at path (close-on-exec; non-blocking with O_NONBLOCK)."""
        raw = n.handle()
        check(n.fdk_openat(ctypes.byref(raw), self._raw, _path(path), flags, mode), path)
        return Fd(raw)

    def mkdir(self, path, mode=0o755):
        check(n.fdk_mkdirat(self._raw, _path(path), mode), path)

    def unlink(self, path):
        check(n.fdk_unlinkat(self._raw, _path(path)), path)

    def rmdir(self, path):
        check(n.fdk_rmdirat(self._raw, _path(path)), path)

    def rename(self, old, new_dir, new):
        check(n.fdk_renameat(self._raw, _path(old), new_dir._raw, _path(new)), old, new)

    def symlink(self, target, path):
        """Creates path as a symlink to target (target is stored as given)."""
        check(n.fdk_symlinkat(_path(target), self._raw, _path(path)), target, path)

    def readlink(self, path):
        text = ctypes.c_void_p()
        length = check(n.fdk_readlinkat(ctypes.byref(text), self._raw, _path(path)), path)
        return _take_text(text, length)

    def stat(self, path, follow=True):
        st = n.handle()
        check(n.fdk_stat_new(ctypes.byref(st)))
        try:
            check(n.fdk_statat(st, self._raw, _path(path), 1 if follow else 0), path)
            return Stat(n.FDK_KIND_NAMES.get(n.fdk_stat_kind(st), "unknown"), n.fdk_stat_size(st),
                        n.fdk_stat_perm(st), n.fdk_stat_ino(st))
        finally:
            n.fdk_stat_free(st)

    def listdir(self, path=""):
        """[(name, kind)] of the directory at path, sorted by name."""
        ents = n.handle()
        count = check(n.fdk_readdir(ctypes.byref(ents), self._raw, _path(path)), path)
        try:
            return sorted((n.fdk_dirents_name(ents, i), n.FDK_KIND_NAMES.get(n.fdk_dirents_kind(ents, i), "unknown"))
                          for i in range(count))
        finally:
            n.fdk_dirents_free(ents)


@n.OPEN_CB
def _on_open(result, fd, key):
    _deliver(key, result, fd)


@n.TEXT_CB
def _on_text(result, text, key):
    _deliver(key, result, text)


def _open_done(done):
    def finish(result, fd):
        done(Error.last(result) if result < 0 else Fd(n.handle(fd)))
    return finish


def _text_done(done):
    def finish(result, text):
        done(Error.last(result) if result < 0 else _take_text(text, result))
    return finish


def _open_async(self, d, path, done, flags=O_RDONLY, mode=0o644):
    """done(Fd) or done(Error): the open runs on the worker pool."""
    p = _path(path)
    return self._start(_open_done(done), (d, p),
                       lambda _cb, key, op: n.fdk_openat_async(self._raw, d._raw, p, flags, mode, _on_open, key, op))


def _readlink_async(self, d, path, done):
    """done(target bytes) or done(Error)."""
    p = _path(path)
    return self._start(_text_done(done), (d, p),
                       lambda _cb, key, op: n.fdk_readlinkat_async(self._raw, d._raw, p, _on_text, key, op))


Loop.open_async = _open_async
Loop.readlink_async = _readlink_async
