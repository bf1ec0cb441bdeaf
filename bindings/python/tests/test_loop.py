# SPDX-License-Identifier: MIT
"""loop.h: running, posting, cancelling, exceptions in callbacks."""
import errno
import gc
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


class ClosedLoopTest(TestCase):
    def test_calls_after_close_raise_value_error(self):
        # Never the EINVAL of a NULL loop handed to C.
        lp = fdkit.Loop()
        lp.close()
        r, _w = fdkit.pipe()
        for call in (lp.run, lp.stop, lp.backend_fd, lp.backend_timeout, lambda: lp.read_async(r, 1, print),
                     lambda: lp.sleep_until(0, print), lambda: lp.run_async(["true"], print)):
            with self.assertRaisesRegex(ValueError, "closed"):
                call()
        with self.assertRaises(OSError) as caught:
            lp.post(print)
        self.assertEqual(caught.exception.errno, errno.ESHUTDOWN)


class RemoteTest(TestCase):
    def test_a_remote_posts_from_threads_and_outlives_its_loop(self):
        ran = []
        lp = fdkit.Loop()
        remote = lp.remote()
        t = threading.Thread(target=remote.post, args=(lambda: ran.append(threading.get_ident()),))
        t.start()
        t.join()
        lp.run()
        self.assertEqual(ran, [threading.get_ident()])
        lp.close()
        with self.assertRaises(OSError) as caught:
            remote.post(lambda: ran.append("late"))
        self.assertEqual(caught.exception.errno, errno.ESHUTDOWN)
        # A remote does not keep its Loop object alive; posting after it was collected
        # is ESHUTDOWN too.
        lp2 = fdkit.Loop()
        remote2 = lp2.remote()
        del lp2
        gc.collect()
        with self.assertRaises(OSError) as caught:
            remote2.post(lambda: ran.append("late"))
        self.assertEqual(caught.exception.errno, errno.ESHUTDOWN)
        self.assertEqual(len(ran), 1)


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
