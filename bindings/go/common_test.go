// SPDX-License-Identifier: MIT
package fdkit_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"fdkit"
)

func TestVersionStringMatchesNumber(t *testing.T) {
	v := fdkit.Version()
	if want := fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100); fdkit.VersionString() != want {
		t.Fatalf("version %q, want %q", fdkit.VersionString(), want)
	}
}

func TestErrorCarriesErrnoNameAndDetail(t *testing.T) {
	noLeaks(t, func() {
		r, w := pipe(t)
		defer w.Close()
		must(t, r.Close())
		_, err := r.Read(make([]byte, 4))
		var fe *fdkit.Error
		if !errors.As(err, &fe) || !errors.Is(err, syscall.EBADF) {
			t.Fatalf("got %v, want an *Error unwrapping to EBADF", err)
		}
		if fe.Name() != "EBADF" || fe.Detail == "" || !strings.Contains(err.Error(), "EBADF") {
			t.Fatalf("name %q, detail %q, text %q", fe.Name(), fe.Detail, err)
		}
	})
}

// *Error answers as *os.SyscallError does: errors.Is with the fs sentinels through its
// errno, Timeout and Temporary from the errno; ErrClosed is fs.ErrClosed.
func TestErrorMatchesTheStandardSentinels(t *testing.T) {
	noLeaks(t, func() {
		_, err := fdkit.FS().Open("/nonexistent-fdkit/x", fdkit.O_RDONLY, 0)
		if !errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrExist) || errors.Is(err, fdkit.ErrEscape) {
			t.Fatalf("open of a missing path: %v", err)
		}
		var timeout interface{ Timeout() bool }
		if !errors.As(err, &timeout) || timeout.Timeout() {
			t.Fatalf("ENOENT as a timeout: %v", err)
		}
		_, err = fdkit.Socket(syscall.AF_INET, 12345, 0)
		var fe *fdkit.Error
		if !errors.As(err, &fe) || fe.Temporary() || fe.Timeout() {
			t.Fatalf("socket of a bad type: %v", err)
		}
		if (&fdkit.Error{Errno: syscall.EAGAIN}).Temporary() != true || (&fdkit.Error{Errno: syscall.ETIMEDOUT}).Timeout() != true {
			t.Fatal("EAGAIN is temporary and ETIMEDOUT a timeout")
		}
		if !strings.Contains((&fdkit.Error{Errno: syscall.ENOENT}).Error(), "No such file or directory (ENOENT)") {
			t.Fatalf("text without a detail: %q", (&fdkit.Error{Errno: syscall.ENOENT}).Error())
		}
		if !errors.Is(fdkit.ErrClosed, fs.ErrClosed) {
			t.Fatal("ErrClosed is not fs.ErrClosed")
		}
	})
}
