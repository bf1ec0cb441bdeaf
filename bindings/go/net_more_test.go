// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"io"
	"syscall"
	"testing"

	"fdkit"
)

// loopback is an IPv4 socket of type typ bound to a free port of 127.0.0.1, and its address.
func loopback(t *testing.T, typ int) (*fdkit.Fd, syscall.Sockaddr) {
	t.Helper()
	s, err := fdkit.Socket(syscall.AF_INET, typ, 0)
	must(t, err)
	must(t, s.Bind(&syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
	addr, err := s.LocalAddr()
	must(t, err)
	return s, addr
}

func TestVectoredSyncIO(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		n, err := w.Writev([][]byte{[]byte("ab"), nil, []byte("cde")})
		if err != nil || n != 5 {
			t.Fatalf("writev: %d %v", n, err)
		}
		a, b := make([]byte, 3), make([]byte, 8)
		n, err = r.Readv([][]byte{a, b})
		if err != nil || n != 5 || string(a) != "abc" || string(b[:2]) != "de" {
			t.Fatalf("readv: %d %v %q %q", n, err, a, b[:2])
		}
		w.Close()
		if n, err := r.Readv([][]byte{a}); n != 0 || err != io.EOF {
			t.Fatalf("readv at end of file: %d %v", n, err)
		}
		if _, err := w.Writev([][]byte{a}); !errors.Is(err, syscall.EBADF) {
			t.Fatalf("writev after close: %v", err)
		}
	})
}

func TestWritevAllAsyncWritesEverythingInOrder(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		a, b := unixPair(t)
		defer a.Close()
		defer b.Close()
		must(t, a.SetsockoptInt(syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096))
		big := make([]byte, 1<<20)
		for i := range big {
			big[i] = byte(i % 251)
		}
		var totals []int
		for _, bufs := range [][][]byte{{big[:1000], big[1000:]}, {[]byte("tail"), []byte("!")}} {
			_, err := l.WritevAllAsync(a, bufs, func(n int, err error) { must(t, err); totals = append(totals, n) })
			must(t, err)
		}
		var got []byte
		var read func()
		read = func() {
			_, err := l.ReadAsync(b, 65536, func(data []byte, err error) {
				must(t, err)
				got = append(got, data...)
				if len(got) < len(big)+5 {
					read()
				}
			})
			must(t, err)
		}
		read()
		l.Run(fdkit.RunDefault)
		if len(totals) != 2 || totals[0] != len(big) || totals[1] != 5 {
			t.Fatalf("totals %v", totals)
		}
		if string(got[len(big):]) != "tail!" || string(got[:len(big)]) != string(big) {
			t.Fatalf("the bytes arrived out of order (%d)", len(got))
		}
	})
}

func TestPeerAddressAndSocketOptions(t *testing.T) {
	noLeaks(t, func() {
		l, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer l.Close()
		must(t, l.SetsockoptInt(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1))
		if v, err := l.GetsockoptInt(syscall.SOL_SOCKET, syscall.SO_REUSEADDR); err != nil || v == 0 {
			t.Fatalf("SO_REUSEADDR: %d %v", v, err)
		}
		if _, err := l.GetsockoptInt(syscall.SOL_SOCKET, 12345); !errors.Is(err, syscall.ENOPROTOOPT) {
			t.Fatalf("unknown option: %v", err)
		}
		must(t, l.Bind(&syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
		must(t, l.Listen(1))
		if _, err := l.RemoteAddr(); !errors.Is(err, syscall.ENOTCONN) {
			t.Fatalf("peer of a listener: %v", err)
		}
		addr, err := l.LocalAddr()
		must(t, err)
		c, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer c.Close()
		must(t, c.SetsockoptInt(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1))
		if v, err := c.GetsockoptInt(syscall.IPPROTO_TCP, syscall.TCP_NODELAY); err != nil || v != 1 {
			t.Fatalf("TCP_NODELAY: %d %v", v, err)
		}
		must(t, c.Connect(addr))
		peer, err := c.RemoteAddr()
		must(t, err)
		if peer.(*syscall.SockaddrInet4).Port != addr.(*syscall.SockaddrInet4).Port {
			t.Fatalf("peer %+v, listener %+v", peer, addr)
		}
		conn, err := l.Accept()
		must(t, err)
		conn.Close()
	})
}

// Datagrams with a destination and a sender's address, descriptors and a shutdown, all on
// the loop.
func TestAsyncMessagesAndShutdown(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		rx, to := loopback(t, syscall.SOCK_DGRAM)
		defer rx.Close()
		tx, txAddr := loopback(t, syscall.SOCK_DGRAM)
		defer tx.Close()
		var data []byte
		var from syscall.Sockaddr
		sent := 0
		_, err := l.RecvMsgAsync(rx, 64, 0, func(d []byte, f syscall.Sockaddr, fds []*fdkit.Fd, flags uint, err error) {
			must(t, err)
			data, from = d, f
		})
		must(t, err)
		_, err = l.SendMsgAsync(tx, []byte("datagram"), to, nil, func(n int, err error) { must(t, err); sent = n })
		must(t, err)
		l.Run(fdkit.RunDefault)
		if sent != 8 || string(data) != "datagram" || from == nil || from.(*syscall.SockaddrInet4).Port != txAddr.(*syscall.SockaddrInet4).Port {
			t.Fatalf("sent %d, received %q from %+v (sender %+v)", sent, data, from, txAddr)
		}

		a, b := unixPair(t)
		defer a.Close()
		defer b.Close()
		r, w := pipe(t)
		defer r.Close()
		var fds []*fdkit.Fd
		_, err = l.SendMsgAsync(a, []byte("fd"), nil, []*fdkit.Fd{w}, func(n int, err error) { must(t, err) })
		must(t, err)
		w.Close() // fdkit holds its own reference until the send completed
		_, err = l.RecvMsgAsync(b, 8, 2, func(d []byte, _ syscall.Sockaddr, f []*fdkit.Fd, flags uint, err error) {
			must(t, err)
			data, fds = d, f
		})
		must(t, err)
		l.Run(fdkit.RunDefault)
		if string(data) != "fd" || len(fds) != 1 {
			t.Fatalf("received %q with %d descriptors", data, len(fds))
		}
		_, err = fds[0].Write([]byte("via"))
		must(t, err)
		fds[0].Close()
		buf := make([]byte, 8)
		if n, err := r.Read(buf); err != nil || string(buf[:n]) != "via" {
			t.Fatalf("through the passed end: %q %v", buf[:n], err)
		}

		var shut error = errors.New("not called")
		_, err = l.ShutdownAsync(a, fdkit.ShutWrite, func(err error) { shut = err })
		must(t, err)
		l.Run(fdkit.RunDefault)
		must(t, shut)
		if n, err := b.Read(buf); n != 0 || err != io.EOF {
			t.Fatalf("read after the peer's shutdown: %d %v", n, err)
		}
	})
}

func TestSendMsgToAndRecvMsgFrom(t *testing.T) {
	noLeaks(t, func() {
		rx, to := loopback(t, syscall.SOCK_DGRAM)
		defer rx.Close()
		tx, txAddr := loopback(t, syscall.SOCK_DGRAM)
		defer tx.Close()
		if n, err := tx.SendMsgTo([]byte("hello"), to); err != nil || n != 5 {
			t.Fatalf("send to: %d %v", n, err)
		}
		buf := make([]byte, 3)
		n, from, fds, flags, err := rx.RecvMsgFrom(buf, 0)
		must(t, err)
		if n != 3 || string(buf) != "hel" || flags&fdkit.MsgTrunc == 0 || len(fds) != 0 {
			t.Fatalf("recv: %d %q flags %d", n, buf, flags)
		}
		if from == nil || from.(*syscall.SockaddrInet4).Port != txAddr.(*syscall.SockaddrInet4).Port {
			t.Fatalf("from %+v, sender %+v", from, txAddr)
		}
	})
}

func TestResolveWithHintsSyncAndAsync(t *testing.T) {
	noLeaks(t, func() {
		hints := fdkit.Hints{Family: syscall.AF_INET, Socktype: syscall.SOCK_STREAM, Flags: fdkit.AI_CANONNAME | fdkit.AI_NUMERICSERV}
		addrs, canon, err := fdkit.Resolve("localhost", "80", hints)
		must(t, err)
		if len(addrs) == 0 || canon == "" || addrs[0].Addr.(*syscall.SockaddrInet4).Port != 80 {
			t.Fatalf("resolve: %+v %q", addrs, canon)
		}
		if _, _, err := fdkit.Resolve("localhost", "http", hints); !errors.Is(err, syscall.ENOENT) {
			t.Fatalf("a service name with AI_NUMERICSERV: %v", err)
		}
		l := newLoop(t)
		defer l.Close()
		var async []fdkit.AddrInfo
		var asyncCanon string
		op, err := l.ResolveAsync("127.0.0.1", "", fdkit.Hints{Flags: fdkit.AI_NUMERICHOST}, func(a []fdkit.AddrInfo, c string, err error) {
			must(t, err)
			async, asyncCanon = a, c
		})
		must(t, err)
		if async != nil || !op.Pending() {
			t.Fatal("the callback ran inside the call")
		}
		l.Run(fdkit.RunDefault)
		if len(async) == 0 || asyncCanon != "" || async[0].Addr.(*syscall.SockaddrInet4).Addr != [4]byte{127, 0, 0, 1} {
			t.Fatalf("resolve async: %+v %q", async, asyncCanon)
		}
		var failed error
		_, err = l.ResolveAsync("not an address", "", fdkit.Hints{Flags: fdkit.AI_NUMERICHOST}, func(_ []fdkit.AddrInfo, _ string, err error) {
			failed = err
		})
		must(t, err)
		l.Run(fdkit.RunDefault)
		if !errors.Is(failed, syscall.ENOENT) {
			t.Fatalf("a non-numeric host with AI_NUMERICHOST: %v", failed)
		}
	})
}
