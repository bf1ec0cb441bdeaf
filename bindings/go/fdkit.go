// SPDX-License-Identifier: MIT
// Package fdkit binds fdkit's C API: descriptor handles safe to close while other
// goroutines use them, and asynchronous I/O on an event loop.
//
// Errors are *Error values, fdkit's counterpart of *os.SyscallError: the errno (Unwrap
// gives it, so errors.Is(err, syscall.EBADF) and errors.Is(err, fs.ErrNotExist) hold;
// Timeout and Temporary answer as the errno does) and fdkit's detail naming the call.
// Calls that take a path wrap them in *fs.PathError, as the os package does.
// A Loop belongs to one OS thread: create, use and run it from a goroutine that called
// runtime.LockOSThread. Callbacks run from Loop.Run on that thread; C only ever holds
// cgo.Handle integers, never Go pointers, and asynchronous buffers live in C memory.
// Each area lives in its own file and adds methods to Fd and Loop.
package fdkit

/*
#cgo pkg-config: fdkit
#include <fdkit.h>
*/
import "C"

import (
	"errors"
	"io/fs"
	"runtime"
	"strings"
	"syscall"
)

// Error is a failed fdkit call: the errno and the detail fdkit recorded.
type Error struct {
	Errno  syscall.Errno
	Detail string
	// Escape is set for a path refused because it would leave its confined directory
	// (Errno EXDEV), never for a genuine cross-device EXDEV of a rename or link.
	Escape bool
	// Closed is set for the EBADF of a call on an Fd after its Close.
	Closed bool
}

// Error is the detail (or the errno's text) and the errno's name: "... (ENOENT)".
func (e *Error) Error() string {
	what := e.Detail
	if what == "" {
		what = C.GoString(C.fdk_strerror(C.int(e.Errno)))
	}
	return what + " (" + e.Name() + ")"
}

// Unwrap gives the errno, so errors.Is(err, syscall.ENOENT) and fs.ErrNotExist work.
func (e *Error) Unwrap() error { return e.Errno }

// Timeout reports whether the errno is a timeout (ETIMEDOUT...), as *os.SyscallError does.
func (e *Error) Timeout() bool { return e.Errno.Timeout() }

// Temporary reports whether the errno is temporary (EAGAIN, EINTR...), as *os.SyscallError does.
func (e *Error) Temporary() bool { return e.Errno.Temporary() }

// Is makes errors.Is(err, ErrEscape) true for an escape and errors.Is(err, fs.ErrClosed)
// for a call on a closed Fd (as for an os.File).
func (e *Error) Is(target error) bool {
	return (target == ErrEscape && e.Escape) || (target == fs.ErrClosed && e.Closed)
}

// ErrEscape matches (errors.Is) a path refused for leaving its confined directory. Its
// errno is EXDEV, which a rename or link across file systems gives too: test ErrEscape
// to tell the two apart.
var ErrEscape = errors.New("fdkit: path escapes its confined directory")

// Name is the symbolic name of the errno, such as "EBADF".
func (e *Error) Name() string { return C.GoString(C.fdk_errname(C.int(e.Errno))) }

// lastError is the error for a negative result with this OS thread's detail: call it on
// the thread that made the failing call (see call).
func lastError(code int64) error {
	if code < 0 {
		code = -code
	}
	return &Error{Errno: syscall.Errno(code), Detail: C.GoString(C.fdk_last_error()),
		Escape: C.fdk_last_error_is_escape() == 1}
}

// call runs one C call and, if it failed, reads its detail on the same OS thread.
func call(f func() int64) (int64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	r := f()
	if r < 0 {
		return r, lastError(r)
	}
	return r, nil
}

// ErrClosed is returned by calls on a Loop, Remote, Process, Dir, DirIter or Actions after
// its Close, instead of the EINVAL a NULL handle would give (or, for Pid, a negative errno
// passed off as a pid). errors.Is(err, fs.ErrClosed) holds for it, as for os.File. An Fd
// answers its synchronous calls after Close with fdkit's EBADF *Error, which matches
// fs.ErrClosed too (Error.Closed).
var ErrClosed error = closedError{}

type closedError struct{}

func (closedError) Error() string        { return "fdkit: use of a closed handle" }
func (closedError) Is(target error) bool { return target == fs.ErrClosed }

// noNUL refuses strings holding a NUL byte, which C would silently cut short (a path
// "secret\x00.png" naming "secret"): like os.Open, an *fs.PathError wrapping EINVAL.
func noNUL(op string, items ...string) error {
	for _, s := range items {
		if strings.IndexByte(s, 0) >= 0 {
			return &fs.PathError{Op: op, Path: s, Err: syscall.EINVAL}
		}
	}
	return nil
}

// Version is the loaded library's version as MAJOR*10000 + MINOR*100 + PATCH.
func Version() uint { return uint(C.fdk_version()) }

// VersionString is the loaded library's version as "MAJOR.MINOR.PATCH".
func VersionString() string { return C.GoString(C.fdk_version_string()) }
