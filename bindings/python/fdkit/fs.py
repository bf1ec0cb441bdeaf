# SPDX-License-Identifier: MIT
"""Directories that confine path resolution, and the calls made beneath them (fs.h).

A Dir stands for a directory every path given to it is resolved beneath: "..", absolute
paths and symlinks that would lead out are refused with an Error whose errno is EXDEV.
Dir.fs() is the unconfined file system (absolute paths allowed), Dir.cwd() the current
directory (confined to it). Every call may be made from any thread."""
import ctypes
import errno
import os
import stat as _stat

from . import _native as n
from ._owned import Owned
from .errors import Error, check
from .fd import Fd
from .io import _method
from .loop import Loop, _deliver, _on_pointer

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


def _time_ns(getter, st):
    """A stat time as integer nanoseconds, None when the file system keeps none."""
    sec, nsec = ctypes.c_int64(), ctypes.c_int64()
    return sec.value * 1_000_000_000 + nsec.value if getter(st, ctypes.byref(sec), ctypes.byref(nsec)) == 0 else None


class Stat:
    """What stat or Fd.stat found, named as os.stat_result names it where it can: kind
    ("regular", "dir", "symlink"...), size, perm (07777), mode (st_mode), ino, dev, rdev,
    nlink, uid, gid, blocks (512-byte units), blksize, and the times as integer nanoseconds:
    atime_ns, mtime_ns, ctime_ns, and birthtime_ns (None where the file system keeps none).
    The st_* names of os.stat_result (st_mode, st_size, st_mtime...) are aliases."""

    _FIELDS = ("size", "blocks", "blksize", "ino", "dev", "rdev", "nlink", "uid", "gid", "perm", "mode")

    def __init__(self, st):
        self.kind = n.FDK_KIND_NAMES.get(n.fdk_stat_kind(st), "unknown")
        self.size, self.blocks, self.blksize = n.fdk_stat_size(st), n.fdk_stat_blocks(st), n.fdk_stat_blksize(st)
        self.ino, self.dev, self.rdev, self.nlink = (n.fdk_stat_ino(st), n.fdk_stat_dev(st), n.fdk_stat_rdev(st),
                                                     n.fdk_stat_nlink(st))
        self.uid, self.gid = n.fdk_stat_uid(st), n.fdk_stat_gid(st)
        self.perm, self.mode = n.fdk_stat_perm(st), n.fdk_stat_mode(st)
        self.atime_ns = _time_ns(n.fdk_stat_atime, st)
        self.mtime_ns = _time_ns(n.fdk_stat_mtime, st)
        self.ctime_ns = _time_ns(n.fdk_stat_ctime, st)
        self.birthtime_ns = _time_ns(n.fdk_stat_btime, st)

    def __getattr__(self, name):
        # st_size, st_mtime_ns... as os.stat_result; st_mtime as float seconds.
        if name.startswith("st_"):
            base = name[3:]
            if base in ("atime", "mtime", "ctime", "birthtime"):
                ns = getattr(self, base + "_ns")
                return None if ns is None else ns / 1e9
            if base in self._FIELDS or base.endswith("_ns"):
                return getattr(self, base)
        raise AttributeError(name)

    def __repr__(self):
        return f"Stat(kind={self.kind!r}, size={self.size}, perm={oct(self.perm)}, ino={self.ino})"


def _filled_stat(fill):
    """A Stat from fill(st), a call that fills a fresh fdk_stat."""
    st = n.handle()
    check(n.fdk_stat_new(ctypes.byref(st)))
    try:
        fill(st)
        return Stat(st)
    finally:
        n.fdk_stat_free(st)


class DirIter(Owned):
    """The entries of one directory read as they are needed (fdk_dir_iter): iterate it for
    (name bytes, kind); it closes at the end, at dispose() or at the end of a with-block."""

    def __init__(self, raw):
        self._raw = raw

    def _release(self, raw):
        n.fdk_dir_iter_free(raw)

    def __iter__(self):
        return self

    def __next__(self):
        if not self._raw:
            raise StopIteration
        name, kind = ctypes.c_char_p(), ctypes.c_int()
        if check(n.fdk_dir_iter_next(self._live, ctypes.byref(name), ctypes.byref(kind))) == 0:
            self.dispose()
            raise StopIteration
        return name.value, n.FDK_KIND_NAMES.get(kind.value, "unknown")


RESOLVE_AUTO, RESOLVE_OPENAT2, RESOLVE_FALLBACK = n.FDK_RESOLVE_AUTO, n.FDK_RESOLVE_OPENAT2, n.FDK_RESOLVE_FALLBACK
UTIME_NOW, UTIME_OMIT = "now", "omit"
O_SYNC, O_DSYNC, O_NOCTTY = n.FDK_O_SYNC, n.FDK_O_DSYNC, n.FDK_O_NOCTTY
O_TMPFILE = n.FDK_O_TMPFILE
# Dir.access's modes (os.F_OK... have the same meaning) and Dir.setxattr's flags, which are
# fdkit's values: os.XATTR_CREATE and os.XATTR_REPLACE are not.
F_OK, R_OK, W_OK, X_OK = n.FDK_ACCESS_EXISTS, n.FDK_ACCESS_READ, n.FDK_ACCESS_WRITE, n.FDK_ACCESS_EXEC
XATTR_CREATE, XATTR_REPLACE = n.FDK_XATTR_CREATE, n.FDK_XATTR_REPLACE


def resolve_backend():
    """The confined-resolution strategy in use: RESOLVE_OPENAT2 or RESOLVE_FALLBACK."""
    return n.fdk_resolve_backend()


def set_resolve_backend(backend):
    """Forces RESOLVE_OPENAT2 or RESOLVE_FALLBACK for the whole process (RESOLVE_AUTO
    probes again); ENOSYS when openat2 is asked for and the kernel refuses it."""
    check(n.fdk_resolve_set_backend(backend))


def open_flags_supported(flags):
    """Whether Dir.open accepts this set of O_* flags here."""
    return n.fdk_open_flags_supported(flags) == 1


def _rename_flags(noreplace, exchange, whiteout):
    return ((n.FDK_RENAME_NOREPLACE if noreplace else 0) | (n.FDK_RENAME_EXCHANGE if exchange else 0)
            | (n.FDK_RENAME_WHITEOUT if whiteout else 0))


def _dir_flags(nofollow, no_xdev, no_symlinks, in_root):
    return ((n.FDK_DIR_NOFOLLOW if nofollow else 0) | (n.FDK_DIR_NO_XDEV if no_xdev else 0)
            | (n.FDK_DIR_NO_SYMLINKS if no_symlinks else 0) | (n.FDK_DIR_IN_ROOT if in_root else 0))


def _follow(follow):
    return n.FDK_FOLLOW if follow else 0


# The file type bits of os.mknod's mode, as fdkit's kinds; any other type is EINVAL.
_MKNOD_KINDS = {0: n.FDK_KIND_REGULAR, _stat.S_IFREG: n.FDK_KIND_REGULAR, _stat.S_IFIFO: n.FDK_KIND_FIFO,
                _stat.S_IFCHR: n.FDK_KIND_CHAR, _stat.S_IFBLK: n.FDK_KIND_BLOCK, _stat.S_IFSOCK: n.FDK_KIND_SOCKET}


def _mknod_kind(mode):
    return _MKNOD_KINDS.get(_stat.S_IFMT(mode), n.FDK_KIND_UNKNOWN)


# The answers of access that mean "no" (os.access returns False for them too); anything
# else (an escape, a closed dir, bad flags) is raised.
_ACCESS_DENIED = frozenset((errno.EACCES, errno.EPERM, errno.EROFS, errno.ETXTBSY, errno.ENOENT, errno.ENOTDIR,
                            errno.ELOOP))


def _access_flags(effective_ids, follow_symlinks):
    return (n.FDK_ACCESS_EFFECTIVE if effective_ids else 0) | _follow(follow_symlinks)


def _access_answer(result, path):
    """True, False, or the Error of a failure that is not a refusal."""
    if result >= 0:
        return True
    error = Error.last(result, path)
    return False if error.errno in _ACCESS_DENIED else error


def _xattr_name(attribute):
    return n.c_string(attribute)


def _xattr_names(raw):
    """os.listxattr's list of str from fdkit's NUL-terminated names."""
    return [os.fsdecode(name) for name in raw.split(b"\0") if name]


def _owner_id(value):
    return -1 if value is None else value


def _times(atime_ns, mtime_ns):
    """The (sec, nsec) pairs of utime: an integer of nanoseconds, UTIME_NOW or UTIME_OMIT
    (None means omit, as os.utime leaves a time it is not given)."""
    out = []
    for ns in (atime_ns, mtime_ns):
        if ns is None or ns == UTIME_OMIT:
            out += [0, n.FDK_UTIME_OMIT]
        elif ns == UTIME_NOW:
            out += [0, n.FDK_UTIME_NOW]
        else:
            out += list(divmod(ns, 1_000_000_000))
    return out


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
    def at(cls, path, base=None, *, nofollow=False, no_xdev=False, no_symlinks=False, in_root=False):
        """The directory at path (beneath base, default the unconfined file system).
        nofollow: a symlink as path's last component is NotADirectoryError. The scoping
        options hold for path and then for every path resolved beneath the new Dir (and
        beneath Dirs opened from it): no_xdev refuses to cross a mount point (EXDEV),
        no_symlinks to follow any symlink (ELOOP); in_root makes it a root, where ".."
        stays and absolute paths and symlink targets start, instead of an escape."""
        raw, flags = n.handle(), _dir_flags(nofollow, no_xdev, no_symlinks, in_root)
        base = (base or cls.fs())._live
        if flags:
            check(n.fdk_dir_open2(ctypes.byref(raw), base, _path(path), flags), path)
        else:
            check(n.fdk_dir_open(ctypes.byref(raw), base, _path(path)), path)
        return cls(raw)

    @classmethod
    def from_fd(cls, fd):
        """A Dir confined to the directory fd is open on. It shares fd's handle: closing fd
        closes the Dir's descriptor too (its calls then raise EBADF)."""
        raw = n.handle()
        check(n.fdk_dir_from_fd(ctypes.byref(raw), fd._live))
        return cls(raw)

    def ref(self):
        """Another Dir object on the same directory (one more C reference)."""
        return Dir(n.handle(n.fdk_dir_ref(self._live)))

    def fd(self):
        """An Fd on the directory's descriptor (for fchdir or Fd.use), or None for Dir.fs()
        and Dir.cwd(), which have none. It is a new reference: the Dir may go first."""
        raw = n.fdk_dir_handle(self._live)
        return Fd(n.handle(n.fdk_fd_ref(raw))) if raw else None

    def _release(self, raw):
        n.fdk_dir_unref(raw)

    def subdir(self, path, **scoping):
        """The directory at path beneath this one, as a Dir confining in turn (the
        options of Dir.at)."""
        return Dir.at(path, self, **scoping)

    def open(self, path, flags=O_RDONLY, mode=0o644):
        """An Fd on the file at path (close-on-exec; non-blocking with O_NONBLOCK)."""
        raw = n.handle()
        check(n.fdk_openat(ctypes.byref(raw), self._live, _path(path), flags, mode), path)
        return Fd(raw)

    def mkdir(self, path, mode=0o755):
        check(n.fdk_mkdirat(self._live, _path(path), mode), path)

    def unlink(self, path):
        check(n.fdk_unlinkat(self._live, _path(path)), path)

    def rmdir(self, path):
        check(n.fdk_rmdirat(self._live, _path(path)), path)

    def rename(self, old, new_dir, new, noreplace=False, exchange=False, whiteout=False):
        """Renames old to new beneath new_dir, replacing it as os.rename does; noreplace:
        FileExistsError instead; exchange: swap the two (both must exist); whiteout: leave
        an overlay whiteout (a 0:0 character device) at old, which needs CAP_MKNOD."""
        flags = _rename_flags(noreplace, exchange, whiteout)
        if flags:
            check(n.fdk_renameat2(self._live, _path(old), new_dir._live, _path(new), flags), old, new)
        else:
            check(n.fdk_renameat(self._live, _path(old), new_dir._live, _path(new)), old, new)

    def link(self, old, new_dir, new, follow_symlinks=False):
        """A hard link new (beneath new_dir) to old. A symlink old is linked itself unless
        follow_symlinks (then what it points to, confined beneath this Dir); the default
        is the reverse of os.link's, as linkat's."""
        if follow_symlinks:
            check(n.fdk_linkat2(self._live, _path(old), new_dir._live, _path(new), n.FDK_FOLLOW), old, new)
        else:
            check(n.fdk_linkat(self._live, _path(old), new_dir._live, _path(new)), old, new)

    def link_fd(self, fd, path):
        """Gives the file fd is open on the name path (its last component not followed):
        publishes a file opened with O_TMPFILE. FileExistsError when path exists,
        FileNotFoundError for a file with no link left or opened with O_TMPFILE | O_EXCL."""
        check(n.fdk_linkat_fd(fd._live, self._live, _path(path)), path)

    def mknod(self, path, mode=0o600, device=0):
        """Creates a file of the type mode's S_IF* bits name (regular when none, a FIFO,
        a character or block device numbered device, a socket), as os.mknod; the umask
        applies. PermissionError for a device without CAP_MKNOD."""
        check(n.fdk_mknodat(self._live, _path(path), _mknod_kind(mode), _stat.S_IMODE(mode), device), path)

    def mkfifo(self, path, mode=0o666):
        check(n.fdk_mkfifoat(self._live, _path(path), mode), path)

    def truncate(self, path, length):
        """Sets the size of the file at path (a symlink is followed, confined), as
        os.truncate."""
        check(n.fdk_truncateat(self._live, _path(path), length), path)

    def access(self, path, mode, *, effective_ids=False, follow_symlinks=True):
        """Whether the caller may access path with every permission of mode (F_OK, or
        R_OK | W_OK | X_OK), as os.access: False when refused or missing; an escape or
        a bad argument is raised."""
        answer = _access_answer(n.fdk_faccessat(self._live, _path(path), mode,
                                                _access_flags(effective_ids, follow_symlinks)), path)
        if isinstance(answer, Error):
            raise answer
        return answer

    def getxattr(self, path, attribute, *, follow_symlinks=True):
        """The value (bytes) of the extended attribute of path, as os.getxattr: OSError
        ENODATA when it has none of that name."""
        value = ctypes.c_void_p()
        length = check(n.fdk_getxattrat(ctypes.byref(value), self._live, _path(path), _xattr_name(attribute),
                                        _follow(follow_symlinks)), path)
        return _take_text(value, length)

    def setxattr(self, path, attribute, value, flags=0, *, follow_symlinks=True):
        """Sets the extended attribute to value (bytes), as os.setxattr; flags: 0,
        XATTR_CREATE (FileExistsError if set) or XATTR_REPLACE (ENODATA if not)."""
        value = bytes(value)
        check(n.fdk_setxattrat(self._live, _path(path), _xattr_name(attribute), value, len(value),
                               flags | _follow(follow_symlinks)), path)

    def listxattr(self, path, *, follow_symlinks=True):
        """The names (str) of path's extended attributes, as os.listxattr."""
        names = ctypes.c_void_p()
        length = check(n.fdk_listxattrat(ctypes.byref(names), self._live, _path(path), _follow(follow_symlinks)),
                       path)
        return _xattr_names(_take_text(names, length))

    def removexattr(self, path, attribute, *, follow_symlinks=True):
        check(n.fdk_removexattrat(self._live, _path(path), _xattr_name(attribute), _follow(follow_symlinks)), path)

    def chmod(self, path, mode, follow=True):
        check(n.fdk_chmodat(self._live, _path(path), mode, n.FDK_FOLLOW if follow else 0), path)

    def chown(self, path, uid=None, gid=None, follow=True):
        """None (or -1) leaves that id unchanged."""
        check(n.fdk_chownat(self._live, _path(path), _owner_id(uid), _owner_id(gid), n.FDK_FOLLOW if follow else 0),
              path)

    def utime(self, path, atime_ns=UTIME_NOW, mtime_ns=UTIME_NOW, follow=True):
        """Sets the access and modification times: integer nanoseconds, UTIME_NOW (the
        default, as os.utime without times) or UTIME_OMIT / None (left unchanged)."""
        check(n.fdk_utimensat(self._live, _path(path), *_times(atime_ns, mtime_ns), n.FDK_FOLLOW if follow else 0),
              path)

    def realpath(self, path=""):
        """The symlink-free path (bytes): relative to this Dir (b"." for itself) when it
        confines, absolute for Dir.fs()."""
        text = ctypes.c_void_p()
        length = check(n.fdk_realpath(ctypes.byref(text), self._live, _path(path)), path)
        return _take_text(text, length)

    def scandir(self, path=""):
        """A DirIter over the directory at path: (name, kind) pairs in the file system's
        order, read a batch at a time, for directories too large for listdir."""
        raw = n.handle()
        check(n.fdk_dir_iter_open(ctypes.byref(raw), self._live, _path(path)), path)
        return DirIter(raw)

    def symlink(self, target, path):
        """Creates path as a symlink to target (target is stored as given)."""
        check(n.fdk_symlinkat(_path(target), self._live, _path(path)), target, path)

    def readlink(self, path):
        text = ctypes.c_void_p()
        length = check(n.fdk_readlinkat(ctypes.byref(text), self._live, _path(path)), path)
        return _take_text(text, length)

    def stat(self, path, follow=True):
        p = _path(path)
        return _filled_stat(lambda st: check(n.fdk_statat(st, self._live, p, 1 if follow else 0), path))

    def listdir(self, path=""):
        """[(name, kind)] of the directory at path, sorted by name."""
        ents = n.handle()
        check(n.fdk_readdir(ctypes.byref(ents), self._live, _path(path)), path)
        return _take_entries(ents)


def _take_entries(ents):
    """The sorted (name, kind) pairs of an entry list fdkit allocated, which it then frees."""
    try:
        return sorted((n.fdk_dirents_name(ents, i), n.FDK_KIND_NAMES.get(n.fdk_dirents_kind(ents, i), "unknown"))
                      for i in range(n.fdk_dirents_count(ents)))
    finally:
        n.fdk_dirents_free(ents)


def _fd_stat(self):
    """A Stat of the open file (fstat)."""
    return _filled_stat(lambda st: check(n.fdk_fstat(st, self._live)))


Fd.stat = _fd_stat


@n.TEXT_CB
def _on_text(result, text, key):
    _deliver(key, result, text)


def _made_done(done, path, make):
    """The finish of a call whose C callback gives (result, pointer): done(make(result,
    pointer)), or done(Error) naming path."""
    def finish(result, ptr):
        done(Error.last(result, path) if result < 0 else make(result, ptr))
    return finish


def _open_done(done, path):
    return _made_done(done, path, lambda _r, fd: Fd(n.handle(fd)))


def _text_done(done, path):
    return _made_done(done, path, lambda length, text: _take_text(text, length))


def _open_async(self, d, path, done, flags=O_RDONLY, mode=0o644):
    """done(Fd) or done(Error): the open runs on the worker pool."""
    p = _path(path)
    return self._start(_open_done(done, path), (d, p),
                       lambda _cb, key, op: n.fdk_openat_async(self._live, d._live, p, flags, mode, _on_pointer, key, op))


def _readlink_async(self, d, path, done):
    """done(target bytes) or done(Error)."""
    p = _path(path)
    return self._start(_text_done(done, path), (d, p),
                       lambda _cb, key, op: n.fdk_readlinkat_async(self._live, d._live, p, _on_text, key, op))


Loop.open_async = _open_async
Loop.readlink_async = _readlink_async


def _done_none(done, path, path2=None):
    """done(None), or done(Error) naming the paths as the synchronous call's error does."""
    return lambda r: done(Error.last(r, path, path2) if r < 0 else None)


@_method(Loop)
def dir_open_async(self, base, path, done, *, nofollow=False, no_xdev=False, no_symlinks=False, in_root=False):
    """done(Dir) or done(Error): Dir.at(path, base, ...) without blocking the loop."""
    p, flags = _path(path), _dir_flags(nofollow, no_xdev, no_symlinks, in_root)
    if flags:
        start = lambda _cb, key, op: n.fdk_dir_open2_async(self._live, base._live, p, flags, _on_pointer, key, op)
    else:
        start = lambda _cb, key, op: n.fdk_dir_open_async(self._live, base._live, p, _on_pointer, key, op)
    return self._start(_made_done(done, path, lambda _r, d: Dir(n.handle(d))), (base, p), start)


def _path_call(self, d, path, done, start):
    """Starts start(dir handle, path bytes, cb, key, op) on this loop; done(None or Error)."""
    p = _path(path)
    return self._start(_done_none(done, path), (d, p), lambda cb, key, op: start(d._live, p, cb, key, op))


@_method(Loop)
def mkdir_async(self, d, path, done, mode=0o755):
    """done(None) or done(Error), as Dir.mkdir (likewise unlink_async, rmdir_async,
    chmod_async, chown_async, utime_async: Dir's arguments, then done, then its options)."""
    return _path_call(self, d, path, done, lambda *a: n.fdk_mkdirat_async(self._live, *a[:2], mode, *a[2:]))


@_method(Loop)
def unlink_async(self, d, path, done):
    return _path_call(self, d, path, done, lambda *a: n.fdk_unlinkat_async(self._live, *a))


@_method(Loop)
def rmdir_async(self, d, path, done):
    return _path_call(self, d, path, done, lambda *a: n.fdk_rmdirat_async(self._live, *a))


@_method(Loop)
def chmod_async(self, d, path, mode, done, follow=True):
    flags = n.FDK_FOLLOW if follow else 0
    return _path_call(self, d, path, done, lambda *a: n.fdk_chmodat_async(self._live, *a[:2], mode, flags, *a[2:]))


@_method(Loop)
def chown_async(self, d, path, done, uid=None, gid=None, follow=True):
    ids, flags = (_owner_id(uid), _owner_id(gid)), n.FDK_FOLLOW if follow else 0
    return _path_call(self, d, path, done, lambda *a: n.fdk_chownat_async(self._live, *a[:2], *ids, flags, *a[2:]))


@_method(Loop)
def utime_async(self, d, path, done, atime_ns=UTIME_NOW, mtime_ns=UTIME_NOW, follow=True):
    times, flags = _times(atime_ns, mtime_ns), n.FDK_FOLLOW if follow else 0
    return _path_call(self, d, path, done, lambda *a: n.fdk_utimensat_async(self._live, *a[:2], *times, flags, *a[2:]))


@_method(Loop)
def rename_async(self, old_dir, old, new_dir, new, done, noreplace=False, exchange=False, whiteout=False):
    """done(None) or done(Error); the flags as Dir.rename's."""
    po, pn, flags = _path(old), _path(new), _rename_flags(noreplace, exchange, whiteout)
    if flags:
        start = lambda cb, key, op: n.fdk_renameat2_async(self._live, old_dir._live, po, new_dir._live, pn, flags,
                                                          cb, key, op)
    else:
        start = lambda cb, key, op: n.fdk_renameat_async(self._live, old_dir._live, po, new_dir._live, pn, cb, key, op)
    return self._start(_done_none(done, old, new), (old_dir, new_dir, po, pn), start)


@_method(Loop)
def link_async(self, old_dir, old, new_dir, new, done, follow_symlinks=False):
    po, pn = _path(old), _path(new)
    if follow_symlinks:
        start = lambda cb, key, op: n.fdk_linkat2_async(self._live, old_dir._live, po, new_dir._live, pn, n.FDK_FOLLOW,
                                                        cb, key, op)
    else:
        start = lambda cb, key, op: n.fdk_linkat_async(self._live, old_dir._live, po, new_dir._live, pn, cb, key, op)
    return self._start(_done_none(done, old, new), (old_dir, new_dir, po, pn), start)


@_method(Loop)
def link_fd_async(self, fd, d, path, done):
    """done(None) or done(Error), as Dir.link_fd (likewise mknod_async, mkfifo_async,
    truncate_path_async, access_async, and the xattr calls: Dir's arguments, then done,
    then its options)."""
    p = _path(path)
    return self._start(_done_none(done, path), (fd, d, p),
                       lambda cb, key, op: n.fdk_linkat_fd_async(self._live, fd._live, d._live, p, cb, key, op))


@_method(Loop)
def mknod_async(self, d, path, done, mode=0o600, device=0):
    kind, perm = _mknod_kind(mode), _stat.S_IMODE(mode)
    return _path_call(self, d, path, done, lambda *a: n.fdk_mknodat_async(self._live, *a[:2], kind, perm, device,
                                                                          *a[2:]))


@_method(Loop)
def mkfifo_async(self, d, path, done, mode=0o666):
    return _path_call(self, d, path, done, lambda *a: n.fdk_mkfifoat_async(self._live, *a[:2], mode, *a[2:]))


@_method(Loop)
def truncate_path_async(self, d, path, length, done):
    """As Dir.truncate (truncate_async is Fd.truncate's)."""
    return _path_call(self, d, path, done, lambda *a: n.fdk_truncateat_async(self._live, *a[:2], length, *a[2:]))


@_method(Loop)
def access_async(self, d, path, mode, done, *, effective_ids=False, follow_symlinks=True):
    """done(True or False) or done(Error), as Dir.access."""
    p, flags = _path(path), _access_flags(effective_ids, follow_symlinks)
    return self._start(lambda r: done(_access_answer(r, path)), (d, p),
                       lambda cb, key, op: n.fdk_faccessat_async(self._live, d._live, p, mode, flags, cb, key, op))


@_method(Loop)
def getxattr_async(self, d, path, attribute, done, *, follow_symlinks=True):
    """done(value bytes) or done(Error)."""
    p, name, flags = _path(path), _xattr_name(attribute), _follow(follow_symlinks)
    return self._start(_text_done(done, path), (d, p, name),
                       lambda _cb, key, op: n.fdk_getxattrat_async(self._live, d._live, p, name, flags, _on_text, key,
                                                                   op))


@_method(Loop)
def setxattr_async(self, d, path, attribute, value, done, flags=0, *, follow_symlinks=True):
    p, name, value = _path(path), _xattr_name(attribute), bytes(value)
    flags |= _follow(follow_symlinks)
    return _path_call(self, d, path, done, lambda *a: n.fdk_setxattrat_async(self._live, *a[:2], name, value,
                                                                             len(value), flags, *a[2:]))


@_method(Loop)
def listxattr_async(self, d, path, done, *, follow_symlinks=True):
    """done([name str]) or done(Error)."""
    p, flags = _path(path), _follow(follow_symlinks)
    return self._start(_made_done(done, path, lambda length, names: _xattr_names(_take_text(names, length))), (d, p),
                       lambda _cb, key, op: n.fdk_listxattrat_async(self._live, d._live, p, flags, _on_text, key, op))


@_method(Loop)
def removexattr_async(self, d, path, attribute, done, *, follow_symlinks=True):
    name, flags = _xattr_name(attribute), _follow(follow_symlinks)
    return _path_call(self, d, path, done, lambda *a: n.fdk_removexattrat_async(self._live, *a[:2], name, flags,
                                                                                *a[2:]))


@_method(Loop)
def symlink_async(self, target, d, path, done):
    t, p = _path(target), _path(path)
    return self._start(_done_none(done, target, path), (d, t, p),
                       lambda cb, key, op: n.fdk_symlinkat_async(self._live, t, d._live, p, cb, key, op))


def _stat_async(self, keep, done, start, path=None):
    st = n.handle()
    check(n.fdk_stat_new(ctypes.byref(st)))

    def finish(result):
        try:
            done(Error.last(result, path) if result < 0 else Stat(st))
        finally:
            n.fdk_stat_free(st)
    try:
        return self._start(finish, keep, lambda cb, key, op: start(st, cb, key, op))
    except BaseException:
        n.fdk_stat_free(st)
        raise


@_method(Loop)
def stat_async(self, d, path, done, follow=True):
    """done(Stat) or done(Error)."""
    p = _path(path)
    return _stat_async(self, (d, p), done,
                       lambda st, cb, key, op: n.fdk_statat_async(self._live, st, d._live, p, 1 if follow else 0, cb,
                                                                  key, op), path)


@_method(Loop)
def fstat_async(self, fd, done):
    """done(Stat) or done(Error) for an open file."""
    return _stat_async(self, fd.ref(), done,
                       lambda st, cb, key, op: n.fdk_fstat_async(self._live, st, fd._live, cb, key, op))


@_method(Loop)
def listdir_async(self, d, path, done):
    """done([(name, kind)]) sorted by name, or done(Error)."""
    p = _path(path)
    return self._start(_made_done(done, path, lambda _r, ents: _take_entries(n.handle(ents))), (d, p),
                       lambda _cb, key, op: n.fdk_readdir_async(self._live, d._live, p, _on_pointer, key, op))


@_method(Loop)
def realpath_async(self, d, path, done):
    """done(path bytes) or done(Error), as Dir.realpath."""
    p = _path(path)
    return self._start(_text_done(done, path), (d, p),
                       lambda _cb, key, op: n.fdk_realpath_async(self._live, d._live, p, _on_text, key, op))
