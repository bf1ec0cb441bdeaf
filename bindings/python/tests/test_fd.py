# SPDX-License-Identifier: MIT
"""fd.h: handles, deferred close, ownership."""
import errno
import os
import threading

import fdkit
from support import TestCase


class FdTest(TestCase):
    def test_use_after_close_is_ebadf_everywhere(self):
        r, w = fdkit.pipe()
        other = r.ref()
        r.close()
        for call in (lambda: other.read(1), r.close, r.fileno, lambda: r.use().__enter__()):
            with self.assertRaises(fdkit.Error) as caught:
                call()
            self.assertEqual(caught.exception.errno, errno.EBADF)
        # The reader is gone: EPIPE, and no SIGPIPE killed the process.
        with self.assertRaises(fdkit.Error) as caught:
            w.write(b"x")
        self.assertEqual(caught.exception.errno, errno.EPIPE)

    def test_last_reference_closes(self):
        r, w = fdkit.pipe()
        r2 = r.ref()
        raw = r.fileno()
        r.dispose()
        self.assertEqual(w.write(b"open"), 4)
        self.assertEqual(r2.read(8), b"open")
        r2.dispose()
        with self.assertRaises(OSError) as caught:
            os.fstat(raw)
        self.assertEqual(caught.exception.errno, errno.EBADF)

    def test_release_hands_back_an_open_descriptor(self):
        r, w = fdkit.pipe()
        raw = r.release()
        w.write(b"hi")
        self.assertEqual(os.read(raw, 2), b"hi")
        os.close(raw)

    def test_use_gives_the_descriptor(self):
        r, _w = fdkit.pipe()
        with r.use() as raw:
            self.assertEqual(raw, r.fileno())
            self.assertFalse(os.get_blocking(raw))

    def test_adopt_detects_or_keeps_blocking_mode(self):
        raw = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        fd = fdkit.Fd.adopt(raw)
        self.assertTrue(fd.blocking)
        self.assertEqual(fd.read(1), b"")
        fd.close()
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.Fd.adopt(-1)
        self.assertEqual(caught.exception.errno, errno.EBADF)

    def test_borrowed_descriptor_stays_open(self):
        raw = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        fd = fdkit.Fd.adopt(raw, borrow=True)
        fd.close()
        fd.dispose()
        os.fstat(raw)  # still open
        os.close(raw)

    def test_handles_are_shared_across_threads(self):
        r, w = fdkit.pipe()
        t = threading.Thread(target=w.write, args=(b"from a thread",))
        t.start()
        self.assertEqual(r.read(32), b"from a thread")  # blocks (GIL released) until written
        t.join()

    def test_calls_after_dispose_raise_value_error(self):
        # A disposed wrapper holds no handle: ValueError, as a closed file's methods raise,
        # never the EINVAL of a NULL handle passed to C.
        r, w = fdkit.pipe()
        r.dispose()
        d = fdkit.Dir.cwd()
        d.dispose()
        with fdkit.Loop() as lp:
            for call in (lambda: r.read(1), r.fileno, r.close, r.ref, lambda: r.stat(), lambda: w.send_msg([b"x"], fds=[r]),
                         lambda: lp.read_async(r, 1, print), lambda: d.open("x"), lambda: d.stat("x"),
                         lambda: fdkit.spawn(["true"], fds={3: r}), lambda: fdkit.run(["true"], stdin=r)):
                with self.assertRaisesRegex(ValueError, "already released"):
                    call()
