# SPDX-License-Identifier: MIT
"""The collector and the C handles: collecting a wrapper releases its handle (no descriptor
or memory stays), and whatever a pending operation needs (buffers, handles, callbacks,
predicates) stays alive until it completed, however the caller dropped it — and no
longer."""
import array
import errno
import gc
import os
import tempfile
import weakref

import fdkit
from fdkit.loop import _pending
from support import TestCase, open_fds


class CollectorTest(TestCase):
    def test_collected_handles_release_their_descriptors(self):
        with tempfile.TemporaryDirectory() as top:
            for i in range(50):
                with open(os.path.join(top, str(i)), "w"):
                    pass
            before = open_fds()
            d = fdkit.Dir.at(top)
            it = d.scandir()
            next(it)
            fd = d.open("0")
            self.assertEqual(open_fds(), before + 3)
            del d, it, fd
            gc.collect()
            self.assertEqual(open_fds(), before)

    def test_pending_buffers_survive_the_callers_references(self):
        a, b = fdkit.socketpair()
        got = []
        with fdkit.Loop() as lp:
            lp.writev_all_async(a, [bytearray(b"x" * 100_000), memoryview(b"y" * 100_000)], got.append)
            target = bytearray(16)
            lp.readv_async(b, [target], got.append)
            del target
            gc.collect()  # the iovecs point into objects only the pending entries hold
            while len(got) < 2:
                lp.run(fdkit.RUN_ONCE)
        self.assertEqual(sorted(got), [16, 200_000])

    def test_completed_operations_release_what_they_held(self):
        r, w = fdkit.pipe()
        data = array.array("b", b"held until written")
        watch = weakref.ref(data)
        got = []
        with fdkit.Loop() as lp:
            lp.write_async(w, data, got.append)
            del data
            gc.collect()
            self.assertIsNotNone(watch(), "a pending write lost its buffer")
            lp.run()
            gc.collect()
            self.assertIsNone(watch(), "a completed write still holds its buffer")
            self.assertEqual(got, [18])
            self.assertFalse(any(entry[0] is lp for entry in _pending.values()))
        self.assertEqual(r.read(32), b"held until written")

    def test_a_loop_is_collected_once_closed_with_nothing_pending(self):
        lp = fdkit.Loop()
        r, _w = fdkit.pipe()
        got = []
        lp.read_async(r, 8, got.append)
        watch = weakref.ref(lp)
        lp.close()  # the pending read completes with ECANCELED
        del lp
        gc.collect()
        self.assertIsNone(watch())
        self.assertEqual(got[0].errno, errno.ECANCELED)
        # Collected without close(): __del__ frees it; nothing to cancel.
        lp = fdkit.Loop()
        lp.sleep_until(0, got.append)
        lp.run()
        watch = weakref.ref(lp)
        del lp
        gc.collect()
        self.assertIsNone(watch())

    def test_an_async_runs_predicate_lives_until_the_run_ends(self):
        got, calls = [], []
        with fdkit.Loop() as lp:
            lp.run_async(["sh", "-c", "echo a; sleep 0.1; echo b"], got.append,
                         early_exit=lambda out: calls.append(out) and False)
            gc.collect()  # only the pending run holds the lambda and its C trampoline
            lp.run()
        self.assertEqual(got[0].stdout, b"a\nb\n")
        self.assertEqual(calls[-1], b"a\nb\n")

    def test_a_replaced_trace_hook_is_released(self):
        class Hook:
            def __call__(self, event):
                pass

        hook = Hook()
        watch = weakref.ref(hook)
        fdkit.trace.set_hook(hook)
        del hook
        gc.collect()
        self.assertIsNotNone(watch(), "an installed hook must stay alive")
        fdkit.trace.set_hook(None)
        gc.collect()
        self.assertIsNone(watch())
