# SPDX-License-Identifier: MIT
"""loop.h: running, posting, cancelling, exceptions in callbacks."""
import errno
import threading

import fdkit
from support import TestCase


class LoopTest(TestCase):
    def test_idle_loop_returns_at_once(self):
        with fdkit.Loop() as lp:
            self.assertFalse(lp.run())
            self.assertFalse(lp.run(fdkit.RUN_NOWAIT))
            self.assertGreaterEqual(lp.backend_fd(), 0)

    def test_post_from_another_thread_runs_on_the_loop(self):
        ran_on = []
        with fdkit.Loop() as lp:
            t = threading.Thread(target=lp.post, args=(lambda: ran_on.append(threading.get_ident()),))
            t.start()
            t.join()
            lp.run()
        self.assertEqual(ran_on, [threading.get_ident()])

    def test_sleep_never_ends_early_and_runs_from_the_loop(self):
        woke = []
        with fdkit.Loop() as lp:
            deadline = fdkit.now_ns() + 20_000_000
            op = lp.sleep_until(deadline, lambda r: woke.append((r, fdkit.now_ns())))
            self.assertTrue(op.pending)
            self.assertEqual(woke, [], "callback ran inside the starting call")
            lp.run()
            self.assertFalse(op.pending)
            self.assertFalse(op.cancel())
        self.assertIsNone(woke[0][0])
        self.assertGreaterEqual(woke[0][1], deadline)

    def test_cancel_completes_with_ecanceled(self):
        got = []
        r, _w = fdkit.pipe()
        with fdkit.Loop() as lp:
            op = lp.read_async(r, 8, got.append)
            self.assertTrue(op.cancel())
            lp.run()
        self.assertEqual(got[0].errno, errno.ECANCELED)

    def test_closing_the_loop_cancels_pending_operations(self):
        got = []
        lp = fdkit.Loop()
        lp.sleep_until(fdkit.now_ns() + 60 * 10**9, got.append)
        lp.close()
        self.assertEqual(got[0].errno, errno.ECANCELED)

    def test_exception_in_a_callback_comes_out_of_run(self):
        def boom(_):
            raise ValueError("boom")

        later = []
        with fdkit.Loop() as lp:
            lp.sleep_until(0, boom)
            with self.assertRaisesRegex(ValueError, "boom"):
                lp.run()
            lp.sleep_until(0, later.append)  # still usable
            lp.run()
        self.assertEqual(later, [None])

    def test_run_from_inside_a_callback_is_ebusy(self):
        got = []
        with fdkit.Loop() as lp:
            def nested(_):
                try:
                    lp.run(fdkit.RUN_NOWAIT)
                except fdkit.Error as e:
                    got.append(e.errno)
            lp.sleep_until(0, nested)
            lp.run()
        self.assertEqual(got, [errno.EBUSY])


class PostRacesCloseTest(TestCase):
    def test_post_while_another_thread_closes(self):
        # Threads post while the loop's thread closes it: every post either runs (during
        # close at the latest) or raises ESHUTDOWN; none touches the freed loop.
        for _ in range(20):
            lp = fdkit.Loop()
            ran, accepted, refused = [], [], []

            def poster():
                while True:
                    try:
                        lp.post(lambda: ran.append(1))
                    except OSError as e:
                        refused.append(e.errno)
                        return
                    accepted.append(1)

            threads = [threading.Thread(target=poster) for _ in range(4)]
            for t in threads:
                t.start()
            lp.run(fdkit.RUN_NOWAIT)
            lp.close()
            for t in threads:
                t.join()
            self.assertEqual(refused, [errno.ESHUTDOWN] * 4)
            self.assertEqual(len(ran), len(accepted))


class AsyncioTest(TestCase):
    def test_asyncio_drives_the_loop_through_its_backend_fd(self):
        # The pattern of doc/bindings/python.md: asyncio watches backend_fd() and a timer
        # for backend_timeout(); fdkit callbacks resolve asyncio futures.
        import asyncio

        def attach(lp, aio):
            """Returns (wake, detach): call wake() after starting operations from asyncio
            code, so fdkit gets a turn to arm them."""
            timer = None

            def pump():
                nonlocal timer
                lp.run(fdkit.RUN_NOWAIT)
                if timer is not None:
                    timer.cancel()
                ms = lp.backend_timeout()
                timer = aio.call_later(ms / 1000, pump) if ms is not None else None

            aio.add_reader(lp.backend_fd(), pump)
            pump()
            return (lambda: aio.call_soon(pump)), (lambda: (aio.remove_reader(lp.backend_fd()), timer and timer.cancel()))

        def read(lp, wake, fd, size):
            fut = asyncio.get_running_loop().create_future()
            lp.read_async(fd, size, lambda r: fut.set_exception(r) if isinstance(r, Exception) else fut.set_result(r))
            wake()
            return fut

        async def main(lp):
            wake, detach = attach(lp, asyncio.get_running_loop())
            r, w = fdkit.pipe()
            pending = read(lp, wake, r, 16)
            await asyncio.sleep(0.01)
            threading.Thread(target=w.write, args=(b"via asyncio",)).start()
            data = await asyncio.wait_for(pending, 5)
            woke = asyncio.get_running_loop().create_future()
            lp.sleep_until(fdkit.now_ns() + 20_000_000, lambda _: woke.set_result(True))
            wake()
            await asyncio.wait_for(woke, 5)  # only the timer wakes fdkit here
            detach()
            r.close()
            w.close()
            return data

        with fdkit.Loop() as lp:
            self.assertEqual(asyncio.run(main(lp)), b"via asyncio")
