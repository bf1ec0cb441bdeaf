package fdkit_test

import (
	"errors"
	"syscall"
	"testing"

	"fdkit"
)

func TestDescriptorPassingAndReadingThroughIt(t *testing.T) {
	noLeaks(t, func() {
		a, b, err := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM)
		must(t, err)
		defer a.Close()
		defer b.Close()
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		if n, err := a.SendMsg([]byte("take these"), r, w); err != nil || n != 10 {
			t.Fatalf("send %d %v", n, err)
		}
		m, err := b.RecvMsg(64, 4)
		must(t, err)
		if string(m.Data) != "take these" || len(m.Fds) != 2 || m.FdsTruncated {
			t.Fatalf("%+v", m)
		}
		_, err = m.Fds[1].Write([]byte("through the passed pipe"))
		must(t, err)
		buf := make([]byte, 64)
		n, _ := m.Fds[0].Read(buf)
		if string(buf[:n]) != "through the passed pipe" {
			t.Fatalf("read %q", buf[:n])
		}
		for _, fd := range m.Fds {
			must(t, fd.Close())
		}
		// Too little room: the bytes still come, every descriptor that arrived is closed.
		_, err = a.SendMsg([]byte("x"), r, w)
		must(t, err)
		m, err = b.RecvMsg(8, 1)
		must(t, err)
		if string(m.Data) != "x" || len(m.Fds) != 0 || !m.FdsTruncated {
			t.Fatalf("%+v", m)
		}
	})
}

func TestShutdownAndSocketErrors(t *testing.T) {
	noLeaks(t, func() {
		a, b, err := fdkit.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET)
		must(t, err)
		defer a.Close()
		defer b.Close()
		must(t, a.Shutdown(fdkit.ShutWr))
		if m, err := b.RecvMsg(8, 0); err != nil || len(m.Data) != 0 {
			t.Fatalf("after shutdown: %v %v", m, err)
		}
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		if err := r.Shutdown(fdkit.ShutRdwr); !errors.Is(err, syscall.ENOTSOCK) {
			t.Fatalf("shutdown of a pipe: %v", err)
		}
		if _, err := fdkit.Socket(syscall.AF_UNIX, 12345, 0); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("bad socket type: %v", err)
		}
	})
}
