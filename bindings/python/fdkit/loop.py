# SPDX-License-Identifier: MIT
"""The event loop and pending operations (loop.h).

A loop belongs to the thread that runs it; only Loop.post may be called from other
threads, also while the loop's thread closes it. Callbacks run from Loop.run (or while the loop is closed, with ECANCELED),
never inside the call that started the operation. An exception raised by a callback
stops the loop and is raised again from Loop.run."""
import ctypes
import errno
import itertools
import threading
import weakref

from . import _native as n
from .errors import Error, check

RUN_DEFAULT, RUN_ONCE, RUN_NOWAIT = n.FDK_RUN_DEFAULT, n.FDK_RUN_ONCE, n.FDK_RUN_NOWAIT

# Work handed to C, by key: what the callback needs and what must stay alive until it ran
# (buffers, handles). C only ever holds the integer key.
_pending = {}
_keys = itertools.count(1)


def _deliver(key, *args):
    entry = _pending.pop(key, None)
    if entry is None:  # an exit callback whose Process another thread freed meanwhile
        return
    lp, done, _keepalive = entry
    try:
        done(*args)
    except BaseException as e:  # never let an exception stop at the C boundary unseen
        if lp._exception is None:
            lp._exception = e
        n.fdk_loop_stop(lp._raw)


@n.RESULT_CB
def _on_result(result, key):
    _deliver(key, result)


@n.POINTER_CB
def _on_pointer(result, ptr, key):
    _deliver(key, result, ptr)


@n.POST_FN
def _on_post(key):
    _deliver(key)


def _post(lp, remote, fn):
    key = next(_keys)
    _pending[key] = (lp, fn, None)
    r = n.fdk_loop_remote_post(remote, _on_post, key)
    if r < 0:
        del _pending[key]
        check(r)


class Op:
    """A pending operation; cancel() may be called on the loop's thread until it completed."""

    def __init__(self, key, raw):
        self._key, self._raw = key, raw

    @property
    def pending(self):
        return self._key in _pending

    def cancel(self):
        """Asks the operation to complete with ECANCELED; False if it already completed."""
        return self.pending and n.fdk_op_cancel(self._raw) == 0


class Loop:
    def __init__(self):
        raw = n.handle()
        check(n.fdk_loop_new(ctypes.byref(raw)))
        remote = n.handle()
        r = n.fdk_loop_remote_new(ctypes.byref(remote), raw)
        if r < 0:
            error = Error.last(r)
            n.fdk_loop_free(raw)
            raise error
        self._raw = raw
        # post() goes through the remote, never _raw: it outlives the loop, so a post racing
        # close() gets ESHUTDOWN. Dropped by __del__, when no thread can be posting.
        self._remote = remote
        self._exception = None
        self._lock = threading.Lock()

    @property
    def _live(self):
        """The C loop; ValueError once closed, as a closed file's methods raise, instead of
        handing NULL to C (whose EINVAL would not say what happened)."""
        if not self._raw:
            raise ValueError("the Loop was closed")
        return self._raw

    def close(self):
        """Completes every pending operation with ECANCELED (their callbacks run) and frees
        the loop. Exceptions from those callbacks are dropped."""
        if self._raw:
            check(n.fdk_loop_free(self._raw))
            self._raw = None
            self._exception = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        if getattr(self, "_raw", None):
            n.fdk_loop_free(self._raw)
        if getattr(self, "_remote", None):
            n.fdk_loop_remote_unref(self._remote)

    def run(self, mode=RUN_DEFAULT):
        """Runs callbacks; returns whether operations are still pending."""
        result = n.fdk_loop_run(self._live, mode)
        exception, self._exception = self._exception, None
        if exception is not None:
            raise exception
        return check(result) > 0

    def stop(self):
        n.fdk_loop_stop(self._live)

    def backend_fd(self):
        return check(n.fdk_loop_backend_fd(self._live))

    def backend_timeout(self):
        """Milliseconds a host may wait on backend_fd(); None when no timer is due."""
        ms = n.fdk_loop_backend_timeout(self._live)
        return None if ms < 0 else ms

    def post(self, fn):
        """Queues fn() to run on the loop thread. Safe from any thread, also while another
        closes the loop: fn then either runs (during close() at the latest) or post raises
        OSError with errno ESHUTDOWN."""
        _post(self, self._remote, fn)

    def remote(self):
        """A Remote for this loop: a handle other threads can post through that does not
        keep the Loop object alive and outlives it."""
        return Remote(n.fdk_loop_remote_ref(self._remote), self)

    def _start(self, done, keepalive, start):
        """Starts an asynchronous operation: start(cb, data, op_out) calls the C *_async
        function; done(result) runs on the loop with its raw result. keepalive stays
        referenced until then."""
        self._live  # noqa: B018 -- ValueError once closed, before anything is registered
        key = next(_keys)
        _pending[key] = (self, done, keepalive)
        op = n.handle()
        r = start(_on_result, key, ctypes.byref(op))
        if r < 0:
            del _pending[key]
            raise Error.last(r)
        return Op(key, op)


class Remote:
    """Posts to a Loop from any thread without keeping it alive: once the loop is closed
    or collected, post raises OSError ESHUTDOWN. Holds its own C reference."""

    def __init__(self, raw, loop):
        self._raw = raw
        self._loop = weakref.ref(loop)

    def post(self, fn):
        """As Loop.post."""
        lp = self._loop()
        if lp is None:
            raise Error(errno.ESHUTDOWN, "the loop was collected")
        _post(lp, self._raw, fn)

    def __del__(self):
        n.fdk_loop_remote_unref(self._raw)
