# SPDX-License-Identifier: MIT
"""Trace spans (trace.h): a hook sees a begin and an end event for every fdkit operation.

The hook runs on the thread that performs the operation (a loop thread, a worker, or a
caller of a synchronous call), with the GIL taken by ctypes. Keep it short; operations
it starts produce no events."""
import threading

from . import _native as n
from .errors import check

BEGIN, END = n.FDK_TRACE_BEGIN, n.FDK_TRACE_END

_lock = threading.Lock()
_installed = None  # the C callback object must live while it is installed


class Event:
    """One event: phase (BEGIN / END), name, span_id, fd, path, result, detail, thread_id,
    time_ns, duration_ns (END only)."""
    __slots__ = ("phase", "name", "span_id", "fd", "path", "result", "detail", "thread_id", "time_ns",
                 "duration_ns")

    def __init__(self, e):
        self.phase, self.span_id, self.fd, self.result = e.phase, e.span_id, e.fd, e.result
        self.name = e.name.decode()
        self.path = e.path.decode("utf-8", "replace") if e.path else None
        self.detail = e.detail.decode("utf-8", "replace") if e.detail else None
        self.thread_id, self.time_ns, self.duration_ns = e.thread_id, e.time_ns, e.duration_ns

    def __repr__(self):
        return f"Event({'begin' if self.phase == BEGIN else 'end'} {self.name} result={self.result})"


def set_hook(hook):
    """Installs hook(Event) for every operation of the process; None removes it. When this
    returns, the previous hook is never called again. An exception in the hook is printed
    and dropped: it must not cross into C."""
    global _installed
    with _lock:
        if hook is None:
            check(n.fdk_trace_set(None, n.TRACE_CB(), None))
            _installed = None
            return

        @n.TRACE_CB
        def call(event, _data):
            try:
                hook(Event(event.contents))
            except BaseException:  # noqa: BLE001 -- reported, never propagated into C
                import traceback
                traceback.print_exc()

        check(n.fdk_trace_set(None, call, None))
        _installed = call
