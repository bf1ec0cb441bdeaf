package fdkit_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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

func TestVectoredPositionedAndFileCallsOnTheLoop(t *testing.T) {
	noLeaks(t, func() {
		l := newLoop(t)
		defer l.Close()
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		var got []string
		record := func(s string) { got = append(got, s) }
		_, err := l.WritevAsync(w, [][]byte{[]byte("ab"), []byte("cde")}, func(n int, err error) { must(t, err); record(fmt.Sprint(n)) })
		must(t, err)
		l.Run(fdkit.RunDefault)
		_, err = l.ReadvAsync(r, [][]byte{make([]byte, 2), make([]byte, 8)}, func(d [][]byte, err error) {
			must(t, err)
			record(string(d[0]) + "|" + string(d[1]))
		})
		must(t, err)
		l.Run(fdkit.RunDefault)
		file, err := os.CreateTemp("", "fdkit-go-io")
		must(t, err)
		os.Remove(file.Name())
		fd, err := fdkit.Adopt(int(file.Fd()), fdkit.Borrow)
		must(t, err)
		defer file.Close()
		defer fd.Close()
		steps := []func(){
			func() { l.WriteAtAsync(fd, []byte("0123456789"), 0, func(n int, err error) { must(t, err); record(fmt.Sprint(n)) }) },
			func() { l.ReadAtAsync(fd, 3, 4, func(d []byte, err error) { must(t, err); record(string(d)) }) },
			func() { l.TruncateAsync(fd, 4, func(err error) { must(t, err); record("truncated") }) },
			func() { l.SyncAsync(fd, true, func(err error) { must(t, err); record("synced") }) },
			func() { l.SeekAsync(fd, 0, io.SeekEnd, func(off int64, err error) { must(t, err); record(fmt.Sprint(off)) }) },
			func() {
				l.SeekAsync(fd, -100, io.SeekCurrent, func(_ int64, err error) {
					if !errors.Is(err, syscall.EINVAL) {
						t.Errorf("seek before 0: %v", err)
					}
					record("EINVAL")
				})
			},
		}
		for _, step := range steps {
			step()
			l.Run(fdkit.RunDefault)
		}
		want := "5,ab|cde,10,456,truncated,synced,4,EINVAL"
		if strings.Join(got, ",") != want {
			t.Fatalf("got %v, want %s", got, want)
		}
	})
}
