# SPDX-License-Identifier: MIT
"""fdkit.aio: the loop driven by asyncio through its backend descriptor, operations awaited,
errors raised as their OSError subclasses, cancellation passed on to fdkit."""
import asyncio
import threading

import fdkit
from fdkit import aio
from fdkit.loop import _pending
from support import TestCase


def pending_on(lp):
    return [key for key, entry in _pending.items() if entry[0] is lp]


async def waiting_read(fl, size):
    """(r, w, task): a pipe and a task awaiting a read on it, left a moment to start."""
    r, w = fdkit.pipe()
    task = asyncio.ensure_future(fl.read(r, size))
    await asyncio.sleep(0.03)
    return r, w, task


class AioTest(TestCase):
    def test_operations_are_awaitable_and_woken_by_the_backend_fd(self):
        async def main(lp):
            with aio.Driver(lp) as fl:
                r, w, reading = await waiting_read(fl, 16)
                self.assertFalse(reading.done())
                # Only the backend descriptor can wake fdkit for this write from a thread.
                threading.Thread(target=w.write, args=(b"via asyncio",)).start()
                data = await asyncio.wait_for(reading, 10)
                start = fdkit.now_ns()
                await fl.sleep(0.03)  # only fdkit's timer can end this
                slept = fdkit.now_ns() - start
                result = await fl.run(["echo", "child"])
                r.close()
                w.close()
                return data, slept, result

        with fdkit.Loop() as lp:
            data, slept, result = asyncio.run(main(lp))
        self.assertEqual(data, b"via asyncio")
        self.assertGreaterEqual(slept, 30_000_000)
        self.assertEqual((result.returncode, result.stdout), (0, b"child\n"))

    def test_concurrent_operations_and_errors_as_exceptions(self):
        async def main(lp):
            with aio.Driver(lp) as fl:
                here = fdkit.Dir.cwd()
                entries, slept, missing = await asyncio.gather(
                    fl.getaddrinfo("127.0.0.1", 80, flags=fdkit.net.AI_NUMERICHOST),
                    fl.sleep(0.01),
                    fl.open(here, "no such file anywhere"),
                    return_exceptions=True)
                return entries, slept, missing

        with fdkit.Loop() as lp:
            entries, slept, missing = asyncio.run(main(lp))
        self.assertEqual(entries[0][4], ("127.0.0.1", 80))
        self.assertIsNone(slept)
        self.assertIsInstance(missing, FileNotFoundError)
        self.assertIsInstance(missing, fdkit.Error)
        self.assertEqual(missing.filename, "no such file anywhere")  # as the synchronous call's error
        self.assertTrue(missing.detail)

    def test_the_confined_fs_calls_are_awaitable(self):
        import os
        import shutil
        import tempfile
        top = tempfile.mkdtemp()

        async def main(lp, root):
            with aio.Driver(lp) as fl:
                await fl.mkfifo(root, "fifo", mode=0o600)
                await fl.truncate_path(root, "f", 7)
                allowed = await fl.access(root, "f", fdkit.fs.R_OK)
                jail = await fl.dir_open(root, "", in_root=True)
                try:
                    await fl.mknod(root, "fifo")
                except FileExistsError as e:
                    exists = e
                return allowed, jail, exists

        try:
            with open(os.path.join(top, "f"), "w"):
                pass
            with fdkit.Loop() as lp, fdkit.Dir.at(top) as root:
                allowed, jail, exists = asyncio.run(main(lp, root))
            with jail:
                self.assertEqual(jail.stat("/../f").size, 7)
            self.assertTrue(allowed)
            self.assertEqual(exists.filename, "fifo")
            self.assertEqual(sorted(os.listdir(top)), ["f", "fifo"])
            self.assertEqual(os.path.getsize(os.path.join(top, "f")), 7)
        finally:
            shutil.rmtree(top)

    def test_cancelling_the_task_cancels_the_fdkit_operation(self):
        async def main(lp):
            with aio.Driver(lp) as fl:
                r, w, task = await waiting_read(fl, 8)
                self.assertEqual(len(pending_on(lp)), 1)
                task.cancel()
                with self.assertRaises(asyncio.CancelledError):
                    await task
                for _ in range(100):  # the op completes with ECANCELED on fdkit's next turn
                    if not pending_on(lp):
                        break
                    await asyncio.sleep(0.01)
                self.assertEqual(pending_on(lp), [])
                w.write(b"after")  # nothing was consumed by the cancelled read
                self.assertEqual(r.read(8), b"after")

        with fdkit.Loop() as lp:
            asyncio.run(main(lp))

    def test_close_stops_watching_and_unknown_names_raise(self):
        async def main(lp):
            aloop = asyncio.get_running_loop()
            fl = aio.Driver(lp)
            with self.assertRaises(AttributeError):
                fl.no_such_operation
            fl.close()
            fl.close()
            return aloop.remove_reader(lp.backend_fd())  # False: nothing was still registered

        with fdkit.Loop() as lp:
            self.assertFalse(asyncio.run(main(lp)))
            got = []
            lp.sleep_until(0, got.append)
            lp.run()
            self.assertEqual(got, [None])  # the fdkit loop itself is untouched

    def test_an_exception_in_a_plain_callback_reaches_asyncio(self):
        # A callback given to a Loop method directly (not awaited) that raises: the turn
        # fails inside asyncio's reader callback, which reports it; the loop stays usable.
        reported = []

        async def main(lp):
            asyncio.get_running_loop().set_exception_handler(lambda _l, ctx: reported.append(ctx.get("exception")))
            with aio.Driver(lp) as fl:
                lp.sleep_until(0, lambda _: 1 / 0)
                fl.wake()
                await asyncio.sleep(0.05)
                return await fl.sleep(0)

        with fdkit.Loop() as lp:
            self.assertIsNone(asyncio.run(main(lp)))
        self.assertTrue(any(isinstance(e, ZeroDivisionError) for e in reported), reported)
