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

Each area lives in its own module and adds its methods to Fd and Loop."""
__license__ = "MIT"
from .errors import Error, version, version_string
from .loop import RUN_DEFAULT, RUN_NOWAIT, RUN_ONCE, Loop, Op
from .fd import Fd, pipe
from .io import SEEK_CUR, SEEK_END, SEEK_SET, getrandom, now_ns
from .fs import O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, Dir, Stat
from .process import Process, Status, spawn
from .run import CAPTURE, DISCARD, INHERIT, MERGE, Result, TimeoutExpired, run
from .net import SHUT_RD, SHUT_RDWR, SHUT_WR, socket, socketpair
from . import trace

__all__ = [
    "Error", "version", "version_string",
    "Loop", "Op", "RUN_DEFAULT", "RUN_ONCE", "RUN_NOWAIT",
    "Fd", "pipe",
    "getrandom", "now_ns", "SEEK_SET", "SEEK_CUR", "SEEK_END",
    "Dir", "Stat", "O_RDONLY", "O_WRONLY", "O_RDWR", "O_CREAT", "O_EXCL", "O_TRUNC", "O_DIRECTORY", "O_NOFOLLOW",
    "spawn", "Process", "Status",
    "run", "Result", "INHERIT", "CAPTURE", "DISCARD", "MERGE",
    "socket", "socketpair", "SHUT_RD", "SHUT_WR", "SHUT_RDWR",
    "trace",
]
