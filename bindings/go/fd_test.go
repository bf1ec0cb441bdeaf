// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"sync"
	"syscall"
	"testing"

	"fdkit"
)

func TestUseAfterCloseIsEBADF(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer w.Close()
		other := r.Ref()
		must(t, r.Close())
		if _, err := other.Read(make([]byte, 1)); !errors.Is(err, syscall.EBADF) {
			t.Errorf("read after close: %v", err)
		}
		if err := r.Close(); !errors.Is(err, syscall.EBADF) {
			t.Errorf("second close: %v", err)
		}
		if err := r.Use(func(int) error { return nil }); !errors.Is(err, syscall.EBADF) {
			t.Errorf("use after close: %v", err)
		}
		// The reader is gone: EPIPE, and no SIGPIPE reached the process.
		if _, err := w.Write([]byte("x")); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("write to a closed pipe: %v", err)
		}
	})
}

// As with os.File, every call on a closed Fd matches fs.ErrClosed (still EBADF), while
// the kernel's EBADF on an open descriptor does not.
func TestUseAfterCloseIsErrClosed(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		other := r.Ref()
		must(t, r.Close())
		_, readErr := other.Read(make([]byte, 1))
		_, fdErr := r.Fd()
		_, statErr := r.Stat()
		for what, err := range map[string]error{"read": readErr, "close": r.Close(), "fd": fdErr, "stat": statErr,
			"use": r.Use(func(int) error { return nil })} {
			if !errors.Is(err, fs.ErrClosed) || !errors.Is(err, syscall.EBADF) {
				t.Errorf("%s after close: %v, want fs.ErrClosed and EBADF", what, err)
			}
		}
		defer w.Close()
		// A write on a pipe's read end: the kernel's EBADF, the handle is open.
		r2, w2 := pipe(t)
		defer w2.Close()
		defer r2.Close()
		if _, err := r2.Write([]byte("x")); !errors.Is(err, syscall.EBADF) || errors.Is(err, fs.ErrClosed) {
			t.Errorf("write on a read end: %v, want EBADF but not fs.ErrClosed", err)
		}
	})
}

func TestReleaseHandsBackAnOpenDescriptor(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer w.Close()
		raw, err := r.Release()
		must(t, err)
		f := os.NewFile(uintptr(raw), "pipe")
		defer f.Close()
		w.Write([]byte("hi"))
		buf := make([]byte, 2)
		if _, err := io.ReadFull(f, buf); err != nil || string(buf) != "hi" {
			t.Fatalf("read %q, %v", buf, err)
		}
	})
}

func TestUseGivesTheDescriptor(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer r.Close()
		defer w.Close()
		want, err := r.Fd()
		must(t, err)
		must(t, r.Use(func(fd int) error {
			if fd != want {
				t.Errorf("use gave %d, want %d", fd, want)
			}
			return nil
		}))
	})
}

func TestAdoptDetectsBlockingAndBorrowLeavesOpen(t *testing.T) {
	noLeaks(t, func() {
		f, err := os.Open("/dev/null")
		must(t, err)
		defer f.Close()
		fd, err := fdkit.Adopt(int(f.Fd()), fdkit.Borrow)
		must(t, err)
		if b, err := fd.IsBlocking(); err != nil || !b {
			t.Errorf("blocking %v, %v", b, err)
		}
		must(t, fd.Close())
		if _, err := f.Stat(); err != nil {
			t.Errorf("a borrowed descriptor was closed: %v", err)
		}
		if _, err := fdkit.Adopt(-1, 0); !errors.Is(err, syscall.EBADF) {
			t.Errorf("adopt -1: %v", err)
		}
	})
}

func TestHandleSharedWithAnotherGoroutine(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer w.Close()
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 32)
			n, err := r.Read(buf)
			if err != nil || string(buf[:n]) != "from a goroutine" {
				t.Errorf("read %q, %v", buf[:n], err)
			}
		}()
		w.Write([]byte("from a goroutine"))
		wg.Wait()
		must(t, r.Close())
	})
}
