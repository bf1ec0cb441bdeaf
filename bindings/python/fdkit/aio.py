# SPDX-License-Identifier: MIT
"""asyncio integration: an fdkit Loop driven by a running asyncio event loop, its
operations awaitable.

    async def main():
        with fdkit.Loop() as lp, fdkit.aio.Driver(lp) as fl:
            r, w = fdkit.pipe()
            w.write(b"hi")
            print(await fl.read(r, 64))           # Loop.read_async, awaited

asyncio watches the fdkit loop's backend descriptor (add_reader) and keeps one timer for
its backend timeout; each turn runs fdkit with RUN_NOWAIT. Every Loop method NAME_async
is awaitable as Driver.NAME with the same arguments but done; the result is the value,
or the Error raised. Cancelling the awaiting task cancels the fdkit operation (fdk_op_cancel;
a run is stopped by its cancel policy). Everything runs on the asyncio loop's thread."""
import asyncio

from .io import now_ns
from .loop import RUN_NOWAIT


class Driver:
    def __init__(self, loop, aio=None):
        """Drives loop from aio (default: the running asyncio loop) until close()."""
        self.loop = loop
        self._aio = aio or asyncio.get_running_loop()
        self._fd = loop.backend_fd()
        self._timer = None
        self._scheduled = False
        self._aio.add_reader(self._fd, self._pump)
        self.wake()

    def _pump(self):
        self._scheduled = False
        if self._fd is None:  # closed since this turn was scheduled
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        try:
            self.loop.run(RUN_NOWAIT)
        finally:
            ms = self.loop.backend_timeout()  # None: no fdkit timer is due
            if ms is not None and self._fd is not None:
                self._timer = self._aio.call_later(ms / 1000, self._pump)

    def wake(self):
        """Gives fdkit a turn soon: operations started from asyncio code are armed there."""
        if not self._scheduled and self._fd is not None:
            self._scheduled = True
            self._aio.call_soon(self._pump)

    def submit(self, start, *args, **kwargs):
        """An asyncio Future for start(*args, done=..., **kwargs), a Loop *_async method."""
        fut = self._aio.create_future()

        def done(result):
            if not fut.done():
                if isinstance(result, BaseException):
                    fut.set_exception(result)
                else:
                    fut.set_result(result)

        op = start(*args, done=done, **kwargs)

        def on_cancel(f):
            if f.cancelled() and op.cancel():
                self.wake()

        fut.add_done_callback(on_cancel)
        self.wake()
        return fut

    def __getattr__(self, name):
        method = getattr(self.loop, name + "_async", None)
        if method is None:
            raise AttributeError(name)
        return lambda *args, **kwargs: self.submit(method, *args, **kwargs)

    def sleep(self, seconds):
        """Awaitable: resolves after seconds on fdkit's timer (never early)."""
        deadline = now_ns() + max(0, round(seconds * 1e9))
        return self.submit(self.loop.sleep_until, deadline)

    def close(self):
        """Stops driving the loop (pending fdkit operations stay pending)."""
        if self._fd is not None:
            self._aio.remove_reader(self._fd)
            self._fd = None
            if self._timer is not None:
                self._timer.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
