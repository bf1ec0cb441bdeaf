// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"syscall"
	"testing"

	"fdkit"
)

func TestDescriptorPassingOverASocketpair(t *testing.T) {
	noLeaks(t, func() {
		a, b, err := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer a.Close()
		defer b.Close()
		r, w := pipe(t)
		defer r.Close()
		if n, err := a.SendMsg([]byte("fd"), w); err != nil || n != 2 {
			t.Fatalf("send: %d %v", n, err)
		}
		w.Close() // the received handle is the only write end left
		buf := make([]byte, 8)
		n, fds, flags, err := b.RecvMsg(buf, 4)
		must(t, err)
		if n != 2 || string(buf[:2]) != "fd" || len(fds) != 1 || flags != 0 {
			t.Fatalf("recv: %d %q %d fds, flags %d", n, buf[:n], len(fds), flags)
		}
		_, err = fds[0].Write([]byte("through"))
		must(t, err)
		fds[0].Close()
		got := make([]byte, 16)
		n, err = r.Read(got)
		must(t, err)
		if string(got[:n]) != "through" {
			t.Fatalf("read %q", got[:n])
		}
		if _, err := r.Read(got); err == nil {
			t.Fatal("the passed write end was not closed")
		}
	})
}

func TestTooManyDescriptorsSetsMsgCtrunc(t *testing.T) {
	noLeaks(t, func() {
		a, b, err := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_DGRAM, 0)
		must(t, err)
		defer a.Close()
		defer b.Close()
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		_, err = a.SendMsg([]byte("x"), r, w)
		must(t, err)
		n, fds, flags, err := b.RecvMsg(make([]byte, 1), 1)
		must(t, err)
		if n != 1 || len(fds) != 0 || flags&fdkit.MsgCtrunc == 0 {
			t.Fatalf("recv: %d, %d fds, flags %d", n, len(fds), flags)
		}
	})
}

func TestTCPListenConnectAccept(t *testing.T) {
	noLeaks(t, func() {
		l, addr := loopback(t, syscall.SOCK_STREAM)
		defer l.Close()
		must(t, l.Listen(4))
		if addr.(*syscall.SockaddrInet4).Port == 0 {
			t.Fatalf("no port bound: %+v", addr)
		}
		c, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer c.Close()
		must(t, c.Connect(addr))
		conn, err := l.Accept()
		must(t, err)
		defer conn.Close()
		_, err = c.Write([]byte("ping"))
		must(t, err)
		must(t, c.Shutdown(fdkit.ShutWrite))
		buf := make([]byte, 8)
		n, err := conn.Read(buf)
		must(t, err)
		if string(buf[:n]) != "ping" {
			t.Fatalf("read %q", buf[:n])
		}
	})
}

func TestConnectToAClosedPortIsRefused(t *testing.T) {
	noLeaks(t, func() {
		probe, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		must(t, probe.Bind(&syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}))
		addr, err := probe.LocalAddr()
		must(t, err)
		probe.Close() // bound, never listening: nothing accepts on that port
		c, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer c.Close()
		if err := c.Connect(addr); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("connect: %v", err)
		}
	})
}

func TestGetAddrInfo(t *testing.T) {
	noLeaks(t, func() {
		all, err := fdkit.GetAddrInfo("127.0.0.1", "80", syscall.AF_INET, syscall.SOCK_STREAM)
		must(t, err)
		a, ok := all[0].Addr.(*syscall.SockaddrInet4)
		if !ok || a.Port != 80 || a.Addr != [4]byte{127, 0, 0, 1} || all[0].Socktype != syscall.SOCK_STREAM {
			t.Fatalf("127.0.0.1:80: %+v", all[0])
		}
		v6, err := fdkit.GetAddrInfo("::1", "443", syscall.AF_INET6, 0)
		must(t, err)
		if a, ok := v6[0].Addr.(*syscall.SockaddrInet6); !ok || a.Port != 443 || a.Addr[15] != 1 {
			t.Fatalf("[::1]:443: %+v", v6[0])
		}
		_, err = fdkit.GetAddrInfo("no-such-host.invalid", "", syscall.AF_UNSPEC, 0)
		if !errors.Is(err, syscall.ENOENT) && !errors.Is(err, syscall.EAGAIN) {
			t.Fatalf("unknown host: %v", err)
		}
	})
}

func TestAsyncAcceptAndConnectCompleteOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		loop := newLoop(t)
		defer loop.Close()
		l, addr := loopback(t, syscall.SOCK_STREAM)
		defer l.Close()
		must(t, l.Listen(4))
		var conn *fdkit.Fd
		_, err := loop.AcceptAsync(l, func(c *fdkit.Fd, err error) { must(t, err); conn = c })
		must(t, err)
		c, err := fdkit.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		must(t, err)
		defer c.Close()
		connected := false
		_, err = loop.ConnectAsync(c, addr, func(err error) { must(t, err); connected = true })
		must(t, err)
		loop.Run(fdkit.RunDefault)
		if conn == nil || !connected {
			t.Fatalf("accepted %v, connected %v", conn, connected)
		}
		defer conn.Close()
		_, err = c.Write([]byte("hi"))
		must(t, err)
		buf := make([]byte, 2)
		if n, err := conn.Read(buf); err != nil || string(buf[:n]) != "hi" {
			t.Fatalf("read %q %v", buf[:n], err)
		}
	})
}
