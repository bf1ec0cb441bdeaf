# SPDX-License-Identifier: MIT
"""net.h: socket pairs, half-close, and descriptors passed in messages."""
import errno
import os
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


class SocketCallsTest(TestCase):
    """bind, listen, connect, accept, names and options, sync and async, over TCP, UDP
    and unix sockets; name resolution."""

    def test_tcp_round_trip_sync_with_names_and_options(self):
        listener = fdkit.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.assertEqual(listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR), 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        host, port = listener.getsockname()
        self.assertEqual(host, "127.0.0.1")
        self.assertGreater(port, 0)
        client = fdkit.socket(socket.AF_INET, socket.SOCK_STREAM)
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        with self.assertRaises(OSError) as caught:
            client.getpeername()
        self.assertEqual(caught.exception.errno, errno.ENOTCONN)
        client.connect(("127.0.0.1", port))
        conn, peer = listener.accept()
        self.assertEqual(peer, client.getsockname())
        self.assertEqual(conn.getpeername(), peer)
        self.assertFalse(conn.blocking)
        client.write(b"over tcp")
        self.assertEqual(conn.read(64), b"over tcp")
        with self.assertRaises(OSError) as caught:
            client.getsockopt(socket.SOL_SOCKET, 12345)
        self.assertEqual(caught.exception.errno, errno.ENOPROTOOPT)
        for s in (listener, client, conn):
            s.close()

    def test_refused_connect_is_connection_refused_error(self):
        probe = fdkit.socket(socket.AF_INET, socket.SOCK_STREAM)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # bound, never listening: nothing accepts on port
        client = fdkit.socket(socket.AF_INET, socket.SOCK_STREAM)
        with self.assertRaises(ConnectionRefusedError):
            client.connect(("127.0.0.1", port))
        got = []
        with fdkit.Loop() as lp:
            lp.connect_async(fdkit.socket(socket.AF_INET, socket.SOCK_STREAM), ("127.0.0.1", port), got.append)
            lp.run()
        self.assertIsInstance(got[0], ConnectionRefusedError)

    def test_async_accept_connect_send_and_shutdown_over_unix_sockets(self):
        import tempfile
        with tempfile.TemporaryDirectory() as top:
            path = os.path.join(top, "sock")
            listener = fdkit.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            listener.listen(4)
            self.assertEqual(listener.getsockname(), path)
            client = fdkit.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            got = {}
            r, w = fdkit.pipe()
            with fdkit.Loop() as lp:
                lp.accept_async(listener, lambda res: got.setdefault("accept", res))
                lp.connect_async(client, path, lambda res: got.setdefault("connect", res))
                self.assertEqual(got, {})
                lp.run()
                conn, _peer = got["accept"]
                self.assertIsNone(got["connect"])
                lp.send_msg_async(client, [b"with ", b"a pipe"], lambda res: got.setdefault("send", res), fds=[w])
                lp.run()
                self.assertEqual(got["send"], 11)
                data, fds, _flags = conn.recv_msg(64, max_fds=2)
                self.assertEqual((data, len(fds)), (b"with a pipe", 1))
                fds[0].write(b"!")
                self.assertEqual(r.read(1), b"!")
                lp.shutdown_async(client, fdkit.SHUT_WR, lambda res: got.setdefault("shutdown", res))
                lp.run()
                self.assertIsNone(got["shutdown"])
                self.assertEqual(conn.read(8), b"")
                # A cancelled accept completes with ECANCELED and leaves the listener usable.
                op = lp.accept_async(listener, lambda res: got.setdefault("cancelled", res))
                op.cancel()
                lp.run()
                self.assertEqual(got["cancelled"].errno, errno.ECANCELED)

    def test_datagrams_with_addresses_and_abstract_names(self):
        a = fdkit.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        try:
            a.bind(("::1", 0))
        except OSError:
            self.skipTest("no IPv6 loopback here")
        b = fdkit.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        b.bind(("::1", 0))
        host, port, _flow, _scope = b.getsockname()
        self.assertEqual(host, "::1")
        self.assertEqual(a.send_msg([b"dgram"], address=(host, port)), 5)
        self.assertEqual(b.recv_msg(16, with_address=True), (b"dgram", [], 0, a.getsockname()))
        got = []
        with fdkit.Loop() as lp:
            lp.recv_msg_async(a, 16, got.append, with_address=True)
            lp.send_msg_async(b, [b"back"], got.append, address=a.getsockname())
            lp.run()
        self.assertCountEqual(got, [4, (b"back", [], 0, b.getsockname())])
        u = fdkit.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        name = b"\0fdkit-test-%d" % os.getpid()
        u.bind(name)
        self.assertEqual(u.getsockname(), name)
        with self.assertRaises(OSError) as caught:
            u.bind("x" * 200)
        self.assertEqual(caught.exception.errno, errno.ENAMETOOLONG)

    def test_getaddrinfo_sync_and_async(self):
        entries = fdkit.getaddrinfo("127.0.0.1", 80, socket.AF_INET, socket.SOCK_STREAM,
                                    flags=fdkit.net.AI_NUMERICHOST | fdkit.net.AI_CANONNAME)
        self.assertEqual(entries[0][0:3], (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP))
        self.assertEqual(entries[0][4], ("127.0.0.1", 80))
        self.assertEqual(entries, [e[:3] + (e[3] if i == 0 else "",) + e[4:] for i, e in enumerate(entries)])
        passive = fdkit.getaddrinfo(None, "8080", socket.AF_INET, socket.SOCK_DGRAM, flags=fdkit.net.AI_PASSIVE)
        self.assertEqual(passive[0][4], ("0.0.0.0", 8080))
        with self.assertRaises(FileNotFoundError) as caught:
            fdkit.getaddrinfo("not an address", None, flags=fdkit.net.AI_NUMERICHOST)
        self.assertTrue(caught.exception.detail)
        with self.assertRaises(OSError) as caught:
            fdkit.getaddrinfo(None, None)
        self.assertEqual(caught.exception.errno, errno.EINVAL)
        got = []
        with fdkit.Loop() as lp:
            lp.getaddrinfo_async("::1", 443, got.append, family=socket.AF_INET6, type=socket.SOCK_STREAM,
                                 flags=fdkit.net.AI_NUMERICHOST)
            lp.getaddrinfo_async("bad host", None, got.append, flags=fdkit.net.AI_NUMERICHOST)
            self.assertEqual(got, [])
            lp.run()
        ok = [g for g in got if isinstance(g, list)][0]
        self.assertEqual(ok[0][4], ("::1", 443, 0, 0))
        self.assertIsInstance([g for g in got if isinstance(g, Exception)][0], FileNotFoundError)
