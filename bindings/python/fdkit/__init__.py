# SPDX-License-Identifier: MIT
"""fdkit through ctypes (standard library only).

- Fd: descriptor handles safe to close while other threads use them; sync I/O methods.
- Loop: an event loop for one thread; async operations take a callback that runs from
  Loop.run with the value, or with an Error instance when the operation failed.
- Error (an OSError): errno, strerror, name ("EBADF") and the detail fdkit recorded.

- Dir (fs): directories that confine path resolution; EXDEV for a path leading out.
- spawn / Process: a child started from an ordered list of actions, exit on the loop.
- run / Result: a command run to completion with its output captured.
- socket, socketpair, Fd.send_msg / recv_msg: sockets with descriptor passing.
- trace.set_hook: a begin and an end event for every operation.
- aio: the loop driven by asyncio, its operations awaitable.

Each area lives in its own module and adds its methods to Fd and Loop."""
__license__ = "MIT"
from .errors import Error, version, version_string
from .loop import RUN_DEFAULT, RUN_NOWAIT, RUN_ONCE, Loop, Op, Remote
from .fd import Fd, pipe
from .io import SEEK_CUR, SEEK_END, SEEK_SET, getrandom, now_ns
from .fs import (O_APPEND, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, UTIME_NOW,
                 UTIME_OMIT, Dir, DirIter, Stat)
from .process import Process, Status, Usage, reap_detached, spawn
from .run import (CANCEL_GRACEFUL, CANCEL_KILL, CANCEL_NONE, CAPTURE, DISCARD, INHERIT, MERGE, Result, RunOp,
                  TimeoutExpired, run)
from .net import SHUT_RD, SHUT_RDWR, SHUT_WR, getaddrinfo, socket, socketpair
from . import aio, fs, net, process, trace

__all__ = [
    "Error", "version", "version_string",
    "Loop", "Op", "Remote", "RUN_DEFAULT", "RUN_ONCE", "RUN_NOWAIT",
    "Fd", "pipe",
    "getrandom", "now_ns", "SEEK_SET", "SEEK_CUR", "SEEK_END",
    "Dir", "DirIter", "Stat", "O_RDONLY", "O_WRONLY", "O_RDWR", "O_APPEND", "O_CREAT", "O_EXCL", "O_TRUNC",
    "O_DIRECTORY", "O_NOFOLLOW", "UTIME_NOW", "UTIME_OMIT",
    "spawn", "Process", "Status", "Usage", "reap_detached",
    "run", "Result", "RunOp", "INHERIT", "CAPTURE", "DISCARD", "MERGE", "CANCEL_NONE", "CANCEL_KILL",
    "CANCEL_GRACEFUL",
    "socket", "socketpair", "getaddrinfo", "SHUT_RD", "SHUT_WR", "SHUT_RDWR",
    "aio", "fs", "net", "process", "trace",
]
