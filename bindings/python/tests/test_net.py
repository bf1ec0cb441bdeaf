# SPDX-License-Identifier: MIT
"""net.h: socket pairs, half-close, and descriptors passed in messages."""
import errno
import socket

import fdkit
from support import TestCase


class NetTest(TestCase):
    def test_descriptor_passing_and_reading_through_it(self):
        a, b = fdkit.socketpair()
        r, w = fdkit.pipe()
        self.assertEqual(a.send_msg([b"take ", b"these"], fds=[r, w]), 10)
        data, fds, flags = b.recv_msg(64, max_fds=4)
        self.assertEqual((data, len(fds), flags), (b"take these", 2, 0))
        fds[1].write(b"through the passed pipe")
        self.assertEqual(fds[0].read(64), b"through the passed pipe")
        # Too little room: the bytes still come, every descriptor that arrived is closed
        # (none leaks) and the truncation is reported.
        a.send_msg([b"x"], fds=[r, w])
        data, fds, flags = b.recv_msg(8, max_fds=1)
        self.assertEqual((data, fds), (b"x", []))
        self.assertTrue(flags & fdkit.net.MSG_CTRUNC)

    def test_async_receive_and_shutdown(self):
        a, b = fdkit.socketpair()
        got = []
        with fdkit.Loop() as lp:
            lp.recv_msg_async(b, 16, got.append)
            lp.run(fdkit.RUN_NOWAIT)
            self.assertEqual(got, [])
            a.send_msg([b"ping"])
            lp.run()
        self.assertEqual(got, [(b"ping", [], 0)])
        a.shutdown(fdkit.SHUT_WR)
        self.assertEqual(b.recv_msg(16), (b"", [], 0))

    def test_socket_errors(self):
        r, _w = fdkit.pipe()
        with self.assertRaises(fdkit.Error) as caught:
            r.shutdown(fdkit.SHUT_RDWR)
        self.assertEqual(caught.exception.errno, errno.ENOTSOCK)
        with self.assertRaises(fdkit.Error) as caught:
            fdkit.socket(socket.AF_UNIX, 12345)
        self.assertEqual(caught.exception.errno, errno.EINVAL)
