# SPDX-License-Identifier: MIT
"""io.h: synchronous and asynchronous I/O, random bytes."""
import array
import errno
import os
import socket
import tempfile

import fdkit
from support import TestCase


class IoTest(TestCase):
    def test_async_read_completes_on_the_loop(self):
        got, wrote = [], []
        r, w = fdkit.pipe()
        with fdkit.Loop() as lp:
            lp.read_async(r, 64, got.append)
            r.dispose()  # the operation keeps its own reference
            lp.write_async(w, b"hello", wrote.append)
            self.assertEqual(got, [])
            lp.run()
        self.assertEqual((got, wrote), ([b"hello"], [5]))

    def test_closing_the_handle_cancels_a_pending_read(self):
        got = []
        r, _w = fdkit.pipe()
        with fdkit.Loop() as lp:
            lp.read_async(r, 8, got.append)
            r.close()
            lp.run()
        self.assertEqual(got[0].errno, errno.ECANCELED)
        self.assertTrue(got[0].detail)

    def test_sync_and_vectored_io_on_a_pipe(self):
        r, w = fdkit.pipe()
        self.assertEqual(w.writev([b"ab", bytearray(b"cde")]), 5)
        a, b = bytearray(2), bytearray(8)
        self.assertEqual(r.readv([a, b]), 5)
        self.assertEqual((bytes(a), bytes(b[:3])), (b"ab", b"cde"))
        w.write(memoryview(b"xyz"))
        buf = bytearray(3)
        self.assertEqual(r.readinto(buf), 3)
        self.assertEqual(buf, b"xyz")

    def test_reading_into_a_read_only_buffer_raises_type_error(self):
        # bytes are immutable and may be shared interpreter-wide: reading into one must be
        # refused as io.RawIOBase.readinto refuses it, without consuming any data.
        r, w = fdkit.pipe()
        w.write(b"zz")
        shared = bytes([97])  # CPython's one cached b"a"
        for call in (lambda: r.readinto(shared), lambda: r.readinto(memoryview(bytearray(2)).toreadonly()),
                     lambda: r.readv([bytearray(1), shared])):
            with self.assertRaises(TypeError):
                call()
        self.assertEqual(b"a", bytes([97]))
        with fdkit.Loop() as lp:
            with self.assertRaises(TypeError):
                lp.readv_async(r, [shared], lambda result: None)
        buf = bytearray(4)
        self.assertEqual(r.readinto(buf), 2)
        self.assertEqual(buf[:2], b"zz")
        w.write(b"q")
        self.assertEqual(r.readinto(array.array("b", [0])), 1)

    def test_positioned_io_seek_and_truncate_on_a_file(self):
        with tempfile.TemporaryFile() as f:
            fd = fdkit.Fd.adopt(os.dup(f.fileno()))
            self.assertEqual(fd.pwrite(b"0123456789", 0), 10)
            self.assertEqual(fd.pread(3, 4), b"456")
            self.assertEqual(fd.seek(0, fdkit.SEEK_CUR), 0)
            fd.truncate(4)
            self.assertEqual(fd.seek(0, fdkit.SEEK_END), 4)
            fd.fsync(data_only=True)
            with self.assertRaises(fdkit.Error) as caught:
                fd.seek(-10, fdkit.SEEK_CUR)
            self.assertEqual(caught.exception.errno, errno.EINVAL)
            fd.dispose()

    def test_random_bytes_sync_and_async(self):
        a = fdkit.getrandom(32)
        got = []
        with fdkit.Loop() as lp:
            lp.getrandom_async(32, got.append)
            lp.run()
        self.assertEqual((len(a), len(got[0])), (32, 32))
        # 256 random bits twice the same, or all zero, would mean no randomness.
        self.assertNotEqual(a, got[0])
        self.assertNotEqual(a, bytes(32))


class AsyncVectoredAndFileTest(TestCase):
    def test_vectored_and_positioned_async_calls(self):
        got = []
        r, w = fdkit.pipe()
        a, b = bytearray(2), bytearray(8)
        with fdkit.Loop() as lp:
            lp.writev_async(w, [b"ab", b"cde"], got.append)
            lp.run()
            lp.readv_async(r, [a, b], got.append)
            lp.run()
        self.assertEqual(got, [5, 5])
        self.assertEqual((bytes(a), bytes(b[:3])), (b"ab", b"cde"))
        with tempfile.TemporaryFile() as f:
            fd = fdkit.Fd.adopt(os.dup(f.fileno()))
            got = []
            with fdkit.Loop() as lp:
                lp.pwrite_async(fd, b"0123456789", 0, got.append)
                lp.run()
                lp.pread_async(fd, 3, 4, got.append)
                lp.run()
                lp.seek_async(fd, 0, fdkit.SEEK_END, got.append)
                lp.run()
                lp.truncate_async(fd, 4, got.append)
                lp.run()
                lp.fsync_async(fd, got.append, data_only=True)
                lp.run()
                lp.seek_async(fd, -1, fdkit.SEEK_SET, got.append)
                lp.run()
            self.assertEqual(got[:5], [10, b"456", 10, None, None])
            self.assertEqual(got[5].errno, errno.EINVAL)
            self.assertEqual(fd.seek(0, fdkit.SEEK_END), 4)
            fd.dispose()


class WriteAllTest(TestCase):
    def test_queued_writes_arrive_whole_and_in_order(self):
        a, b = fdkit.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        chunks = [bytes([65 + i]) * (1 << 20) for i in range(4)]
        done, got = [], bytearray()
        with fdkit.Loop() as lp:
            for i, chunk in enumerate(chunks):
                lp.write_all_async(a, chunk, lambda r, i=i: done.append((i, r)))
            self.assertGreater(lp.write_queue_size(a), 3 << 20)

            def more(data):
                got.extend(data)
                if len(got) < 4 << 20:
                    lp.read_async(b, 1 << 16, more)
            lp.read_async(b, 1 << 16, more)
            lp.run()
            self.assertEqual(lp.write_queue_size(a), 0)
        self.assertEqual(done, [(i, 1 << 20) for i in range(4)])
        self.assertEqual(bytes(got), b"".join(chunks))
        a.dispose()
        b.dispose()
