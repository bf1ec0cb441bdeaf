# SPDX-License-Identifier: MIT
"""process.h: spawn with actions, waiting, signals, exit on the loop, a failing action."""
import errno
import gc
import os
import signal
import tempfile
import time

import fdkit
from support import TestCase


class ProcessTest(TestCase):
    def test_inherited_descriptor_cwd_and_exit_code(self):
        r, w = fdkit.pipe()
        with tempfile.TemporaryDirectory() as top:
            with fdkit.spawn(["sh", "-c", "pwd -P >&5; exit 7"], cwd=top, fds={5: w}, close_other_fds=True) as p:
                w.close()
                self.assertGreater(p.pid, 0)
                st = p.wait()
                self.assertEqual((st.exit_code, st.signal), (7, None))
            self.assertEqual(r.read(4096), os.path.realpath(top).encode() + b"\n")

    def test_signal_and_exit_on_the_loop(self):
        got = []
        with fdkit.Loop() as lp:
            with fdkit.spawn(["sleep", "30"], loop=lp, on_exit=got.append) as p:
                self.assertIsNone(p.try_wait())
                p.signal(signal.SIGTERM)
                lp.run()
                self.assertEqual(got, [None])
                self.assertEqual(p.try_wait().signal, signal.SIGTERM)
                with self.assertRaises(fdkit.Error) as caught:
                    p.signal(signal.SIGTERM)
                self.assertEqual(caught.exception.errno, errno.ESRCH)

    def test_collecting_the_handle_neither_kills_the_child_nor_drops_on_exit(self):
        # As subprocess.Popen: dropping the last reference leaves the child running, and the
        # on_exit callback of a spawn nobody keeps still runs (the binding roots it).
        exits = []
        with fdkit.Loop() as lp:
            fdkit.spawn(["sh", "-c", "sleep 0.2; exit 3"], loop=lp, on_exit=exits.append)
            gc.collect()
            started = time.monotonic()
            lp.run()
            self.assertEqual(exits, [None])
            self.assertGreaterEqual(time.monotonic() - started, 0.15, "the child was killed early")
            child = fdkit.spawn(["sleep", "30"], loop=lp, on_exit=exits.append)
            pid = child.pid
            del child
            gc.collect()
            os.kill(pid, 0)  # still running after its handle was collected
            os.kill(pid, signal.SIGKILL)
            lp.run()  # fdkit reaps it: no zombie is left
        self.assertEqual(exits, [None, None])
        with self.assertRaises(ProcessLookupError):
            os.kill(pid, 0)

    def test_calls_after_free_raise_value_error(self):
        # Never the -EINVAL of a NULL handle passed off as a pid.
        child = fdkit.spawn(["true"])
        child.wait()
        child.free()
        for call in (lambda: child.pid, child.wait, child.try_wait, lambda: child.signal(0)):
            with self.assertRaises(ValueError):
                call()

    def test_a_failing_action_names_itself(self):
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["true"], cwd="/nonexistent-dir")
        self.assertEqual(caught.exception.errno, errno.ENOENT)
        self.assertIn("chdir", caught.exception.detail)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.spawn(["no-such-program-anywhere"])
        self.assertEqual(caught.exception.errno, errno.ENOENT)
