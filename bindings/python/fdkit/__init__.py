"""fdkit through ctypes (standard library only).

- Fd: descriptor handles safe to close while other threads use them; sync I/O methods.
- Loop: an event loop for one thread; async operations take a callback that runs from
  Loop.run with the value, or with an Error instance when the operation failed.
- Error (an OSError): errno, strerror, name ("EBADF") and the detail fdkit recorded.

Each area lives in its own module and adds its methods to Fd and Loop."""
from .errors import Error, version, version_string
from .loop import RUN_DEFAULT, RUN_NOWAIT, RUN_ONCE, Loop, Op
from .fd import Fd, pipe
from .io import SEEK_CUR, SEEK_END, SEEK_SET, getrandom, now_ns

__all__ = [
    "Error", "version", "version_string",
    "Loop", "Op", "RUN_DEFAULT", "RUN_ONCE", "RUN_NOWAIT",
    "Fd", "pipe",
    "getrandom", "now_ns", "SEEK_SET", "SEEK_CUR", "SEEK_END",
]
