// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"

	"fdkit"
)

func TestAsyncReadCompletesOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		var got []byte
		var wrote int
		_, err := l.ReadAsync(r, 64, func(data []byte, err error) { must(t, err); got = data })
		must(t, err)
		_, err = l.WriteAsync(w, []byte("hello"), func(n int, err error) { must(t, err); wrote = n })
		must(t, err)
		if got != nil {
			t.Fatal("the callback ran inside the starting call")
		}
		l.Run(fdkit.RunDefault)
		if string(got) != "hello" || wrote != 5 {
			t.Fatalf("read %q, wrote %d", got, wrote)
		}
	})
}

func TestClosingTheHandleCancelsAPendingRead(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		r, w := pipe(t)
		defer w.Close()
		var got error
		_, err := l.ReadAsync(r, 8, func(_ []byte, err error) { got = err })
		must(t, err)
		must(t, r.Close())
		l.Run(fdkit.RunDefault)
		var fe *fdkit.Error
		if !errors.As(got, &fe) || fe.Errno != syscall.ECANCELED || fe.Detail == "" {
			t.Fatalf("got %v", got)
		}
	})
}

func TestReaderWriterOnAPipe(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		payload := bytes.Repeat([]byte("0123456789abcdef"), 8192) // more than a pipe holds
		errc := make(chan error)
		go func() {
			_, err := w.Write(payload)
			w.Close()
			errc <- err
		}()
		got, err := io.ReadAll(r)
		must(t, err)
		must(t, <-errc)
		if !bytes.Equal(got, payload) {
			t.Fatalf("read %d bytes, want %d", len(got), len(payload))
		}
	})
}

func TestPositionedIOSeekAndTruncate(t *testing.T) {
	noLeaks(t, func() {
		f, err := os.CreateTemp("", "fdkit-go")
		must(t, err)
		os.Remove(f.Name())
		raw, err := syscall.Dup(int(f.Fd()))
		must(t, err)
		f.Close()
		fd, err := fdkit.Adopt(raw, 0)
		must(t, err)
		defer fd.Close()
		_, err = fd.WriteAt([]byte("0123456789"), 0)
		must(t, err)
		buf := make([]byte, 3)
		_, err = fd.ReadAt(buf, 4)
		must(t, err)
		if string(buf) != "456" {
			t.Fatalf("read %q", buf)
		}
		must(t, fd.Truncate(4))
		if end, err := fd.Seek(0, io.SeekEnd); end != 4 || err != nil {
			t.Fatalf("seek end: %d, %v", end, err)
		}
		must(t, fd.Sync(true))
		if _, err := fd.Seek(-10, io.SeekCurrent); !errors.Is(err, syscall.EINVAL) {
			t.Fatalf("seek before start: %v", err)
		}
	})
}

func TestRandomBytesSyncAndAsync(t *testing.T) {
	noLeaks(t, func() {
		a := make([]byte, 32)
		n, err := fdkit.Getrandom(a)
		must(t, err)
		l := newLoop(t)
		defer l.Close()
		var b []byte
		_, err = l.GetrandomAsync(32, func(data []byte, err error) { must(t, err); b = data })
		must(t, err)
		l.Run(fdkit.RunDefault)
		// 256 random bits twice the same, or all zero, would mean no randomness.
		if n != 32 || len(b) != 32 || bytes.Equal(a, b) || bytes.Equal(a, make([]byte, 32)) {
			t.Fatalf("got %x and %x", a[:n], b)
		}
	})
}

func TestVectoredSeekSyncAndTruncateCompleteOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		file, err := os.CreateTemp(t.TempDir(), "vec")
		must(t, err)
		fd, err := fdkit.Adopt(int(file.Fd()), fdkit.Borrow)
		must(t, err)
		defer file.Close()
		l := newLoop(t)
		defer l.Close()
		var log []string
		step := func(start func() (*fdkit.Op, error)) {
			t.Helper()
			_, err := start()
			must(t, err)
			n := len(log)
			l.Run(fdkit.RunDefault)
			if len(log) != n+1 {
				t.Fatalf("no callback ran: %q", log)
			}
		}
		add := func(format string, args ...interface{}) { log = append(log, fmt.Sprintf(format, args...)) }
		step(func() (*fdkit.Op, error) {
			return l.WritevAsync(fd, [][]byte{[]byte("abc"), []byte("defg")}, -1, func(n int, err error) { add("writev %d %v", n, err) })
		})
		step(func() (*fdkit.Op, error) {
			return l.WritevAsync(fd, [][]byte{[]byte("XY")}, 1, func(n int, err error) { add("pwritev %d %v", n, err) })
		})
		step(func() (*fdkit.Op, error) {
			return l.SeekAsync(fd, 0, io.SeekStart, func(off int64, err error) { add("seek %d %v", off, err) })
		})
		step(func() (*fdkit.Op, error) {
			return l.ReadvAsync(fd, []int{2, 10}, -1, func(bufs [][]byte, n int, err error) {
				add("readv %d %s|%s %v", n, bufs[0], bufs[1], err)
			})
		})
		step(func() (*fdkit.Op, error) {
			return l.ReadvAsync(fd, []int{3}, 4, func(bufs [][]byte, n int, err error) { add("preadv %d %s %v", n, bufs[0], err) })
		})
		step(func() (*fdkit.Op, error) {
			return l.TruncateAsync(fd, 2, func(err error) { add("truncate %v", err) })
		})
		step(func() (*fdkit.Op, error) { return l.SyncAsync(fd, true, func(err error) { add("sync %v", err) }) })
		want := []string{"writev 7 <nil>", "pwritev 2 <nil>", "seek 0 <nil>", "readv 7 aX|Ydefg <nil>",
			"preadv 3 efg <nil>", "truncate <nil>", "sync <nil>"}
		if fmt.Sprint(log) != fmt.Sprint(want) {
			t.Fatalf("got %q\nwant %q", log, want)
		}
		st, err := fd.Stat()
		must(t, err)
		if st.Size != 2 {
			t.Fatalf("size after truncate: %d", st.Size)
		}
		fd.Close()
	})
}
