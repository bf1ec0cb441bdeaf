# SPDX-License-Identifier: MIT
"""trace.h: a hook sees matched spans of sync and async operations, then no more."""
import fdkit
from fdkit import trace
from support import TestCase


class TraceTest(TestCase):
    def tearDown(self):
        trace.set_hook(None)
        super().tearDown()

    def test_spans_of_sync_and_async_operations(self):
        events = []
        trace.set_hook(events.append)
        r, w = fdkit.pipe()
        w.write(b"abc")
        got = []
        with fdkit.Loop() as lp:
            lp.read_async(r, 8, got.append)
            lp.run()
        trace.set_hook(None)
        ends = [(e.name, e.result) for e in events if e.phase == trace.END]
        self.assertIn(("write", 3), ends)
        self.assertIn(("read", 3), ends)
        begins = {e.span_id for e in events if e.phase == trace.BEGIN}
        self.assertEqual(begins, {e.span_id for e in events if e.phase == trace.END})
        count = len(events)
        w.write(b"more")
        self.assertEqual(len(events), count)

    def test_a_failure_is_a_span_with_its_errno(self):
        events = []
        trace.set_hook(events.append)
        with self.assertRaises(fdkit.Error):
            fdkit.Dir.cwd().stat("no/such/path")
        trace.set_hook(None)
        self.assertTrue(any(e.name == "statat" and e.result < 0 for e in events if e.phase == trace.END), events)
