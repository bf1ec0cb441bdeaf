"""The C API through ctypes: the library, its types, and one declaration per call, grouped
by header in the header's order. Constants are fdkit's own values (DESIGN.md, convention 8).

The library is found as FDKIT_LIBRARY if set, else as libfdkit.so.<major> on the dynamic
loader's path (LD_LIBRARY_PATH for a build tree)."""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_int, c_int64, c_size_t, c_ssize_t, c_uint, c_void_p

lib = ctypes.CDLL(os.environ.get("FDKIT_LIBRARY") or "libfdkit.so.0")


class iovec(ctypes.Structure):
    _fields_ = [("iov_base", c_void_p), ("iov_len", c_size_t)]


RESULT_CB = ctypes.CFUNCTYPE(None, c_int64, c_void_p)
POST_FN = ctypes.CFUNCTYPE(None, c_void_p)
handle = c_void_p  # every opaque fdk_* pointer
IOV = POINTER(iovec)


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
