// SPDX-License-Identifier: MIT
package fdkit

/*
#include <fdkit.h>
*/
import "C"

import (
	"runtime"
	"syscall"
)

// Flags of Adopt.
const (
	Blocking = C.FDK_FD_BLOCKING // blocking, and its open file description may be shared: leave it so
	Borrow   = C.FDK_FD_BORROW   // fdkit never closes it
)

// Fd is a descriptor handle safe to close while other goroutines use it: Close marks it
// closing, calls already inside a system call finish, the descriptor is closed when the
// last of them ends, and every later call fails with EBADF. Each *Fd holds one reference
// to the C handle, dropped when the *Fd is garbage collected. All methods are safe for
// concurrent use.
type Fd struct {
	raw *C.fdk_fd
}

func wrapFd(raw *C.fdk_fd) *Fd {
	f := &Fd{raw: raw}
	runtime.SetFinalizer(f, func(f *Fd) { C.fdk_fd_unref(f.raw) })
	return f
}

// Adopt takes ownership of descriptor fd (unless flags has Borrow). On failure the caller
// still owns fd.
func Adopt(fd int, flags uint) (*Fd, error) {
	var raw *C.fdk_fd
	if _, err := call(func() int64 { return int64(C.fdk_fd_adopt(&raw, C.int(fd), C.uint(flags))) }); err != nil {
		return nil, err
	}
	return wrapFd(raw), nil
}

// Pipe creates a pipe; both ends are close-on-exec and non-blocking.
func Pipe() (r, w *Fd, err error) {
	var rr, wr *C.fdk_fd
	if _, err := call(func() int64 { return int64(C.fdk_pipe(&rr, &wr)) }); err != nil {
		return nil, nil, err
	}
	return wrapFd(rr), wrapFd(wr), nil
}

// fdCall is call for a method of f: f stays reachable (its finalizer cannot drop the C
// reference) until the C call returned.
func (f *Fd) call(c func(raw *C.fdk_fd) int64) (int64, error) {
	defer runtime.KeepAlive(f)
	r, err := call(func() int64 { return c(f.raw) })
	return r, f.markClosed(err)
}

// markClosed makes an EBADF that came from the closed handle (not from the kernel for an
// open descriptor, such as a write on a pipe's read end) match fs.ErrClosed.
func (f *Fd) markClosed(err error) error {
	if e, ok := err.(*Error); ok && e.Errno == syscall.EBADF && C.fdk_fd_raw(f.raw) < 0 {
		e.Closed = true
	}
	return err
}

// Ref returns another *Fd on the same handle, with its own reference.
func (f *Fd) Ref() *Fd {
	defer runtime.KeepAlive(f)
	return wrapFd(C.fdk_fd_ref(f.raw))
}

// Close closes the descriptor now, or when the last running call on it ends. A second
// Close fails with an error matching fs.ErrClosed (its errno is EBADF).
func (f *Fd) Close() error {
	_, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fd_close(raw)) })
	return err
}

// Fd is the descriptor number. A system call made on it can race with a Close from
// another goroutine: prefer Use.
func (f *Fd) Fd() (int, error) {
	r, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fd_raw(raw)) })
	return int(r), err
}

// Use runs fn with the descriptor marked in use: a concurrent Close waits for fn to
// return before the number can be reused.
func (f *Fd) Use(fn func(fd int) error) error {
	var n C.int
	if _, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fd_use(raw, &n)) }); err != nil {
		return err
	}
	defer f.call(func(raw *C.fdk_fd) int64 { C.fdk_fd_unuse(raw); return 0 })
	return fn(int(n))
}

// Release waits until no call uses the descriptor and returns it open; the handle then
// behaves as closed.
func (f *Fd) Release() (int, error) {
	var n C.int
	_, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fd_release(raw, &n)) })
	return int(n), err
}

// IsBlocking reports whether the handle was adopted in blocking mode.
func (f *Fd) IsBlocking() (bool, error) {
	r, err := f.call(func(raw *C.fdk_fd) int64 { return int64(C.fdk_fd_is_blocking(raw)) })
	return r == 1, err
}
