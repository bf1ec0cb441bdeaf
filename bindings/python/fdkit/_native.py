# SPDX-License-Identifier: MIT
"""The C API through ctypes: the library, its types, and one declaration per call, grouped
by header in the header's order. Constants are fdkit's own values (doc/conventions.md).

The library is found as FDKIT_LIBRARY if set, else as libfdkit.so.<major> on the dynamic
loader's path (LD_LIBRARY_PATH for a build tree)."""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_ssize_t, c_uint, c_void_p

lib = ctypes.CDLL(os.environ.get("FDKIT_LIBRARY") or "libfdkit.so.1")


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", c_void_p), ("iov_len", c_size_t)]


RESULT_CB = ctypes.CFUNCTYPE(None, c_int64, c_void_p)
POST_FN = ctypes.CFUNCTYPE(None, c_void_p)
handle = c_void_p  # every opaque fdk_* pointer
IOV = POINTER(iovec)


def c_string(value):
    """A path or argument as the bytes of a C string (os.fsencode). An embedded NUL would end
    the C string early, silently naming something else: ValueError, as os.open raises."""
    encoded = os.fsencode(value)
    if b"\0" in encoded:
        raise ValueError("embedded null byte")
    return encoded


def _declare(restype, name, *argtypes):
    fn = getattr(lib, name)
    fn.restype = restype
    fn.argtypes = argtypes
    globals()[name] = fn


# common.h
for _name in ("fdk_version_string", "fdk_last_error"):
    _declare(c_char_p, _name)
_declare(c_uint, "fdk_version")
_declare(c_char_p, "fdk_strerror", c_int)
_declare(c_char_p, "fdk_errname", c_int)
_declare(None, "fdk_free", c_void_p)

# loop.h
FDK_RUN_DEFAULT, FDK_RUN_ONCE, FDK_RUN_NOWAIT = 0, 1, 2
_declare(c_int, "fdk_loop_new", POINTER(handle))
_declare(c_int, "fdk_loop_free", handle)
_declare(c_int, "fdk_loop_run", handle, c_int)
_declare(None, "fdk_loop_stop", handle)
_declare(c_int, "fdk_loop_backend_fd", handle)
_declare(c_int, "fdk_loop_backend_timeout", handle)
_declare(c_int, "fdk_loop_post", handle, POST_FN, c_void_p)
_declare(c_int, "fdk_op_cancel", handle)
_declare(c_int, "fdk_loop_remote_new", POINTER(handle), handle)
_declare(c_int, "fdk_loop_remote_post", handle, POST_FN, c_void_p)
_declare(handle, "fdk_loop_remote_ref", handle)
_declare(handle, "fdk_loop_remote_unref", handle)

# fd.h
FDK_FD_BLOCKING, FDK_FD_BORROW = 0x1, 0x2
_declare(c_int, "fdk_fd_adopt", POINTER(handle), c_int, c_uint)
_declare(c_int, "fdk_fd_raw", handle)
_declare(c_int, "fdk_fd_use", handle, POINTER(c_int))
_declare(None, "fdk_fd_unuse", handle)
_declare(c_int, "fdk_fd_close", handle)
_declare(handle, "fdk_fd_ref", handle)
_declare(handle, "fdk_fd_unref", handle)
_declare(c_int, "fdk_fd_release", handle, POINTER(c_int))
_declare(c_int, "fdk_fd_is_blocking", handle)
_declare(c_int, "fdk_pipe", POINTER(handle), POINTER(handle))

# io.h
FDK_SEEK_SET, FDK_SEEK_CUR, FDK_SEEK_END = 0, 1, 2
FDK_RANDOM_NONBLOCK = 0x1
FDK_FSYNC_DATA = 0x1
_declare(c_ssize_t, "fdk_read", handle, c_void_p, c_size_t)
_declare(c_ssize_t, "fdk_write", handle, c_void_p, c_size_t)
_declare(c_ssize_t, "fdk_readv", handle, IOV, c_int)
_declare(c_ssize_t, "fdk_writev", handle, IOV, c_int)
_declare(c_ssize_t, "fdk_preadv", handle, IOV, c_int, c_int64)
_declare(c_ssize_t, "fdk_pwritev", handle, IOV, c_int, c_int64)
_declare(c_int64, "fdk_lseek", handle, c_int64, c_int)
_declare(c_int, "fdk_fsync", handle, c_uint)
_declare(c_int, "fdk_ftruncate", handle, c_int64)
_declare(c_ssize_t, "fdk_getrandom", c_void_p, c_size_t, c_uint)
_ASYNC_TAIL = (RESULT_CB, c_void_p, POINTER(handle))
_declare(c_int, "fdk_read_async", handle, handle, c_void_p, c_size_t, *_ASYNC_TAIL)
_declare(c_int, "fdk_write_async", handle, handle, c_void_p, c_size_t, *_ASYNC_TAIL)
_declare(c_int, "fdk_readv_async", handle, handle, IOV, c_int, *_ASYNC_TAIL)
_declare(c_int, "fdk_writev_async", handle, handle, IOV, c_int, *_ASYNC_TAIL)
_declare(c_int, "fdk_preadv_async", handle, handle, IOV, c_int, c_int64, *_ASYNC_TAIL)
_declare(c_int, "fdk_pwritev_async", handle, handle, IOV, c_int, c_int64, *_ASYNC_TAIL)
_declare(c_int, "fdk_lseek_async", handle, handle, c_int64, c_int, *_ASYNC_TAIL)
_declare(c_int, "fdk_fsync_async", handle, handle, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_ftruncate_async", handle, handle, c_int64, *_ASYNC_TAIL)
_declare(c_int, "fdk_getrandom_async", handle, c_void_p, c_size_t, c_uint, *_ASYNC_TAIL)
_declare(c_int64, "fdk_now_ns")
_declare(c_int, "fdk_sleep_until", handle, c_int64, *_ASYNC_TAIL)
_declare(c_int, "fdk_write_all_async", handle, handle, c_void_p, c_size_t, *_ASYNC_TAIL)
_declare(c_int, "fdk_writev_all_async", handle, handle, IOV, c_int, *_ASYNC_TAIL)
_declare(c_int64, "fdk_write_queue_size", handle, handle)

# fs.h
FDK_O_RDONLY, FDK_O_WRONLY, FDK_O_RDWR, FDK_O_APPEND = 0x0, 0x1, 0x2, 0x4
FDK_O_CREAT, FDK_O_EXCL, FDK_O_TRUNC, FDK_O_DIRECTORY = 0x8, 0x10, 0x20, 0x40
FDK_O_NOFOLLOW, FDK_O_NONBLOCK, FDK_O_PATH = 0x80, 0x100, 0x1000
FDK_FOLLOW = 0x1
FDK_KIND_NAMES = {0: "unknown", 1: "fifo", 2: "char", 3: "dir", 4: "block", 5: "regular", 6: "symlink",
                  7: "socket"}
# The completion of every async call that hands over a new object (fd, dir, entries, run
# result, addrinfo): fdk_open_cb, fdk_dir_cb, fdk_dirents_cb, fdk_run_cb, fdk_accept_cb...
POINTER_CB = ctypes.CFUNCTYPE(None, c_int, c_void_p, c_void_p)
TEXT_CB = ctypes.CFUNCTYPE(None, c_ssize_t, c_void_p, c_void_p)
_declare(handle, "fdk_dir_fs")
_declare(handle, "fdk_dir_cwd")
_declare(c_int, "fdk_dir_open", POINTER(handle), handle, c_char_p)
_declare(handle, "fdk_dir_unref", handle)
_declare(c_int, "fdk_openat", POINTER(handle), handle, c_char_p, c_uint, c_uint)
_declare(c_int, "fdk_mkdirat", handle, c_char_p, c_uint)
_declare(c_int, "fdk_unlinkat", handle, c_char_p)
_declare(c_int, "fdk_rmdirat", handle, c_char_p)
_declare(c_int, "fdk_renameat", handle, c_char_p, handle, c_char_p)
_declare(c_int, "fdk_symlinkat", c_char_p, handle, c_char_p)
_declare(c_ssize_t, "fdk_readlinkat", POINTER(c_void_p), handle, c_char_p)
_declare(c_int, "fdk_stat_new", POINTER(handle))
_declare(handle, "fdk_stat_free", handle)
_declare(c_int, "fdk_statat", handle, handle, c_char_p, c_int)
_declare(c_int, "fdk_stat_kind", handle)
_declare(c_int64, "fdk_stat_size", handle)
_declare(c_uint, "fdk_stat_perm", handle)
_declare(ctypes.c_uint64, "fdk_stat_ino", handle)
_declare(c_int, "fdk_readdir", POINTER(handle), handle, c_char_p)
_declare(c_size_t, "fdk_dirents_count", handle)
_declare(c_char_p, "fdk_dirents_name", handle, c_size_t)
_declare(c_int, "fdk_dirents_kind", handle, c_size_t)
_declare(handle, "fdk_dirents_free", handle)
_declare(c_int, "fdk_openat_async", handle, handle, c_char_p, c_uint, c_uint, POINTER_CB, c_void_p, POINTER(handle))
_declare(c_int, "fdk_readlinkat_async", handle, handle, c_char_p, TEXT_CB, c_void_p, POINTER(handle))
FDK_O_SYNC, FDK_O_DSYNC, FDK_O_NOCTTY = 0x200, 0x400, 0x800
FDK_RESOLVE_AUTO, FDK_RESOLVE_OPENAT2, FDK_RESOLVE_FALLBACK = 0, 1, 2
FDK_RENAME_NOREPLACE, FDK_RENAME_EXCHANGE = 0x1, 0x2
FDK_UTIME_NOW, FDK_UTIME_OMIT = -1, -2
FDK_KIND_UNKNOWN, FDK_KIND_FIFO, FDK_KIND_CHAR, FDK_KIND_DIR = 0, 1, 2, 3
FDK_KIND_BLOCK, FDK_KIND_REGULAR, FDK_KIND_SYMLINK, FDK_KIND_SOCKET = 4, 5, 6, 7
_PATH_PAIR = (handle, c_char_p, handle, c_char_p)
_declare(c_int, "fdk_last_error_is_escape")
_declare(c_int, "fdk_dir_from_fd", POINTER(handle), handle)
_declare(handle, "fdk_dir_ref", handle)
_declare(handle, "fdk_dir_handle", handle)
_declare(c_int, "fdk_open_flags_supported", c_uint)
_declare(c_int, "fdk_resolve_backend")
_declare(c_int, "fdk_resolve_set_backend", c_int)
_declare(c_int, "fdk_renameat2", *_PATH_PAIR, c_uint)
_declare(c_int, "fdk_linkat", *_PATH_PAIR)
_declare(c_int, "fdk_chmodat", handle, c_char_p, c_uint, c_uint)
_declare(c_int, "fdk_chownat", handle, c_char_p, c_int64, c_int64, c_uint)
_declare(c_int, "fdk_utimensat", handle, c_char_p, c_int64, c_int64, c_int64, c_int64, c_uint)
_declare(c_int, "fdk_fstat", handle, handle)
for _name in ("fdk_stat_blocks", "fdk_stat_blksize"):
    _declare(c_int64, _name, handle)
for _name in ("fdk_stat_dev", "fdk_stat_rdev", "fdk_stat_nlink"):
    _declare(ctypes.c_uint64, _name, handle)
for _name in ("fdk_stat_uid", "fdk_stat_gid"):
    _declare(ctypes.c_uint32, _name, handle)
_declare(c_uint, "fdk_stat_mode", handle)
for _name in ("fdk_stat_atime", "fdk_stat_mtime", "fdk_stat_ctime", "fdk_stat_btime"):
    _declare(c_int, _name, handle, POINTER(c_int64), POINTER(c_int64))
_declare(c_int, "fdk_dir_iter_open", POINTER(handle), handle, c_char_p)
_declare(c_int, "fdk_dir_iter_next", handle, POINTER(c_char_p), POINTER(c_int))
_declare(handle, "fdk_dir_iter_free", handle)
_declare(c_ssize_t, "fdk_realpath", POINTER(c_void_p), handle, c_char_p)
_declare(c_int, "fdk_dir_open_async", handle, handle, c_char_p, POINTER_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_mkdirat_async", handle, handle, c_char_p, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_unlinkat_async", handle, handle, c_char_p, *_ASYNC_TAIL)
_declare(c_int, "fdk_rmdirat_async", handle, handle, c_char_p, *_ASYNC_TAIL)
_declare(c_int, "fdk_renameat_async", handle, *_PATH_PAIR, *_ASYNC_TAIL)
_declare(c_int, "fdk_renameat2_async", handle, *_PATH_PAIR, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_symlinkat_async", handle, c_char_p, handle, c_char_p, *_ASYNC_TAIL)
_declare(c_int, "fdk_linkat_async", handle, *_PATH_PAIR, *_ASYNC_TAIL)
_declare(c_int, "fdk_chmodat_async", handle, handle, c_char_p, c_uint, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_chownat_async", handle, handle, c_char_p, c_int64, c_int64, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_utimensat_async", handle, handle, c_char_p, c_int64, c_int64, c_int64, c_int64, c_uint,
         *_ASYNC_TAIL)
_declare(c_int, "fdk_fstat_async", handle, handle, handle, *_ASYNC_TAIL)
_declare(c_int, "fdk_statat_async", handle, handle, handle, c_char_p, c_int, *_ASYNC_TAIL)
_declare(c_int, "fdk_readdir_async", handle, handle, c_char_p, POINTER_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_realpath_async", handle, handle, c_char_p, TEXT_CB, *_ASYNC_TAIL[1:])
FDK_DIR_NOFOLLOW, FDK_DIR_NO_XDEV, FDK_DIR_NO_SYMLINKS, FDK_DIR_IN_ROOT = 0x1, 0x2, 0x4, 0x8
FDK_O_TMPFILE = 0x2000
FDK_RENAME_WHITEOUT = 0x4
FDK_ACCESS_EXISTS, FDK_ACCESS_READ, FDK_ACCESS_WRITE, FDK_ACCESS_EXEC = 0x0, 0x4, 0x2, 0x1
FDK_ACCESS_EFFECTIVE = 0x2
FDK_XATTR_CREATE, FDK_XATTR_REPLACE = 0x2, 0x4
_declare(c_int, "fdk_dir_open2", POINTER(handle), handle, c_char_p, c_uint)
_declare(c_int, "fdk_linkat2", *_PATH_PAIR, c_uint)
_declare(c_int, "fdk_linkat_fd", handle, handle, c_char_p)
_declare(c_int, "fdk_mknodat", handle, c_char_p, c_int, c_uint, ctypes.c_uint64)
_declare(c_int, "fdk_mkfifoat", handle, c_char_p, c_uint)
_declare(c_int, "fdk_truncateat", handle, c_char_p, c_int64)
_declare(c_int, "fdk_faccessat", handle, c_char_p, c_uint, c_uint)
_declare(c_ssize_t, "fdk_getxattrat", POINTER(c_void_p), handle, c_char_p, c_char_p, c_uint)
_declare(c_int, "fdk_setxattrat", handle, c_char_p, c_char_p, c_void_p, c_size_t, c_uint)
_declare(c_ssize_t, "fdk_listxattrat", POINTER(c_void_p), handle, c_char_p, c_uint)
_declare(c_int, "fdk_removexattrat", handle, c_char_p, c_char_p, c_uint)
_declare(c_int, "fdk_dir_open2_async", handle, handle, c_char_p, c_uint, POINTER_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_linkat2_async", handle, *_PATH_PAIR, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_linkat_fd_async", handle, handle, handle, c_char_p, *_ASYNC_TAIL)
_declare(c_int, "fdk_mknodat_async", handle, handle, c_char_p, c_int, c_uint, ctypes.c_uint64, *_ASYNC_TAIL)
_declare(c_int, "fdk_mkfifoat_async", handle, handle, c_char_p, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_truncateat_async", handle, handle, c_char_p, c_int64, *_ASYNC_TAIL)
_declare(c_int, "fdk_faccessat_async", handle, handle, c_char_p, c_uint, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_getxattrat_async", handle, handle, c_char_p, c_char_p, c_uint, TEXT_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_setxattrat_async", handle, handle, c_char_p, c_char_p, c_void_p, c_size_t, c_uint,
         *_ASYNC_TAIL)
_declare(c_int, "fdk_listxattrat_async", handle, handle, c_char_p, c_uint, TEXT_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_removexattrat_async", handle, handle, c_char_p, c_char_p, c_uint, *_ASYNC_TAIL)

# process.h and run.h
FDK_EXIT_CODE, FDK_EXIT_SIGNAL = 1, 2
FDK_RUN_INHERIT, FDK_RUN_CAPTURE, FDK_RUN_DISCARD, FDK_RUN_MERGE = 0, 1, 2, 3
FDK_RUN_GROUP_NEW = 1
ARGV = POINTER(c_char_p)
_declare(c_int, "fdk_run_opts_new", POINTER(handle), ARGV)
_declare(handle, "fdk_run_opts_free", handle)
_declare(c_int, "fdk_run_opts_set_env", handle, ARGV)
_declare(c_int, "fdk_run_opts_set_cwd_dir", handle, handle)
_declare(c_int, "fdk_run_opts_set_stdin_bytes", handle, c_void_p, c_size_t)
_declare(c_int, "fdk_run_opts_set_stdout", handle, c_int)
_declare(c_int, "fdk_run_opts_set_stderr", handle, c_int)
_declare(c_int, "fdk_run_opts_set_max_output", handle, c_int64)
_declare(c_int, "fdk_run_opts_set_timeout", handle, c_int64)
_declare(c_int, "fdk_run_opts_set_group", handle, c_int, ctypes.c_int32)
_declare(c_int, "fdk_run", POINTER(handle), handle)
_declare(c_int, "fdk_run_async", handle, handle, POINTER_CB, c_void_p, POINTER(handle))
_declare(handle, "fdk_run_result_free", handle)
_declare(c_int, "fdk_run_result_status", handle, POINTER(c_int), POINTER(c_int))
_declare(c_int, "fdk_run_result_rusage", handle, c_void_p)
_declare(ctypes.c_void_p, "fdk_run_result_stdout", handle, POINTER(c_size_t))
_declare(ctypes.c_void_p, "fdk_run_result_stderr", handle, POINTER(c_size_t))
_declare(c_int, "fdk_run_result_timed_out", handle)
_declare(c_int, "fdk_run_result_truncated", handle)
_declare(ctypes.c_int32, "fdk_run_result_pid", handle)
FDK_RUN_CANCEL_NONE, FDK_RUN_CANCEL_KILL, FDK_RUN_CANCEL_GRACEFUL = 0, 1, 2
FDK_RUN_GROUP_INHERIT, FDK_RUN_GROUP_SESSION, FDK_RUN_GROUP_JOIN = 0, 2, 3
FDK_RUN_FDS_CLOEXEC_ONLY, FDK_RUN_FDS_CLOSE_FROM_3, FDK_RUN_FDS_ALLOWLIST = 0, 1, 2
EARLY_EXIT_FN = ctypes.CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)
_declare(c_int, "fdk_run_opts_set_cwd", handle, c_char_p)
_declare(c_int, "fdk_run_opts_set_cwd_fd", handle, handle)
_declare(c_int, "fdk_run_opts_set_stdin_fd", handle, handle)
_declare(c_int, "fdk_run_opts_set_cancel", handle, c_int, c_int64)
_declare(c_int, "fdk_run_opts_set_stop_signal", handle, c_int)
_declare(c_int, "fdk_run_opts_set_stop_at_max_output", handle, c_int)
_declare(c_int, "fdk_run_opts_set_fds", handle, c_int, POINTER(c_int), c_size_t)
_declare(c_int, "fdk_run_opts_set_early_exit", handle, EARLY_EXIT_FN, c_void_p)
_declare(c_int, "fdk_run_opts_set_backend", handle, c_int)
_declare(c_int, "fdk_run_signal", handle, c_int)
for _name in ("fdk_run_result_early_exit", "fdk_run_result_pipes_abandoned"):
    _declare(c_int, _name, handle)
_declare(c_int64, "fdk_run_result_duration_ns", handle)

# net.h
FDK_SHUT_RD, FDK_SHUT_WR, FDK_SHUT_RDWR = 0x1, 0x2, 0x3
FDK_MSG_TRUNC, FDK_MSG_CTRUNC = 0x1, 0x2
_declare(c_int, "fdk_socket", POINTER(handle), c_int, c_int, c_int)
_declare(c_int, "fdk_socketpair", POINTER(handle), POINTER(handle), c_int, c_int, c_int)
_declare(c_int, "fdk_shutdown", handle, c_uint)
_declare(c_ssize_t, "fdk_send_msg", handle, IOV, c_int, c_void_p, ctypes.c_uint32, POINTER(handle), c_int)
_declare(c_ssize_t, "fdk_recv_msg", handle, IOV, c_int, c_void_p, POINTER(ctypes.c_uint32), POINTER(handle),
         POINTER(c_int), POINTER(c_uint))
_declare(c_int, "fdk_send_msg_async", handle, handle, IOV, c_int, c_void_p, ctypes.c_uint32, POINTER(handle), c_int,
         *_ASYNC_TAIL)
_declare(c_int, "fdk_recv_msg_async", handle, handle, IOV, c_int, c_void_p, POINTER(ctypes.c_uint32),
         POINTER(handle), POINTER(c_int), POINTER(c_uint), *_ASYNC_TAIL)

socklen = ctypes.c_uint32
FDK_AI_PASSIVE, FDK_AI_CANONNAME, FDK_AI_NUMERICHOST, FDK_AI_NUMERICSERV = 0x01, 0x02, 0x04, 0x08
FDK_AI_ADDRCONFIG, FDK_AI_V4MAPPED, FDK_AI_ALL = 0x10, 0x20, 0x40
_declare(c_int, "fdk_bind", handle, c_void_p, socklen)
_declare(c_int, "fdk_listen", handle, c_int)
_declare(c_int, "fdk_getsockname", handle, c_void_p, POINTER(socklen))
_declare(c_int, "fdk_getpeername", handle, c_void_p, POINTER(socklen))
_declare(c_int, "fdk_setsockopt_int", handle, c_int, c_int, c_int)
_declare(c_int, "fdk_getsockopt_int", handle, c_int, c_int, POINTER(c_int))
_declare(c_int, "fdk_connect", handle, c_void_p, socklen)
_declare(c_int, "fdk_connect_async", handle, handle, c_void_p, socklen, *_ASYNC_TAIL)
_declare(c_int, "fdk_accept", POINTER(handle), handle, c_void_p, POINTER(socklen))
_declare(c_int, "fdk_accept_async", handle, handle, c_void_p, POINTER(socklen), POINTER_CB, *_ASYNC_TAIL[1:])
_declare(c_int, "fdk_shutdown_async", handle, handle, c_uint, *_ASYNC_TAIL)
_declare(c_int, "fdk_getaddrinfo", POINTER(handle), c_char_p, c_char_p, c_int, c_int, c_int, c_uint)
_declare(c_int, "fdk_getaddrinfo_async", handle, c_char_p, c_char_p, c_int, c_int, c_int, c_uint, POINTER_CB,
         *_ASYNC_TAIL[1:])
_declare(c_size_t, "fdk_addrinfo_count", handle)
_declare(c_int, "fdk_addrinfo_entry", handle, c_size_t, POINTER(c_int), POINTER(c_int), POINTER(c_int),
         POINTER(c_void_p), POINTER(socklen))
_declare(c_char_p, "fdk_addrinfo_canonname", handle)
_declare(handle, "fdk_addrinfo_free", handle)

# trace.h
FDK_TRACE_BEGIN, FDK_TRACE_END = 1, 2


class trace_event(ctypes.Structure):
    _fields_ = [("phase", c_int), ("name", c_char_p), ("span_id", ctypes.c_uint64), ("fd", c_int),
                ("path", c_char_p), ("result", c_int64), ("detail", c_char_p), ("thread_id", ctypes.c_uint64),
                ("time_ns", c_int64), ("duration_ns", c_int64)]


TRACE_CB = ctypes.CFUNCTYPE(None, POINTER(trace_event), c_void_p)
_declare(c_int, "fdk_trace_set", handle, TRACE_CB, c_void_p)

# process.h (spawn)
FDK_INHERIT_PRESERVE, FDK_INHERIT_BLOCKING, FDK_INHERIT_NONBLOCKING = 0, 1, 2


class rusage(ctypes.Structure):
    _fields_ = [(name, c_int64) for name in
                ("utime_ns", "stime_ns", "maxrss_kib", "minflt", "majflt", "inblock", "oublock", "nvcsw", "nivcsw")]


class exit_status(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int32), ("value", ctypes.c_int32), ("core_dumped", ctypes.c_int32),
                ("usage", rusage)]


EXIT_CB = ctypes.CFUNCTYPE(None, c_void_p, c_int, c_void_p)
_declare(c_int, "fdk_actions_new", POINTER(handle))
_declare(handle, "fdk_actions_free", handle)
_declare(c_int, "fdk_actions_execvp", handle, c_char_p, ARGV, ARGV)
_declare(c_int, "fdk_actions_chdir", handle, c_char_p)
_declare(c_int, "fdk_actions_inherit_fd", handle, c_int, handle, c_int)
_declare(c_int, "fdk_actions_setsid", handle)
_declare(c_int, "fdk_actions_close_other_fds", handle)
_declare(c_int, "fdk_spawn", POINTER(handle), handle, handle, c_uint, EXIT_CB, c_void_p)
_declare(ctypes.c_int32, "fdk_process_pid", handle)
_declare(c_int, "fdk_process_signal", handle, c_int)
_declare(c_int, "fdk_process_wait", handle, POINTER(exit_status))
_declare(c_int, "fdk_process_try_wait", handle, POINTER(exit_status))
_declare(handle, "fdk_process_free", handle)
_declare(c_int, "fdk_process_detach", handle)
FDK_RLIM_INFINITY = (1 << 64) - 1
FDK_SPAWN_BACKEND_AUTO, FDK_SPAWN_BACKEND_FORK, FDK_SPAWN_BACKEND_POSIX_SPAWN = 0x0, 0x1, 0x2
FDK_SPAWN_BACKEND_MASK = 0x3
FDK_EXIT_UNKNOWN = 3
_declare(c_int, "fdk_actions_execve", handle, c_char_p, ARGV, ARGV)
_declare(c_int, "fdk_actions_fchdir", handle, handle)
_declare(c_int, "fdk_actions_inherit_raw", handle, c_int, c_int, c_int)
_declare(c_int, "fdk_actions_login_tty", handle, handle)
_declare(c_int, "fdk_actions_setpgid", handle, ctypes.c_int32)
_declare(c_int, "fdk_actions_setuid", handle, ctypes.c_uint32)
_declare(c_int, "fdk_actions_setgid", handle, ctypes.c_uint32)
_declare(c_int, "fdk_actions_setgroups", handle, c_size_t, POINTER(ctypes.c_uint32))
_declare(c_int, "fdk_actions_umask", handle, ctypes.c_uint32)
_declare(c_int, "fdk_actions_rlimit", handle, c_int, ctypes.c_uint64, ctypes.c_uint64)
_declare(c_int, "fdk_actions_pdeathsig", handle, c_int)
_declare(c_int, "fdk_actions_no_new_privs", handle)
_declare(c_int, "fdk_actions_signal_default", handle, c_int)
_declare(c_int, "fdk_actions_signal_ignore", handle, c_int)
_declare(c_int, "fdk_process_pidfd", handle)
_declare(c_int, "fdk_process_signal_group", handle, c_int)
_declare(c_int, "fdk_process_reap_detached")
